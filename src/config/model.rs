//! The serde model of `switchyard.toml`. Key names are part of the interface
//! (README, "The workspace file"): add keys freely, rename none.
//!
//! Every string in this model has already had `${VAR}` interpolated (see
//! `interpolate.rs`) and been checked by `validate.rs`/`tasks.rs`, which work on
//! toml's spanned tree so that problems carry file:line:col.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    /// `[notify.NAME]`: where alerts go.
    #[serde(default)]
    pub notify: BTreeMap<String, NotifyDef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct WorkspaceSection {
    pub name: Option<String>,
    /// State store location, relative to the workspace file. Default `.switchyard/state.db`.
    pub state: Option<String>,
    /// Most tasks without a pool that one run executes at once. Default 16.
    pub max_parallel: Option<u32>,
    /// IANA zone of schedules and deadlines (default UTC).
    pub timezone: Option<String>,
    /// A run's lease with no heartbeat for this long (by the store's clock)
    /// may be taken over by a process on another host. Default 15s.
    pub lease_stale_after: Option<String>,
    /// An owner that cannot reach the store for this long stops its tasks,
    /// so they never run on two hosts at once; shorter than
    /// `lease_stale_after`. Default 10s.
    pub lease_give_up_after: Option<String>,
    /// Default `at_risk_margin` of every pipeline. Default 10m.
    pub at_risk_margin: Option<String>,
}

/// How long a lease lives without heartbeats, and how long its owner keeps
/// its tasks running while cut off from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseTimes {
    pub stale_after: std::time::Duration,
    pub give_up_after: std::time::Duration,
}

impl Default for LeaseTimes {
    fn default() -> LeaseTimes {
        LeaseTimes {
            stale_after: std::time::Duration::from_secs(15),
            give_up_after: std::time::Duration::from_secs(10),
        }
    }
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
    /// BigQuery: KiB per resumable upload chunk (a multiple of 256; see
    /// `rules::upload_chunk_kib`).
    pub upload_chunk_kib: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PoolDef {
    pub size: i64,
}

/// A notification channel: `[notify.NAME]`. Secrets (a Slack webhook URL, a
/// PagerDuty routing key, a webhook's signing secret) come only from `${VAR}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NotifyDef {
    pub kind: String,
    pub url: Option<String>,
    pub routing_key: Option<String>,
    pub secret: Option<String>,
    /// Alert kinds this channel receives (default: all).
    pub on: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PipelineDef {
    /// Default `max_active` for backfills of this pipeline.
    pub max_active: Option<u32>,
    /// Channels every task of the pipeline alerts (a task's own list replaces it).
    pub notify: Option<Vec<String>>,
    /// Cron (5 or 6 fields), `@daily`…, or `@every 30s` (see `schedule.rs`).
    pub schedule: Option<String>,
    /// IANA zone of the schedule and deadlines (default: the workspace's).
    pub timezone: Option<String>,
    /// `latest` (default) | `all` | `none`: slots missed while nobody served.
    pub catchup: Option<String>,
    /// `"HH:MM"` on the slot's day, or `"+90m"` after the slot.
    pub deadline: Option<String>,
    /// `at_risk` is raised when the projected finish passes the deadline
    /// less this (default: the workspace's, else 10m).
    pub at_risk_margin: Option<String>,
    #[serde(default)]
    pub tasks: Vec<TaskDef>,
}

/// One `[[pipelines.NAME.tasks]]` entry. Flat on purpose: which keys a kind
/// needs is checked in `validate.rs`, with positions, rather than by serde.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct TaskDef {
    pub id: String,
    pub kind: super::TaskKind,
    #[serde(default)]
    pub after: Vec<String>,
    pub pool: Option<String>,
    pub retries: Option<u32>,
    pub retry_delay: Option<String>,
    pub max_retry_delay: Option<String>,
    pub timeout: Option<String>,
    pub runbook: Option<String>,
    /// Channels this task alerts, instead of the pipeline's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<Vec<String>>,
    /// When this task must have succeeded (as the pipeline's `deadline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,

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
    /// `mode = "merge"`: the columns that identify a row (a string or a list).
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Option::is_none"
    )]
    pub key: Option<Vec<String>>,
    pub from: Option<String>,

    // incremental export
    /// A column that only grows (an integer or a timestamp): each run reads
    /// the rows above the mark of the last run that succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<String>,
    /// How far below the mark a run starts, for rows that commit late: a
    /// duration (`"10m"`) for a timestamp, a count for an integer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookback: Option<Scalar>,
    /// Where the first run (no mark yet) starts; without it, from the first row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial: Option<Scalar>,
    /// `export --since`: a lower bound given by hand, which moves no mark.
    /// Not a workspace key (`keys::TASK` leaves it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,

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

/// `key = "id"` or `key = ["a", "b"]`.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(Option::<OneOrMany>::deserialize(d)?.map(|v| match v {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    }))
}

impl TaskDef {
    /// Pool slots an attempt asks for: one per partition (an export reads
    /// each on a connection of its own).
    pub fn wanted_slots(&self) -> i64 {
        i64::from(self.partitions.unwrap_or(1).max(1))
    }
}

/// A key that takes a string or a whole number (`lookback`, `initial`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Int(i64),
    Text(String),
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Int(n) => write!(f, "{n}"),
            Scalar::Text(s) => f.write_str(s),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckSide {
    pub target: String,
    pub sql: String,
}

/// Known keys per table, used to report unknown keys with "did you mean".
pub mod keys;

/// A loaded, interpolated and validated workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The workspace file itself (absolute).
    pub file: PathBuf,
    /// The directory holding the workspace file; relative paths resolve here.
    pub dir: PathBuf,
    pub def: WorkspaceFile,
    /// What `check` should say about a workspace that loads (it refuses nothing).
    pub warnings: Vec<super::Problem>,
}

/// The environment variable that overrides `[workspace] state`.
pub const STATE_ENV: &str = "SWITCHYARD_STATE";

/// Where a workspace's state store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLocation {
    /// An SQLite file: the default, embedded store.
    File(PathBuf),
    /// A PostgreSQL database (`postgres://…`), shared by every host of a team.
    Postgres(String),
}

impl StateLocation {
    /// `postgres://` and `postgresql://` name a database; anything else is a
    /// file path, resolved by `resolve` when relative.
    pub fn parse(value: &str, resolve: impl Fn(&str) -> PathBuf) -> StateLocation {
        let lower = value.trim_start().to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return StateLocation::Postgres(value.trim().to_string());
        }
        let p = Path::new(value);
        if p.is_absolute() {
            StateLocation::File(p.to_path_buf())
        } else {
            StateLocation::File(resolve(value))
        }
    }

    /// For messages: the path, or the URL with its password masked.
    pub fn describe(&self) -> String {
        match self {
            StateLocation::File(p) => p.display().to_string(),
            StateLocation::Postgres(url) => super::redact::redact(url),
        }
    }
}

impl Workspace {
    pub fn name(&self) -> &str {
        self.def.workspace.name.as_deref().unwrap_or("switchyard")
    }

    /// Where the state store lives: the environment's `SWITCHYARD_STATE`
    /// (so a laptop can point at the team's store), else `[workspace] state`,
    /// else `.switchyard/state.db` beside the workspace file.
    pub fn state_location(&self) -> StateLocation {
        if let Some(v) = std::env::var_os(STATE_ENV).filter(|v| !v.is_empty()) {
            let v = v.to_string_lossy();
            return StateLocation::parse(&v, |p| {
                std::env::current_dir().unwrap_or_default().join(p)
            });
        }
        let value = self
            .def
            .workspace
            .state
            .as_deref()
            .unwrap_or(".switchyard/state.db");
        StateLocation::parse(value, |p| self.resolve_path(p))
    }

    /// `lease_stale_after` and `lease_give_up_after` (`check` refused bad ones).
    pub fn lease_times(&self) -> LeaseTimes {
        let d = LeaseTimes::default();
        let read = |v: &Option<String>, or| {
            v.as_deref()
                .and_then(|s| super::duration::parse_duration(s).ok())
                .unwrap_or(or)
        };
        LeaseTimes {
            stale_after: read(&self.def.workspace.lease_stale_after, d.stale_after),
            give_up_after: read(&self.def.workspace.lease_give_up_after, d.give_up_after),
        }
    }

    /// This host's own files of the workspace (detached workers' logs): the
    /// state file's directory, or `.switchyard` when the store is a database.
    pub fn local_dir(&self) -> PathBuf {
        match self.state_location() {
            StateLocation::File(p) => p.parent().map(PathBuf::from).unwrap_or_default(),
            StateLocation::Postgres(_) => self.dir.join(".switchyard"),
        }
    }

    pub fn resolve_path(&self, p: &str) -> PathBuf {
        let p = PathBuf::from(p);
        if p.is_absolute() { p } else { self.dir.join(p) }
    }

    pub fn pipeline(&self, name: &str) -> Option<&PipelineDef> {
        self.def.pipelines.get(name)
    }

    /// How far ahead of its deadline a run's projection raises `at_risk`.
    pub fn at_risk_margin(&self, pipeline: &str) -> std::time::Duration {
        self.pipeline(pipeline)
            .and_then(|p| p.at_risk_margin.as_deref())
            .or(self.def.workspace.at_risk_margin.as_deref())
            .and_then(|m| super::duration::parse_duration(m).ok())
            .unwrap_or(std::time::Duration::from_secs(600))
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
    pub const TASK: &[&str] = &super::super::TaskKind::NAMES;
    pub const FORMAT: &[&str] = &["parquet", "ndjson", "csv"];
    pub const MODE: &[&str] = &["replace", "append", "merge"];
    pub const NOTIFY: &[&str] = &["slack", "pagerduty", "webhook"];
    /// Alert kinds, as `on = [...]` filters them.
    pub const ALERT: &[&str] = &[
        "failed",
        "interrupted",
        "deadline_missed",
        "at_risk",
        "recovered",
    ];
}
