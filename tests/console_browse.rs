//! End-to-end tests of the console's browse screens on the demo workspace,
//! the real binary in tmux: browse to a table in Sources, see its columns
//! and a preview, export it with `e` (the run goes to a worker and succeeds
//! in Runs), find the file in Stores, load it with `l`, see the table in
//! Warehouse, delete the file with `d`. A read-only console refuses e/l/d.
//! A preview held up by a lock on a real PostgreSQL table spins while the
//! console keeps answering keys, and shows its rows once the lock goes.

mod common;
mod pg_support;

use std::path::Path;

use common::Ws;

#[path = "common/tmux.rs"]
mod tmux;
use tmux::*;

/// Files under `dir`, relative to it.
fn files(dir: &Path) -> Vec<String> {
    walk(dir)
        .into_iter()
        .filter_map(|p| {
            p.strip_prefix(dir)
                .ok()
                .map(|r| r.to_string_lossy().into_owned())
        })
        .collect()
}

#[test]
fn export_a_table_from_sources_see_it_in_runs_and_stores_then_load_and_delete_it() {
    if !tmux_or_skip("browse") {
        return;
    }
    let ws = Ws::demo();
    let t = Tmux::start("browse", ws.path(), 120, 34, &[]);
    t.open_console("", "");

    // Sources: the demo's one source opens on its first table.
    t.keys(&["4"]);
    t.wait_screen("the tables of app", |s| {
        s.contains("order_items") && s.contains("COLUMN") && s.contains("→ WAREHOUSE")
    });
    // Filter down to users; the cursor lands on it and its columns show.
    t.keys(&["/"]);
    t.type_text("users");
    t.keys(&["Enter"]);
    let s = t.wait_screen("main.users with its columns", |s| {
        s.contains("main.users")
            && s.contains("primary key id")
            && s.contains("lifetime_value_cents")
    });
    assert!(
        !s.contains("order_items"),
        "the filter hides other tables:\n{s}"
    );
    assert!(
        line_with(&s, &["created_at", "DATETIME", "Timestamp(µs)"]).is_some(),
        "a column's type at each step:\n{s}"
    );
    t.keys(&["p"]);
    t.wait_screen("a preview of users", |s| {
        s.contains("Preview: first 20 rows") && s.contains("user1@")
    });

    // Export it: the form comes prefilled; Enter starts a run in a worker.
    t.keys(&["e"]);
    t.wait_screen("the export form", |s| {
        s.contains("Export app.main.users") && s.contains("main.users/{run_date}.parquet")
    });
    t.keys(&["Enter"]);
    t.wait_for("in a worker");

    // Runs shows the new run, selected, and it succeeds with no keypress.
    t.keys(&["1"]);
    t.wait_screen("the export run to succeed", |s| {
        line_with(s, &["›", "export app.main.users", "succeeded"]).is_some()
    });
    assert_eq!(ws.run_state("latest"), "succeeded");
    let exported: Vec<String> = files(&ws.path().join("lake"))
        .into_iter()
        .filter(|f| f.starts_with("main.users/") && f.ends_with(".parquet"))
        .collect();
    assert_eq!(exported.len(), 1, "one file exported: {exported:?}");
    let file_name = exported[0].trim_start_matches("main.users/").to_string();

    // Stores: the folder, then the file in it with its size.
    t.keys(&["5"]);
    t.wait_for("main.users/");
    t.keys(&["Enter"]);
    let s = t.wait_screen("the exported file", |s| {
        s.contains("lake: /main.users/") && s.contains(&file_name)
    });
    assert!(
        line_with(&s, &[&file_name, "KiB"]).is_some(),
        "its size is shown:\n{s}"
    );

    // Load it into the warehouse: the table name comes from the folder.
    t.keys(&["l"]);
    t.wait_screen("the load form", |s| {
        s.contains("Load lake: main.users/") && line_with(s, &["Table", "users"]).is_some()
    });
    t.keys(&["Enter"]);
    t.wait_for("load wh.users");
    t.keys(&["6"]);
    t.wait_screen("users in the warehouse with its rows", |s| {
        line_with(s, &["users", "20.0k"]).is_some() && s.contains("20,000 rows")
    });

    // Delete the file: a question first, then it is gone.
    t.keys(&["5"]);
    t.wait_for(&file_name);
    t.keys(&["d"]);
    t.wait_screen("the delete question", |s| {
        s.contains("Delete a file") && s.contains("cannot be undone")
    });
    t.keys(&["Escape"]);
    t.wait_screen("the question gone, the file still listed", |s| {
        !s.contains("Delete a file") && s.contains(&file_name)
    });
    assert!(
        ws.path().join("lake/main.users").join(&file_name).exists(),
        "Esc deletes nothing"
    );
    t.keys(&["d"]);
    t.wait_for("Delete a file");
    t.keys(&["Enter"]);
    t.wait_screen("the file gone from the listing", |s| {
        s.contains("deleted lake: main.users/") && !s.contains(&format!("  {file_name}"))
    });
    assert!(!ws.path().join("lake/main.users").join(&file_name).exists());
    t.quit_and_check_restored("q");
}

#[test]
fn a_readonly_console_browses_but_refuses_export_load_and_delete() {
    if !tmux_or_skip("browse-ro") {
        return;
    }
    let ws = Ws::demo();
    // A file to refuse to load or delete.
    let (code, _, err) = ws.run(&["export", "app", "orders", "--store", "lake"]);
    assert_eq!(code, 0, "{err}");
    let t = Tmux::start("browse-ro", ws.path(), 100, 30, &[]);
    t.open_console("", "--readonly");
    t.keys(&["4"]);
    t.wait_screen("the columns of a table", |s| s.contains("→ WAREHOUSE"));
    t.keys(&["e"]);
    let s = t.wait_for("read-only: cannot export (");
    assert!(!s.contains("Export app."), "no export form:\n{s}");
    t.keys(&["5", "Enter"]);
    t.wait_for(".parquet");
    // Each key's own refusal, not one still on screen from the key before.
    for (k, what) in [("l", "load"), ("d", "delete")] {
        t.keys(&[k]);
        let s = t.wait_for(&format!("read-only: cannot {what} ("));
        assert!(
            !s.contains("Load lake") && !s.contains("Delete a file"),
            "{s}"
        );
    }
    assert_eq!(files(&ws.path().join("lake")).len(), 1, "nothing deleted");
    t.quit_and_check_restored("q");
}

#[test]
fn a_preview_held_up_by_a_lock_spins_while_the_console_keeps_working() {
    if !tmux_or_skip("browse-slow") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let Some(mut pg) = rt.block_on(pg_support::scratch("slowprev")) else {
        return;
    };
    let q = pg.q();
    rt.block_on(pg.exec(&format!(
        "CREATE TABLE {q}.held (id int PRIMARY KEY, word text); INSERT INTO {q}.held VALUES (1, 'released')"
    )));
    // Declared after the scratch schema: dropped (and its lock gone) first.
    let mut locker = rt.block_on(async {
        use sqlx::Connection;
        sqlx::PgConnection::connect(pg_support::URL)
            .await
            .expect("connect")
    });
    let lock = |c: &mut sqlx::PgConnection, sql: String| {
        rt.block_on(sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(c))
            .expect("lock sql");
    };
    let ws = Ws::new(&format!(
        "[workspace]\nname = \"slow\"\n[sources.app]\nkind = \"postgres\"\nurl = \"{}\"\n[stores.lake]\nkind = \"local\"\npath = \"./lake\"\n",
        pg_support::URL
    ));
    let t = Tmux::start("browse-slow", ws.path(), 120, 34, &[]);
    t.open_console("", "");
    t.keys(&["4", "/"]);
    t.type_text(&pg.schema);
    t.keys(&["Enter"]);
    t.wait_screen("the held table's columns", |s| {
        s.contains(&format!("{}.held", pg.schema)) && s.contains("primary key id")
    });
    lock(
        &mut locker,
        format!("BEGIN; LOCK TABLE {q}.held IN ACCESS EXCLUSIVE MODE"),
    );
    t.keys(&["p"]);
    t.wait_screen("the preview's spinner", |s| {
        s.contains("loading a preview…")
    });
    // The console still answers: other screens, and back.
    t.keys(&["2"]);
    t.wait_for("Pools");
    t.keys(&["4"]);
    let s = t.wait_screen("the spinner still there", |s| {
        s.contains("loading a preview…") && s.contains("primary key id")
    });
    assert!(
        !s.contains("released"),
        "no rows while the lock holds:\n{s}"
    );
    lock(&mut locker, "COMMIT".into());
    t.wait_screen("the preview's rows", |s| {
        s.contains("Preview: first 1 rows") && s.contains("released")
    });
    t.quit_and_check_restored("q");
}
