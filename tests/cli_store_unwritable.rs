//! A state store this user cannot write (read-only file and directory, as
//! when the store belongs to the cron user): commands that read work on it
//! without `--readonly`, commands that write refuse with a clear message, and
//! nothing in the store changes.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use common::Ws;
use switchyard::engine::store::Store;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

const WS: &str = r#"
[pools.replica]
size = 2

[pipelines.p]
[[pipelines.p.tasks]]
id = "a"
kind = "command"
command = "echo hello from a"
"#;

/// Root writes whatever the mode bits say: as root, the commands under test
/// run as `nobody`, for whom the bits hold.
const NOBODY: u32 = 65534;

fn is_root() -> bool {
    // SAFETY: plain syscall without arguments.
    unsafe { libc::geteuid() == 0 }
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// Makes the workspace readable by everyone and its state store (directory
/// and every file in it) read-only.
fn make_store_readonly(ws: &Ws) {
    chmod(ws.path(), 0o755);
    chmod(&ws.file(), 0o644);
    let dir = ws.path().join(".switchyard");
    for entry in std::fs::read_dir(&dir).expect("state dir") {
        chmod(&entry.expect("entry").path(), 0o444);
    }
    chmod(&dir, 0o555);
}

/// Gives the workspace back to its owner, so the temp dir can be removed.
fn make_store_writable(ws: &Ws) {
    let dir = ws.path().join(".switchyard");
    chmod(&dir, 0o755);
    for entry in std::fs::read_dir(&dir).expect("state dir") {
        chmod(&entry.expect("entry").path(), 0o644);
    }
}

fn run_unprivileged(ws: &Ws, args: &[&str]) -> (i32, String, String) {
    let mut c: Command = ws.cmd(args);
    if is_root() {
        c.uid(NOBODY).gid(NOBODY);
    }
    let out = c.output().expect("run switchyard");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every file of the state store with its bytes.
fn snapshot(ws: &Ws) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(ws.path().join(".switchyard"))
        .expect("state dir")
        .map(|e| {
            let p = e.expect("entry").path();
            let bytes = std::fs::read(&p).expect("read store file");
            (p.display().to_string(), bytes)
        })
        .collect();
    files.sort();
    files
}

fn assert_reads_and_refuses_writes(ws: &Ws) {
    let before = snapshot(ws);

    let (code, out, err) = run_unprivileged(ws, &["status", "--json"]);
    assert_eq!(code, 0, "status on a read-only store failed: {err}");
    let status: serde_json::Value = serde_json::from_str(&out).expect("status json");
    assert_eq!(status["runs"][0]["state"], "succeeded", "{status}");
    assert_eq!(status["runs"][0]["tasks"][0]["id"], "a", "{status}");

    let (code, out, err) = run_unprivileged(ws, &["status"]);
    assert_eq!(code, 0, "plain status failed: {err}");
    assert!(out.contains("succeeded"), "{out}");

    let (code, out, err) = run_unprivileged(ws, &["logs", "latest", "a"]);
    assert_eq!(code, 0, "logs failed: {err}");
    assert!(out.contains("hello from a"), "{out}");

    let (code, _, err) = run_unprivileged(ws, &["run", "p", "--date", "2026-06-02"]);
    assert_eq!(code, 2, "a run on a read-only store must be refused: {err}");
    assert!(
        err.contains("cannot be written by this user") && err.contains("state.db"),
        "the refusal should name the store and why: {err}"
    );

    assert_eq!(snapshot(ws), before, "a reading command changed the store");
}

#[test]
fn reading_commands_work_on_a_store_they_cannot_write() {
    let ws = Ws::new(WS);
    let (code, _, err) = ws.run(&["run", "p", "--date", "2026-06-01"]);
    assert_eq!(code, 0, "{err}");
    // As while the store's owner has it open: a write-ahead log with
    // commits not yet checkpointed, and its index, beside the store.
    runtime().block_on(async {
        let store = Store::open(&ws.path().join(".switchyard/state.db"))
            .await
            .expect("open store");
        sqlx::query(
            "INSERT INTO journal (at, who, action, tasks) VALUES (1, 'test', 'note', '[]')",
        )
        .execute(store.pool())
        .await
        .expect("write");
        // Never closed: closing the last connection would checkpoint the log.
        std::mem::forget(store);
    });
    assert!(ws.exists(".switchyard/state.db-wal"), "expected a WAL file");

    make_store_readonly(&ws);
    assert_reads_and_refuses_writes(&ws);
    make_store_writable(&ws);
}

#[test]
fn reading_commands_work_on_a_checkpointed_store_in_a_readonly_directory() {
    let ws = Ws::new(WS);
    let (code, _, err) = ws.run(&["run", "p", "--date", "2026-06-01"]);
    assert_eq!(code, 0, "{err}");
    // Closing the last connection checkpoints the WAL into the file and
    // removes it: then a read-only directory cannot hold a new WAL index.
    runtime().block_on(async {
        let store = Store::open(&ws.path().join(".switchyard/state.db"))
            .await
            .expect("open store");
        store.pool().close().await;
    });
    assert!(
        !ws.exists(".switchyard/state.db-wal"),
        "WAL not checkpointed"
    );

    make_store_readonly(&ws);
    assert_reads_and_refuses_writes(&ws);
    make_store_writable(&ws);
}
