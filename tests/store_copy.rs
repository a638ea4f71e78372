//! `switchyard state copy --to postgres://…`: a store with history, copied
//! into an empty PostgreSQL database, holds the same rows, table by table,
//! read back with each database's own client; the workspace then runs on it.

mod common;

use common::Ws;
use common::pg_state::{PgState, psql};

const WS: &str = r#"
[pools.replica]
size = 2

[pipelines.p]
[[pipelines.p.tasks]]
id = "extract"
kind = "command"
pool = "replica"
command = "echo extracting {run_date}; test -f ok"

[[pipelines.p.tasks]]
id = "publish"
kind = "command"
after = ["extract"]
command = "echo published"
"#;

/// Every table of `tables`, its rows as `a|b|…` lines, NULL as `<null>`,
/// sorted (the two databases collate text differently), read with SQL both
/// take.
fn dump(
    tables: &[String],
    columns_of: impl Fn(&str) -> Vec<String>,
    query: impl Fn(&str) -> String,
) -> Vec<String> {
    let mut out = Vec::new();
    for table in tables {
        let cols = columns_of(table);
        assert!(!cols.is_empty(), "no columns for {table}");
        let expr = cols
            .iter()
            .map(|c| format!("COALESCE(CAST(\"{c}\" AS TEXT), '<null>')"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let mut rows: Vec<String> = query(&format!("SELECT {expr} FROM \"{table}\""))
            .lines()
            .map(|l| format!("{table}: {l}"))
            .collect();
        rows.sort();
        out.extend(rows);
    }
    out
}

#[test]
fn state_copy_moves_a_store_with_history_into_an_empty_postgres_row_for_row() {
    if !common::pg_state::server_reachable() {
        common::live::missing(
            "state_copy",
            "PostgreSQL",
            "psql could not connect to 127.0.0.1:5432",
        );
        return;
    }
    // The source is an SQLite file whatever backend the suite runs on.
    let mut ws = Ws::new(WS);
    ws.pg = None;
    // History: a failure and its rerun, a backfill, a resize.
    let (code, _, _) = ws.run(&["run", "p", "--date", "2026-06-01"]);
    assert_eq!(code, 1, "the first run fails (no `ok` file yet)");
    ws.touch("ok");
    let (code, _, err) = ws.run(&["rerun", "latest", "--failed"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = ws.run(&[
        "backfill",
        "p",
        "--from",
        "2026-06-02",
        "--to",
        "2026-06-04",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = ws.run(&["pool", "replica", "3"]);
    assert_eq!(code, 0, "{err}");

    let dest = PgState::create();
    // A password in the URL: it must not be printed (trust auth ignores it).
    let secret = "copy-pw-7f3a9c";
    let url = dest
        .url()
        .replace("postgres@", &format!("postgres:{secret}@"));
    let (code, out, err) = ws.run(&["state", "copy", "--to", &url]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("copied"), "{out}");
    assert!(
        !out.contains(secret) && !err.contains(secret),
        "the password was printed:\n{out}\n{err}"
    );

    let db = ws.path().join(".switchyard/state.db");
    let sqlite_cols = |t: &str| {
        common::sqlite(&db, &format!("SELECT name FROM pragma_table_info('{t}')"))
            .lines()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    // Every table the source has, as SQLite lists them (not the code's own
    // list, so a table the copy forgets shows here), but the two it leaves
    // out on purpose: live `serve` heartbeats and the schema's own versions.
    let tables: Vec<String> = common::sqlite(
        &db,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT IN ('servers', 'schema_migrations') ORDER BY name",
    )
    .lines()
    .map(String::from)
    .collect();
    assert!(tables.len() >= 12, "{tables:?}");
    let before = dump(&tables, sqlite_cols, |sql| common::sqlite(&db, sql));
    let after = dump(&tables, sqlite_cols, |sql| dest.sql(sql));
    assert!(
        before.len() > 40,
        "too little history to compare: {before:?}"
    );
    assert!(before.iter().any(|l| l.starts_with("logs: ")), "no logs");
    assert!(
        before.iter().any(|l| l.starts_with("journal: ")),
        "no journal"
    );
    assert!(
        before.iter().any(|l| l.starts_with("backfills: ")),
        "no backfill"
    );
    assert_eq!(before, after, "the copy differs from its source");

    // The workspace runs on the copy, ids going on after the copied ones.
    let max_run = dest.sql("SELECT MAX(id) FROM runs");
    let on_copy = |args: &[&str]| {
        let out = ws
            .cmd(args)
            .env("SWITCHYARD_STATE", dest.url())
            .output()
            .expect("run switchyard");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = on_copy(&["run", "p", "--date", "2026-06-09"]);
    assert_eq!(code, Some(0), "{err}");
    let new_run: i64 = dest
        .sql("SELECT id FROM runs WHERE run_date = '2026-06-09'")
        .parse()
        .expect("the new run's id");
    assert_eq!(new_run, max_run.parse::<i64>().expect("max id") + 1);
    assert_eq!(
        psql(&dest.url(), "SELECT size FROM pools WHERE name = 'replica'"),
        "3",
        "the resize was copied"
    );

    // Into a store that holds history: refused, nothing written.
    let rows = dest.sql("SELECT COUNT(*) FROM runs");
    let (code, out, err) = ws.run(&["state", "copy", "--to", &dest.url()]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("only into an empty store"), "{err}");
    assert_eq!(dest.sql("SELECT COUNT(*) FROM runs"), rows);
}
