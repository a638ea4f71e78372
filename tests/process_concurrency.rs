//! Several processes on one state store at once: status readers, an owner,
//! reruns and a second `run` of a live run, without "database is locked".

mod common;

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Bg, Ws, wait_until};

/// Stops the status loops however the test ends.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn lock_error(stderr: &str) -> bool {
    let s = stderr.to_ascii_lowercase();
    s.contains("locked") || s.contains("busy")
}

#[test]
fn run_status_loops_and_reruns_at_once_see_no_lock_errors() {
    // 30 tasks in three layers of ten (tNN after t(NN-10)), each chatty, so
    // the owner writes states, attempts and logs while others read and write;
    // `hold` keeps the run live until the test releases it.
    let mut toml = String::from(
        "[workspace]\nname = \"busy\"\nmax_parallel = 4\n\n[pipelines.p]\n\n\
         [[pipelines.p.tasks]]\nid = \"hold\"\nkind = \"command\"\ncommand = \"sh wait_flag.sh release\"\n\n",
    );
    for i in 0..30 {
        let after = if i >= 10 {
            format!("\"t{:02}\"", i - 10)
        } else {
            String::new()
        };
        let _ = writeln!(
            toml,
            "[[pipelines.p.tasks]]\nid = \"t{i:02}\"\nkind = \"command\"\nafter = [{after}]\ncommand = \"for i in $(seq 1 40); do echo line $i of {{task_id}}; done; sleep 0.2; echo {{task_id}} >> trail\"\n"
        );
    }
    let ws = Arc::new(Ws::new(&toml));
    ws.install_scripts();

    let stop = Arc::new(AtomicBool::new(false));
    let _stop_loops = StopOnDrop(stop.clone());
    let loops: Vec<_> = (0..2)
        .map(|_| {
            let (ws, stop) = (ws.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut calls = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let (code, out, err) = ws.run(&["status", "--json"]);
                    if code == 0 {
                        let v: serde_json::Value = serde_json::from_str(&out)
                            .unwrap_or_else(|e| panic!("status json: {e}\n{out}"));
                        assert!(v["runs"].is_array(), "{v}");
                    }
                    calls.push((code, err));
                }
                calls
            })
        })
        .collect();

    let mut run = Bg::new(ws.spawn(&["run", "p"]));
    wait_until(Duration::from_secs(20), "t00 succeeds", || {
        run.exited()
            || (ws.read("trail").lines().any(|l| l == "t00")
                && ws.try_task_state("latest", "t00").as_deref() == Some("succeeded"))
    });
    if run.exited() {
        let (code, _, err) = run.wait(Duration::from_secs(1));
        panic!("the run ended while `hold` waits (exit {code}): {err}");
    }
    // A rerun while the run is live (`hold` is waiting): its owner executes it.
    let (rerun_code, _, rerun_err) =
        ws.run_within(Duration::from_secs(60), &["rerun", "latest", "t00"]);
    assert!(
        rerun_err.contains("executed by another process"),
        "the live owner should execute the rerun: {rerun_err}"
    );
    ws.touch("release");
    let (run_code, _, run_err) = run.wait(Duration::from_secs(60));
    // And one after the run has ended: this process executes it.
    let (after_code, _, after_err) = ws.run_within(
        Duration::from_secs(60),
        &["rerun", "latest", "t05", "--downstream"],
    );

    stop.store(true, Ordering::Relaxed);
    let calls: Vec<(i32, String)> = loops
        .into_iter()
        .flat_map(|h| h.join().expect("status loop panicked"))
        .collect();

    for (what, code, err) in [
        ("run", run_code, &run_err),
        ("rerun t00", rerun_code, &rerun_err),
        ("rerun t05 --downstream", after_code, &after_err),
    ] {
        assert!(!lock_error(err), "{what} hit a lock error: {err}");
        assert_eq!(code, 0, "{what} failed: {err}");
    }
    assert!(
        calls.len() >= 10,
        "the status loops ran only {} times",
        calls.len()
    );
    for (code, err) in &calls {
        assert!(!lock_error(err), "status hit a lock error: {err}");
        assert_eq!(*code, 0, "status failed: {err}");
    }

    let s = ws.status(Some("latest"));
    let r = &s["runs"][0];
    assert_eq!(r["state"], "succeeded", "{s:#}");
    assert_eq!(r["tasks"].as_array().unwrap().len(), 31);
    for t in r["tasks"].as_array().unwrap() {
        assert_eq!(t["state"], "succeeded", "{s:#}");
    }
    // Every task ran once; t00 once more; t05, t15, t25 once more.
    let trail = ws.read("trail");
    let count = |id: &str| trail.lines().filter(|l| *l == id).count();
    for i in 0..30 {
        let id = format!("t{i:02}");
        let want = match i {
            0 | 5 | 15 | 25 => 2,
            _ => 1,
        };
        assert_eq!(count(&id), want, "{id} ran {} times:\n{trail}", count(&id));
    }
}

#[test]
fn a_second_run_of_a_live_run_is_refused_until_it_ends() {
    let ws = Ws::new(
        r#"[workspace]
name = "twice"

[pipelines.p]

[[pipelines.p.tasks]]
id = "hold"
kind = "command"
command = "echo $SWITCHYARD_RUN_ID >> ran; sh wait_flag.sh release"
"#,
    );
    ws.install_scripts();
    let mut first = Bg::new(ws.spawn(&["run", "p", "--date", "2024-03-01"]));
    wait_until(Duration::from_secs(20), "the first run's task runs", || {
        !ws.read("ran").is_empty()
    });
    let id = ws.latest_run_id();
    assert_eq!(ws.task_state(&id.to_string(), "hold"), "running");

    let (code, out, err) = ws.run_within(
        Duration::from_secs(60),
        &["run", "p", "--date", "2024-03-01"],
    );
    assert_eq!(code, 2, "a second live run was accepted: {out}{err}");
    assert!(err.contains("live run"), "{err}");
    assert!(
        err.contains(&format!("run {id}")),
        "the message names run {id}: {err}"
    );
    assert_eq!(
        ws.status(None)["runs"].as_array().unwrap().len(),
        1,
        "no run was created"
    );
    assert_eq!(ws.read("ran"), format!("{id}\n"), "nothing else ran");

    ws.touch("release");
    let (code, _, err) = first.wait(Duration::from_secs(30));
    assert_eq!(code, 0, "first run failed: {err}");
    assert_eq!(ws.run_state(&id.to_string()), "succeeded");

    let (code, _, err) = ws.run_within(
        Duration::from_secs(60),
        &["run", "p", "--date", "2024-03-01"],
    );
    assert_eq!(
        code, 0,
        "a new run after the first ended was refused: {err}"
    );
    let second = ws.latest_run_id();
    assert_ne!(second, id);
    let s = ws.status(Some(&second.to_string()));
    assert_eq!(s["runs"][0]["run_date"], "2024-03-01", "{s:#}");
    assert_eq!(s["runs"][0]["state"], "succeeded", "{s:#}");
    assert_eq!(ws.read("ran"), format!("{id}\n{second}\n"));
}

/// Switching a brand-new store to WAL takes an exclusive lock that SQLite's
/// busy timeout does not wait for: processes that create the store at the
/// same moment must still all open it (seen in CI as "database is locked").
#[test]
fn many_processes_creating_the_store_at_once_all_open_it() {
    for _ in 0..3 {
        let ws = Ws::new(
            "[pipelines.p]\n[[pipelines.p.tasks]]\nid = \"a\"\nkind = \"command\"\ncommand = \"true\"\n",
        );
        let children: Vec<_> = (0..12).map(|_| ws.spawn(&["status", "--json"])).collect();
        for c in children {
            let out = c.wait_with_output().expect("status");
            assert!(
                out.status.success(),
                "status failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
