//! Table names through the real binary against PostgreSQL: what a dotted or
//! quoted name on the command line means, and what is refused.

mod common;
mod pg_support;

use common::Ws;
use pg_support::{URL, exec, scratch};

fn workspace() -> Ws {
    Ws::new(&format!(
        r#"
[sources.pg]
kind = "postgres"
url = "{URL}"

[stores.lake]
kind = "local"
path = "./lake"
"#
    ))
}

/// Drops a table outside the test's schema, even when the test panics.
struct DropLater(String);

impl Drop for DropLater {
    fn drop(&mut self) {
        let sql = format!("DROP TABLE IF EXISTS {}", self.0);
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::postgres::PgConnection::connect(URL).await {
                    exec(&mut c, &sql).await;
                }
            })
        })
        .join();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dotted_name_is_one_table_or_refused_never_another_table() {
    let Some(mut db) = scratch("dotted").await else {
        return;
    };
    let s = db.schema.clone();
    let q = db.q();
    db.exec(&format!(
        r#"CREATE TABLE {q}."a.b" (id int); INSERT INTO {q}."a.b" VALUES (1), (2);"#
    ))
    .await;
    // What `S.a.b` used to become: the default schema and the parts run together.
    let decoy = format!(r#"public."{s}ab""#);
    let _decoy = DropLater(decoy.clone());
    db.exec(&format!(
        "CREATE TABLE {decoy} (id int); INSERT INTO {decoy} VALUES (99);"
    ))
    .await;

    let ws = workspace();
    let export = |table: &str, path: &str| {
        ws.run(&[
            "export", "pg", table, "--store", "lake", "--path", path, "--format", "ndjson",
        ])
    };
    let refused = [
        (format!("{s}.a.b"), "has 3 dot-separated parts"),
        (format!("{s}.a.b.c"), "has 4 dot-separated parts"),
        (format!("\"{s}.a.b"), "a quote is not closed"),
        (format!("{s}.\"a.b"), "a quote is not closed"),
        (format!("{s}.nope"), "no table or view"),
    ];
    for (i, (table, says)) in refused.iter().enumerate() {
        let path = format!("refused{i}.ndjson");
        let (code, out, err) = export(table, &path);
        assert_eq!(code, 2, "{table}: {out}{err}");
        assert!(err.contains(says), "{table}: {err}");
        assert!(err.contains(table.as_str()), "names it: {err}");
        assert!(!ws.exists(&format!("lake/{path}")), "{table} wrote a file");
    }
    // Refused before any run was made.
    let runs = ws.status(None)["runs"].as_array().map_or(0, Vec::len);
    assert_eq!(runs, 0);

    let (code, _, err) = export(&format!("{s}.\"a.b\""), "ok.ndjson");
    assert_eq!(code, 0, "{err}");
    let text = ws.read("lake/ok.ndjson");
    assert_eq!(text.lines().count(), 2, "the table \"a.b\" itself: {text}");
    assert!(!text.contains("99"), "{text}");
}

fn fan_out_workspace(include: &[String], table: &str) -> String {
    let include: Vec<String> = include.iter().map(|g| format!("{g:?}")).collect();
    format!(
        r#"
[sources.pg]
kind = "postgres"
url = "{URL}"

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
source = "pg"
store = "lake"
prefix = "raw/"
format = "ndjson"
include = [{}]

[[pipelines.p.tasks]]
id = "load"
kind = "load"
from = "dump"
warehouse = "wh"
table = "{table}"
"#,
        include.join(", ")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_that_would_share_a_warehouse_table_are_refused_when_the_run_is_made() {
    let (Some(mut a), Some(mut b)) = (scratch("brk_a").await, scratch("brk_b").await) else {
        return;
    };
    let (qa, qb) = (a.q(), b.q());
    a.exec(&format!(
        r#"CREATE TABLE {qa}.users (id int); INSERT INTO {qa}.users SELECT generate_series(1, 3);
           CREATE TABLE {qa}."Users" (id int); INSERT INTO {qa}."Users" VALUES (42);"#
    ))
    .await;
    b.exec(&format!(
        "CREATE TABLE {qb}.users (id int); INSERT INTO {qb}.users SELECT generate_series(1, 5);"
    ))
    .await;
    let (sa, sb) = (a.schema.clone(), b.schema.clone());
    let users = [format!("{sa}.users"), format!("{sb}.users")];

    // One name for both schemas' users: refused, naming them, nothing done.
    let ws = Ws::new(&fan_out_workspace(&users, "raw_{table}"));
    let (code, _, err) = ws.run(&["run", "p"]);
    assert_eq!(code, 2, "refused: {err}");
    assert!(
        err.contains(&format!(
            "source tables {sa}.users, {sb}.users into one warehouse table, `raw_users`"
        )),
        "{err}"
    );
    assert!(err.contains("put {schema} in its `table`"), "{err}");
    assert!(!ws.exists("lake"), "nothing was exported");
    assert_eq!(ws.status(None)["runs"].as_array().map_or(0, Vec::len), 0);

    // With {schema}, each lands in its own table.
    ws.write(
        "switchyard.toml",
        &fan_out_workspace(&users, "raw_{schema}_{table}"),
    );
    let (code, _, err) = ws.run(&["run", "p"]);
    assert_eq!(code, 0, "{err}");
    let wh = ws.path().join("wh.db");
    assert_eq!(
        common::sqlite(&wh, &format!("select count(*) from \"raw_{sa}_users\"")),
        "3"
    );
    assert_eq!(
        common::sqlite(&wh, &format!("select count(*) from \"raw_{sb}_users\"")),
        "5"
    );

    // `Users` and `users` are one table name to SQLite.
    ws.write(
        "switchyard.toml",
        &fan_out_workspace(&[format!("{sa}.*")], "raw_{schema}_{table}"),
    );
    let (code, _, err) = ws.run(&["run", "p"]);
    assert_eq!(code, 2, "refused: {err}");
    assert!(
        err.contains(&format!(
            "source tables {sa}.Users, {sa}.users into one warehouse table"
        )),
        "{err}"
    );
    assert!(
        err.contains("does not tell table names apart by case"),
        "{err}"
    );
    assert_eq!(
        common::sqlite(&wh, &format!("select count(*) from \"raw_{sa}_users\"")),
        "3",
        "the refused run loaded nothing"
    );
}
