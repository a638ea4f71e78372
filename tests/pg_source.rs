//! The Postgres source against a real server: the catalog, awkward names,
//! previews, query exports, progress, and secrets kept out of errors.

mod pg_support;

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Int32Type, Int64Type};
use arrow_schema::DataType;
use pg_support::{export, only, scratch, values};
use switchyard::connectors::source::postgres::PostgresSource;
use switchyard::connectors::source::{ExportInput, ExportOptions, Source, TableKind, TableName};

#[tokio::test]
async fn connection_errors_do_not_carry_the_password() {
    // Port 1 is closed: this needs no server.
    let err = PostgresSource::connect("postgres://postgres:s3cret-pw@127.0.0.1:1/test")
        .await
        .err()
        .expect("nothing listens on port 1");
    let msg = format!("{err:#}");
    assert!(!msg.contains("s3cret-pw"), "{msg}");
    assert!(msg.contains("127.0.0.1:1"), "names the server: {msg}");
    let err = PostgresSource::connect("postgres://postgres:s3cret-pw@127.0.0.1:notaport/test")
        .await
        .err()
        .expect("bad port");
    assert!(!format!("{err:#}").contains("s3cret-pw"));
}

const ODD: &str = r#"Mixed Case "quoted" table"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awkward_names_work_everywhere() {
    let Some(mut db) = scratch("names").await else {
        return;
    };
    let q = db.q();
    db.exec(&format!(
        r#"CREATE TABLE {q}."Mixed Case ""quoted"" table" (
             "Id" bigint PRIMARY KEY, "select" text, "two words" int, "quo""te" text);
           INSERT INTO {q}."Mixed Case ""quoted"" table"
             SELECT i, 'row ' || i, i * 2, 'q"' || i FROM generate_series(1, 10) i;"#
    ))
    .await;
    let src = db.source().await;
    // The way a workspace file names it: quoted parts, doubled quotes.
    let spelled = format!(r#""{}"."Mixed Case ""quoted"" table""#, db.schema);
    let table = TableName::parse(&spelled, "public").expect("a table name");
    assert_eq!(table.name, ODD);

    let listed = src.list_tables().await.expect("list");
    assert!(listed.iter().any(|t| t.table == table), "listed");
    let detail = src.describe(&table).await.expect("describe");
    let names: Vec<_> = detail.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Id", "select", "two words", "quo\"te"]);
    assert_eq!(detail.primary_key, ["Id"]);

    let preview = src.preview(&table, 3).await.expect("preview");
    assert_eq!(preview.num_rows(), 3);
    assert_eq!(preview.schema().field(3).name(), "quo\"te");

    for partitions in [1, 3] {
        let opts = ExportOptions {
            partitions,
            batch_rows: 4,
            ..Default::default()
        };
        let e = export(&src, ExportInput::Table(table.clone()), opts)
            .await
            .expect("export");
        assert!(e.stats.warnings.is_empty(), "{:?}", e.stats.warnings);
        let mut rows: Vec<_> = values(&e, "Id", |a, i| a.as_primitive::<Int64Type>().value(i))
            .into_iter()
            .zip(values(&e, "quo\"te", |a, i| {
                a.as_string::<i32>().value(i).to_string()
            }))
            .collect();
        rows.sort();
        assert_eq!(rows.len(), 10);
        assert_eq!(rows[9], (Some(10), Some("q\"10".to_string())));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_lists_tables_views_and_partitioned_tables() {
    let Some(mut db) = scratch("catalog").await else {
        return;
    };
    let q = db.q();
    db.exec(&format!(
        "CREATE TABLE {q}.plain (id int PRIMARY KEY, v text);
         INSERT INTO {q}.plain SELECT i, 'v' FROM generate_series(1, 500) i;
         CREATE TABLE {q}.fresh (id int);
         CREATE VIEW {q}.plain_view AS SELECT id FROM {q}.plain;
         CREATE TABLE {q}.events (id int, at date) PARTITION BY RANGE (at);
         CREATE TABLE {q}.events_2024 PARTITION OF {q}.events
           FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         INSERT INTO {q}.events SELECT i, '2024-05-01' FROM generate_series(1, 30) i;
         ANALYZE {q}.plain; ANALYZE {q}.events_2024;"
    ))
    .await;
    let src = db.source().await;
    let all = src.list_tables().await.expect("list");
    let mine: Vec<_> = all
        .iter()
        .filter(|t| t.table.schema == db.schema)
        .map(|t| (t.table.name.as_str(), t.kind, t.row_estimate))
        .collect();
    assert_eq!(
        mine,
        [
            ("events", TableKind::Table, Some(30)),
            ("fresh", TableKind::Table, None),
            ("plain", TableKind::Table, Some(500)),
            ("plain_view", TableKind::View, None),
        ],
        "partitions are reached through their parent; never-analysed → None"
    );
    let missing = TableName {
        schema: db.schema.clone(),
        name: "nope".into(),
    };
    let err = src.describe(&missing).await.expect_err("no such table");
    assert!(err.to_string().contains("nope"), "{err}");

    // A view and a partitioned table export like tables.
    for name in ["plain_view", "events"] {
        let t = TableName {
            schema: db.schema.clone(),
            name: name.into(),
        };
        let e = export(&src, ExportInput::Table(t), ExportOptions::default())
            .await
            .expect("export");
        assert_eq!(e.stats.rows, if name == "events" { 30 } else { 500 });
    }
    let empty = src
        .preview(
            &TableName {
                schema: db.schema.clone(),
                name: "fresh".into(),
            },
            5,
        )
        .await
        .expect("preview of an empty table");
    assert_eq!((empty.num_rows(), empty.num_columns()), (0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_export_with_their_types_and_progress_is_reported() {
    let Some(mut db) = scratch("query").await else {
        return;
    };
    let q = db.q();
    db.exec(&format!(
        "CREATE TABLE {q}.t (id int PRIMARY KEY, n numeric(8,2), ip inet);
         INSERT INTO {q}.t SELECT i, i + 0.25, '10.0.0.1' FROM generate_series(1, 1000) i;"
    ))
    .await;
    let src = db.source().await;
    // Repeated names, a computed numeric, a type read as text, a trailing
    // comment and semicolon: the query is run as written.
    let sql = format!(
        "SELECT id, n, n * 2 AS n, ip, id AS \"odd name\" FROM {q}.t ORDER BY id -- last;\n;"
    );
    let opts = ExportOptions {
        batch_rows: 300,
        partitions: 4,
        ..Default::default()
    };
    let e = export(&src, ExportInput::Query(sql), opts)
        .await
        .expect("export");
    let names: Vec<_> = e.schema.fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names, ["id", "n", "n", "ip", "odd name"]);
    let types: Vec<_> = e
        .schema
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    assert_eq!(
        types,
        [
            DataType::Int32,
            DataType::Decimal128(8, 2),
            DataType::Decimal128(38, 9),
            DataType::Utf8,
            DataType::Int32
        ]
    );
    assert_eq!(e.batches.len(), 4, "300 + 300 + 300 + 100");
    let b = &e.batches[3];
    assert_eq!(b.column(0).as_primitive::<Int32Type>().value(99), 1000);
    assert_eq!(
        b.column(1).as_primitive::<Decimal128Type>().value(99),
        100_025
    );
    assert_eq!(
        b.column(2)
            .as_primitive::<Decimal128Type>()
            .value_as_string(99),
        "2000.500000000"
    );
    assert_eq!(b.column(3).as_string::<i32>().value(99), "10.0.0.1/32");
    assert!(
        e.stats
            .warnings
            .iter()
            .any(|w| w.contains("partitions = 4 ignored")),
        "{:?}",
        e.stats.warnings
    );

    // Progress: per batch, growing, ending at the totals.
    assert_eq!(e.stats.rows, 1000);
    assert!(e.progress.len() >= 4, "{:?}", e.progress);
    assert!(
        e.progress
            .windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1)
    );
    assert_eq!(e.progress.last(), Some(&(1000, e.stats.source_bytes)));

    let bad = export(
        &src,
        ExportInput::Query(format!("SELECT 1 / (id - 500) FROM {q}.t")),
        ExportOptions::default(),
    )
    .await
    .err()
    .expect("division by zero mid-stream");
    assert!(format!("{bad:#}").contains("division by zero"), "{bad:#}");
    let only_one = export(
        &src,
        ExportInput::Query("VALUES (1::int8)".into()),
        ExportOptions::default(),
    )
    .await
    .expect("values");
    assert_eq!(only(&only_one).num_rows(), 1);
}
