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

/// `backfill --detach` returns at once and a worker runs every date; `rerun
/// --detach` of a failed task hands it to a worker, which runs it to green.
#[test]
fn backfill_and_rerun_detach_hand_the_work_to_a_worker() {
    let ws = Ws::new(
        r#"
[pipelines.p]
[[pipelines.p.tasks]]
id = "day"
kind = "command"
command = "echo {run_date} >> days; test -f fixed || test {run_date} != 2026-03-02"
"#,
    );
    let (code, out, err) = ws.run_within(
        LONG,
        &[
            "backfill",
            "p",
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-03",
            "--detach",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("handed to worker pid"), "{out}");
    let runs = || {
        ws.status(None)["runs"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    wait_until(LONG, "the worker to end every run", || {
        let rs = runs();
        rs.len() == 3
            && rs
                .iter()
                .all(|r| r["state"] != "running" && r["state"] != "queued")
    });
    let failed: Vec<_> = (runs().into_iter())
        .filter(|r| r["state"] == "failed")
        .map(|r| r["run_date"].clone())
        .collect();
    assert_eq!(failed, ["2026-03-02"], "{:#?}", runs());
    let mut days: Vec<String> = std::fs::read_to_string(ws.path().join("days"))
        .expect("days")
        .lines()
        .map(String::from)
        .collect();
    days.sort();
    assert_eq!(days, ["2026-03-01", "2026-03-02", "2026-03-03"]);

    std::fs::write(ws.path().join("fixed"), "").expect("fix");
    let id = (runs().into_iter())
        .find(|r| r["run_date"] == "2026-03-02")
        .and_then(|r| r["id"].as_i64())
        .expect("the failed run");
    let (code, out, err) = ws.run_within(LONG, &["rerun", &id.to_string(), "day", "--detach"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("handed to worker pid"), "{out}");
    wait_until(LONG, "the rerun to succeed", || {
        ws.try_task_state(&id.to_string(), "day").as_deref() == Some("succeeded")
    });
    assert_eq!(ws.run_state(&id.to_string()), "succeeded");
}

/// A lease held on another host is judged by its heartbeat alone (its pid
/// means nothing here): fresh, it is left alone; stale, the next process
/// reaps it and the run's running task becomes `interrupted`.
#[test]
fn a_foreign_hosts_lease_is_taken_over_only_once_its_heartbeat_is_stale() {
    let ws = Ws::new(
        "[pipelines.p]\n[[pipelines.p.tasks]]\nid = \"t\"\nkind = \"command\"\ncommand = \"true\"\n",
    );
    let (code, _, err) = ws.run_within(LONG, &["run", "p"]);
    assert_eq!(code, 0, "{err}");
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default()
    };
    // Run 1 as if a worker on another host were executing it, pid 1 there.
    let held_since = |ms: i64| {
        ws.state_sql(&format!(
                "UPDATE runs SET state = 'running', owner_token = 'far-away', owner_pid = 1, \
                 owner_host = 'another-host', owner_started = NULL, heartbeat_at = {ms} WHERE id = 1; \
                 UPDATE task_instances SET state = 'running', finished_at = NULL WHERE run_id = 1"
        ))
    };
    held_since(now_ms());
    let (code, _, err) = ws.run_within(LONG, &["run", "p", "--date", "2026-05-02"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        ws.task_state("1", "t"),
        "running",
        "a live foreign lease was taken"
    );

    held_since(now_ms() - 60_000);
    let (code, _, err) = ws.run_within(LONG, &["run", "p", "--date", "2026-05-03"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(ws.task_state("1", "t"), "interrupted");
    assert_eq!(ws.run_state("1"), "failed");
    let owner = ws.state_sql("SELECT COALESCE(owner_token, '-') FROM runs WHERE id = 1");
    assert_eq!(owner, "-", "the stale lease was cleared");
}
