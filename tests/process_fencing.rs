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

/// One task whose command says it is alive every 0.1 s, `beats` times.
fn workspace(beats: u32) -> String {
    format!(
        r#"
[workspace]
lease_stale_after = "6s"
lease_give_up_after = "3s"

[pipelines.p]
[[pipelines.p.tasks]]
id = "work"
kind = "command"
command = "for i in $(seq 1 {beats}); do date +%s%3N | tee -a alive; sleep 0.1; done"
"#
    )
}

/// Long enough to outlive every test that does not stop it.
const MANY_BEATS: u32 = 600;

const LONG: Duration = Duration::from_secs(60);

/// PostgreSQL to make databases on, and root for `unshare --uts`.
fn services_here() -> bool {
    let pg = common::pg_state::server_reachable();
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
    let mut ws = Ws::new(&workspace(MANY_BEATS));
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
    let mut ws = Ws::new(&workspace(MANY_BEATS));
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
    // Its command's output since the freeze waits in the pipe: the woken
    // owner reads it, and must not write it into the taken-over attempt.
    let logs = || db.sql("SELECT COUNT(*) FROM logs");
    let logs_at_takeover = logs();
    // While it was frozen, its command ran on (another host cannot kill it).
    let before_wake = alive(&ws).len();
    signal("-CONT");
    let (code, _, err) = owner.wait(LONG);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("lost the lease"), "{err}");
    assert!(alive(&ws).len() >= before_wake);
    assert_stopped(&ws, "after the frozen owner woke");
    assert_eq!(rows(), taken_over, "the woken owner wrote to the run");
    assert_eq!(logs(), logs_at_takeover, "the woken owner wrote log lines");
    drop(db);
}

#[test]
fn a_connection_terminated_under_the_owner_is_reopened_and_the_run_finishes() {
    if !services_here() {
        return;
    }
    let mut ws = Ws::new(&workspace(20));
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

#[test]
fn workers_on_two_hosts_share_a_pool_and_a_request_reaches_the_other_hosts_owner() {
    if !services_here() {
        return;
    }
    // Each pipeline starts with an unpooled `gate` that waits until both runs
    // have reached it, so both owners compete for the pool at the same time.
    let gate = "touch gate.$SWITCHYARD_RUN_ID; i=0; while [ $(ls gate.* | wc -l) -lt 2 ]; do i=$((i+1)); [ $i -gt 300 ] && exit 3; sleep 0.05; done";
    let mut toml = String::from("[pools.db]\nsize = 2\n\n");
    for p in ["p1", "p2"] {
        toml.push_str(&format!(
            "[pipelines.{p}]\n\n[[pipelines.{p}.tasks]]\nid = \"gate\"\nkind = \"command\"\ncommand = '{gate}'\n\n"
        ));
        toml.push_str(&common::probe_tasks(p, "t", 4, "db", "0.6", "\"gate\""));
    }
    // p2 ends with a task that waits for a flag: cancelled from host c.
    toml.push_str(
        "[[pipelines.p2.tasks]]\nid = \"hold\"\nkind = \"command\"\ncommand = \"sh wait_flag.sh never\"\nafter = [\"gate\"]\n",
    );
    let mut ws = Ws::new(&toml);
    ws.install_scripts();
    let db = PgState::create();
    ws.pg = None;
    let url = db.url();

    let mut a = spawn(on_host(&ws, "vm-a", &url, &["run", "p1"]));
    let mut b = spawn(on_host(&ws, "vm-b", &url, &["run", "p2"]));
    let (ca, _, ea) = a.wait(LONG);
    assert_eq!(ca, 0, "run p1 on vm-a failed: {ea}");
    // p2's `hold` still runs on vm-b: a third host cancels it, and vm-b's
    // owner applies the request.
    let hosts = db.sql("SELECT DISTINCT host FROM attempts ORDER BY host");
    assert_eq!(hosts, "vm-a\nvm-b", "each host ran its own run's attempts");
    let p2 = db.sql("SELECT id FROM runs WHERE pipeline = 'p2'");
    let out = on_host(&ws, "vm-c", &url, &["cancel", &p2, "hold"])
        .output()
        .expect("cancel");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (cb, _, eb) = b.wait(LONG);
    assert_eq!(cb, 1, "run p2 ends failed, its `hold` cancelled: {eb}");
    assert_eq!(
        db.sql(&format!(
            "SELECT state FROM task_instances WHERE run_id = {p2} AND task_id = 'hold'"
        )),
        "cancelled"
    );

    let events = ws.probe_events();
    assert_eq!(events.iter().filter(|e| e.start).count(), 8, "{events:?}");
    let max = ws.probe_max();
    assert!(
        max <= 2,
        "two hosts ran {max} tasks at once in a pool of 2: {events:?}"
    );
    assert_eq!(max, 2, "the pool of 2 was never used fully: {events:?}");
}
