//! A form on top of the screen (see `tui::form`): one line per field, the
//! focused one highlighted with a cursor, choices shown as ‹ option ›, the
//! focused field's help under them, then the last error or else what Enter
//! starts.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::fmt::{truncate, width};
use super::palette::tail;
use super::{pane, popup};
use crate::tui::Theme;
use crate::tui::form::{FieldKind, Form};

pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme, form: &Form) {
    let label_w = form
        .fields
        .iter()
        .map(|f| width(&f.label))
        .max()
        .unwrap_or(0);
    let w = area.width.saturating_sub(4).min(76);
    let value_w = usize::from(w).saturating_sub(label_w + 7).max(1);
    let help = form
        .fields
        .get(form.focus)
        .map(|f| f.help.clone())
        .unwrap_or_default();
    let status = match (&form.error, &form.note) {
        (Some(e), _) => Some((e, " ✗ ", theme.get("error"))),
        (None, Some(n)) => Some((n, " ", theme.get("text"))),
        (None, None) => None,
    };
    let status_lines = status.map_or(0, |(s, _, _)| {
        // Wrapped to the box: an error must be read whole.
        (width(s) / usize::from(w.saturating_sub(4)).max(1) + 1) as u16
    });
    // Border, a blank, the fields, a blank, help, status, blank, keys, border.
    let h = 2 + 1 + form.fields.len() as u16 + 1 + 1 + status_lines + 1 + 1;
    let r = popup(frame, area, w, h);
    let block = pane(Line::from(format!(" {} ", form.title)), true, theme);
    let inner = block.inner(r);
    frame.render_widget(block, r);
    if inner.is_empty() {
        return;
    }
    let mut lines = vec![Line::default()];
    let mut cursor = None;
    for (i, f) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let label_style = if focused {
            theme.get("key")
        } else {
            theme.get("dim")
        };
        let mut spans = vec![
            Span::styled(if focused { " ▸ " } else { "   " }, label_style),
            Span::styled(format!("{:<label_w$}  ", f.label), label_style),
        ];
        let value_style = if focused {
            theme.get("selection")
        } else {
            theme.get("text")
        };
        match &f.kind {
            FieldKind::Text(t) => {
                let shown = tail(t, value_w.saturating_sub(1));
                if focused {
                    let x = 3 + label_w + 2 + width(&shown);
                    cursor = Some((x as u16, lines.len() as u16));
                }
                spans.push(Span::styled(shown, value_style));
            }
            FieldKind::Choice(options, chosen) => {
                let text = options.get(*chosen).map_or("—", String::as_str);
                let text = if options.len() > 1 {
                    format!("‹ {} ›", truncate(text, value_w.saturating_sub(4)))
                } else {
                    truncate(text, value_w)
                };
                spans.push(Span::styled(text, value_style));
                if focused && options.len() > 1 {
                    spans.push(Span::styled(
                        format!("  {}/{}", chosen + 1, options.len()),
                        theme.get("dim"),
                    ));
                }
            }
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::default());
    lines.push(Line::styled(format!(" {help}"), theme.get("dim")));
    if let Some((text, mark, style)) = status {
        lines.push(Line::styled(format!("{mark}{text}"), style));
    }
    lines.push(Line::default());
    let key = theme.get("key");
    let dim = theme.get("dim");
    lines.push(Line::from(vec![
        Span::styled(" Enter", key),
        Span::styled(" start · ", dim),
        Span::styled("Tab", key),
        Span::styled(" next field · ", dim),
        Span::styled("←→", key),
        Span::styled(" choose · ", dim),
        Span::styled("Esc", key),
        Span::styled(" cancel", dim),
    ]));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    if let Some((x, y)) = cursor
        && x < inner.width
        && y < inner.height
    {
        frame.set_cursor_position(Position::new(inner.x + x, inner.y + y));
    }
}
