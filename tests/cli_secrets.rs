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
    assert_files_without(dir, skip, SECRET);
}

/// No file under `dir` but `skip` holds `secret`.
fn assert_files_without(dir: &Path, skip: &Path, secret: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path == skip {
            continue;
        }
        if path.is_dir() {
            assert_files_without(&path, skip, secret);
        } else {
            let bytes = std::fs::read(&path).unwrap();
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
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

    // The log keeps the lines, masked: the URL's password, not its host.
    let (code, log, err) = run_env(&ws, &["logs", "latest", "leak"]);
    assert_eq!(code, 0, "{err}");
    assert_clean("logs", &(log.clone() + &err));
    assert!(
        log.contains("connecting to postgres://u:***@127.0.0.1:1/db"),
        "{log}"
    );
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

    let out = ws
        .cmd(&["run", "p"])
        .env_remove("APP_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`APP_URL` is not set"), "{stderr}");
}

/// `switchyard ARGS` with `env` set: (exit code, stdout + stderr).
fn run_with(ws: &Ws, env: &[(&str, &str)], args: &[&str]) -> (i32, String) {
    let mut cmd = ws.cmd(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run switchyard");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// Runs pipeline `p` (whose tasks all fail) and gathers everything a person can
/// read of it: the run's stdout and stderr, `status --json`, and the log of
/// every task in `tasks`.
fn run_and_read(ws: &Ws, env: &[(&str, &str)], tasks: &[&str]) -> String {
    let (code, mut all) = run_with(ws, env, &["run", "p", "--date", "2026-07-01"]);
    assert_eq!(code, 1, "{all}");
    let (code, status) = run_with(ws, env, &["status", "--json", "--run", "latest"]);
    assert_eq!(code, 0, "{status}");
    all.push_str(&status);
    for task in tasks {
        let (code, log) = run_with(ws, env, &["logs", "latest", task]);
        assert_eq!(code, 0, "{log}");
        all.push_str(&log);
    }
    all
}

/// Item 12: host, port and database are not secrets, and a secret is masked only
/// where it occurs whole, so a log keeps its numbers and names.
#[test]
fn only_secrets_are_masked_and_only_whole() {
    let ws = Ws::new(
        r#"[sources.app]
kind = "postgres"
url = "postgres://app:${DB_PASSWORD}@${DB_HOST}:${DB_PORT}/${DB_NAME}"

[pipelines.p]
[[pipelines.p.tasks]]
id = "report"
kind = "command"
command = """
echo "processed 154321 rows from the orders table in 2.5432s"
echo "connected to 127.0.0.1 as app with password $DB_PASSWORD."
exit 1
"""
"#,
    );
    let env = [
        ("DB_PASSWORD", "4321"),
        ("DB_HOST", "127.0.0.1"),
        ("DB_PORT", "5432"),
        ("DB_NAME", "orders"),
    ];
    let all = run_and_read(&ws, &env, &["report"]);
    assert!(
        all.contains("processed 154321 rows from the orders table in 2.5432s"),
        "the line is kept as written:\n{all}"
    );
    assert!(
        all.contains("connected to 127.0.0.1 as app with password ***."),
        "the password standing alone is masked:\n{all}"
    );
    let (code, sources) = run_with(&ws, &env, &["sources"]);
    assert_eq!(code, 0, "{sources}");
    assert!(
        sources.contains("postgres://app:***@127.0.0.1:5432/orders"),
        "{sources}"
    );
}

/// Item 11: a password shorter than 4 characters is masked where it stands alone
/// (a server echoing it back), and `check` warns that it cannot be masked reliably.
#[test]
fn a_very_short_password_is_masked_and_check_warns() {
    const SHORT: &str = "q7z";
    let ws = Ws::new(
        r#"[sources.app]
kind = "postgres"
url = "postgres://app:${DB_PASS}@127.0.0.1:1/db"

[pipelines.p]
[[pipelines.p.tasks]]
id = "echo_back"
kind = "command"
command = """
echo "server: password '$DB_PASS' rejected for app" >&2
echo "server: password $DB_PASS rejected"
exit 1
"""
"#,
    );
    let env = [("DB_PASS", SHORT)];
    let (code, check) = run_with(&ws, &env, &["check"]);
    assert_eq!(code, 0, "{check}");
    let line = 3;
    let want = format!(
        "{}:{line}:7: warning: the password in this URL (from `${{DB_PASS}}`) has only 3 characters",
        ws.file().display()
    );
    assert!(check.contains(&want), "expected `{want}` in:\n{check}");
    assert!(!check.contains(SHORT), "{check}");
    let (code, json) = run_with(&ws, &env, &["check", "--json"]);
    assert_eq!(code, 0, "{json}");
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["ok"], true, "a warning refuses nothing: {v}");
    assert_eq!(v["warnings"][0]["line"], line, "{v}");

    let all = run_and_read(&ws, &env, &["echo_back"]);
    assert!(!all.contains(SHORT), "the short password leaked:\n{all}");
    assert!(all.contains("server: password '***' rejected"), "{all}");
    assert!(all.contains("server: password *** rejected"), "{all}");
    assert_files_without(ws.path(), &ws.file(), SHORT);
}

/// Item 9: a `${VAR}` named like a secret is masked wherever its value appears,
/// also when it is used in a `command` or `sql` text rather than in a URL.
#[test]
fn a_secret_variable_in_a_command_or_sql_is_masked() {
    const TOKEN: &str = "Tk-bearer-20260701-abc";
    const KEY: &str = "Ky-api-31337-def";
    let ws = Ws::new(
        r#"[warehouses.wh]
path = "./wh.db"

[sources.files]
kind = "sqlite"
path = "./missing/${API_TOKEN}.db"

[pipelines.p]
[[pipelines.p.tasks]]
id = "call_api"
kind = "command"
command = """
echo "GET /v1/orders -H 'Authorization: Bearer ${API_TOKEN}'"
echo "curl: (22) 401 for Bearer ${API_TOKEN}" >&2
exit 22
"""

[[pipelines.p.tasks]]
id = "query"
kind = "sql"
target = "wh"
sql = "select * from \"${SHOP_API_KEY}\""
"#,
    );
    let env = [("API_TOKEN", TOKEN), ("SHOP_API_KEY", KEY)];
    let mut all = run_and_read(&ws, &env, &["call_api", "query"]);
    // A command's error goes to stderr and to the tracing log.
    let (code, out) = run_with(&ws, &env, &["sources", "files"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("missing/***.db"), "{out}");
    all.push_str(&out);
    let traced = ws.read(".home/logs/switchyard.log");
    assert!(traced.contains("missing/***.db"), "{traced}");
    all.push_str(&traced);
    for secret in [TOKEN, KEY] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
        assert_files_without(ws.path(), &ws.file(), secret);
    }
    assert!(all.contains("Authorization: Bearer ***'"), "{all}");
    assert!(all.contains("no such table: ***"), "{all}");
}

/// Item 10: a password written in the file is masked whatever characters it
/// holds (` `, `"`, `#`, `?`, `/` end a URL's authority in free text), and a
/// `?password=` value is masked also where it appears outside URL syntax.
#[test]
fn literal_passwords_with_any_character_are_masked() {
    let passwords = [
        "Sp ace-pw1",
        "Qu\"ote-pw2",
        "Ha#sh-pw3",
        "Que?ry-pw4",
        "Sla/sh-pw5",
        "pa ss#w?d/x\"y",
    ];
    let mut toml = String::new();
    for (i, pw) in passwords.iter().enumerate() {
        let pw = pw.replace('"', "\\\"");
        toml.push_str(&format!(
            "[sources.pg{i}]\nkind = \"postgres\"\nurl = \"postgres://app:{pw}@127.0.0.1:1/db\"\n\n"
        ));
    }
    toml.push_str(
        r#"[sources.my]
kind = "mysql"
url = "mysql://a@127.0.0.1:1/db?password=Qp-literal-77x"

[pipelines.p]
[[pipelines.p.tasks]]
id = "echo_back"
kind = "command"
command = "echo 'Access denied for user a (using password: Qp-literal-77x)'; exit 1"
"#,
    );
    let ws = Ws::new(&toml);
    let (code, text) = run_with(&ws, &[], &["sources"]);
    assert_eq!(code, 0, "{text}");
    let (code, json) = run_with(&ws, &[], &["sources", "--json"]);
    assert_eq!(code, 0, "{json}");
    let all = run_and_read(&ws, &[], &["echo_back"]);
    for out in [&text, &json, &all] {
        for pw in passwords.iter().chain(&["Qp-literal-77x"]) {
            let json_pw = pw.replace('"', "\\\"");
            assert!(
                !out.contains(pw) && !out.contains(&json_pw),
                "{pw} leaked:\n{out}"
            );
        }
    }
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    for s in v["sources"].as_array().unwrap() {
        let want = if s["name"] == "my" {
            "mysql://a@127.0.0.1:1/db?password=***"
        } else {
            "postgres://app:***@127.0.0.1:1/db"
        };
        assert_eq!(s["url"], want, "{s}");
    }
    assert!(all.contains("(using password: ***)"), "{all}");
}
