//! `kill -9` of the process that owns a run: the next process to look reaps
//! the dead owner (its task `interrupted`, the run `failed`), kills the
//! orphaned process group it left, and `rerun --failed` carries the run on
//! with the workspace file as it is now.

mod common;

use std::time::Duration;

use common::{Bg, Ws, pid_alive, wait_for};

fn workspace(hang_command: &str) -> String {
    format!(
        r#"[workspace]
name = "crash"

[pipelines.p]

[[pipelines.p.tasks]]
id = "first"
kind = "command"
command = "echo first >> trail"

[[pipelines.p.tasks]]
id = "hang"
kind = "command"
after = ["first"]
command = '{hang_command}'

[[pipelines.p.tasks]]
id = "after_hang"
kind = "command"
after = ["hang"]
command = "echo after_hang >> trail"
"#
    )
}

#[test]
fn kill_9_of_the_owner_interrupts_reaps_the_child_and_rerun_carries_on() {
    let ws = Ws::new(&workspace(
        "echo $$ > child.pid; echo started; exec sleep 300",
    ));
    let mut run = Bg::new(ws.spawn(&["run", "p"]));
    let owner_pid = run.pid();

    // The task's own output in its log means the owner has recorded the
    // child's process group (it is recorded before output is read).
    let started = wait_for(Duration::from_secs(20), || {
        let (code, out, _) = ws.run(&["logs", "latest", "hang"]);
        code == 0 && out.contains("started")
    });
    if !started {
        let logs = ws.run(&["logs", "latest", "hang"]);
        let (code, _, err) = run.wait(Duration::from_secs(30));
        panic!(
            "hang's output never reached its log: logs = {logs:?}; run exit {code}: {err}\nstatus: {:#}",
            ws.try_status(None).unwrap_or_default()
        );
    }
    let child: i32 = ws.read("child.pid").trim().parse().expect("child pid");
    assert!(pid_alive(child), "the task's child runs");
    assert_eq!(ws.task_state("latest", "hang"), "running");

    run.kill9();
    assert!(!pid_alive(owner_pid));

    // The next process to look reaps the dead owner.
    let s = ws.status(Some("latest"));
    let r = &s["runs"][0];
    assert_eq!(r["state"], "failed", "{s:#}");
    let task = |id: &str| {
        r["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap_or_else(|| panic!("no task {id} in {s:#}"))
            .clone()
    };
    assert_eq!(task("first")["state"], "succeeded", "{s:#}");
    assert_eq!(task("hang")["state"], "interrupted", "{s:#}");
    assert!(
        task("hang")["error"]
            .as_str()
            .unwrap_or_default()
            .contains("died"),
        "{s:#}"
    );
    assert_eq!(task("after_hang")["state"], "upstream_failed", "{s:#}");
    if !wait_for(Duration::from_secs(20), || !pid_alive(child)) {
        let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
        // SAFETY: plain syscall; the task's child must not outlive the test.
        unsafe { libc::kill(child, libc::SIGKILL) };
        panic!(
            "the orphaned child {child} is still alive ({stat}) after reaping\nstatus: {:#}",
            ws.try_status(None).unwrap_or_default()
        );
    }

    // The fix is a workspace edit; a rerun uses the file as it is now.
    std::fs::write(ws.file(), workspace("echo fixed >> trail")).unwrap();
    let (code, _out, err) =
        ws.run_within(Duration::from_secs(60), &["rerun", "latest", "--failed"]);
    assert_eq!(code, 0, "rerun --failed failed: {err}");

    let s = ws.status(Some("latest"));
    let r = &s["runs"][0];
    assert_eq!(r["state"], "succeeded", "{s:#}");
    assert_eq!(r["owner"], serde_json::Value::Null, "lease released: {s:#}");
    for t in r["tasks"].as_array().unwrap() {
        assert_eq!(t["state"], "succeeded", "{s:#}");
    }
    // `first` had succeeded and is not part of the rerun; the other two ran once more.
    assert_eq!(ws.read("trail"), "first\nfixed\nafter_hang\n");
    assert_eq!(s["runs"].as_array().unwrap().len(), 1, "no new run: {s:#}");
}
