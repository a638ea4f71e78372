//! Text from outside the program (names, error messages, database errors,
//! log lines) made safe to put on a terminal. One home for the CLI and the
//! console: a name or message must not move the cursor, clear the screen or
//! forge a line of output, whichever of them prints it.

use std::borrow::Cow;

use ratatui::text::Span;

/// `s` with every control character written as an escape (`\n`, `\t`,
/// `\u{1b}`), and the invisible marks that reorder text (bidi overrides)
/// too: a name or message stays on its one line and says what it holds.
/// Borrowed when there is nothing to escape.
pub fn one_line(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// Like `one_line`, but line breaks stay: for a message of several lines
/// (every problem of a workspace file, an error with its causes).
pub fn lines(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

fn escape(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    let needs = |c: char| (c.is_control() && !(keep_newlines && c == '\n')) || reorders(c);
    if !s.contains(needs) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Unicode's bidirectional embedding, override and isolate marks: they show
/// nothing and reorder what follows.
fn reorders(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// An error and its causes on one line, `: ` between them, each cause
/// left out when its text was already written. Many errors print their
/// cause inside their own message and also return it as their source
/// (sqlx: "error communicating with database: X", parquet: "External: X"),
/// so anyhow's `{:#}` wrote X twice. Print every error chain through this.
pub fn error_chain(e: &anyhow::Error) -> String {
    error_sources(e.as_ref())
}

/// `error_chain` for an error that is not an `anyhow::Error`.
pub fn error_sources(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = String::new();
    for cause in std::iter::successors(Some(e), |e| e.source()) {
        let text = cause.to_string();
        let text = text.trim();
        if text.is_empty() || out.contains(text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(text);
    }
    out
}

/// Display width of one character (wide CJK/emoji count 2, controls 0).
fn char_width(c: char) -> usize {
    let mut b = [0u8; 4];
    Span::raw(&*c.encode_utf8(&mut b)).width()
}

/// A log line made displayable as a terminal would have shown it: ANSI
/// escapes (CSI, and OSC such as hyperlinks) dropped, a carriage return
/// going back to the start of the line (a progress bar shows its last
/// state), a backspace one character back, tabs expanded, other control
/// characters removed (the terminal would otherwise interpret them).
pub fn clean_log(s: &str) -> String {
    let mut out: Vec<char> = Vec::with_capacity(s.len());
    let mut at: usize = 0;
    let put = |out: &mut Vec<char>, at: &mut usize, c: char| {
        if *at < out.len() {
            out[*at] = c;
        } else {
            out.push(c);
        }
        *at += 1;
    };
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.next() {
                // CSI: ESC [ params final-byte.
                Some('[') => {
                    for n in chars.by_ref() {
                        if ('@'..='~').contains(&n) {
                            break;
                        }
                    }
                }
                // OSC: ESC ] … ended by BEL or ESC \.
                Some(']') => {
                    while let Some(n) = chars.next() {
                        if n == '\x07' {
                            break;
                        }
                        if n == '\x1b' {
                            chars.next_if_eq(&'\\');
                            break;
                        }
                    }
                }
                // Other escapes: ESC + one char.
                _ => {}
            },
            '\r' => at = 0,
            '\x08' => at = at.saturating_sub(1),
            '\t' => {
                let col: usize = out[..at.min(out.len())]
                    .iter()
                    .map(|&c| char_width(c))
                    .sum();
                for _ in 0..4 - col % 4 {
                    put(&mut out, &mut at, ' ');
                }
            }
            c if c.is_control() => {}
            c => put(&mut out, &mut at, c),
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_messages_keep_to_their_line_and_show_their_controls() {
        assert!(matches!(one_line("nightly ✓ ok"), Cow::Borrowed(_)));
        assert_eq!(one_line("nightly\n    7  fake"), "nightly\\n    7  fake");
        assert_eq!(one_line("\x1b[2Jgone"), "\\u{1b}[2Jgone");
        assert_eq!(one_line("a\tb\rc\u{9b}d\u{7f}"), "a\\tb\\rc\\u{9b}d\\u{7f}");
        assert_eq!(one_line("ab\u{202e}cd"), "ab\\u{202e}cd");
        assert_eq!(lines("one\ntwo\x1b[2J"), "one\ntwo\\u{1b}[2J");
    }

    /// The shape of sqlx's and parquet's errors: the cause in the message
    /// and as the source.
    #[derive(Debug)]
    struct Wrapping(std::io::Error);
    impl std::fmt::Display for Wrapping {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "error communicating with database: {}", self.0)
        }
    }
    impl std::error::Error for Wrapping {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn an_error_chain_says_each_cause_once() {
        let io = std::io::Error::other("expected to read 5 bytes, got 0 bytes at EOF");
        let e = anyhow::Error::new(Wrapping(io)).context("export of public.t");
        assert_eq!(
            format!("{e:#}"),
            "export of public.t: error communicating with database: expected to read 5 bytes, \
             got 0 bytes at EOF: expected to read 5 bytes, got 0 bytes at EOF"
        );
        assert_eq!(
            error_chain(&e),
            "export of public.t: error communicating with database: expected to read 5 bytes, \
             got 0 bytes at EOF"
        );
        let plain = anyhow::anyhow!("no space")
            .context("writing x")
            .context("export");
        assert_eq!(error_chain(&plain), "export: writing x: no space");
    }

    #[test]
    fn logs_are_cleaned_as_a_terminal_shows_them() {
        assert_eq!(clean_log("\x1b[31mred\x1b[0m\tx\r"), "red x");
        assert_eq!(
            clean_log("progress 10%\rprogress 50%\rprogress 100%"),
            "progress 100%"
        );
        assert_eq!(clean_log("abcdef\rXY"), "XYcdef");
        assert_eq!(clean_log("x\x08X and a bell\x07"), "X and a bell");
        assert_eq!(
            clean_log("see \x1b]8;;https://x.test/\x1b\\the docs\x1b]8;;\x1b\\ now"),
            "see the docs now"
        );
        assert_eq!(clean_log("\x1b]0;title\x07ok"), "ok");
    }
}
