//! The BigQuery warehouse (gcp-bigquery-client, plus our own calls where the
//! crate falls short: see `api` and `upload`).
//!
//! A load:
//! 1. looks for an earlier job of the same ledger key (see `job`; the key
//!    holds the file's SHA-256, so other bytes are another key): a
//!    succeeded one means the file is already loaded and nothing is done
//!    (unless a replace finds the table changed or gone since that job
//!    ended: then it loads again under the next job number); a running one
//!    is waited for; failed ones wrote nothing and are skipped;
//! 2. creates the dataset (in `location`) and the table when missing, with a
//!    schema derived from the file's Arrow schema (see `schema`);
//! 3. runs one load job under the next job id: from the object's `gs://` URI
//!    when the store declares `bigquery_uri`, else by uploading the file;
//!    replace is WRITE_TRUNCATE (with the file's schema), append WRITE_APPEND;
//! 4. polls it with backoff, reporting rows and bytes from its statistics.
//!
//! A load job is atomic, so the table is replaced or appended completely, or
//! left as it was; a table this load created is dropped again if its job fails.

mod api;
pub mod auth;
mod browse;
mod config;
mod job;
mod merge;
pub mod query;
mod schema;
mod upload;

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use arrow_schema::Schema;
use serde_json::{Value, json};

use super::{LoadMode, LoadProgress, LoadRequest, LoadStats, Warehouse, WarehouseTable};
use crate::connectors::BoxFuture;
use crate::format::Format;
use api::{ApiError, Rest};
use auth::Auth;
use config::GOOGLE_ROOT;
pub use config::{BigQueryConfig, gs_uri};
use job::{JobState, enc};
pub use upload::UploadLimits;

pub struct BigQueryWarehouse {
    cfg: BigQueryConfig,
    client: gcp_bigquery_client::Client,
    rest: Rest,
}

impl BigQueryWarehouse {
    pub async fn open(cfg: BigQueryConfig) -> Result<BigQueryWarehouse> {
        crate::connectors::install_crypto_provider();
        let root = cfg.endpoint.clone().unwrap_or_else(|| GOOGLE_ROOT.into());
        let http = reqwest::Client::builder()
            // A 308 is "resume incomplete" to an upload, not a redirect.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(std::time::Duration::from_secs(30))
            .build()
            .context("cannot set up HTTPS")?;
        let auth = Auth::new(&cfg.credentials).await?;
        let client = gcp_bigquery_client::client_builder::ClientBuilder::new()
            .with_v2_base_url(format!("{root}/bigquery/v2"))
            .with_client(http.clone())
            .build_from_authenticator(Arc::new(auth.clone()))
            .await
            .map_err(|e| anyhow!("cannot set up the BigQuery client: {}", ApiError::from(e)))?;
        Ok(BigQueryWarehouse {
            rest: Rest { http, root, auth },
            client,
            cfg,
        })
    }

    pub fn client(&self) -> &gcp_bigquery_client::Client {
        &self.client
    }

    pub fn config(&self) -> &BigQueryConfig {
        &self.cfg
    }

    fn location(&self) -> Option<&str> {
        self.cfg.location.as_deref()
    }

    fn table_url(&self, table: Option<&str>) -> String {
        let base = format!(
            "/projects/{}/datasets/{}/tables",
            enc(&self.cfg.project),
            enc(&self.cfg.dataset)
        );
        self.rest.v2(&match table {
            Some(t) => format!("{base}/{}", enc(t)),
            None => base,
        })
    }

    /// Creates the dataset when it does not exist (in `location`).
    async fn ensure_dataset(&self) -> Result<(), ApiError> {
        let url = self.rest.v2(&format!(
            "/projects/{}/datasets/{}",
            enc(&self.cfg.project),
            enc(&self.cfg.dataset)
        ));
        match self.rest.get(&url, &[]).await {
            Ok(_) => return Ok(()),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
        let mut body = json!({"datasetReference": {
            "projectId": self.cfg.project, "datasetId": self.cfg.dataset}});
        if let Some(l) = self.location() {
            body["location"] = json!(l);
        }
        let url = self
            .rest
            .v2(&format!("/projects/{}/datasets", enc(&self.cfg.project)));
        match self.rest.post(&url, &body).await {
            // Another load created it meanwhile.
            Err(e) if e.is_conflict() => Ok(()),
            r => r.map(|_| ()),
        }
    }

    /// Creates the table with `schema` unless it exists; true if created here.
    async fn ensure_table(&self, table: &str, schema: &Value) -> Result<bool, ApiError> {
        match self.rest.get(&self.table_url(Some(table)), &[]).await {
            Ok(_) => return Ok(false),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
        let body = json!({
            "tableReference": {"projectId": self.cfg.project, "datasetId": self.cfg.dataset, "tableId": table},
            "schema": schema,
        });
        match self.rest.post(&self.table_url(None), &body).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_conflict() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Drops a table of ours, best effort: a table already gone is fine,
    /// any other failure is logged (`after` says when, for the log).
    async fn drop_table(&self, table: &str, after: &str) {
        let r = self
            .rest
            .send(self.rest.http.delete(self.table_url(Some(table))))
            .await;
        match r {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => tracing::warn!("could not drop table {table} after {after}: {e}"),
        }
    }

    /// The first job number of this key not yet used, or the result of an
    /// earlier job that loaded the file (waiting for one still running).
    async fn earlier_jobs(
        &self,
        key: &str,
        req: &LoadRequest,
        progress: &(dyn Fn(i64, i64) + Send + Sync),
    ) -> Result<std::result::Result<u32, LoadStats>> {
        for n in 0..job::MAX_JOBS_PER_KEY {
            let id = job::job_id(key, n);
            let Some(found) = job::get(&self.client, &self.cfg.project, &id, self.location())
                .await
                .with_context(|| format!("looking for job {id}"))?
            else {
                return Ok(Ok(n));
            };
            let state = job::wait(
                &self.client,
                &self.cfg.project,
                &id,
                self.location(),
                found,
                progress,
            )
            .await?;
            match state {
                JobState::Succeeded { ended_ms, .. }
                    if req.mode == LoadMode::Replace
                        && self.changed_since(&req.table, ended_ms).await? =>
                {
                    tracing::info!("table {} changed since job {id}: loading again", req.table);
                }
                JobState::Succeeded { rows, .. } => {
                    return Ok(Err(LoadStats {
                        rows,
                        bytes: 0,
                        already_loaded: true,
                        how: Some(format!("job {id} loaded this file already")),
                    }));
                }
                JobState::Failed(e) => {
                    tracing::info!("earlier job {id} failed ({e}); the next one gets a new id");
                }
                JobState::Running { .. } => bail!("job {id} still runs after waiting for it"),
            }
        }
        bail!(
            "{} earlier load jobs of this file failed; not trying again",
            job::MAX_JOBS_PER_KEY
        )
    }

    /// Whether `table` is gone, or was modified after `ended_ms` (a replace
    /// that ended then no longer says what the table holds). Without an end
    /// time the job is trusted.
    async fn changed_since(&self, table: &str, ended_ms: Option<i64>) -> Result<bool> {
        let Some(ended) = ended_ms else {
            return Ok(false);
        };
        let modified = match self.rest.get(&self.table_url(Some(table)), &[]).await {
            Ok(t) => t["lastModifiedTime"]
                .as_str()
                .and_then(|m| m.parse::<i64>().ok()),
            Err(e) if e.is_not_found() => return Ok(true),
            Err(e) => return Err(anyhow!(e).context(format!("reading table {table}"))),
        };
        Ok(modified.is_some_and(|m| m > ended))
    }

    async fn run_load(&self, req: &LoadRequest, progress: LoadProgress) -> Result<LoadStats> {
        check_table_name(&req.table)?;
        if req.mode == LoadMode::Merge {
            return self.run_merge(req, progress).await;
        }
        self.load_file(req, progress).await
    }

    /// One load job into `req.table` (replace or append).
    async fn load_file(&self, req: &LoadRequest, progress: LoadProgress) -> Result<LoadStats> {
        let size = tokio::fs::metadata(&req.file)
            .await
            .with_context(|| format!("cannot read {}", req.file.display()))?
            .len();
        let report = |rows: i64, bytes: i64| progress(rows, bytes);
        // Job ids are project-wide: the destination is part of the key.
        let key = format!(
            "{}|{}.{}.{}",
            req.ledger_key, self.cfg.project, self.cfg.dataset, req.table
        );
        // Job ids of older versions derive from the legacy key.
        if let (LoadMode::Append, Some(legacy)) = (req.mode, &req.legacy_key) {
            let legacy = format!(
                "{legacy}|{}.{}.{}",
                self.cfg.project, self.cfg.dataset, req.table
            );
            if let Err(done) = self.earlier_jobs(&legacy, req, &report).await? {
                return Ok(done);
            }
        }
        let n = match self.earlier_jobs(&key, req, &report).await? {
            Ok(n) => n,
            Err(done) => return Ok(done),
        };
        let schema = match req.format {
            Format::Parquet => Some(schema::table_schema(&parquet_schema(&req.file)?)?),
            _ => None,
        };
        self.ensure_dataset()
            .await
            .with_context(|| format!("dataset {}", self.cfg.dataset))?;
        let created = match &schema {
            Some(s) => self.ensure_table(&req.table, s).await?,
            None => false,
        };
        let id = job::job_id(&key, n);
        let outcome = self
            .submit_and_wait(req, &id, schema.as_ref(), size, &report)
            .await;
        // Drop a table made for this load only when its job surely wrote
        // nothing: it failed, or BigQuery refused it. After a lost answer the
        // job may still run (and would recreate the table anyway).
        let failed = match &outcome {
            Ok((JobState::Failed(_), _)) => true,
            Ok(_) => false,
            Err(e) => e
                .downcast_ref::<ApiError>()
                .is_some_and(|a| (400..500).contains(&a.status) && !a.is_conflict()),
        };
        if failed && created {
            self.drop_table(&req.table, "its failed load").await;
        }
        let (state, how) = outcome?;
        match state {
            JobState::Succeeded { rows, .. } => Ok(LoadStats {
                rows,
                bytes: i64::try_from(size).unwrap_or(i64::MAX),
                already_loaded: false,
                how: Some(how),
            }),
            JobState::Failed(e) => bail!("the load job failed ({how}): {e}"),
            JobState::Running { .. } => {
                bail!("the load job still runs after waiting for it ({how})")
            }
        }
    }

    async fn submit_and_wait(
        &self,
        req: &LoadRequest,
        id: &str,
        schema: Option<&Value>,
        size: u64,
        progress: &(dyn Fn(i64, i64) + Send + Sync),
    ) -> Result<(JobState, String)> {
        let mut load = json!({
            "destinationTable": {"projectId": self.cfg.project, "datasetId": self.cfg.dataset, "tableId": req.table},
            "writeDisposition": match req.mode {
                LoadMode::Replace => "WRITE_TRUNCATE",
                LoadMode::Append | LoadMode::Merge => "WRITE_APPEND",
            },
            "createDisposition": "CREATE_IF_NEEDED",
        });
        match req.format {
            Format::Parquet => {
                load["sourceFormat"] = json!("PARQUET");
                // Lists arrive as REPEATED columns, not records of `list.element`.
                load["parquetOptions"] = json!({"enableListInference": true});
            }
            Format::Ndjson => load["sourceFormat"] = json!("NEWLINE_DELIMITED_JSON"),
            Format::Csv => {
                load["sourceFormat"] = json!("CSV");
                load["skipLeadingRows"] = json!(1);
            }
        }
        match (req.mode, schema) {
            // Replace takes the file's schema too, so types follow the file.
            (LoadMode::Replace, Some(s)) => load["schema"] = s.clone(),
            (_, Some(_)) => {}
            // Text formats into a missing table: BigQuery guesses the types.
            (_, None) => load["autodetect"] = json!(true),
        }
        let mut job_ref = json!({"projectId": self.cfg.project, "jobId": id});
        if let Some(l) = self.location() {
            job_ref["location"] = json!(l);
        }
        let body = json!({"jobReference": job_ref, "configuration": {"load": load}});

        let submitted = match &req.source_uri {
            Some(uri) => {
                let mut body = body;
                body["configuration"]["load"]["sourceUris"] = json!([uri]);
                job::insert(&self.rest, &self.cfg.project, &body)
                    .await
                    .map(|v| (v, format!("from {uri}")))
            }
            None => {
                upload::upload(
                    &self.rest,
                    &self.cfg.project,
                    &body,
                    &req.file,
                    self.cfg.limits,
                    progress,
                )
                .await
            }
        };
        let (answered, via) = match submitted {
            Ok(v) => v,
            // The id exists: this load was submitted before (a retry after a
            // lost answer). Its result is this load's result.
            Err(e) if e.is_conflict() => {
                tracing::info!("job {id} exists already; using its result");
                let existing = job::get(&self.client, &self.cfg.project, id, self.location())
                    .await?
                    .ok_or_else(|| anyhow!("job {id} conflicted but cannot be found"))?;
                let state = job::wait(
                    &self.client,
                    &self.cfg.project,
                    id,
                    self.location(),
                    existing,
                    progress,
                )
                .await?;
                return Ok((state, format!("job {id} had been submitted already")));
            }
            Err(e) => {
                return Err(anyhow!(e).context(match &req.source_uri {
                    Some(uri) => format!("starting the load job from {uri}"),
                    None => format!("uploading {} ({size} bytes)", req.file.display()),
                }));
            }
        };
        let job: gcp_bigquery_client::model::job::Job = serde_json::from_value(answered)
            .map_err(|e| anyhow!("BigQuery answered the load with an unreadable job ({e})"))?;
        // Some servers (emulators) name the job themselves: follow theirs.
        let actual = job
            .job_reference
            .as_ref()
            .and_then(|r| r.job_id.clone())
            .unwrap_or_else(|| id.to_string());
        if actual != id {
            tracing::warn!(
                "the server named load job {actual} instead of {id}; a retry cannot recognise it"
            );
        }
        let state = job::wait(
            &self.client,
            &self.cfg.project,
            &actual,
            self.location(),
            job,
            progress,
        )
        .await?;
        Ok((state, format!("load job {actual}, {via}")))
    }
}

/// A BigQuery table id: letters, digits, underscores, dashes and spaces.
fn check_table_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 1024 {
        bail!("BigQuery table name `{name}` must be 1 to 1024 bytes");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | ' ')))
    {
        bail!(
            "BigQuery table name `{name}` contains {c:?} (letters, digits, `_`, `-` and spaces only)"
        );
    }
    Ok(())
}

/// The Arrow schema a Parquet file was written with (its footer only).
fn parquet_schema(file: &Path) -> Result<Schema> {
    let f = std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
        .with_context(|| format!("{} is not a readable Parquet file", file.display()))?;
    Ok(builder.schema().as_ref().clone())
}

impl Warehouse for BigQueryWarehouse {
    fn kind(&self) -> &'static str {
        "bigquery"
    }

    fn load<'a>(
        &'a self,
        req: &'a LoadRequest,
        progress: LoadProgress,
    ) -> BoxFuture<'a, Result<LoadStats>> {
        Box::pin(async move {
            self.run_load(req, progress).await.with_context(|| {
                format!(
                    "cannot load {} into {}.{}.{}",
                    req.source_uri
                        .clone()
                        .unwrap_or_else(|| req.file.display().to_string()),
                    self.cfg.project,
                    self.cfg.dataset,
                    req.table
                )
            })
        })
    }

    fn list_tables(&self) -> BoxFuture<'_, Result<Vec<WarehouseTable>>> {
        Box::pin(self.tables())
    }
}

#[cfg(test)]
mod conflict_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_checked() {
        assert!(check_table_name("raw_users-2024 v2").is_ok());
        assert!(check_table_name("").is_err());
        let e = check_table_name("a.b")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("'.'"), "{e}");
        assert!(check_table_name("x/../y").is_err());
    }
}
