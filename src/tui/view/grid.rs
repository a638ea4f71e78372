//! Plain text tables for the browse screens (columns, previews, listings):
//! columns as wide as their content, capped, and the ones that do not fit
//! at all left out with a note rather than squeezed to nothing.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::fmt::{truncate, width};

/// One cell: text and style.
pub type Cell = (String, Style);

/// Cells wider than this are cut (the rest of the row matters more).
const MAX_COL: usize = 32;
const GAP: usize = 2;

/// Lays out `header` and `rows` in `max` cells; `right` columns align right.
/// Returns the lines (header first) and how many columns were left out.
pub fn grid(
    header: &[Cell],
    rows: &[Vec<Cell>],
    right: &[usize],
    max: usize,
) -> (Vec<Line<'static>>, usize) {
    let n = header.len();
    let mut w: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .chain(std::iter::once(&header[i]))
                .map(|c| width(&c.0))
                .max()
                .unwrap_or(0)
                .min(MAX_COL)
        })
        .collect();
    let nat = w.clone();
    // Shrink the widest column until the row fits, down to 8 cells each;
    // if even that is too wide, leave out columns from the right and shrink
    // again from the natural widths.
    let mut shown = n;
    loop {
        w[..shown].copy_from_slice(&nat[..shown]);
        if shrink(&mut w[..shown], max) || shown <= 1 {
            break;
        }
        shown -= 1;
    }
    let line = |cells: &[Cell]| {
        let mut spans = Vec::new();
        for (i, c) in cells.iter().enumerate().take(shown) {
            let text = truncate(&c.0, w[i]);
            let pad = w[i].saturating_sub(width(&text));
            let cell = if right.contains(&i) {
                format!("{}{text}", " ".repeat(pad))
            } else if i + 1 == shown {
                text
            } else {
                format!("{text}{}", " ".repeat(pad))
            };
            if i > 0 {
                spans.push(Span::raw(" ".repeat(GAP)));
            }
            spans.push(Span::styled(cell, c.1));
        }
        Line::from(spans)
    };
    let mut out = vec![line(header)];
    out.extend(rows.iter().map(|r| line(r)));
    (out, n - shown)
}

fn total(w: &[usize]) -> usize {
    w.iter().sum::<usize>() + GAP * w.len().saturating_sub(1)
}

/// Narrows the widest columns until they fit in `max`; false if they cannot.
fn shrink(w: &mut [usize], max: usize) -> bool {
    while total(w) > max {
        let Some((i, &m)) = w.iter().enumerate().max_by_key(|(_, x)| **x) else {
            return false;
        };
        if m <= 8 {
            return w.len() == 1;
        }
        w[i] = m - 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(l: &Line) -> String {
        l.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn columns_fit_or_are_left_out() {
        let s = Style::new();
        let header: Vec<Cell> = ["id", "name", "email"]
            .iter()
            .map(|h| (h.to_string(), s))
            .collect();
        let rows = vec![vec![
            ("1".to_string(), s),
            ("Ada Lovelace".to_string(), s),
            ("ada@example.com".to_string(), s),
        ]];
        let (lines, hidden) = grid(&header, &rows, &[0], 80);
        assert_eq!(hidden, 0);
        assert_eq!(text(&lines[1]), " 1  Ada Lovelace  ada@example.com");
        let (lines, hidden) = grid(&header, &rows, &[0], 20);
        assert!(lines.iter().all(|l| l.width() <= 20), "{lines:?}");
        assert_eq!(hidden, 1);
    }
}
