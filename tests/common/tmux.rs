//! The tmux harness of the console's end-to-end tests: the real binary in
//! a real terminal, driven with `send-keys` and read with `capture-pane`.
//! Each test file that drives the console includes it with `#[path]`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::{self, BIN};

/// Long enough for a loaded 2-core CI machine; the waits end as soon as the
/// screen shows what they wait for.
pub const WAIT: Duration = Duration::from_secs(90);
pub const PROMPT: &str = "sy$ ";

/// Whether tmux can be used; without it `live::missing` (fails under CI,
/// else records the skip).
pub fn tmux_or_skip(test: &str) -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        common::live::missing(
            test,
            "tmux",
            "`tmux -V` failed: tmux is not installed, the console was not tested",
        );
    }
    ok
}

/// A tmux server of its own with one `sh` pane in the workspace directory.
/// Dropping it kills the server (and with it the pane's processes).
pub struct Tmux {
    socket: String,
    /// The socket file, which tmux leaves behind after `kill-server`.
    socket_path: Option<PathBuf>,
    dir: PathBuf,
}

static SERVERS: AtomicUsize = AtomicUsize::new(0);

impl Tmux {
    /// Starts `sh` in a `w`×`h` pane in `dir`, with `SY` naming the binary,
    /// `SWITCHYARD_HOME` a directory of its own, and `env` added.
    pub fn start(test: &str, dir: &Path, w: u16, h: u16, env: &[(&str, &str)]) -> Tmux {
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

    pub fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        // -u: UTF-8 whatever the locale; -f /dev/null: nobody's ~/.tmux.conf.
        c.args(["-u", "-f", "/dev/null", "-L", &self.socket])
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.tmux().args(args).output().expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Presses keys by tmux name: `Enter`, `Escape`, `R`, `+`…
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "sy", k]);
            // Keys apart, so Escape and the next key are not read as Alt+key.
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Types text literally.
    pub fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "sy", "-l", text]);
    }

    /// Raw bytes to the pane's input, as a terminal would send them.
    pub fn send_hex(&self, bytes: &[u8]) {
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
    pub fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-J", "-t", "sy"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A tmux format of the pane, e.g. `#{alternate_on}`.
    pub fn format(&self, f: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "sy", f]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Polls the screen until `ok` holds; panics with the last screen.
    pub fn wait_screen(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
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

    pub fn wait_for(&self, text: &str) -> String {
        self.wait_screen(&format!("`{text}`"), |s| s.contains(text))
    }

    /// The console's own log files (for failure messages).
    pub fn console_log(&self) -> String {
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
    pub fn open_console(&self, prefix: &str, args: &str) -> String {
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
    pub fn quit_and_check_restored(&self, key: &str) {
        self.keys(&[key]);
        self.check_restored("0");
    }

    /// Waits for the console to end, then checks its exit status and that
    /// the terminal is the shell's again: the main screen with the prompt,
    /// cooked mode with echo, no mouse capture, a visible cursor.
    pub fn check_restored(&self, code: &str) {
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
    pub fn console_pid(&self) -> i32 {
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
    pub fn mouse(&self, button: u8, column: usize, row: usize) {
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

pub fn walk(dir: &Path) -> Vec<PathBuf> {
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
pub fn line_with<'a>(screen: &'a str, words: &[&str]) -> Option<&'a str> {
    screen.lines().find(|l| words.iter().all(|w| l.contains(w)))
}

/// The runs list's row of run 1 of pipeline `p` with `glyph` and `state`.
pub fn run_row<'a>(screen: &'a str, glyph: &str, state: &str) -> Option<&'a str> {
    screen.lines().find(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        l.contains(glyph) && words.windows(2).any(|w| w == ["1", "p"]) && words.contains(&state)
    })
}
