//! The serde model of `switchyard.toml`. Key names are part of the interface
//! (DESIGN.md, "The workspace file"): add keys freely, rename none.
//!
//! Every string in this model has already had `${VAR}` interpolated (see
//! `interpolate.rs`) and been checked by `validate.rs`/`tasks.rs`, which work on
//! toml's spanned tree so that problems carry file:line:col.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize)]
pub struct WorkspaceFile {
    #[serde(default)]
    pub workspace: WorkspaceSection,
    #[serde(default)]
    pub sources: BTreeMap<String, SourceDef>,
    #[serde(default)]
    pub stores: BTreeMap<String, StoreDef>,
    #[serde(default)]
    pub warehouses: BTreeMap<String, WarehouseDef>,
    #[serde(default)]
    pub pools: BTreeMap<String, PoolDef>,
    #[serde(default)]
    pub pipelines: BTreeMap<String, PipelineDef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct WorkspaceSection {
    pub name: Option<String>,
    /// State store location, relative to the workspace file. Default `.switchyard/state.db`.
    pub state: Option<String>,
    /// Most tasks without a pool that one run executes at once. Default 16.
    pub max_parallel: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SourceDef {
    pub kind: String,
    pub url: Option<String>,
    /// sqlite only: a file path instead of a URL.
    pub path: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StoreDef {
    /// `local` when left out (filled in by `load`).
    #[serde(default)]
    pub kind: String,
    pub path: Option<String>,
    pub bucket: Option<String>,
    pub prefix: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub path_style: Option<bool>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub bigquery_uri: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct WarehouseDef {
    /// `sqlite` when left out (filled in by `load`).
    #[serde(default)]
    pub kind: String,
    pub path: Option<String>,
    pub project: Option<String>,
    pub dataset: Option<String>,
    pub location: Option<String>,
    pub credentials: Option<String>,
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PoolDef {
    pub size: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PipelineDef {
    /// Default `max_active` for backfills of this pipeline.
    pub max_active: Option<u32>,
    #[serde(default)]
    pub tasks: Vec<TaskDef>,
}

/// One `[[pipelines.NAME.tasks]]` entry. Flat on purpose: which keys a kind
/// needs is checked in `validate.rs`, with positions, rather than by serde.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct TaskDef {
    pub id: String,
    pub kind: String,
    #[serde(default)]
    pub after: Vec<String>,
    pub pool: Option<String>,
    pub retries: Option<u32>,
    pub retry_delay: Option<String>,
    pub max_retry_delay: Option<String>,
    pub timeout: Option<String>,
    pub runbook: Option<String>,

    // export / export_all / load
    pub source: Option<String>,
    pub table: Option<String>,
    pub query: Option<String>,
    pub store: Option<String>,
    pub path: Option<String>,
    pub format: Option<String>,
    pub partitions: Option<u32>,
    /// `refuse` (default) or `convert`: what an export does with a value it
    /// cannot carry exactly (see `format::types` for each fallback).
    pub lossy: Option<String>,
    pub prefix: Option<String>,
    pub include: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
    pub warehouse: Option<String>,
    pub mode: Option<String>,
    pub from: Option<String>,

    // sql / check
    pub target: Option<String>,
    pub sql: Option<String>,
    pub left: Option<CheckSide>,
    pub right: Option<CheckSide>,

    // wait
    pub duration: Option<String>,
    pub until: Option<String>,

    // command
    pub command: Option<String>,
}

impl TaskDef {
    /// Pool slots an attempt asks for: one per partition (an export reads
    /// each on a connection of its own).
    pub fn wanted_slots(&self) -> i64 {
        i64::from(self.partitions.unwrap_or(1).max(1))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckSide {
    pub target: String,
    pub sql: String,
}

/// Known keys per table, used to report unknown keys with "did you mean".
pub mod keys {
    pub const TOP: &[&str] = &[
        "workspace",
        "sources",
        "stores",
        "warehouses",
        "pools",
        "pipelines",
    ];
    pub const WORKSPACE: &[&str] = &["name", "state", "max_parallel"];
    pub const SOURCE: &[&str] = &["kind", "url", "path"];
    pub const STORE: &[&str] = &[
        "kind",
        "path",
        "bucket",
        "prefix",
        "region",
        "endpoint",
        "path_style",
        "access_key_id",
        "secret_access_key",
        "bigquery_uri",
    ];
    pub const WAREHOUSE: &[&str] = &[
        "kind",
        "path",
        "project",
        "dataset",
        "location",
        "credentials",
        "endpoint",
    ];
    pub const POOL: &[&str] = &["size"];
    pub const PIPELINE: &[&str] = &["max_active", "tasks"];
    pub const TASK: &[&str] = &[
        "id",
        "kind",
        "after",
        "pool",
        "retries",
        "retry_delay",
        "max_retry_delay",
        "timeout",
        "runbook",
        "source",
        "table",
        "query",
        "store",
        "path",
        "format",
        "partitions",
        "lossy",
        "prefix",
        "include",
        "exclude",
        "warehouse",
        "mode",
        "from",
        "target",
        "sql",
        "left",
        "right",
        "duration",
        "until",
        "command",
    ];
    pub const CHECK_SIDE: &[&str] = &["target", "sql"];
}

/// A loaded, interpolated and validated workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The workspace file itself (absolute).
    pub file: PathBuf,
    /// The directory holding the workspace file; relative paths resolve here.
    pub dir: PathBuf,
    pub def: WorkspaceFile,
}

impl Workspace {
    pub fn name(&self) -> &str {
        self.def.workspace.name.as_deref().unwrap_or("switchyard")
    }

    /// Where the state store lives: `[workspace] state`, or `.switchyard/state.db`.
    pub fn state_path(&self) -> PathBuf {
        let rel = self
            .def
            .workspace
            .state
            .as_deref()
            .unwrap_or(".switchyard/state.db");
        self.resolve_path(rel)
    }

    pub fn resolve_path(&self, p: &str) -> PathBuf {
        let p = PathBuf::from(p);
        if p.is_absolute() { p } else { self.dir.join(p) }
    }

    pub fn pipeline(&self, name: &str) -> Option<&PipelineDef> {
        self.def.pipelines.get(name)
    }

    pub fn max_parallel(&self) -> usize {
        self.def.workspace.max_parallel.unwrap_or(16).max(1) as usize
    }
}

/// Accepted values of the `kind`, `format` and `mode` keys.
pub mod kinds {
    pub const SOURCE: &[&str] = &["postgres", "mysql", "sqlite"];
    pub const STORE: &[&str] = &["local", "s3"];
    pub const WAREHOUSE: &[&str] = &["sqlite", "bigquery"];
    pub const TASK: &[&str] = &[
        "export",
        "export_all",
        "load",
        "sql",
        "check",
        "wait",
        "command",
    ];
    pub const FORMAT: &[&str] = &["parquet", "ndjson", "csv"];
    pub const MODE: &[&str] = &["replace", "append"];
}
