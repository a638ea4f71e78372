//! A local directory as an object store (the default store).
//!
//! A writer writes `<final>.<pid>-<n>@<host>.partial` beside the final name
//! and publishes it on `commit` with flush, fsync, rename and a directory
//! fsync, so the final name only ever holds a complete file, even across a
//! crash or `kill -9`. The `.partial` name is unique per writer so two
//! writers of one path never share a file. Listings show `.partial` files
//! marked as such; one left by a dead writer is removed by the store's next
//! write (see `partial.rs`).

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::UNIX_EPOCH;

use anyhow::{Context, Result, anyhow, bail};

use super::partial::{self, PARTIAL_SUFFIX, is_partial};
use super::{LocalCopy, ObjectInfo, ObjectStore, ObjectWriter};
use crate::connectors::BoxFuture;

/// Distinguishes writers within one process (the pid tells processes apart).
static WRITER_SEQ: AtomicU64 = AtomicU64::new(0);

#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// A store rooted at `root`; the directory is created on first write.
    pub fn new(root: PathBuf) -> LocalStore {
        LocalStore { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `path` under the root, refusing anything that could leave it.
    fn resolve(&self, path: &str) -> Result<PathBuf> {
        let rel = checked_relative(path)?;
        if rel.as_os_str().is_empty() {
            bail!("an object path cannot be empty");
        }
        Ok(self.root.join(rel))
    }
}

/// Validates a store path: relative, no `..`, no NUL. `.` and empty segments
/// (`a//b`) are dropped. Symlinks inside the root are trusted (the root
/// belongs to the workspace owner).
fn checked_relative(path: &str) -> Result<PathBuf> {
    if path.contains('\0') {
        bail!("object path {path:?} contains a NUL byte");
    }
    let mut rel = PathBuf::new();
    for comp in Path::new(path).components() {
        match comp {
            Component::Normal(c) => rel.push(c),
            Component::CurDir => {}
            Component::ParentDir => {
                bail!("object path `{path}` must not contain `..` (paths stay inside the store)")
            }
            Component::RootDir | Component::Prefix(_) => {
                bail!("object path `{path}` must be relative to the store root, not absolute")
            }
        }
    }
    Ok(rel)
}

fn modified_ms(meta: &fs::Metadata) -> Option<i64> {
    let d = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    i64::try_from(d.as_millis()).ok()
}

/// fsync a directory so a rename in it survives a power cut.
fn sync_dir(dir: &Path) -> io::Result<()> {
    // `Path::new("lake").parent()` is the empty path: the current directory.
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(dir)?.sync_all()
}

impl ObjectStore for LocalStore {
    fn kind(&self) -> &'static str {
        "local"
    }

    fn uri(&self, path: &str) -> String {
        self.root.join(path).display().to_string()
    }

    fn create(&self, path: &str) -> Result<Box<dyn ObjectWriter>> {
        let final_path = self.resolve(path)?;
        let name = final_path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| anyhow!("object path `{path}` has no file name"))?;
        if is_partial(name) {
            bail!(
                "object path `{path}`: names ending in {PARTIAL_SUFFIX} are reserved for files being written"
            );
        }
        let dir = final_path
            .parent()
            .ok_or_else(|| anyhow!("object path `{path}` has no parent directory"))?;
        // Directories made here must be fsynced too for the file to survive a
        // power cut; commit does it when there were any.
        let new_dirs = !dir.is_dir();
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        // What dead writers left: everywhere the first time, then here.
        partial::sweep_tree_once(&self.root);
        partial::sweep_dir(dir);
        let seq = WRITER_SEQ.fetch_add(1, Ordering::Relaxed);
        let partial = dir.join(partial::partial_name(name, seq));
        let file = File::create_new(&partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
        Ok(Box::new(LocalWriter {
            file: Some(BufWriter::with_capacity(1 << 20, file)),
            partial,
            final_path,
            written: 0,
            synced_up_to: new_dirs.then(|| self.root.parent().unwrap_or(&self.root).to_path_buf()),
        }))
    }

    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<ObjectInfo>>> {
        Box::pin(async move {
            let root = self.root.clone();
            let prefix = prefix.to_string();
            tokio::task::spawn_blocking(move || list_dir(&root, &prefix)).await?
        })
    }

    fn fetch<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<LocalCopy>> {
        Box::pin(async move {
            let full = self.resolve(path)?;
            let meta = tokio::fs::metadata(&full)
                .await
                .with_context(|| format!("no object `{path}` in store {}", self.root.display()))?;
            if !meta.is_file() {
                bail!("`{path}` in store {} is not a file", self.root.display());
            }
            // The file itself: local reads need no copy.
            Ok(LocalCopy {
                path: full,
                _temp: None,
            })
        })
    }

    fn delete<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let full = self.resolve(path)?;
            match tokio::fs::remove_file(&full).await {
                Ok(()) => Ok(()),
                // Like S3: deleting what is not there succeeds.
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e).with_context(|| format!("cannot delete {}", full.display())),
            }
        })
    }
}

/// S3-style listing with `/` as delimiter: `prefix` is a directory part plus
/// the start of a name (`users/2024-` lists `users/2024-*`). A missing
/// directory lists as empty, as an S3 prefix with no objects does.
fn list_dir(root: &Path, prefix: &str) -> Result<Vec<ObjectInfo>> {
    let (dir_part, name_start) = match prefix.rfind('/') {
        Some(i) => (&prefix[..=i], &prefix[i + 1..]),
        None => ("", prefix),
    };
    let rel = checked_relative(dir_part)?;
    let dir = root.join(&rel);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    // Returned paths are normalised (`./a//b` lists as `a/b/...`).
    let base = rel
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .fold(String::new(), |acc, c| acc + &c + "/");
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue; // not UTF-8: not addressable by a store path
        };
        if !name.starts_with(name_start) {
            continue;
        }
        // Follows symlinks; an entry deleted meanwhile is skipped.
        let Ok(meta) = fs::metadata(entry.path()) else {
            continue;
        };
        out.push(if meta.is_dir() {
            ObjectInfo {
                path: format!("{base}{name}/"),
                size: 0,
                modified: None,
                is_prefix: true,
                partial: None,
            }
        } else {
            ObjectInfo {
                partial: is_partial(&name).then(|| partial::describe(&name, &meta)),
                path: format!("{base}{name}"),
                size: meta.len(),
                modified: modified_ms(&meta),
                is_prefix: false,
            }
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

struct LocalWriter {
    /// None once committed.
    file: Option<BufWriter<File>>,
    partial: PathBuf,
    final_path: PathBuf,
    written: u64,
    /// When directories were created: fsync every directory from the file's
    /// up to this one (the root's parent).
    synced_up_to: Option<PathBuf>,
}

impl Write for LocalWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("writer already committed"))?;
        let n = file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl ObjectWriter for LocalWriter {
    fn commit(mut self: Box<Self>) -> Result<u64> {
        let buffered = self
            .file
            .take()
            .ok_or_else(|| anyhow!("writer already committed"))?;
        let partial = self.partial.display().to_string();
        // On any error below `self` drops and removes the partial file.
        let file = buffered
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("cannot write {partial}"))?;
        file.sync_all()
            .with_context(|| format!("cannot fsync {partial}"))?;
        drop(file);
        fs::rename(&self.partial, &self.final_path)
            .with_context(|| format!("cannot rename {partial} to {}", self.final_path.display()))?;
        // Renamed: from here there is no partial file to clean up.
        self.partial = PathBuf::new();
        let mut dir = self.final_path.parent();
        while let Some(d) = dir {
            sync_dir(d).with_context(|| format!("cannot fsync {}", d.display()))?;
            match &self.synced_up_to {
                Some(top) if d != top.as_path() => dir = d.parent(),
                _ => break,
            }
        }
        Ok(self.written)
    }
}

impl Drop for LocalWriter {
    fn drop(&mut self) {
        // Not committed (or commit failed before the rename): discard.
        drop(self.file.take());
        if !self.partial.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.partial);
        }
    }
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
