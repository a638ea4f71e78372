//! `switchyard timeline` and `journal` through the real binary: a load
//! fails, its alert reaches a real HTTP receiver (the webhook stand-in), the
//! engineer reruns it with a note, it goes green, and the timeline tells the
//! story in order, in JSON for scripts and in Markdown for the postmortem,
//! without the secrets the task printed.

mod common;

use common::Ws;
use common::receiver::Receiver;
use serde_json::Value;

const SECRET: &str = "whsec-timeline-canary-5d1e";
const NOTE: &str = "vacuum held the lock on raw_orders; stopped it";

fn workspace(hook: &Receiver) -> Ws {
    Ws::new(&format!(
        r#"
[workspace]
name = "acme"

[notify.hook]
kind = "webhook"
url = "{hook}/alerts"
secret = "${{HOOK_SECRET}}"

[pipelines.nightly]
notify = ["hook"]

[[pipelines.nightly.tasks]]
id = "extract"
kind = "command"
command = "echo extracting"

[[pipelines.nightly.tasks]]
id = "load_orders"
kind = "command"
after = ["extract"]
command = "test -f fixed || {{ echo 'relation raw_orders is locked (token {SECRET})' >&2; exit 3; }}"

[[pipelines.nightly.tasks]]
id = "report"
kind = "command"
after = ["load_orders"]
command = "echo report"
"#,
        hook = hook.url,
    ))
}

fn sy(ws: &Ws, args: &[&str]) -> (i32, String, String) {
    let out = ws
        .cmd(args)
        .env("HOOK_SECRET", SECRET)
        .output()
        .expect("run switchyard");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The index of the first entry after `from` that matches, or a panic that
/// shows the whole timeline.
fn find(entries: &[Value], from: usize, what: &str, ok: impl Fn(&Value) -> bool) -> usize {
    entries
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, e)| ok(e))
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("no {what} after entry {from} in {entries:#?}"))
}

fn is(e: &Value, kind: &str, task: Option<&str>) -> bool {
    e["kind"] == kind && e["task"].as_str() == task
}

#[test]
fn a_failure_its_page_a_note_and_the_recovery_make_one_timeline() {
    let hook = Receiver::start();
    let ws = workspace(&hook);
    let (code, _, err) = sy(&ws, &["run", "nightly", "--date", "2026-12-07"]);
    assert_eq!(code, 1, "the load fails: {err}");
    assert_eq!(hook.accepted().len(), 1, "the failure was delivered");

    std::fs::write(ws.path().join("fixed"), "").expect("fix");
    let (code, _, err) = sy(
        &ws,
        &["rerun", "1", "load_orders", "--downstream", "--note", NOTE],
    );
    assert_eq!(code, 0, "the rerun goes green: {err}");
    assert_eq!(hook.accepted().len(), 2, "and the recovery was delivered");

    let (code, out, err) = sy(&ws, &["timeline", "1", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains(SECRET), "secret leaked:\n{out}");
    let v: Value = serde_json::from_str(&out).expect("timeline json");
    let entries = v.as_array().expect("an array of entries").clone();
    for e in &entries {
        assert!(e["at"].is_string() && e["at_ms"].is_i64(), "{e}");
        assert!(e["text"].is_string() && e.get("task").is_some(), "{e}");
    }
    let at: Vec<i64> = entries.iter().filter_map(|e| e["at_ms"].as_i64()).collect();
    assert!(
        at.windows(2).all(|w| w[0] <= w[1]),
        "not in time order: {at:?}"
    );

    // The story, in order.
    let created = find(&entries, 0, "run created", |e| is(e, "run_created", None));
    let failed = find(&entries, created, "the failure", |e| {
        is(e, "task_failed", Some("load_orders"))
    });
    assert_eq!(entries[failed]["attempt"], 1);
    let error = entries[failed]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("raw_orders is locked"),
        "{}",
        entries[failed]
    );
    let alert = find(&entries, failed, "the alert", |e| {
        e["kind"] == "alert" && e["alert"] == "failed"
    });
    assert_eq!(entries[alert]["task"], "load_orders");
    let delivered = find(&entries, alert, "its delivery", |e| {
        e["kind"] == "delivery" && e["alert"] == "failed"
    });
    assert_eq!(entries[delivered]["channel"], "hook");
    assert_eq!(entries[delivered]["state"], "delivered");
    assert_eq!(entries[delivered]["tries"], 1);
    let note = find(&entries, delivered, "the note", |e| {
        e["kind"] == "journal" && e["action"] == "note"
    });
    assert_eq!(entries[note]["note"], NOTE);
    assert!(entries[note]["who"].as_str().is_some_and(|w| !w.is_empty()));
    let rerun = find(&entries, note, "the rerun", |e| {
        e["kind"] == "journal" && e["action"] == "rerun"
    });
    let reset: Vec<&str> = entries[rerun]["tasks"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(reset, ["load_orders", "report"]);
    let retry = find(&entries, rerun, "attempt 2", |e| {
        is(e, "task_retry", Some("load_orders"))
    });
    assert_eq!(entries[retry]["attempt"], 2);
    let green = find(&entries, retry, "the green load", |e| {
        is(e, "task_succeeded", Some("load_orders"))
    });
    let recovered = find(&entries, green, "the recovery", |e| {
        e["kind"] == "alert" && e["alert"] == "recovered"
    });
    find(&entries, recovered, "the recovery's delivery", |e| {
        e["kind"] == "delivery" && e["alert"] == "recovered" && e["state"] == "delivered"
    });
    find(&entries, green, "the run's end", |e| {
        e["kind"] == "run_finished" && e["state"] == "succeeded"
    });

    // The postmortem form says the same, with the note and the recovery.
    let (code, md, err) = sy(&ws, &["timeline", "latest", "--md"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        md.starts_with("# Incident timeline: nightly run 1 (2026-12-07)"),
        "{md}"
    );
    assert!(md.contains(NOTE), "{md}");
    assert!(md.contains("alert recovered"), "{md}");
    assert!(md.contains("from first alert to recovery"), "{md}");
    assert!(
        md.contains("Failures: 1 failed attempt (load_orders)"),
        "{md}"
    );
    assert!(!md.contains(SECRET), "{md}");

    // Plain text: a line per entry, after the title line.
    let (code, text, _) = sy(&ws, &["timeline", "1"]);
    assert_eq!(code, 0);
    assert_eq!(text.lines().count(), entries.len() + 1, "{text}");
}

#[test]
fn journal_lists_human_actions_across_runs_oldest_first() {
    let hook = Receiver::start();
    let ws = workspace(&hook);
    let (code, _, err) = sy(&ws, &["run", "nightly", "--date", "2026-12-07"]);
    assert_eq!(code, 1, "{err}");
    std::fs::write(ws.path().join("fixed"), "").expect("fix");
    let (code, _, err) = sy(&ws, &["rerun", "latest", "--failed", "--note", NOTE]);
    assert_eq!(code, 0, "{err}");

    let (code, out, err) = sy(&ws, &["journal", "--since", "7d", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("journal json");
    let actions: Vec<&str> = v
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    // Starting the run by hand is a human action too.
    assert_eq!(actions, ["run", "note", "rerun"], "{v:#}");
    assert_eq!(v[1]["note"], NOTE);
    assert_eq!(v[1]["run_id"], 1);
    assert_eq!(v[2]["note"], "every failure and its downstream");

    let (_, out, _) = sy(&ws, &["journal", "--run", "1"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[1].contains(NOTE) && lines[2].contains("rerun"),
        "{out}"
    );

    let (code, out, _) = sy(&ws, &["journal", "--since", "2999-01-01", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<Value>(&out).ok(),
        Some(Value::Array(Vec::new()))
    );

    let (code, _, err) = sy(&ws, &["journal", "--since", "last tuesday"]);
    assert_eq!(code, 2, "a bad --since is bad usage");
    assert!(err.contains("YYYY-MM-DD"), "{err}");
}
