//! Helpers for tests that drive the real `switchyard` binary in several processes.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

#[allow(clippy::duplicate_mod)]
pub mod live;
pub mod receiver;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_switchyard");

pub mod pg_state;

/// A temporary workspace directory with a `switchyard.toml`, and its state
/// store: a file in the directory, or a database of its own on the machine's
/// PostgreSQL when the suite runs on that backend (`pg_state`).
pub struct Ws {
    pub dir: tempfile::TempDir,
    pub pg: Option<pg_state::PgState>,
}

impl Ws {
    pub fn new(toml: &str) -> Ws {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("switchyard.toml"), toml).expect("write workspace");
        Ws {
            dir,
            pg: pg_state::PgState::for_suite(),
        }
    }

    /// `switchyard demo --dir D` into a fresh directory (not run).
    pub fn demo() -> Ws {
        let ws = Ws {
            dir: tempfile::tempdir().expect("tempdir"),
            pg: pg_state::PgState::for_suite(),
        };
        let out = Command::new(BIN)
            .args(["demo", "--dir"])
            .arg(ws.path())
            .env("SWITCHYARD_HOME", ws.path().join(".home"))
            .env_remove("SWITCHYARD_READONLY")
            .output()
            .expect("switchyard demo");
        assert!(
            out.status.success(),
            "demo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        ws
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self) -> PathBuf {
        self.path().join("switchyard.toml")
    }

    /// A `switchyard -c FILE ARGS…` command, with SWITCHYARD_HOME inside the workspace.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("-c")
            .arg(self.file())
            .args(args)
            .env("SWITCHYARD_HOME", self.path().join(".home"))
            .env_remove("SWITCHYARD_READONLY")
            .current_dir(self.path());
        match &self.pg {
            Some(pg) => c.env("SWITCHYARD_STATE", pg.url()),
            None => c.env_remove("SWITCHYARD_STATE"),
        };
        c
    }

    /// Runs SQL on the workspace's state store, whichever backend it is on
    /// (with the database's own client, not the code under test); rows as
    /// `a|b` lines.
    pub fn state_sql(&self, sql: &str) -> String {
        match &self.pg {
            Some(pg) => pg.sql(sql),
            None => sqlite(&self.path().join(".switchyard/state.db"), sql),
        }
    }

    /// Runs to completion; returns (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out: Output = self.cmd(args).output().expect("run switchyard");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Starts in the background.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn switchyard")
    }

    /// `status --json` (optionally for one run), parsed.
    pub fn status(&self, run: Option<&str>) -> Value {
        let mut args = vec!["status", "--json"];
        if let Some(r) = run {
            args.push("--run");
            args.push(r);
        }
        let (code, out, err) = self.run(&args);
        assert_eq!(code, 0, "status failed: {err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("status json: {e}\n{out}"))
    }

    /// The state of one task of a run, from `status --json`.
    pub fn task_state(&self, run: &str, task: &str) -> String {
        let s = self.status(Some(run));
        s["runs"][0]["tasks"]
            .as_array()
            .and_then(|ts| ts.iter().find(|t| t["id"] == task))
            .and_then(|t| t["state"].as_str())
            .unwrap_or_else(|| panic!("no task {task} in {s}"))
            .to_string()
    }

    pub fn run_state(&self, run: &str) -> String {
        self.status(Some(run))["runs"][0]["state"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Runs `;`-separated SQL on a SQLite file (python3's sqlite3, so the test
/// does not read with the code under test); rows as `a|b` lines.
pub fn sqlite(path: &std::path::Path, sql: &str) -> String {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=[row for s in sys.argv[2].split(';') if s.strip() for row in c.execute(s)]; c.commit(); print('\\n'.join('|'.join(map(str,x)) for x in r))")
        .arg(path)
        .arg(sql)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Polls `f` until it returns true or `timeout` passes (then panics with `what`).
pub fn wait_until(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for: {what}");
}

/// Is a process alive (and not a zombie)?
pub fn pid_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => {
            let state = s
                .rfind(')')
                .and_then(|i| s[i + 1..].trim_start().chars().next());
            !matches!(state, Some('Z') | Some('X') | None)
        }
        Err(_) => false,
    }
}

// ---- Helpers for the multi-process tests (tests/process_*.rs) ----

/// Records concurrency: `sh probe.sh SECONDS` takes a `flock`, bumps a shared
/// counter, appends `start RUN TASK N` (N = tasks running now, itself included)
/// to `events`, sleeps, then decrements and appends `end RUN TASK N`.
pub const PROBE_SH: &str = r#"exec 9>>probe.lock
flock 9
n=$(( $(cat probe.count 2>/dev/null || echo 0) + 1 ))
echo $n > probe.count
echo "start $SWITCHYARD_RUN_ID $SWITCHYARD_TASK_ID $n" >> events
flock -u 9
sleep "$1"
flock 9
n=$(( $(cat probe.count) - 1 ))
echo $n > probe.count
echo "end $SWITCHYARD_RUN_ID $SWITCHYARD_TASK_ID $n" >> events
flock -u 9
"#;

/// `sh wait_flag.sh FILE`: waits until FILE exists (gives up with exit 3 after
/// about a minute, so nothing outlives a failed test for long).
pub const WAIT_FLAG_SH: &str = r#"i=0
while [ ! -e "$1" ]; do
  i=$((i + 1))
  if [ $i -gt 600 ]; then echo "gave up waiting for $1"; exit 3; fi
  sleep 0.1
done
"#;

/// `n` tasks `PREFIX1…PREFIXn` of `pipeline` in `pool`, each `sh probe.sh SECS`
/// after `after` (TOML list items, e.g. `"gate"`).
pub fn probe_tasks(
    pipeline: &str,
    prefix: &str,
    n: usize,
    pool: &str,
    secs: &str,
    after: &str,
) -> String {
    let mut s = String::new();
    for i in 1..=n {
        s.push_str(&format!(
            "[[pipelines.{pipeline}.tasks]]\nid = \"{prefix}{i}\"\nkind = \"command\"\ncommand = \"sh probe.sh {secs}\"\npool = \"{pool}\"\nafter = [{after}]\n\n"
        ));
    }
    s
}

/// One line of the probe's `events` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeEvent {
    pub start: bool,
    pub run: String,
    pub task: String,
    /// Tasks running right after this event.
    pub running: i64,
}

impl Ws {
    /// Writes a file inside the workspace directory.
    pub fn write(&self, name: &str, contents: &str) {
        std::fs::write(self.path().join(name), contents)
            .unwrap_or_else(|e| panic!("write {name}: {e}"));
    }

    /// A file inside the workspace directory ("" if it does not exist).
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(name)).unwrap_or_default()
    }

    pub fn exists(&self, name: &str) -> bool {
        self.path().join(name).exists()
    }

    /// Creates an (empty) flag file.
    pub fn touch(&self, name: &str) {
        self.write(name, "");
    }

    /// Installs `probe.sh` and `wait_flag.sh` into the workspace directory.
    pub fn install_scripts(&self) {
        self.write("probe.sh", PROBE_SH);
        self.write("wait_flag.sh", WAIT_FLAG_SH);
    }

    /// The probe's events, in the order they happened.
    pub fn probe_events(&self) -> Vec<ProbeEvent> {
        self.read("events")
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                assert_eq!(f.len(), 4, "bad probe line {l:?}");
                ProbeEvent {
                    start: f[0] == "start",
                    run: f[1].to_string(),
                    task: f[2].to_string(),
                    running: f[3]
                        .parse()
                        .unwrap_or_else(|_| panic!("bad count in {l:?}")),
                }
            })
            .collect()
    }

    /// The most tasks the probe ever saw running at once.
    pub fn probe_max(&self) -> i64 {
        self.probe_events()
            .iter()
            .filter(|e| e.start)
            .map(|e| e.running)
            .max()
            .unwrap_or(0)
    }

    /// The newest run's id, from `status --json`.
    pub fn latest_run_id(&self) -> i64 {
        let s = self.status(Some("latest"));
        s["runs"][0]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no run in {s}"))
    }
}

/// A background `switchyard` process that is killed if the test panics first.
/// Its stdout and stderr are drained by threads, so a chatty process never blocks.
pub struct Bg {
    pub child: Option<Child>,
    out: Option<std::thread::JoinHandle<String>>,
    err: Option<std::thread::JoinHandle<String>>,
}

fn drain(
    r: Option<impl std::io::Read + Send + 'static>,
) -> Option<std::thread::JoinHandle<String>> {
    r.map(|mut r| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    })
}

impl Bg {
    pub fn new(mut child: Child) -> Bg {
        let out = drain(child.stdout.take());
        let err = drain(child.stderr.take());
        Bg {
            child: Some(child),
            out,
            err,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().map(|c| c.id() as i32).unwrap_or(-1)
    }

    /// Has the process exited (it is then reaped)?
    pub fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|c| c.try_wait().expect("try_wait").is_some())
    }

    fn output(&mut self) -> (String, String) {
        let o = self.out.take().map(|h| h.join().unwrap_or_default());
        let e = self.err.take().map(|h| h.join().unwrap_or_default());
        (o.unwrap_or_default(), e.unwrap_or_default())
    }

    /// Waits (up to `timeout`) for the process to exit; returns (code, stdout, stderr).
    pub fn wait(&mut self, timeout: Duration) -> (i32, String, String) {
        let mut child = self.child.take().expect("process already waited for");
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(s) = child.try_wait().expect("try_wait") {
                break s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let (o, e) = self.output();
                panic!("switchyard did not exit within {timeout:?}\nstdout:\n{o}\nstderr:\n{e}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let (o, e) = self.output();
        (status.code().unwrap_or(-1), o, e)
    }

    /// `kill -9`, then reap it so it is not left a zombie.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("process already waited for");
        child.kill().expect("kill -9");
        child.wait().expect("reap");
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SIGTERM first: switchyard then stops its tasks' process groups.
            // SAFETY: plain syscall on our own child's pid.
            unsafe {
                libc::kill(c.id() as libc::pid_t, libc::SIGTERM);
            }
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Field `n` (1-based, as in proc(5)) of `/proc/PID/stat`.
pub fn proc_stat_field(pid: i32, n: usize) -> Option<i64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 1..];
    // `rest` starts at field 3 (state).
    rest.split_whitespace().nth(n.checked_sub(3)?)?.parse().ok()
}

/// The session id of a process (field 6 of `/proc/PID/stat`).
pub fn session_of(pid: i32) -> Option<i64> {
    proc_stat_field(pid, 6)
}

/// The process group of a process (field 5 of `/proc/PID/stat`).
pub fn pgrp_of(pid: i32) -> Option<i64> {
    proc_stat_field(pid, 5)
}

impl Ws {
    /// `status --json` (optionally for one run), or None if it fails (e.g. no
    /// run exists yet): for polling in `wait_until`.
    pub fn try_status(&self, run: Option<&str>) -> Option<Value> {
        let mut args = vec!["status", "--json"];
        if let Some(r) = run {
            args.push("--run");
            args.push(r);
        }
        let (code, out, _) = self.run(&args);
        if code != 0 {
            return None;
        }
        serde_json::from_str(&out).ok()
    }

    /// The state of one task, or None if there is no such run or task yet.
    pub fn try_task_state(&self, run: &str, task: &str) -> Option<String> {
        let s = self.try_status(Some(run))?;
        s["runs"][0]["tasks"]
            .as_array()?
            .iter()
            .find(|t| t["id"] == task)?["state"]
            .as_str()
            .map(String::from)
    }
}

impl Ws {
    /// Like `run`, but kills the process and panics if it has not exited
    /// within `timeout` (a hung scheduler fails the test instead of hanging it).
    pub fn run_within(&self, timeout: Duration, args: &[&str]) -> (i32, String, String) {
        Bg::new(self.spawn(args)).wait(timeout)
    }
}

/// Like `wait_until`, but returns false on timeout, so the caller can panic
/// with what it knows.
pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}

/// Stops a still-running owner if the test fails half-way (SIGTERM: it
/// cancels its tasks and kills their process groups).
pub struct StopOnDrop(pub u32);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        // Only if it is still our switchyard (not a reaped pid reused since).
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", self.0)).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(BIN) {
            let _ = std::process::Command::new("kill")
                .arg(self.0.to_string())
                .status();
        }
    }
}
