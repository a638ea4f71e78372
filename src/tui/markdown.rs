//! A small Markdown renderer for runbooks (headings, lists, emphasis, code, links).
//!
//! Runbooks are short notes written under pressure, so this covers what they
//! use and renders anything else as plain text rather than failing: front
//! matter is dropped, paragraphs are re-flowed to the pane's width, fenced
//! code is kept verbatim (commands are copied from it), and links show their
//! address because a terminal cannot follow them.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::view::fmt::{char_width, width as str_width};
use crate::engine::runbook::front_matter;

/// Runbook `text` as lines no wider than `width` (except code, kept verbatim).
pub fn render(text: &str, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let mut r = Renderer {
        theme,
        width: usize::from(width).max(1),
        out: Vec::new(),
        block: None,
    };
    let mut fence: Option<String> = None;
    for raw in front_matter::body(text).lines() {
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        if let Some(open) = &fence {
            if trimmed.starts_with(open.as_str()) {
                fence = None;
            } else {
                let code = line.replace('\t', "    ");
                let span = Span::styled(format!("  {code}"), theme.get("md_code"));
                r.out.push(Line::from(span));
            }
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            r.flush();
            fence = Some(trimmed.chars().take(3).collect());
        } else if trimmed.is_empty() {
            r.flush();
            // One blank line between blocks, none at the top.
            if r.out.last().is_some_and(|l| l.width() > 0) {
                r.out.push(Line::default());
            }
        } else if let Some((level, title)) = heading(trimmed) {
            r.flush();
            let prefix = if level > 2 { "› " } else { "" };
            r.start(Kind::Heading, prefix.to_string(), String::new());
            r.push_text(title);
            r.flush();
        } else if is_rule(trimmed) {
            r.flush();
            let span = Span::styled("─".repeat(r.width), theme.get("dim"));
            r.out.push(Line::from(span));
        } else if let Some((marker, rest)) = list_item(line) {
            r.flush();
            let cont = " ".repeat(str_width(&marker));
            r.start(Kind::Item, marker, cont);
            r.push_text(rest);
        } else if let Some(rest) = trimmed.strip_prefix('>') {
            if !matches!(r.block, Some((Kind::Quote, _))) {
                r.flush();
                r.start(Kind::Quote, "│ ".into(), "│ ".into());
            }
            r.push_text(rest.trim_start());
        } else {
            if r.block.is_none() {
                r.start(Kind::Para, String::new(), String::new());
            }
            r.push_text(trimmed);
        }
    }
    r.flush();
    while r.out.last().is_some_and(|l| l.width() == 0) {
        r.out.pop();
    }
    r.out
}

fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|c| *c == '#').count();
    let rest = line.get(level..)?;
    ((1..=6).contains(&level) && (rest.is_empty() || rest.starts_with(' ')))
        .then(|| (level, rest.trim().trim_end_matches('#').trim_end()))
}

fn is_rule(line: &str) -> bool {
    let s: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    s.len() >= 3 && ['-', '*', '_'].iter().any(|m| s.chars().all(|c| c == *m))
}

/// `- x`, `* x`, `+ x`, `1. x`, `1) x` with their indentation: the marker
/// as displayed (bullets become "•") and the item's text.
fn list_item(line: &str) -> Option<(String, &str)> {
    let indent = line.len() - line.trim_start().len();
    let rest = line.get(indent..)?;
    let pad = " ".repeat(indent);
    for b in ["- ", "* ", "+ "] {
        if let Some(t) = rest.strip_prefix(b) {
            return Some((format!("{pad}• "), t.trim_start()));
        }
    }
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if (1..=9).contains(&digits) {
        let after = rest.get(digits..)?;
        for d in [". ", ") "] {
            if let Some(t) = after.strip_prefix(d) {
                let n = rest.get(..digits)?;
                return Some((format!("{pad}{n}. "), t.trim_start()));
            }
        }
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Para,
    Heading,
    Item,
    Quote,
}

/// A block being collected, flushed (wrapped) when the next one starts.
struct Block {
    first: String,
    cont: String,
    text: String,
}

struct Renderer<'t> {
    theme: &'t Theme,
    width: usize,
    out: Vec<Line<'static>>,
    block: Option<(Kind, Block)>,
}

impl Renderer<'_> {
    fn start(&mut self, kind: Kind, first: String, cont: String) {
        self.flush();
        let text = String::new();
        self.block = Some((kind, Block { first, cont, text }));
    }

    fn push_text(&mut self, t: &str) {
        if let Some((_, b)) = &mut self.block {
            if !b.text.is_empty() {
                b.text.push(' ');
            }
            b.text.push_str(t);
        }
    }

    fn flush(&mut self) {
        let Some((kind, b)) = self.block.take() else {
            return;
        };
        let base = match kind {
            Kind::Heading => self.theme.get("md_heading"),
            Kind::Quote => self.theme.get("dim"),
            _ => self.theme.get("text"),
        };
        let marker = match kind {
            Kind::Quote => self.theme.get("dim"),
            _ => self.theme.get("key"),
        };
        let segs = inline(&b.text, base, self.theme);
        let lines = wrap(&segs, self.width, (&b.first, &b.cont), marker, base);
        self.out.extend(lines);
    }
}

type Seg = (String, Style);

/// Inline markup to styled pieces: `code`, **strong**, *emphasis*,
/// _emphasis_ (only at word edges: task ids are snake_case), [text](url),
/// and backslash escapes. Unmatched delimiters stay literal.
fn inline(text: &str, base: Style, theme: &Theme) -> Vec<Seg> {
    let mut out: Vec<Seg> = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    let flush = |lit: &mut String, out: &mut Vec<Seg>| {
        if !lit.is_empty() {
            out.push((std::mem::take(lit), base));
        }
    };
    while let Some(c) = text.get(i..).and_then(|s| s.chars().next()) {
        let rest = text.get(i..).unwrap_or("");
        let prev = text.get(..i).and_then(|s| s.chars().next_back());
        if c == '\\'
            && let Some(n) = rest.chars().nth(1).filter(|n| n.is_ascii_punctuation())
        {
            lit.push(n);
            i += 1 + n.len_utf8();
            continue;
        }
        if c == '`'
            && let Some(end) = rest.get(1..).and_then(|r| r.find('`'))
        {
            flush(&mut lit, &mut out);
            let code = rest.get(1..1 + end).unwrap_or("");
            out.push((code.to_string(), base.patch(theme.get("md_code"))));
            i += end + 2;
            continue;
        }
        if let Some(d) = ["**", "*", "_"].into_iter().find(|d| rest.starts_with(d))
            && (d != "_" || !prev.is_some_and(char::is_alphanumeric))
            && let Some((inner, used)) = delimited(rest, d)
        {
            flush(&mut lit, &mut out);
            let role = if d == "**" {
                "md_strong"
            } else {
                "md_emphasis"
            };
            out.extend(inline(inner, base.patch(theme.get(role)), theme));
            i += used;
            continue;
        }
        if c == '['
            && let Some((label, url, used)) = link(rest)
        {
            flush(&mut lit, &mut out);
            out.extend(inline(label, base.patch(theme.get("md_link")), theme));
            out.push((format!(" <{url}>"), theme.get("dim")));
            i += used;
            continue;
        }
        lit.push(c);
        i += c.len_utf8();
    }
    flush(&mut lit, &mut out);
    out
}

/// For `rest` starting with delimiter `d`: the text up to the closing `d`
/// and the bytes used, if it closes on this line with something inside.
fn delimited<'a>(rest: &'a str, d: &str) -> Option<(&'a str, usize)> {
    let body = rest.get(d.len()..)?;
    if body.starts_with(char::is_whitespace) || body.starts_with(d) {
        return None;
    }
    let mut from = 0;
    while let Some(off) = body.get(from..)?.find(d) {
        let end = from + off;
        let after = body.get(end + d.len()..).unwrap_or("");
        let before_ws = body.get(..end)?.ends_with(char::is_whitespace);
        // `*` must not be the first half of `**`; `_` must end a word.
        let ok = !before_ws
            && end > 0
            && (d != "*" || !after.starts_with('*'))
            && (d != "_" || !after.starts_with(char::is_alphanumeric));
        if ok {
            return Some((body.get(..end)?, d.len() * 2 + end));
        }
        from = end + d.len();
    }
    None
}

/// `[label](url)` at the start of `rest`: label, url and bytes used.
fn link(rest: &str) -> Option<(&str, &str, usize)> {
    let close = rest.find("](")?;
    let label = rest.get(1..close)?;
    let tail = rest.get(close + 2..)?;
    let end = tail.find(')')?;
    let url = tail.get(..end)?.trim();
    (!label.is_empty() && !url.contains(' ')).then_some((label, url, close + 3 + end))
}

/// Greedy word wrap of styled pieces: the first row starts with `prefix.0`,
/// the others with `prefix.1`; words wider than a row are split.
fn wrap(
    segs: &[Seg],
    width: usize,
    prefix: (&str, &str),
    marker: Style,
    space: Style,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut row: Vec<Span<'static>> = vec![Span::styled(prefix.0.to_string(), marker)];
    let mut used = str_width(prefix.0);
    // Whether the row holds text after its prefix: a row never breaks before that.
    let mut content = false;
    let cont_w = str_width(prefix.1);
    let mut newline = |row: &mut Vec<Span<'static>>, used: &mut usize| {
        lines.push(Line::from(std::mem::take(row)));
        row.push(Span::styled(prefix.1.to_string(), marker));
        *used = cont_w;
    };
    for word in words(segs) {
        let ww: usize = word.iter().map(|(t, _)| str_width(t)).sum();
        if content && used + 1 + ww > width {
            newline(&mut row, &mut used);
            content = false;
        }
        if content {
            row.push(Span::styled(" ", space));
            used += 1;
        }
        for (text, style) in word {
            let mut piece = String::new();
            for c in text.chars() {
                let cw = char_width(c);
                if content && used + cw > width {
                    if !piece.is_empty() {
                        row.push(Span::styled(std::mem::take(&mut piece), style));
                    }
                    newline(&mut row, &mut used);
                }
                piece.push(c);
                used += cw;
                content = true;
            }
            if !piece.is_empty() {
                row.push(Span::styled(piece, style));
            }
        }
    }
    lines.push(Line::from(row));
    lines
}

/// Whitespace-separated words, each a run of styled pieces ("**a**," is one word).
fn words(segs: &[Seg]) -> Vec<Vec<Seg>> {
    let mut words = Vec::new();
    let mut cur: Vec<Seg> = Vec::new();
    for (text, style) in segs {
        let mut piece = String::new();
        for c in text.chars() {
            if c.is_whitespace() {
                if !piece.is_empty() {
                    cur.push((std::mem::take(&mut piece), *style));
                }
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            } else {
                piece.push(c);
            }
        }
        if !piece.is_empty() {
            cur.push((piece, *style));
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

#[cfg(test)]
#[path = "markdown_tests.rs"]
mod tests;
