//! Partitioned Postgres exports: key ranges read in parallel under one
//! exported snapshot, failing as a whole.

mod pg_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use pg_support::{Scratch, export, scratch, values};
use sqlx::Connection;
use switchyard::connectors::source::{ExportInput, ExportMsg, ExportOptions, Source, TableName};

/// Backends still running (or holding) a COPY of the scratch schema.
async fn copies(db: &mut Scratch) -> i64 {
    let pattern = format!("COPY%{}%", db.schema);
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE $1 AND state <> 'idle' \
         AND pid <> pg_backend_pid()",
    )
    .bind(pattern)
    .fetch_one(&mut db.conn)
    .await
    .expect("pg_stat_activity")
}

async fn wait_for_copies(db: &mut Scratch, want: impl Fn(i64) -> bool) -> i64 {
    let start = Instant::now();
    loop {
        let n = copies(db).await;
        if want(n) || start.elapsed() > Duration::from_secs(15) {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rows_written_during_a_partitioned_export_are_not_in_it() {
    let Some(mut db) = scratch("snapshot").await else {
        return;
    };
    let q = db.q();
    db.exec(&format!(
        "CREATE TABLE {q}.big (id int8 PRIMARY KEY, payload text);
         INSERT INTO {q}.big SELECT i * 2, 'orig ' || i FROM generate_series(1, 4000) i;"
    ))
    .await;
    let src = Arc::new(db.source().await);
    let table = TableName {
        schema: db.schema.clone(),
        name: "big".into(),
    };
    // Hold the table locked, so the export takes its snapshot and then waits
    // (for min/max of the key) before any partition starts reading.
    db.exec(&format!(
        "BEGIN; LOCK TABLE {q}.big IN ACCESS EXCLUSIVE MODE"
    ))
    .await;
    // A channel of one and a slow reader: the partitions stall mid-COPY.
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let opts = ExportOptions {
        batch_rows: 100,
        partitions: 4,
        ..Default::default()
    };
    let exporter = {
        let src = src.clone();
        tokio::spawn(async move {
            let input = ExportInput::Table(table);
            src.export(&input, &opts, tx, Arc::new(|_, _| {})).await
        })
    };
    let mut watcher = sqlx::postgres::PgConnection::connect(pg_support::URL)
        .await
        .expect("second connection");
    let start = Instant::now();
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT /* partition bounds */%'",
        )
        .fetch_one(&mut watcher)
        .await
        .expect("pg_stat_activity");
        if waiting > 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "export never blocked"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Snapshot taken, partitions not started: write, then let it go on.
    // (Few inserts: the table is split by its pages as they are now, and
    // pages holding only rows the snapshot cannot see would end at once.)
    db.exec(&format!(
        "INSERT INTO {q}.big SELECT i * 2 - 1, 'before' FROM generate_series(1, 200) i;
         DELETE FROM {q}.big WHERE id % 8 = 0;
         UPDATE {q}.big SET payload = 'changed' WHERE id < 100;
         COMMIT"
    ))
    .await;
    let Some(ExportMsg::Schema(schema)) = rx.recv().await else {
        panic!("the schema comes first");
    };
    let mut batches = Vec::new();
    match rx.recv().await {
        Some(ExportMsg::Batch(b)) => batches.push(b),
        other => panic!("expected a batch, got {other:?}"),
    }
    // Every partition has its own connection, each stalled in its COPY.
    let running = wait_for_copies(&mut db, |n| n == 4).await;
    assert_eq!(running, 4, "four partitions read in parallel");

    // Write while the export is in flight: inserts inside every key range,
    // deletes and updates of rows not yet read.
    db.exec(&format!(
        "INSERT INTO {q}.big SELECT i * 8, 'new' FROM generate_series(1, 1000) i;
         DELETE FROM {q}.big WHERE id % 4 = 0 AND id % 8 <> 0;
         UPDATE {q}.big SET payload = 'changed' WHERE id > 6000;"
    ))
    .await;
    while let Some(msg) = rx.recv().await {
        match msg {
            ExportMsg::Batch(b) => {
                assert_eq!(b.schema(), schema);
                batches.push(b);
            }
            ExportMsg::Schema(_) => panic!("one schema for all partitions"),
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let stats = exporter.await.expect("task").expect("export");
    assert_eq!(stats.rows, 4000);
    assert!(stats.warnings.is_empty(), "{:?}", stats.warnings);

    let mut rows = Vec::new();
    for b in &batches {
        let ids = b.column(0).as_primitive::<Int64Type>();
        let payloads = b.column(1).as_string::<i32>();
        for i in 0..b.num_rows() {
            rows.push((ids.value(i), payloads.value(i).to_string()));
        }
    }
    rows.sort();
    let want: Vec<_> = (1..=4000i64)
        .map(|i| (i * 2, format!("orig {i}")))
        .collect();
    assert_eq!(rows.len(), want.len());
    assert!(rows == want, "exactly the rows as of the snapshot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_failing_partition_fails_the_export_and_stops_the_others() {
    let Some(mut db) = scratch("partfail").await else {
        return;
    };
    let q = db.q();
    // The last quarter of the table's pages holds only NaN (which a
    // numeric(10,2) refuses), so the last partition fails on its first row;
    // the others have thousands of good rows to go.
    db.exec(&format!(
        "CREATE TABLE {q}.bad (id int PRIMARY KEY, n numeric(10,2), pad text);
         INSERT INTO {q}.bad SELECT i, i, repeat('p', 500) FROM generate_series(1, 5000) i;
         INSERT INTO {q}.bad SELECT i, 'NaN', repeat('p', 500) FROM generate_series(5001, 8000) i;"
    ))
    .await;
    let src = Arc::new(db.source().await);
    let table = TableName {
        schema: db.schema.clone(),
        name: "bad".into(),
    };
    let opts = ExportOptions {
        batch_rows: 100,
        partitions: 4,
        ..Default::default()
    };
    // A channel of one that nobody reads: after one batch every good
    // partition is stuck sending its next, mid-COPY. They cannot finish on
    // their own, so only being stopped ends their COPYs.
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let exporter = {
        let src = src.clone();
        tokio::spawn(async move {
            let input = ExportInput::Table(table);
            src.export(&input, &opts, tx, Arc::new(|_, _| {})).await
        })
    };
    let err = tokio::time::timeout(Duration::from_secs(60), exporter)
        .await
        .expect("the export waited for partitions stuck behind the failed one")
        .expect("task")
        .expect_err("NaN refused");
    let msg = format!("{err:#}");
    assert!(msg.contains("partition 4/4"), "{msg}");
    assert!(msg.contains("NaN") && msg.contains("column \"n\""), "{msg}");
    // The other partitions' connections were closed, though still unread.
    assert_eq!(wait_for_copies(&mut db, |n| n == 0).await, 0);
    // Nothing was drained: at most the schema and one batch got through.
    let mut got = 0;
    while let Ok(msg) = rx.try_recv() {
        if let ExportMsg::Batch(b) = msg {
            got += b.num_rows();
        }
    }
    assert!(
        got <= 100,
        "{got} rows went through an unread channel of one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_split_by_pages_whatever_their_key_and_views_read_as_one_stream() {
    let Some(mut db) = scratch("nokey").await else {
        return;
    };
    let q = db.q();
    db.exec(&format!(
        "CREATE TABLE {q}.by_name (name text PRIMARY KEY, v int);
         INSERT INTO {q}.by_name SELECT 'n' || i, i FROM generate_series(1, 50) i;
         CREATE TABLE {q}.empty (id int PRIMARY KEY);
         CREATE VIEW {q}.named AS SELECT * FROM {q}.by_name;"
    ))
    .await;
    let src = db.source().await;
    let t = |name: &str| {
        ExportInput::Table(TableName {
            schema: db.schema.clone(),
            name: name.into(),
        })
    };
    let opts = ExportOptions {
        batch_rows: 10,
        partitions: 3,
        ..Default::default()
    };
    // A text key does not matter: the table is split by its pages.
    let e = export(&src, t("by_name"), opts.clone())
        .await
        .expect("export");
    assert_eq!(e.stats.rows, 50);
    let mut got = values(&e, "v", |a, i| {
        a.as_any()
            .downcast_ref::<arrow_array::Int32Array>()
            .map(|x| x.value(i))
    });
    got.sort();
    let want: Vec<Option<Option<i32>>> = (1..=50).map(|i| Some(Some(i))).collect();
    assert_eq!(got, want, "every row exactly once");
    assert!(e.stats.warnings.is_empty(), "{:?}", e.stats.warnings);
    // A view has no pages of its own and no key: one stream, and it says so.
    let v = export(&src, t("named"), opts.clone())
        .await
        .expect("export of the view");
    assert_eq!(v.stats.rows, 50);
    assert!(
        v.stats
            .warnings
            .iter()
            .any(|w| w.contains("partitions = 3 ignored") && w.contains("not a plain table")),
        "{:?}",
        v.stats.warnings
    );
    let empty = export(&src, t("empty"), opts).await.expect("empty export");
    assert_eq!((empty.stats.rows, empty.batches.len()), (0, 0));
    assert_eq!(empty.schema.fields().len(), 1);
}
