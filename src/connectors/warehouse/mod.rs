//! Warehouses: where files are loaded: an embedded SQLite file (the default,
//! no cloud account) or BigQuery, behind the same trait.
//!
//! A load replaces or appends completely, or leaves the table as it was; it is
//! idempotent per `ledger_key` (run, task, path and the file's SHA-256): a
//! rerun never appends the same bytes twice, and loads a file exported again.
//! A merge updates the rows whose key is in the file and inserts the others,
//! leaving the rest of the table alone, with the same idempotence.

pub mod bigquery;
pub mod sqlite;

use std::path::PathBuf;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::BoxFuture;
use super::source::Column;
use crate::format::Format;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadMode {
    #[default]
    Replace,
    Append,
    /// Update rows whose key is in the file, insert the others (`LoadRequest::key`).
    Merge,
}

impl std::str::FromStr for LoadMode {
    type Err = String;
    fn from_str(s: &str) -> Result<LoadMode, String> {
        match s {
            "replace" => Ok(LoadMode::Replace),
            "append" => Ok(LoadMode::Append),
            "merge" => Ok(LoadMode::Merge),
            other => Err(format!("unknown mode `{other}` (replace, append or merge)")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoadRequest {
    /// A local file (see `ObjectStore::fetch`).
    pub file: PathBuf,
    /// The object's `gs://` URI when BigQuery can read it directly (the
    /// store declares `bigquery_uri`); warehouses that cannot use it ignore it.
    pub source_uri: Option<String>,
    pub format: Format,
    pub table: String,
    pub mode: LoadMode,
    /// The columns that identify a row: used by `LoadMode::Merge` only.
    pub key: Vec<String>,
    /// Identifies this load for idempotence: run, task, path and the file's
    /// SHA-256 (see `engine::executor::load`).
    pub ledger_key: String,
    /// The key the same load had before keys held the file's hash (run, task
    /// and path only): an append recorded under it counts as done, so a
    /// rerun of a run made by an older switchyard never appends twice.
    pub legacy_key: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LoadStats {
    pub rows: i64,
    pub bytes: i64,
    /// True when the ledger showed this file already loaded: nothing was done.
    pub already_loaded: bool,
    /// How the load ran, for the task log (BigQuery: the job and how the
    /// file reached it).
    pub how: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WarehouseTable {
    pub dataset: String,
    pub name: String,
    pub rows: Option<i64>,
    pub columns: Vec<Column>,
}

pub type LoadProgress = std::sync::Arc<dyn Fn(i64, i64) + Send + Sync>;

pub trait Warehouse: Send + Sync {
    fn kind(&self) -> &'static str;
    fn load<'a>(
        &'a self,
        req: &'a LoadRequest,
        progress: LoadProgress,
    ) -> BoxFuture<'a, Result<LoadStats>>;
    fn list_tables(&self) -> BoxFuture<'_, Result<Vec<WarehouseTable>>>;
}
