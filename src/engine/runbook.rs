//! Runbooks: the Markdown note for the on-call engineer, shown beside a
//! failed task. From the task's `runbook = "…"`, else the first
//! `runbooks/*.md` (sorted by name) whose front matter matches the task id
//! (`task: glob`) or the error (`error: regex`).

use std::path::{Path, PathBuf};

use crate::config::Workspace;

pub mod front_matter;

#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub path: PathBuf,
    pub text: String,
}

/// The runbook for `task_id` (with its explicit `runbook` path, if any) and its error.
pub fn find(
    ws: &Workspace,
    task_id: &str,
    explicit: Option<&str>,
    error: Option<&str>,
) -> Option<Found> {
    if let Some(p) = explicit {
        let path = ws.resolve_path(p);
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Some(Found { path, text });
        }
    }
    let dir = ws.dir.join("runbooks");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    files
        .into_iter()
        .find_map(|path| matches(&path, task_id, error))
}

fn matches(path: &Path, task_id: &str, error: Option<&str>) -> Option<Found> {
    let text = std::fs::read_to_string(path).ok()?;
    let front_matter::FrontMatter { task, error: err } = front_matter::parse(&text);
    let by_task = task
        .as_deref()
        .is_some_and(|g| crate::config::rules::glob_matches(g, task_id));
    let by_error = match (err.as_deref(), error) {
        (Some(re), Some(e)) => regex_lite::Regex::new(re).is_ok_and(|r| r.is_match(e)),
        _ => false,
    };
    (by_task || by_error).then(|| Found {
        path: path.to_path_buf(),
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(dir: &Path) -> Workspace {
        Workspace {
            file: dir.join("switchyard.toml"),
            dir: dir.to_path_buf(),
            def: Default::default(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn explicit_then_task_glob_then_error_regex() {
        let d = tempfile::tempdir().unwrap();
        let rb = d.path().join("runbooks");
        std::fs::create_dir_all(&rb).unwrap();
        std::fs::write(
            rb.join("a_exports.md"),
            "---\ntask: \"extract.*\"\n---\n# exports\n",
        )
        .unwrap();
        std::fs::write(
            rb.join("b_net.md"),
            "---\nerror: \"503|refused\"\n---\n# network\n",
        )
        .unwrap();
        std::fs::write(d.path().join("mine.md"), "# mine\n").unwrap();
        let w = ws(d.path());
        let f = |t: &str, e: Option<&str>, x: Option<&str>| find(&w, t, x, e).map(|f| f.text);
        assert_eq!(
            f("extract.main.users", None, None).as_deref(),
            Some("---\ntask: \"extract.*\"\n---\n# exports\n")
        );
        assert!(
            f("publish", Some("HTTP 503 from api"), None)
                .unwrap()
                .contains("# network")
        );
        assert!(f("publish", Some("all good"), None).is_none());
        assert_eq!(
            f("publish", None, Some("mine.md")).as_deref(),
            Some("# mine\n")
        );
        // A missing explicit file falls back to matching.
        assert!(
            f("extract.x", None, Some("nope.md"))
                .unwrap()
                .contains("# exports")
        );
    }
}
