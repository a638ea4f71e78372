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
