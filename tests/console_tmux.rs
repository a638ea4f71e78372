//! End-to-end tests of the console: the real `switchyard` binary in a real
//! terminal (tmux), driven with `send-keys` and read with `capture-pane`.
//!
//! Every test has its own tmux server (`-L` socket), so they run in parallel;
//! a guard kills the server when the test ends, panics included. The console
//! is typed into an interactive `sh` in the pane, followed by commands that
//! print its exit code and the terminal modes it left behind, so each test
//! also checks that quitting gives the terminal back.
//!
//! Without tmux the tests print a loud SKIP, except under `CI=true`, where
//! they fail.
//!
//! Waits poll the screen until what is expected appears, with generous
//! timeouts: nothing here asserts how fast the console is.

mod common;

use common::{Bg, Ws, wait_until};
use serde_json::Value;

#[path = "common/tmux.rs"]
mod tmux;
use tmux::*;

/// `switchyard demo --dir D` into a fresh directory, then `run nightly`,
/// which fails on purpose (publish_report gets a 503 on its first attempt).
fn demo_workspace() -> Ws {
    let ws = Ws::demo();
    let (code, _, err) = ws.run(&["run", "nightly"]);
    assert_eq!(code, 1, "the demo's nightly run must fail once: {err}");
    ws
}

/// The 3 a.m. drill on the demo: the failed task is selected on start, Enter
/// shows its error beside its runbook, `R` shows the blast radius, Enter
/// reruns the chain (in a worker: the console runs nothing itself), the
/// screen goes green with no keypress, and quitting leaves it succeeded.
#[test]
fn the_3am_drill_reruns_the_failed_chain_from_the_console() {
    if !tmux_or_skip("the_3am_drill") {
        return;
    }
    let ws = demo_workspace();
    let t = Tmux::start("drill", ws.path(), 100, 30, &[]);
    let s = t.open_console("", "");

    // Home: the newest run, the cursor on its failed task.
    let s = if s.contains("publish_report") {
        s
    } else {
        t.wait_for("publish_report")
    };
    let selected = s
        .lines()
        .find(|l| l.contains('›') && l.contains("publish_report"));
    assert!(
        selected.is_some_and(|l| l.contains('✗')),
        "publish_report is not the selected failed task:\n{s}"
    );
    assert!(s.contains("1 failed"), "header without the failure:\n{s}");
    assert!(
        line_with(&s, &["settle", "⊘"]).is_some(),
        "settle is not upstream_failed:\n{s}"
    );

    // Enter: the task screen, the 503 beside the runbook.
    t.keys(&["Enter"]);
    let s = t.wait_screen("the task screen with its runbook", |s| {
        s.contains("Runbook") && s.contains("publish_report: the reporting API")
    });
    assert!(s.contains("503 Service Unavailable"), "no 503 error:\n{s}");
    assert!(
        line_with(&s, &["publish_report", "failed", "attempt 1"]).is_some(),
        "the task's title is wrong:\n{s}"
    );
    assert!(s.contains("Attempts (1)"), "no attempts table:\n{s}");

    // R: the blast radius, before anything happens.
    t.keys(&["R"]);
    let s = t.wait_for("Enter confirm");
    assert!(
        s.contains("Rerun publish_report and everything downstream"),
        "{s}"
    );
    assert!(
        s.contains("2 tasks of run 1 goes back to pending"),
        "the confirmation does not count 2 tasks:\n{s}"
    );
    assert!(
        line_with(&s, &["✗ publish_report", "failed"]).is_some(),
        "publish_report missing from the blast radius:\n{s}"
    );
    assert!(
        line_with(&s, &["⊘ settle", "upstream_failed"]).is_some(),
        "settle missing from the blast radius:\n{s}"
    );
    assert_eq!(
        ws.task_state("latest", "publish_report"),
        "failed",
        "R alone changed something"
    );

    // Enter: the chain reruns and the screen follows it, no keypress needed.
    t.keys(&["Enter"]);
    let s = t.wait_screen("publish_report to succeed on screen", |s| {
        // The whole frame: a capture can land while tmux is mid-redraw.
        line_with(s, &["publish_report", "succeeded", "attempt 2"]).is_some()
            && s.contains("0 failed")
            && s.contains("201 Created")
            && s.contains("Attempts (2)")
    });
    assert!(s.contains("201 Created"), "the new attempt's log:\n{s}");
    assert!(s.contains("Attempts (2)"), "{s}");

    // Esc: back to the runs, where the whole run turns green.
    t.keys(&["Escape"]);
    let s = t.wait_screen("the run to succeed on the runs screen", |s| {
        line_with(s, &["nightly", "succeeded"]).is_some()
            && line_with(s, &["settle", "✓"]).is_some()
    });
    assert!(!s.contains("task ·"), "still on the task screen:\n{s}");
    assert!(s.contains("0 failed"), "{s}");

    // The rerun is in the journal: who, what, on which tasks.
    t.keys(&["3"]);
    let s = t.wait_screen("the rerun in the journal", |s| {
        line_with(s, &["rerun", "publish_report"]).is_some()
    });
    assert!(s.contains("Journal · run 1"), "{s}");
    t.keys(&["1"]);
    t.wait_for("Runs (1)");

    // Quitting stops nothing and changes nothing.
    t.quit_and_check_restored("q");
    let status = ws.status(Some("latest"));
    assert_eq!(status["runs"][0]["state"], "succeeded", "{status:#}");
    for task in status["runs"][0]["tasks"].as_array().expect("tasks") {
        assert_eq!(task["state"], "succeeded", "{task}");
    }
    assert_eq!(ws.task_state("latest", "publish_report"), "succeeded");
}

/// A backfill from the console: `8`, `n` opens the form, a range typed
/// backwards is refused in place, the fixed range starts 3 runs in a
/// detached worker, the screen follows them to green, and Enter on a date
/// opens its run in the runs screen.
#[test]
fn a_backfill_of_three_dates_from_the_form_ends_green() {
    if !tmux_or_skip("backfill") {
        return;
    }
    let ws = demo_workspace();
    // The demo's report API answers 503 once per date (a marker file says
    // it was tried); these dates are past that, so the backfill can go green.
    for d in ["2026-01-01", "2026-01-02", "2026-01-03"] {
        std::fs::write(
            ws.path()
                .join(format!(".switchyard/publish_report.{d}.tried")),
            "",
        )
        .expect("marker");
    }
    let t = Tmux::start("backfill", ws.path(), 100, 30, &[]);
    t.open_console("", "");
    t.wait_for("publish_report");
    t.keys(&["8"]);
    t.wait_for("No backfills yet: press n to start one.");
    t.keys(&["n"]);
    let s = t.wait_for("New backfill");
    assert!(line_with(&s, &["Pipeline", "nightly"]).is_some(), "{s}");
    assert!(
        line_with(&s, &["▸", "From"]).is_some(),
        "From has the cursor:\n{s}"
    );

    // from 2026-01-03, to 2026-01-01: refused, the form stays open.
    t.keys(&["C-u"]);
    t.type_text("2026-01-03");
    t.keys(&["Tab", "C-u"]);
    t.type_text("2026-01-01");
    t.keys(&["Enter"]);
    let s = t.wait_for("is before from");
    assert!(s.contains("New backfill"), "the form closed:\n{s}");
    assert_eq!(ws.status(None)["runs"].as_array().map(Vec::len), Some(1));

    // Fixed: from 2026-01-01 to 2026-01-03, two at once.
    t.keys(&["Up", "C-u"]);
    t.type_text("2026-01-01");
    t.keys(&["Tab", "C-u"]);
    t.type_text("2026-01-03");
    t.keys(&["Tab", "C-u"]);
    t.type_text("2");
    let s = t.wait_for("3 runs: 2026-01-01 … 2026-01-03, 2 at once");
    assert!(!s.contains("is before"), "{s}");
    t.keys(&["Enter"]);
    // The footer names the worker that executes the runs.
    t.wait_for("3 runs of nightly, a worker (pid");
    t.wait_for("Backfill 1 · nightly · 2026-01-01 → 2026-01-03 · 2 at once");
    let s = t.wait_screen("all three dates to succeed", |s| {
        s.contains("3 dates: ✓ 3 succeeded")
    });
    for d in ["2026-01-01", "2026-01-02", "2026-01-03"] {
        assert!(
            line_with(&s, &["✓", d, "succeeded", "14/14"]).is_some(),
            "{d} is not green:\n{s}"
        );
    }

    // Enter on the second date: its run on the runs screen.
    t.keys(&["Down", "Enter"]);
    t.wait_for("Run 3 · nightly · 2026-01-02");
    t.quit_and_check_restored("q");

    let status = ws.status(None);
    let runs = status["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 4, "{status:#}");
    for r in &runs[..3] {
        assert_eq!(r["state"], "succeeded", "{r:#}");
        assert_eq!(r["backfill_id"], 1, "{r:#}");
    }
}

const LIVE_WS: &str = r#"
[workspace]
name = "live"

[pipelines.p]

[[pipelines.p.tasks]]
id = "wait_for_flag"
kind = "command"
command = "sh wait_flag.sh flag"

[[pipelines.p.tasks]]
id = "after_flag"
kind = "command"
after = ["wait_for_flag"]
command = "echo the flag came"
"#;

/// A run started by another process (cron, a shell) shows up in a console
/// that is already open and follows it to the end without any keypress.
#[test]
fn a_run_started_elsewhere_appears_and_updates_live() {
    if !tmux_or_skip("live_run") {
        return;
    }
    let ws = Ws::new(LIVE_WS);
    ws.install_scripts();
    let t = Tmux::start("live", ws.path(), 100, 30, &[]);
    t.open_console("", "");
    t.wait_for("No runs yet");

    // Another process runs the pipeline; nobody touches the console.
    let mut run = Bg::new(ws.spawn(&["run", "p"]));
    let s = t.wait_screen("the new run with its running task", |s| {
        line_with(s, &["▶", "wait_for_flag"]).is_some()
    });
    assert!(s.contains("Runs (1)"), "{s}");
    assert!(run_row(&s, "▶ ", "running").is_some(), "{s}");
    assert!(s.contains("1 running"), "header:\n{s}");
    assert!(
        line_with(&s, &["after_flag", "waiting on wait_for_flag"]).is_some(),
        "after_flag does not say why it waits:\n{s}"
    );
    assert_eq!(ws.task_state("latest", "wait_for_flag"), "running");

    ws.touch("flag");
    let s = t.wait_screen("both tasks to succeed on screen", |s| {
        line_with(s, &["✓", "wait_for_flag"]).is_some()
            && line_with(s, &["✓", "after_flag"]).is_some()
            && run_row(s, "✓ ", "succeeded").is_some()
    });
    assert!(s.contains("0 running"), "{s}");
    let (code, _, err) = run.wait(WAIT);
    assert_eq!(code, 0, "the run failed: {err}");
    t.quit_and_check_restored("q");
}

const FAILING_WS: &str = r#"
[workspace]
name = "broken"

[pools.db]
size = 2

[pipelines.p]

[[pipelines.p.tasks]]
id = "boom"
kind = "command"
command = "echo 'it broke' >&2; exit 3"

[[pipelines.p.tasks]]
id = "after_boom"
kind = "command"
after = ["boom"]
command = "true"
"#;

/// `--readonly` (and SWITCHYARD_READONLY=1): the header says so, and the
/// mutating keys say why they do nothing instead of asking to confirm.
#[test]
fn a_readonly_console_refuses_to_change_anything() {
    if !tmux_or_skip("readonly") {
        return;
    }
    let ws = Ws::new(FAILING_WS);
    let (code, _, _) = ws.run(&["run", "p"]);
    assert_eq!(code, 1);
    let t = Tmux::start("readonly", ws.path(), 100, 30, &[]);

    for (prefix, args) in [("", "--readonly"), ("SWITCHYARD_READONLY=1 ", "")] {
        t.open_console(prefix, args);
        let s = t.wait_screen("the failed task", |s| {
            line_with(s, &["›", "✗", "boom"]).is_some()
        });
        assert!(s.contains("READ-ONLY"), "no READ-ONLY badge:\n{s}");
        let footer = s.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
        assert!(
            !footer.contains("rerun"),
            "the footer offers a rerun in read-only mode: {footer}"
        );

        // B: the backfill form.
        // Each key's own refusal: one left on screen by the key before
        // does not count.
        for (key, what) in [
            ("R", "rerun downstream"),
            ("F", "rerun the failed tasks"),
            ("x", "cancel"),
            ("m", "mark"),
            ("n", "add a note"),
            ("B", "start a backfill"),
        ] {
            t.keys(&[key]);
            let s = t.wait_for(&format!("read-only: cannot {what} (this console"));
            no_question_after(&t, key, &s);
        }
        // Pools: `+` and the palette are refused as well.
        t.keys(&["2"]);
        t.wait_for("Pools (1)");
        t.keys(&["+"]);
        let s = t.wait_for("read-only: cannot grow a pool (");
        no_question_after(&t, "+", &s);
        t.keys(&[":"]);
        t.wait_for("Command");
        t.type_text("pool db 5");
        t.keys(&["Enter"]);
        let s = t.wait_screen("the palette to close", |s| !s.contains(":pool db 5"));
        no_question_after(&t, ":pool db 5", &s);
        // Reloaded from the store: still 2.
        t.keys(&["1"]);
        t.wait_for("Runs (1)");
        t.keys(&["2"]);
        let s = t.wait_for("Pools (1)");
        assert!(s.contains("0/2 running"), "the pool changed:\n{s}");
        t.keys(&["1"]);
        t.wait_for("Runs (1)");
        t.quit_and_check_restored("q");
        // Nothing changed in the store.
        assert_eq!(ws.task_state("latest", "boom"), "failed");
        assert_eq!(ws.task_state("latest", "after_boom"), "upstream_failed");
    }
}

/// After `key`, no question is on screen: `?` (pressed next) opens the help,
/// which a confirmation, a mark choice or a note box would have swallowed.
fn no_question_after(t: &Tmux, key: &str, before: &str) {
    t.keys(&["?"]);
    let s = t.wait_screen("the help (or a question)", |s| {
        s.contains("Help ·")
            || s.contains("Enter confirm")
            || s.contains("Enter ok")
            || s.contains(" Mark ")
    });
    assert!(
        s.contains("Help ·"),
        "`{key}` asked a question in read-only mode:\n{s}\nbefore:\n{before}"
    );
    assert!(!s.contains("goes back to pending"), "{s}");
    t.keys(&["Escape"]);
    t.wait_screen("the help to close", |s| !s.contains("Help ·"));
}

const POOL_WS: &str = r#"
[workspace]
name = "pools"

[pools.db]
size = 1

[pipelines.p]

[[pipelines.p.tasks]]
id = "t1"
kind = "command"
command = "sh wait_flag.sh go"
pool = "db"

[[pipelines.p.tasks]]
id = "t2"
kind = "command"
command = "sh wait_flag.sh go"
pool = "db"

[[pipelines.p.tasks]]
id = "t3"
kind = "command"
command = "sh wait_flag.sh go"
pool = "db"
"#;

/// The pools screen: `+` raises the concurrency of a run that another
/// process executes; `:pool db 1` lowers it again without killing anything.
#[test]
fn pools_grow_with_plus_and_shrink_from_the_palette() {
    if !tmux_or_skip("pools") {
        return;
    }
    let ws = Ws::new(POOL_WS);
    ws.install_scripts();
    let mut run = Bg::new(ws.spawn(&["run", "p"]));
    wait_until(WAIT, "one task running, two queued on the pool", || {
        running_queued(&ws) == Some((1, 2))
    });

    let t = Tmux::start("pools", ws.path(), 100, 30, &[]);
    t.open_console("", "");
    let s = t.wait_for("1 running");
    assert!(
        s.contains("2 waiting on pool db") || s.contains("2 on pool db"),
        "the header does not name the pool the tasks wait on:\n{s}"
    );
    assert!(
        line_with(&s, &["…", "pool db 1/1"]).is_some(),
        "no queued task waits on the pool:\n{s}"
    );

    t.keys(&["2"]);
    let s = t.wait_for("Pools (1)");
    assert!(
        line_with(&s, &["db", "1/1 running", "2 queued", "full"]).is_some(),
        "{s}"
    );

    // +: one more slot, taken within about a second by the other process.
    t.keys(&["+"]);
    t.wait_for("pool db: size 2");
    wait_until(WAIT, "the run to use the new slot", || {
        running_queued(&ws) == Some((2, 1))
    });
    let s = t.wait_screen("2/2 on the pools screen", |s| {
        line_with(s, &["db", "2/2 running", "1 queued"]).is_some()
    });
    assert!(line_with(&s, &["…", "(run 1)"]).is_some(), "{s}");
    assert_eq!(pool_wait(&ws), "pool db 2/2");

    // The palette: `:pool db 1`; the two running tasks keep running.
    t.keys(&[":"]);
    t.wait_for("Command");
    t.type_text("pool db 1");
    t.keys(&["Enter"]);
    t.wait_for("pool db: size 1");
    let s = t.wait_screen("2/1 on the pools screen", |s| {
        line_with(s, &["db", "2/1 running"]).is_some()
    });
    assert!(!s.contains(":pool db 1"), "the palette stayed open:\n{s}");
    wait_until(WAIT, "the store to say 2/1", || {
        pool_wait(&ws) == "pool db 2/1"
    });
    assert_eq!(running_queued(&ws), Some((2, 1)));

    // Everything finishes; the console shows it.
    ws.touch("go");
    let (code, _, err) = run.wait(WAIT);
    assert_eq!(code, 0, "the run failed: {err}");
    t.wait_screen("the pool to empty", |s| {
        line_with(s, &["db", "0/1 running", "0 queued"]).is_some()
    });
    t.keys(&["1"]);
    t.wait_screen("the run to succeed", |s| {
        run_row(s, "✓ ", "succeeded").is_some()
    });
    t.quit_and_check_restored("q");
}

/// What the queued task of the pool test waits on, from `status --json`
/// (it says the pool's live use and size, e.g. "pool db 2/2").
fn pool_wait(ws: &Ws) -> String {
    let s = ws.status(Some("latest"));
    s["runs"][0]["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["state"] == "queued")
        .and_then(|t| t["waiting_on"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// (running, queued) tasks of the newest run, once it exists.
fn running_queued(ws: &Ws) -> Option<(usize, usize)> {
    let (code, out, _) = ws.run(&["status", "--json", "--run", "latest"]);
    if code != 0 {
        return None;
    }
    let v: Value = serde_json::from_str(&out).ok()?;
    let tasks = v["runs"][0]["tasks"].as_array()?;
    let n = |st: &str| tasks.iter().filter(|t| t["state"] == st).count();
    Some((n("running"), n("queued")))
}

/// The mouse: a click selects the run or task under it, the wheel moves
/// through the list the keys are in.
#[test]
fn the_mouse_selects_and_scrolls() {
    if !tmux_or_skip("mouse") {
        return;
    }
    let ws = Ws::new(FAILING_WS);
    assert_eq!(ws.run(&["run", "p", "--date", "2026-01-01"]).0, 1);
    assert_eq!(ws.run(&["run", "p", "--date", "2026-01-02"]).0, 1);
    let t = Tmux::start("mouse", ws.path(), 100, 30, &[]);
    t.open_console("", "");
    let s = t.wait_screen("run 2 with its failed task selected", |s| {
        s.contains("run 2") && line_with(s, &["›", "✗", "boom"]).is_some()
    });

    // Click on the older run.
    let row = s
        .lines()
        .position(|l| l.contains("2026-01-01") && l.contains("failed"))
        .unwrap_or_else(|| panic!("no row for run 1:\n{s}"));
    t.mouse(0, 20, row);
    let s = t.wait_screen("run 1 selected", |s| {
        s.contains("Run 1 · p · 2026-01-01") && line_with(s, &["›", "2026-01-01"]).is_some()
    });
    assert!(s.contains("│ run 1") || s.contains("run 1  "), "{s}");

    // The wheel goes to the list the keys go to (the runs, after a click on one).
    let tasks_row = s
        .lines()
        .position(|l| l.contains("after_boom"))
        .unwrap_or_else(|| panic!("no after_boom row:\n{s}"));
    t.mouse(0, 20, tasks_row);
    t.wait_screen("after_boom selected by a click", |s| {
        line_with(s, &["›", "after_boom"]).is_some()
    });
    t.mouse(64, 20, tasks_row);
    t.wait_screen("the wheel to move the cursor up to boom", |s| {
        line_with(s, &["›", "✗", "boom"]).is_some()
    });
    t.mouse(65, 20, tasks_row);
    t.wait_screen("the wheel to move the cursor down to after_boom", |s| {
        line_with(s, &["›", "after_boom"]).is_some()
    });
    t.keys(&["Enter"]);
    t.wait_for("after_boom · upstream_failed");
    t.keys(&["Escape"]);
    t.wait_for("Runs (2)");
    t.quit_and_check_restored("q");
}

/// `kill` (SIGTERM) or a closed SSH session (SIGHUP) ends the console with
/// the usual status, and the shell gets its terminal back all the same.
#[test]
fn a_console_killed_from_outside_gives_the_terminal_back() {
    if !tmux_or_skip("killed") {
        return;
    }
    let ws = Ws::new(FAILING_WS);
    let t = Tmux::start("killed", ws.path(), 80, 24, &[]);
    for (sig, code) in [(libc::SIGTERM, "143"), (libc::SIGHUP, "129")] {
        t.open_console("", "");
        t.wait_for("No runs yet");
        let pid = t.console_pid();
        // SAFETY: a plain syscall to a process this test started.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill {pid}");
        t.check_restored(code);
    }
}
