//! The graph screen: the selected run's DAG, upstream on the left, each node
//! in its state's colour, the cursor's node highlighted and kept in view
//! (the picture pans to it when it is larger than the screen).

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::cells::first_line;
use super::fmt::{char_width, truncate};
use super::{pane, shown_run};
use crate::tui::graph::layout::glyph;
use crate::tui::graph::{self, Graph, NodeKind};
use crate::tui::{State, Theme};

/// Cells kept visible around the selected node when the picture pans.
const PAN_ROOM_X: u32 = 6;
const PAN_ROOM_Y: u32 = 2;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let run = shown_run(state).and_then(|id| state.runs.iter().find(|r| r.id == id));
    let title = match run {
        Some(r) => format!(" Graph · run {} · {} · {} ", r.id, r.pipeline, r.run_date),
        None => " Graph ".to_string(),
    };
    let block = pane(Line::from(title), true, theme);
    if state.tasks.is_empty() {
        let text = if run.is_some() {
            "Loading tasks…"
        } else {
            "No run selected."
        };
        let p = Paragraph::new(Line::styled(text, theme.get("dim"))).block(block);
        frame.render_widget(p, area);
        return;
    }
    let g = graph::build(&state.tasks, &state.graph.expanded);
    let sel = g.node_of_task(state.task_cursor);
    let inner = block.inner(area);
    let (ox, oy) = viewport(&g, sel, inner, state.graph.offset);
    let mut block = block.title_bottom(selection_line(state, &g, sel, theme));
    let (lw, lh) = (g.layout.width, g.layout.height);
    let (vw, vh) = (u32::from(inner.width), u32::from(inner.height));
    let mut spans = Vec::new();
    if lh > vh {
        spans.push(format!("rows {}–{} of {lh}", oy + 1, (oy + vh).min(lh)));
    }
    if lw > vw {
        spans.push(format!("columns {}–{} of {lw}", ox + 1, (ox + vw).min(lw)));
    }
    if !spans.is_empty() {
        block = block.title_bottom(
            Line::styled(format!(" {} ", spans.join(" · ")), theme.get("dim")).right_aligned(),
        );
    }
    frame.render_widget(block, area);
    if inner.is_empty() {
        return;
    }
    let buf = frame.buffer_mut();
    draw_wires(buf, inner, &g, (ox, oy), theme.get("border"));
    for (i, node) in g.nodes.iter().enumerate() {
        let p = g.layout.nodes[i];
        let selected = sel == Some(i);
        let base = if selected {
            theme.get("selection")
        } else {
            theme.task(node.state)
        };
        let canvas = Canvas {
            area: inner,
            ox,
            oy,
        };
        let mut x = p.x;
        x = canvas.put(buf, x, p.y, "[", base);
        for (text, st) in &node.label {
            let style = match (selected, st) {
                (true, _) => base,
                (false, Some(s)) => theme.task(*s),
                (false, None) => base,
            };
            x = canvas.put(buf, x, p.y, text, style);
        }
        canvas.put(buf, x, p.y, "]", base);
        // A node with several inputs is as tall as they are: bracket its rows.
        for r in p.y + 1..p.y + p.h {
            canvas.put(buf, p.x, r, "[", theme.task(node.state));
            canvas.put(buf, p.x + p.w - 1, r, "]", theme.task(node.state));
        }
    }
}

/// The task whose node is drawn at (`column`, `row`) on a terminal of
/// `state.size`, from the same layout and panning `draw` uses.
pub fn hit(state: &State, column: u16, row: u16) -> Option<usize> {
    let inner = canvas_area(state.size);
    if !inner.contains(ratatui::layout::Position::new(column, row)) || state.tasks.is_empty() {
        return None;
    }
    let g = graph::build(&state.tasks, &state.graph.expanded);
    let (ox, oy) = viewport(
        &g,
        g.node_of_task(state.task_cursor),
        inner,
        state.graph.offset,
    );
    let (cx, cy) = (
        u32::from(column - inner.x) + ox,
        u32::from(row - inner.y) + oy,
    );
    let n = g.layout.nodes.iter().position(|p| p.contains(cx, cy))?;
    g.nodes[n].members.first().copied()
}

/// The top-left canvas cell shown: where the picture was (`state.graph.
/// offset`), moved only as far as it takes to show the selected node with a
/// little room around it. So the picture stays put while the cursor moves
/// (or a click lands) within what is on screen.
fn viewport(g: &Graph, sel: Option<usize>, inner: Rect, prev: (u32, u32)) -> (u32, u32) {
    let axis = |prev: u32, start: u32, size: u32, room: u32, total: u32, view: u16| -> u32 {
        let view = u32::from(view);
        if total <= view {
            return 0;
        }
        let mut o = prev.min(total - view);
        let room = room.min(view.saturating_sub(size) / 2);
        if start < o + room {
            o = start.saturating_sub(room);
        }
        if start + size + room > o + view {
            o = (start + size + room).saturating_sub(view);
        }
        o.min(total - view)
    };
    let Some(p) = sel.and_then(|i| g.layout.nodes.get(i)) else {
        return (prev.0.min(g.layout.width), prev.1.min(g.layout.height));
    };
    (
        axis(prev.0, p.x, p.w, PAN_ROOM_X, g.layout.width, inner.width),
        axis(prev.1, p.y, 1, PAN_ROOM_Y, g.layout.height, inner.height),
    )
}

/// The graph's canvas on a terminal of `size`: the body inside the pane's
/// border, as `draw` lays it out.
fn canvas_area((w, h): (u16, u16)) -> Rect {
    let body = Rect::new(0, 1, w, h.saturating_sub(2));
    ratatui::widgets::Block::bordered().inner(body)
}

/// Where the picture is scrolled to for `state` (the update keeps it, so
/// the next frame starts from there).
pub fn scroll(state: &State) -> (u32, u32) {
    scroll_of(state, &graph::build(&state.tasks, &state.graph.expanded))
}

/// `scroll` with the graph of `state` already built.
pub fn scroll_of(state: &State, g: &Graph) -> (u32, u32) {
    let sel = g.node_of_task(state.task_cursor);
    viewport(g, sel, canvas_area(state.size), state.graph.offset)
}

struct Canvas {
    area: Rect,
    ox: u32,
    oy: u32,
}

impl Canvas {
    /// Writes `text` at canvas (`x`, `y`), clipped to the view; returns the
    /// canvas column after it.
    fn put(&self, buf: &mut Buffer, mut x: u32, y: u32, text: &str, style: Style) -> u32 {
        let (w, h) = (u32::from(self.area.width), u32::from(self.area.height));
        let row_visible = y >= self.oy && y - self.oy < h;
        for ch in text.chars() {
            let cw = char_width(ch).max(1) as u32;
            if row_visible && x >= self.ox && x + cw - self.ox <= w {
                let sx = self.area.x + (x - self.ox) as u16;
                let sy = self.area.y + (y - self.oy) as u16;
                let mut tmp = [0u8; 4];
                buf[(sx, sy)]
                    .set_symbol(ch.encode_utf8(&mut tmp))
                    .set_style(style);
                for k in 1..cw {
                    buf[(sx + k as u16, sy)].reset();
                }
            }
            x += cw;
        }
        x
    }
}

fn draw_wires(buf: &mut Buffer, inner: Rect, g: &Graph, (ox, oy): (u32, u32), style: Style) {
    let (w, h) = (u32::from(inner.width), u32::from(inner.height));
    let mut grid = vec![0u8; (w * h) as usize];
    for c in &g.layout.wires {
        if c.x >= ox && c.x - ox < w && c.y >= oy && c.y - oy < h {
            grid[((c.y - oy) * w + (c.x - ox)) as usize] |= c.dirs;
        }
    }
    for (i, &d) in grid.iter().enumerate() {
        if d != 0 {
            let (cx, cy) = (i as u32 % w, i as u32 / w);
            buf[(inner.x + cx as u16, inner.y + cy as u16)]
                .set_symbol(glyph(d))
                .set_style(style);
        }
    }
}

/// The bottom line: what the cursor is on.
fn selection_line(state: &State, g: &Graph, sel: Option<usize>, theme: &Theme) -> Line<'static> {
    let Some(node) = sel.and_then(|i| g.nodes.get(i)) else {
        return Line::default();
    };
    let dim = theme.get("dim");
    match &node.kind {
        NodeKind::Group { parent } => Line::from(vec![
            Span::styled(
                format!(" {parent}: {} instances ", node.members.len()),
                theme.task(node.state),
            ),
            Span::styled("(space unfolds) ", dim),
        ]),
        NodeKind::Task => {
            let Some(t) = state.tasks.get(node.members[0]) else {
                return Line::default();
            };
            let mut spans = vec![Span::styled(
                format!(" {} {} · {} ", t.state.glyph(), t.task_id, t.state),
                theme.task(t.state),
            )];
            if let Some(e) = t.error.as_deref().map(first_line).filter(|e| !e.is_empty()) {
                spans.push(Span::styled(
                    format!("{} ", truncate(e, 60)),
                    theme.get("error"),
                ));
            }
            Line::from(spans)
        }
    }
}

#[cfg(test)]
#[path = "graph_tests.rs"]
mod tests;
