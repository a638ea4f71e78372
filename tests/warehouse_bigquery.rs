//! PostgreSQL → local store → BigQuery (the emulator) through the real
//! binary, with every type of the data path: values and column types are
//! read back from BigQuery and compared. Once by upload from a local store,
//! once from an S3 store (the moto server) by upload, once through the
//! `gs://` path (a store under the emulator's GCS root declaring
//! `bigquery_uri`). Then `check` and `sql` tasks on the loaded table.
//!
//! Left out, because the emulator (DuckDB) cannot hold them: BIGNUMERIC
//! columns (any precision; see the schema unit tests) and NULL elements in
//! arrays (which Google refuses anyway).

mod bq_support;
mod common;
mod pg_support;
mod s3_support;

use bq_support::{Bq, bq, list, num};
use common::Ws;
use serde_json::{Value, json};
use switchyard::connectors::warehouse::bigquery::query::timestamp_text;

const CREATE: &str = r#"
CREATE TYPE {S}.mood AS ENUM ('sad', 'happy');
CREATE DOMAIN {S}.price AS numeric(10,2);
CREATE TABLE {S}.all_types (
  id int4 PRIMARY KEY,
  i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
  n numeric(12,3), nhuge numeric(70,10), nu numeric, nneg numeric(3,-2),
  t text, vc varchar(20), ch char(5), nm name, mood {S}.mood, ci citext,
  b bool, d date, tm time, ts timestamp, tstz timestamptz, iv interval,
  js json, jb jsonb, u uuid, by bytea,
  a2 int2[], a4 int4[], a8 int8[], atx text[], avc varchar(10)[],
  dom {S}.price, ip inet, o oid
);
INSERT INTO {S}.all_types VALUES
 (1, 12, -34, 9007199254740993, 1.5, -2.25,
  1234.5, 1.5, 3.14159, 12345,
  'héllo wörld ☃ 日本', 'varchar', 'ab', 'a_name', 'happy', 'MiXeD',
  true, '2024-02-29', '13:45:56.789012', '2024-01-02 03:04:05.678901',
  '2024-06-01 12:00:00.5+02', '1 year 2 mons 3 days 04:05:06.5',
  '{"b": 1,  "a": [1, 2]}', '{"b": 1, "a": [1, 2], "é": "ü"}',
  'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '\x00ff10',
  '{1,2}', '{1,3}', '{9007199254740993}', '{"a b","ü",""}', '{x}',
  19.99, '192.168.0.1/24', 42),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (3, -32768, 2147483647, -9223372036854775808, 'NaN', '-Infinity',
  -0.001, -2, -12345678901234567890.123456789, -100,
  '', '', '', '', 'sad', '',
  false, '1969-12-31', '00:00:00', '1970-01-01 00:00:00',
  '1999-12-31 23:59:59.999999+00', '-1 mons +2 days -00:00:01.5',
  'null', '[]', '00000000-0000-0000-0000-000000000000', '\x',
  '{}', '{}', '{}', '{}', '{}', -0.01, '::1', 4294967295);
"#;

/// The declared BigQuery type of every column: the point of the explicit schema.
const TYPES: &[(&str, &str, &str)] = &[
    ("id", "INT64", "REQUIRED"),
    ("i2", "INT64", "NULLABLE"),
    ("i4", "INT64", "NULLABLE"),
    ("i8", "INT64", "NULLABLE"),
    ("f4", "FLOAT64", "NULLABLE"),
    ("f8", "FLOAT64", "NULLABLE"),
    ("n", "NUMERIC", "NULLABLE"),
    ("nhuge", "STRING", "NULLABLE"),
    ("nu", "NUMERIC", "NULLABLE"),
    ("nneg", "NUMERIC", "NULLABLE"),
    ("t", "STRING", "NULLABLE"),
    ("vc", "STRING", "NULLABLE"),
    ("ch", "STRING", "NULLABLE"),
    ("nm", "STRING", "NULLABLE"),
    ("mood", "STRING", "NULLABLE"),
    ("ci", "STRING", "NULLABLE"),
    ("b", "BOOL", "NULLABLE"),
    ("d", "DATE", "NULLABLE"),
    ("tm", "TIME", "NULLABLE"),
    ("ts", "DATETIME", "NULLABLE"),
    ("tstz", "TIMESTAMP", "NULLABLE"),
    ("iv", "STRING", "NULLABLE"),
    ("js", "JSON", "NULLABLE"),
    ("jb", "JSON", "NULLABLE"),
    ("u", "STRING", "NULLABLE"),
    ("by", "BYTES", "NULLABLE"),
    ("a2", "INT64", "REPEATED"),
    ("a4", "INT64", "REPEATED"),
    ("a8", "INT64", "REPEATED"),
    ("atx", "STRING", "REPEATED"),
    ("avc", "STRING", "REPEATED"),
    ("dom", "NUMERIC", "NULLABLE"),
    ("ip", "STRING", "NULLABLE"),
    ("o", "INT64", "NULLABLE"),
];

fn workspace(b: &Bq, schema: &str, store: &str) -> Ws {
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
table = "{schema}.all_types"
store = "lake"
path = "types/{{run_date}}.parquet"

[[pipelines.p.tasks]]
id = "load"
kind = "load"
after = ["export"]
store = "lake"
path = "types/{{run_date}}.parquet"
warehouse = "bq"
table = "all_types"

[[pipelines.p.tasks]]
id = "arrived"
kind = "check"
after = ["load"]
target = "bq"
sql = "select count(*) = 3 from all_types"

[[pipelines.p.tasks]]
id = "trim"
kind = "sql"
after = ["arrived"]
target = "bq"
sql = "delete from all_types where id = 2"

[[pipelines.p.tasks]]
id = "trimmed"
kind = "check"
after = ["trim"]
left = {{ target = "bq", sql = "select count(*) from all_types" }}
right = {{ target = "bq", sql = "select 2" }}
"#,
        url = pg_support::URL,
        wh = b.warehouse_toml("bq"),
    ))
}

fn run_pipeline(ws: &Ws) {
    bq_support::run_ok(ws, &["run", "p", "--date", "2024-05-01"]);
}

/// Reads the table back and compares every value of rows 1 and 3 (row 2,
/// all NULL, was deleted by the `sql` task).
fn compare(b: &Bq) {
    let declared = b.table_schema("all_types");
    let want: Vec<(String, String, String)> = TYPES
        .iter()
        .map(|(n, t, m)| (n.to_string(), t.to_string(), m.to_string()))
        .collect();
    assert_eq!(declared, want, "declared column types");

    let r = b.query("select * from all_types order by id");
    assert_eq!(r.rows.len(), 2, "rows 1 and 3 remain: {:?}", r.rows);
    let names: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
    let col = |row: usize, name: &str| -> Value {
        let i = names
            .iter()
            .position(|n| *n == name)
            .unwrap_or_else(|| panic!("no column {name} in {names:?}"));
        r.rows[row][i].clone()
    };
    let s = |row, name| col(row, name).as_str().map(String::from);
    let ints = |row, name| -> Vec<String> {
        list(&col(row, name))
            .iter()
            .map(|v| v.as_str().unwrap_or("?").to_string())
            .collect()
    };
    // The result's TIMESTAMP column is TIMESTAMP, not STRING (and DATETIME stays DATETIME).
    let ty = |name: &str| {
        r.columns
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.ty.clone())
            .unwrap_or_default()
    };
    assert_eq!(ty("tstz"), "TIMESTAMP");
    assert_eq!(ty("ts"), "DATETIME");
    assert_eq!(ty("jb"), "JSON");

    // Row 1.
    assert_eq!(s(0, "id").as_deref(), Some("1"));
    assert_eq!(s(0, "i2").as_deref(), Some("12"));
    assert_eq!(s(0, "i4").as_deref(), Some("-34"));
    assert_eq!(s(0, "i8").as_deref(), Some("9007199254740993"));
    assert_eq!(s(0, "f4").as_deref(), Some("1.5"));
    assert_eq!(s(0, "f8").as_deref(), Some("-2.25"));
    assert_eq!(num(&col(0, "n")), "1234.5");
    assert_eq!(s(0, "nhuge").as_deref(), Some("1.5000000000"));
    assert_eq!(num(&col(0, "nu")), "3.14159");
    assert_eq!(num(&col(0, "nneg")), "12300");
    assert_eq!(s(0, "t").as_deref(), Some("héllo wörld ☃ 日本"));
    assert_eq!(s(0, "vc").as_deref(), Some("varchar"));
    assert_eq!(s(0, "ch").as_deref(), Some("ab   "));
    assert_eq!(s(0, "nm").as_deref(), Some("a_name"));
    assert_eq!(s(0, "mood").as_deref(), Some("happy"));
    assert_eq!(s(0, "ci").as_deref(), Some("MiXeD"));
    assert_eq!(s(0, "b").as_deref(), Some("true"));
    assert_eq!(s(0, "d").as_deref(), Some("2024-02-29"));
    assert_eq!(s(0, "tm").as_deref(), Some("13:45:56.789012"));
    assert_eq!(s(0, "ts").as_deref(), Some("2024-01-02T03:04:05.678901"));
    assert_eq!(
        s(0, "tstz").as_deref().and_then(timestamp_text).as_deref(),
        Some("2024-06-01T10:00:00.500000Z")
    );
    assert_eq!(s(0, "iv").as_deref(), Some("P1Y2M3DT4H5M6.5S"));
    let parsed = |row, name| -> Value {
        serde_json::from_str(&s(row, name).unwrap_or_else(|| panic!("{name} is NULL")))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    assert_eq!(parsed(0, "js"), json!({"b": 1, "a": [1, 2]}));
    assert_eq!(parsed(0, "jb"), json!({"b": 1, "a": [1, 2], "é": "ü"}));
    assert_eq!(
        s(0, "u").as_deref(),
        Some("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
    );
    assert_eq!(s(0, "by").as_deref(), Some("AP8Q"), "base64 of 00 ff 10");
    assert_eq!(ints(0, "a2"), vec!["1", "2"]);
    assert_eq!(ints(0, "a4"), vec!["1", "3"]);
    assert_eq!(ints(0, "a8"), vec!["9007199254740993"]);
    assert_eq!(ints(0, "atx"), vec!["a b", "ü", ""]);
    assert_eq!(ints(0, "avc"), vec!["x"]);
    assert_eq!(num(&col(0, "dom")), "19.99");
    assert_eq!(s(0, "ip").as_deref(), Some("192.168.0.1/24"));
    assert_eq!(s(0, "o").as_deref(), Some("42"));

    // Row 3: the edges.
    assert_eq!(s(1, "i2").as_deref(), Some("-32768"));
    assert_eq!(s(1, "i4").as_deref(), Some("2147483647"));
    assert_eq!(s(1, "i8").as_deref(), Some("-9223372036854775808"));
    // Google writes NaN and -Infinity, the emulator nan and -inf: the same floats.
    let float = |row, name| -> f64 {
        let text = s(row, name).unwrap_or_else(|| panic!("{name} is NULL"));
        text.parse()
            .unwrap_or_else(|_| panic!("{name}: {text:?} is not a float"))
    };
    assert!(float(1, "f4").is_nan());
    assert_eq!(float(1, "f8"), f64::NEG_INFINITY);
    assert_eq!(num(&col(1, "n")), "-0.001");
    assert_eq!(num(&col(1, "nu")), "-12345678901234567890.123456789");
    assert_eq!(num(&col(1, "nneg")), "-100");
    assert_eq!(s(1, "t").as_deref(), Some(""), "empty is not NULL");
    assert_eq!(s(1, "b").as_deref(), Some("false"));
    assert_eq!(s(1, "d").as_deref(), Some("1969-12-31"));
    assert_eq!(s(1, "tm").as_deref(), Some("00:00:00"));
    assert_eq!(s(1, "ts").as_deref(), Some("1970-01-01T00:00:00"));
    assert_eq!(
        s(1, "tstz").as_deref().and_then(timestamp_text).as_deref(),
        Some("1999-12-31T23:59:59.999999Z")
    );
    assert_eq!(s(1, "iv").as_deref(), Some("P-1M2DT-1.5S"));
    assert_eq!(parsed(1, "js"), Value::Null);
    assert_eq!(parsed(1, "jb"), json!([]));
    assert_eq!(s(1, "by").as_deref(), Some(""));
    assert!(ints(1, "a8").is_empty());
    assert_eq!(num(&col(1, "dom")), "-0.01");
    assert_eq!(s(1, "ip").as_deref(), Some("::1/128"), "inet::text");
    assert_eq!(s(1, "o").as_deref(), Some("4294967295"));
}

async fn source_table(test: &str) -> Option<pg_support::Scratch> {
    let mut db = pg_support::scratch(test).await?;
    db.exec("CREATE EXTENSION IF NOT EXISTS citext").await;
    db.exec(&CREATE.replace("{S}", &db.q())).await;
    Some(db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_every_type_by_upload() {
    let Some(b) = bq("bq_upload") else { return };
    let Some(db) = source_table("bq_upload").await else {
        return;
    };
    let schema = db.schema.clone();
    tokio::task::spawn_blocking(move || {
        let ws = workspace(&b, &schema, "[stores.lake]\npath = \"./lake\"");
        run_pipeline(&ws);
        let (_, log, _) = ws.run(&["logs", "latest", "load"]);
        assert!(log.contains("multipart upload of"), "{log}");
        compare(&b);
    })
    .await
    .expect("test body");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_every_type_through_s3_by_upload() {
    let test = "bq_s3_upload";
    let Some(endpoint) = s3_support::endpoint(test) else {
        return;
    };
    let Some(b) = bq(test) else { return };
    let Some(db) = source_table(test).await else {
        return;
    };
    let client = s3_support::client(&endpoint);
    let bucket = s3_support::bucket(&client, test).await;
    let schema = db.schema.clone();
    let store = s3_support::store_toml("lake", &endpoint, &bucket, "exports");
    let name = bucket.clone();
    tokio::task::spawn_blocking(move || {
        let ws = workspace(&b, &schema, &store);
        run_pipeline(&ws);
        let (_, log, _) = ws.run(&["logs", "latest", "load"]);
        assert!(log.contains("multipart upload of"), "{log}");
        assert!(log.contains(&format!("s3://{name}/exports/")), "{log}");
        compare(&b);
    })
    .await
    .expect("test body");
    // The export is one complete object under the prefix, no upload left open.
    assert_eq!(
        s3_support::keys(&client, &bucket).await,
        vec!["exports/types/2024-05-01.parquet".to_string()]
    );
    assert!(s3_support::open_uploads(&client, &bucket).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_every_type_through_gs_uris() {
    let Some(b) = bq("bq_gs") else { return };
    let Some(db) = source_table("bq_gs").await else {
        return;
    };
    let schema = db.schema.clone();
    tokio::task::spawn_blocking(move || {
        // The store writes where the emulator resolves gs://BUCKET/…
        let bucket = format!("sy-{}", b.dataset.replace('_', "-"));
        let dir = b.gcs_root.join(&bucket).join("exports");
        let store = format!(
            "[stores.lake]\npath = \"{}\"\nbigquery_uri = \"gs://{bucket}/exports\"",
            dir.display()
        );
        let ws = workspace(&b, &schema, &store);
        run_pipeline(&ws);
        let uri = format!("gs://{bucket}/exports/types/2024-05-01.parquet");
        let (_, log, _) = ws.run(&["logs", "latest", "load"]);
        assert!(log.contains(&format!("from {uri}")), "{log}");
        let jobs = b.load_jobs_from(&uri);
        assert_eq!(jobs.len(), 1, "one load job read {uri}: {jobs:#?}");
        compare(&b);
        let _ = std::fs::remove_dir_all(b.gcs_root.join(&bucket));
    })
    .await
    .expect("test body");
}
