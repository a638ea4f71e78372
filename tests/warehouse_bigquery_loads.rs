//! Loads into BigQuery (the emulator) through the real binary: a file above
//! the multipart limit goes by resumable upload; MySQL → S3 (moto) → BigQuery keeps its
//! types; a retried append does not load twice; a failed append shows
//! BigQuery's error and leaves the table as it was; the Warehouse screen's
//! listing.

mod bq_support;
mod common;
mod pg_support;
mod s3_support;

use std::time::Duration;

use bq_support::{Bq, bq, num, run_ok};
use common::Ws;
use sqlx::mysql::MySqlPool;
use switchyard::connectors::warehouse::bigquery::query::timestamp_text;
use switchyard::format::types::WarehouseType;

fn pg_workspace(b: &Bq, schema: &str, table: &str, store: &str, mode: &str) -> Ws {
    Ws::new(&format!(
        r#"
[sources.pg]
kind = "postgres"
url = "{url}"

{store}

{wh}

[pipelines.p]
[[pipelines.p.tasks]]
id = "export"
kind = "export"
source = "pg"
table = "{schema}.{table}"
store = "lake"
path = "{table}.parquet"

[[pipelines.p.tasks]]
id = "load"
kind = "load"
after = ["export"]
store = "lake"
path = "{table}.parquet"
warehouse = "bq"
table = "{table}"
mode = "{mode}"
"#,
        url = pg_support::URL,
        wh = b.warehouse_toml("bq"),
    ))
}

fn load_log(ws: &Ws) -> String {
    ws.run(&["logs", "latest", "load"]).1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_goes_by_resumable_upload() {
    let Some(b) = bq("bq_resumable") else { return };
    let Some(mut db) = pg_support::scratch("bq_resumable").await else {
        return;
    };
    // md5 text barely compresses: about 1.5 MB of Parquet.
    db.exec(&format!(
        "CREATE TABLE {s}.big AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS pad
         FROM generate_series(1, 40000) g",
        s = db.q()
    ))
    .await;
    let schema = db.schema.clone();
    tokio::task::spawn_blocking(move || {
        let ws = pg_workspace(
            &b,
            &schema,
            "big",
            "[stores.lake]\npath = \"./lake\"",
            "replace",
        );
        // Chunks of 256 KiB (BigQuery's unit), the warehouse's setting; no
        // multipart above one chunk.
        let toml = std::fs::read_to_string(ws.file()).expect("workspace");
        assert!(toml.contains("kind = \"bigquery\"\n"), "{toml}");
        ws.write(
            "switchyard.toml",
            &toml.replace(
                "kind = \"bigquery\"\n",
                "kind = \"bigquery\"\nupload_chunk_kib = 256\n",
            ),
        );
        let out = ws.cmd(&["run", "p"]).output().expect("run");
        let log = load_log(&ws);
        assert!(
            out.status.success(),
            "{}\n{log}",
            String::from_utf8_lossy(&out.stderr)
        );
        let size = std::fs::metadata(ws.path().join("lake/big.parquet"))
            .expect("the exported file")
            .len();
        let chunks = size.div_ceil(262_144);
        assert!(
            chunks >= 3,
            "the file should span several chunks: {size} bytes"
        );
        assert!(
            log.contains(&format!(
                "resumable upload of {size} bytes in {chunks} chunks"
            )),
            "{log}"
        );
        assert_eq!(b.count("big"), 40_000);
        assert_eq!(b.scalar("select sum(id) from big"), "800020000");
        assert_eq!(
            b.scalar("select pad from big where id = 40000"),
            format!("{:x}{:x}", md5_of("40000"), md5_of("280000")),
        );
    })
    .await
    .expect("test body");
}

/// MD5 through PostgreSQL's own function would need a connection here; the
/// expected value is computed by the shell's md5sum instead.
fn md5_of(s: &str) -> u128 {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("printf %s '{s}' | md5sum"))
        .output()
        .expect("md5sum");
    let hex = String::from_utf8_lossy(&out.stdout);
    u128::from_str_radix(hex.split_whitespace().next().unwrap_or(""), 16).expect("md5 hex")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_append_does_not_load_twice() {
    let Some(b) = bq("bq_retry") else { return };
    let Some(mut db) = pg_support::scratch("bq_retry").await else {
        return;
    };
    db.exec(&format!(
        "CREATE TABLE {s}.events (id int8 PRIMARY KEY, at timestamptz NOT NULL, what text);
         INSERT INTO {s}.events SELECT g, '2024-05-01 00:00:00+00'::timestamptz + g * interval '1 minute', 'e' || g
         FROM generate_series(1, 25) g",
        s = db.q()
    ))
    .await;
    let schema = db.schema.clone();
    tokio::task::spawn_blocking(move || {
        // The gs:// path: the emulator keeps the job ids it is given there.
        let bucket = format!("sy-{}", b.dataset.replace('_', "-"));
        let dir = b.gcs_root.join(&bucket);
        let store = format!(
            "[stores.lake]\npath = \"{}\"\nbigquery_uri = \"gs://{bucket}\"",
            dir.display()
        );
        let ws = pg_workspace(&b, &schema, "events", &store, "append");
        let uri = format!("gs://{bucket}/events.parquet");
        run_ok(&ws, &["run", "p", "--date", "2024-05-01"]);
        assert_eq!(b.count("events"), 25);

        // The same run and task again (what a retry after a lost answer, or
        // a rerun, does): the job of that key is found, nothing is loaded.
        run_ok(&ws, &["rerun", "latest", "load"]);
        let log = load_log(&ws);
        assert!(log.contains("loaded this file already"), "{log}");
        assert!(log.contains("nothing to do"), "{log}");
        assert_eq!(b.count("events"), 25, "a rerun must not append again");
        assert_eq!(b.load_jobs_from(&uri).len(), 1, "one job for one key");

        // A new run is a new key: it appends the file again, as asked.
        run_ok(&ws, &["run", "p", "--date", "2024-05-02"]);
        assert_eq!(b.count("events"), 50);
        assert_eq!(b.load_jobs_from(&uri).len(), 2);

        // The console's Warehouse screen: tables, columns, row counts.
        let tables = b.tables();
        let t = tables
            .iter()
            .find(|t| t.name == "events")
            .unwrap_or_else(|| panic!("events not listed: {tables:?}"));
        assert_eq!(t.dataset, b.dataset);
        assert_eq!(t.rows, Some(50));
        let types: Vec<(&str, &WarehouseType, bool)> = t
            .columns
            .iter()
            .map(|c| (c.name.as_str(), &c.ty.warehouse, c.nullable))
            .collect();
        assert_eq!(
            types,
            vec![
                ("id", &WarehouseType::Int64, false),
                ("at", &WarehouseType::Timestamp, false),
                ("what", &WarehouseType::String, true),
            ]
        );
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await
    .expect("test body");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_append_shows_the_error_and_leaves_the_table() {
    let Some(b) = bq("bq_fail") else { return };
    let Some(mut db) = pg_support::scratch("bq_fail").await else {
        return;
    };
    db.exec(&format!(
        "CREATE TABLE {s}.good (id int8, v text); INSERT INTO {s}.good VALUES (1, 'a'), (2, 'b');
         CREATE TABLE {s}.bad (id text, v text); INSERT INTO {s}.bad VALUES ('not a number', 'c');",
        s = db.q()
    ))
    .await;
    let schema = db.schema.clone();
    tokio::task::spawn_blocking(move || {
        let store = "[stores.lake]\npath = \"./lake\"";
        let ws = pg_workspace(&b, &schema, "good", store, "append");
        run_ok(&ws, &["run", "p"]);
        assert_eq!(b.count("good"), 2);
        ws.write(
            "switchyard.toml",
            &std::fs::read_to_string(ws.file())
                .expect("workspace")
                .replace(&format!("{schema}.good"), &format!("{schema}.bad")),
        );
        let (code, _, stderr) = ws.run_within(Duration::from_secs(300), &["run", "p"]);
        assert_eq!(
            code, 1,
            "appending text into an INT64 column fails the run: {stderr}"
        );
        let s = ws.status(Some("latest"));
        assert_eq!(s["runs"][0]["state"], "failed", "{s:#}");
        let err = s["runs"][0]["tasks"]
            .as_array()
            .and_then(|ts| ts.iter().find(|t| t["id"] == "load"))
            .and_then(|t| t["error"].as_str())
            .unwrap_or_default()
            .to_string();
        // BigQuery's own words, with the reason and where, and the job that failed.
        assert!(err.contains("the load job failed (load job "), "{err}");
        assert!(err.contains("invalid: "), "{err}");
        assert!(err.contains("not a number"), "{err}");
        assert_eq!(
            b.count("good"),
            2,
            "a failed load leaves the table as it was"
        );
    })
    .await
    .expect("test body");
}

fn mysql_url() -> String {
    std::env::var("SWITCHYARD_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_through_s3_to_bigquery_keeps_types_and_values() {
    let Some(endpoint) = s3_support::endpoint("bq_mysql") else {
        return;
    };
    let Some(b) = bq("bq_mysql") else { return };
    let client = s3_support::client(&endpoint);
    let bucket = s3_support::bucket(&client, "bq_mysql").await;
    let store = s3_support::store_toml("lake", &endpoint, &bucket, "");
    let pool = match MySqlPool::connect(&mysql_url()).await {
        Ok(p) => p,
        Err(e) => {
            common::live::missing("bq_mysql", "MariaDB (127.0.0.1:3306)", &e.to_string());
            return;
        }
    };
    let table = format!("sy_bq_{}", std::process::id());
    let exec = |sql: String| {
        let pool = pool.clone();
        async move {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    };
    exec(format!("DROP TABLE IF EXISTS `{table}`")).await;
    exec(format!(
        "CREATE TABLE `{table}` (
           id INT PRIMARY KEY, ok TINYINT(1), n BIGINT, u BIGINT UNSIGNED, d DECIMAL(12,2),
           f DOUBLE, s VARCHAR(40), j JSON, bl BLOB, dt DATE, dtt DATETIME(6),
           ts TIMESTAMP(6) NULL, tm TIME(6))"
    ))
    .await;
    exec(format!(
        "SET time_zone = '+00:00'; INSERT INTO `{table}` VALUES
          (1, 1, -9007199254740993, 18446744073709551615, 12345.67, 2.5, 'Zoë ☃',
           '{{\"a\": [1, 2]}}', x'00ff', '2024-02-29', '2024-01-02 03:04:05.678901',
           '2024-06-01 10:00:00.500000', '13:45:56.789012'),
          (2, 0, NULL, 0, -0.01, NULL, '', NULL, x'', '1970-01-01', '1970-01-01 00:00:00',
           NULL, '00:00:00')"
    ))
    .await;
    let t = table.clone();
    let result = tokio::task::spawn_blocking(move || {
        let ws = Ws::new(&format!(
            r#"
[sources.my]
kind = "mysql"
url = "{url}"
{store}
{wh}
[pipelines.p]
[[pipelines.p.tasks]]
id = "export"
kind = "export"
source = "my"
table = "{t}"
store = "lake"
path = "my.parquet"
[[pipelines.p.tasks]]
id = "load"
kind = "load"
after = ["export"]
store = "lake"
path = "my.parquet"
warehouse = "bq"
table = "from_mysql"
[[pipelines.p.tasks]]
id = "arrived"
kind = "check"
after = ["load"]
target = "bq"
sql = "select count(*) = 2 from from_mysql"
"#,
            url = mysql_url(),
            wh = b.warehouse_toml("bq"),
        ));
        run_ok(&ws, &["run", "p"]);
        let declared: Vec<(String, String)> = b
            .table_schema("from_mysql")
            .into_iter()
            .map(|(n, t, _)| (n, t))
            .collect();
        let want: Vec<(String, String)> = [
            ("id", "INT64"),
            ("ok", "BOOL"),
            ("n", "INT64"),
            ("u", "NUMERIC"),
            ("d", "NUMERIC"),
            ("f", "FLOAT64"),
            ("s", "STRING"),
            ("j", "JSON"),
            ("bl", "BYTES"),
            ("dt", "DATE"),
            ("dtt", "DATETIME"),
            ("ts", "TIMESTAMP"),
            ("tm", "TIME"),
        ]
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
        assert_eq!(declared, want);
        let r = b.query("select * from from_mysql order by id");
        assert_eq!(r.rows.len(), 2);
        let cell = |row: usize, i: usize| r.rows[row][i].clone();
        let s = |row, i| cell(row, i).as_str().map(String::from);
        assert_eq!(s(0, 1).as_deref(), Some("true"));
        assert_eq!(s(0, 2).as_deref(), Some("-9007199254740993"));
        assert_eq!(num(&cell(0, 3)), "18446744073709551615");
        assert_eq!(num(&cell(0, 4)), "12345.67");
        assert_eq!(s(0, 5).as_deref(), Some("2.5"));
        assert_eq!(s(0, 6).as_deref(), Some("Zoë ☃"));
        let j: serde_json::Value =
            serde_json::from_str(&s(0, 7).expect("json")).expect("json text");
        assert_eq!(j, serde_json::json!({"a": [1, 2]}));
        assert_eq!(s(0, 8).as_deref(), Some("AP8="));
        assert_eq!(s(0, 9).as_deref(), Some("2024-02-29"));
        assert_eq!(s(0, 10).as_deref(), Some("2024-01-02T03:04:05.678901"));
        assert_eq!(
            s(0, 11).as_deref().and_then(timestamp_text).as_deref(),
            Some("2024-06-01T10:00:00.500000Z")
        );
        assert_eq!(s(0, 12).as_deref(), Some("13:45:56.789012"));
        assert_eq!(s(1, 1).as_deref(), Some("false"));
        assert_eq!(num(&cell(1, 3)), "0");
        assert_eq!(num(&cell(1, 4)), "-0.01");
        assert_eq!(s(1, 6).as_deref(), Some(""));
        assert_eq!(cell(1, 7), serde_json::Value::Null);
        assert_eq!(s(1, 8).as_deref(), Some(""));
        assert_eq!(cell(1, 11), serde_json::Value::Null);
    })
    .await;
    exec(format!("DROP TABLE IF EXISTS `{table}`")).await;
    result.expect("test body");
    assert_eq!(
        s3_support::keys(&client, &bucket).await,
        vec!["my.parquet".to_string()],
        "the export went to S3"
    );
}

/// `mode = "replace"` into a table that already holds rows: afterwards it
/// holds exactly the new file's rows (3 loaded, then 2 replace them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replace_load_overwrites_the_rows_already_there() {
    let Some(b) = bq("bq_replace") else { return };
    let Some(mut db) = pg_support::scratch("bq_replace").await else {
        return;
    };
    let s = db.q();
    db.exec(&format!(
        "CREATE TABLE {s}.t (id int8 PRIMARY KEY, name text);
         INSERT INTO {s}.t VALUES (1, 'one'), (2, 'two'), (3, 'three');"
    ))
    .await;
    let schema = db.schema.clone();
    let ws = tokio::task::spawn_blocking(move || {
        let ws = pg_workspace(
            &b,
            &schema,
            "t",
            "[stores.lake]\npath = \"./lake\"",
            "replace",
        );
        run_ok(&ws, &["run", "p", "--date", "2026-04-01"]);
        assert_eq!(b.count("t"), 3);
        (ws, b)
    })
    .await
    .expect("first load");
    db.exec(&format!(
        "DELETE FROM {s}.t; INSERT INTO {s}.t VALUES (10, 'ten'), (20, 'twenty');"
    ))
    .await;
    tokio::task::spawn_blocking(move || {
        let (ws, b) = ws;
        run_ok(&ws, &["run", "p", "--date", "2026-04-02"]);
        assert_eq!(b.count("t"), 2, "replace leaves only the new rows");
        assert_eq!(b.scalar("select sum(id) from t"), "30");
        assert_eq!(b.scalar("select name from t where id = 20"), "twenty");
        assert_eq!(b.scalar("select count(*) from t where id < 10"), "0");
    })
    .await
    .expect("replace");
}
