//! The state store is deleted under a live run: the owner notices at its
//! next heartbeat (the file at the store's path is gone), stops the run's
//! tasks and exits with an error that says so, instead of finishing into the
//! unlinked file while a second run of the same pipeline and date can start.

mod common;

use std::time::Duration;

use common::{Bg, Ws, pid_alive, wait_for, wait_until};

const WS: &str = r#"
[pipelines.p]
[[pipelines.p.tasks]]
id = "a"
kind = "command"
command = "echo $$ > a.pid; sh wait_flag.sh go"

[[pipelines.p.tasks]]
id = "b"
kind = "command"
after = ["a"]
command = "echo b"
"#;

fn task_pid(ws: &Ws) -> Option<i32> {
    ws.read("a.pid").trim().parse().ok()
}

fn stops_when_the_store_goes(replace: bool) {
    let ws = Ws::new(WS);
    ws.install_scripts();
    let mut run = Bg::new(ws.spawn(&["run", "p", "--date", "2026-04-01"]));
    wait_until(Duration::from_secs(30), "task a started", || {
        task_pid(&ws).is_some()
    });
    let pid = task_pid(&ws).expect("pid of task a");
    let state = ws.path().join(".switchyard/state.db");
    std::fs::remove_file(&state).expect("delete the state store");
    if replace {
        // Someone restores an old copy (or another run creates a new store).
        std::fs::write(&state, b"").expect("a new file at the store's path");
    }

    // Today's owner would finish into the unlinked file once the task ends.
    if !wait_for(Duration::from_secs(30), || run.exited()) {
        ws.touch("go");
    }
    let (code, out, err) = run.wait(Duration::from_secs(60));
    assert_ne!(
        code, 0,
        "the run went on as if nothing happened:\n{out}\n{err}"
    );
    let what = if replace {
        "replaced by another file"
    } else {
        "deleted"
    };
    assert!(
        err.contains(&format!("the state store {}", state.display())) && err.contains(what),
        "the error should say the store was {what}: {err}"
    );
    assert!(
        wait_for(Duration::from_secs(15), || !pid_alive(pid)),
        "task a (pid {pid}) was left running"
    );
}

#[test]
fn a_run_stops_when_its_state_store_is_deleted() {
    stops_when_the_store_goes(false);
}

#[test]
fn a_run_stops_when_its_state_store_is_replaced() {
    stops_when_the_store_goes(true);
}
