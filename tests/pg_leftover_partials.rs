//! `.partial` files left by a writer killed with `kill -9` are removed when
//! the task is rerun (and anywhere in the store at its next write), while a
//! live writer's, or another host's, are left alone.

mod common;
mod pg_support;

use std::path::Path;
use std::time::Duration;

use common::{Bg, Ws, wait_until};
use pg_support::scratch;

/// Every `.partial` file under `dir`, relative, sorted.
fn partials(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if p.to_string_lossy().ends_with(".partial") {
                let rel = p.strip_prefix(base).expect("under base");
                out.push(rel.display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn a_killed_writers_partial_files_go_at_the_rerun() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let Some(mut db) = rt.block_on(scratch("partials")) else {
        return;
    };
    let q = db.q();
    rt.block_on(db.exec(&format!(
        "CREATE TABLE {q}.t (id int PRIMARY KEY, v text);
         INSERT INTO {q}.t SELECT i, 'row ' || i FROM generate_series(1, 1000) i;"
    )));
    let ws = Ws::new(&format!(
        r#"
[sources.app]
kind = "postgres"
url = "{url}"

[stores.lake]
path = "lake"

[pipelines.p]
[[pipelines.p.tasks]]
id = "e"
kind = "export"
source = "app"
table = "{schema}.t"
store = "lake"
path = "t.parquet"
"#,
        url = pg_support::URL,
        schema = db.schema
    ));
    let lake = ws.path().join("lake");

    // The lock holds the export's COPY after its file was created.
    rt.block_on(db.exec(&format!("BEGIN; LOCK TABLE {q}.t IN ACCESS EXCLUSIVE MODE")));
    let mut run = Bg::new(ws.spawn(&["run", "p", "--date", "2026-08-01"]));
    let writer = run.pid();
    wait_until(
        Duration::from_secs(30),
        "the export's .partial file",
        || partials(&lake).len() == 1,
    );
    run.kill9();
    let killed = partials(&lake);
    assert_eq!(killed.len(), 1, "{killed:?}");
    assert!(
        killed[0].starts_with(&format!("t.parquet.{writer}-")),
        "{killed:?}"
    );

    // One more of the dead writer's elsewhere in the store; one of a live
    // writer (this test process); one from another host.
    let host = switchyard::engine::process::hostname();
    let me = std::process::id();
    std::fs::create_dir_all(lake.join("old")).expect("mkdir");
    for (name, body) in [
        (format!("old/x.parquet.{writer}-7@{host}.partial"), "left"),
        (format!("live.parquet.{me}-0@{host}.partial"), "mine"),
        (
            format!("far.parquet.{writer}-0@elsewhere.partial"),
            "theirs",
        ),
    ] {
        std::fs::write(lake.join(name), body).expect("write partial");
    }
    rt.block_on(db.exec("ROLLBACK"));

    let (code, out, err) = ws.run_within(Duration::from_secs(60), &["rerun", "latest", "--failed"]);
    assert_eq!(code, 0, "rerun failed:\n{out}\n{err}");
    assert!(lake.join("t.parquet").is_file(), "the rerun wrote its file");
    assert_eq!(
        partials(&lake),
        vec![
            format!("far.parquet.{writer}-0@elsewhere.partial"),
            format!("live.parquet.{me}-0@{host}.partial"),
        ],
        "only the dead writer's partial files go"
    );
}
