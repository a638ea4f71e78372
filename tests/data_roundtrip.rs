//! End to end through the real binary against the real servers: a table of
//! every mapped type is exported with `switchyard export` to Parquet, and the
//! file is read back and compared value by value. And an export killed
//! midway leaves nothing under the final name; its rerun publishes it whole.
//!
//! PostgreSQL (127.0.0.1:5432) and MariaDB (127.0.0.1:3306) run on every
//! development and CI machine: without them these tests fail under CI=true
//! and skip loudly otherwise.

mod common;

use std::fs::File;
use std::process::Command;
use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use common::Ws;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn available(cmd: &mut Command, what: &str, test: &str) -> bool {
    match cmd.output() {
        Ok(o) if o.status.success() => true,
        other => {
            let why = match other {
                Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            common::live::missing(test, what, &why);
            false
        }
    }
}

fn psql(sql: &str) -> String {
    let out = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "test",
            "-X",
            "-q",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn mariadb(sql: &str) {
    let out = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-u", "root", "test", "-e", sql])
        .output()
        .expect("mariadb");
    assert!(
        out.status.success(),
        "mariadb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read_parquet(path: &std::path::Path) -> RecordBatch {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    arrow_select_concat(&batches)
}

fn arrow_select_concat(batches: &[RecordBatch]) -> RecordBatch {
    assert_eq!(batches.len(), 1, "small tables come back as one batch");
    batches[0].clone()
}

/// One cell as text, exactly (no float formatting surprises for exact types).
fn cell(col: &ArrayRef, row: usize) -> String {
    if col.is_null(row) {
        return "NULL".into();
    }
    match col.data_type() {
        DataType::Boolean => col.as_boolean().value(row).to_string(),
        DataType::Int16 => col.as_primitive::<Int16Type>().value(row).to_string(),
        DataType::Int32 => col.as_primitive::<Int32Type>().value(row).to_string(),
        DataType::Int64 => col.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::Float32 => col.as_primitive::<Float32Type>().value(row).to_string(),
        DataType::Float64 => col.as_primitive::<Float64Type>().value(row).to_string(),
        DataType::Decimal128(_, s) => {
            let v = col.as_primitive::<Decimal128Type>().value(row);
            let scale = *s as u32;
            let (neg, v) = (v < 0, v.unsigned_abs());
            let p = 10u128.pow(scale);
            let text = if scale == 0 {
                format!("{v}")
            } else {
                format!("{}.{:0w$}", v / p, v % p, w = scale as usize)
            };
            if neg { format!("-{text}") } else { text }
        }
        DataType::Utf8 => col.as_string::<i32>().value(row).to_string(),
        DataType::LargeUtf8 => col.as_string::<i64>().value(row).to_string(),
        DataType::Binary => hex(col.as_binary::<i32>().value(row)),
        DataType::Date32 => col.as_primitive::<Date32Type>().value(row).to_string(),
        DataType::Time64(TimeUnit::Microsecond) => col
            .as_primitive::<Time64MicrosecondType>()
            .value(row)
            .to_string(),
        DataType::Timestamp(TimeUnit::Microsecond, tz) => format!(
            "{}{}",
            col.as_primitive::<TimestampMicrosecondType>().value(row),
            tz.as_deref().map(|z| format!(" {z}")).unwrap_or_default()
        ),
        DataType::List(_) => {
            let list = col.as_list::<i32>().value(row);
            let items: Vec<String> = (0..list.len()).map(|i| cell(&list, i)).collect();
            format!("[{}]", items.join(","))
        }
        other => panic!("unexpected Arrow type {other}"),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn row(batch: &RecordBatch, r: usize) -> Vec<(String, String)> {
    batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, c)| (f.name().clone(), cell(c, r)))
        .collect()
}

fn json_columns(batch: &RecordBatch) -> Vec<String> {
    batch
        .schema()
        .fields()
        .iter()
        .filter(|f| f.extension_type_name() == Some("arrow.json"))
        .map(|f| f.name().clone())
        .collect()
}

fn workspace(source: &str) -> Ws {
    Ws::new(&format!(
        "{source}\n[stores.lake]\nkind = \"local\"\npath = \"./lake\"\n"
    ))
}

#[test]
fn postgres_every_type_survives_export_to_parquet() {
    let test = "postgres_every_type_survives_export_to_parquet";
    let mut probe = Command::new("psql");
    probe.args([
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        "-d",
        "test",
        "-c",
        "select 1",
    ]);
    if !available(&mut probe, "PostgreSQL", test) {
        return;
    }
    psql("DROP TABLE IF EXISTS rt_types");
    psql(
        "CREATE TABLE rt_types (id int8 PRIMARY KEY, i2 int2, i4 int4, f8 float8, n numeric(12,2), t text, \
         b bool, d date, tm time, ts timestamp, tz timestamptz, iv interval, j jsonb, u uuid, by bytea, \
         ai int4[], at text[])",
    );
    psql(
        "INSERT INTO rt_types VALUES \
         (1, -32768, 2147483647, 1.5, -1234567890.12, 'Zoë – Łódź 佐藤', true, '2026-11-22', '03:12:01.5', \
          '2026-11-22 03:12:01.123456', '2026-11-22 03:12:01.123456+02', '1 day 02:03:04', '{\"a\": [1, 2], \"b\": null}', \
          'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00ff10', '{1,NULL,3}', '{x,\"y z\"}'), \
         (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    );
    let ws = workspace(
        "[sources.pg]\nkind = \"postgres\"\nurl = \"postgres://postgres@127.0.0.1:5432/test\"\n",
    );
    let (code, _, err) = ws.run(&[
        "export",
        "pg",
        "public.rt_types",
        "--store",
        "lake",
        "--path",
        "t.parquet",
    ]);
    psql("DROP TABLE rt_types");
    assert_eq!(code, 0, "{err}");
    let batch = read_parquet(&ws.path().join("lake/t.parquet"));
    assert_eq!(batch.num_rows(), 2);
    let got = row(&batch, 0);
    let want = [
        ("id", "1"),
        ("i2", "-32768"),
        ("i4", "2147483647"),
        ("f8", "1.5"),
        ("n", "-1234567890.12"),
        ("t", "Zoë – Łódź 佐藤"),
        ("b", "true"),
        ("d", "20779"),
        ("tm", "11521500000"),
        ("ts", "1795317121123456"),
        ("tz", "1795309921123456 UTC"),
        ("iv", "P1DT2H3M4S"),
        ("j", r#"{"a": [1, 2], "b": null}"#),
        ("u", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        ("by", "00ff10"),
        ("ai", "[1,NULL,3]"),
        ("at", "[x,y z]"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(got, want);
    // Row 2: NULL in every column but the key.
    assert!(
        row(&batch, 1).iter().skip(1).all(|(_, v)| v == "NULL"),
        "{:?}",
        row(&batch, 1)
    );
    assert_eq!(
        json_columns(&batch),
        ["j"],
        "jsonb keeps its JSON type in the file"
    );
}

#[test]
fn mariadb_every_type_survives_export_to_parquet() {
    let test = "mariadb_every_type_survives_export_to_parquet";
    let mut probe = Command::new("mariadb");
    probe.args(["-h", "127.0.0.1", "-u", "root", "test", "-e", "select 1"]);
    if !available(&mut probe, "MariaDB", test) {
        return;
    }
    mariadb("DROP TABLE IF EXISTS rt_types");
    mariadb(
        "CREATE TABLE rt_types (id BIGINT PRIMARY KEY, flag TINYINT(1), i INT, u BIGINT UNSIGNED, d DECIMAL(12,2), \
         f DOUBLE, s VARCHAR(50), dt DATETIME(6), ts TIMESTAMP(6) NULL, day DATE, tm TIME(6), j JSON, bl BLOB)",
    );
    mariadb(
        "SET time_zone = '+00:00'; INSERT INTO rt_types VALUES \
         (1, 1, -2147483648, 18446744073709551615, -1234567890.12, 2.5, 'Zoë – Łódź 佐藤', '2026-11-22 03:12:01.123456', \
          '2026-11-22 01:12:01.123456', '2026-11-22', '03:12:01.5', '{\"a\": [1, 2]}', X'00ff10'), \
         (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    );
    let ws =
        workspace("[sources.my]\nkind = \"mysql\"\nurl = \"mysql://root@127.0.0.1:3306/test\"\n");
    let (code, _, err) = ws.run(&[
        "export",
        "my",
        "rt_types",
        "--store",
        "lake",
        "--path",
        "t.parquet",
    ]);
    mariadb("DROP TABLE rt_types");
    assert_eq!(code, 0, "{err}");
    let batch = read_parquet(&ws.path().join("lake/t.parquet"));
    let got = row(&batch, 0);
    let want = [
        ("id", "1"),
        ("flag", "true"),
        ("i", "-2147483648"),
        ("u", "18446744073709551615"),
        ("d", "-1234567890.12"),
        ("f", "2.5"),
        ("s", "Zoë – Łódź 佐藤"),
        ("dt", "1795317121123456"),
        ("ts", "1795309921123456 UTC"),
        ("day", "20779"),
        ("tm", "11521500000"),
        ("j", r#"{"a": [1, 2]}"#),
        ("bl", "00ff10"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(got, want);
    assert!(
        row(&batch, 1).iter().skip(1).all(|(_, v)| v == "NULL"),
        "{:?}",
        row(&batch, 1)
    );
    assert_eq!(json_columns(&batch), ["j"]);
}

#[test]
fn an_export_killed_midway_leaves_no_file_and_its_rerun_publishes_it_whole() {
    let test = "an_export_killed_midway_leaves_no_file_and_its_rerun_publishes_it_whole";
    let mut probe = Command::new("psql");
    probe.args([
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        "-d",
        "test",
        "-c",
        "select 1",
    ]);
    if !available(&mut probe, "PostgreSQL", test) {
        return;
    }
    psql("DROP TABLE IF EXISTS rt_big");
    psql(
        "CREATE TABLE rt_big AS SELECT g AS id, md5(g::text) AS a, md5((g*7)::text) AS b FROM generate_series(1, 2000000) g",
    );
    let ws = Ws::new(
        "[sources.pg]\nkind = \"postgres\"\nurl = \"postgres://postgres@127.0.0.1:5432/test\"\n\
         [stores.lake]\nkind = \"local\"\npath = \"./lake\"\n\
         [pipelines.p]\n[[pipelines.p.tasks]]\nid = \"big\"\nkind = \"export\"\nsource = \"pg\"\n\
         table = \"public.rt_big\"\nstore = \"lake\"\npath = \"big.parquet\"\n",
    );
    let mut child = ws.spawn(&["run", "p"]);
    let lake = ws.path().join("lake");
    // The bytes of the `.partial` file the export writes into, if any.
    let partial_bytes = || {
        std::fs::read_dir(&lake)
            .ok()?
            .flatten()
            .find(|e| e.file_name().to_string_lossy().ends_with(".partial"))
            .and_then(|e| e.metadata().ok())
            .map(|m| m.len())
    };
    // Past Parquet's 4-byte magic: a row group is on disk, the export is
    // mid-way. Then kill it hard.
    common::wait_until(
        Duration::from_secs(60),
        "the export to write its first row group",
        || partial_bytes().is_some_and(|n| n > 4),
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !lake.join("big.parquet").exists(),
        "a half file carries the final name"
    );
    assert_eq!(ws.task_state("latest", "big"), "interrupted");
    let (code, _, err) = ws.run(&["rerun", "latest", "--failed"]);
    psql("DROP TABLE rt_big");
    assert_eq!(code, 0, "{err}");
    let file = File::open(lake.join("big.parquet")).unwrap();
    let meta = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    assert_eq!(meta.metadata().file_metadata().num_rows(), 2_000_000);
}
