//! The state store's disk fills up: the run stops saying so (not with
//! "attempted to call begin_with at non-zero transaction depth"), the failed
//! transaction is rolled back without leaving its connection in a
//! transaction, and once there is room again the store is consistent and
//! every write works. The store lives on a small tmpfs, which needs root.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Bg, Ws, wait_until};
use switchyard::engine::store::Store;

/// A tmpfs of `size` mounted on a fresh directory, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// None (after `live::missing`) when not root, which mounting needs;
    /// under CI a failure.
    fn mount(size: &str) -> Option<Tmpfs> {
        // SAFETY: plain syscall without arguments.
        if unsafe { libc::geteuid() } != 0 {
            common::live::missing(
                "tmpfs",
                "root",
                "mounting a small tmpfs for the state store needs root",
            );
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount");
        assert!(ok.success(), "mount -t tmpfs failed");
        Some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn filler(&self) -> PathBuf {
        self.path().join("filler")
    }

    /// Writes a file until the disk is full.
    fn fill(&self) {
        let mut f = std::fs::File::create(self.filler()).expect("create filler");
        let chunk = vec![0u8; 16 * 1024];
        while f.write_all(&chunk).is_ok() {}
        // The last partial chunk may have gone in: the disk is full now.
        let _ = f.sync_all();
    }

    fn free(&self) {
        std::fs::remove_file(self.filler()).expect("remove filler");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Writes one journal row of `note_bytes` in a transaction of its own.
async fn write_row(store: &Store, note_bytes: usize) -> anyhow::Result<()> {
    let mut tx = store.begin().await?;
    sqlx::query(
        "INSERT INTO journal (at, who, action, tasks, detail) VALUES (1, 'test', 'note', '[]', ?)",
    )
    .bind("x".repeat(note_bytes))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn integrity(store: &Store) -> String {
    sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(store.pool())
        .await
        .expect("integrity_check")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn a_failed_commit_leaves_no_connection_in_a_transaction() {
    let Some(disk) = Tmpfs::mount("600k") else {
        return;
    };
    runtime().block_on(async {
        let store = Store::open(&disk.path().join("state.db"))
            .await
            .expect("open store");
        disk.fill();
        // Several transactions, so that every pooled connection sees one fail.
        for _ in 0..6 {
            let e = write_row(&store, 200_000)
                .await
                .expect_err("a 200 kB write cannot fit on a full disk");
            assert!(
                format!("{e:#}").contains("database or disk is full"),
                "the real cause, not a follow-on error: {e:#}"
            );
        }
        disk.free();
        for i in 0..8 {
            if let Err(e) = write_row(&store, 100).await {
                panic!("write {i} after space was freed failed: {e:#}");
            }
        }
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM journal")
            .fetch_one(store.pool())
            .await
            .expect("count");
        assert_eq!(rows, 8, "only the writes after freeing space are there");
        assert_eq!(integrity(&store).await, "ok");
        store.pool().close().await;
    });
}

#[test]
fn a_run_on_a_full_disk_names_the_cause_and_the_store_recovers() {
    // Big enough that freeing the filler leaves room to checkpoint the WAL.
    let Some(disk) = Tmpfs::mount("8m") else {
        return;
    };
    let state = disk.path().join("state.db");
    let ws = Ws::new(&format!(
        r#"
[workspace]
state = "{}"

[pipelines.p]
[[pipelines.p.tasks]]
id = "a"
kind = "command"
command = "sh wait_flag.sh go; i=0; while [ $i -lt 4000 ]; do echo \"line $i of a log long enough to need room in the store\"; i=$((i+1)); done; sh wait_flag.sh end"

[[pipelines.p.tasks]]
id = "b"
kind = "command"
after = ["a"]
command = "echo b"
"#,
        state.display()
    ));
    ws.install_scripts();
    let mut run = Bg::new(ws.spawn(&["run", "p", "--date", "2026-03-01"]));
    wait_until(Duration::from_secs(30), "task a running", || {
        ws.try_task_state("latest", "a").as_deref() == Some("running")
    });
    disk.fill();
    ws.touch("go");
    let (code, _, err) = run.wait(Duration::from_secs(90));
    assert_ne!(
        code, 0,
        "the run cannot have succeeded on a full disk: {err}"
    );
    assert!(
        err.contains("database or disk is full") && err.contains(&state.display().to_string()),
        "the error should say the store's disk is full, naming it: {err}"
    );
    assert!(
        !err.contains("transaction depth"),
        "a follow-on error hid the cause: {err}"
    );

    disk.free();
    runtime().block_on(async {
        let store = Store::open(&state).await.expect("reopen store");
        assert_eq!(integrity(&store).await, "ok");
        store.pool().close().await;
    });
    // The dead owner's run is settled truthfully, and it carries on.
    assert_eq!(ws.run_state("latest"), "failed");
    assert_eq!(ws.task_state("latest", "a"), "interrupted");
    ws.touch("end");
    let (code, out, err) = ws.run_within(Duration::from_secs(60), &["rerun", "latest", "--failed"]);
    assert_eq!(code, 0, "rerun after freeing space failed: {out}\n{err}");
    assert_eq!(ws.run_state("latest"), "succeeded");
}
