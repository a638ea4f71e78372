//! Pure drawing: one function per screen, reading only `State` (no IO, no
//! clock: the time is `state.now`). Every function clamps to the area it is
//! given, so any terminal size draws something sensible and nothing panics.

mod alerts;
mod backfill;
mod cells;
mod chrome;
mod confirm;
pub mod fmt;
mod form;
mod graph;
mod grid;
mod help;
mod hit;
mod journal;
pub mod palette;
mod pools;
mod runs;
mod schedule;
mod sla;
mod sources;
mod stores;
mod task;
mod task_history;
mod timeline;
mod tree;
mod warehouse;

#[cfg(test)]
mod browse_tests;
#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod forecast_tests;
#[cfg(test)]
mod schedule_tests;
#[cfg(test)]
mod sla_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod timeline_tests;

use ratatui::Frame;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear};

use super::state::{Modal, Screen};
use super::{Keymap, Mode, State, Theme};

pub use graph::{scroll as graph_scroll, scroll_of as graph_scroll_of};
pub use hit::{Hit, hit_test};
pub use palette::palette_completions;
pub use task::{log_area, tail_start};

/// The keymap mode of a screen: whose bindings the footer and help show.
pub fn mode_of(screen: Screen) -> Mode {
    match screen {
        Screen::Runs => Mode::Runs,
        Screen::Task => Mode::Task,
        Screen::Pools => Mode::Pools,
        Screen::Journal => Mode::Journal,
        Screen::Sources => Mode::Sources,
        Screen::Stores => Mode::Stores,
        Screen::Warehouse => Mode::Warehouse,
        Screen::Graph => Mode::Graph,
        Screen::Backfill => Mode::Backfill,
        Screen::Schedule => Mode::Schedule,
        Screen::Sla => Mode::Sla,
        Screen::Timeline => Mode::Timeline,
    }
}

pub fn draw(frame: &mut Frame, state: &State, theme: &Theme, keys: &Keymap) {
    let area = frame.area();
    if area.is_empty() {
        return;
    }
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    chrome::header(frame, header, state, theme);
    let mode = mode_of(state.screen);
    // With two rows, the footer (hints, the outcome of an action) beats an empty body.
    chrome::footer(frame, footer, state, theme, keys, mode);
    if !body.is_empty() {
        match state.screen {
            Screen::Runs => runs::draw(frame, body, state, theme),
            Screen::Task => task::draw(frame, body, state, theme, keys),
            Screen::Pools => pools::draw(frame, body, state, theme),
            Screen::Journal => journal::draw(frame, body, state, theme, keys),
            Screen::Sources => sources::draw(frame, body, state, theme, keys),
            Screen::Stores => stores::draw(frame, body, state, theme, keys),
            Screen::Warehouse => warehouse::draw(frame, body, state, theme),
            Screen::Graph => graph::draw(frame, body, state, theme),
            Screen::Backfill => backfill::draw(frame, body, state, theme, keys),
            Screen::Schedule => schedule::draw(frame, body, state, theme),
            Screen::Sla => sla::draw(frame, body, state, theme),
            Screen::Timeline => timeline::draw(frame, body, state, theme),
        }
    }
    match &state.modal {
        None => {}
        Some(Modal::Help) => help::draw(frame, area, theme, keys, mode),
        Some(Modal::Palette { input, selected }) => {
            palette::draw(frame, area, state, theme, input, *selected)
        }
        Some(Modal::Input { purpose, text }) => {
            confirm::draw_input(frame, area, state, theme, *purpose, text)
        }
        Some(Modal::Confirm(c)) => confirm::draw_confirm(frame, area, theme, c),
        Some(Modal::MarkChoice { run_id, task_id }) => {
            confirm::draw_mark(frame, area, theme, *run_id, task_id)
        }
        Some(Modal::Form(f)) => form::draw(frame, area, theme, f),
        Some(Modal::Ask(a)) => confirm::draw_ask(frame, area, theme, a),
    }
}

/// The whole screen as a buffer, drawn headlessly (tests, benches).
pub fn render_buffer(state: &State, theme: &Theme, keys: &Keymap, w: u16, h: u16) -> Buffer {
    // TestBackend cannot fail: its error type is uninhabited.
    let mut terminal = match Terminal::new(TestBackend::new(w, h)) {
        Ok(t) => t,
        Err(e) => match e {},
    };
    if let Err(e) = terminal.draw(|f| draw(f, state, theme, keys)) {
        match e {}
    }
    terminal.backend().buffer().clone()
}

/// The whole screen as text, one line per row, trailing blanks trimmed.
pub fn render_to_string(state: &State, theme: &Theme, keys: &Keymap, w: u16, h: u16) -> String {
    buffer_text(&render_buffer(state, theme, keys, w, h))
}

pub fn buffer_text(buf: &Buffer) -> String {
    let width = usize::from(buf.area.width).max(1);
    let mut out = String::new();
    for row in buf.content.chunks(width) {
        let mut line = String::new();
        // A wide symbol covers the next cell; that cell holds a blank to skip.
        let mut skip = 0;
        for cell in row {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let sym = cell.symbol();
            line.push_str(sym);
            skip = fmt::width(sym).saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The run whose tasks are on screen: the loaded one, else the selected one.
pub(crate) fn shown_run(state: &State) -> Option<i64> {
    state.tasks_of.or(state.selected_run().map(|r| r.id))
}

/// A bordered pane; the focused one gets `border_focused`.
pub(crate) fn pane<'a>(title: Line<'a>, focused: bool, theme: &Theme) -> Block<'a> {
    let border = if focused {
        theme.get("border_focused")
    } else {
        theme.get("border")
    };
    Block::bordered()
        .border_style(border)
        .title(title.patch_style(theme.get("title")))
}

/// The row highlight of a list: full selection colour only where the keys go.
pub(crate) fn highlight(focused: bool, theme: &Theme) -> Style {
    if focused {
        theme.get("selection")
    } else {
        Style::new().add_modifier(Modifier::BOLD)
    }
}

/// A `w`×`h` box centred in `area` (clamped to it), cleared for an overlay.
pub(crate) fn popup(frame: &mut Frame, area: Rect, w: u16, h: u16) -> Rect {
    popup_at(frame, area, w, h, 2)
}

/// Like `popup`, with the free rows split 1 : `div - 1` above and below.
pub(crate) fn popup_at(frame: &mut Frame, area: Rect, w: u16, h: u16, div: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    let x = area.x + (area.width - w) / 2;
    let y = area.y + (area.height - h) / div.max(1);
    let r = Rect::new(x, y, w, h).intersection(area);
    frame.render_widget(Clear, r);
    r
}
