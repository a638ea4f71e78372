//! Arguments the workspace file would refuse are refused on the command
//! line too, with exit 2 and before anything is recorded: dates, pool
//! sizes, partitions, max active, store paths, attempts, unknown names.

mod common;

use common::Ws;

const WS: &str = r#"
[sources.app]
kind = "sqlite"
path = "./app.db"

[stores.lake]
kind = "local"
path = "./lake"

[warehouses.wh]
kind = "sqlite"
path = "./wh.db"

[pools.db]
size = 2

[pipelines.p]
[[pipelines.p.tasks]]
id = "hello"
kind = "command"
command = "echo hello"
"#;

fn workspace() -> Ws {
    let ws = Ws::new(WS);
    // An app database with one table, made by a sql task of its own.
    let seed = "[warehouses.app]\nkind = \"sqlite\"\npath = \"./app.db\"\n\
                [pipelines.seed]\n[[pipelines.seed.tasks]]\nid = \"t\"\nkind = \"sql\"\n\
                target = \"app\"\nsql = \"create table t (id integer); insert into t values (1)\"\n";
    let seeder = Ws::new(seed);
    let (code, _, err) = seeder.run(&["run", "seed"]);
    assert_eq!(code, 0, "{err}");
    std::fs::copy(seeder.path().join("app.db"), ws.path().join("app.db")).expect("copy app.db");
    ws
}

fn runs(ws: &Ws) -> usize {
    ws.status(None)["runs"].as_array().map_or(0, Vec::len)
}

/// Exit 2 with `message` on stderr, and no new run.
fn refused(ws: &Ws, args: &[&str], message: &str) {
    let before = runs(ws);
    let (code, out, err) = ws.run(args);
    assert_eq!(code, 2, "{args:?} exits 2:\n{out}\n{err}");
    assert!(
        err.contains(message),
        "{args:?}: `{message}` not in:\n{err}"
    );
    assert_eq!(runs(ws), before, "{args:?} recorded a run");
}

#[test]
fn out_of_range_numbers_and_dates_are_refused() {
    let ws = workspace();
    for date in ["--date=0000-01-01", "--date=-0001-01-01", "--date=2026-1-1"] {
        refused(&ws, &["run", "p", date], "is not a date (YYYY-MM-DD");
    }
    let (code, _, err) = ws.run(&["run", "p", "--date", "0001-01-01"]);
    assert_eq!(code, 0, "{err}");

    refused(
        &ws,
        &[
            "backfill",
            "p",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-02",
            "--max-active",
            "0",
        ],
        "`max_active` must be at least 1, not 0",
    );
    refused(&ws, &["pool", "db", "0"], "size must be at least 1, not 0");
    refused(
        &ws,
        &["export", "app", "t", "--store", "lake", "--partitions", "0"],
        "`partitions` must be at least 1, not 0",
    );
    let (code, out, err) = ws.run(&["pool", "db", "1"]);
    assert_eq!((code, out.trim()), (0, "pool db: size 1"), "{err}");
}

#[test]
fn store_paths_and_names_are_checked_before_a_run_is_made() {
    let ws = workspace();
    refused(
        &ws,
        &["export", "app", "t", "--store", "lake", "--path", "dir/"],
        "`dir/` names a folder",
    );
    assert!(
        !ws.path().join("lake/dir").exists(),
        "a file named `dir` was written"
    );
    refused(
        &ws,
        &[
            "export",
            "app",
            "t",
            "--store",
            "lake",
            "--path",
            "../up.parquet",
        ],
        "has a `..`",
    );
    refused(
        &ws,
        &["export", "nosuch", "t", "--store", "lake"],
        "unknown source `nosuch` (known: app)",
    );
    refused(
        &ws,
        &["export", "app", "t", "--store", "lak"],
        "unknown store `lak`; did you mean `lake`?",
    );
    refused(
        &ws,
        &["load", "lake", "t/", "--warehouse", "wh", "--table", "t"],
        "`t/` names a folder",
    );
    refused(
        &ws,
        &[
            "load",
            "lake",
            "t.parquet",
            "--warehouse",
            "nowhere",
            "--table",
            "t",
        ],
        "unknown warehouse `nowhere`",
    );
    // What is right still runs.
    let (code, _, err) = ws.run(&["export", "app", "t", "--store", "lake", "--path", "t.csv"]);
    assert_eq!(code, 0, "{err}");
    assert!(ws.path().join("lake/t.csv").is_file());
}

#[test]
fn logs_of_an_attempt_that_never_was_are_refused() {
    let ws = workspace();
    let (code, _, err) = ws.run(&["run", "p"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = ws.run(&["logs", "latest", "hello", "--attempt", "1"]);
    assert_eq!((code, out.trim()), (0, "hello"), "{err}");
    refused(
        &ws,
        &["logs", "latest", "hello", "--attempt", "7"],
        "no attempt 7: `hello` of run 1 has had one attempt",
    );
    refused(
        &ws,
        &["logs", "latest", "hello", "--attempt=-1"],
        "attempts are numbered from 1, not -1",
    );
    refused(
        &ws,
        &["logs", "latest", "hello", "--attempt", "0"],
        "attempts are numbered from 1, not 0",
    );
}
