//! Collects problems and turns byte offsets into 1-based line:col (col in characters).

use std::path::{Path, PathBuf};

use super::redact::redact;
use super::{ConfigError, Problem};

pub(crate) struct Report<'t> {
    file: PathBuf,
    text: &'t str,
    line_starts: Vec<usize>,
    problems: Vec<Problem>,
    warnings: Vec<Problem>,
}

impl<'t> Report<'t> {
    pub fn new(file: &Path, text: &'t str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Report {
            file: file.to_path_buf(),
            text,
            line_starts,
            problems: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// 1-based (line, col) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        (line, self.text[start..offset].chars().count() + 1)
    }

    pub fn line_of(&self, offset: usize) -> usize {
        self.position(offset).0
    }

    /// Records a problem at byte `offset`.
    pub fn at(&mut self, offset: usize, message: impl Into<String>) {
        let (line, col) = self.position(offset);
        self.problems.push(Problem {
            file: self.file.clone(),
            line,
            col,
            message: message.into(),
        });
    }

    /// Records something worth saying at byte `offset` that refuses nothing.
    pub fn warn(&mut self, offset: usize, message: impl Into<String>) {
        let (line, col) = self.position(offset);
        self.warnings.push(Problem {
            file: self.file.clone(),
            line,
            col,
            message: message.into(),
        });
    }

    /// Warnings in file order, for a workspace that loaded.
    pub fn into_warnings(mut self) -> Vec<Problem> {
        self.warnings.sort_by_key(|p| (p.line, p.col));
        self.warnings.dedup();
        self.warnings
    }

    /// A toml parse or deserialize error, at its span (or 1:1 when it has none).
    pub fn toml_error(&mut self, e: &toml::de::Error, text: &str) {
        let offset = e.span().map_or(0, |s| s.start);
        let mut message = e.message().trim().to_string();
        if message == "duplicate key"
            && let Some(key) = e.span().and_then(|s| text.get(s))
        {
            message = format!("duplicate key `{key}`");
        }
        self.at(offset, message);
    }

    pub fn has_problems(&self) -> bool {
        !self.problems.is_empty()
    }

    /// Problems in file order, without repeats, with secrets masked.
    pub fn into_error(mut self) -> ConfigError {
        self.problems.sort_by_key(|p| (p.line, p.col));
        self.problems.dedup();
        for p in &mut self.problems {
            p.message = redact(&p.message);
        }
        ConfigError {
            problems: self.problems,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "ab\nçé = 1\n\nx";
        let r = Report::new(Path::new("w.toml"), text);
        assert_eq!(r.position(0), (1, 1));
        assert_eq!(r.position(2), (1, 3));
        assert_eq!(r.position(3), (2, 1));
        // 'ç' and 'é' are two bytes each but one column each.
        assert_eq!(r.position(text.find('=').unwrap()), (2, 4));
        assert_eq!(r.position(text.find('x').unwrap()), (4, 1));
        assert_eq!(r.position(text.len() + 10), (4, 2));
    }
}
