//! The SQLite source on real files: declared types map and carry their
//! values; values whose storage class does not fit their column are refused
//! by default (naming table, column, declared type and class) and converted
//! when the task opts in; queries type expressions from their values;
//! awkward names work; row estimates come from sqlite_stat1 or max(rowid).

mod source_support;

use std::path::Path;

use arrow_schema::{DataType, TimeUnit};
use source_support::*;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use switchyard::connectors::source::sqlite::SqliteSource;
use switchyard::connectors::source::{
    ExportInput, ExportOptions, Lossy, Source, TableKind, TableName,
};

/// Creates `db` with `sql`, then opens it as a source (read-only).
async fn source(db: &Path, sql: &str) -> SqliteSource {
    let opts = SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(true);
    let pool = SqlitePool::connect_with(opts).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    SqliteSource::open(db).await.unwrap()
}

fn table(name: &str) -> ExportInput {
    ExportInput::Table(TableName {
        schema: "main".into(),
        name: name.into(),
    })
}

const TYPED: &str = r#"
CREATE TABLE typed (
  id INTEGER PRIMARY KEY, i INT, big BIGINT, t TEXT, vc VARCHAR(10), r REAL, f FLOAT,
  bl BLOB, b BOOLEAN, d DATE, dt DATETIME, ts TIMESTAMP, tz TIMESTAMPTZ, tm TIME,
  j JSON, dec DECIMAL(10,2), num NUMERIC, untyped, uid UUID NOT NULL DEFAULT ''
);
INSERT INTO typed VALUES (1, 42, 9223372036854775807, 'héllo ✓ 日本', 'x', 1.5, -0.25,
  x'00ff', 1, '2024-02-29', '2024-02-29 13:14:15.123456', '2024-01-01T00:00:00',
  '2024-01-01 12:00:00+02:00', '23:59:59.5', '{"a":[1,"ü"]}', 12.34, 7, 3.5, 'abc-1');
INSERT INTO typed (id) VALUES (2);
INSERT INTO typed (id, dec, untyped, tz, num, b) VALUES
  (3, '99999999.99', x'68690a', '2024-01-01 10:00:00', 2.5, 0);
"#;

#[tokio::test]
async fn declared_types_carry_their_values() {
    let dir = tempfile::tempdir().unwrap();
    let src = source(&dir.path().join("a.db"), TYPED).await;
    let opts = ExportOptions {
        batch_rows: 2,
        ..Default::default()
    };
    let e = export(&src, table("typed"), opts).await.unwrap();
    assert_eq!((e.rows(), e.batches.len()), (3, 2));
    assert_eq!(e.progress.iter().map(|p| p.0).collect::<Vec<_>>(), [2, 3]);
    assert!(e.stats.warnings.is_empty(), "{:?}", e.stats.warnings);

    let ty = |n: &str| e.schema.field_with_name(n).unwrap().data_type().clone();
    assert_eq!(ty("i"), DataType::Int64);
    assert_eq!(ty("bl"), DataType::Binary);
    assert_eq!(ty("b"), DataType::Boolean);
    assert_eq!(ty("dt"), DataType::Timestamp(TimeUnit::Microsecond, None));
    assert_eq!(
        ty("tz"),
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    );
    assert_eq!(ty("dec"), DataType::Decimal128(10, 2));
    assert_eq!(ty("num"), DataType::Float64);
    assert_eq!(ty("untyped"), DataType::Utf8);
    assert_eq!(ty("uid"), DataType::Utf8);
    let j = e.schema.field_with_name("j").unwrap();
    assert_eq!(j.extension_type_name(), Some("arrow.json"));
    assert!(!e.schema.field_with_name("id").unwrap().is_nullable());
    assert!(!e.schema.field_with_name("uid").unwrap().is_nullable());

    assert_eq!(i64s(&e, "id"), [Some(1), Some(2), Some(3)]);
    assert_eq!(i64s(&e, "i"), [Some(42), None, None]);
    assert_eq!(i64s(&e, "big")[0], Some(i64::MAX));
    assert_eq!(strings(&e, "t")[0].as_deref(), Some("héllo ✓ 日本"));
    assert_eq!(strings(&e, "vc")[0].as_deref(), Some("x"));
    assert_eq!(f64s(&e, "r")[0], Some(1.5));
    assert_eq!(f64s(&e, "f")[0], Some(-0.25));
    assert_eq!(bytes(&e, "bl")[0], Some(vec![0, 0xff]));
    assert_eq!(bools(&e, "b"), [Some(true), None, Some(false)]);
    assert_eq!(dates(&e, "d")[0], Some(days(2024, 2, 29)));
    assert_eq!(
        timestamps(&e, "dt")[0],
        Some(micros(2024, 2, 29, 13, 14, 15, 123456))
    );
    assert_eq!(
        timestamps(&e, "ts")[0],
        Some(micros(2024, 1, 1, 0, 0, 0, 0))
    );
    // +02:00 shifted to UTC; zone-less text read as UTC.
    let ten = Some(micros(2024, 1, 1, 10, 0, 0, 0));
    assert_eq!(timestamps(&e, "tz"), [ten, None, ten]);
    assert_eq!(times(&e, "tm")[0], Some(86_399_500_000));
    assert_eq!(strings(&e, "j")[0].as_deref(), Some(r#"{"a":[1,"ü"]}"#));
    assert_eq!(decimals(&e, "dec"), [Some(1234), None, Some(9_999_999_999)]);
    assert_eq!(f64s(&e, "num"), [Some(7.0), None, Some(2.5)]);
    assert_eq!(
        strings(&e, "untyped"),
        [Some("3.5".into()), None, Some("hi\n".into())]
    );
    assert_eq!(strings(&e, "uid")[0].as_deref(), Some("abc-1"));
    for f in e
        .schema
        .fields()
        .iter()
        .filter(|f| !["id", "uid"].contains(&f.name().as_str()))
    {
        assert!(
            e.arrays(f.name())[0].is_null(1),
            "column {} of the NULL row",
            f.name()
        );
    }
}

const LOOSE: &str = "
CREATE TABLE loose (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, t TEXT, b BOOLEAN, d DATE,
  dec DECIMAL(6,2));
INSERT INTO loose VALUES (1, 5, 'ok', 0, '2024-01-01', 1.25);
INSERT INTO loose VALUES (2, 'abc', x'6869', 2, 'not a date', 0.125);
";

#[tokio::test]
async fn mismatched_storage_classes_are_refused_unless_converted() {
    let dir = tempfile::tempdir().unwrap();
    let src = source(&dir.path().join("b.db"), LOOSE).await;
    let err = export(&src, table("loose"), ExportOptions::default())
        .await
        .unwrap_err()
        .to_string();
    for part in [
        "main.loose",
        "column `n`",
        "declared INTEGER",
        "TEXT value",
        "'abc'",
    ] {
        assert!(err.contains(part), "{part} in: {err}");
    }
    // Each misfit alone, refused with its own reason.
    for (col, part) in [
        ("t", "BLOB value"),
        ("b", "an INTEGER value (2)"),
        ("d", "'not a date'"),
        ("dec", "REAL value (0.125)"),
    ] {
        let q = ExportInput::Query(format!("SELECT {col} FROM loose WHERE id = 2"));
        let err = export(&src, q, ExportOptions::default())
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(part) && err.contains(&format!("`{col}`")),
            "{err}"
        );
    }

    let opts = ExportOptions {
        lossy: Lossy::Convert,
        ..Default::default()
    };
    let e = export(&src, table("loose"), opts).await.unwrap();
    assert!(e.schema.field_with_name("n").unwrap().is_nullable());
    assert_eq!(i64s(&e, "n"), [Some(5), None]);
    assert_eq!(strings(&e, "t"), [Some("ok".into()), Some("hi".into())]);
    assert_eq!(bools(&e, "b"), [Some(false), None]);
    assert_eq!(dates(&e, "d"), [Some(days(2024, 1, 1)), None]);
    assert_eq!(decimals(&e, "dec"), [Some(125), None]);
    let w = e.stats.warnings.join("\n");
    assert!(w.contains("column `n`: 1 values that did not fit"), "{w}");
    assert!(
        w.contains("column `t`: 1 values of another storage class were rendered"),
        "{w}"
    );
    assert_eq!(e.stats.warnings.len(), 5, "{w}");
}

#[tokio::test]
async fn queries_type_expressions_from_their_values() {
    let dir = tempfile::tempdir().unwrap();
    let src = source(&dir.path().join("c.db"), TYPED).await;
    let sql = "SELECT id, i * 2 AS doubled, upper(t) AS up, count(*) OVER () AS n, dec, \
               r + 1 AS r1, CASE id WHEN 1 THEN 'x' ELSE 2 END AS mixed, NULL AS blank \
               FROM typed ORDER BY id";
    let e = export(
        &src,
        ExportInput::Query(sql.into()),
        ExportOptions::default(),
    )
    .await
    .unwrap();
    let ty = |n: &str| e.schema.field_with_name(n).unwrap().data_type().clone();
    assert_eq!(ty("id"), DataType::Int64);
    assert_eq!(ty("doubled"), DataType::Int64);
    assert_eq!(ty("up"), DataType::Utf8);
    assert_eq!(ty("n"), DataType::Int64);
    assert_eq!(ty("dec"), DataType::Decimal128(10, 2));
    assert_eq!(ty("r1"), DataType::Float64);
    assert_eq!(ty("mixed"), DataType::Utf8);
    assert_eq!(i64s(&e, "doubled"), [Some(84), None, None]);
    // SQLite's upper() folds ASCII only.
    assert_eq!(strings(&e, "up")[0].as_deref(), Some("HéLLO ✓ 日本"));
    assert_eq!(i64s(&e, "n"), [Some(3); 3]);
    assert_eq!(f64s(&e, "r1")[0], Some(2.5));
    assert_eq!(
        strings(&e, "mixed"),
        [Some("x".into()), Some("2".into()), Some("2".into())]
    );
    assert_eq!(nulls(&e, "blank"), 3);
}

#[tokio::test]
async fn awkward_names_catalog_and_row_estimates() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let src = source(
        &db,
        r#"
        CREATE TABLE "Mixed ""Q"" name ü" ("we""ird col" TEXT NOT NULL, "Key" INT,
          PRIMARY KEY ("Key", "we""ird col"));
        INSERT INTO "Mixed ""Q"" name ü" VALUES ('a', 1), ('b', 2), ('c', 3);
        CREATE VIEW "a view" AS SELECT "Key" FROM "Mixed ""Q"" name ü";
        CREATE TABLE counted (id INTEGER PRIMARY KEY, v TEXT);
        CREATE INDEX counted_v ON counted (v);
        INSERT INTO counted (id, v) VALUES (1, 'x'), (2, 'y'), (40, 'z');
        ANALYZE;
        CREATE TABLE fresh (id INTEGER PRIMARY KEY);
        INSERT INTO fresh VALUES (7), (9);
        "#,
    )
    .await;
    let name = "Mixed \"Q\" name ü";
    let tables = src.list_tables().await.unwrap();
    let find = |n: &str| tables.iter().find(|t| t.table.name == n).unwrap().clone();
    assert_eq!(find(name).table.schema, "main");
    assert_eq!(find("a view").kind, TableKind::View);
    assert_eq!(find("a view").row_estimate, None);
    // ANALYZE counted 3 rows; max(rowid) would say 40.
    assert_eq!(find("counted").row_estimate, Some(3));
    // Not analysed: max(rowid).
    assert_eq!(find("fresh").row_estimate, Some(9));
    assert!(!tables.iter().any(|t| t.table.name.starts_with("sqlite_")));

    let tn = TableName::parse(r#""main"."Mixed ""Q"" name ü""#, "main").expect("a table name");
    assert_eq!(tn.name, name);
    let d = src.describe(&tn).await.unwrap();
    assert_eq!(d.primary_key, ["Key", "we\"ird col"]);
    let cols: Vec<_> = d
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.nullable))
        .collect();
    assert_eq!(cols, [("we\"ird col", false), ("Key", true)]);
    let id = src
        .describe(&TableName::parse("fresh", "main").expect("a table name"))
        .await
        .unwrap();
    assert!(!id.columns[0].nullable, "INTEGER PRIMARY KEY is the rowid");

    let p = src.preview(&tn, 2).await.unwrap();
    assert_eq!((p.num_rows(), p.num_columns()), (2, 2));
    let e = export(&src, table(name), ExportOptions::default())
        .await
        .unwrap();
    assert_eq!(
        strings(&e, "we\"ird col"),
        [Some("a".into()), Some("b".into()), Some("c".into())]
    );
    let e = export(&src, table("a view"), ExportOptions::default())
        .await
        .unwrap();
    assert_eq!(i64s(&e, "Key"), [Some(1), Some(2), Some(3)]);
    let empty = src
        .preview(&TableName::parse("fresh", "main").expect("a table name"), 0)
        .await
        .unwrap();
    assert_eq!((empty.num_rows(), empty.num_columns()), (0, 1));
    assert!(
        src.describe(&TableName::parse("nope", "main").expect("a table name"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn opening_needs_an_existing_file_and_never_creates_one() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let err = SqliteSource::open(&missing)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("does not exist"), "{err}");
    assert!(!missing.exists());
}

#[tokio::test]
async fn a_writer_that_goes_away_stops_the_export() {
    let dir = tempfile::tempdir().unwrap();
    let src = source(&dir.path().join("e.db"), TYPED).await;
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    drop(rx);
    let progress: switchyard::connectors::source::ProgressFn = std::sync::Arc::new(|_, _| {});
    let err = src
        .export(&table("typed"), &ExportOptions::default(), tx, progress)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("writer went away"), "{err}");
}
