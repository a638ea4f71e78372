//! The load ledger knows a file by its bytes, through the real binary
//! (SQLite source, local store, SQLite warehouse): a file exported again
//! with other rows is loaded again, and the same bytes are never appended
//! twice nor replaced for nothing.

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
id = "ex"
kind = "export"
source = "app"
table = "users"
store = "lake"
path = "users/{run_date}.parquet"

[[pipelines.p.tasks]]
id = "ld"
kind = "load"
after = ["ex"]
store = "lake"
path = "users/{run_date}.parquet"
warehouse = "wh"
table = "users"
mode = "replace"

[[pipelines.p.tasks]]
id = "ap"
kind = "load"
after = ["ex"]
store = "lake"
path = "users/{run_date}.parquet"
warehouse = "wh"
table = "users_history"
mode = "append"
"#;

#[test]
fn a_re_exported_file_is_loaded_and_the_same_bytes_never_twice() {
    let ws = Ws::new(WORKSPACE);
    let app = ws.path().join("app.db");
    let wh = ws.path().join("wh.db");
    sqlite(
        &app,
        "create table users (id integer primary key, name text);
         with recursive n(i) as (select 1 union all select i + 1 from n where i < 2000)
         insert into users select i, 'user ' || i from n",
    );
    let count = |table: &str| sqlite(&wh, &format!("select count(*) from {table}"));
    let log = |task: &str| ws.run(&["logs", "latest", task]).1;

    let (code, _, err) = ws.run(&["run", "p", "--date", "2026-01-05"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        (count("users"), count("users_history")),
        ("2000".into(), "2000".into())
    );

    // Half the rows go; the export runs again and so do its loads.
    sqlite(&app, "delete from users where id > 1000");
    let (code, _, err) = ws.run(&["rerun", "latest", "ex", "--downstream"]);
    assert_eq!(code, 0, "{err}");
    let ld = log("ld");
    assert!(!ld.contains("already loaded"), "{ld}");
    assert!(ld.contains("loaded 1000 rows"), "{ld}");
    assert_eq!(count("users"), "1000", "the replace took the new file");
    assert_eq!(
        count("users_history"),
        "3000",
        "the append took the new file"
    );

    // The loads again, on the same bytes: nothing to do.
    for task in ["ld", "ap"] {
        let (code, _, err) = ws.run(&["rerun", "latest", task]);
        assert_eq!(code, 0, "{err}");
        let text = log(task);
        assert!(text.contains("already loaded"), "{task}: {text}");
    }
    assert_eq!(
        (count("users"), count("users_history")),
        ("1000".into(), "3000".into())
    );

    // The rows come back: the file's bytes are the first run's again, and
    // the replace still loads them (the table holds the other file now).
    sqlite(
        &app,
        "with recursive n(i) as (select 1001 union all select i + 1 from n where i < 2000)
         insert into users select i, 'user ' || i from n",
    );
    let (code, _, err) = ws.run(&["rerun", "latest", "ex", "--downstream"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(count("users"), "2000");
    // The append had these bytes once already, in the first run of `ap`.
    assert_eq!(count("users_history"), "3000");
}
