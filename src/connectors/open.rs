//! Opening a source, store or warehouse by its name in the workspace.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};

use super::source::Source;
use super::source::mysql::MysqlSource;
use super::source::postgres::PostgresSource;
use super::source::sqlite::SqliteSource;
use super::store::ObjectStore;
use super::store::local::LocalStore;
use super::store::s3::{S3Settings, S3Store};
use super::warehouse::Warehouse;
use super::warehouse::bigquery::{BigQueryConfig, BigQueryWarehouse};
use super::warehouse::sqlite::SqliteWarehouse;
use crate::config::Workspace;

pub struct OpenedSource {
    pub source: Box<dyn Source>,
    /// The schema a bare table name belongs to: `public`, the MySQL database, `main`.
    pub default_schema: String,
}

/// A sqlite location from `path` or a `sqlite://` url, resolved against the workspace.
fn sqlite_file(
    ws: &Workspace,
    name: &str,
    path: Option<&str>,
    url: Option<&str>,
) -> Result<std::path::PathBuf> {
    match (path, url) {
        (Some(p), _) => Ok(ws.resolve_path(p)),
        (None, Some(u)) => {
            let rest = u
                .strip_prefix("sqlite://")
                .or_else(|| u.strip_prefix("sqlite:"))
                .ok_or_else(|| anyhow!("`{name}`: a sqlite url starts with sqlite://"))?;
            Ok(ws.resolve_path(rest.split('?').next().unwrap_or(rest)))
        }
        (None, None) => bail!("`{name}` needs `path` (or `url`)"),
    }
}

pub async fn open_source(ws: &Workspace, name: &str) -> Result<OpenedSource> {
    let Some(def) = ws.def.sources.get(name) else {
        let known: Vec<&str> = ws.def.sources.keys().map(String::as_str).collect();
        bail!("no source `{name}` (sources: {})", known.join(", "));
    };
    let url = def.url.as_deref();
    match def.kind.as_str() {
        "postgres" => {
            let url = url.ok_or_else(|| anyhow!("source `{name}` needs `url`"))?;
            Ok(OpenedSource {
                source: Box::new(PostgresSource::connect(url).await?),
                default_schema: "public".into(),
            })
        }
        "mysql" => {
            let url = url.ok_or_else(|| anyhow!("source `{name}` needs `url`"))?;
            // The database in the URL path is where bare table names live.
            let db = url
                .split('?')
                .next()
                .and_then(|u| u.rsplit_once('/'))
                .map(|(_, db)| db.to_string())
                .unwrap_or_default();
            Ok(OpenedSource {
                source: Box::new(MysqlSource::connect(url).await?),
                default_schema: db,
            })
        }
        "sqlite" => {
            let file = sqlite_file(ws, name, def.path.as_deref(), url)?;
            Ok(OpenedSource {
                source: Box::new(SqliteSource::open(&file).await?),
                default_schema: "main".into(),
            })
        }
        other => bail!("source `{name}` has unknown kind `{other}`"),
    }
}

pub fn open_store(ws: &Workspace, name: &str) -> Result<Arc<dyn ObjectStore>> {
    let Some(def) = ws.def.stores.get(name) else {
        let known: Vec<&str> = ws.def.stores.keys().map(String::as_str).collect();
        bail!("no store `{name}` (stores: {})", known.join(", "));
    };
    match def.kind.as_str() {
        "local" | "" => {
            let path = def
                .path
                .as_deref()
                .ok_or_else(|| anyhow!("store `{name}` needs `path`"))?;
            Ok(Arc::new(LocalStore::new(ws.resolve_path(path))))
        }
        "s3" => Ok(Arc::new(S3Store::new(S3Settings::from_def(name, def)?))),
        other => bail!("store `{name}` is of kind `{other}`, which this build cannot open yet"),
    }
}

pub async fn open_warehouse(ws: &Workspace, name: &str) -> Result<Box<dyn Warehouse>> {
    let Some(def) = ws.def.warehouses.get(name) else {
        let known: Vec<&str> = ws.def.warehouses.keys().map(String::as_str).collect();
        bail!("no warehouse `{name}` (warehouses: {})", known.join(", "));
    };
    match def.kind.as_str() {
        "sqlite" | "" => {
            let path = def
                .path
                .as_deref()
                .ok_or_else(|| anyhow!("warehouse `{name}` needs `path`"))?;
            Ok(Box::new(
                SqliteWarehouse::open(&ws.resolve_path(path)).await?,
            ))
        }
        "bigquery" => {
            let cfg = BigQueryConfig::from_def(ws, name, def)?;
            Ok(Box::new(BigQueryWarehouse::open(cfg).await.with_context(
                || format!("cannot open warehouse `{name}` (bigquery)"),
            )?))
        }
        other => bail!("warehouse `{name}` is of kind `{other}`, which this build cannot open yet"),
    }
}
