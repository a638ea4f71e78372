//! The header (workspace, what matters on call, READ-ONLY) and the footer
//! (the screen's keys from the keymap, the outcome of the last action).

use std::collections::BTreeSet;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::fmt::width;
use super::shown_run;
use crate::engine::state::TaskState;
use crate::tui::action::{Action, Screen};
use crate::tui::keymap::Binding;
use crate::tui::{Keymap, Mode, State, Theme};

const BADGE: &str = " READ-ONLY ";

/// Counts that matter at 3 a.m. for the run on screen.
#[derive(Debug, Default, PartialEq)]
pub struct Counts {
    pub failed: usize,
    pub running: usize,
    pub queued: usize,
    pub on_pool: usize,
    /// The pools they wait on, to name the one to grow.
    pub pools: BTreeSet<String>,
}

pub fn counts(state: &State) -> Counts {
    let mut c = Counts::default();
    for t in &state.tasks {
        match t.state {
            // Interrupted needs a person just like failed.
            TaskState::Failed | TaskState::Interrupted => c.failed += 1,
            TaskState::Running => c.running += 1,
            TaskState::Queued => {
                c.queued += 1;
                if let Some(pool) = t.waiting_for_pool() {
                    c.on_pool += 1;
                    c.pools.insert(pool.to_string());
                }
            }
            _ => {}
        }
    }
    c
}

pub fn header(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let mut badges = Vec::new();
    if let Some(b) = super::alerts::badge(state.undelivered, theme) {
        badges.push(b);
    }
    if state.readonly {
        badges.push(Span::styled(BADGE, theme.get("readonly")));
    }
    let badge_w = (badges.iter().map(Span::width).sum::<usize>() as u16).min(area.width);
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(badge_w)]).areas(area);
    let dim = theme.get("dim");
    let mut spans = vec![
        Span::styled(format!(" {} ", state.workspace), theme.get("header")),
        Span::styled("│ ", dim),
    ];
    let screen = match state.screen {
        Screen::Runs => "",
        Screen::Task => "task · ",
        Screen::Pools => "pools · ",
        Screen::Journal => "journal · ",
        Screen::Sources => "sources · ",
        Screen::Stores => "stores · ",
        Screen::Warehouse => "warehouse · ",
        Screen::Graph => "graph · ",
        Screen::Backfill => "backfill · ",
        Screen::Schedule => "schedule · ",
        Screen::Sla => "sla · ",
        Screen::Timeline => "timeline · ",
    };
    spans.push(Span::styled(screen, theme.get("title")));
    if let Some(run) = shown_run(state) {
        spans.push(Span::styled(format!("run {run}  "), theme.get("text")));
        // Words when they fit, glyphs and numbers when they do not.
        let room = usize::from(left.width).saturating_sub(Line::from(spans.clone()).width());
        let c = counts(state);
        let fits = |v: &Vec<Span<'static>>| v.iter().map(Span::width).sum::<usize>() <= room;
        let chosen = [(true, true), (true, false)]
            .into_iter()
            .map(|(words, long_pool)| counts_spans(&c, theme, words, long_pool))
            .find(fits)
            .unwrap_or_else(|| counts_spans(&c, theme, false, false));
        spans.extend(chosen);
    } else {
        spans.push(Span::styled("no runs yet", dim));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), left);
    if !badges.is_empty() {
        frame.render_widget(Paragraph::new(Line::from(badges)), right);
    }
}

fn counts_spans(c: &Counts, theme: &Theme, words: bool, long_pool: bool) -> Vec<Span<'static>> {
    let dim = theme.get("dim");
    let mut spans = Vec::new();
    for (n, s, label) in [
        (c.failed, TaskState::Failed, "failed"),
        (c.running, TaskState::Running, "running"),
        (c.queued, TaskState::Queued, "queued"),
    ] {
        let style = if n > 0 { theme.task(s) } else { dim };
        let text = if words {
            format!("{} {n} {label}  ", s.glyph())
        } else {
            format!("{}{n} ", s.glyph())
        };
        spans.push(Span::styled(text, style));
    }
    if c.on_pool > 0 {
        let which = match c.pools.iter().next() {
            Some(p) if c.pools.len() == 1 => format!("pool {p}"),
            _ => "pools".to_string(),
        };
        let text = if long_pool {
            format!("({} waiting on {which})", c.on_pool)
        } else {
            format!("({} on {which})", c.on_pool)
        };
        spans.push(Span::styled(text, theme.get("warning")));
    }
    spans
}

pub fn footer(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    theme: &Theme,
    keys: &Keymap,
    mode: Mode,
) {
    let flash = state
        .flash
        .as_ref()
        .filter(|f| f.until > state.now && !f.text.is_empty());
    let flash_w = flash.map_or(0, |f| {
        // The outcome of an action is news: it may take most of the line.
        (width(&f.text) as u16 + 4).min(area.width.saturating_mul(3) / 4)
    });
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(flash_w)]).areas(area);
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    // Read-only hides what it refuses; the header's badge says why.
    for b in keys
        .hints(mode)
        .into_iter()
        .filter(|b| !(state.readonly && b.action.mutates()))
    {
        let label = format!(" {}  ", short_label(b));
        // Whole hints only: half a key name misleads.
        used += width(&b.on) + width(&label);
        if used > usize::from(left.width) + 2 {
            break;
        }
        spans.push(Span::styled(b.on.clone(), theme.get("key")));
        spans.push(Span::styled(label, theme.get("dim")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), left);
    if let Some(f) = flash {
        let (mark, role) = if f.ok {
            ("✓", "ok")
        } else {
            ("✗", "error")
        };
        let text = super::fmt::truncate(&f.text, usize::from(flash_w).saturating_sub(4));
        let line = Line::styled(format!("{mark} {text} "), theme.get(role));
        frame.render_widget(Paragraph::new(line).right_aligned(), right);
    }
}

/// A footer-sized name for a binding; the help screen shows the full `desc`.
pub fn short_label(b: &Binding) -> String {
    let s = match &b.action {
        Action::Quit => "quit",
        Action::Help => "help",
        Action::Palette => "command",
        Action::Screen(Screen::Runs) => "runs",
        Action::Screen(Screen::Task) => "task",
        Action::Screen(Screen::Pools) => "pools",
        Action::Screen(Screen::Journal) => "journal",
        Action::Screen(Screen::Sources) => "sources",
        Action::Screen(Screen::Stores) => "stores",
        Action::Screen(Screen::Warehouse) => "warehouse",
        Action::Screen(Screen::Graph) => "graph",
        Action::Screen(Screen::Backfill) => "backfills",
        Action::Screen(Screen::Schedule) => "schedule",
        Action::Screen(Screen::Sla) => "sla",
        Action::Screen(Screen::Timeline) | Action::Timeline => "timeline",
        Action::Up => "up",
        Action::Down => "down",
        Action::Top => "top",
        Action::Bottom => "bottom",
        Action::PageUp => "page up",
        Action::PageDown => "page down",
        Action::Back => "back",
        Action::Open => "open",
        Action::Focus => "focus",
        Action::PrevRun => "newer run",
        Action::NextRun => "older run",
        Action::RerunDownstream => "rerun ↓",
        Action::RerunOne => "rerun one",
        Action::RerunFailed => "rerun failed",
        Action::Cancel => "cancel",
        Action::Mark => "mark",
        Action::Note => "note",
        Action::Search => "search",
        Action::SearchNext => "next match",
        Action::Follow => "follow",
        Action::RunbookUp => "runbook ↑",
        Action::RunbookDown => "runbook ↓",
        Action::PoolGrow => "grow",
        Action::PoolShrink => "shrink",
        Action::Filter => "filter",
        Action::Preview => "preview",
        Action::Export => "export",
        Action::Load => "load",
        Action::Delete => "delete",
        Action::Parent => "up a level",
        Action::Refresh => "refresh",
        Action::Left => "left",
        Action::Right => "right",
        Action::Fold => "fold/unfold",
        Action::NewBackfill => "new backfill",
        Action::WriteTimeline => "write .md",
    };
    s.to_string()
}
