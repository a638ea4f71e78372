//! `mode = "merge"` on BigQuery: the file is loaded into a staging table of
//! the same dataset (named from the target and a hash of the ledger key, so
//! a retry replaces it: WRITE_TRUNCATE), checked (every key column present,
//! no NULL key, no key twice: BigQuery's MERGE would fail on that with a
//! message that names no row), then merged by one `MERGE` query job whose id
//! derives from the ledger key, as a load job's does: a rerun that finds it
//! succeeded does nothing. A missing target is created from the staging
//! table (`CREATE TABLE … AS SELECT`). The staging table is dropped
//! afterwards, whatever happened (best effort, logged).

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{BigQueryWarehouse, job};
use crate::connectors::warehouse::{LoadMode, LoadProgress, LoadRequest, LoadStats};

/// `name` as a backtick-quoted BigQuery identifier.
fn quote(name: &str) -> String {
    format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`"))
}

impl BigQueryWarehouse {
    pub(super) async fn run_merge(
        &self,
        req: &LoadRequest,
        progress: LoadProgress,
    ) -> Result<LoadStats> {
        if req.key.is_empty() {
            bail!("a merge needs `key`: the columns that identify a row");
        }
        let key = format!(
            "{}|{}.{}.{}|merge",
            req.ledger_key, self.cfg.project, self.cfg.dataset, req.table
        );
        let report = |rows: i64, bytes: i64| progress(rows, bytes);
        let n = match self.earlier_jobs(&key, req, &report).await? {
            Ok(n) => n,
            Err(done) => return Ok(done),
        };
        let hash = Sha256::digest(key.as_bytes());
        let hex: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
        let staging = format!("_sy_merge_{}_{hex}", req.table);
        let staged = LoadRequest {
            table: staging.clone(),
            mode: LoadMode::Replace,
            key: Vec::new(),
            legacy_key: None,
            ..req.clone()
        };
        let outcome = match self.load_file(&staged, progress.clone()).await {
            Ok(stats) => self
                .merge_staged(req, &staging, &job::job_id(&key, n))
                .await
                .map(|how| LoadStats {
                    how: Some(format!(
                        "{}; {how}",
                        stats.how.unwrap_or_else(|| "staged".into())
                    )),
                    already_loaded: false,
                    ..stats
                }),
            Err(e) => Err(e.context(format!("loading staging table {staging}"))),
        };
        self.drop_table(&staging, "the merge").await;
        outcome
    }

    /// Checks the staging table, then merges it into the target (creating
    /// the target when missing); what was done, for the log.
    async fn merge_staged(&self, req: &LoadRequest, staging: &str, id: &str) -> Result<String> {
        let columns = self
            .columns(staging)
            .await?
            .ok_or_else(|| anyhow!("staging table {staging} vanished"))?;
        let target = self.columns(&req.table).await?;
        let mut keys: Vec<String> = Vec::new();
        for k in &req.key {
            // BigQuery column names are case-insensitive.
            if let Some(t) = &target
                && !t.iter().any(|c| c.eq_ignore_ascii_case(k))
            {
                bail!("key column `{k}` is not in table `{}`", req.table);
            }
            let Some(c) = columns.iter().find(|c| c.eq_ignore_ascii_case(k)) else {
                bail!("key column `{k}` is not in the file");
            };
            keys.push(c.clone());
        }
        if let Some(t) = &target
            && let Some(extra) = columns
                .iter()
                .find(|c| !t.iter().any(|x| x.eq_ignore_ascii_case(c)))
        {
            bail!(
                "the file's column `{extra}` is not in table `{}` (merge keeps the table's columns; load with mode = \"replace\" to change them)",
                req.table
            );
        }
        let s = quote(staging);
        for k in &keys {
            let nulls = self
                .count(&format!(
                    "SELECT count(*) FROM {s} WHERE {} IS NULL",
                    quote(k)
                ))
                .await?;
            if nulls > 0 {
                bail!(
                    "{nulls} row(s) of the file have no value (NULL) in key column `{k}`; a merge needs every key"
                );
            }
        }
        let cols: Vec<String> = keys.iter().map(|k| quote(k)).collect();
        let shown: Vec<String> = cols
            .iter()
            .map(|c| format!("CAST({c} AS STRING)"))
            .collect();
        let dup = self
            .query(&format!(
                "SELECT {}, count(*) AS n FROM {s} GROUP BY {} HAVING count(*) > 1 LIMIT 1",
                shown.join(", "),
                cols.join(", ")
            ))
            .await
            .context("looking for keys the file holds twice")?;
        if let Some(row) = dup.rows.first() {
            let value = |v: &Value| v.as_str().unwrap_or("NULL").to_string();
            let pairs: Vec<String> = keys
                .iter()
                .zip(row.iter())
                .map(|(k, v)| format!("{k} = {}", value(v)))
                .collect();
            let n = row.last().map(value).unwrap_or_default();
            bail!(
                "the file has key {} {n} times; a merge needs each key once",
                pairs.join(", ")
            );
        }
        let t = quote(&req.table);
        if target.is_none() {
            self.query_as(
                &format!("CREATE TABLE {t} AS SELECT * FROM {s}"),
                Some(id.to_string()),
            )
            .await
            .with_context(|| format!("creating table {} from the file", req.table))?;
            return Ok(format!("created {} by job {id}", req.table));
        }
        let on: Vec<String> = cols.iter().map(|c| format!("T.{c} = S.{c}")).collect();
        let all: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        let set: Vec<String> = columns
            .iter()
            .filter(|c| !keys.contains(c))
            .map(|c| format!("{0} = S.{0}", quote(c)))
            .collect();
        let matched = if set.is_empty() {
            String::new()
        } else {
            format!(" WHEN MATCHED THEN UPDATE SET {}", set.join(", "))
        };
        let values: Vec<String> = all.iter().map(|c| format!("S.{c}")).collect();
        let sql = format!(
            "MERGE {t} T USING {s} S ON {}{matched} WHEN NOT MATCHED THEN INSERT ({}) VALUES ({})",
            on.join(" AND "),
            all.join(", "),
            values.join(", ")
        );
        self.query_as(&sql, Some(id.to_string()))
            .await
            .with_context(|| format!("merging into {}", req.table))?;
        Ok(format!("merged into {} by job {id}", req.table))
    }

    /// A table's column names, None when there is no such table.
    async fn columns(&self, table: &str) -> Result<Option<Vec<String>>> {
        match self.rest.get(&self.table_url(Some(table)), &[]).await {
            Ok(t) => Ok(Some(
                t["schema"]["fields"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f["name"].as_str().map(String::from))
                    .collect(),
            )),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(anyhow!(e).context(format!("reading table {table}"))),
        }
    }

    async fn count(&self, sql: &str) -> Result<i64> {
        let r = self.query(sql).await?;
        let cell = r.rows.first().and_then(|row| row.first());
        cell.and_then(Value::as_str)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| anyhow!("{sql}: BigQuery sent no count"))
    }
}
