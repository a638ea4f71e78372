//! Greedy word wrap of styled text to a row width, with a hanging prefix.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::tui::view::fmt::{char_width, width as str_width};

/// A piece of text in one style. A piece that is exactly "\n" is a hard
/// line break.
pub type Seg = (String, Style);

/// What starts each row: `first` on the first row, `cont` on the others
/// (list markers hang, quote bars repeat).
#[derive(Debug, Clone, Default)]
pub struct Prefix {
    pub first: Vec<Seg>,
    pub cont: Vec<Seg>,
}

/// The total display width of `segs`.
pub fn seg_width(segs: &[Seg]) -> usize {
    segs.iter().map(|(t, _)| str_width(t)).sum()
}

fn spans(segs: &[Seg]) -> Vec<Span<'static>> {
    segs.iter()
        .map(|(t, s)| Span::styled(t.clone(), *s))
        .collect()
}

/// `segs` wrapped into rows no wider than `width` (prefix included); a word
/// wider than a row is split, and every row holds at least one character
/// after its prefix, so no width loops. Spaces between words take `space`.
pub fn wrap(segs: &[Seg], width: usize, prefix: &Prefix, space: Style) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut row = spans(&prefix.first);
    let mut used = seg_width(&prefix.first);
    // Whether the row holds text after its prefix: a row never breaks before that.
    let mut content = false;
    let cont_w = seg_width(&prefix.cont);
    let mut newline = |row: &mut Vec<Span<'static>>, used: &mut usize| {
        lines.push(Line::from(std::mem::replace(row, spans(&prefix.cont))));
        *used = cont_w;
    };
    for token in words(segs) {
        let Token::Word(word) = token else {
            newline(&mut row, &mut used);
            content = false;
            continue;
        };
        let ww = seg_width(&word);
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

enum Token {
    /// A run of styled pieces with no whitespace ("**a**," is one word).
    Word(Vec<Seg>),
    Break,
}

/// Whitespace-separated words and hard breaks.
fn words(segs: &[Seg]) -> Vec<Token> {
    let mut words = Vec::new();
    let mut cur: Vec<Seg> = Vec::new();
    for (text, style) in segs {
        if text == "\n" {
            if !cur.is_empty() {
                words.push(Token::Word(std::mem::take(&mut cur)));
            }
            words.push(Token::Break);
            continue;
        }
        let mut piece = String::new();
        for c in text.chars() {
            if c.is_whitespace() {
                if !piece.is_empty() {
                    cur.push((std::mem::take(&mut piece), *style));
                }
                if !cur.is_empty() {
                    words.push(Token::Word(std::mem::take(&mut cur)));
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
        words.push(Token::Word(cur));
    }
    words
}

/// What an open list item or quote puts before the rows inside it: an
/// item's marker on its first row only, its indentation after that.
struct Margin {
    first: Option<Vec<Seg>>,
    cont: Vec<Seg>,
}

/// The open containers, outermost first.
#[derive(Default)]
pub struct Margins(Vec<Margin>);

impl Margins {
    /// A list item: `marker` first, as many spaces after.
    pub fn push_item(&mut self, marker: String, style: Style) {
        let cont = vec![(" ".repeat(str_width(&marker)), style)];
        let first = Some(vec![(marker, style)]);
        self.0.push(Margin { first, cont });
    }

    /// A quote: `bar` on every row.
    pub fn push_quote(&mut self, bar: &str, style: Style) {
        let cont = vec![(bar.to_string(), style)];
        self.0.push(Margin { first: None, cont });
    }

    pub fn pop(&mut self) {
        self.0.pop();
    }

    /// Whether the innermost item has not shown its marker yet (it is empty).
    pub fn unshown(&self) -> bool {
        self.0.last().is_some_and(|m| m.first.is_some())
    }

    /// The prefix for the next block's rows. Takes the item markers not
    /// shown yet, so call it once per block.
    pub fn take(&mut self) -> Prefix {
        let mut p = Prefix::default();
        for m in &mut self.0 {
            p.cont.extend(m.cont.iter().cloned());
            p.first
                .extend(m.first.take().unwrap_or_else(|| m.cont.clone()));
        }
        p
    }

    /// A blank row inside the containers: the quote bars, no trailing space.
    pub fn blank(&self, style: Style) -> Vec<Seg> {
        let bars: String = self
            .0
            .iter()
            .flat_map(|m| &m.cont)
            .map(|(t, _)| t.as_str())
            .collect();
        match bars.trim_end() {
            "" => Vec::new(),
            b => vec![(b.to_string(), style)],
        }
    }
}
