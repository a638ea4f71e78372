//! `switchyard check` reports every problem of a workspace with its exact
//! `file:line:col` and exits 2, as `run` does for a bad workspace.

mod common;

use common::Ws;
use serde_json::Value;

/// One of each class of problem. Positions below are computed from this text.
const BAD: &str = r#"[workspace]
name = "bad"

[warehouses.wh]
kind = "sqlite"
path = "./wh.db"

[pools.replica]
size = 2

[pipelines.p]
[[pipelines.p.tasks]]
id = "a"
kind = "command"
command = "true"
after = ["b"]

[[pipelines.p.tasks]]
id = "b"
kind = "command"
command = "true"
after = ["a"]

[[pipelines.p.tasks]]
id = "c"
kind = "command"
command = "true"
after = ["nosuch"]

[[pipelines.p.tasks]]
id = "c"
kind = "command"
command = "true"

[[pipelines.p.tasks]]
id = "d"
kind = "command"
command = "true"
pool = "replika"

[[pipelines.p.tasks]]
id = "e"
kind = "sql"
target = "nowhere"
sql = "select 1"

[[pipelines.p.tasks]]
id = "f"
kind = "load"
store = "lake"
path = "x.parquet"
warehouse = "wh2"
table = "t"

[[pipelines.p.tasks]]
id = "g"
kind = "export"
source = "app"
table = "t"
store = "lake"
path = "x"

[[pipelines.p.tasks]]
id = "h"
kind = "wait"
duration = "10 parsecs"

[[pipelines.p.tasks]]
id = "i"
kind = "wait"
until = "25:99"

[[pipelines.p.tasks]]
id = "j"
kind = "command"
command = "true"
retires = 2
"#;

/// 1-based (line, col) of the `n`th (0-based) occurrence of `line_text` as a
/// whole line, pointing at the first character of `at` within it.
fn pos(text: &str, line_text: &str, n: usize, at: &str) -> (usize, usize) {
    let (line_no, line) = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == line_text)
        .nth(n)
        .unwrap_or_else(|| panic!("no line `{line_text}` #{n}"));
    let byte = line
        .find(at)
        .unwrap_or_else(|| panic!("no `{at}` in `{line_text}`"));
    (line_no + 1, line[..byte].chars().count() + 1)
}

/// (line, col, the message must contain all of these).
fn expected() -> Vec<(usize, usize, Vec<&'static str>)> {
    let p = |line: &str, n: usize, at: &str| pos(BAD, line, n, at);
    let mut v = vec![
        (p(r#"id = "a""#, 0, "\"a\""), vec!["cycle: a -> b -> a"]),
        (
            p(r#"after = ["nosuch"]"#, 0, "\"nosuch\""),
            vec!["unknown upstream `nosuch`", "task `c`"],
        ),
        (
            p(r#"id = "c""#, 1, "\"c\""),
            vec!["duplicate task id `c`", "first defined on line"],
        ),
        (
            p(r#"pool = "replika""#, 0, "\"replika\""),
            vec!["unknown pool `replika`", "did you mean `replica`"],
        ),
        (
            p(r#"target = "nowhere""#, 0, "\"nowhere\""),
            vec!["unknown target", "`nowhere`"],
        ),
        (
            p(r#"store = "lake""#, 0, "\"lake\""),
            vec!["unknown store `lake`"],
        ),
        (
            p(r#"warehouse = "wh2""#, 0, "\"wh2\""),
            vec!["unknown warehouse `wh2`", "did you mean `wh`"],
        ),
        (
            p(r#"source = "app""#, 0, "\"app\""),
            vec!["unknown source `app`"],
        ),
        (
            p(r#"store = "lake""#, 1, "\"lake\""),
            vec!["unknown store `lake`"],
        ),
        (
            p(r#"duration = "10 parsecs""#, 0, "\"10 parsecs\""),
            vec!["duration", "10 parsecs"],
        ),
        (
            p(r#"until = "25:99""#, 0, "\"25:99\""),
            vec!["until", "25:99"],
        ),
        (
            p("retires = 2", 0, "retires"),
            vec!["unknown key `retires`", "did you mean `retries`"],
        ),
    ];
    v.sort_by_key(|(lc, _)| *lc);
    v.into_iter().map(|((l, c), m)| (l, c, m)).collect()
}

#[test]
fn check_reports_each_problem_at_its_position() {
    let ws = Ws::new(BAD);
    let file = ws.file().display().to_string();
    let (code, out, err) = ws.run(&["check"]);
    assert_eq!(code, 2, "check of a bad workspace exits 2:\n{out}\n{err}");
    let lines: Vec<&str> = out.lines().collect();
    let want = expected();
    assert_eq!(
        lines.len(),
        want.len(),
        "one line per problem, in file order:\n{out}"
    );
    for (line, (l, c, parts)) in lines.iter().zip(&want) {
        let prefix = format!("{file}:{l}:{c}: ");
        assert!(
            line.starts_with(&prefix),
            "expected `{prefix}…`, got:\n{line}\n\nall:\n{out}"
        );
        for part in parts {
            assert!(line.contains(part), "`{part}` missing from:\n{line}");
        }
    }
    // The duplicate names the line of the first definition.
    let first_c = pos(BAD, r#"id = "c""#, 0, "\"c\"").0;
    assert!(
        out.contains(&format!("(first defined on line {first_c})")),
        "{out}"
    );
    assert!(err.contains(&format!("{} problem", want.len())), "{err}");
}

#[test]
fn check_json_lists_the_same_problems() {
    let ws = Ws::new(BAD);
    let (code, out, err) = ws.run(&["check", "--json"]);
    assert_eq!(code, 2, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}:\n{out}"));
    assert_eq!(v["ok"], false, "{v}");
    let problems = v["problems"].as_array().unwrap();
    let want = expected();
    assert_eq!(problems.len(), want.len(), "{v:#}");
    for (p, (l, c, parts)) in problems.iter().zip(&want) {
        assert_eq!(p["file"], ws.file().display().to_string(), "{p}");
        assert_eq!(
            (p["line"].as_u64(), p["col"].as_u64()),
            (Some(*l as u64), Some(*c as u64)),
            "{p}"
        );
        let message = p["message"].as_str().unwrap();
        for part in parts {
            assert!(message.contains(part), "`{part}` missing from {p}");
        }
        assert!(
            !message.contains(&format!(":{l}:{c}")),
            "the message is not prefixed with the position: {p}"
        );
    }
}

#[test]
fn run_refuses_a_bad_workspace() {
    let ws = Ws::new(BAD);
    let (code, out, err) = ws.run(&["run", "p"]);
    assert_eq!(code, 2, "{out}\n{err}");
    let file = ws.file().display().to_string();
    let (l, c) = pos(BAD, r#"id = "a""#, 0, "\"a\"");
    assert!(
        err.contains(&format!("{file}:{l}:{c}: cycle: a -> b -> a")),
        "{err}"
    );
    assert!(
        err.contains("did you mean `retries`"),
        "every problem is shown:\n{err}"
    );
    assert!(
        !ws.path().join(".switchyard").exists(),
        "nothing was created for a bad workspace"
    );
    let (code, _, err) = ws.run(&[
        "backfill",
        "p",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-02",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cycle: a -> b -> a"), "{err}");
}

#[test]
fn check_of_a_good_workspace_and_a_syntax_error() {
    let good = r#"
[warehouses.wh]
path = "./wh.db"

[pipelines.p]
[[pipelines.p.tasks]]
id = "a"
kind = "command"
command = "true"
"#;
    let ws = Ws::new(good);
    let (code, out, err) = ws.run(&["check"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ok"), "{out}");
    assert!(out.contains("1 pipelines, 1 tasks"), "{out}");
    let (code, out, err) = ws.run(&["check", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"ok": true, "problems": [], "warnings": []})
    );

    // A toml syntax error is reported at its position, not as a panic.
    let broken = "[pipelines.p]\n[[pipelines.p.tasks]]\nid = \"a\nkind = \"command\"\n";
    let ws = Ws::new(broken);
    let (code, out, err) = ws.run(&["check", "--json"]);
    assert_eq!(code, 2, "{out}\n{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["problems"][0]["line"], 3, "{v}");
}

/// What used to pass `check` and fail (or quietly do nothing) only once run.
const LATE: &str = r#"[sources.app]
kind = "sqlite"
path = "./app.db"

[sources.pg]
kind = "postgres"
url = ""

[sources."bad\nname"]
kind = "sqlite"
path = "./x.db"

[stores.lake]
kind = "local"
path = "./lake"

[stores."a/b"]
kind = "local"
path = "./ab"

[stores.".."]
kind = "local"
path = ""

[pipelines."night/ly"]

[pipelines.p]
[[pipelines.p.tasks]]
id = "."
kind = "command"
command = "true"

[[pipelines.p.tasks]]
id = ".."
kind = "command"
command = "true"
timeout = "0s"

[[pipelines.p.tasks]]
id = "up"
kind = "export"
source = "app"
table = "t"
store = "lake"
path = "../t.parquet"

[[pipelines.p.tasks]]
id = "abs"
kind = "export"
source = "app"
table = "t"
store = "lake"
path = "/etc/t.parquet"

[[pipelines.p.tasks]]
id = "empty"
kind = "load"
store = "lake"
path = ""
warehouse = "wh"
table = "t"

[[pipelines.p.tasks]]
id = "dump"
kind = "export_all"
source = "app"
store = "lake"
prefix = "../raw/"
include = ["["]

[warehouses.wh]
path = "./wh.db"
"#;

#[test]
fn check_refuses_what_would_fail_only_at_run_time() {
    let ws = Ws::new(LATE);
    let (code, out, err) = ws.run(&["check", "--json"]);
    assert_eq!(code, 2, "{out}\n{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}:\n{out}"));
    let got: Vec<(u64, u64, String)> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().unwrap(),
                p["col"].as_u64().unwrap(),
                p["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let p = |line: &str, n: usize, at: &str| pos(LATE, line, n, at);
    let want = [
        (p(r#"url = """#, 0, "\"\""), "source `pg`: `url` is empty"),
        (
            p(r#"[sources."bad\nname"]"#, 0, "\"bad"),
            r"source name `bad\nname` has a control character",
        ),
        (
            p(r#"[stores."a/b"]"#, 0, "\"a/b\""),
            "store name `a/b` is not a name",
        ),
        (
            p(r#"[stores.".."]"#, 0, "\"..\""),
            "store name `..` is not a name",
        ),
        (p(r#"path = """#, 0, "\"\""), "store `..`: `path` is empty"),
        (
            p(r#"[pipelines."night/ly"]"#, 0, "\"night/ly\""),
            "pipeline name `night/ly` is not a name",
        ),
        (p(r#"id = ".""#, 0, "\".\""), "invalid task id `.`"),
        (p(r#"id = "..""#, 0, "\"..\""), "invalid task id `..`"),
        (
            p(r#"timeout = "0s""#, 0, "\"0s\""),
            "`timeout` must be more than 0s",
        ),
        (
            p(r#"path = "../t.parquet""#, 0, "\"../t.parquet\""),
            "`path`: `../t.parquet` has a `..`",
        ),
        (
            p(r#"path = "/etc/t.parquet""#, 0, "\"/etc"),
            "`path`: `/etc/t.parquet` is absolute",
        ),
        (p(r#"path = """#, 1, "\"\""), "`path`: the path is empty"),
        (
            p(r#"prefix = "../raw/""#, 0, "\"../raw/\""),
            "`prefix`: `../raw/` has a `..`",
        ),
        (
            p(r#"include = ["["]"#, 0, "\"[\""),
            "`include`: glob `[`: unclosed character class; missing ']'",
        ),
    ];
    for ((l, c), part) in &want {
        assert!(
            got.iter()
                .any(|(gl, gc, m)| (*gl, *gc) == (*l as u64, *c as u64) && m.contains(part)),
            "no problem at {l}:{c} containing `{part}`; got:\n{got:#?}"
        );
    }
    assert_eq!(got.len(), want.len(), "{got:#?}");
}
