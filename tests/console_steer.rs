//! Steering a run from the console, through the real binary in tmux: quitting
//! with a task still running leaves it running (its worker goes on); `F`
//! reruns the failed task, `x` cancels a running one, `m` marks it succeeded
//! (a mark runs nothing: `F` then reruns its downstream), and `n` writes a
//! note to the run's journal. Each change is read back from the store, not
//! only from the screen.

mod common;

use std::time::Duration;

use common::{Ws, wait_until};

#[path = "common/tmux.rs"]
mod tmux;
use tmux::*;

const LONG: Duration = Duration::from_secs(90);

const WS: &str = r#"
[pipelines.p]
[[pipelines.p.tasks]]
id = "slow"
kind = "command"
command = "while [ ! -f go ]; do sleep 0.1; done"

[[pipelines.p.tasks]]
id = "flaky"
kind = "command"
command = "test -f fixed"

[[pipelines.p.tasks]]
id = "after_slow"
kind = "command"
after = ["slow"]
command = "touch after_ran"
"#;

#[test]
fn quit_leaves_work_going_and_x_m_n_f_steer_the_run() {
    if !tmux_or_skip("console_steer") {
        return;
    }
    let ws = Ws::new(WS);
    let (code, _, err) = ws.run_within(LONG, &["run", "p", "--detach"]);
    assert_eq!(code, 0, "{err}");
    wait_until(LONG, "flaky to fail while slow runs", || {
        ws.try_task_state("1", "flaky").as_deref() == Some("failed")
            && ws.try_task_state("1", "slow").as_deref() == Some("running")
    });

    // Quitting never stops work.
    let t = Tmux::start("steer", ws.path(), 120, 30, &[]);
    t.open_console("", "");
    t.wait_for("flaky");
    t.quit_and_check_restored("q");
    assert_eq!(
        ws.task_state("1", "slow"),
        "running",
        "quitting stopped work"
    );

    // F: the failed task reruns (the worker, a live owner, applies it).
    std::fs::write(ws.path().join("fixed"), "").expect("fix");
    t.open_console("", "");
    t.wait_for("flaky");
    t.keys(&["F"]);
    t.wait_for("Rerun every failed task");
    t.keys(&["Enter"]);
    wait_until(LONG, "flaky to succeed", || {
        ws.try_task_state("1", "flaky").as_deref() == Some("succeeded")
    });

    // x on slow (the running task, now first): cancelled.
    t.wait_screen("slow first, flaky green", |s| {
        line_with(s, &["flaky", "✓"]).is_some() && line_with(s, &["slow", "▶"]).is_some()
    });
    t.keys(&["g", "x"]);
    t.wait_for("Cancel slow");
    t.keys(&["Enter"]);
    wait_until(LONG, "slow to be cancelled", || {
        ws.try_task_state("1", "slow").as_deref() == Some("cancelled")
    });
    assert!(
        !ws.path().join("after_ran").exists(),
        "downstream ran after a cancel"
    );

    // m, s: slow marked succeeded; then F reruns its downstream (upstream
    // failed by the cancel) in a worker, and the run goes green.
    t.wait_screen("slow cancelled on screen", |s| {
        line_with(s, &["■", "slow"]).is_some()
    });
    t.keys(&["g", "m"]);
    t.wait_for("Mark slow");
    t.keys(&["s"]);
    wait_until(LONG, "slow to be marked", || {
        ws.try_task_state("1", "slow").as_deref() == Some("succeeded")
    });
    assert!(
        !ws.path().join("after_ran").exists(),
        "a mark alone ran downstream"
    );
    t.keys(&["F"]);
    t.wait_for("Rerun every failed task");
    t.keys(&["Enter"]);
    wait_until(LONG, "the run to succeed", || {
        ws.try_task_state("1", "after_slow").as_deref() == Some("succeeded")
    });
    assert!(ws.path().join("after_ran").exists());
    assert_eq!(ws.run_state("1"), "succeeded");

    // n: a note in the run's journal.
    t.keys(&["n"]);
    t.type_text("replica was lagging");
    t.keys(&["Enter"]);
    let db = ws.path().join(".switchyard/state.db");
    wait_until(LONG, "the note in the journal", || {
        common::sqlite(
            &db,
            "SELECT run_id, detail FROM journal WHERE action = 'note'",
        ) == "1|replica was lagging"
    });
    t.keys(&["3"]);
    t.wait_for("replica was lagging");
    t.quit_and_check_restored("q");
}
