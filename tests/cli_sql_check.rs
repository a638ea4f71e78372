//! `sql` and `check` tasks on SQLite: a sql task creates and fills a table;
//! a check with target + sql passes on non-zero and fails on zero; a check
//! with left + right compares two targets and names both values when they differ.

mod common;

use common::Ws;
use serde_json::Value;

/// `stage` (a warehouse) and `app` (a source) are the same SQLite file: the
/// warehouse creates it, the source reads it.
const WS: &str = r#"
[sources.app]
kind = "sqlite"
path = "./app.db"

[warehouses.stage]
kind = "sqlite"
path = "./app.db"

[warehouses.wh]
kind = "sqlite"
path = "./wh.db"

[pipelines.build]
[[pipelines.build.tasks]]
id = "seed_app"
kind = "sql"
target = "stage"
sql = """
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO users (name) VALUES ('ann'), ('bob'), ('cy');
"""

[[pipelines.build.tasks]]
id = "fill_wh"
kind = "sql"
target = "wh"
sql = """
CREATE TABLE raw_users (id INTEGER PRIMARY KEY, name TEXT, run_date TEXT);
INSERT INTO raw_users (name, run_date) VALUES ('ann', '{run_date}'), ('bob', '{run_date}'), ('cy', '{run_date}');
"""

[[pipelines.build.tasks]]
id = "wh_has_rows"
kind = "check"
after = ["fill_wh"]
target = "wh"
sql = "select count(*) = 3 from raw_users where run_date = '{run_date}'"

[[pipelines.build.tasks]]
id = "counts_match"
kind = "check"
after = ["seed_app", "fill_wh"]
left = { target = "app", sql = "select count(*) from users" }
right = { target = "wh", sql = "select count(*) from raw_users" }

[pipelines.drift]
[[pipelines.drift.tasks]]
id = "add_row"
kind = "sql"
target = "wh"
sql = "INSERT INTO raw_users (name, run_date) VALUES ('dee', '{run_date}')"

[[pipelines.drift.tasks]]
id = "counts_match"
kind = "check"
after = ["add_row"]
left = { target = "app", sql = "select count(*) from users" }
right = { target = "wh", sql = "select count(*) from raw_users" }

[[pipelines.drift.tasks]]
id = "no_nobody"
kind = "check"
after = ["add_row"]
target = "wh"
sql = "select count(*) from raw_users where name = 'nobody'"

[pipelines.catch_up]
[[pipelines.catch_up.tasks]]
id = "add_app_row"
kind = "sql"
target = "stage"
sql = "INSERT INTO users (name) VALUES ('dee')"

[[pipelines.catch_up.tasks]]
id = "counts_match"
kind = "check"
after = ["add_app_row"]
left = { target = "app", sql = "select count(*) from users" }
right = { target = "wh", sql = "select count(*) from raw_users" }
"#;

fn task<'a>(st: &'a Value, id: &str) -> &'a Value {
    st["runs"][0]["tasks"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["id"] == id))
        .unwrap_or_else(|| panic!("no task {id} in {st}"))
}

#[test]
fn sql_and_check_tasks_on_sqlite() {
    let ws = Ws::new(WS);

    let (code, _, err) = ws.run(&["run", "build", "--date", "2026-09-01"]);
    assert_eq!(code, 0, "{err}");
    let st = ws.status(Some("latest"));
    assert_eq!(st["runs"][0]["state"], "succeeded", "{st}");
    for id in ["seed_app", "fill_wh", "wh_has_rows", "counts_match"] {
        assert_eq!(task(&st, id)["state"], "succeeded", "{st}");
    }
    assert_eq!(task(&st, "seed_app")["rows"], 3, "rows affected: {st}");
    assert_eq!(task(&st, "fill_wh")["rows"], 3, "rows affected: {st}");
    assert!(ws.path().join("wh.db").is_file());
    let (_, log, _) = ws.run(&["logs", "latest", "counts_match"]);
    assert!(log.contains("left (app) = 3, right (wh) = 3"), "{log}");

    // One more row in the warehouse than in the app: the comparison fails,
    // naming both values; a single-query check returning 0 fails too.
    let (code, _, err) = ws.run(&["run", "drift", "--date", "2026-09-01"]);
    assert_eq!(code, 1, "{err}");
    let st = ws.status(Some("latest"));
    assert_eq!(st["runs"][0]["state"], "failed", "{st}");
    assert_eq!(task(&st, "add_row")["state"], "succeeded", "{st}");
    assert_eq!(task(&st, "add_row")["rows"], 1, "{st}");
    let cm = task(&st, "counts_match");
    assert_eq!(cm["state"], "failed", "{cm}");
    let error = cm["error"].as_str().unwrap();
    assert!(
        error.contains("app") && error.contains("wh"),
        "names both targets: {error}"
    );
    assert!(
        error.contains("= 3") && error.contains("= 4"),
        "names both values: {error}"
    );
    let nn = task(&st, "no_nobody");
    assert_eq!(nn["state"], "failed", "{nn}");
    let error = nn["error"].as_str().unwrap();
    assert!(error.contains("returned 0"), "{error}");

    // Equal again: passes.
    let (code, _, err) = ws.run(&["run", "catch_up", "--date", "2026-09-01"]);
    assert_eq!(code, 0, "{err}");
    let st = ws.status(Some("latest"));
    assert_eq!(task(&st, "counts_match")["state"], "succeeded", "{st}");
    let (_, log, _) = ws.run(&["logs", "latest", "counts_match"]);
    assert!(log.contains("left (app) = 4, right (wh) = 4"), "{log}");

    // A sql error fails the task with the database's message.
    let broken = std::fs::read_to_string(ws.file()).unwrap().replace(
        "INSERT INTO raw_users (name, run_date) VALUES ('dee', '{run_date}')",
        "INSERT INTO no_such_table VALUES (1)",
    );
    std::fs::write(ws.file(), broken).unwrap();
    let (code, _, err) = ws.run(&["run", "drift", "--date", "2026-09-02"]);
    assert_eq!(code, 1, "{err}");
    let st = ws.status(Some("latest"));
    let add = task(&st, "add_row");
    assert_eq!(add["state"], "failed", "{add}");
    assert!(
        add["error"].as_str().unwrap().contains("no_such_table"),
        "{add}"
    );
    assert_eq!(task(&st, "counts_match")["state"], "upstream_failed");
}
