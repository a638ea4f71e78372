//! What the benchmarks share.
#![allow(dead_code)] // each benchmark uses a part of it

/// The median and the 99th percentile of some timings.
pub fn percentiles(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    let at = |p: f64| v[((v.len() - 1) as f64 * p) as usize];
    (at(0.5), at(0.99))
}

/// A fresh, empty PostgreSQL database on `server` (`postgres://user@host:port`,
/// no database), named `name`: dropped first if a run before left it.
pub async fn fresh_pg_database(server: &str, name: &str) -> anyhow::Result<String> {
    use sqlx::{Connection, Executor};
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .await?;
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .await?;
    Ok(format!("{server}/{name}"))
}

/// The PostgreSQL server benchmarks use: `SWITCHYARD_BENCH_PG`, or the
/// machine's own as `postgres`.
pub fn pg_server() -> String {
    std::env::var("SWITCHYARD_BENCH_PG")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".into())
}
