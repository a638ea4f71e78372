//! Shows runs as they go, by following the store's events (so it works the
//! same for runs this process executes and runs another process owns):
//! plain lines when stderr is not a terminal, a live block when it is.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::Result;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::engine::state::TaskState;
use crate::engine::store::{EventKind, InstanceRow, Store, local_hms, now_ms};
use crate::text::one_line;

pub struct Display {
    stop: CancellationToken,
    handle: JoinHandle<()>,
}

impl Display {
    pub async fn start(store: Store, runs: Vec<i64>) -> Result<Display> {
        let from = store.last_event_seq().await?;
        let stop = CancellationToken::new();
        let live = std::io::stderr().is_terminal() && std::env::var_os("NO_LIVE").is_none();
        let handle = tokio::spawn(follow(store, runs, from, live, stop.clone()));
        Ok(Display { stop, handle })
    }

    /// Shows what is left to show, then returns.
    pub async fn finish(self) {
        self.stop.cancel();
        let _ = self.handle.await;
    }
}

async fn follow(store: Store, runs: Vec<i64>, mut seq: i64, live: bool, stop: CancellationToken) {
    let mut block = LiveBlock::default();
    loop {
        let stopping = stop.is_cancelled();
        let events = store.events_after(seq, 1000).await.unwrap_or_default();
        let mut changed = false;
        for e in &events {
            seq = e.seq;
            let Some(run) = e.run_id.filter(|r| runs.contains(r)) else {
                continue;
            };
            changed = true;
            // Plain lines: what started and how it ended, not every queue step.
            if !live
                && let (
                    Some(task),
                    EventKind::TaskState {
                        to, attempt, error, ..
                    },
                ) = (&e.task_id, &e.kind)
                && *to != TaskState::Queued
            {
                eprintln!(
                    "{}",
                    plain_line(e.at, run, task, *to, *attempt, error.as_deref())
                );
            }
        }
        if live && (changed || block.lines == 0) {
            let mut all = Vec::new();
            for &r in &runs {
                if let Ok(insts) = store.instances(r).await {
                    all.push((r, insts));
                }
            }
            block.draw(&all);
        }
        if stopping && events.len() < 1000 {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(150)) => {}
            _ = stop.cancelled(), if !stopping => {}
        }
    }
}

fn plain_line(
    at: i64,
    run: i64,
    task: &str,
    to: TaskState,
    attempt: i64,
    error: Option<&str>,
) -> String {
    let mut line = format!(
        "{} run {run} {} {} {to}",
        local_hms(at),
        to.glyph(),
        one_line(task)
    );
    if to == TaskState::Running {
        line.push_str(&format!(" (attempt {attempt})"));
    }
    if let Some(e) = error.filter(|_| to != TaskState::Succeeded) {
        line.push_str(&format!(": {}", one_line(e)));
    }
    line
}

/// A block of lines redrawn in place.
#[derive(Default)]
struct LiveBlock {
    lines: usize,
}

const MAX_ROWS: usize = 24;

impl LiveBlock {
    fn draw(&mut self, runs: &[(i64, Vec<InstanceRow>)]) {
        let now = now_ms();
        let mut out = Vec::new();
        for (run, insts) in runs {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for i in insts {
                *counts.entry(i.state.as_str()).or_default() += 1;
            }
            let summary: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
            out.push(format!("run {run}: {}", summary.join(", ")));
            // The ones worth a line: running, failed, retrying, queued; then the rest.
            let mut shown: Vec<&InstanceRow> = insts.iter().collect();
            shown.sort_by_key(|i| (rank(i.state), i.ord));
            // Never taller than the terminal: a block that scrolls cannot be redrawn in place.
            let height = ratatui::crossterm::terminal::size()
                .map(|(_, h)| usize::from(h).saturating_sub(3))
                .unwrap_or(MAX_ROWS)
                .clamp(4, MAX_ROWS);
            let room = height.saturating_sub(out.len()) / runs.len().max(1);
            for i in shown.iter().take(room.max(3)) {
                out.push(task_line(i, now));
            }
            if shown.len() > room.max(3) {
                out.push(format!("  … {} more", shown.len() - room.max(3)));
            }
        }
        let mut err = std::io::stderr().lock();
        if self.lines > 0 {
            let _ = write!(err, "\x1b[{}A", self.lines);
        }
        for l in &out {
            let _ = writeln!(err, "\x1b[2K{l}");
        }
        // Clear what the previous, longer block left.
        for _ in out.len()..self.lines {
            let _ = writeln!(err, "\x1b[2K");
        }
        if self.lines > out.len() {
            let _ = write!(err, "\x1b[{}A", self.lines - out.len());
        }
        let _ = err.flush();
        self.lines = out.len();
    }
}

fn rank(s: TaskState) -> u8 {
    match s {
        TaskState::Failed | TaskState::Interrupted => 0,
        TaskState::Running => 1,
        TaskState::Retrying => 2,
        TaskState::Queued => 3,
        TaskState::Pending => 4,
        _ => 5,
    }
}

fn task_line(i: &InstanceRow, now: i64) -> String {
    let mut l = format!(
        "  {} {:<28} {:<15}",
        i.state.glyph(),
        one_line(&i.task_id),
        i.state.as_str()
    );
    match i.state {
        TaskState::Running => {
            if let Some(s) = i.started_at {
                l.push_str(&format!(" {:>5}s", (now - s) / 1000));
            }
            if let Some(r) = i.rows {
                l.push_str(&format!("  {r} rows"));
            }
        }
        s if s.is_bad_end() => {
            if let Some(e) = &i.error {
                let e: String = e.chars().take(60).collect();
                l.push_str(&format!(" {}", one_line(&e)));
            }
        }
        _ => {
            if let Some(w) = &i.waiting_on {
                l.push_str(&format!(" {}", one_line(w)));
            }
        }
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_say_what_happened() {
        let l = plain_line(0, 3, "export", TaskState::Failed, 2, Some("exit code 1"));
        assert!(l.ends_with("run 3 ✗ export failed: exit code 1"), "{l}");
        let l = plain_line(0, 3, "export", TaskState::Running, 2, None);
        assert!(l.ends_with("▶ export running (attempt 2)"), "{l}");
    }
}
