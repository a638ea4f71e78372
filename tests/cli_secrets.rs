//! A secret that reaches the workspace through `${VAR}` never appears in any
//! output: check, run (stdout/stderr), logs, status, nor any file switchyard
//! writes (its own log, worker logs, the state store).

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Ws, wait_until};

const SECRET: &str = "s3cr3tpass";
const URL: &str = "postgres://u:s3cr3tpass@127.0.0.1:1/db";

/// The secret is never written here: it comes only from `APP_URL`.
const WS: &str = r#"[sources.app]
kind = "postgres"
url = "${APP_URL}"

[warehouses.wh]
path = "./wh.db"

[pipelines.p]
[[pipelines.p.tasks]]
id = "leak"
kind = "command"
command = """
echo "connecting to $APP_URL"
echo "the password is $APP_PASSWORD_ONLY"
echo "giving up on $APP_URL" >&2
exit 4
"""

[[pipelines.p.tasks]]
id = "query_app"
kind = "sql"
target = "app"
sql = "select 1"

[[pipelines.p.tasks]]
id = "check_app"
kind = "check"
left = { target = "app", sql = "select count(*) from users" }
right = { target = "wh", sql = "select 1" }
"#;

fn run_env(ws: &Ws, args: &[&str]) -> (i32, String, String) {
    let out = ws
        .cmd(args)
        .env("APP_URL", URL)
        .env("APP_PASSWORD_ONLY", SECRET)
        .output()
        .expect("run switchyard");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn status(ws: &Ws) -> serde_json::Value {
    let (code, out, err) = run_env(ws, &["status", "--json", "--run", "latest"]);
    assert_eq!(code, 0, "{err}");
    assert_clean("status --json", &(out.clone() + &err));
    serde_json::from_str(&out).unwrap()
}

fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET),
        "the secret leaked in {what}:\n{text}"
    );
}

/// Every file under `dir` except the workspace file itself.
fn assert_files_clean(dir: &Path, skip: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path == skip {
            continue;
        }
        if path.is_dir() {
            assert_files_clean(&path, skip);
        } else {
            let bytes = std::fs::read(&path).unwrap();
            let found = bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes());
            assert!(!found, "the secret leaked into {}", path.display());
        }
    }
}

#[test]
fn secrets_never_appear_in_any_output() {
    let ws = Ws::new(WS);

    let (code, out, err) = run_env(&ws, &["check"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_clean("check", &(out + &err));
    let (code, out, err) = run_env(&ws, &["check", "--json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_clean("check --json", &(out + &err));

    let (code, out, err) = run_env(&ws, &["run", "p", "--date", "2026-07-01"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert_clean("run", &format!("{out}\n{err}"));
    assert!(err.contains("leak failed"), "{err}");

    let st = status(&ws);
    for t in st["runs"][0]["tasks"].as_array().unwrap() {
        assert_eq!(t["state"], "failed", "every task fails here: {t}");
        assert!(t["error"].is_string(), "a failure has an error: {t}");
    }
    let leak = &st["runs"][0]["tasks"][0];
    assert!(
        leak["error"].as_str().unwrap().contains("code 4"),
        "the error is still useful: {leak}"
    );

    // The log keeps the lines, masked.
    let (code, log, err) = run_env(&ws, &["logs", "latest", "leak"]);
    assert_eq!(code, 0, "{err}");
    assert_clean("logs", &(log.clone() + &err));
    assert!(log.contains("connecting to ***"), "{log}");
    assert!(log.contains("the password is ***"), "{log}");
    for task in ["query_app", "check_app"] {
        for extra in [&[][..], &["--json"][..]] {
            let mut args = vec!["logs", "latest", task];
            args.extend_from_slice(extra);
            let (code, out, err) = run_env(&ws, &args);
            assert_eq!(code, 0, "{err}");
            assert_clean(&format!("logs {task} {extra:?}"), &(out + &err));
        }
    }
    let (code, out, err) = run_env(&ws, &["status", "--run", "latest"]);
    assert_eq!(code, 0, "{err}");
    assert_clean("status", &(out + &err));

    // A detached worker run writes its own log file.
    let (code, out, err) = run_env(&ws, &["run", "p", "--date", "2026-07-02", "--detach"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_clean("run --detach", &(out + &err));
    wait_until(Duration::from_secs(30), "the detached run to end", || {
        let st = status(&ws);
        st["runs"][0]["run_date"] == "2026-07-02" && st["runs"][0]["state"] == "failed"
    });

    // Nothing switchyard wrote holds the secret: SWITCHYARD_HOME/logs, worker
    // logs, the state store (with its WAL).
    assert!(ws.path().join(".home").join("logs").is_dir());
    assert_files_clean(ws.path(), &ws.file());
}

#[test]
fn a_missing_variable_is_named_with_its_position() {
    let ws = Ws::new(WS);
    let out = ws
        .cmd(&["check"])
        .env_remove("APP_URL")
        .env("APP_PASSWORD_ONLY", SECRET)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    let line = WS
        .lines()
        .position(|l| l == r#"url = "${APP_URL}""#)
        .unwrap()
        + 1;
    let want = format!(
        "{}:{line}:7: environment variable `APP_URL` is not set",
        ws.file().display()
    );
    assert!(stdout.contains(&want), "expected `{want}` in:\n{stdout}");
    assert_eq!(stdout.lines().count(), 1, "only that problem:\n{stdout}");

    let out = ws
        .cmd(&["run", "p"])
        .env_remove("APP_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`APP_URL` is not set"), "{stderr}");
}
