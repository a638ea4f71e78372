//! Memory stays bounded when a large export streams to S3: a query of about
//! 2 GB of incompressible Parquet is exported with the real binary to the
//! local S3 server, and the process's peak RSS (from wait4, as the export
//! bench measures it) must stay under 200 MB. It takes minutes, so it is not
//! in the normal test run:
//!
//! ```text
//! # with the S3 server that scripts/test starts, or one of your own:
//! target/venv-s3/bin/moto_server -H 127.0.0.1 -p 45123 &
//! SWITCHYARD_TEST_S3_ENDPOINT=http://127.0.0.1:45123 \
//!   cargo test --test store_s3_memory -- --ignored --nocapture
//! # SWITCHYARD_MEM_ROWS=1000000 for a quicker, smaller run (~135 bytes a row)
//! ```

mod common;
mod s3_support;

use std::process::Stdio;
use std::time::Instant;

use common::Ws;
use s3_support as s3;

const LIMIT_MB: i64 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes long: run with --ignored (see the file's doc)"]
async fn a_2gb_export_to_s3_stays_under_200mb_rss() {
    let Some(ep) = s3::endpoint("s3_memory") else {
        return;
    };
    let rows: u64 = std::env::var("SWITCHYARD_MEM_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16_000_000);
    let c = s3::client(&ep);
    let bucket = s3::bucket(&c, "memory").await;
    // 128 random bytes and an id a row: zstd cannot shrink it, so the file
    // is about as large as the data.
    let payload = (0..8)
        .map(|k| format!("md5((i * {}) :: text)", 2 * k + 1))
        .collect::<Vec<_>>()
        .join(" || ");
    let ws = Ws::new(&format!(
        "[sources.pg]\nkind = \"postgres\"\nurl = \"postgres://postgres@127.0.0.1:5432/test\"\n\
         {}\
         [pipelines.p]\n[[pipelines.p.tasks]]\nid = \"big\"\nkind = \"export\"\nsource = \"pg\"\n\
         store = \"s3\"\npath = \"big.parquet\"\n\
         query = \"select i::int8 as id, decode({payload}, 'hex') as payload from generate_series(1, {rows}) i\"\n",
        s3::store_toml("s3", &ep, &bucket, "")
    ));
    let mut cmd = ws.cmd(&["run", "p"]);
    s3::s3_env(&mut cmd);
    let start = Instant::now();
    // Reaped below by wait4, which also reports the peak RSS.
    let pid = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn")
        .id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: wait4 on our own child, with valid out-pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(rc, pid);
    let state = ws.task_state("latest", "big");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "export failed ({state}): {}",
        ws.status(Some("latest"))
    );
    let head = c
        .head_object()
        .bucket(&bucket)
        .key("big.parquet")
        .send()
        .await
        .expect("the object exists");
    let size = head.content_length().unwrap_or(0);
    let parts = s3::parts_of(&c, &bucket, "big.parquet").await;
    let rss_mb = usage.ru_maxrss / 1024;
    println!(
        "exported {rows} rows, {:.2} GB in {parts} parts to S3 in {secs:.0} s; peak RSS {rss_mb} MB",
        size as f64 / 1e9
    );
    // Free the server's disk.
    let _ = c
        .delete_object()
        .bucket(&bucket)
        .key("big.parquet")
        .send()
        .await;
    assert!(
        rss_mb < LIMIT_MB,
        "peak RSS {rss_mb} MB, limit {LIMIT_MB} MB"
    );
}
