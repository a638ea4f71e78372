//! The README's first two commands: `switchyard demo --run` writes and runs
//! the demo, fails once, and prints the 3 a.m. drill; the drill's commands,
//! run exactly as printed, show the error and the runbook, and the rerun
//! turns the run green. And `demo` into a directory that already holds any
//! of its files changes nothing there.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use common::{BIN, pg_state::PgState};
use serde_json::Value;

/// A command with the suite's environment (its own home, the suite's state
/// backend), run in `cwd`.
fn env(mut c: Command, cwd: &Path, home: &Path, pg: &Option<PgState>) -> Command {
    c.current_dir(cwd)
        .env("SWITCHYARD_HOME", home)
        .env_remove("SWITCHYARD_READONLY");
    match pg {
        Some(pg) => c.env("SWITCHYARD_STATE", pg.url()),
        None => c.env_remove("SWITCHYARD_STATE"),
    };
    c
}

fn out(c: &mut Command) -> (i32, String, String) {
    let o = c.output().expect("run");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn demo_run_prints_a_drill_whose_rerun_goes_green_as_printed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let home = tmp.path().join(".home");
    let pg = PgState::for_suite();
    // As the README says it: `demo --run`, no --dir, from a fresh directory.
    let (code, stdout, stderr) = out(&mut env(
        {
            let mut c = Command::new(BIN);
            c.args(["demo", "--run"]);
            c
        },
        tmp.path(),
        &home,
        &pg,
    ));
    assert_eq!(
        code, 1,
        "the demo's run fails once, and says so by its exit code:\n{stdout}\n{stderr}"
    );
    let drill: Vec<String> = stdout
        .lines()
        .skip_while(|l| !l.contains("The 3 a.m. drill:"))
        .skip(1)
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(drill.len(), 3, "logs, runbook, rerun:\n{stdout}");
    assert!(
        drill[0].contains(" logs latest publish_report"),
        "{drill:?}"
    );
    assert!(drill[1].starts_with("cat "), "{drill:?}");
    assert!(
        drill[2].contains(" rerun latest publish_report --downstream"),
        "{drill:?}"
    );
    // Pasted into a shell where `demo` ran.
    let paste = |line: &str| {
        out(&mut env(
            {
                let mut c = Command::new("sh");
                c.args(["-c", line]);
                c
            },
            tmp.path(),
            &home,
            &pg,
        ))
    };
    let (code, log, err) = paste(&drill[0]);
    assert_eq!(code, 0, "{}: {err}", drill[0]);
    assert!(log.contains("503 Service Unavailable"), "the log: {log}");
    let (code, runbook, err) = paste(&drill[1]);
    assert_eq!(code, 0, "{}: {err}", drill[1]);
    let want = std::fs::read_to_string(
        tmp.path()
            .join("switchyard-demo/runbooks/publish_report.md"),
    )
    .expect("runbook");
    assert_eq!(runbook, want);
    let (code, rerun_out, rerun_err) = paste(&drill[2]);
    assert_eq!(code, 0, "{}:\n{rerun_out}\n{rerun_err}", drill[2]);

    // The run the drill reran is green, every task of it.
    let file = tmp.path().join("switchyard-demo/switchyard.toml");
    let (code, json, err) = out(&mut env(
        {
            let mut c = Command::new(BIN);
            c.arg("-c")
                .arg(&file)
                .args(["status", "--json", "--run", "latest"]);
            c
        },
        tmp.path(),
        &home,
        &pg,
    ));
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&json).expect("status json");
    let run = &v["runs"][0];
    assert_eq!(run["id"], 1, "the drill reran the demo's run: {v:#}");
    assert_eq!(run["state"], "succeeded", "{v:#}");
    let tasks = run["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 14, "the demo's 14 tasks: {v:#}");
    let not_green: Vec<_> = tasks.iter().filter(|t| t["state"] != "succeeded").collect();
    assert!(not_green.is_empty(), "{not_green:#?}");
}

/// Every file under `dir`, with its bytes and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let m = std::fs::metadata(&p)
                    .and_then(|m| m.modified())
                    .expect("mtime");
                out.insert(p.clone(), (std::fs::read(&p).expect("read"), m));
            }
        }
    }
    out
}

#[test]
fn demo_into_a_directory_holding_its_files_changes_nothing() {
    // No workspace file there, but a runbook, a database and a note of the
    // user's own: each would be one of the demo's files.
    for (name, body) in [
        ("runbooks/exports.md", "my own notes\n"),
        ("app.db", "not a database\n"),
        ("bin/publish_report.sh", "echo mine\n"),
    ] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("mine");
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, body).expect("write");
        std::fs::write(dir.join("notes.txt"), "keep me\n").expect("write");
        let before = snapshot(&dir);
        let (code, stdout, stderr) = out(Command::new(BIN)
            .args(["demo", "--dir"])
            .arg(&dir)
            .env("SWITCHYARD_HOME", tmp.path().join(".home")));
        assert_eq!(code, 2, "{name}: {stdout}\n{stderr}");
        assert!(
            stderr.contains(name),
            "the refusal names the file in the way ({name}): {stderr}"
        );
        assert!(
            snapshot(&dir) == before,
            "demo changed files in a directory holding {name}"
        );
    }
}
