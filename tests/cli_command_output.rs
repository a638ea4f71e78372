//! A command's output is bytes: a line that is not UTF-8 is kept and reading goes
//! on (the task's exit status stays its own), and a single huge line is stored cut.

mod common;

use common::Ws;

fn log_json(ws: &Ws, task: &str) -> Vec<serde_json::Value> {
    let (code, out, err) = ws.run(&["logs", "latest", task, "--json"]);
    assert_eq!(code, 0, "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn texts(lines: &[serde_json::Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_line_that_is_not_utf8_is_kept_and_reading_goes_on() {
    // `\351` is é in Latin-1: one byte that is not UTF-8. The sleep lets the
    // reader meet that byte before the command writes again, so a reader that
    // stops there kills the command with SIGPIPE on its next write.
    let ws = Ws::new(
        r#"[pipelines.p]
[[pipelines.p.tasks]]
id = "latin1"
kind = "command"
command = "printf 'caf\\351\\n'; sleep 1; echo second; exit 3"
"#,
    );
    let (code, out, err) = ws.run(&["run", "p", "--date", "2026-07-01"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let st = ws.status(Some("latest"));
    let task = &st["runs"][0]["tasks"][0];
    assert_eq!(
        task["error"], "command exited with code 3: second",
        "the exit status is the command's own: {task}"
    );
    assert_eq!(
        texts(&log_json(&ws, "latin1"))[..2],
        ["caf\u{FFFD}".to_string(), "second".to_string()]
    );
}

#[test]
fn a_huge_line_is_stored_cut_and_the_next_lines_follow() {
    let ws = Ws::new(
        r#"[pipelines.p]
[[pipelines.p.tasks]]
id = "huge"
kind = "command"
command = "head -c 20000000 /dev/zero | tr '\\0' x; echo; echo after"
"#,
    );
    let (code, out, err) = ws.run(&["run", "p", "--date", "2026-07-01"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let lines = texts(&log_json(&ws, "huge"));
    assert_eq!(lines.len(), 2, "one cut line, then the next");
    let cut = &lines[0];
    assert!(cut.starts_with("xxxxxxxx"), "{}", &cut[..80.min(cut.len())]);
    assert!(
        cut.len() <= 20_000,
        "a 20 MB line is stored cut, not whole: {} bytes",
        cut.len()
    );
    assert!(
        cut.ends_with("(line cut at 16384 bytes)"),
        "the cut is said: {}",
        &cut[cut.len().saturating_sub(80)..]
    );
    assert_eq!(lines[1], "after");
}
