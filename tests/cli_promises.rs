//! What the README promises of the binary and no other test exercised:
//! `logs --follow` shows lines while the task runs and ends with it; a
//! command's `timeout` stops it (its process too) and fails the attempt;
//! Ctrl-C of `run` exits 130 with its running task cancelled and the run
//! failed; `{run_id}` and `{attempt}` expand in a command.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use common::{Bg, Ws, pid_alive, wait_until};

const LONG: Duration = Duration::from_secs(60);

fn wait_file(ws: &Ws, name: &str) -> String {
    let path = ws.path().join(name);
    wait_until(LONG, &format!("{name} to be written"), || {
        std::fs::read_to_string(&path).is_ok_and(|s| s.ends_with('\n'))
    });
    std::fs::read_to_string(&path).unwrap_or_default()
}

#[test]
fn logs_follow_shows_lines_while_the_task_runs_and_ends_with_it() {
    let ws = Ws::new(
        r#"
[pipelines.p]
[[pipelines.p.tasks]]
id = "talk"
kind = "command"
command = "echo first line; while [ ! -f go ]; do sleep 0.1; done; echo second line"
"#,
    );
    let mut run = Bg::new(ws.spawn(&["run", "p"]));
    wait_until(LONG, "the task to run", || {
        ws.try_task_state("latest", "talk").as_deref() == Some("running")
    });
    let mut follow = ws
        .cmd(&["logs", "latest", "talk", "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("logs --follow");
    let (tx, rx) = mpsc::channel();
    let out = follow.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let first = rx.recv_timeout(LONG).expect("a line while the task runs");
    assert!(first.contains("first line"), "{first}");
    assert_eq!(
        ws.task_state("latest", "talk"),
        "running",
        "the line came before the task ended"
    );
    std::fs::write(ws.path().join("go"), "").expect("go");
    let rest: Vec<String> = rx.iter().collect(); // ends when `logs` exits
    assert!(rest.iter().any(|l| l.contains("second line")), "{rest:?}");
    let status = follow.wait().expect("logs exits");
    assert_eq!(
        status.code(),
        Some(0),
        "logs --follow ends when the task does"
    );
    let (code, _, err) = run.wait(LONG);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_command_timeout_stops_it_and_fails_the_attempt() {
    let ws = Ws::new(
        r#"
[pipelines.p]
[[pipelines.p.tasks]]
id = "stuck"
kind = "command"
timeout = "1s"
command = "echo $$ > pid; sleep 30; touch finished"
"#,
    );
    let (code, _, err) = ws.run_within(LONG, &["run", "p"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(ws.task_state("latest", "stuck"), "failed");
    let st = ws.status(Some("latest"));
    let error = st["runs"][0]["tasks"][0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(error.contains("timed out after 1s"), "{st:#}");
    let pid: i32 = wait_file(&ws, "pid").trim().parse().expect("pid");
    assert!(
        !pid_alive(pid),
        "the timed-out command's shell was left running"
    );
    assert!(!ws.path().join("finished").exists());
}

#[test]
fn ctrl_c_of_run_exits_130_with_its_task_cancelled_and_the_run_failed() {
    let ws = Ws::new(
        r#"
[pipelines.p]
[[pipelines.p.tasks]]
id = "long"
kind = "command"
command = "echo $$ > pid; sleep 60; touch finished"
"#,
    );
    let mut run = Bg::new(ws.spawn(&["run", "p"]));
    let pid: i32 = wait_file(&ws, "pid").trim().parse().expect("pid");
    // SAFETY: a signal to our own child.
    unsafe {
        libc::kill(run.pid(), libc::SIGINT);
    }
    let (code, _, err) = run.wait(LONG);
    assert_eq!(code, 130, "{err}");
    assert_eq!(ws.task_state("latest", "long"), "cancelled");
    assert_eq!(ws.run_state("latest"), "failed");
    assert!(!pid_alive(pid), "the task's process outlived Ctrl-C");
    assert!(!ws.path().join("finished").exists());
}

#[test]
fn run_id_and_attempt_expand_in_a_command() {
    let ws = Ws::new(
        r#"
[pipelines.p]
[[pipelines.p.tasks]]
id = "flaky"
kind = "command"
retries = 1
retry_delay = "1s"
command = "echo 'run {run_id} attempt {attempt}' >> seen; test {attempt} -ge 2"
"#,
    );
    let (code, _, err) = ws.run_within(LONG, &["run", "p"]);
    assert_eq!(code, 0, "the second attempt succeeds: {err}");
    let (code, _, err) = ws.run_within(LONG, &["run", "p", "--date", "2026-01-02"]);
    assert_eq!(code, 0, "{err}");
    let seen = std::fs::read_to_string(ws.path().join("seen")).expect("seen");
    assert_eq!(
        seen,
        "run 1 attempt 1\nrun 1 attempt 2\nrun 2 attempt 1\nrun 2 attempt 2\n"
    );
}
