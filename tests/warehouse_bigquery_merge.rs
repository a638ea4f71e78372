//! Merge loads into BigQuery (the emulator) through the real binary: a
//! SQLite source exported and merged by key twice, with the source changed
//! between; the staging table is gone afterwards and a rerun does nothing;
//! a key twice in the file is refused with our own error.

mod bq_support;
mod common;
mod pg_support;
mod s3_support;

use bq_support::{bq, run_ok};
use common::{Ws, sqlite};

#[test]
fn a_merge_updates_by_key_inserts_new_keys_and_reruns_as_a_no_op() {
    let Some(b) = bq("bq_merge") else { return };
    let ws = Ws::new(&format!(
        r#"
[sources.app]
kind = "sqlite"
path = "./app.db"

[stores.lake]
path = "./lake"

{wh}

[pipelines.p]
[[pipelines.p.tasks]]
id = "export"
kind = "export"
source = "app"
table = "main.users"
store = "lake"
path = "users/{{run_date}}.parquet"

[[pipelines.p.tasks]]
id = "load"
kind = "load"
after = ["export"]
store = "lake"
path = "users/{{run_date}}.parquet"
warehouse = "bq"
table = "users"
mode = "merge"
key = ["id"]
"#,
        wh = b.warehouse_toml("bq"),
    ));
    let app = ws.path().join("app.db");
    sqlite(
        &app,
        "create table users (id integer primary key, name text not null);
         insert into users values (1, 'ann'), (2, 'bob'), (3, 'cy')",
    );
    run_ok(&ws, &["run", "p", "--date", "2026-01-01"]);
    assert_eq!(b.count("users"), 3);

    sqlite(
        &app,
        "update users set name = 'bobby' where id = 2; insert into users values (4, 'dee');
         delete from users where id = 3",
    );
    run_ok(&ws, &["run", "p", "--date", "2026-01-02"]);
    let names = b.query("select id, name from users order by id");
    let got: Vec<(String, String)> = names
        .rows
        .iter()
        .map(|r| {
            let s = |i: usize| r[i].as_str().unwrap_or("NULL").to_string();
            (s(0), s(1))
        })
        .collect();
    let want: Vec<(String, String)> = [("1", "ann"), ("2", "bobby"), ("3", "cy"), ("4", "dee")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(got, want, "updated by key, new key inserted, the rest kept");
    let staging: Vec<String> = b
        .tables()
        .into_iter()
        .map(|t| t.name)
        .filter(|n| n.starts_with("_sy_merge_"))
        .collect();
    assert!(staging.is_empty(), "staging tables left: {staging:?}");

    // The same run and task again: its MERGE job is found, nothing is done.
    b.query("update users set name = 'by hand' where id = 2");
    run_ok(&ws, &["rerun", "latest", "load"]);
    let (_, log, _) = ws.run(&["logs", "latest", "load"]);
    assert!(log.contains("nothing to do"), "{log}");
    // The rows its MERGE job changed: all three of the second file (1 and 2
    // updated, 4 inserted).
    let s = ws.status(Some("latest"));
    let rows = s["runs"][0]["tasks"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["id"] == "load"))
        .map(|t| t["rows"].clone());
    assert_eq!(rows, Some(serde_json::json!(3)), "{s:#}");
    assert_eq!(b.scalar("select name from users where id = 2"), "by hand");
    assert_eq!(b.count("users"), 4);

    // A key twice in the file: our own error, naming it; the table as it was.
    sqlite(
        &app,
        "create table dups (id integer, name text); insert into dups values (5, 'e'), (1, 'x'), (5, 'f')",
    );
    run_ok(
        &ws,
        &[
            "export",
            "app",
            "main.dups",
            "--store",
            "lake",
            "--path",
            "dups.parquet",
        ],
    );
    let (code, out, err) = ws.run(&[
        "load",
        "lake",
        "dups.parquet",
        "--warehouse",
        "bq",
        "--table",
        "users",
        "--mode",
        "merge",
        "--key",
        "id",
    ]);
    assert_ne!(code, 0, "{out}\n{err}");
    let (_, log, _) = ws.run(&["logs", "latest", "load"]);
    assert!(
        log.contains("the file has key id = 5 2 times"),
        "{out}\n{err}\n{log}"
    );
    assert_eq!(b.count("users"), 4);
    assert_eq!(b.scalar("select name from users where id = 1"), "ann");
    assert!(
        !b.tables().iter().any(|t| t.name.starts_with("_sy_merge_")),
        "a failed merge drops its staging table too"
    );
}
