//! `switchyard serve` under load: 200 pipelines on `@every 10s` schedules,
//! each with a deadline and one no-op task, served by the release binary for
//! 60 s. Prints the CPU of the serve process itself (its workers are the work
//! and are excluded: they run in their own sessions, and a reaped child's time
//! is not in the parent's utime/stime) and the delay from each slot's time to
//! its run's creation and to its first task's start, p50/p99/max.
//!
//!     cargo bench --bench serve
//!     SERVE_BENCH_SECS=20 SERVE_BENCH_PIPELINES=50 cargo bench --bench serve
//!
//! Targets: serve under 2% of one core; slot → run p99 under 1 s.
//!
//! It measures the binary through the process boundary, the way an operator
//! sees it: CPU from /proc/PID/stat, delays from the state store the run
//! wrote. No number here is asserted on; a missed slot is reported.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sqlx::{Connection, Row};

mod support;
use support::percentiles;

const BIN: &str = env!("CARGO_BIN_EXE_switchyard");
const CPU_TARGET_PCT: f64 = 2.0;
const P99_TARGET_MS: f64 = 1000.0;

fn env_or(name: &str, default: u64) -> Result<u64> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .with_context(|| format!("{name}={v}: expected a whole number")),
        Err(_) => Ok(default),
    }
}

fn workspace(pipelines: u64, every_s: u64) -> String {
    let mut t = String::from("[workspace]\nname = \"serve-bench\"\n\n");
    for n in 0..pipelines {
        t.push_str(&format!(
            "[pipelines.p{n:03}]\nschedule = \"@every {every_s}s\"\ndeadline = \"+5m\"\n\n\
             [[pipelines.p{n:03}.tasks]]\nid = \"noop\"\nkind = \"wait\"\nduration = \"0s\"\n\n"
        ));
    }
    t
}

/// utime + stime of `pid` in clock ticks (fields 14 and 15 of /proc/PID/stat):
/// this process's own CPU, without its children's.
fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces; fields after it do not.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("odd /proc/PID/stat")?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3.
    let ticks = |n: usize| -> Result<u64> { Ok(f.get(n - 3).context("short stat")?.parse()?) };
    Ok(ticks(14)? + ticks(15)?)
}

fn clock_ticks_per_s() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// One slot as the store recorded it.
struct Slot {
    at: i64,
    state: String,
    created: Option<i64>,
    first_task: Option<i64>,
    run_state: Option<String>,
}

async fn read_slots(db: &Path) -> Result<Vec<Slot>> {
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
    let rows = sqlx::query(
        "SELECT s.\"slot_at\", s.\"state\", r.\"created_at\", r.\"state\" AS \"run_state\", \
         (SELECT MIN(i.\"started_at\") FROM \"task_instances\" i WHERE i.\"run_id\" = r.\"id\") AS \"first_task\" \
         FROM \"slots\" s LEFT JOIN \"runs\" r ON r.\"id\" = s.\"run_id\"",
    )
    .fetch_all(&mut conn)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        out.push(Slot {
            at: r.try_get("slot_at")?,
            state: r.try_get("state")?,
            created: r.try_get("created_at")?,
            first_task: r.try_get("first_task")?,
            run_state: r.try_get("run_state")?,
        });
    }
    conn.close().await?;
    Ok(out)
}

async fn live_runs(db: &Path) -> Result<i64> {
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM \"runs\" WHERE \"state\" IN ('queued', 'running')",
    )
    .fetch_one(&mut conn)
    .await?;
    conn.close().await?;
    Ok(n)
}

/// Slot times of an `@every` schedule in (from, to]: multiples of the period
/// since the epoch, as `config::schedule` lays them out.
fn slots_in(from: i64, to: i64, every_ms: i64) -> i64 {
    to.div_euclid(every_ms) - from.div_euclid(every_ms)
}

fn line(label: &str, v: &[f64], target: Option<f64>) {
    if v.is_empty() {
        println!("  {label:<26} no samples");
        return;
    }
    let (p50, p99) = percentiles(v.to_vec());
    let max = v.iter().copied().fold(f64::MIN, f64::max);
    let target = target
        .map(|t| format!("  target p99 < {t:.0} ms ({:.2}× of it)", p99 / t))
        .unwrap_or_default();
    println!("  {label:<26} p50 {p50:>7.1} ms  p99 {p99:>7.1} ms  max {max:>7.1} ms{target}");
}

fn main() -> Result<()> {
    let secs = env_or("SERVE_BENCH_SECS", 60)?;
    let pipelines = env_or("SERVE_BENCH_PIPELINES", 200)?;
    let every_s = env_or("SERVE_BENCH_EVERY", 10)?.max(1);
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("switchyard.toml");
    std::fs::write(&file, workspace(pipelines, every_s))?;
    let db = dir.path().join(".switchyard/state.db");

    let mut child = Command::new(BIN)
        .arg("-c")
        .arg(&file)
        .arg("serve")
        .env("SWITCHYARD_HOME", dir.path().join(".home"))
        .env_remove("SWITCHYARD_READONLY")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start switchyard serve")?;
    let pid = child.id();
    let stderr = child.stderr.take().context("no stderr")?;
    let (ready_tx, ready_rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for l in BufReader::new(stderr).lines().map_while(Result::ok) {
            if l.contains("scheduled pipeline(s)") {
                let _ = ready_tx.send(());
            }
            lines.push(l);
        }
        lines
    });
    if ready_rx.recv_timeout(Duration::from_secs(60)).is_err() {
        let _ = child.kill();
        let _ = child.wait();
        bail!(
            "serve did not start:\n{}",
            reader.join().unwrap_or_default().join("\n")
        );
    }
    let (t0, cpu0, wall0) = (now_ms(), cpu_ticks(pid)?, Instant::now());
    std::thread::sleep(Duration::from_secs(secs));
    let (t1, cpu1, wall) = (now_ms(), cpu_ticks(pid)?, wall0.elapsed());
    // SAFETY: kill has no memory preconditions; pid is our own child.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    let status = child.wait()?;
    let log = reader.join().unwrap_or_default();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Runs still going when serve stopped finish in their workers.
    let settle = Instant::now();
    while rt.block_on(live_runs(&db))? > 0 && settle.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let slots = rt.block_on(read_slots(&db))?;

    let every_ms = i64::try_from(every_s * 1000)?;
    let per_pipeline = slots_in(t0, t1, every_ms);
    let expected = per_pipeline * i64::try_from(pipelines)?;
    let in_window: Vec<&Slot> = slots.iter().filter(|s| s.at > t0 && s.at <= t1).collect();
    let started = in_window.iter().filter(|s| s.state == "started").count();
    let other = in_window.len() - started;
    let succeeded = slots
        .iter()
        .filter(|s| s.run_state.as_deref() == Some("succeeded"))
        .count();
    let to_run: Vec<f64> = slots
        .iter()
        .filter_map(|s| s.created.map(|c| (c - s.at) as f64))
        .collect();
    let to_task: Vec<f64> = slots
        .iter()
        .filter_map(|s| s.first_task.map(|c| (c - s.at) as f64))
        .collect();
    let cpu_s = (cpu1 - cpu0) as f64 / clock_ticks_per_s();
    let cpu_pct = 100.0 * cpu_s / wall.as_secs_f64();

    println!(
        "serve: {pipelines} pipelines on @every {every_s}s, deadline +5m, one no-op task each; {:.1} s measured (release binary)",
        wall.as_secs_f64()
    );
    println!(
        "  slots due in the window    {expected} ({per_pipeline} per pipeline); started {started}, refused/skipped {other}, missing {}",
        expected - in_window.len() as i64
    );
    println!(
        "  slot runs recorded         {} in all, {succeeded} succeeded",
        slots.len()
    );
    println!(
        "  serve CPU (own, no workers) {cpu_s:.2} s = {cpu_pct:.2}% of one core  target < {CPU_TARGET_PCT}% ({:.2}× of it)",
        cpu_pct / CPU_TARGET_PCT
    );
    line("slot → run created", &to_run, Some(P99_TARGET_MS));
    line("slot → first task started", &to_task, None);
    if !status.success() {
        println!("  serve exited with {status}; its stderr:");
        for l in &log {
            println!("    {l}");
        }
    }
    Ok(())
}
