//! The console's one state, its messages and its effects. `update` (in
//! update.rs) is the only thing that changes a `State`; the views only read it.

use std::collections::HashMap;

use crate::engine::forecast::RunForecast;
use crate::engine::history::TaskHistory;
use crate::engine::request::{MarkAs, Request};
use crate::engine::schedules::Overview;
use crate::engine::sla::Report;
use crate::engine::state::{RunState, TaskState};
use crate::engine::store::{
    AlertRow, AttemptRow, BackfillRow, BackfillRun, DeliveryRow, InstanceRow, JournalEntry,
    LogLine, PoolUsage, RunRow, Undelivered,
};
use crate::engine::timeline::Timeline;

pub use super::backfill::{BackfillRequest, BackfillState};
pub use super::graph::GraphState;

pub use super::action::Screen;
use super::browse::{Browse, BrowseEffect, BrowseMsg};
use super::form::Form;

/// Everything that happens to the console. Time comes in messages (`now`),
/// never from a clock inside `update`.
#[derive(Debug, Clone)]
pub enum Msg {
    /// A key, spelled as in the keymap: `a`, `R`, `ctrl-c`, `enter`, `up`…
    Key(String),
    /// Mouse wheel (+1 down, -1 up) or a click on a row of the screen.
    Scroll(i32),
    Click {
        column: u16,
        row: u16,
    },
    Resize(u16, u16),
    /// The clock, sent once a second only while something on screen ages.
    Tick(i64),
    Runs(Vec<RunRow>),
    Run {
        run: RunRow,
        tasks: Vec<InstanceRow>,
    },
    Pools(Vec<PoolUsage>),
    Journal {
        run_id: i64,
        entries: Vec<JournalEntry>,
    },
    Detail {
        run_id: i64,
        task_id: String,
        attempts: Vec<AttemptRow>,
        runbook: Option<Runbook>,
        /// The task across the pipeline's recent runs (this one included).
        history: Option<TaskHistory>,
    },
    /// The shown run's projected finish (None: it has no deadline, or is done).
    Forecast {
        run_id: i64,
        forecast: Option<RunForecast>,
    },
    Logs {
        run_id: i64,
        task_id: String,
        attempt: i64,
        lines: Vec<LogLine>,
    },
    /// The store changed (followed through its events): what to reload.
    Changed {
        runs: Vec<i64>,
        any_run: bool,
        pools: bool,
        journal: bool,
        logs: Vec<(i64, String)>,
    },
    Progress {
        run_id: i64,
        task_id: String,
        rows: i64,
        bytes: i64,
        total: Option<i64>,
        at: i64,
    },
    /// Every scheduled pipeline, as of when it was read.
    Schedule(Overview),
    /// The SLA report of the last 30 days, as of when it was computed.
    Sla(Report),
    /// Alerts still on their way, whenever that changes.
    Undelivered(Undelivered),
    /// A run's alerts with their deliveries, newest first.
    Alerts {
        run_id: i64,
        alerts: Vec<RunAlert>,
    },
    /// A theme the runner loaded and now draws with.
    Theme(String),
    /// Catalogs, listings, previews, started runs (browse screens).
    Browse(BrowseMsg),
    /// Recent backfills and the one asked for (None: there is none).
    Backfills {
        list: Vec<BackfillRow>,
        shown: Option<(BackfillRow, Vec<BackfillRun>)>,
    },
    /// A backfill started from the form: show it.
    BackfillStarted(i64),
    /// A run's timeline, built by the engine.
    Timeline {
        run_id: i64,
        timeline: Timeline,
    },
    /// An action's outcome, shown in the footer.
    Done {
        ok: bool,
        text: String,
        at: i64,
    },
}

/// Work for the runner. The runner does IO and answers with messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    LoadRuns,
    LoadRun(i64),
    LoadPools,
    LoadJournal(i64),
    LoadSchedule,
    LoadSla,
    LoadAlerts(i64),
    LoadDetail {
        run_id: i64,
        task_id: String,
    },
    LoadLogs {
        run_id: i64,
        task_id: String,
        attempt: i64,
        after: i64,
    },
    /// Write a request; if nobody executes the run, spawn a detached worker.
    Request {
        run_id: i64,
        request: Request,
    },
    /// Cancel running tasks, wait until they stopped, then rerun.
    CancelThenRerun {
        run_id: i64,
        cancel: Vec<String>,
        request: Request,
    },
    ResizePool {
        name: String,
        size: i64,
    },
    AddNote {
        run_id: i64,
        text: String,
    },
    SetTheme(String),
    Browse(BrowseEffect),
    /// Recent backfills and one backfill's runs (None: the newest).
    LoadBackfill(Option<i64>),
    /// Create the backfill's runs and hand them to a detached worker.
    StartBackfill(BackfillRequest),
    LoadTimeline(i64),
    /// Write a run's timeline as Markdown into the workspace's local dir.
    WriteTimeline(i64),
    Quit,
}

/// An alert and where it went (one delivery per channel).
pub type RunAlert = (AlertRow, Vec<DeliveryRow>);

/// The Timeline screen: one run's incident, as the engine built it.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineState {
    /// The run asked for (shown stays empty until its timeline arrives).
    pub run_id: Option<i64>,
    pub shown: Option<Timeline>,
    /// The highlighted entry (it scrolls the list).
    pub cursor: usize,
    /// Where Esc goes back to.
    pub back: Screen,
}

impl Default for TimelineState {
    fn default() -> TimelineState {
        TimelineState {
            run_id: None,
            shown: None,
            cursor: 0,
            back: Screen::Runs,
        }
    }
}

/// The Schedule screen: every pipeline with a `schedule`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScheduleState {
    pub shown: Overview,
    pub cursor: usize,
    pub loaded: bool,
}

/// The SLA screen: the engine's report, one pipeline selected.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlaState {
    pub shown: Report,
    pub cursor: usize,
    pub loaded: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Runbook {
    pub path: String,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Runs,
    Tasks,
}

/// A question on top of the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    Help,
    Palette {
        input: String,
        selected: usize,
    },
    /// Free text: a journal note, or a log search.
    Input {
        purpose: InputPurpose,
        text: String,
    },
    Confirm(Confirm),
    MarkChoice {
        run_id: i64,
        task_id: String,
    },
    /// A form to fill (an export, a load…).
    Form(Form),
    /// Yes or no to something that is not a run's tasks (delete a file).
    Ask(Ask),
}

/// A plain question: `lines` say exactly what Enter does.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    pub title: String,
    pub lines: Vec<String>,
    pub effect: Effect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputPurpose {
    Note,
    Search,
}

/// What Enter will do, with the exact tasks it touches ("blast radius").
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub title: String,
    pub run_id: i64,
    /// Tasks reset (or cancelled, or marked) and their current states.
    pub tasks: Vec<(String, TaskState)>,
    /// Running tasks that will be cancelled first.
    pub cancel_first: Vec<String>,
    pub effect: Effect,
    pub scroll: usize,
}

/// The task screen's content.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Detail {
    pub run_id: i64,
    pub task_id: String,
    pub attempts: Vec<AttemptRow>,
    /// The attempt whose log is shown (the latest).
    pub attempt: i64,
    pub log: Vec<LogLine>,
    /// First visible log line when not following.
    pub scroll: usize,
    pub follow: bool,
    pub search: Option<String>,
    pub runbook: Option<Runbook>,
    pub runbook_scroll: usize,
    pub loaded: bool,
    pub history: Option<TaskHistory>,
}

/// Progress samples of a running task, for a rate and an ETA.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub first_at: i64,
    pub first_rows: i64,
    pub last_at: i64,
    pub rows: i64,
    pub bytes: i64,
    pub total: Option<i64>,
}

impl Rate {
    /// Rows per second since the first sample.
    pub fn rows_per_s(&self) -> Option<f64> {
        let dt = (self.last_at - self.first_at) as f64 / 1000.0;
        (dt > 0.5).then(|| (self.rows - self.first_rows) as f64 / dt)
    }

    /// Seconds left at the current rate.
    pub fn eta_s(&self) -> Option<f64> {
        let rate = self.rows_per_s().filter(|r| *r > 0.0)?;
        let left = (self.total? - self.rows).max(0) as f64;
        Some(left / rate)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Flash {
    pub ok: bool,
    pub text: String,
    pub until: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub workspace: String,
    pub now: i64,
    pub readonly: bool,
    pub size: (u16, u16),
    pub screen: Screen,
    pub modal: Option<Modal>,
    pub focus: Focus,
    pub runs: Vec<RunRow>,
    pub run_cursor: usize,
    /// The selected run's tasks, in display order (see `order_tasks`).
    pub tasks: Vec<InstanceRow>,
    pub task_cursor: usize,
    /// Run whose tasks are in `tasks`.
    pub tasks_of: Option<i64>,
    pub pools: Vec<PoolUsage>,
    pub pool_cursor: usize,
    pub journal: Vec<JournalEntry>,
    pub journal_of: Option<i64>,
    /// The highlighted journal entry, newest first (it scrolls the list).
    pub journal_cursor: usize,
    pub detail: Option<Detail>,
    pub rates: HashMap<(i64, String), Rate>,
    pub flash: Option<Flash>,
    pub theme: String,
    pub graph: GraphState,
    pub backfill: BackfillState,
    /// Where Esc on the task screen goes back to.
    pub task_back: Screen,
    /// On start, the cursor jumps to the first failed task of the newest run once.
    pub placed_cursor: bool,
    /// `switchyard --run N [--task T]`: where the console opens (used once):
    /// that run selected, and that task open with its error and runbook.
    pub start_at: Option<(i64, Option<String>)>,
    /// Sources, Stores and Warehouse screens.
    pub browse: Browse,
    pub schedule: ScheduleState,
    pub sla: SlaState,
    pub timeline: TimelineState,
    /// Alerts not yet accepted by their channels (the header badge).
    pub undelivered: Undelivered,
    /// The shown run's alerts, and which run they are of.
    pub alerts: Vec<RunAlert>,
    pub alerts_of: Option<i64>,
    /// The forecast of the run whose tasks are shown.
    pub forecast: Option<RunForecast>,
    /// Something visible changed since the last frame.
    pub dirty: bool,
    pub quit: bool,
}

impl State {
    pub fn new(workspace: &str, readonly: bool, theme: &str, now: i64) -> State {
        State {
            workspace: workspace.to_string(),
            now,
            readonly,
            size: (80, 24),
            screen: Screen::Runs,
            modal: None,
            focus: Focus::Tasks,
            runs: Vec::new(),
            run_cursor: 0,
            tasks: Vec::new(),
            task_cursor: 0,
            tasks_of: None,
            pools: Vec::new(),
            pool_cursor: 0,
            journal: Vec::new(),
            journal_of: None,
            journal_cursor: 0,
            detail: None,
            rates: HashMap::new(),
            flash: None,
            theme: theme.to_string(),
            graph: GraphState::default(),
            backfill: BackfillState::default(),
            task_back: Screen::Runs,
            placed_cursor: false,
            start_at: None,
            browse: Browse::default(),
            schedule: ScheduleState::default(),
            sla: SlaState::default(),
            timeline: TimelineState::default(),
            undelivered: Undelivered::default(),
            alerts: Vec::new(),
            alerts_of: None,
            forecast: None,
            dirty: true,
            quit: false,
        }
    }

    pub fn selected_run(&self) -> Option<&RunRow> {
        self.runs.get(self.run_cursor)
    }

    pub fn selected_task(&self) -> Option<&InstanceRow> {
        self.tasks.get(self.task_cursor)
    }

    /// Whether anything on screen changes with time alone (elapsed timers,
    /// a flash to expire, a countdown to the next slot, a run growing late):
    /// the runner sends ticks only then.
    pub fn needs_clock(&self) -> bool {
        self.flash.is_some()
            || self.browse.loading()
            || (self.screen == Screen::Schedule && !self.schedule.shown.pipelines.is_empty())
            || (self.runs.iter()).any(|r| r.deadline_at.is_some() && r.state != RunState::Succeeded)
            || (self.screen == Screen::Backfill
                && (self.backfill.runs.iter()).any(|r| r.run.state == RunState::Running))
            || self
                .tasks
                .iter()
                .any(|t| matches!(t.state, TaskState::Running | TaskState::Retrying))
    }
}

/// Failed and interrupted first (what on call looks for), then running,
/// retrying, queued, pending, and the finished ones last; ties in run order.
pub fn order_tasks(tasks: &mut [InstanceRow]) {
    fn rank(s: TaskState) -> u8 {
        match s {
            TaskState::Failed | TaskState::Interrupted => 0,
            TaskState::UpstreamFailed | TaskState::Cancelled => 1,
            TaskState::Running => 2,
            TaskState::Retrying => 3,
            TaskState::Queued => 4,
            TaskState::Pending => 5,
            TaskState::Succeeded | TaskState::Skipped => 6,
        }
    }
    tasks.sort_by_key(|t| (rank(t.state), t.ord));
}

/// The request a mark choice sends.
pub fn mark_request(task: &str, as_: MarkAs) -> Request {
    Request::Mark {
        task: task.to_string(),
        state: as_,
    }
}
