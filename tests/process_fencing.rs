//! Owners on several hosts sharing a PostgreSQL store: what happens when one
//! is cut off from it, frozen, or loses its connection. Another host is a
//! process in its own UTS namespace (`unshare --uts`, its own hostname), so
//! leases between the two are judged by heartbeat alone, as between
//! machines; a partition is the owner's database role made NOLOGIN with its
//! connections terminated.
//!
//! Times: `lease_give_up_after = "3s"`, `lease_stale_after = "6s"`.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::pg_state::{PgRole, PgState, terminate_connections};
use common::{BIN, Bg, Ws, wait_until};

const WS: &str = r#"
[workspace]
lease_stale_after = "6s"
lease_give_up_after = "3s"

[pipelines.p]
[[pipelines.p.tasks]]
id = "work"
kind = "command"
command = "for i in $(seq 1 600); do date +%s%3N >> alive; sleep 0.1; done"
"#;

const LONG: Duration = Duration::from_secs(60);

/// PostgreSQL to make databases on, and root for `unshare --uts`.
fn services_here() -> bool {
    let pg = Command::new("psql")
        .args([
            "-XAtqc",
            "select 1",
            "-d",
            "postgres://postgres@127.0.0.1:5432/postgres",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !pg {
        common::live::missing(
            "fencing",
            "PostgreSQL",
            "psql could not connect to 127.0.0.1:5432",
        );
        return false;
    }
    let uts = Command::new("unshare")
        .args(["--uts", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !uts {
        common::live::missing(
            "fencing",
            "root (unshare --uts)",
            "unshare --uts failed: another hostname needs root",
        );
        return false;
    }
    true
}

/// `switchyard ARGS` as a process on host `host`, on the store at `url`.
fn on_host(ws: &Ws, host: &str, url: &str, args: &[&str]) -> Command {
    let mut c = Command::new("unshare");
    c.args([
        "--uts",
        "sh",
        "-c",
        &format!("hostname {host} && exec \"$0\" \"$@\""),
    ])
    .arg(BIN)
    .arg("-c")
    .arg(ws.file())
    .args(args)
    .env("SWITCHYARD_HOME", ws.path().join(".home"))
    .env("SWITCHYARD_STATE", url)
    .env_remove("SWITCHYARD_READONLY")
    .current_dir(ws.path());
    c
}

fn spawn(mut c: Command) -> Bg {
    Bg::new(
        c.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn switchyard"),
    )
}

/// The times (ms) the task's command was seen alive.
fn alive(ws: &Ws) -> Vec<i64> {
    std::fs::read_to_string(ws.path().join("alive"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Waits until the task's command has been alive a while.
fn wait_alive(ws: &Ws) {
    wait_until(LONG, "the task's command to run", || alive(ws).len() >= 5);
}

/// No sign of life from the task's command for a second.
fn assert_stopped(ws: &Ws, what: &str) {
    let before = alive(ws).len();
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(
        alive(ws).len(),
        before,
        "{what}: the task's command still runs"
    );
}

/// `status --json` of run 1 as seen from host `vm-b`, as `postgres`.
fn task_state_from_b(ws: &Ws, url: &str) -> String {
    let out = on_host(ws, "vm-b", url, &["status", "--json", "--run", "1"])
        .output()
        .expect("status");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    v["runs"][0]["tasks"][0]["state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_cut_off_owner_kills_its_task_before_another_host_takes_the_run_over() {
    if !services_here() {
        return;
    }
    let mut ws = Ws::new(WS);
    let role = PgRole::create("fence");
    let db = PgState::create();
    db.give_to(&role);
    let (owner_url, admin_url) = (db.url_as(&role), db.url());
    ws.pg = None;

    let mut owner = spawn(on_host(&ws, "vm-a", &owner_url, &["run", "p"]));
    wait_alive(&ws);
    role.cut_off();

    // Host b (another role) takes the run over once its lease is stale.
    wait_until(LONG, "host b to find the lease stale and reap it", || {
        task_state_from_b(&ws, &admin_url) == "interrupted"
    });
    let reaped_at: i64 = db
        .sql("SELECT finished_at FROM attempts WHERE run_id = 1 AND attempt = 1")
        .parse()
        .expect("the interrupted attempt's end");
    let last_alive = alive(&ws).last().copied().expect("signs of life");
    assert!(
        last_alive < reaped_at,
        "the task ran on after the takeover: last alive {last_alive}, taken over {reaped_at}"
    );
    assert_stopped(&ws, "after the takeover");
    assert!(
        !owner.exited(),
        "the cut-off owner waits to learn what became of the run"
    );

    // Back in touch, the owner finds the run taken over and leaves it alone.
    role.reconnect();
    let (code, _, err) = owner.wait(LONG);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("took the run over"), "{err}");
    assert_eq!(task_state_from_b(&ws, &admin_url), "interrupted");
    drop(db);
}

#[test]
fn an_owner_frozen_past_the_stale_timeout_writes_nothing_when_it_wakes() {
    if !services_here() {
        return;
    }
    let mut ws = Ws::new(WS);
    let db = PgState::create();
    ws.pg = None;
    let url = db.url();
    let mut owner = spawn(on_host(&ws, "vm-a", &url, &["run", "p"]));
    wait_alive(&ws);
    // `unshare` execs sh, which execs switchyard: the pid is the owner's.
    let pid = owner.pid().to_string();
    let signal = |sig: &str| {
        let ok = Command::new("kill")
            .args([sig, &pid])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} {pid}");
    };
    signal("-STOP");
    wait_until(LONG, "host b to take the frozen owner's run over", || {
        task_state_from_b(&ws, &url) == "interrupted"
    });
    let rows = || {
        db.sql(
            "SELECT r.state, COALESCE(r.owner_token, '-'), t.state, t.attempt, \
             COALESCE(CAST(a.finished_at AS TEXT), '-'), a.state \
             FROM runs r JOIN task_instances t ON t.run_id = r.id \
             JOIN attempts a ON a.run_id = r.id AND a.task_id = t.task_id",
        )
    };
    let taken_over = rows();
    // While it was frozen, its command ran on (another host cannot kill it).
    let before_wake = alive(&ws).len();
    signal("-CONT");
    let (code, _, err) = owner.wait(LONG);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("lost the lease"), "{err}");
    assert!(alive(&ws).len() >= before_wake);
    assert_stopped(&ws, "after the frozen owner woke");
    assert_eq!(rows(), taken_over, "the woken owner wrote to the run");
    drop(db);
}

#[test]
fn a_connection_terminated_under_the_owner_is_reopened_and_the_run_finishes() {
    if !services_here() {
        return;
    }
    let mut ws = Ws::new(
        r#"
[workspace]
lease_stale_after = "6s"
lease_give_up_after = "3s"

[pipelines.p]
[[pipelines.p.tasks]]
id = "work"
kind = "command"
command = "for i in $(seq 1 20); do date +%s%3N >> alive; sleep 0.1; done"
"#,
    );
    let db = PgState::create();
    ws.pg = None;
    let url = db.url();
    let mut owner = spawn(on_host(&ws, "vm-a", &url, &["run", "p"]));
    wait_alive(&ws);
    let killed: i64 = terminate_connections(db.name()).parse().unwrap_or(0);
    assert!(killed > 0, "the owner had no connection to terminate");
    let (code, out, err) = owner.wait(LONG);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(
        db.sql("SELECT state, attempt FROM task_instances WHERE run_id = 1"),
        "succeeded|1",
        "the task ran once, to the end"
    );
    assert_eq!(alive(&ws).len(), 20);
}
