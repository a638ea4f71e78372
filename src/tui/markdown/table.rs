//! GitHub-style tables: columns sized to their contents, shrunk to fit the
//! pane by wrapping the widest cells, `│` between columns and a `─┼─` rule
//! under the header.

use pulldown_cmark::Alignment;
use ratatui::style::Style;

use super::wrap::{Prefix, Seg, seg_width, wrap};
use crate::tui::view::fmt::width as str_width;

const SEP: &str = " │ ";

/// A table as its cells arrive from the parser.
#[derive(Debug, Default)]
pub struct Table {
    aligns: Vec<Alignment>,
    rows: Vec<Vec<Vec<Seg>>>,
    /// How many of `rows` are the header.
    head: usize,
}

impl Table {
    pub fn new(aligns: Vec<Alignment>) -> Self {
        Table {
            aligns,
            ..Table::default()
        }
    }

    pub fn start_row(&mut self) {
        self.rows.push(Vec::new());
    }

    pub fn start_cell(&mut self) {
        if self.rows.is_empty() {
            self.start_row();
        }
        if let Some(row) = self.rows.last_mut() {
            row.push(Vec::new());
        }
    }

    /// Inline text for the current cell.
    pub fn push(&mut self, seg: Seg) {
        if let Some(cell) = self.rows.last_mut().and_then(|r| r.last_mut()) {
            cell.push(seg);
        }
    }

    pub fn end_head(&mut self) {
        self.head = self.rows.len();
    }

    /// The table as rows of styled pieces no wider than `width` (unless
    /// even one character per column does not fit).
    pub fn render(&self, width: usize, space: Style, rule: Style) -> Vec<Vec<Seg>> {
        let n = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        if n == 0 {
            return Vec::new();
        }
        let natural: Vec<usize> = (0..n)
            .map(|c| {
                let w = self
                    .rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|s| seg_width(s));
                w.max().unwrap_or(0).max(1)
            })
            .collect();
        let widths = fit(&natural, width.saturating_sub(str_width(SEP) * (n - 1)));
        let mut out = Vec::new();
        for (i, row) in self.rows.iter().enumerate() {
            if i == self.head && i > 0 {
                let cols: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
                out.push(vec![(cols.join("─┼─"), rule)]);
            }
            let cells: Vec<Vec<Vec<Seg>>> = (0..n)
                .map(|c| {
                    let cell = row.get(c).map_or(&[][..], Vec::as_slice);
                    let w = widths.get(c).copied().unwrap_or(1);
                    cell_rows(cell, w, space)
                })
                .collect();
            let height = cells.iter().map(Vec::len).max().unwrap_or(1);
            for line in 0..height {
                let mut segs: Vec<Seg> = Vec::new();
                for (c, rows) in cells.iter().enumerate() {
                    if c > 0 {
                        segs.push((SEP.into(), rule));
                    }
                    let piece = rows.get(line).map_or(&[][..], Vec::as_slice);
                    let w = widths.get(c).copied().unwrap_or(1);
                    let align = self.aligns.get(c).copied().unwrap_or(Alignment::None);
                    pad(&mut segs, piece, w, align, c + 1 == n, space);
                }
                trim_end(&mut segs);
                out.push(segs);
            }
        }
        out
    }
}

/// Column widths: each column its natural width when they all fit in
/// `avail`; else the narrow ones keep theirs and the wide ones share the rest.
fn fit(natural: &[usize], avail: usize) -> Vec<usize> {
    if natural.iter().sum::<usize>() <= avail {
        return natural.to_vec();
    }
    let mut order: Vec<usize> = (0..natural.len()).collect();
    order.sort_by_key(|&c| natural.get(c).copied().unwrap_or(0));
    let mut widths = natural.to_vec();
    let mut left = avail;
    for (k, &c) in order.iter().enumerate() {
        let share = left / (order.len() - k);
        let w = natural.get(c).copied().unwrap_or(1).min(share).max(1);
        if let Some(slot) = widths.get_mut(c) {
            *slot = w;
        }
        left = left.saturating_sub(w);
    }
    widths
}

/// A cell's text wrapped to its column, one `Vec<Seg>` a row.
fn cell_rows(cell: &[Seg], width: usize, space: Style) -> Vec<Vec<Seg>> {
    if cell.is_empty() {
        return vec![Vec::new()];
    }
    wrap(cell, width, &Prefix::default(), space)
        .into_iter()
        .map(|l| {
            let segs = l.spans.into_iter();
            segs.map(|s| (s.content.into_owned(), s.style)).collect()
        })
        .collect()
}

/// `piece` padded to `width` by `align`; the last column is not padded on
/// its right so rows carry no trailing spaces.
fn pad(out: &mut Vec<Seg>, piece: &[Seg], width: usize, align: Alignment, last: bool, s: Style) {
    let gap = width.saturating_sub(seg_width(piece));
    let (left, right) = match align {
        Alignment::Right => (gap, 0),
        Alignment::Center => (gap / 2, gap - gap / 2),
        Alignment::Left | Alignment::None => (0, gap),
    };
    if left > 0 {
        out.push((" ".repeat(left), s));
    }
    out.extend(piece.iter().cloned());
    if right > 0 && !last {
        out.push((" ".repeat(right), s));
    }
}

/// Drops the row's trailing spaces (a short last cell, an empty one).
fn trim_end(segs: &mut Vec<Seg>) {
    while let Some((t, _)) = segs.last_mut() {
        let kept = t.trim_end().len();
        t.truncate(kept);
        if !t.is_empty() {
            break;
        }
        segs.pop();
    }
}
