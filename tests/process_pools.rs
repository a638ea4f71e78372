//! Pools are counted in the state store: whatever the number of processes, a
//! pool of N never has more than N tasks running, and a resize from another
//! process is honoured while the run is going. Each task is `sh probe.sh`,
//! which records how many tasks were running when it started (under `flock`).

mod common;

use std::fmt::Write;
use std::time::Duration;

use common::{Bg, Ws, wait_until};

/// `[[pipelines.NAME.tasks]]` entries `PREFIX1..=PREFIXn`, each `sh probe.sh SECS` in `pool`.
fn all_succeeded(ws: &Ws, run: &str) {
    let s = ws.status(Some(run));
    let r = &s["runs"][0];
    assert_eq!(r["state"], "succeeded", "{s:#}");
    for t in r["tasks"].as_array().unwrap() {
        assert_eq!(t["state"], "succeeded", "task {} in {s:#}", t["id"]);
    }
}

#[test]
fn one_process_never_exceeds_its_pool() {
    let toml = format!(
        "[workspace]\nname = \"pools\"\n\n[pools.db]\nsize = 2\n\n[pipelines.p]\n\n{}",
        common::probe_tasks("p", "t", 8, "db", "0.4", "")
    );
    let ws = Ws::new(&toml);
    ws.install_scripts();

    let (code, _out, err) = ws.run_within(Duration::from_secs(60), &["run", "p"]);
    assert_eq!(code, 0, "run failed: {err}");

    let events = ws.probe_events();
    assert_eq!(events.iter().filter(|e| e.start).count(), 8, "{events:?}");
    assert_eq!(events.iter().filter(|e| !e.start).count(), 8, "{events:?}");
    let max = ws.probe_max();
    assert!(max <= 2, "pool of 2 ran {max} tasks at once: {events:?}");
    assert_eq!(max, 2, "the pool of 2 was never used fully: {events:?}");
    all_succeeded(&ws, "latest");
}

#[test]
fn two_processes_share_one_pool() {
    // Each pipeline starts with an unpooled `gate` that waits until both runs
    // have reached it, so both owners compete for the pool at the same time.
    let gate = "touch gate.$SWITCHYARD_RUN_ID; i=0; while [ $(ls gate.* | wc -l) -lt 2 ]; do i=$((i+1)); [ $i -gt 300 ] && exit 3; sleep 0.05; done";
    let mut toml = String::from("[workspace]\nname = \"pools\"\n\n[pools.db]\nsize = 2\n\n");
    for p in ["p1", "p2"] {
        let _ = writeln!(
            toml,
            "[pipelines.{p}]\n\n[[pipelines.{p}.tasks]]\nid = \"gate\"\nkind = \"command\"\ncommand = '{gate}'\n"
        );
        toml.push_str(&common::probe_tasks(p, "t", 4, "db", "0.6", "\"gate\""));
    }
    let ws = Ws::new(&toml);
    ws.install_scripts();

    let mut a = Bg::new(ws.spawn(&["run", "p1"]));
    let mut b = Bg::new(ws.spawn(&["run", "p2"]));
    let (ca, _, ea) = a.wait(Duration::from_secs(60));
    let (cb, _, eb) = b.wait(Duration::from_secs(60));
    assert_eq!(ca, 0, "run p1 failed: {ea}");
    assert_eq!(cb, 0, "run p2 failed: {eb}");

    let events = ws.probe_events();
    let runs: std::collections::BTreeSet<&str> = events.iter().map(|e| e.run.as_str()).collect();
    assert_eq!(runs.len(), 2, "both runs use the pool: {events:?}");
    assert_eq!(events.iter().filter(|e| e.start).count(), 8, "{events:?}");
    let max = ws.probe_max();
    assert!(
        max <= 2,
        "two processes ran {max} tasks at once in a pool of 2: {events:?}"
    );
    assert_eq!(max, 2, "the pool of 2 was never used fully: {events:?}");

    let s = ws.status(None);
    let runs = s["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{s:#}");
    for r in runs {
        assert_eq!(r["state"], "succeeded", "{s:#}");
    }
}

#[test]
fn pool_resize_from_another_process_takes_effect_while_running() {
    // Each task holds its slot until the flag `go` exists, so what runs at
    // once is decided by the pool alone, not by how long tasks take.
    let toml = format!(
        "[workspace]\nname = \"pools\"\n\n[pools.db]\nsize = 1\n\n[pipelines.p]\n\n{}",
        common::probe_tasks("p", "t", 6, "db", "go", "").replace("sh probe.sh", "sh probe_flag.sh")
    );
    let ws = Ws::new(&toml);
    ws.install_scripts();
    ws.write(
        "probe_flag.sh",
        &common::PROBE_SH.replace("sleep \"$1\"", "sh wait_flag.sh \"$1\""),
    );
    let waiting = |ws: &Ws, on: &str| -> Option<(usize, usize)> {
        let s = ws.try_status(Some("latest"))?;
        let tasks = s["runs"][0]["tasks"].as_array()?.clone();
        let running = tasks.iter().filter(|t| t["state"] == "running").count();
        let queued: Vec<_> = tasks.iter().filter(|t| t["state"] == "queued").collect();
        queued
            .iter()
            .all(|t| t["waiting_on"] == on)
            .then_some((running, queued.len()))
    };

    let mut run = Bg::new(ws.spawn(&["run", "p"]));
    // A pool of 1: one task runs, the five others wait on the pool.
    let starts = |ws: &Ws| ws.probe_events().iter().filter(|e| e.start).count();
    // "running" is recorded as the process starts; its probe line follows.
    wait_until(
        Duration::from_secs(30),
        "1 running (and started), 5 waiting on db 1/1",
        || waiting(&ws, "pool db 1/1") == Some((1, 5)) && starts(&ws) >= 1,
    );
    assert_eq!(starts(&ws), 1, "{:?}", ws.probe_events());

    let (code, out, err) = ws.run(&["pool", "db", "3"]);
    assert_eq!(code, 0, "pool resize failed: {err}");
    assert!(out.contains("size 3"), "{out}");
    // Nothing has finished (no `go` yet): two more start only because the
    // running owner honoured the new size.
    wait_until(
        Duration::from_secs(30),
        "3 running, 3 waiting on db 3/3",
        || waiting(&ws, "pool db 3/3") == Some((3, 3)) && starts(&ws) >= 3,
    );
    assert_eq!(starts(&ws), 3, "{:?}", ws.probe_events());
    assert_eq!(ws.probe_max(), 3, "{:?}", ws.probe_events());

    ws.touch("go");
    let (code, _, err) = run.wait(Duration::from_secs(60));
    assert_eq!(code, 0, "run failed: {err}");
    let events = ws.probe_events();
    assert_eq!(events.iter().filter(|e| e.start).count(), 6, "{events:?}");
    let max = ws.probe_max();
    assert!(
        max <= 3,
        "pool resized to 3 ran {max} tasks at once: {events:?}"
    );
    all_succeeded(&ws, "latest");
}

/// A task with more partitions than its pool has slots holds the whole
/// pool, and is counted as holding exactly that: `replica 2/2`, not `8/2`.
#[test]
fn a_task_wanting_more_slots_than_the_pool_is_counted_as_holding_the_pool() {
    let ws = Ws::new(
        r#"
[pools.replica]
size = 2

[pipelines.p]
[[pipelines.p.tasks]]
id = "wide"
kind = "command"
command = "sh wait_flag.sh go"
pool = "replica"
partitions = 8

[[pipelines.p.tasks]]
id = "after_wide"
kind = "command"
command = "true"
pool = "replica"
"#,
    );
    ws.install_scripts();
    let mut run = Bg::new(ws.spawn(&["run", "p", "--date", "2026-07-01"]));
    let waiting = |ws: &Ws| -> Option<String> {
        let s = ws.try_status(Some("latest"))?;
        let tasks = s["runs"][0]["tasks"].as_array()?.clone();
        let wide = tasks.iter().find(|t| t["id"] == "wide")?;
        let other = tasks.iter().find(|t| t["id"] == "after_wide")?;
        (wide["state"] == "running" && other["state"] == "queued")
            .then(|| other["waiting_on"].as_str().unwrap_or_default().to_string())
    };
    // Slots go in run order: `wide` takes the pool, `after_wide` waits.
    let mut seen = None;
    wait_until(
        Duration::from_secs(30),
        "wide running, after_wide queued",
        || {
            seen = waiting(&ws);
            seen.is_some()
        },
    );
    ws.touch("go");
    let (code, _, err) = run.wait(Duration::from_secs(60));
    assert_eq!(code, 0, "{err}");
    assert_eq!(seen.as_deref(), Some("pool replica 2/2"));
}
