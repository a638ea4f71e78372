//! Catalog names are values, never templates: a source table literally named
//! `{run_date}` keeps that name in its file and its warehouse table, through
//! the real binary (SQLite source, local store, SQLite warehouse).

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
id = "dump"
kind = "export_all"
source = "app"
store = "lake"
prefix = "raw/{run_date}/"

[[pipelines.p.tasks]]
id = "load"
kind = "load"
from = "dump"
warehouse = "wh"
table = "raw_{table}"
"#;

#[test]
fn a_table_named_like_a_placeholder_keeps_its_name() {
    let ws = Ws::new(WORKSPACE);
    sqlite(
        &ws.path().join("app.db"),
        r#"create table "{run_date}" (id integer primary key);
           insert into "{run_date}" values (1), (2);
           create table "2026-01-05" (id integer primary key);
           insert into "2026-01-05" values (10), (20), (30);
           create table "{table}" (id integer primary key);
           insert into "{table}" values (7)"#,
    );
    let (code, _, err) = ws.run(&["run", "p", "--date", "2026-01-05"]);
    assert_eq!(code, 0, "{err}");
    // The workspace's `{run_date}` expands; the table's does not.
    for file in [
        "main.{run_date}.parquet",
        "main.2026-01-05.parquet",
        "main.{table}.parquet",
    ] {
        assert!(
            ws.exists(&format!("lake/raw/2026-01-05/{file}")),
            "{file} missing"
        );
    }
    let wh = ws.path().join("wh.db");
    assert_eq!(sqlite(&wh, r#"select count(*) from "raw_{run_date}""#), "2");
    assert_eq!(sqlite(&wh, r#"select count(*) from "raw_2026-01-05""#), "3");
    assert_eq!(sqlite(&wh, r#"select count(*) from "raw_{table}""#), "1");
    assert_eq!(
        sqlite(
            &wh,
            "select count(*) from sqlite_schema where type = 'table' and name like 'raw_%'"
        ),
        "3"
    );
}
