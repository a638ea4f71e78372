//! Incremental exports through the real binary: a PostgreSQL table followed
//! by its `updated_at` (with a lookback) and merged by key into the SQLite
//! warehouse, over runs with rows inserted and updated between them. After
//! every run that succeeded the warehouse equals the source; a run whose load
//! failed moves no mark, so the next run reads its rows again and none is
//! skipped. `export --incremental --since` reads one range by hand.

mod common;
mod pg_support;

use common::{Ws, sqlite};
use pg_support::{Scratch, scratch};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn workspace(db: &Scratch) -> String {
    format!(
        r#"
[sources.app]
kind = "postgres"
url = "{url}"

[stores.lake]
path = "./lake"

[warehouses.wh]
path = "./wh.db"

[pipelines.orders]

[[pipelines.orders.tasks]]
id = "export"
kind = "export"
source = "app"
table = '"{schema}".orders'
store = "lake"
path = "orders/{{run_id}}.parquet"
incremental = "updated_at"
lookback = "1m"

[[pipelines.orders.tasks]]
id = "load"
kind = "load"
after = ["export"]
store = "lake"
path = "orders/{{run_id}}.parquet"
warehouse = "wh"
table = "orders"
mode = "merge"
key = ["id"]
"#,
        url = pg_support::URL,
        schema = db.schema,
    )
}

/// Every row as `id|amount|updated_at (UTC)`, in id order.
fn source_rows(rt: &tokio::runtime::Runtime, db: &mut Scratch) -> String {
    let q = db.q();
    let rows: Vec<(i64, String, String)> = rt.block_on(async {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, amount::text, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') \
             FROM {q}.orders ORDER BY id"
        )))
        .fetch_all(&mut db.conn)
        .await
        .expect("read source")
    });
    rows.iter()
        .map(|(id, amount, at)| format!("{id}|{amount}|{at}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn warehouse_rows(ws: &Ws) -> String {
    sqlite(
        &ws.path().join("wh.db"),
        "SELECT id || '|' || amount || '|' || strftime('%Y-%m-%d %H:%M:%S', updated_at) FROM orders ORDER BY id",
    )
}

/// The export's range and rows in the latest run, from its log.
fn read_line(ws: &Ws) -> String {
    let (code, out, err) = ws.run(&["logs", "latest", "export"]);
    assert_eq!(code, 0, "{err}");
    out.lines()
        .find(|l| l.contains("read `updated_at`"))
        .unwrap_or_else(|| panic!("no range in the log: {out}"))
        .to_string()
}

#[test]
fn three_runs_merged_equal_the_source_and_a_failed_load_skips_no_row() {
    let rt = runtime();
    let Some(mut db) = rt.block_on(scratch("incremental")) else {
        return;
    };
    let q = db.q();
    rt.block_on(db.exec(&format!(
        "CREATE TABLE {q}.orders (id int8 PRIMARY KEY, amount numeric(10,2) NOT NULL, updated_at timestamptz NOT NULL);
         INSERT INTO {q}.orders SELECT g, g * 1.5, '2026-12-01T00:00:00Z'::timestamptz + g * interval '1 minute'
         FROM generate_series(1, 1000) g;"
    )));
    let ws = Ws::new(&workspace(&db));
    let run = |ws: &Ws| {
        let (code, _, err) = ws.run(&["run", "orders"]);
        (code, err)
    };

    // Run 1: no mark yet, every row.
    let (code, err) = run(&ws);
    assert_eq!(code, 0, "{err}");
    assert!(read_line(&ws).contains("from the start through 2026-12-01T16:40:00"));
    assert_eq!(ws.task_state("latest", "export"), "succeeded");
    assert_eq!(warehouse_rows(&ws), source_rows(&rt, &mut db));

    // Run 2: two rows updated, one inserted. Read: those three, and the last
    // minute before the mark again (row 1000, the lookback).
    rt.block_on(db.exec(&format!(
        "UPDATE {q}.orders SET amount = -1, updated_at = '2026-12-02T00:00:00Z' WHERE id IN (5, 500);
         INSERT INTO {q}.orders VALUES (1001, 7.25, '2026-12-02T00:00:01Z');"
    )));
    let (code, err) = run(&ws);
    assert_eq!(code, 0, "{err}");
    assert!(
        read_line(&ws).contains("above 2026-12-01T16:39:00.000000Z through 2026-12-02T00:00:01"),
        "{}",
        read_line(&ws)
    );
    let st = ws.status(Some("latest"));
    assert_eq!(st["runs"][0]["tasks"][0]["rows"], 4, "{st}");
    assert_eq!(warehouse_rows(&ws), source_rows(&rt, &mut db));

    // Run 3: its load fails (the warehouse cannot be opened): the mark stays.
    rt.block_on(db.exec(&format!(
        "INSERT INTO {q}.orders VALUES (1002, 1, '2026-12-03T00:00:00Z');
         UPDATE {q}.orders SET amount = 99, updated_at = '2026-12-03T00:00:00Z' WHERE id = 7;"
    )));
    std::fs::create_dir_all(ws.path().join("wh-moved")).expect("mkdir");
    std::fs::rename(ws.path().join("wh.db"), ws.path().join("wh-moved/wh.db")).expect("move");
    std::fs::create_dir(ws.path().join("wh.db")).expect("a directory where the file was");
    let (code, _) = run(&ws);
    assert_eq!(code, 1, "the run fails");
    assert_eq!(ws.task_state("latest", "load"), "failed");
    std::fs::remove_dir(ws.path().join("wh.db")).expect("rmdir");
    std::fs::rename(ws.path().join("wh-moved/wh.db"), ws.path().join("wh.db")).expect("move back");

    // Run 4: from run 2's mark again, so run 3's rows are read (and merged).
    rt.block_on(db.exec(&format!(
        "INSERT INTO {q}.orders VALUES (1003, 2, '2026-12-04T00:00:00Z');"
    )));
    let (code, err) = run(&ws);
    assert_eq!(code, 0, "{err}");
    assert!(
        read_line(&ws).contains("above 2026-12-01T23:59:01.000000Z through 2026-12-04T00:00:00"),
        "{}",
        read_line(&ws)
    );
    assert_eq!(warehouse_rows(&ws), source_rows(&rt, &mut db));

    // By hand: one range, which moves no mark.
    let (code, _, err) = ws.run(&[
        "export",
        "app",
        &format!("{}.orders", db.schema),
        "--store",
        "lake",
        "--path",
        "by_hand.parquet",
        "--incremental",
        "updated_at",
        "--since",
        "2026-12-03T12:00:00Z",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(read_line(&ws).contains("above 2026-12-03T12:00:00.000000Z"));
    let st = ws.status(Some("latest"));
    assert_eq!(st["runs"][0]["tasks"][0]["rows"], 1, "only row 1003: {st}");
    let mark = ws.state_sql("SELECT mark FROM export_marks WHERE pipeline = 'orders'");
    assert_eq!(mark.trim(), "2026-12-04T00:00:00.000000Z");

    // A column that does not only grow is refused before any run.
    let (code, _, err) = ws.run(&[
        "export",
        "app",
        &format!("{}.orders", db.schema),
        "--store",
        "lake",
        "--incremental",
        "amount",
        "--since",
        "3",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("numeric(10,2)"), "{err}");
}
