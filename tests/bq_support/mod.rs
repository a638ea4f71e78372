//! Helpers for live BigQuery tests against the emulator that scripts/test
//! starts (SWITCHYARD_TEST_BQ_ENDPOINT, _PROJECT, _GCS_ROOT). Missing: the
//! test fails under CI and its skip is recorded otherwise (`live::missing`). Each test loads
//! into a dataset of its own, dropped afterwards.
#![allow(dead_code)]

// The same file as `common::live` (a binary may include both).
#[allow(clippy::duplicate_mod)]
#[path = "../common/live.rs"]
pub mod live;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use switchyard::connectors::warehouse::bigquery::auth::Credentials;
use switchyard::connectors::warehouse::bigquery::query::QueryResult;
use switchyard::connectors::warehouse::bigquery::{
    BigQueryConfig, BigQueryWarehouse, UploadLimits,
};

pub struct Bq {
    pub endpoint: String,
    pub project: String,
    /// gs://BUCKET/KEY is read from GCS_ROOT/BUCKET/KEY.
    pub gcs_root: PathBuf,
    /// This test's dataset.
    pub dataset: String,
    rt: tokio::runtime::Runtime,
}

static SEQ: AtomicU64 = AtomicU64::new(0);

/// The emulator, or None after `live::missing` (which panics under CI).
pub fn bq(test: &str) -> Option<Bq> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let found = (
        var("SWITCHYARD_TEST_BQ_ENDPOINT"),
        var("SWITCHYARD_TEST_BQ_PROJECT"),
        var("SWITCHYARD_TEST_BQ_GCS_ROOT"),
    );
    let (Some(endpoint), Some(project), Some(gcs)) = found else {
        live::missing(
            test,
            "the BigQuery emulator (bqemulator)",
            "SWITCHYARD_TEST_BQ_ENDPOINT/_PROJECT/_GCS_ROOT are not set (scripts/test starts bqemulator and sets them)",
        );
        return None;
    };
    // reqwest is built without a default crypto provider; the binary installs one.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dataset = format!(
        "sy_{test}_{}_{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    Some(Bq {
        endpoint,
        project,
        gcs_root: PathBuf::from(gcs),
        dataset,
        rt,
    })
}

impl Bq {
    /// A `[warehouses.NAME]` table for the workspace file.
    pub fn warehouse_toml(&self, name: &str) -> String {
        format!(
            "[warehouses.{name}]\nkind = \"bigquery\"\nproject = \"{}\"\ndataset = \"{}\"\nendpoint = \"{}\"\n",
            self.project, self.dataset, self.endpoint
        )
    }

    fn config(&self) -> BigQueryConfig {
        BigQueryConfig {
            project: self.project.clone(),
            dataset: self.dataset.clone(),
            location: None,
            credentials: Credentials::Fixed("test".into()),
            endpoint: Some(self.endpoint.clone()),
            limits: UploadLimits::default(),
        }
    }

    pub fn query(&self, sql: &str) -> QueryResult {
        self.rt.block_on(async {
            let wh = BigQueryWarehouse::open(self.config()).await.expect("open");
            wh.query(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e:#}"))
        })
    }

    /// The first cell of a one-row query, as text.
    pub fn scalar(&self, sql: &str) -> String {
        let r = self.query(sql);
        match r.rows.first().and_then(|row| row.first()) {
            Some(Value::String(s)) => s.clone(),
            other => panic!("{sql}: expected one text cell, got {other:?}"),
        }
    }

    /// GET on the REST API below /bigquery/v2/projects/P.
    pub fn get(&self, path: &str) -> Value {
        let url = format!(
            "{}/bigquery/v2/projects/{}{path}",
            self.endpoint, self.project
        );
        self.rt.block_on(async {
            let r = reqwest::get(&url).await.expect("GET");
            assert!(r.status().is_success(), "GET {url}: {}", r.status());
            r.json::<Value>().await.expect("json")
        })
    }

    /// The table's declared columns: (name, type, mode).
    pub fn table_schema(&self, table: &str) -> Vec<(String, String, String)> {
        let t = self.get(&format!("/datasets/{}/tables/{table}", self.dataset));
        t["schema"]["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| {
                let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
                (s("name"), s("type"), s("mode"))
            })
            .collect()
    }

    /// Every job of the project whose load read `uri`.
    pub fn load_jobs_from(&self, uri: &str) -> Vec<Value> {
        let jobs = self.get("/jobs?allUsers=true&maxResults=1000");
        jobs["jobs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|j| {
                j["configuration"]["load"]["sourceUris"]
                    .as_array()
                    .is_some_and(|u| u.iter().any(|u| u == uri))
            })
            .cloned()
            .collect()
    }
}

impl Drop for Bq {
    fn drop(&mut self) {
        let url = format!(
            "{}/bigquery/v2/projects/{}/datasets/{}?deleteContents=true",
            self.endpoint, self.project, self.dataset
        );
        self.rt.block_on(async {
            let _ = reqwest::Client::new().delete(&url).send().await;
        });
    }
}

/// A NUMERIC cell in plain notation without trailing zeros: the emulator
/// pads to the column's scale (and writes zero as 0E-9), Google does not.
pub fn num(cell: &Value) -> String {
    let s = cell
        .as_str()
        .unwrap_or_else(|| panic!("numeric cell {cell}"));
    switchyard::connectors::warehouse::bigquery::query::numeric_text(s)
}

/// A REPEATED cell's values.
pub fn list(cell: &Value) -> Vec<Value> {
    cell.as_array()
        .unwrap_or_else(|| panic!("repeated cell {cell}"))
        .iter()
        .map(|v| v["v"].clone())
        .collect()
}

impl Bq {
    /// The warehouse's tables as the console lists them.
    pub fn tables(&self) -> Vec<switchyard::connectors::warehouse::WarehouseTable> {
        use switchyard::connectors::warehouse::Warehouse;
        self.rt.block_on(async {
            let wh = BigQueryWarehouse::open(self.config()).await.expect("open");
            wh.list_tables().await.expect("list tables")
        })
    }

    /// `select count(*) from TABLE`.
    pub fn count(&self, table: &str) -> i64 {
        self.scalar(&format!("select count(*) from `{table}`"))
            .parse()
            .expect("a count")
    }
}

/// Runs the binary to completion (at most 5 minutes) with the S3 credential
/// chain's variables set, harmless for other stores; panics with its output
/// and the `load` task's log unless it exits 0.
pub fn run_ok(ws: &crate::common::Ws, args: &[&str]) {
    let mut cmd = ws.cmd(args);
    crate::s3_support::s3_env(&mut cmd);
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start switchyard");
    let (code, out, err) = crate::common::Bg::new(child).wait(std::time::Duration::from_secs(300));
    let (_, log, _) = ws.run(&["logs", "latest", "load"]);
    assert_eq!(code, 0, "{args:?} failed\n{out}\n{err}\nload log:\n{log}");
}
