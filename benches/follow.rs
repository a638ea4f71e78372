//! Follow latency: how long after a state change is committed a follower on
//! another connection (another host, as far as the store can tell) reads
//! it. A writer appends one event every 20–50 ms, 300 times; a follower
//! waits as the console does (`Store::changes`, then `events_after`).
//!
//!     cargo bench --bench follow
//!
//! On PostgreSQL LISTEN/NOTIFY wakes the follower; the reference in the same
//! run is an SQLite store, whose follower can only reread at the console's
//! pace (200 ms). Target (PostgreSQL): p99 under 200 ms. Nothing is asserted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use switchyard::engine::store::{self, EventKind, NewEvent, Store};

mod support;
use support::percentiles;

const CHANGES: usize = 300;
/// The console's follower pace (tui/runner.rs `FOLLOW_EVERY`).
const FOLLOW_EVERY: Duration = Duration::from_millis(200);
const TARGET_P99_MS: f64 = 200.0;

/// Latencies (ms) from each commit to the follower's reading it.
async fn measure(writer: Store, follower: Store) -> Result<Vec<f64>> {
    let committed: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let seen: Arc<Mutex<Vec<f64>>> = Arc::default();
    let start_seq = follower.last_event_seq().await?;
    let follow = {
        let (committed, seen) = (committed.clone(), seen.clone());
        tokio::spawn(async move {
            let changes = follower.changes();
            let mut seq = start_seq;
            loop {
                changes.wait(FOLLOW_EVERY).await;
                let Ok(events) = follower.events_after(seq, 5000).await else {
                    continue;
                };
                let now = Instant::now();
                for e in events {
                    seq = e.seq;
                    if let EventKind::Journal { action } = &e.kind
                        && let Some(at) = committed.lock().ok().and_then(|c| c.get(action).copied())
                        && let Ok(mut s) = seen.lock()
                    {
                        s.push(now.duration_since(at).as_secs_f64() * 1000.0);
                    }
                }
                if seen.lock().map(|s| s.len()).unwrap_or(0) >= CHANGES {
                    return;
                }
            }
        })
    };
    // Let the follower start listening before the first change.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for n in 0..CHANGES {
        let action = format!("change-{n}");
        let mut tx = writer.begin().await?;
        let kind = EventKind::Journal {
            action: action.clone(),
        };
        store::insert_events(
            &mut tx,
            &[NewEvent {
                run_id: None,
                task_id: None,
                kind,
            }],
        )
        .await?;
        // Taken before the commit: the follower may read the change before
        // this task runs again (the latency counts the commit itself).
        if let Ok(mut c) = committed.lock() {
            c.insert(action, Instant::now());
        }
        tx.commit().await?;
        tokio::time::sleep(Duration::from_millis(20 + (n as u64 * 7919) % 31)).await;
    }
    tokio::time::timeout(Duration::from_secs(10), follow).await??;
    let out = seen.lock().map(|s| s.clone()).unwrap_or_default();
    Ok(out)
}

fn report(name: &str, v: &[f64]) -> f64 {
    let (p50, p99) = percentiles(v.to_vec());
    let max = v.iter().copied().fold(0.0, f64::max);
    println!(
        "  {name:<11} {:>4} changes  p50 {p50:>7.1} ms  p99 {p99:>7.1} ms  max {max:>7.1} ms",
        v.len()
    );
    p99
}

fn main() -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("state.db");
        let sqlite = measure(Store::open(&file).await?, Store::open(&file).await?).await?;
        let url =
            support::fresh_pg_database(&support::pg_server(), "switchyard_bench_follow").await?;
        let loc = switchyard::config::StateLocation::Postgres(url);
        let pg = measure(Store::open(&loc).await?, Store::open(&loc).await?).await?;
        println!("follow latency: commit on one connection → read on another");
        let reference = report("sqlite", &sqlite);
        let p99 = report("postgres", &pg);
        println!(
            "  postgres p99 / sqlite p99 = {:.2}   target: postgres p99 < {TARGET_P99_MS} ms ({})",
            p99 / reference,
            if p99 < TARGET_P99_MS {
                "met"
            } else {
                "NOT met"
            }
        );
        anyhow::Ok(())
    })
}
