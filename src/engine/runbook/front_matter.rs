//! A runbook's front matter: the `---` … `---` block at the very top that
//! says which tasks (`task: glob`) or errors (`error: regex`) it is for.
//!
//! The one definition of where that block starts and ends: the matcher reads
//! its keys from here and the console hides the same lines when it renders
//! the note, so what selects a runbook is never shown as its text.

/// The `task` and `error` keys; both `None` when there is no front matter.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FrontMatter {
    pub task: Option<String>,
    pub error: Option<String>,
}

/// The keys of `text`'s front matter. `key: value` lines, values may be
/// quoted; other lines and unknown keys are ignored.
pub fn parse(text: &str) -> FrontMatter {
    let mut fm = FrontMatter::default();
    let Some((block, _)) = split(text) else {
        return fm;
    };
    for line in block.lines() {
        if let Some((k, v)) = line.split_once(':') {
            let v = v.trim().trim_matches('"').trim_matches('\'').to_string();
            match k.trim() {
                "task" => fm.task = Some(v),
                "error" => fm.error = Some(v),
                _ => {}
            }
        }
    }
    fm
}

/// `text` without its front matter (and byte-order mark): the whole text
/// when it has none.
pub fn body(text: &str) -> &str {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    split(text).map_or(text, |(_, body)| body)
}

/// The front matter's lines and the text after its closing line, if `text`
/// opens with a `---` line (after an optional byte-order mark) that a later
/// `---` or `...` line closes. Unclosed, it is not front matter: a lone
/// `---` at the top of a note is a horizontal rule.
fn split(text: &str) -> Option<(&str, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    if lines.next().map(str::trim_end) != Some("---") {
        return None;
    }
    let start = text.find('\n').map_or(text.len(), |i| i + 1);
    let mut at = start;
    for l in lines {
        if matches!(l.trim_end(), "---" | "...") {
            let block = text.get(start..at)?;
            return Some((block, text.get(at + l.len()..).unwrap_or("")));
        }
        at += l.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(task: Option<&str>, error: Option<&str>) -> FrontMatter {
        FrontMatter {
            task: task.map(String::from),
            error: error.map(String::from),
        }
    }

    #[test]
    fn keys_and_body() {
        let t = "---\ntask: \"extract.*\"\nerror: 'timeout'\nowner: data\n---\n# Title\n";
        assert_eq!(parse(t), keys(Some("extract.*"), Some("timeout")));
        assert_eq!(body(t), "# Title\n");
        // `...` closes too (YAML's end-of-document line).
        assert_eq!(body("---\ntask: a\n...\nx"), "x");
    }

    #[test]
    fn missing_closing_line_is_not_front_matter() {
        let t = "---\ntask: export_*\n# Title\n";
        assert_eq!(parse(t), FrontMatter::default());
        assert_eq!(body(t), t);
        assert_eq!(body("---"), "---");
    }

    #[test]
    fn empty_front_matter() {
        assert_eq!(parse("---\n---\n# T\n"), FrontMatter::default());
        assert_eq!(body("---\n---\n# T\n"), "# T\n");
        // Closed on the last line, nothing after it.
        assert_eq!(body("---\ntask: a\n---"), "");
    }

    #[test]
    fn crlf_line_endings() {
        let t = "---\r\ntask: export_*\r\nerror: \"503|refused\"\r\n---\r\n# T\r\n";
        assert_eq!(parse(t), keys(Some("export_*"), Some("503|refused")));
        assert_eq!(body(t), "# T\r\n");
    }

    #[test]
    fn only_at_the_very_top() {
        let t = "# T\n---\ntask: a\n---\n";
        assert_eq!(parse(t), FrontMatter::default());
        assert_eq!(body(t), t);
        // A byte-order mark before it is fine.
        assert_eq!(
            parse("\u{feff}---\ntask: a\n---\n").task.as_deref(),
            Some("a")
        );
    }
}
