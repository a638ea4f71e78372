//! A partitioned export never opens more connections than the pool slots it
//! holds: `partitions = 40` in a pool of 4 reads with 4 connections, which a
//! role limited to 4 connections allows; `check` warns about the mismatch.

mod common;
mod pg_support;

use std::time::Duration;

use common::Ws;
use pg_support::{URL, scratch};
use sqlx::{AssertSqlSafe, Connection};

const ROWS: i64 = 20_000;

/// A login role of the test's own, dropped afterwards (even on panic).
struct Role(String);

impl Drop for Role {
    fn drop(&mut self) {
        let sql = format!("DROP OWNED BY \"{0}\"; DROP ROLE IF EXISTS \"{0}\"", self.0);
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(mut c) = sqlx::postgres::PgConnection::connect(URL).await {
                    let _ = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut c).await;
                }
            })
        })
        .join();
    }
}

fn workspace(role: &str, schema: &str) -> String {
    format!(
        r#"
[sources.app]
kind = "postgres"
url = "postgres://{role}@127.0.0.1:5432/test"

[stores.lake]
path = "lake"

[pools.replica]
size = 4

[pipelines.p]
[[pipelines.p.tasks]]
id = "big"
kind = "export"
source = "app"
table = "{schema}.big"
store = "lake"
path = "big.ndjson"
format = "ndjson"
pool = "replica"
partitions = 40
"#
    )
}

#[test]
fn a_partitioned_export_opens_no_more_connections_than_its_slots() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let Some(mut db) = rt.block_on(scratch("poolconn")) else {
        return;
    };
    let role = Role(format!("sy_poolconn_{}", std::process::id()));
    let q = db.q();
    rt.block_on(db.exec(&format!(
        "CREATE TABLE {q}.big (id int8 PRIMARY KEY, payload text);
         INSERT INTO {q}.big SELECT i, repeat('p', 100) FROM generate_series(1, {ROWS}) i;
         CREATE ROLE \"{r}\" LOGIN CONNECTION LIMIT 4;
         GRANT USAGE ON SCHEMA {q} TO \"{r}\";
         GRANT SELECT ON {q}.big TO \"{r}\";",
        r = role.0
    )));
    // More heap pages than partitions, so all 40 ranges are real.
    let pages: i64 = rt.block_on(async {
        sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT (pg_relation_size('{q}.big') / current_setting('block_size')::int8)::int8"
        )))
        .fetch_one(&mut db.conn)
        .await
        .expect("pages")
    });
    assert!(pages > 40, "the table has only {pages} pages");

    let ws = Ws::new(&workspace(&role.0, &db.schema));
    let (code, out, err) = ws.run_within(
        Duration::from_secs(120),
        &["run", "p", "--date", "2026-05-01"],
    );
    let (_, log, _) = ws.run(&["logs", "latest", "big"]);
    assert_eq!(
        code, 0,
        "the export needed more connections than its 4 slots:\n{out}\n{err}\n{log}"
    );
    assert!(log.contains("partitions = 40 read as 4"), "{log}");
    let exported = ws.read("lake/big.ndjson");
    assert_eq!(exported.lines().count() as i64, ROWS, "every row once");
}

#[test]
fn check_warns_when_partitions_exceed_the_pool() {
    let ws = Ws::new(&workspace("someone", "public"));
    let (code, out, err) = ws.run(&["check"]);
    assert_eq!(code, 0, "a warning is not a problem: {out}{err}");
    assert!(
        out.contains(
            "switchyard.toml:22:14: warning: `partitions = 40` is more than pool `replica` holds (size 4)"
        ),
        "check should warn at the `partitions` value: {out}"
    );
    let (code, out, _) = ws.run(&["check", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["ok"], true);
    assert_eq!(v["warnings"][0]["line"], 22, "{v}");
    assert_eq!(v["warnings"][0]["col"], 14, "{v}");

    // Within the pool's size: nothing to say.
    let fits = workspace("someone", "public").replace("partitions = 40", "partitions = 4");
    let (_, out, _) = Ws::new(&fits).run(&["check"]);
    assert!(!out.contains("warning"), "{out}");
}
