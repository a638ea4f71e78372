//! `cancel RUN TASK` from another process stops a running command (its whole
//! process group), its downstream becomes `upstream_failed`; `mark` refuses a
//! running task and works on a finished one.

mod common;

use std::time::Duration;

use common::{Ws, pid_alive, wait_until};

const WS: &str = r#"
[pipelines.p]
[[pipelines.p.tasks]]
id = "long"
kind = "command"
command = """
echo $$ > shell.pid
sleep 300 &
echo $! > sleep.pid
echo started
wait
"""

[[pipelines.p.tasks]]
id = "down"
kind = "command"
after = ["long"]
command = "touch down_ran"
"#;

fn read_pid(ws: &Ws, name: &str) -> Option<i32> {
    std::fs::read_to_string(ws.path().join(name))
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

#[test]
fn cancel_a_running_task_from_another_process_then_mark_it() {
    let ws = Ws::new(WS);
    let mut owner = ws.spawn(&["run", "p", "--date", "2026-05-01"]);
    let _stop = common::StopOnDrop(owner.id());

    wait_until(Duration::from_secs(20), "the long task to run", || {
        read_pid(&ws, "sleep.pid").is_some()
            && ws
                .status(None)
                .get("runs")
                .and_then(|r| r.get(0))
                .is_some_and(|r| r["tasks"][0]["state"] == "running")
    });
    let shell = read_pid(&ws, "shell.pid").unwrap();
    let sleep = read_pid(&ws, "sleep.pid").unwrap();
    assert!(pid_alive(shell) && pid_alive(sleep));
    let run_id = ws.status(None)["runs"][0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let st = ws.status(Some(&run_id));
    assert!(
        st["runs"][0]["owner"]["live"] == true,
        "the run has a live owner: {st}"
    );

    // A running task cannot be marked.
    let (code, _, err) = ws.run(&["mark", &run_id, "long", "succeeded"]);
    assert_eq!(code, 2, "mark of a running task is refused: {err}");
    assert!(err.contains("running"), "{err}");
    assert!(err.contains("cancel"), "says what to do instead: {err}");
    assert_eq!(ws.task_state(&run_id, "long"), "running");

    let (code, out, err) = ws.run(&["cancel", &run_id, "long"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("cancelled 1 task"), "{out}");

    wait_until(Duration::from_secs(30), "the owner to finish", || {
        owner.try_wait().unwrap().is_some()
    });
    let output = owner.wait_with_output().unwrap();
    let owner_err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "the run did not succeed:\n{owner_err}"
    );

    let st = ws.status(Some(&run_id));
    let tasks = st["runs"][0]["tasks"].as_array().unwrap();
    assert_eq!(tasks[0]["id"], "long");
    assert_eq!(tasks[0]["state"], "cancelled", "{st}");
    assert_eq!(tasks[1]["id"], "down");
    assert_eq!(tasks[1]["state"], "upstream_failed", "{st}");
    assert_eq!(st["runs"][0]["state"], "failed", "{st}");
    assert!(!ws.path().join("down_ran").exists());
    // The command's whole process group is gone, the background sleep included.
    wait_until(
        Duration::from_secs(15),
        "the task's processes to die",
        || !pid_alive(shell) && !pid_alive(sleep),
    );

    // Cancelling what already ended is refused by name.
    let (code, _, err) = ws.run(&["cancel", &run_id, "long"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already cancelled"), "{err}");

    // Finished: mark works now.
    let (code, out, err) = ws.run(&["mark", &run_id, "long", "succeeded"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("marked `long` succeeded"), "{out}");
    let st = ws.status(Some(&run_id));
    assert_eq!(st["runs"][0]["tasks"][0]["state"], "succeeded", "{st}");
    assert_eq!(st["runs"][0]["tasks"][0]["error"], serde_json::Value::Null);
    assert_eq!(st["runs"][0]["tasks"][0]["attempt"], 1, "{st}");
}

#[test]
fn cancel_a_whole_run_and_mark_a_task_skipped() {
    let ws = Ws::new(WS);
    let mut owner = ws.spawn(&["run", "p", "--date", "2026-05-02"]);
    let _stop = common::StopOnDrop(owner.id());
    wait_until(Duration::from_secs(20), "the long task to run", || {
        read_pid(&ws, "sleep.pid").is_some()
    });
    let sleep = read_pid(&ws, "sleep.pid").unwrap();

    let (code, out, err) = ws.run(&["cancel", "latest"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("cancelled 2 task"), "long and down: {out}");
    wait_until(Duration::from_secs(30), "the owner to finish", || {
        owner.try_wait().unwrap().is_some()
    });
    assert_eq!(owner.wait().unwrap().code(), Some(1));
    wait_until(Duration::from_secs(15), "sleep to die", || {
        !pid_alive(sleep)
    });
    assert_eq!(ws.task_state("latest", "long"), "cancelled");
    assert_eq!(ws.run_state("latest"), "failed");
    assert!(!ws.path().join("down_ran").exists());

    let (code, _, err) = ws.run(&["mark", "latest", "long", "skipped"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(ws.task_state("latest", "long"), "skipped");
    let (code, _, err) = ws.run(&["mark", "latest", "nosuch", "skipped"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nosuch"), "{err}");
}
