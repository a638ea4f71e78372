//! `rerun` against a finished run (no live owner): which instances each
//! selection resets, and that only those run again.
//!
//! The pipeline is a -> b -> c plus x -> y. Tasks fail until a flag file exists.

mod common;

use std::collections::BTreeMap;

use common::Ws;
use serde_json::Value;

const DAG: &str = r#"
[pipelines.p]
[[pipelines.p.tasks]]
id = "a"
kind = "command"
command = "echo a >> ran; test -f ok_a || { echo 'a: no ok_a'; exit 1; }"

[[pipelines.p.tasks]]
id = "b"
kind = "command"
after = ["a"]
command = "echo b >> ran; test -f ok_b || { echo 'b: no ok_b'; exit 1; }"

[[pipelines.p.tasks]]
id = "c"
kind = "command"
after = ["b"]
command = "echo c >> ran"

[[pipelines.p.tasks]]
id = "x"
kind = "command"
command = "echo x >> ran"

[[pipelines.p.tasks]]
id = "y"
kind = "command"
after = ["x"]
command = "echo y >> ran; test -f ok_y || { echo 'y: no ok_y'; exit 1; }"
"#;

/// task id -> (state, attempt) of run `run`.
fn tasks(ws: &Ws, run: &str) -> BTreeMap<String, (String, i64)> {
    let st = ws.status(Some(run));
    st["runs"][0]["tasks"]
        .as_array()
        .unwrap_or_else(|| panic!("no tasks in {st}"))
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                (
                    t["state"].as_str().unwrap().to_string(),
                    t["attempt"].as_i64().unwrap(),
                ),
            )
        })
        .collect()
}

fn flag(ws: &Ws, name: &str) {
    std::fs::write(ws.path().join(name), "").unwrap();
}

/// Which tasks ran since the last call (and forgets them).
fn ran(ws: &Ws) -> Vec<String> {
    let path = ws.path().join("ran");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let _ = std::fs::remove_file(&path);
    let mut v: Vec<String> = text.lines().map(String::from).collect();
    v.sort();
    v
}

/// The tasks a finished-run rerun says it reset ("run N: reset K: a, b").
fn reset_list(stderr: &str) -> Vec<String> {
    let line = stderr
        .lines()
        .find(|l| l.contains(": reset "))
        .unwrap_or_else(|| panic!("no `reset` line in:\n{stderr}"));
    let list = line.rsplit_once(": ").map(|(_, l)| l).unwrap_or_default();
    let mut v: Vec<String> = list.split(", ").map(String::from).collect();
    v.sort();
    v
}

/// No live owner: the run is finished and its lease released.
fn assert_unowned(ws: &Ws) {
    let st = ws.status(Some("latest"));
    assert_eq!(st["runs"][0]["owner"], Value::Null, "{st}");
    assert!(st["runs"][0]["finished_at"].is_string(), "{st}");
}

fn assert_changes(
    before: &BTreeMap<String, (String, i64)>,
    after: &BTreeMap<String, (String, i64)>,
    reset: &[&str],
) {
    for (id, (state, attempt)) in before {
        let (new_state, new_attempt) = &after[id];
        if reset.contains(&id.as_str()) {
            assert_eq!(
                *new_attempt,
                attempt + 1,
                "{id} was reset and ran once more: {before:?} -> {after:?}"
            );
        } else {
            assert_eq!(
                (new_state, new_attempt),
                (state, attempt),
                "{id} was not reset: {before:?} -> {after:?}"
            );
        }
    }
}

#[test]
fn rerun_downstream_resets_the_task_and_everything_after_it() {
    let ws = Ws::new(DAG);
    flag(&ws, "ok_y");
    let (code, _, err) = ws.run(&["run", "p", "--date", "2026-04-01"]);
    assert_eq!(code, 1, "{err}");
    let before = tasks(&ws, "latest");
    assert_eq!(before["a"], ("failed".into(), 1));
    assert_eq!(before["b"], ("upstream_failed".into(), 0));
    assert_eq!(before["c"], ("upstream_failed".into(), 0));
    assert_eq!(before["x"], ("succeeded".into(), 1));
    assert_eq!(before["y"], ("succeeded".into(), 1));
    assert_eq!(ran(&ws), ["a", "x", "y"]);
    assert_unowned(&ws);

    flag(&ws, "ok_a");
    flag(&ws, "ok_b");
    let (code, _, err) = ws.run(&["rerun", "latest", "a", "--downstream"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(reset_list(&err), ["a", "b", "c"], "{err}");
    assert_eq!(ran(&ws), ["a", "b", "c"], "only the reset tasks ran");
    let after = tasks(&ws, "latest");
    assert_changes(&before, &after, &["a", "b", "c"]);
    assert!(after.values().all(|(s, _)| s == "succeeded"), "{after:?}");
    assert_eq!(ws.run_state("latest"), "succeeded");
    assert_unowned(&ws);
}

#[test]
fn rerun_failed_resets_every_failure_and_its_downstream() {
    let ws = Ws::new(DAG);
    flag(&ws, "ok_a");
    let (code, _, err) = ws.run(&["run", "p", "--date", "2026-04-02"]);
    assert_eq!(code, 1, "{err}");
    let before = tasks(&ws, "latest");
    assert_eq!(before["a"], ("succeeded".into(), 1));
    assert_eq!(before["b"], ("failed".into(), 1));
    assert_eq!(before["c"], ("upstream_failed".into(), 0));
    assert_eq!(before["x"], ("succeeded".into(), 1));
    assert_eq!(before["y"], ("failed".into(), 1));
    assert_eq!(ran(&ws), ["a", "b", "x", "y"]);
    assert_unowned(&ws);

    // Still broken: the rerun fails again and says so, resetting the same set.
    let (code, _, err) = ws.run(&["rerun", "latest", "--failed"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(reset_list(&err), ["b", "c", "y"], "{err}");
    assert_eq!(ran(&ws), ["b", "y"]);
    let mid = tasks(&ws, "latest");
    assert_eq!(mid["b"], ("failed".into(), 2));
    assert_eq!(mid["c"], ("upstream_failed".into(), 0));
    assert_eq!(mid["y"], ("failed".into(), 2));
    assert_eq!(ws.run_state("latest"), "failed");

    flag(&ws, "ok_b");
    flag(&ws, "ok_y");
    let (code, _, err) = ws.run(&["rerun", "latest", "--failed"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(reset_list(&err), ["b", "c", "y"], "{err}");
    assert_eq!(ran(&ws), ["b", "c", "y"]);
    let after = tasks(&ws, "latest");
    assert_changes(&mid, &after, &["b", "c", "y"]);
    assert!(after.values().all(|(s, _)| s == "succeeded"), "{after:?}");
    assert_eq!(ws.run_state("latest"), "succeeded");

    // Nothing left to rerun: refused, nothing changes.
    let (code, _, err) = ws.run(&["rerun", "latest", "--failed"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nothing to rerun"), "{err}");
    assert_eq!(tasks(&ws, "latest"), after);
    assert!(ran(&ws).is_empty());
    assert_eq!(ws.run_state("latest"), "succeeded");
}

#[test]
fn rerun_upstream_resets_the_task_and_what_it_depends_on() {
    let ws = Ws::new(DAG);
    for f in ["ok_a", "ok_b", "ok_y"] {
        flag(&ws, f);
    }
    let (code, _, err) = ws.run(&["run", "p", "--date", "2026-04-03"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(ran(&ws), ["a", "b", "c", "x", "y"]);
    let before = tasks(&ws, "latest");
    assert_unowned(&ws);

    let (code, _, err) = ws.run(&["rerun", "latest", "c", "--upstream"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(reset_list(&err), ["a", "b", "c"], "{err}");
    assert_eq!(ran(&ws), ["a", "b", "c"], "x and y were not rerun");
    let after = tasks(&ws, "latest");
    assert_changes(&before, &after, &["a", "b", "c"]);
    assert!(after.values().all(|(s, _)| s == "succeeded"), "{after:?}");

    // The task alone.
    let (code, _, err) = ws.run(&["rerun", "latest", "b"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(reset_list(&err), ["b"], "{err}");
    assert_eq!(ran(&ws), ["b"]);
    assert_changes(&after, &tasks(&ws, "latest"), &["b"]);

    // An unknown task is refused by name.
    let (code, _, err) = ws.run(&["rerun", "latest", "nosuch"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nosuch"), "{err}");
}

#[test]
fn a_rerun_uses_the_workspace_file_as_it_is_now() {
    let ws = Ws::new(
        r#"
[pipelines.p]
[[pipelines.p.tasks]]
id = "a"
kind = "command"
command = "echo 'version one'; exit 1"

[[pipelines.p.tasks]]
id = "b"
kind = "command"
after = ["a"]
command = "echo b ran"
"#,
    );
    let (code, _, err) = ws.run(&["run", "p", "--date", "2026-04-04"]);
    assert_eq!(code, 1, "{err}");
    let fixed = std::fs::read_to_string(ws.file())
        .unwrap()
        .replace("echo 'version one'; exit 1", "echo 'version two'");
    std::fs::write(ws.file(), fixed).unwrap();

    let (code, _, err) = ws.run(&["rerun", "latest", "a", "--downstream"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(reset_list(&err), ["a", "b"], "{err}");
    let (_, log, _) = ws.run(&["logs", "latest", "a"]);
    assert!(log.contains("version two"), "{log}");
    let (_, old, _) = ws.run(&["logs", "latest", "a", "--attempt", "1"]);
    assert!(old.contains("version one"), "{old}");
    assert_eq!(ws.task_state("latest", "b"), "succeeded");
}
