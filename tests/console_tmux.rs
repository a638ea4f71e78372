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

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{BIN, Bg, Ws, wait_until};
use serde_json::Value;

/// Long enough for a loaded 2-core CI machine; the waits end as soon as the
/// screen shows what they wait for.
const WAIT: Duration = Duration::from_secs(90);
const PROMPT: &str = "sy$ ";

/// Whether tmux can be used; without it, fail under CI=true, else say SKIP loudly.
fn tmux_or_skip(test: &str) -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("tmux is not installed and CI=true: the console's end-to-end tests must run");
        }
        eprintln!(
            "\n************************************************************\n\
             SKIP {test}: tmux is not installed, the console was NOT tested\n\
             ************************************************************\n"
        );
    }
    ok
}

/// A tmux server of its own with one `sh` pane in the workspace directory.
/// Dropping it kills the server (and with it the pane's processes).
struct Tmux {
    socket: String,
    /// The socket file, which tmux leaves behind after `kill-server`.
    socket_path: Option<PathBuf>,
    dir: PathBuf,
}

static SERVERS: AtomicUsize = AtomicUsize::new(0);

impl Tmux {
    /// Starts `sh` in a `w`×`h` pane in `dir`, with `SY` naming the binary,
    /// `SWITCHYARD_HOME` a directory of its own, and `env` added.
    fn start(test: &str, dir: &Path, w: u16, h: u16, env: &[(&str, &str)]) -> Tmux {
        let n = SERVERS.fetch_add(1, Ordering::SeqCst);
        let mut t = Tmux {
            socket: format!("sy-{}-{n}-{test}", std::process::id()),
            socket_path: None,
            dir: dir.to_path_buf(),
        };
        let home = dir.join(".console-home");
        std::fs::create_dir_all(&home).expect("console home");
        let mut cmd = t.tmux();
        // The server and so the pane get exactly this environment.
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("SWITCHYARD_HOME", &home)
            .env("LANG", "C.UTF-8")
            .env("TERM", "xterm-256color")
            .env("SHELL", "/bin/sh")
            .env("PS1", PROMPT)
            .env("SY", BIN);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.args(["new-session", "-d", "-s", "sy", "-x"])
            .arg(w.to_string())
            .arg("-y")
            .arg(h.to_string())
            .arg("-c")
            .arg(dir)
            .arg("sh");
        let out = cmd.output().expect("start tmux");
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t.socket_path = Some(PathBuf::from(t.format("#{socket_path}")));
        t.wait_screen("the shell's prompt", |s| s.contains(PROMPT.trim_end()));
        t
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        // -u: UTF-8 whatever the locale; -f /dev/null: nobody's ~/.tmux.conf.
        c.args(["-u", "-f", "/dev/null", "-L", &self.socket])
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = self.tmux().args(args).output().expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Presses keys by tmux name: `Enter`, `Escape`, `R`, `+`…
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "sy", k]);
            // Keys apart, so Escape and the next key are not read as Alt+key.
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Types text literally.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "sy", "-l", text]);
    }

    /// Raw bytes to the pane's input, as a terminal would send them.
    fn send_hex(&self, bytes: &[u8]) {
        let mut args = vec![
            "send-keys".to_string(),
            "-t".into(),
            "sy".into(),
            "-H".into(),
        ];
        args.extend(bytes.iter().map(|b| format!("{b:02x}")));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&args);
    }

    /// The visible screen, one line per row.
    fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-J", "-t", "sy"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A tmux format of the pane, e.g. `#{alternate_on}`.
    fn format(&self, f: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "sy", f]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Polls the screen until `ok` holds; panics with the last screen.
    fn wait_screen(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what}; the screen:\n{s}\n{}",
                    self.console_log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_for(&self, text: &str) -> String {
        self.wait_screen(&format!("`{text}`"), |s| s.contains(text))
    }

    /// The console's own log files (for failure messages).
    fn console_log(&self) -> String {
        let mut out = String::new();
        let home = self.dir.join(".console-home");
        for e in walk(&home) {
            if e.extension().is_some_and(|x| x == "log")
                && let Ok(text) = std::fs::read_to_string(&e)
            {
                let tail: Vec<&str> = text.lines().rev().take(30).collect();
                out.push_str(&format!("--- {}\n", e.display()));
                for l in tail.into_iter().rev() {
                    out.push_str(l);
                    out.push('\n');
                }
            }
        }
        out
    }

    /// Types `switchyard -c switchyard.toml ARGS` at the prompt, followed by
    /// what prints its exit code and the terminal modes it leaves behind;
    /// waits until the console has drawn its header.
    fn open_console(&self, prefix: &str, args: &str) -> String {
        self.type_text(&format!(
            "printf '\\033[H\\033[2J'; {prefix}\"$SY\" -c switchyard.toml {args}; echo \"console exited: $?\"; \
             echo \"tty: $(stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' ')\""
        ));
        self.keys(&["Enter"]);
        self.wait_screen("the console to draw", |s| {
            self.format("#{alternate_on}") == "1" && s.contains("│")
        })
    }

    /// Presses `key` to quit, then checks that the console exited 0 and
    /// gave the terminal back.
    fn quit_and_check_restored(&self, key: &str) {
        self.keys(&[key]);
        self.check_restored("0");
    }

    /// Waits for the console to end, then checks its exit status and that
    /// the terminal is the shell's again: the main screen with the prompt,
    /// cooked mode with echo, no mouse capture, a visible cursor.
    fn check_restored(&self, code: &str) {
        let s = self.wait_screen("the console to exit", |s| {
            s.lines()
                .any(|l| l.starts_with("tty: ") && !l.contains("$("))
        });
        let exited = s
            .lines()
            .find_map(|l| l.strip_prefix("console exited: "))
            .map(str::trim);
        assert_eq!(exited, Some(code), "the console's exit status:\n{s}");
        let tty = s
            .lines()
            .find(|l| l.starts_with("tty: ") && !l.contains("$("))
            .unwrap_or_default();
        let modes: Vec<&str> = tty["tty: ".len()..].split_whitespace().collect();
        assert!(
            modes.contains(&"icanon") && modes.contains(&"echo"),
            "the terminal was left in raw mode ({tty}):\n{s}"
        );
        assert_eq!(
            self.format("#{alternate_on}"),
            "0",
            "still on the alternate screen:\n{s}"
        );
        assert_eq!(
            self.format("#{mouse_any_flag}"),
            "0",
            "mouse capture left on:\n{s}"
        );
        assert_eq!(self.format("#{cursor_flag}"), "1", "cursor left hidden");
        // The shell is back, waiting at its prompt.
        let last = s.lines().rev().find(|l| !l.trim().is_empty());
        assert_eq!(
            last.map(str::trim_end),
            Some(PROMPT.trim_end()),
            "no prompt after the console:\n{s}"
        );
    }

    /// The pid of the console: the `switchyard` process under the pane's shell.
    fn console_pid(&self) -> i32 {
        let pane: i64 = self.format("#{pane_pid}").parse().expect("pane_pid");
        let deadline = Instant::now() + WAIT;
        loop {
            // Every process as (pid, parent, name); walk down from the pane.
            let procs: Vec<(i64, i64, String)> = std::fs::read_dir("/proc")
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
                .filter_map(|pid| {
                    let parent = common::proc_stat_field(pid, 4)?;
                    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
                    Some((i64::from(pid), parent, comm.trim().to_string()))
                })
                .collect();
            let mut under = vec![pane];
            let mut i = 0;
            while i < under.len() {
                let p = under[i];
                under.extend(procs.iter().filter(|q| q.1 == p).map(|q| q.0));
                i += 1;
            }
            if let Some(q) = procs
                .iter()
                .find(|q| q.2 == "switchyard" && under.contains(&q.0))
            {
                return q.0 as i32;
            }
            assert!(
                Instant::now() < deadline,
                "no switchyard process under the pane's shell {pane}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A mouse event as the terminal sends it in SGR mode (1-based cells):
    /// `button` 0 is a left press, 64 and 65 the wheel up and down.
    fn mouse(&self, button: u8, column: usize, row: usize) {
        let mut ev = format!("\x1b[<{button};{};{}M", column + 1, row + 1);
        if button < 64 {
            ev.push_str(&format!("\x1b[<{button};{};{}m", column + 1, row + 1));
        }
        self.send_hex(ev.as_bytes());
        std::thread::sleep(Duration::from_millis(60));
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self
            .tmux()
            .arg("kill-server")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(p) = self
            .socket_path
            .take()
            .filter(|p| !p.as_os_str().is_empty())
        {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The screen line holding all of `words`.
fn line_with<'a>(screen: &'a str, words: &[&str]) -> Option<&'a str> {
    screen.lines().find(|l| words.iter().all(|w| l.contains(w)))
}

/// The runs list's row of run 1 of pipeline `p` with `glyph` and `state`.
fn run_row<'a>(screen: &'a str, glyph: &str, state: &str) -> Option<&'a str> {
    screen.lines().find(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        l.contains(glyph) && words.windows(2).any(|w| w == ["1", "p"]) && words.contains(&state)
    })
}

/// `switchyard demo --dir D` into a fresh directory, then `run nightly`,
/// which fails on purpose (publish_report gets a 503 on its first attempt).
fn demo_workspace() -> Ws {
    let ws = Ws {
        dir: tempfile::tempdir().expect("tempdir"),
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
        line_with(s, &["publish_report", "succeeded", "attempt 2"]).is_some()
            && s.contains("0 failed")
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
    assert!(line_with(&s, &["pipeline", "nightly"]).is_some(), "{s}");

    // from 2026-01-03, to 2026-01-01: refused, the form stays open.
    t.keys(&["Tab", "C-u"]);
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
        for key in ["R", "F", "x", "m", "n", "B"] {
            t.keys(&[key]);
            let s = t.wait_for("read-only: this console cannot change anything");
            no_question_after(&t, key, &s);
        }
        // Pools: `+` and the palette are refused as well.
        t.keys(&["2"]);
        t.wait_for("Pools (1)");
        t.keys(&["+"]);
        let s = t.wait_for("cannot change anything");
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
