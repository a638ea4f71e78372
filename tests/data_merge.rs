//! A merge load through the real binary: a SQLite source exported and merged
//! by key into the SQLite warehouse, twice with the source changed between
//! (a row updated, one added); the warehouse then equals the source. A rerun
//! of the same run and task changes nothing; a row kept only in the
//! warehouse stays.

mod common;

use common::{Ws, sqlite};

const WORKSPACE: &str = r#"
[sources.app]
kind = "sqlite"
path = "./app.db"

[stores.lake]
kind = "local"
path = "./lake"

[warehouses.wh]
kind = "sqlite"
path = "./wh.db"

[pipelines.p]

[[pipelines.p.tasks]]
id = "export"
kind = "export"
source = "app"
table = "main.users"
store = "lake"
path = "users/{run_date}.parquet"

[[pipelines.p.tasks]]
id = "load"
kind = "load"
after = ["export"]
store = "lake"
path = "users/{run_date}.parquet"
warehouse = "wh"
table = "users"
mode = "merge"
key = "id"
"#;

const ROWS: &str = "select id, name, coalesce(score, 'NULL') from users order by id";

#[test]
fn merge_runs_keep_the_warehouse_equal_to_the_source() {
    let ws = Ws::new(WORKSPACE);
    let app = ws.path().join("app.db");
    let wh = ws.path().join("wh.db");
    sqlite(
        &app,
        "create table users (id integer primary key, name text not null, score real);
         insert into users values (1, 'ann', 1.5), (2, 'bob', NULL), (3, 'cy', 3.0)",
    );
    let (code, _, err) = ws.run(&["run", "p", "--date", "2026-01-01"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(sqlite(&wh, ROWS), sqlite(&app, ROWS));

    sqlite(
        &app,
        "update users set name = 'bobby', score = 2.5 where id = 2;
         insert into users values (4, 'dee', NULL)",
    );
    let (code, _, err) = ws.run(&["run", "p", "--date", "2026-01-02"]);
    assert_eq!(code, 0, "{err}");
    let merged = sqlite(&wh, ROWS);
    assert_eq!(merged, sqlite(&app, ROWS));
    assert!(merged.contains("bobby"), "{merged}");

    // A rerun of the load finds its ledger row and does nothing, even after
    // the warehouse changed by hand.
    sqlite(&wh, "update users set name = 'by hand' where id = 1");
    let (code, _, err) = ws.run(&["rerun", "latest", "load"]);
    assert_eq!(code, 0, "{err}");
    let (_, log, _) = ws.run(&["logs", "latest", "load"]);
    assert!(log.contains("nothing to do"), "{log}");
    assert_eq!(
        sqlite(&wh, "select name from users where id = 1"),
        "by hand"
    );

    // Rows whose key is not in the file stay.
    sqlite(&app, "delete from users where id = 3");
    let (code, _, err) = ws.run(&["run", "p", "--date", "2026-01-03"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(sqlite(&wh, "select name from users where id = 3"), "cy");
    assert_eq!(sqlite(&wh, "select name from users where id = 1"), "ann");
}

#[test]
fn the_command_line_asks_for_a_key_with_merge_only() {
    let ws = Ws::new(WORKSPACE);
    let load = [
        "load",
        "lake",
        "x.parquet",
        "--warehouse",
        "wh",
        "--table",
        "t",
    ];
    let (code, _, err) = ws.run(&[&load[..], &["--mode", "merge"]].concat());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--key"), "{err}");
    let (code, _, err) = ws.run(&[&load[..], &["--mode", "append", "--key", "id"]].concat());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--key is only for --mode merge"), "{err}");
}
