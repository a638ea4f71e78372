//! Who executes a run: a detached worker in its own session, and a live owner
//! that applies a rerun sent by another process.

mod common;

use std::time::Duration;

use common::{Bg, Ws, pgrp_of, pid_alive, session_of, wait_until};

#[test]
fn run_detach_returns_at_once_and_a_worker_in_its_own_session_runs_it() {
    let ws = Ws::new(
        r#"[workspace]
name = "detach"

[pipelines.p]

[[pipelines.p.tasks]]
id = "hold"
kind = "command"
command = "echo $PPID > worker.pid; sh wait_flag.sh release"

[[pipelines.p.tasks]]
id = "after"
kind = "command"
after = ["hold"]
command = "echo after >> trail"
"#,
    );
    ws.install_scripts();

    let (code, out, err) = ws.run_within(Duration::from_secs(60), &["run", "p", "--detach"]);
    assert_eq!(code, 0, "run --detach failed: {err}");
    // It returned while the run is still going: `hold` waits for `release`,
    // which only this test creates (later), so `after` has not run.
    let state = ws.run_state("latest");
    assert!(
        state == "queued" || state == "running",
        "run --detach returned with the run {state:?}"
    );
    assert!(
        !ws.exists("trail"),
        "`after` ran before `hold` was released"
    );
    let pid: i32 = out
        .split("handed to worker pid ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no worker pid in {out:?}"));

    wait_until(Duration::from_secs(20), "the worker starts `hold`", || {
        !ws.read("worker.pid").trim().is_empty()
    });
    assert_eq!(
        ws.read("worker.pid").trim(),
        pid.to_string(),
        "the worker executes the task"
    );
    assert!(pid_alive(pid), "the worker outlives `run --detach`");
    let s = ws.status(Some("latest"));
    assert_eq!(s["runs"][0]["state"], "running", "{s:#}");
    assert_eq!(
        s["runs"][0]["owner"]["pid"], pid,
        "the worker owns the run: {s:#}"
    );

    let mine = session_of(std::process::id() as i32).expect("our session");
    let theirs = session_of(pid).expect("the worker's session");
    assert_ne!(theirs, mine, "the worker shares the test's session");
    assert_eq!(theirs, i64::from(pid), "the worker leads its own session");
    assert_eq!(
        pgrp_of(pid),
        Some(i64::from(pid)),
        "the worker leads its own process group"
    );

    ws.touch("release");
    wait_until(Duration::from_secs(30), "the detached run succeeds", || {
        ws.run_state("latest") == "succeeded"
    });
    assert_eq!(ws.read("trail"), "after\n");
    let s = ws.status(Some("latest"));
    assert_eq!(
        s["runs"][0]["owner"],
        serde_json::Value::Null,
        "lease released: {s:#}"
    );
    wait_until(Duration::from_secs(20), "the worker exits", || {
        !pid_alive(pid)
    });
    let log = std::fs::read_dir(ws.path().join(".switchyard/logs"))
        .expect("worker log dir")
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("worker-"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .expect("a worker log");
    assert!(log.contains("succeeded"), "worker log: {log}");
}

fn downstream_workspace() -> &'static str {
    // `a` fails until the flag `fixed` exists; `slow` keeps the run live until
    // `release` exists. Every command records the pid of the process that ran it.
    r#"[workspace]
name = "downstream"

[pipelines.p]

[[pipelines.p.tasks]]
id = "a"
kind = "command"
command = "echo a $PPID >> trail; test -e fixed"

[[pipelines.p.tasks]]
id = "b"
kind = "command"
after = ["a"]
command = "echo b $PPID >> trail"

[[pipelines.p.tasks]]
id = "c"
kind = "command"
after = ["b"]
command = "echo c $PPID >> trail"

[[pipelines.p.tasks]]
id = "slow"
kind = "command"
command = "echo slow $PPID >> trail; sh wait_flag.sh release"
"#
}

#[test]
fn rerun_downstream_is_executed_by_the_live_owner() {
    let ws = Ws::new(downstream_workspace());
    ws.install_scripts();
    let mut run = Bg::new(ws.spawn(&["run", "p"]));
    let owner = run.pid();

    wait_until(
        Duration::from_secs(20),
        "a fails, b and c upstream_failed",
        || {
            let Some(s) = ws.try_status(Some("latest")) else {
                return false; // no run yet
            };
            let st = |id: &str| {
                s["runs"][0]["tasks"]
                    .as_array()
                    .and_then(|ts| ts.iter().find(|t| t["id"] == id))
                    .map(|t| t["state"].clone())
            };
            st("a") == Some("failed".into())
                && st("b") == Some("upstream_failed".into())
                && st("c") == Some("upstream_failed".into())
                && st("slow") == Some("running".into())
        },
    );
    assert_eq!(ws.run_state("latest"), "running", "slow keeps the run live");

    // A running instance is never reset: the rerun asks to cancel it first.
    let (code, out, err) = ws.run_within(Duration::from_secs(60), &["rerun", "latest", "slow"]);
    assert_eq!(code, 2, "rerun of a running task was accepted: {out}{err}");
    assert!(err.contains("cancel"), "{err}");
    assert!(err.contains("slow"), "{err}");
    assert_eq!(ws.task_state("latest", "slow"), "running");
    assert_eq!(ws.task_state("latest", "a"), "failed", "nothing was reset");

    ws.touch("fixed");
    let (code, _out, err) = ws.run_within(
        Duration::from_secs(60),
        &["rerun", "latest", "a", "--downstream"],
    );
    assert_eq!(code, 0, "rerun a --downstream failed: {err}");
    // `run N is executed by another process; it reset 3: a, b, c`: the
    // names are read from the list itself (single letters occur anywhere).
    let reset = err
        .lines()
        .find(|l| l.contains("is executed by another process; it reset "))
        .unwrap_or_else(|| panic!("no line about the owner's reset in: {err}"));
    let list = reset
        .split_once("it reset ")
        .and_then(|(_, rest)| rest.split_once(": "))
        .unwrap_or_else(|| panic!("no reset list in {reset:?}"));
    let mut names: Vec<&str> = list.1.split(", ").map(str::trim).collect();
    names.sort();
    assert_eq!(list.0, "3", "{reset}");
    assert_eq!(
        names,
        ["a", "b", "c"],
        "the rerun names what it reset: {reset}"
    );
    let s = ws.status(Some("latest"));
    for (t, want) in [
        ("a", "succeeded"),
        ("b", "succeeded"),
        ("c", "succeeded"),
        ("slow", "running"),
    ] {
        assert_eq!(ws.task_state("latest", t), want, "{t}: {s:#}");
    }
    assert_eq!(s["runs"][0]["state"], "running", "{s:#}");

    ws.touch("release");
    let (code, _, err) = run.wait(Duration::from_secs(30));
    assert_eq!(code, 0, "the run did not end well: {err}");
    assert_eq!(ws.run_state("latest"), "succeeded");

    // Every attempt ran in the original owner process, a twice, the rest once.
    let trail = ws.read("trail");
    let mut lines: Vec<&str> = trail.lines().collect();
    lines.sort();
    let want: Vec<String> = ["a", "a", "b", "c", "slow"]
        .iter()
        .map(|t| format!("{t} {owner}"))
        .collect();
    assert_eq!(lines, want, "trail:\n{trail}");
}
