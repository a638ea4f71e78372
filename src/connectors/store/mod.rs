//! Stores: object storage that exported files land in. A local directory, or
//! S3 and everything that speaks its API, behind the same trait.
//!
//! Publishing is atomic: a writer's bytes appear under their final name only
//! on `commit` (local: `*.partial`, fsync, rename; S3: the multipart upload
//! completes). A writer dropped without `commit` leaves nothing behind.

pub mod local;
pub mod partial;
pub mod s3;

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Serialize;

use super::BoxFuture;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectInfo {
    /// Path relative to the store root; prefixes end with `/`.
    pub path: String,
    pub size: u64,
    /// Milliseconds since the epoch.
    pub modified: Option<i64>,
    pub is_prefix: bool,
    /// Set for a local `*.partial` file: not an object yet, but disk in use.
    pub partial: Option<PartialFile>,
}

/// A file still being written, or one its writer left when it died.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartialFile {
    /// The writer, from the file's name (None: not a name switchyard gives).
    pub pid: Option<u32>,
    /// The writer's host; None for names from before hosts were recorded.
    pub host: Option<String>,
    pub writer: Writer,
    /// The name of the object it was to become (None: not known).
    pub object: Option<String>,
}

/// What is known of a `.partial` file's writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Writer {
    /// Alive on this host: the file is being written.
    Alive,
    /// Dead: the file was left behind; the store's next write removes it.
    Dead,
    /// On another host, where its pid cannot be checked.
    Elsewhere,
    /// The name does not say (not a name switchyard gives).
    Unknown,
}

/// A file being written; invisible under its final name until `commit`.
pub trait ObjectWriter: Write + Send {
    /// Publishes the object; returns its size in bytes.
    fn commit(self: Box<Self>) -> Result<u64>;
}

/// A file readable with random access (Parquet needs it): the object itself
/// for a local store, a temporary download for a remote one.
#[derive(Debug)]
pub struct LocalCopy {
    pub path: PathBuf,
    /// Removed when dropped (remote stores).
    pub _temp: Option<tempfile_guard::TempGuard>,
}

impl LocalCopy {
    /// The SHA-256 of the file's bytes, hex: what a load's ledger knows the
    /// file by (see `engine::executor::load`). Streamed in 1 MiB reads, so a
    /// large file never sits in memory; with the CPU's SHA extensions it
    /// costs about a second per 1.5 GB, on top of a load that reads the whole
    /// file anyway. Blocking I/O: call from a blocking thread.
    pub fn sha256(&self) -> Result<String> {
        use sha2::{Digest, Sha256};
        use std::io::Read;
        let mut file = std::fs::File::open(&self.path)
            .with_context(|| format!("cannot read {}", self.path.display()))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot read {}", self.path.display()));
                }
            };
            hasher.update(&buf[..n]);
        }
        Ok(hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect())
    }
}

pub mod tempfile_guard {
    /// Deletes a file when dropped.
    #[derive(Debug)]
    pub struct TempGuard(pub std::path::PathBuf);
    impl Drop for TempGuard {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

pub trait ObjectStore: Send + Sync {
    fn kind(&self) -> &'static str;
    /// A human-readable address of `path` (`/data/lake/x.parquet`, `s3://b/x.parquet`).
    fn uri(&self, path: &str) -> String;
    /// Starts writing `path`. Blocking I/O: call from a blocking thread.
    fn create(&self, path: &str) -> Result<Box<dyn ObjectWriter>>;
    /// Objects and sub-prefixes directly under `prefix` (like a folder).
    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<ObjectInfo>>>;
    fn fetch<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<LocalCopy>>;
    fn delete<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<()>>;
}
