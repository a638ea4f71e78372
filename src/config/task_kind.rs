//! What a task does: the `kind` key of `[[pipelines.NAME.tasks]]`.
//!
//! One enum, matched exhaustively wherever behaviour depends on the kind
//! (validation, planning, the executors, collisions), so adding
//! a kind makes the compiler list every place it must touch. The names are
//! part of the workspace file's interface (README, "The workspace file") and
//! are what the state store records per instance.

use std::fmt;

use serde::{Deserialize, Serialize};

/// `Default` (`Command`) is only for building a `TaskDef` in code
/// (`..TaskDef::default()`); every task of a workspace file names its kind.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// One table or query of a source into a file of a store.
    Export,
    /// Every table of a source (filtered by `include`/`exclude`): expands
    /// into one `export` per table when a run is made (`engine/plan.rs`).
    ExportAll,
    /// A file of a store into a warehouse table; with `from`, one load per
    /// table of an `export_all`.
    Load,
    /// A statement run against a source or warehouse.
    Sql,
    /// A query whose answer must be zero rows, or two that must agree.
    Check,
    /// A pause (`duration`) or a time of day (`until`).
    Wait,
    /// A shell command.
    #[default]
    Command,
}

impl TaskKind {
    pub const ALL: [TaskKind; 7] = [
        TaskKind::Export,
        TaskKind::ExportAll,
        TaskKind::Load,
        TaskKind::Sql,
        TaskKind::Check,
        TaskKind::Wait,
        TaskKind::Command,
    ];

    /// Every name, in `ALL`'s order: what `check` lists for an unknown kind.
    pub const NAMES: [&'static str; 7] = {
        let mut names = [""; 7];
        let mut i = 0;
        while i < names.len() {
            names[i] = TaskKind::ALL[i].name();
            i += 1;
        }
        names
    };

    /// The name in the workspace file and the state store.
    pub const fn name(self) -> &'static str {
        match self {
            TaskKind::Export => "export",
            TaskKind::ExportAll => "export_all",
            TaskKind::Load => "load",
            TaskKind::Sql => "sql",
            TaskKind::Check => "check",
            TaskKind::Wait => "wait",
            TaskKind::Command => "command",
        }
    }

    pub fn parse(name: &str) -> Option<TaskKind> {
        TaskKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_match_serde() {
        for k in TaskKind::ALL {
            assert_eq!(TaskKind::parse(k.name()), Some(k));
            let json = serde_json::to_string(&k).expect("serialize");
            assert_eq!(json, format!("\"{}\"", k.name()));
        }
        assert_eq!(TaskKind::parse("export-all"), None);
        assert_eq!(TaskKind::NAMES.len(), TaskKind::ALL.len());
    }
}
