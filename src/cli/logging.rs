//! Diagnostics go through `tracing` to a file, never to the screen, and pass
//! through the redactor first. `SWITCHYARD_HOME` overrides the directory.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::config::redact::redact;

/// The user's own directory for logs (and, later, keymap and theme overrides).
pub fn home_dir() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("SWITCHYARD_HOME") {
        return Some(PathBuf::from(h));
    }
    directories::ProjectDirs::from("", "", "switchyard").map(|d| d.data_dir().to_path_buf())
}

struct RedactingFile(Mutex<std::fs::File>);

impl Write for &RedactingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = redact(&String::from_utf8_lossy(buf));
        if let Ok(mut f) = self.0.lock() {
            f.write_all(text.as_bytes())?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Starts file logging; silently does nothing if the directory is unwritable.
pub fn init() -> Option<()> {
    let dir = home_dir()?.join("logs");
    std::fs::create_dir_all(&dir).ok()?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("switchyard.log"))
        .ok()?;
    let sink: &'static RedactingFile = Box::leak(Box::new(RedactingFile(Mutex::new(file))));
    let level = match std::env::var("SWITCHYARD_LOG").as_deref() {
        Ok("debug") => tracing::Level::DEBUG,
        Ok("trace") => tracing::Level::TRACE,
        Ok("warn") => tracing::Level::WARN,
        _ => tracing::Level::INFO,
    };
    tracing_subscriber::fmt()
        .with_writer(move || sink)
        .with_ansi(false)
        .with_max_level(level)
        .try_init()
        .ok()?;
    Some(())
}
