//! The Stores screen: the workspace's stores, then the objects under a
//! prefix of one like files in folders (name, size, modification time).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::fmt::{bytes, datetime};
use super::grid::{Cell, grid};
use super::tree::{status, wrapped};
use super::{highlight, pane};
use crate::connectors::store::{ObjectInfo, PartialFile, Writer};
use crate::tui::action::Action;
use crate::tui::browse::Load;
use crate::tui::{Keymap, Mode, State, Theme};

pub(super) fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// What the NOTE column says about a `.partial` file (short: columns are).
fn partial_note(p: &PartialFile) -> String {
    let pid = p.pid.map(|pid| format!("pid {pid}")).unwrap_or_default();
    match p.writer {
        Writer::Dead => format!("left by dead {pid}"),
        Writer::Alive => format!("being written, {pid}"),
        Writer::Elsewhere => format!("{pid} on {}", p.host.as_deref().unwrap_or("?")),
        Writer::Unknown => "unfinished".to_string(),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, keys: &Keymap) {
    let v = &state.browse.stores;
    let dim = theme.get("dim");
    let Some(store) = v.store_name() else {
        let block = pane(
            Line::from(format!(" Stores ({}) ", v.stores.len())),
            true,
            theme,
        );
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if v.stores.is_empty() {
            let text = "No stores: add one under [stores.NAME] in switchyard.toml.";
            return wrapped(frame, inner, vec![Line::styled(text, dim)]);
        }
        let lines: Vec<Line> = v
            .stores
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let style = if i == v.store_cursor {
                    highlight(true, theme)
                } else {
                    theme.get("text")
                };
                Line::from(vec![
                    Span::styled(format!("▸ {:<20}", n.name), style),
                    Span::styled(format!("  {}", n.kind), dim),
                ])
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    };
    let title = format!(" {store}: /{} ", v.prefix);
    let block = pane(Line::from(title), true, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [list, hint] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    if let Some(lines) = status(&v.listing, state.now, "the listing", theme) {
        return wrapped(frame, list, lines);
    }
    let Load::Ready(objects) = &v.listing else {
        return;
    };
    if objects.is_empty() {
        let text = if v.prefix.is_empty() {
            "The store is empty: nothing was exported to it yet.".to_string()
        } else {
            format!("Nothing under {}.", v.prefix)
        };
        wrapped(frame, list, vec![Line::styled(text, dim)]);
    } else {
        let h = usize::from(list.height).saturating_sub(1).max(1);
        let cursor = v.cursor.min(objects.len() - 1);
        let start = (cursor + 1).saturating_sub(h);
        // A NOTE column only when there is something to note.
        let any_partial = objects.iter().any(|o| o.partial.is_some());
        let columns: &[&str] = if any_partial {
            &["NAME", "SIZE", "MODIFIED", "NOTE"]
        } else {
            &["NAME", "SIZE", "MODIFIED"]
        };
        let header: Vec<Cell> = columns
            .iter()
            .map(|h| (h.to_string(), theme.get("title")))
            .collect();
        let rows: Vec<Vec<Cell>> = objects
            .iter()
            .enumerate()
            .skip(start)
            .take(h)
            .map(|(i, o)| {
                let style = if i == cursor {
                    highlight(true, theme)
                } else if o.is_prefix {
                    theme.get("title")
                } else if o.partial.is_some() {
                    theme.get("warning")
                } else {
                    theme.get("text")
                };
                let mut name = o.path.strip_prefix(&v.prefix).unwrap_or(&o.path);
                // A partial file by the object it is for; the note says whose.
                let short;
                if let Some(object) = o.partial.as_ref().and_then(|p| p.object.as_deref()) {
                    short = format!("{object}.partial");
                    name = &short;
                }
                let name = if o.is_prefix {
                    format!("▸ {name}")
                } else {
                    format!("  {name}")
                };
                let size = if o.is_prefix {
                    String::new()
                } else {
                    bytes(o.size)
                };
                let modified = o.modified.map(datetime).unwrap_or_default();
                let mut row = vec![(name, style), (size, style), (modified, style)];
                if any_partial {
                    row.push((
                        o.partial.as_ref().map(partial_note).unwrap_or_default(),
                        style,
                    ));
                }
                row
            })
            .collect();
        let (lines, _) = grid(&header, &rows, &[1], usize::from(list.width));
        frame.render_widget(Paragraph::new(lines), list);
    }
    let complete = |o: &&ObjectInfo| !o.is_prefix && o.partial.is_none();
    let files = objects.iter().filter(complete).count();
    let total: u64 = objects.iter().filter(complete).map(|o| o.size).sum();
    let folders = objects.iter().filter(|o| o.is_prefix).count();
    let mut spans = vec![Span::styled(
        format!(
            "{} ({}) · {}",
            plural(files, "file"),
            bytes(total),
            plural(folders, "folder")
        ),
        dim,
    )];
    let partials: Vec<&ObjectInfo> = objects.iter().filter(|o| o.partial.is_some()).collect();
    if !partials.is_empty() {
        let size: u64 = partials.iter().map(|o| o.size).sum();
        let dead = partials
            .iter()
            .filter(|o| o.partial.as_ref().is_some_and(|p| p.writer == Writer::Dead))
            .count();
        let what = match dead {
            0 => String::new(),
            1 => ", 1 left by a dead writer: the next write removes it".to_string(),
            n => format!(", {n} left by dead writers: the next write removes them"),
        };
        spans.push(Span::styled(
            format!(
                " · {} ({}){what}",
                plural(partials.len(), "partial file"),
                bytes(size)
            ),
            theme.get("warning"),
        ));
    }
    if files > 0 {
        let key =
            |a: Action, d: &'static str| keys.key_for(Mode::Stores, &a).unwrap_or(d).to_string();
        spans.extend([
            Span::styled("  on a file: ", dim),
            Span::styled(key(Action::Load, "l"), theme.get("key")),
            Span::styled(" load · ", dim),
            Span::styled(key(Action::Delete, "d"), theme.get("key")),
            Span::styled(" delete", dim),
        ]);
    }
    let line = Line::from(spans);
    frame.render_widget(Paragraph::new(line), hint);
}
