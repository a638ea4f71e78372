//! Opening a SQLite file that another process (or pool) may be opening at
//! the same moment. Switching a new file to WAL needs an exclusive lock that
//! SQLite's busy timeout does not wait for, so when two open it at once the
//! loser gets "database is locked" at once. Both the state store and the
//! SQLite warehouse open their files through `retry_while_locked`.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::Result;

/// How long opening keeps trying while the file is locked.
const OPEN_PATIENCE: Duration = Duration::from_secs(20);

/// Whether `e` is SQLite's "database is locked" (SQLITE_BUSY, code 5).
pub fn is_locked(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        let t = c.to_string();
        t.contains("database is locked") || t.contains("(code: 5)")
    })
}

/// Runs `open` again, backing off from 20 ms to 500 ms, while it fails
/// because the file is locked, for up to 20 s; any other outcome returns.
pub async fn retry_while_locked<T, F, Fut>(mut open: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let deadline = Instant::now() + OPEN_PATIENCE;
    let mut pause = Duration::from_millis(20);
    loop {
        match open().await {
            Err(e) if is_locked(&e) && Instant::now() < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(500));
            }
            other => return other,
        }
    }
}
