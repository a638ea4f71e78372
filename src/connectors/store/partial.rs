//! The `.partial` files of a local store. A writer names its file
//! `<final>.<pid>-<n>@<host>.partial`, so a file left by a writer that died
//! (`kill -9`, a crash, a power cut) is recognised: listings mark it, and the
//! store's next write removes it. Only files of this host are judged, where
//! the pid means something; names without a host (older writers) count as
//! this host's.

use std::fs;
use std::io;
use std::path::Path;
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use super::{PartialFile, Writer};
use crate::host;

/// Files being written end with this.
pub const PARTIAL_SUFFIX: &str = ".partial";

/// A process that started later than this after a partial was last written
/// cannot be its writer (the pid was reused).
const PID_REUSE_SLACK_MS: i64 = 2_000;

pub fn is_partial(name: &str) -> bool {
    name.ends_with(PARTIAL_SUFFIX)
}

/// This host's name as it goes into a file name.
fn host_tag() -> String {
    host::hostname()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The partial file name for writer `seq` of this process writing `name`.
pub fn partial_name(name: &str, seq: u64) -> String {
    format!(
        "{name}.{}-{seq}@{}{PARTIAL_SUFFIX}",
        std::process::id(),
        host_tag()
    )
}

/// A partial file's name, read back: the object it is for, its writer's
/// pid and host (None when it is not a name switchyard gives).
struct Named<'a> {
    object: &'a str,
    pid: u32,
    host: Option<String>,
}

fn writer_of(file_name: &str) -> Option<Named<'_>> {
    let stem = file_name.strip_suffix(PARTIAL_SUFFIX)?;
    let (stem, host) = match stem.rsplit_once('@') {
        Some((s, h)) => (s, Some(h.to_string())),
        None => (stem, None),
    };
    let (object, writer) = stem.rsplit_once('.')?;
    let (pid, seq) = writer.split_once('-')?;
    seq.parse::<u64>().ok()?;
    Some(Named {
        object,
        pid: pid.parse().ok()?,
        host,
    })
}

fn modified_ms(meta: &fs::Metadata) -> Option<i64> {
    let d = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    i64::try_from(d.as_millis()).ok()
}

/// What a listing says about a `.partial` file.
pub fn describe(file_name: &str, meta: &fs::Metadata) -> PartialFile {
    let Some(named) = writer_of(file_name) else {
        return PartialFile {
            pid: None,
            host: None,
            writer: Writer::Unknown,
            object: None,
        };
    };
    let writer = writer_state(named.pid, named.host.as_deref(), modified_ms(meta));
    PartialFile {
        pid: Some(named.pid),
        writer,
        object: Some(named.object.to_string()),
        host: named.host,
    }
}

/// Is the writer of a partial file alive? Judged on this host only; a live
/// pid is the writer unless it started after the file was last written.
fn writer_state(pid: u32, host: Option<&str>, modified: Option<i64>) -> Writer {
    if host.is_some_and(|h| h != host_tag()) {
        return Writer::Elsewhere;
    }
    let pid = i64::from(pid);
    if !host::pid_alive(pid, None) {
        return Writer::Dead;
    }
    match (host::proc_started_ms(pid), modified) {
        (Some(started), Some(written)) if started > written + PID_REUSE_SLACK_MS => Writer::Dead,
        _ => Writer::Alive,
    }
}

/// Removes the partial files in `dir` whose writer is dead. Returns how many.
pub fn sweep_dir(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !is_partial(&name) {
            continue;
        }
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        if !meta.is_file() || describe(&name, &meta).writer != Writer::Dead {
            continue;
        }
        match fs::remove_file(entry.path()) {
            Ok(()) => {
                removed += 1;
                tracing::info!(
                    "removed {} ({} bytes): its writer is gone",
                    entry.path().display(),
                    meta.len()
                );
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!("cannot remove {}: {e}", entry.path().display()),
        }
    }
    removed
}

/// Sweeps every directory under `root` (without following symlinks), the
/// first time this process writes to that store.
pub fn sweep_tree_once(root: &Path) {
    static SWEPT: Mutex<Vec<std::path::PathBuf>> = Mutex::new(Vec::new());
    {
        let Ok(mut swept) = SWEPT.lock() else {
            return;
        };
        if swept.iter().any(|r| r == root) {
            return;
        }
        swept.push(root.to_path_buf());
    }
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        sweep_dir(&dir);
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        dirs.extend(
            entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_writer() {
        let read = |n: &str| writer_of(n).map(|w| (w.object.to_string(), w.pid, w.host));
        let name = partial_name("users.parquet", 3);
        assert!(name.starts_with(&format!("users.parquet.{}-3@", std::process::id())));
        assert_eq!(
            read(&name),
            Some(("users.parquet".into(), std::process::id(), Some(host_tag())))
        );
        assert_eq!(
            read("a.b.parquet.42-0.partial"),
            Some(("a.b.parquet".into(), 42, None))
        );
        assert_eq!(
            read("x.csv.7-1@db-1.example.com.partial"),
            Some(("x.csv".into(), 7, Some("db-1.example.com".into())))
        );
        assert!(read("notes.partial").is_none());
        assert!(read("x.csv.abc-1.partial").is_none());
    }

    #[test]
    fn a_dead_writer_is_gone_a_live_one_or_another_hosts_is_not() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let now = chrono::Utc::now().timestamp_millis();
        assert_eq!(writer_state(dead, None, Some(now)), Writer::Dead);
        assert_eq!(
            writer_state(dead, Some(&host_tag()), Some(now)),
            Writer::Dead
        );
        assert_eq!(
            writer_state(dead, Some("elsewhere"), Some(now)),
            Writer::Elsewhere
        );
        let me = std::process::id();
        assert_eq!(writer_state(me, None, Some(now)), Writer::Alive);
        // A file last written long before this process started is not its.
        assert_eq!(writer_state(me, None, Some(0)), Writer::Dead);
    }
}
