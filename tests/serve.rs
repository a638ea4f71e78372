//! `switchyard serve` through the real binary: slots start runs (once, even
//! with two serves on one store), catchup after downtime, deadlines that fire
//! while the work still runs, alerts that go out when the run's process was
//! killed, and retries until the receiver accepts. The receiver is a real
//! HTTP server on 127.0.0.1 standing in for Slack/PagerDuty/webhooks.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::receiver::Receiver;
use common::{Bg, Ws, wait_for};
use serde_json::Value;

fn serve(ws: &Ws) -> Bg {
    Bg::new(ws.spawn(&["serve"]))
}

fn runs(ws: &Ws) -> Vec<Value> {
    ws.try_status(None)
        .and_then(|s| s["runs"].as_array().cloned())
        .unwrap_or_default()
}

fn alerts(ws: &Ws) -> Vec<Value> {
    let (code, out, err) = ws.run(&["alerts", "--json"]);
    assert_eq!(code, 0, "alerts: {err}");
    serde_json::from_str::<Value>(&out).expect("alerts json")["alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn every(secs: u32, extra: &str, command: &str) -> String {
    format!(
        r#"
[pipelines.tick]
schedule = "@every {secs}s"
{extra}

[[pipelines.tick.tasks]]
id = "work"
kind = "command"
command = "{command}"
"#
    )
}

#[test]
fn an_every_2s_pipeline_gets_a_run_at_each_slot() {
    let ws = Ws::new(&every(2, "", "echo tick"));
    let _serve = serve(&ws);
    assert!(
        wait_for(Duration::from_secs(30), || runs(&ws)
            .iter()
            .filter(|r| r["state"] == "succeeded")
            .count()
            >= 3),
        "three slots ran: {:#?}",
        runs(&ws)
    );
    let rs = runs(&ws);
    let mut slots: Vec<i64> = rs
        .iter()
        .filter_map(|r| r["slot"].as_str())
        .map(|s| {
            chrono::DateTime::parse_from_rfc3339(s)
                .expect("slot time")
                .timestamp()
        })
        .collect();
    slots.sort();
    assert!(slots.len() >= 3, "{rs:#?}");
    // Slots sit on multiples of 2 s since the epoch, one run each, none skipped.
    assert!(slots.iter().all(|s| s % 2 == 0), "{slots:?}");
    assert!(slots.windows(2).all(|w| w[1] - w[0] == 2), "{slots:?}");
}

#[test]
fn two_serves_on_one_store_start_each_slot_once_and_page_once() {
    let hook = Receiver::start();
    let ws = Ws::new(&format!(
        "[notify.hook]\nkind = \"webhook\"\nurl = \"{}/a\"\n{}",
        hook.url,
        every(1, "notify = [\"hook\"]", "exit 1")
    ));
    let a = serve(&ws);
    let b = serve(&ws);
    assert!(
        wait_for(Duration::from_secs(40), || runs(&ws).len() >= 5),
        "runs started"
    );
    assert!(
        wait_for(Duration::from_secs(30), || alerts(&ws)
            .iter()
            .filter(|a| a["state"] == "delivered")
            .count()
            >= 3),
        "alerts delivered"
    );
    drop(a);
    drop(b);
    let rs = runs(&ws);
    let slots: Vec<&str> = rs.iter().filter_map(|r| r["slot"].as_str()).collect();
    let distinct: HashSet<&str> = slots.iter().copied().collect();
    assert_eq!(
        slots.len(),
        distinct.len(),
        "a slot started twice: {slots:?}"
    );
    // Every failed run paged exactly once.
    let failed: HashSet<i64> = rs
        .iter()
        .filter(|r| r["state"] == "failed")
        .filter_map(|r| r["id"].as_i64())
        .collect();
    assert!(failed.len() >= 3, "{rs:#?}");
    let delivered: Vec<i64> = hook
        .accepted()
        .iter()
        .map(|r| r.json())
        .filter(|m| m["kind"] == "failed")
        .filter_map(|m| m["run_id"].as_i64())
        .collect();
    let once: HashSet<i64> = delivered.iter().copied().collect();
    assert_eq!(
        delivered.len(),
        once.len(),
        "a run paged twice: {delivered:?}\n{:#?}\n{:#?}",
        hook.accepted().iter().map(|r| r.json()).collect::<Vec<_>>(),
        alerts(&ws)
    );
    // Runs still running when the serves stopped may page later; the rest did.
    let settled: Vec<i64> = alerts(&ws)
        .iter()
        .filter(|a| a["state"] == "delivered")
        .filter_map(|a| a["run_id"].as_i64())
        .collect();
    assert!(settled.len() >= 3, "{settled:?}");
    for id in settled {
        assert!(once.contains(&id), "run {id}: delivered but not received");
    }
}

#[test]
fn a_deadline_fires_while_the_task_still_runs() {
    let hook = Receiver::start();
    let ws = Ws::new(&format!(
        r#"
[notify.hook]
kind = "webhook"
url = "{}/a"

[pipelines.slow]
notify = ["hook"]
[[pipelines.slow.tasks]]
id = "sleepy"
kind = "command"
deadline = "+3s"
command = "sleep 10"
"#,
        hook.url
    ));
    let _serve = serve(&ws);
    let mut run = Bg::new(ws.spawn(&["run", "slow"]));
    assert!(
        wait_for(Duration::from_secs(20), || !hook.accepted().is_empty()),
        "no deadline alert"
    );
    // The task is still running when the alert arrives.
    assert_eq!(ws.task_state("latest", "sleepy"), "running");
    let msgs: Vec<Value> = hook.accepted().iter().map(|r| r.json()).collect();
    assert_eq!(msgs.len(), 1, "{msgs:#?}");
    assert_eq!(msgs[0]["kind"], "deadline_missed");
    assert_eq!(msgs[0]["task"], "sleepy");
    assert!(
        msgs[0]["late_ms"].as_i64().is_some_and(|l| l >= 0),
        "{msgs:#?}"
    );
    let (code, _, _) = run.wait(Duration::from_secs(30));
    assert_eq!(code, 0, "the run itself succeeds, late");
    std::thread::sleep(Duration::from_secs(2));
    let kinds: Vec<String> = hook
        .accepted()
        .iter()
        .map(|r| r.json()["kind"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "deadline_missed").count(),
        1,
        "one deadline alert: {kinds:?}"
    );
}

#[test]
fn a_run_killed_with_sigkill_still_pages_interrupted_once() {
    let hook = Receiver::start();
    let ws = Ws::new(&format!(
        r#"
[notify.hook]
kind = "webhook"
url = "{}/a"
on = ["interrupted"]

[pipelines.p]
notify = ["hook"]
[[pipelines.p.tasks]]
id = "long"
kind = "command"
command = "sleep 60"
"#,
        hook.url
    ));
    let _serve = serve(&ws);
    let mut run = Bg::new(ws.spawn(&["run", "p"]));
    assert!(
        wait_for(Duration::from_secs(20), || ws
            .try_task_state("latest", "long")
            .as_deref()
            == Some("running")),
        "the task started"
    );
    run.kill9();
    assert!(
        wait_for(Duration::from_secs(30), || !hook.accepted().is_empty()),
        "no interrupted alert"
    );
    std::thread::sleep(Duration::from_secs(3));
    let msgs: Vec<Value> = hook.accepted().iter().map(|r| r.json()).collect();
    assert_eq!(msgs.len(), 1, "{msgs:#?}");
    assert_eq!(msgs[0]["kind"], "interrupted");
    assert_eq!(msgs[0]["tasks"][0]["id"], "long");
    assert_eq!(msgs[0]["tasks"][0]["state"], "interrupted");
    assert_eq!(msgs[0]["rerun"], "switchyard rerun 1 --failed");
}

#[test]
fn a_channel_down_three_times_gets_the_alert_and_the_attempts_show() {
    let hook = Receiver::with_statuses(&[500, 500, 500]);
    let ws = Ws::new(&format!(
        "[notify.hook]\nkind = \"webhook\"\nurl = \"{}/a\"\n\n[pipelines.p]\nnotify = [\"hook\"]\n[[pipelines.p.tasks]]\nid = \"t\"\nkind = \"command\"\ncommand = \"exit 1\"\n",
        hook.url
    ));
    let _serve = serve(&ws);
    let (code, _, _) = ws.run(&["run", "p"]);
    assert_eq!(code, 1);
    assert!(
        wait_for(Duration::from_secs(60), || hook.accepted().len() == 1),
        "delivered after three failures: {:?}",
        hook.requests().len()
    );
    let a = alerts(&ws);
    let d = &a[0]["deliveries"][0];
    assert_eq!(d["state"], "delivered", "{a:#?}");
    assert_eq!(d["attempts"], 4, "{a:#?}");
    assert!(d["last_error"].as_str().unwrap_or_default().contains("500"));
    assert_eq!(hook.requests().len(), 4);
}

fn secs(v: &Value) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()
        .map(|t| t.timestamp())
}

/// Serves for a while, stops for a gap of several slots, serves again.
/// Returns the slots `schedule --json` recorded: (slot secs, state, run id),
/// and the gap.
fn gap_slots(catchup: &str) -> (Vec<(i64, String, bool)>, i64, i64) {
    let ws = Ws::new(&every(
        2,
        &format!("catchup = \"{catchup}\"\nmax_active = 20"),
        "echo tick",
    ));
    let mut s = serve(&ws);
    assert!(wait_for(Duration::from_secs(20), || !runs(&ws).is_empty()));
    // SIGTERM: a clean stop.
    // SAFETY: a plain syscall on our own child.
    unsafe {
        libc::kill(s.pid(), libc::SIGTERM);
    }
    let (code, _, err) = s.wait(Duration::from_secs(20));
    assert_eq!(code, 0, "serve stops cleanly: {err}");
    let stopped = chrono::Utc::now().timestamp();
    std::thread::sleep(Duration::from_secs(9));
    let restarted = chrono::Utc::now().timestamp();
    let _s = serve(&ws);
    let recorded = || {
        let (_, out, _) = ws.run(&["schedule", "--json"]);
        let v: Value = serde_json::from_str(&out).unwrap_or_default();
        v["pipelines"][0]["recent_slots"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| {
                        Some((
                            secs(&s["slot"])?,
                            s["state"].as_str()?.to_string(),
                            s["run_id"].is_i64(),
                        ))
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert!(
        wait_for(Duration::from_secs(20), || recorded()
            .iter()
            .any(|(t, _, _)| *t > restarted + 2)),
        "a slot after the restart was recorded"
    );
    (recorded(), stopped, restarted)
}

#[test]
fn missed_slots_follow_catchup() {
    // Slots strictly inside the gap, away from both edges.
    let inside = |slots: &[(i64, String, bool)], stopped: i64, restarted: i64| {
        slots
            .iter()
            .filter(|(t, _, _)| *t > stopped + 1 && *t < restarted - 1)
            .map(|(_, state, run)| (state.clone(), *run))
            .collect::<Vec<_>>()
    };
    let (all, stopped, restarted) = gap_slots("all");
    let gap = inside(&all, stopped, restarted);
    assert!(gap.len() >= 3, "{all:?}");
    assert!(
        gap.iter().all(|(s, run)| s == "started" && *run),
        "all: every missed slot ran: {gap:?}"
    );

    let (latest, stopped, restarted) = gap_slots("latest");
    let gap = inside(&latest, stopped, restarted);
    assert!(gap.len() >= 3, "{latest:?}");
    // The older missed slots are skipped; the newest missed one ran.
    assert!(
        gap.iter().all(|(s, run)| s == "skipped" && !run),
        "latest: {gap:?}"
    );
    let newest_missed = latest
        .iter()
        .filter(|(t, _, _)| *t > stopped && *t <= restarted + 1)
        .max_by_key(|(t, _, _)| *t)
        .cloned();
    assert!(
        newest_missed
            .as_ref()
            .is_some_and(|(_, s, run)| s == "started" && *run),
        "latest: the newest missed slot ran: {latest:?}"
    );

    let (none, stopped, restarted) = gap_slots("none");
    let gap = inside(&none, stopped, restarted);
    assert!(gap.len() >= 3, "{none:?}");
    assert!(
        gap.iter().all(|(s, run)| s == "skipped" && !run),
        "none: {gap:?}"
    );
}
