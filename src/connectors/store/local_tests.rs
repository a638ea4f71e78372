use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

/// Set on the child process that plays a writer killed with SIGKILL.
const CHILD_ROOT_ENV: &str = "SWITCHYARD_TEST_KILLED_WRITER_ROOT";
const CHILD_TEST: &str = "connectors::store::local::tests::child_writer_for_kill_test";

fn store() -> (tempfile::TempDir, LocalStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("lake"));
    (dir, store)
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[tokio::test]
async fn commit_publishes_under_the_final_name() {
    let (_dir, store) = store();
    let mut w = store.create("users/2024-01-01.parquet").unwrap();
    w.write_all(b"hello ").unwrap();
    w.write_all(b"world").unwrap();
    let files = files_under(store.root());
    assert_eq!(files.len(), 1);
    assert!(
        files[0].starts_with("users/2024-01-01.parquet."),
        "{files:?}"
    );
    assert!(files[0].ends_with(".partial"), "{files:?}");

    assert_eq!(w.commit().unwrap(), 11);
    assert_eq!(files_under(store.root()), vec!["users/2024-01-01.parquet"]);
    let copy = store.fetch("users/2024-01-01.parquet").await.unwrap();
    assert_eq!(copy.path, store.root().join("users/2024-01-01.parquet"));
    assert_eq!(fs::read(&copy.path).unwrap(), b"hello world");

    // A second writer replaces the object atomically.
    let mut w = store.create("users/2024-01-01.parquet").unwrap();
    w.write_all(b"v2").unwrap();
    w.commit().unwrap();
    assert_eq!(fs::read(&copy.path).unwrap(), b"v2");
}

#[test]
fn a_relative_root_works() {
    let dir = tempfile::tempdir().unwrap();
    // A child process, so changing directory does not race other tests.
    if std::env::var_os("SWITCHYARD_TEST_RELATIVE_ROOT").is_none() {
        let status = Command::new(std::env::current_exe().unwrap())
            .args([
                "connectors::store::local::tests::a_relative_root_works",
                "--exact",
            ])
            .env("SWITCHYARD_TEST_RELATIVE_ROOT", dir.path())
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        assert!(dir.path().join("lake/new/dir/x.csv").is_file());
        return;
    }
    std::env::set_current_dir(std::env::var_os("SWITCHYARD_TEST_RELATIVE_ROOT").unwrap()).unwrap();
    let store = LocalStore::new(PathBuf::from("lake"));
    let mut w = store.create("new/dir/x.csv").unwrap();
    w.write_all(b"1").unwrap();
    w.commit().unwrap();
}

#[test]
fn drop_without_commit_leaves_nothing() {
    let (_dir, store) = store();
    let mut w = store.create("a/b/c.ndjson").unwrap();
    w.write_all(&vec![b'x'; 3 << 20]).unwrap();
    drop(w);
    assert!(files_under(store.root()).is_empty());
}

#[test]
fn concurrent_writers_of_one_path_do_not_share_a_file() {
    let (_dir, store) = store();
    let mut a = store.create("x.csv").unwrap();
    let mut b = store.create("x.csv").unwrap();
    a.write_all(b"aaaa").unwrap();
    b.write_all(b"bb").unwrap();
    a.commit().unwrap();
    assert_eq!(fs::read(store.root().join("x.csv")).unwrap(), b"aaaa");
    b.commit().unwrap();
    assert_eq!(fs::read(store.root().join("x.csv")).unwrap(), b"bb");
    assert_eq!(files_under(store.root()), vec!["x.csv"]);
}

#[tokio::test]
async fn paths_cannot_escape_the_root() {
    let (_dir, store) = store();
    for bad in ["../x", "a/../../x", "a/..", "/etc/passwd", "", ".", "a\0b"] {
        let err = store.create(bad).err().unwrap_or_else(|| panic!("{bad:?}"));
        let msg = err.to_string();
        assert!(
            msg.contains("..")
                || msg.contains("absolute")
                || msg.contains("empty")
                || msg.contains("NUL"),
            "{bad:?}: {msg}"
        );
        assert!(store.fetch(bad).await.is_err(), "{bad:?}");
        assert!(store.delete(bad).await.is_err(), "{bad:?}");
    }
    assert!(store.list("../").await.is_err());
    assert!(store.list("/tmp/").await.is_err());
    let err = store.create("x.partial").err().unwrap();
    assert!(err.to_string().contains("reserved"), "{err}");
    // `.` and doubled slashes are harmless.
    store.create("./a//b.csv").unwrap().commit().unwrap();
    assert!(store.root().join("a/b.csv").is_file());
}

#[tokio::test]
async fn list_is_a_folder_listing() {
    let (_dir, store) = store();
    assert!(
        store.list("").await.unwrap().is_empty(),
        "missing root lists empty"
    );
    for (path, body) in [
        ("top.csv", &b"12345"[..]),
        ("users/2024-01-01.parquet", b"1"),
        ("users/2024-01-02.parquet", b"22"),
        ("users/archive/old.parquet", b"333"),
    ] {
        let mut w = store.create(path).unwrap();
        w.write_all(body).unwrap();
        w.commit().unwrap();
    }
    let _in_flight = store.create("users/2024-01-03.parquet").unwrap();

    let root = store.list("").await.unwrap();
    let shape: Vec<(&str, u64, bool)> = root
        .iter()
        .map(|o| (o.path.as_str(), o.size, o.is_prefix))
        .collect();
    assert_eq!(shape, vec![("top.csv", 5, false), ("users/", 0, true)]);
    assert!(
        root[0].modified.unwrap() > 1_600_000_000_000,
        "ms since epoch"
    );
    assert_eq!(root[1].modified, None);

    let users = store.list("users/").await.unwrap();
    let paths: Vec<&str> = users.iter().map(|o| o.path.as_str()).collect();
    let in_flight = format!("users/2024-01-03.parquet.{}-", std::process::id());
    assert_eq!(paths.len(), 4, "{paths:?}");
    assert_eq!(
        paths[..2],
        ["users/2024-01-01.parquet", "users/2024-01-02.parquet"]
    );
    assert!(paths[2].starts_with(&in_flight), "{paths:?}");
    assert_eq!(paths[3], "users/archive/");
    assert_eq!(users[1].size, 2);
    assert_eq!(users[0].partial, None);
    // The file being written is listed as such: its writer (this process) lives.
    let being_written = users[2].partial.as_ref().expect("marked partial");
    assert_eq!(being_written.pid, Some(std::process::id()));
    assert_eq!(
        being_written.writer,
        crate::connectors::store::Writer::Alive
    );

    let started: Vec<String> = store
        .list("users/2024-01-0")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.path)
        .collect();
    assert_eq!(started.len(), 3, "{started:?}");
    assert_eq!(
        started[..2],
        ["users/2024-01-01.parquet", "users/2024-01-02.parquet"]
    );
    assert!(started[2].starts_with(&in_flight), "{started:?}");
    assert!(store.list("nothing/here/").await.unwrap().is_empty());

    store.delete("users/2024-01-01.parquet").await.unwrap();
    store.delete("users/2024-01-01.parquet").await.unwrap();
    assert_eq!(store.list("users/").await.unwrap().len(), 3);
    assert!(store.fetch("users/2024-01-01.parquet").await.is_err());
    assert!(
        store.fetch("users/").await.is_err(),
        "a prefix is not an object"
    );
}

/// Plays the writer for `a_writer_killed_midway_publishes_nothing`: writes
/// without end, never commits. Does nothing in a normal test run.
#[test]
fn child_writer_for_kill_test() {
    let Ok(root) = std::env::var(CHILD_ROOT_ENV) else {
        return;
    };
    let store = LocalStore::new(PathBuf::from(root));
    let mut w = store.create("big/export.parquet").unwrap();
    let chunk = vec![7u8; 64 * 1024];
    for _ in 0..16 {
        w.write_all(&chunk).unwrap();
    }
    w.flush().unwrap();
    println!("WRITER STARTED");
    std::io::stdout().flush().unwrap();
    // Bounded, in case the parent never kills us: ~30 s, ~200 MiB at most.
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        w.write_all(&chunk).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    std::process::exit(3); // never commits, never runs Drop
}

#[tokio::test]
async fn a_writer_killed_midway_publishes_nothing() {
    let (_dir, store) = store();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([CHILD_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ROOT_ENV, store.root())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let started = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|l| l.contains("WRITER STARTED"));
    assert!(started, "the child writer never started");
    std::thread::sleep(Duration::from_millis(100));
    let partial = files_under(store.root());
    assert_eq!(partial.len(), 1, "{partial:?}");
    assert!(partial[0].ends_with(".partial"));

    child.kill().unwrap(); // SIGKILL: no Drop, no cleanup
    let status = child.wait().unwrap();
    assert!(!status.success());

    assert!(!store.root().join("big/export.parquet").exists());
    assert!(store.fetch("big/export.parquet").await.is_err());
    // The orphaned partial is listed as left behind by a dead writer...
    let listed = store.list("big/").await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let left = listed[0].partial.as_ref().expect("marked partial");
    assert_eq!(left.pid, Some(child.id()));
    assert_eq!(left.writer, crate::connectors::store::Writer::Dead);

    // ...and the store's next write, anywhere in it, removes it.
    let mut w = store.create("elsewhere/next.csv").unwrap();
    w.write_all(b"x").unwrap();
    w.commit().unwrap();
    assert_eq!(files_under(store.root()), vec!["elsewhere/next.csv"]);

    // Later ones go when their directory is next written.
    let dead = store
        .root()
        .join(format!("big/export.parquet.{}-9.partial", child.id()));
    fs::write(&dead, b"left").unwrap();
    let live = store.root().join(partial::partial_name("live.parquet", 99));
    fs::write(&live, b"mine").unwrap();
    let far = store.root().join(format!(
        "big/far.parquet.{}-0@elsewhere.partial",
        child.id()
    ));
    fs::write(&far, b"theirs").unwrap();
    let mut w = store.create("big/export.parquet").unwrap();
    w.write_all(b"done").unwrap();
    w.commit().unwrap();
    assert!(!dead.exists(), "a dead writer's partial stays");
    assert!(live.exists(), "a live writer's partial was removed");
    assert!(far.exists(), "another host's partial was judged here");
}

#[tokio::test]
async fn a_fetched_file_is_known_by_the_sha256_of_its_bytes() {
    let (_dir, store) = store();
    let put = |path: &str, bytes: &[u8]| {
        let mut w = store.create(path).unwrap();
        w.write_all(bytes).unwrap();
        w.commit().unwrap();
    };
    put("abc.csv", b"abc");
    let digest = store.fetch("abc.csv").await.unwrap().sha256().unwrap();
    // FIPS 180-2's example.
    assert_eq!(
        digest,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    // Several reads' worth, and one byte changed at the far end.
    let mut big = vec![7u8; (1 << 20) * 3 + 5];
    put("big.bin", &big);
    let first = store.fetch("big.bin").await.unwrap().sha256().unwrap();
    let whole: String = {
        use sha2::{Digest, Sha256};
        Sha256::digest(&big)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    assert_eq!(first, whole);
    *big.last_mut().unwrap() = 8;
    put("big.bin", &big);
    assert_ne!(
        store.fetch("big.bin").await.unwrap().sha256().unwrap(),
        first
    );
}
