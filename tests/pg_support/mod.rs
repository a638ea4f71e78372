//! Helpers for live PostgreSQL tests: the server on 127.0.0.1:5432 (user
//! postgres, trust auth, database `test`). Unreachable: the test fails under
//! CI and its skip is recorded otherwise (`live::missing`). Each test works in a schema of
//! its own, dropped afterwards (even when the test panics).
#![allow(dead_code)]

// The same file as `common::live` (a binary may include both).
#[allow(clippy::duplicate_mod)]
#[path = "../common/live.rs"]
pub mod live;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection};
use switchyard::connectors::source::postgres::PostgresSource;
use switchyard::connectors::source::{
    ExportInput, ExportMsg, ExportOptions, ExportStats, ProgressFn, Source,
};

pub const URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A schema of the test's own, dropped when this goes out of scope.
pub struct Scratch {
    pub schema: String,
    pub conn: PgConnection,
}

static SEQ: AtomicU64 = AtomicU64::new(0);

/// Connects, or returns None after `live::missing` (which panics under CI).
pub async fn scratch(test: &str) -> Option<Scratch> {
    let mut conn = match PgConnection::connect(URL).await {
        Ok(c) => c,
        Err(e) => {
            live::missing(test, "PostgreSQL (127.0.0.1:5432)", &e.to_string());
            return None;
        }
    };
    let schema = format!(
        "sy_{test}_{}_{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    exec(&mut conn, &format!("CREATE SCHEMA \"{schema}\"")).await;
    Some(Scratch { schema, conn })
}

pub async fn exec(conn: &mut PgConnection, sql: &str) {
    sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
        .execute(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

impl Scratch {
    pub async fn exec(&mut self, sql: &str) {
        exec(&mut self.conn, sql).await
    }

    /// `"schema".` prefix for SQL.
    pub fn q(&self) -> String {
        format!("\"{}\"", self.schema)
    }

    pub async fn source(&self) -> PostgresSource {
        PostgresSource::connect(URL).await.expect("connect source")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Async drop is not a thing: a thread with its own runtime cleans up.
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.schema);
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(mut c) = PgConnection::connect(URL).await {
                    let _ = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut c).await;
                }
            })
        })
        .join();
    }
}

pub struct Exported {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub stats: ExportStats,
    /// Every (rows, bytes) progress report, in order.
    pub progress: Vec<(i64, i64)>,
}

/// Runs an export into a channel drained by a consumer task.
pub async fn export(
    src: &PostgresSource,
    input: ExportInput,
    opts: ExportOptions,
) -> anyhow::Result<Exported> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let consumer = tokio::spawn(async move {
        let (mut schema, mut batches) = (None, Vec::new());
        while let Some(msg) = rx.recv().await {
            match msg {
                ExportMsg::Schema(s) => {
                    assert!(schema.is_none(), "one schema message");
                    schema = Some(s);
                }
                ExportMsg::Batch(b) => {
                    let s = schema.as_ref().expect("schema before batches");
                    assert_eq!(&b.schema(), s, "batches carry the announced schema");
                    batches.push(b);
                }
            }
        }
        (schema, batches)
    });
    let reports = Arc::new(std::sync::Mutex::new(Vec::new()));
    let r = reports.clone();
    let progress: ProgressFn = Arc::new(move |rows, bytes| {
        r.lock().expect("lock").push((rows, bytes));
    });
    let stats = src.export(&input, &opts, tx, progress).await;
    let (schema, batches) = consumer.await.expect("consumer");
    let stats = stats?;
    let progress = reports.lock().expect("lock").clone();
    Ok(Exported {
        schema: schema.expect("a schema was sent"),
        batches,
        stats,
        progress,
    })
}

/// The only batch (value checks export with batch_rows above the row count).
pub fn only(e: &Exported) -> &RecordBatch {
    assert_eq!(e.batches.len(), 1, "one batch expected");
    &e.batches[0]
}

/// A column of every batch, by name, mapped value by value (None for NULL).
pub fn values<T>(
    e: &Exported,
    column: &str,
    f: impl Fn(&dyn arrow_array::Array, usize) -> T,
) -> Vec<Option<T>> {
    let mut out = Vec::new();
    for b in &e.batches {
        let a = b.column_by_name(column).expect("column");
        for i in 0..a.len() {
            out.push((!a.is_null(i)).then(|| f(a.as_ref(), i)));
        }
    }
    out
}
