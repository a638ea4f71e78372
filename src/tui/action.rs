//! What a key can do: the `run` values of the keymap.

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Screen {
    Runs,
    Task,
    Pools,
    Journal,
    Sources,
    Stores,
    Warehouse,
    Graph,
    Backfill,
    Schedule,
    Sla,
    /// A run's incident in time order (`engine::timeline`).
    Timeline,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    Palette,
    Screen(Screen),
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Back,
    Open,
    Focus,
    PrevRun,
    NextRun,
    RerunDownstream,
    RerunOne,
    RerunFailed,
    Cancel,
    Mark,
    Note,
    Search,
    SearchNext,
    Follow,
    RunbookUp,
    RunbookDown,
    PoolGrow,
    PoolShrink,
    Filter,
    Preview,
    Export,
    Load,
    Delete,
    Parent,
    Refresh,
    Left,
    Right,
    Fold,
    NewBackfill,
    /// Open the Timeline screen of the run on screen.
    Timeline,
    /// Write the timeline on screen as Markdown to a file.
    WriteTimeline,
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Action, String> {
        let a = match s.trim() {
            "quit" => Action::Quit,
            "help" => Action::Help,
            "palette" => Action::Palette,
            "screen runs" => Action::Screen(Screen::Runs),
            "screen pools" => Action::Screen(Screen::Pools),
            "screen journal" => Action::Screen(Screen::Journal),
            "screen sources" => Action::Screen(Screen::Sources),
            "screen stores" => Action::Screen(Screen::Stores),
            "screen warehouse" => Action::Screen(Screen::Warehouse),
            "filter" => Action::Filter,
            "preview" => Action::Preview,
            "export" => Action::Export,
            "load" => Action::Load,
            "delete" => Action::Delete,
            "parent" => Action::Parent,
            "refresh" => Action::Refresh,
            "screen graph" => Action::Screen(Screen::Graph),
            "screen backfill" => Action::Screen(Screen::Backfill),
            "screen schedule" => Action::Screen(Screen::Schedule),
            "screen sla" => Action::Screen(Screen::Sla),
            "up" => Action::Up,
            "down" => Action::Down,
            "top" => Action::Top,
            "bottom" => Action::Bottom,
            "page_up" => Action::PageUp,
            "page_down" => Action::PageDown,
            "back" => Action::Back,
            "open" => Action::Open,
            "focus" => Action::Focus,
            "prev_run" => Action::PrevRun,
            "next_run" => Action::NextRun,
            "rerun_downstream" => Action::RerunDownstream,
            "rerun_one" => Action::RerunOne,
            "rerun_failed" => Action::RerunFailed,
            "cancel" => Action::Cancel,
            "mark" => Action::Mark,
            "note" => Action::Note,
            "search" => Action::Search,
            "search_next" => Action::SearchNext,
            "follow" => Action::Follow,
            "runbook_up" => Action::RunbookUp,
            "runbook_down" => Action::RunbookDown,
            "pool_grow" => Action::PoolGrow,
            "pool_shrink" => Action::PoolShrink,
            "left" => Action::Left,
            "right" => Action::Right,
            "fold" => Action::Fold,
            "new_backfill" => Action::NewBackfill,
            "timeline" => Action::Timeline,
            "write_timeline" => Action::WriteTimeline,
            other => return Err(format!("unknown action `{other}`")),
        };
        Ok(a)
    }
}

impl Action {
    /// Actions that change something: disabled in read-only mode.
    pub fn mutates(&self) -> bool {
        self.change().is_some()
    }

    /// What a changing action does, as a read-only console's refusal names
    /// it; None for actions that only look.
    pub fn change(&self) -> Option<&'static str> {
        Some(match self {
            Action::RerunDownstream => "rerun downstream",
            Action::RerunOne => "rerun one task",
            Action::RerunFailed => "rerun the failed tasks",
            Action::Cancel => "cancel",
            Action::Mark => "mark",
            Action::Note => "add a note",
            Action::PoolGrow => "grow a pool",
            Action::PoolShrink => "shrink a pool",
            Action::Export => "export",
            Action::Load => "load",
            Action::Delete => "delete",
            Action::NewBackfill => "start a backfill",
            _ => return None,
        })
    }
}

/// The flash of a read-only console refusing `what`.
pub fn read_only_refusal(what: &str) -> String {
    format!("read-only: cannot {what} (this console cannot change anything)")
}
