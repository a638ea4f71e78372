//! The browse screens' IO, done by the runner on its tokio tasks: catalogs,
//! previews, listings, deletes, and starting ad-hoc runs in a worker. Every
//! failure comes back as a message carrying the error (free of secrets) for
//! the screen to show in place; nothing here touches the console's state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::{Result, anyhow};

use super::browse::{BrowseEffect, BrowseMsg, Preview};
use super::state::Msg;
use crate::config::Workspace;
use crate::config::redact::redact;
use crate::connectors::{OpenedSource, open_source, open_store, open_warehouse};
use crate::engine::lease::Owner;
use crate::engine::{Engine, adhoc};

/// However slow a source is, an answer (maybe an error) comes within this.
const PATIENCE: Duration = Duration::from_secs(120);

type SourceCache = Mutex<HashMap<(std::path::PathBuf, String), Arc<OpenedSource>>>;

/// Sources opened once and kept while the console runs: moving the cursor
/// over tables describes each without a new connection every time.
fn cache() -> &'static SourceCache {
    static CACHE: OnceLock<SourceCache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

async fn source(ws: &Workspace, name: &str) -> Result<Arc<OpenedSource>> {
    let key = (ws.file.clone(), name.to_string());
    if let Some(s) = cache().lock().map_err(|_| anyhow!("poisoned"))?.get(&key) {
        return Ok(s.clone());
    }
    // Connect without holding the lock: a slow source must not hold up another.
    let opened = Arc::new(open_source(ws, name).await?);
    let mut c = cache().lock().map_err(|_| anyhow!("poisoned"))?;
    Ok(c.entry(key).or_insert(opened).clone())
}

/// Forgets a source whose connection failed, so the next ask reconnects.
fn forget(ws: &Workspace, name: &str) {
    if let Ok(mut c) = cache().lock() {
        c.remove(&(ws.file.clone(), name.to_string()));
    }
}

fn text(e: &anyhow::Error) -> String {
    redact(&crate::text::error_chain(e))
}

async fn patiently<T>(what: &str, f: impl Future<Output = Result<T>>) -> Result<T, String> {
    match tokio::time::timeout(PATIENCE, f).await {
        Ok(r) => r.map_err(|e| text(&e)),
        Err(_) => Err(format!("{what}: no answer within {}s", PATIENCE.as_secs())),
    }
}

pub async fn perform(engine: &Engine, effect: BrowseEffect, owner: &Owner) -> Vec<Msg> {
    let ws = &engine.ws;
    let msg = match effect {
        BrowseEffect::Tables { source: name } => {
            let result = patiently(&name, async {
                source(ws, &name).await?.source.list_tables().await
            })
            .await;
            if result.is_err() {
                forget(ws, &name);
            }
            BrowseMsg::Tables {
                source: name,
                result,
            }
        }
        BrowseEffect::Describe {
            source: name,
            table,
        } => {
            let result = patiently(&table.to_string(), async {
                source(ws, &name).await?.source.describe(&table).await
            })
            .await;
            BrowseMsg::Described {
                source: name,
                table,
                result,
            }
        }
        BrowseEffect::Preview {
            source: name,
            table,
            rows,
        } => {
            let result = patiently(&table.to_string(), async {
                let batch = source(ws, &name)
                    .await?
                    .source
                    .preview(&table, rows)
                    .await?;
                let (columns, rows) = crate::format::batch_text(&batch)?;
                Ok(Preview { columns, rows })
            })
            .await;
            BrowseMsg::Previewed {
                source: name,
                table,
                result,
            }
        }
        BrowseEffect::List { store, prefix } => {
            let result = patiently(&store, async {
                let st = open_store(ws, &store)?;
                let mut list = st.list(&prefix).await?;
                // Folders first, then files, each by name.
                list.sort_by(|a, b| (!a.is_prefix, &a.path).cmp(&(!b.is_prefix, &b.path)));
                Ok(list)
            })
            .await;
            BrowseMsg::Listed {
                store,
                prefix,
                result,
            }
        }
        BrowseEffect::Delete { store, path } => {
            let result = patiently(&path, async {
                let st = open_store(ws, &store)?;
                st.delete(&path).await
            })
            .await;
            BrowseMsg::Deleted {
                store,
                path,
                result,
            }
        }
        BrowseEffect::WarehouseTables { warehouse } => {
            let result = patiently(&warehouse, async {
                if let Some(missing) = missing_sqlite_file(ws, &warehouse) {
                    // Browsing must not create a warehouse: nothing loaded yet.
                    tracing::debug!("warehouse file {} not there yet", missing.display());
                    return Ok(Vec::new());
                }
                open_warehouse(ws, &warehouse).await?.list_tables().await
            })
            .await;
            BrowseMsg::WarehouseTables { warehouse, result }
        }
        BrowseEffect::Start { label, def } => {
            let today = chrono::Local::now()
                .date_naive()
                .format("%Y-%m-%d")
                .to_string();
            let result = adhoc::start_detached(engine, owner, &label, &today, &def)
                .await
                .map_err(|e| text(&e));
            let mut msgs = Vec::new();
            if result.is_ok()
                && let Ok(runs) = engine.store.runs(100).await
            {
                // The new run is in the list before it is selected.
                msgs.push(Msg::Runs(runs));
            }
            msgs.push(Msg::Browse(BrowseMsg::Started { label, result }));
            return msgs;
        }
    };
    vec![Msg::Browse(msg)]
}

/// The file of a SQLite warehouse that does not exist yet.
fn missing_sqlite_file(ws: &Workspace, name: &str) -> Option<std::path::PathBuf> {
    let def = ws.def.warehouses.get(name)?;
    if !matches!(def.kind.as_str(), "sqlite" | "") {
        return None;
    }
    let file = ws.resolve_path(def.path.as_deref()?);
    (!file.exists()).then_some(file)
}
