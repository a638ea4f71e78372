//! Exports and loads through the real binary on the embedded default (a SQLite
//! source, a local store, a SQLite warehouse): export_all with include/exclude
//! and `load from`, ad-hoc export and load, and append loads that a rerun does
//! not duplicate.

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
prefix = "raw/"
include = ["main.a_*", "main.Odd*"]
exclude = ["*_skip"]

[[pipelines.p.tasks]]
id = "load"
kind = "load"
from = "dump"
warehouse = "wh"
table = "raw_{table}"

[[pipelines.p.tasks]]
id = "count"
kind = "check"
after = ["load"]
left = { target = "app", sql = "select count(*) from a_one" }
right = { target = "wh", sql = "select count(*) from raw_a_one" }
"#;

fn workspace() -> Ws {
    let ws = Ws::new(WORKSPACE);
    sqlite(
        &ws.path().join("app.db"),
        "create table a_one (id integer primary key, name text, amount real);
         insert into a_one values (1, 'Zoë', 1.5), (2, NULL, 2.25), (3, 'José', NULL);
         create table a_skip (id integer primary key);
         create table b_other (id integer primary key);
         create table \"Odd \"\"name\"\"\" (id integer primary key, v text);
         insert into \"Odd \"\"name\"\"\" values (7, 'x')",
    );
    ws
}

#[test]
fn export_all_respects_globs_and_loads_follow_their_exports() {
    let ws = workspace();
    let (code, _, err) = ws.run(&["run", "p"]);
    assert_eq!(code, 0, "{err}");
    let s = ws.status(Some("latest"));
    let mut ids: Vec<String> = s["runs"][0]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "count",
            "dump.main.Odd__name_",
            "dump.main.a_one",
            "load.main.Odd__name_",
            "load.main.a_one"
        ]
    );
    let load = s["runs"][0]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "load.main.a_one")
        .cloned()
        .unwrap();
    assert_eq!(load["rows"], 3);
    assert!(ws.path().join("lake/raw/main.a_one.parquet").exists());
    assert!(
        ws.path()
            .join("lake/raw/main.Odd \"name\".parquet")
            .exists()
    );
    assert!(!ws.path().join("lake/raw/main.a_skip.parquet").exists());
    let wh = ws.path().join("wh.db");
    assert_eq!(
        sqlite(&wh, "select id, name, amount from raw_a_one order by id"),
        "1|Zoë|1.5\n2|None|2.25\n3|José|None"
    );
    assert_eq!(
        sqlite(&wh, "select id, v from \"raw_Odd \"\"name\"\"\""),
        "7|x"
    );
}

#[test]
fn adhoc_export_and_append_loads_are_not_duplicated_by_a_rerun() {
    let ws = workspace();
    let (code, _, err) = ws.run(&[
        "export",
        "app",
        "a_one",
        "--store",
        "lake",
        "--path",
        "x/one.ndjson",
        "--format",
        "ndjson",
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(ws.path().join("lake/x/one.ndjson")).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains("Zoë"), "{text}");

    let (code, _, err) = ws.run(&[
        "export",
        "app",
        "a_one",
        "--store",
        "lake",
        "--path",
        "x/one.parquet",
    ]);
    assert_eq!(code, 0, "{err}");
    let load = [
        "load",
        "lake",
        "x/one.parquet",
        "--warehouse",
        "wh",
        "--table",
        "acc",
        "--mode",
        "append",
    ];
    let (code, _, err) = ws.run(&load);
    assert_eq!(code, 0, "{err}");
    let wh = ws.path().join("wh.db");
    assert_eq!(sqlite(&wh, "select count(*) from acc"), "3");
    // Rerunning the same run's load: the ledger says it is done.
    let (code, _, err) = ws.run(&["rerun", "latest", "load"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(sqlite(&wh, "select count(*) from acc"), "3");
    let (_, logs, _) = ws.run(&["logs", "latest", "load"]);
    assert!(logs.contains("already loaded"), "{logs}");
    // A new load run appends again, as asked.
    let (code, _, err) = ws.run(&load);
    assert_eq!(code, 0, "{err}");
    assert_eq!(sqlite(&wh, "select count(*) from acc"), "6");
}

#[test]
fn sources_lists_tables_and_exact_types() {
    let ws = workspace();
    let (code, out, err) = ws.run(&["sources", "app"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("main.a_one") && out.contains("main.b_other"),
        "{out}"
    );
    let (code, out, err) = ws.run(&["sources", "app", "a_one", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["primary_key"][0], "id");
    let cols: Vec<&str> = v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, ["id", "name", "amount"]);
}
