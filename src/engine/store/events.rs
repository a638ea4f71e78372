//! The append-only event log (how other processes follow a run), bounded task
//! logs, requests to a run's owner, and the journal of human actions.
//! (Pools are in `pools.rs`.)

use anyhow::Result;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Store, Tx, now_ms};
use crate::engine::state::{RunState, TaskState};

/// Lines kept per attempt; older lines are dropped (the tail holds the error).
pub const LOG_LINES_PER_ATTEMPT: i64 = 10_000;

/// Bytes kept of one log line: a line is for a person to read, and a 20 MB line
/// (a command dumping a blob) would be stored whole otherwise.
pub const LOG_LINE_MAX_BYTES: usize = 16 * 1024;

/// `line` cut to `LOG_LINE_MAX_BYTES` (at a character boundary), saying so.
/// Cut only text that is already redacted: a cut through a secret would leave
/// a prefix that no longer matches it.
pub fn cap_log_line(line: &str) -> std::borrow::Cow<'_, str> {
    if line.len() <= LOG_LINE_MAX_BYTES {
        return line.into();
    }
    let mut end = LOG_LINE_MAX_BYTES;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… (line cut at {LOG_LINE_MAX_BYTES} bytes)", &line[..end]).into()
}

/// What happened. Small notifications: a follower pulls detail (log lines,
/// attempts) from the store when it needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    RunCreated {
        pipeline: String,
        run_date: String,
    },
    RunState {
        state: RunState,
    },
    TaskState {
        from: TaskState,
        to: TaskState,
        attempt: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    Log {
        attempt: i64,
        first_line: i64,
        count: i64,
    },
    Progress {
        rows: i64,
        bytes: i64,
        #[serde(default)]
        total_estimate: Option<i64>,
    },
    PoolResized {
        name: String,
        size: i64,
    },
    Journal {
        action: String,
    },
}

impl EventKind {
    fn tag(&self) -> &'static str {
        match self {
            EventKind::RunCreated { .. } => "run_created",
            EventKind::RunState { .. } => "run_state",
            EventKind::TaskState { .. } => "task_state",
            EventKind::Log { .. } => "log",
            EventKind::Progress { .. } => "progress",
            EventKind::PoolResized { .. } => "pool_resized",
            EventKind::Journal { .. } => "journal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub seq: i64,
    pub at: i64,
    pub run_id: Option<i64>,
    pub task_id: Option<String>,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub run_id: Option<i64>,
    pub task_id: Option<String>,
    pub kind: EventKind,
}

impl NewEvent {
    pub fn run(run_id: i64, kind: EventKind) -> NewEvent {
        NewEvent {
            run_id: Some(run_id),
            task_id: None,
            kind,
        }
    }
    pub fn task(run_id: i64, task_id: &str, kind: EventKind) -> NewEvent {
        NewEvent {
            run_id: Some(run_id),
            task_id: Some(task_id.to_string()),
            kind,
        }
    }
}

/// Appends events; many rows per statement so a busy scheduler step stays cheap.
pub async fn insert_events(tx: &mut Tx, events: &[NewEvent]) -> Result<()> {
    let now = now_ms();
    for chunk in events.chunks(100) {
        let sql = format!(
            "INSERT INTO events (at, run_id, task_id, kind, payload) VALUES {}",
            super::values_rows(chunk.len(), 5)
        );
        // Only placeholders are formatted into the text; every value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in chunk {
            q = q
                .bind(now)
                .bind(e.run_id)
                .bind(e.task_id.clone())
                .bind(e.kind.tag())
                .bind(serde_json::to_string(&e.kind)?);
        }
        q.execute(&mut **tx).await?;
    }
    super::changes::announce(tx).await?;
    // The outbox row goes in the same transaction as the change it reports.
    super::raise_from_events(tx, events).await
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogLine {
    pub attempt: i64,
    pub line_no: i64,
    pub at: i64,
    pub line: String,
}

fn log_line(r: &super::Row) -> Result<LogLine> {
    Ok(LogLine {
        attempt: r.try_get("attempt")?,
        line_no: r.try_get("line_no")?,
        at: r.try_get("at")?,
        line: r.try_get("line")?,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalEntry {
    pub at: i64,
    pub who: String,
    pub action: String,
    pub run_id: Option<i64>,
    pub tasks: Vec<String>,
    pub detail: Option<String>,
}

fn journal_from_row(r: &super::Row) -> Result<JournalEntry> {
    let tasks: String = r.try_get("tasks")?;
    Ok(JournalEntry {
        at: r.try_get("at")?,
        who: r.try_get("who")?,
        action: r.try_get("action")?,
        run_id: r.try_get("run_id")?,
        tasks: serde_json::from_str(&tasks)?,
        detail: r.try_get("detail")?,
    })
}

#[derive(Debug, Clone)]
pub struct RequestRow {
    pub id: i64,
    pub run_id: i64,
    pub kind: String,
    pub payload: String,
    pub created_by: String,
}

pub async fn add_journal(
    tx: &mut Tx,
    who: &str,
    action: &str,
    run_id: Option<i64>,
    tasks: &[String],
    detail: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO journal (at, who, action, run_id, tasks, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(now_ms())
    .bind(who)
    .bind(action)
    .bind(run_id)
    .bind(serde_json::to_string(tasks)?)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    insert_events(
        tx,
        &[NewEvent {
            run_id,
            task_id: None,
            kind: EventKind::Journal {
                action: action.to_string(),
            },
        }],
    )
    .await
}

pub async fn insert_request(
    tx: &mut Tx,
    run_id: i64,
    kind: &str,
    payload: &str,
    who: &str,
) -> Result<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO requests (run_id, kind, payload, created_at, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(run_id)
    .bind(kind)
    .bind(payload)
    .bind(now_ms())
    .bind(who)
    .fetch_one(&mut **tx)
    .await?;
    super::changes::announce_request(tx, run_id).await?;
    Ok(id)
}

pub async fn open_requests(tx: &mut Tx, run_id: i64) -> Result<Vec<RequestRow>> {
    let rows = sqlx::query(
        "SELECT id, run_id, kind, payload, created_by FROM requests WHERE run_id = $1 AND done_at IS NULL ORDER BY id",
    )
    .bind(run_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RequestRow {
                id: r.try_get("id")?,
                run_id: r.try_get("run_id")?,
                kind: r.try_get("kind")?,
                payload: r.try_get("payload")?,
                created_by: r.try_get("created_by")?,
            })
        })
        .collect()
}

pub async fn finish_request(tx: &mut Tx, id: i64, result: &str) -> Result<()> {
    sqlx::query("UPDATE requests SET done_at = $1, result = $2 WHERE id = $3")
        .bind(now_ms())
        .bind(result)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn append_logs(
    store: &Store,
    run_id: i64,
    task_id: &str,
    attempt: i64,
    first_line: i64,
    lines: &[(i64, String)],
) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    if !super::attempt_running(&mut tx, run_id, task_id, attempt).await? {
        return Ok(());
    }
    for (c, chunk) in lines.chunks(100).enumerate() {
        let sql = format!(
            "INSERT INTO logs (run_id, task_id, attempt, line_no, at, line) VALUES {}",
            super::values_rows(chunk.len(), 6)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (k, (at, line)) in chunk.iter().enumerate() {
            q = q
                .bind(run_id)
                .bind(task_id)
                .bind(attempt)
                .bind(first_line + (c * 100 + k) as i64)
                .bind(*at)
                .bind(cap_log_line(line).into_owned());
        }
        q.execute(&mut *tx).await?;
    }
    let last = first_line + lines.len() as i64 - 1;
    if last >= LOG_LINES_PER_ATTEMPT {
        sqlx::query(
            "DELETE FROM logs WHERE run_id = $1 AND task_id = $2 AND attempt = $3 AND line_no <= $4",
        )
        .bind(run_id)
        .bind(task_id)
        .bind(attempt)
        .bind(last - LOG_LINES_PER_ATTEMPT)
        .execute(&mut *tx)
        .await?;
    }
    insert_events(
        &mut tx,
        &[NewEvent::task(
            run_id,
            task_id,
            EventKind::Log {
                attempt,
                first_line,
                count: lines.len() as i64,
            },
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

impl Store {
    pub async fn events_after(&self, seq: i64, limit: i64) -> Result<Vec<Event>> {
        let rows = sqlx::query(
            "SELECT seq, at, run_id, task_id, payload FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(seq)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let payload: String = r.try_get("payload")?;
                Ok(Event {
                    seq: r.try_get("seq")?,
                    at: r.try_get("at")?,
                    run_id: r.try_get("run_id")?,
                    task_id: r.try_get("task_id")?,
                    kind: serde_json::from_str(&payload)?,
                })
            })
            .collect()
    }

    pub async fn last_event_seq(&self) -> Result<i64> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM events")
            .fetch_one(self.pool())
            .await?;
        Ok(seq.unwrap_or(0))
    }

    pub async fn logs(
        &self,
        run_id: i64,
        task_id: &str,
        attempt: i64,
        after_line: i64,
        limit: i64,
    ) -> Result<Vec<LogLine>> {
        let rows = sqlx::query(
            "SELECT attempt, line_no, at, line FROM logs WHERE run_id = $1 AND task_id = $2 AND attempt = $3 AND line_no > $4 ORDER BY line_no LIMIT $5",
        )
        .bind(run_id)
        .bind(task_id)
        .bind(attempt)
        .bind(after_line)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(log_line).collect()
    }

    /// The last `n` lines of an attempt's log, in order.
    pub async fn log_tail(
        &self,
        run_id: i64,
        task_id: &str,
        attempt: i64,
        n: i64,
    ) -> Result<Vec<LogLine>> {
        let rows = sqlx::query(
            "SELECT attempt, line_no, at, line FROM logs WHERE run_id = $1 AND task_id = $2 AND attempt = $3 ORDER BY line_no DESC LIMIT $4",
        )
        .bind(run_id)
        .bind(task_id)
        .bind(attempt)
        .bind(n)
        .fetch_all(self.pool())
        .await?;
        let mut lines: Vec<LogLine> = rows.iter().map(log_line).collect::<Result<_>>()?;
        lines.reverse();
        Ok(lines)
    }

    pub async fn journal(&self, run_id: Option<i64>, limit: i64) -> Result<Vec<JournalEntry>> {
        let rows = sqlx::query(
            "SELECT at, who, action, run_id, tasks, detail FROM journal WHERE ($1 IS NULL OR run_id = $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(run_id)
        .bind(run_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(journal_from_row).collect()
    }

    /// Journal entries of one run or of all, from `since` (ms) on, oldest
    /// first: what `switchyard journal` and a run's timeline show.
    pub async fn journal_entries(
        &self,
        run_id: Option<i64>,
        since: Option<i64>,
    ) -> Result<Vec<JournalEntry>> {
        let rows = sqlx::query(
            r#"SELECT "at", "who", "action", "run_id", "tasks", "detail" FROM "journal" WHERE ($1 IS NULL OR "run_id" = $2) AND ($3 IS NULL OR "at" >= $4) ORDER BY "at", "id""#,
        )
        .bind(run_id)
        .bind(run_id)
        .bind(since)
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(journal_from_row).collect()
    }

    /// Whether a request has been applied, and what came of it.
    pub async fn request_result(&self, id: i64) -> Result<Option<String>> {
        let row: Option<(Option<i64>, Option<String>)> =
            sqlx::query_as("SELECT done_at, result FROM requests WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.and_then(|(done, result)| done.map(|_| result.unwrap_or_default())))
    }
}

/// Drops events older than `before`: they notify followers, they are not
/// history (runs, attempts, logs and the journal are).
pub async fn prune_events(tx: &mut Tx, before: i64) -> Result<()> {
    sqlx::query("DELETE FROM events WHERE at < $1")
        .bind(before)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
