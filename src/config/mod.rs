//! `switchyard.toml`: the serde model, `${VAR}` interpolation, validation with
//! `file:line:col` messages, and secret redaction.
//!
//! Loading works on toml's spanned tree (`DeTable`) rather than on text, so every
//! problem — including those found after interpolation — keeps the position of the
//! key or value it is about.

pub mod duration;
pub mod model;
pub mod redact;
pub mod rules;
pub mod schedule;
pub mod task_kind;

mod cycles;
mod interpolate;
pub mod notify;
mod report;
mod secret_spans;
mod secrets;
mod suggest;
mod tasks;
mod tree;
mod validate;
mod warnings;

pub use model::*;
pub use task_kind::TaskKind;
pub use warnings::warnings;

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;
use toml::de::DeTable;

use report::Report;

/// The file name looked for when no `-c FILE` is given.
pub const WORKSPACE_FILE_NAME: &str = "switchyard.toml";

/// One problem in a workspace file, with its 1-based position.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.col,
            // One line each: a name in a message may hold a line break.
            crate::text::one_line(&self.message)
        )
    }
}

/// Every problem found in a workspace file, in file order.
#[derive(Debug)]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Reads, interpolates `${VAR}`, deserializes and validates `path`.
/// Reports every problem found, not just the first.
pub fn load(path: &Path) -> Result<Workspace, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        problems: vec![Problem {
            file: path.to_path_buf(),
            line: 1,
            col: 1,
            message: format!("cannot read the workspace file: {e}"),
        }],
    })?;
    load_str(path, &text)
}

/// Like `load`, from text. `file` is used in messages and to set `Workspace.file`/`dir`.
pub fn load_str(file: &Path, text: &str) -> Result<Workspace, ConfigError> {
    load_with_env(file, text, &|name| std::env::var(name).ok())
}

/// `load_str` with an injectable environment (tests cannot safely set real env vars).
pub(crate) fn load_with_env(
    file: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Workspace, ConfigError> {
    let mut report = Report::new(file, text);
    let (mut root, syntax_errors) = DeTable::parse_recoverable(text);
    if !syntax_errors.is_empty() {
        // A recovered tree yields follow-on noise; the syntax errors are what matters.
        for e in &syntax_errors {
            report.toml_error(e, text);
        }
        return Err(report.into_error());
    }
    interpolate::interpolate(root.get_mut(), env, &mut report);
    validate::validate(&root, &mut report);
    if report.has_problems() {
        return Err(report.into_error());
    }
    let mut def = match WorkspaceFile::deserialize(toml::de::Deserializer::from(root)) {
        Ok(def) => def,
        Err(e) => {
            // Only reached for a shape `validate` does not check itself.
            report.toml_error(&e, text);
            return Err(report.into_error());
        }
    };
    apply_defaults(&mut def);
    let (file, dir) = absolute_location(file);
    let warnings = report.into_warnings();
    Ok(Workspace {
        file,
        dir,
        def,
        warnings,
    })
}

/// Kinds the README documents as defaults when `kind` is left out.
fn apply_defaults(def: &mut WorkspaceFile) {
    for store in def.stores.values_mut() {
        if store.kind.is_empty() {
            store.kind = "local".into();
        }
    }
    for wh in def.warehouses.values_mut() {
        if wh.kind.is_empty() {
            wh.kind = "sqlite".into();
        }
    }
}

/// `(file, dir)`, both absolute; the directory is canonicalized when it exists.
fn absolute_location(file: &Path) -> (PathBuf, PathBuf) {
    let name = file
        .file_name()
        .map_or_else(|| WORKSPACE_FILE_NAME.into(), |n| n.to_os_string());
    let parent = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir = std::fs::canonicalize(&parent).unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|cwd| cwd.join(&parent))
            .unwrap_or(parent)
    });
    (dir.join(name), dir)
}

/// `-c FILE` if given, else `./switchyard.toml`, else the first `switchyard.toml` in a
/// parent directory.
pub fn find_workspace(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        if path.is_file() {
            return Ok(path.to_path_buf());
        }
        if path.is_dir() {
            let inside = path.join(WORKSPACE_FILE_NAME);
            if inside.is_file() {
                return Ok(inside);
            }
            bail!(
                "no {WORKSPACE_FILE_NAME} in {} (given with -c/--config)",
                path.display()
            );
        }
        bail!(
            "workspace file {} (given with -c/--config) does not exist",
            path.display()
        );
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    find_upwards(&cwd).with_context(|| {
        format!(
            "no {WORKSPACE_FILE_NAME} in {} or any parent directory; \
             give one with -c FILE, or create a demo with `switchyard demo`",
            cwd.display()
        )
    })
}

/// `./switchyard.toml` is returned relative (as users type it); parents absolute.
fn find_upwards(start: &Path) -> Option<PathBuf> {
    if start.join(WORKSPACE_FILE_NAME).is_file() {
        return Some(PathBuf::from(WORKSPACE_FILE_NAME));
    }
    start
        .ancestors()
        .skip(1)
        .map(|dir| dir.join(WORKSPACE_FILE_NAME))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests;
