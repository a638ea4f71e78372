//! The runner: the console's only impure part. It owns the terminal, turns
//! input and the store's events into messages, executes effects, and draws
//! when the state is dirty (at most ~60 frames a second, never while idle).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use ratatui::crossterm::event::{
    self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind,
};
use tokio::sync::mpsc;

use super::state::{Effect, Msg, Runbook, State};
use super::update::update;
use super::{Keymap, Theme, view};
use crate::engine::forecast::AtRiskWatch;
use crate::engine::lease::Owner;
use crate::engine::store::{EventKind, now_ms};
use crate::engine::{Engine, history, launch, process, runbook, timeline};

/// Messages in flight between producers and the loop; input and lifecycle
/// messages wait for room (never dropped), progress is coalesced upstream.
const CHANNEL: usize = 1024;
const FRAME: Duration = Duration::from_millis(16);
const FOLLOW_EVERY: Duration = Duration::from_millis(200);
const UNDELIVERED_EVERY: Duration = Duration::from_secs(2);

/// History estimates of the pipelines the console forecasts, kept between
/// effects (recomputed when a pipeline's history changes). IO-side only:
/// the state sees forecasts as messages.
static FORECASTS: std::sync::LazyLock<AtRiskWatch> = std::sync::LazyLock::new(AtRiskWatch::new);

pub struct Console {
    pub engine: Arc<Engine>,
    pub keys: Keymap,
    pub theme: Theme,
    pub readonly: bool,
    pub user_themes: Option<std::path::PathBuf>,
    /// `--run N [--task T]`.
    pub start_at: Option<(i64, Option<String>)>,
}

/// Spelling of a key as the keymap writes it.
pub fn key_name(k: &KeyEvent) -> Option<String> {
    if k.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    let base = match k.code {
        KeyCode::Char(' ') => "space".to_string(),
        KeyCode::Char(c) if ctrl => format!("ctrl-{}", c.to_ascii_lowercase()),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Enter => "enter".into(),
        KeyCode::Esc => "esc".into(),
        KeyCode::Tab => "tab".into(),
        KeyCode::BackTab => "backtab".into(),
        KeyCode::Backspace => "backspace".into(),
        KeyCode::Up => "up".into(),
        KeyCode::Down => "down".into(),
        KeyCode::Left => "left".into(),
        KeyCode::Right => "right".into(),
        KeyCode::PageUp => "pageup".into(),
        KeyCode::PageDown => "pagedown".into(),
        KeyCode::Home => "home".into(),
        KeyCode::End => "end".into(),
        _ => return None,
    };
    Some(base)
}

fn input_thread(tx: mpsc::Sender<Msg>) {
    std::thread::spawn(move || {
        loop {
            let msg = match event::read() {
                Ok(Event::Key(k)) => key_name(&k).map(Msg::Key),
                Ok(Event::Resize(w, h)) => Some(Msg::Resize(w, h)),
                Ok(Event::Mouse(m)) => match m.kind {
                    MouseEventKind::ScrollDown => Some(Msg::Scroll(1)),
                    MouseEventKind::ScrollUp => Some(Msg::Scroll(-1)),
                    MouseEventKind::Down(_) => Some(Msg::Click {
                        column: m.column,
                        row: m.row,
                    }),
                    _ => None,
                },
                Ok(_) => None,
                Err(_) => break,
            };
            if let Some(m) = msg
                && tx.blocking_send(m).is_err()
            {
                break;
            }
        }
    });
}

type ProgressSample = (i64, i64, Option<i64>, i64);

/// Follows the store's events and tells the loop what changed. Progress is
/// coalesced per task (latest wins); everything else becomes reload hints.
fn follower(engine: Arc<Engine>, tx: mpsc::Sender<Msg>) {
    tokio::spawn(async move {
        // On PostgreSQL a change wakes the follower at once; the pause
        // below only catches up on what a lost notification missed.
        let changes = engine.store.changes();
        let mut seq = engine.store.last_event_seq().await.unwrap_or(0);
        // Deliveries move on without events (a channel answering at last):
        // their count is read every few seconds and sent only when it changes.
        let mut undelivered = None;
        let mut undelivered_read = Instant::now() - UNDELIVERED_EVERY;
        // Poll fast while things happen, slower (up to a second) when quiet,
        // so an idle console costs next to nothing.
        let mut quiet = 0u32;
        loop {
            // Without channels nothing is ever sent: no badge to show.
            if !engine.ws.def.notify.is_empty() && undelivered_read.elapsed() >= UNDELIVERED_EVERY {
                undelivered_read = Instant::now();
                if let Ok(u) = engine.store.undelivered().await
                    && undelivered != Some(u)
                {
                    undelivered = Some(u);
                    if tx.send(Msg::Undelivered(u)).await.is_err() {
                        return;
                    }
                }
            }
            let pause = FOLLOW_EVERY * 2u32.pow(quiet.min(10) / 5).min(5);
            changes.wait(pause).await;
            let Ok(events) = engine.store.events_after(seq, 5000).await else {
                continue;
            };
            if events.is_empty() {
                quiet = quiet.saturating_add(1);
                continue;
            }
            quiet = 0;
            let mut runs = BTreeSet::new();
            let (mut any_run, mut pools, mut journal) = (false, false, false);
            let mut logs = BTreeSet::new();
            // (run, task) -> (rows, bytes, total, at): the latest sample wins.
            let mut progress: HashMap<(i64, String), ProgressSample> = HashMap::new();
            for e in &events {
                seq = e.seq;
                match &e.kind {
                    EventKind::RunCreated { .. } | EventKind::RunState { .. } => {
                        any_run = true;
                        runs.extend(e.run_id);
                    }
                    EventKind::TaskState { .. } => {
                        runs.extend(e.run_id);
                        pools = true;
                        any_run = true;
                    }
                    EventKind::Log { .. } => {
                        if let (Some(r), Some(t)) = (e.run_id, &e.task_id) {
                            logs.insert((r, t.clone()));
                        }
                    }
                    EventKind::Progress {
                        rows,
                        bytes,
                        total_estimate,
                    } => {
                        if let (Some(r), Some(t)) = (e.run_id, &e.task_id) {
                            progress.insert((r, t.clone()), (*rows, *bytes, *total_estimate, e.at));
                        }
                    }
                    EventKind::PoolResized { .. } => pools = true,
                    EventKind::Journal { .. } => journal = true,
                }
            }
            let changed = Msg::Changed {
                runs: runs.into_iter().collect(),
                any_run,
                pools,
                journal,
                logs: logs.into_iter().collect(),
            };
            if tx.send(changed).await.is_err() {
                return;
            }
            for ((run_id, task_id), (rows, bytes, total, at)) in progress {
                let m = Msg::Progress {
                    run_id,
                    task_id,
                    rows,
                    bytes,
                    total,
                    at,
                };
                if tx.send(m).await.is_err() {
                    return;
                }
            }
        }
    });
}

impl Console {
    /// Runs the console on `terminal` until the user quits.
    pub async fn run<B: ratatui::backend::Backend>(
        mut self,
        terminal: &mut ratatui::Terminal<B>,
    ) -> Result<()>
    where
        B::Error: Send + Sync + 'static,
    {
        let (tx, mut rx) = mpsc::channel::<Msg>(CHANNEL);
        input_thread(tx.clone());
        follower(self.engine.clone(), tx.clone());
        let owner = Arc::new(Owner::this_process(None));
        let size = terminal.size()?;
        let mut state = State::new(
            self.engine.ws.name(),
            self.readonly,
            &self.theme.name,
            now_ms(),
        );
        state.size = (size.width, size.height);
        state.start_at = self.start_at.clone();
        state.browse = super::browse::Browse::for_workspace(&self.engine.ws);
        state.backfill.pipelines = (self.engine.ws.def.pipelines.iter())
            .map(|(name, p)| (name.clone(), p.max_active))
            .collect();
        for e in [Effect::LoadRuns, Effect::LoadPools] {
            self.execute(e, &tx, &owner);
        }
        let mut last_frame = Instant::now() - FRAME;
        loop {
            if state.dirty && last_frame.elapsed() >= FRAME {
                terminal.draw(|f| view::draw(f, &state, &self.theme, &self.keys))?;
                state.dirty = false;
                last_frame = Instant::now();
            }
            // Wake for: a message; the clock, only while something ages; a
            // frame we held back to stay under ~60 fps.
            let wait = if state.dirty {
                FRAME.saturating_sub(last_frame.elapsed())
            } else if state.needs_clock() {
                Duration::from_millis(1000 - (now_ms() % 1000) as u64)
            } else {
                Duration::from_secs(3600)
            };
            let msg = match tokio::time::timeout(wait, rx.recv()).await {
                Ok(Some(m)) => m,
                Ok(None) => break,
                Err(_) => {
                    if state.dirty {
                        continue;
                    }
                    Msg::Tick(now_ms())
                }
            };
            let mut effects = update(&mut state, msg, &self.keys);
            // Take whatever else is waiting before drawing once.
            while let Ok(m) = rx.try_recv() {
                effects.extend(update(&mut state, m, &self.keys));
            }
            dedup(&mut effects);
            for e in effects {
                if e == Effect::Quit {
                    return Ok(());
                }
                self.execute(e, &tx, &owner);
            }
            if state.quit {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Effects run off the loop; results come back as messages.
    fn execute(&mut self, effect: Effect, tx: &mpsc::Sender<Msg>, owner: &Arc<Owner>) {
        if let Effect::SetTheme(name) = &effect {
            let no_color = std::env::var_os("NO_COLOR").is_some();
            let (ok, text) = match Theme::load(name, self.user_themes.as_deref(), no_color) {
                Ok(t) => {
                    self.theme = t;
                    (true, format!("theme {name}"))
                }
                Err(e) => (false, crate::text::error_chain(&e)),
            };
            let tx = tx.clone();
            let loaded = ok.then(|| name.clone());
            tokio::spawn(async move {
                if let Some(name) = loaded {
                    let _ = tx.send(Msg::Theme(name)).await;
                }
                let _ = tx
                    .send(Msg::Done {
                        ok,
                        text,
                        at: now_ms(),
                    })
                    .await;
            });
            return;
        }
        let engine = self.engine.clone();
        let tx = tx.clone();
        let owner = owner.clone();
        tokio::spawn(async move {
            let msgs = match perform(&engine, effect, &owner).await {
                Ok(m) => m,
                Err(e) => vec![Msg::Done {
                    ok: false,
                    text: crate::config::redact::redact(&crate::text::error_chain(&e)),
                    at: now_ms(),
                }],
            };
            for m in msgs {
                if tx.send(m).await.is_err() {
                    return;
                }
            }
        });
    }
}

fn dedup(effects: &mut Vec<Effect>) {
    let mut seen = Vec::new();
    effects.retain(|e| {
        let loads = matches!(
            e,
            Effect::LoadRuns
                | Effect::LoadRun(_)
                | Effect::LoadPools
                | Effect::LoadJournal(_)
                | Effect::LoadBackfill(_)
                | Effect::LoadSchedule
                | Effect::LoadSla
                | Effect::LoadAlerts(_)
                | Effect::LoadTimeline(_)
        );
        if !loads {
            return true;
        }
        if seen.contains(e) {
            return false;
        }
        seen.push(e.clone());
        true
    });
}

/// Does one effect's IO and returns the messages it produced.
pub async fn perform(engine: &Engine, effect: Effect, owner: &Owner) -> Result<Vec<Msg>> {
    let store = &engine.store;
    Ok(match effect {
        Effect::LoadRuns => vec![Msg::Runs(store.runs(100).await?)],
        // A run's alerts are raised with its state changes: read them together.
        Effect::LoadRun(id) => {
            let run = store.run(id).await?;
            let tasks = store.instances(id).await?;
            let forecast = match run.deadline_at {
                Some(_) if run.state.is_live() => Some(
                    FORECASTS
                        .forecast(&engine.ws, store, &run, &tasks, now_ms())
                        .await?,
                ),
                _ => None,
            };
            vec![
                Msg::Run { run, tasks },
                alerts_of(engine, id).await?,
                Msg::Forecast {
                    run_id: id,
                    forecast,
                },
            ]
        }
        Effect::LoadAlerts(id) => vec![alerts_of(engine, id).await?],
        Effect::LoadSchedule => vec![Msg::Schedule(
            crate::engine::schedules::overview(engine, now_ms(), 1).await?,
        )],
        Effect::LoadSla => {
            let now = now_ms();
            let from = now - crate::engine::sla::DEFAULT_WINDOW_MS;
            vec![Msg::Sla(
                crate::engine::sla::load(engine, from, now, None).await?,
            )]
        }
        Effect::LoadPools => vec![Msg::Pools(store.pools_usage().await?)],
        Effect::LoadJournal(id) => vec![Msg::Journal {
            run_id: id,
            entries: store.journal(Some(id), 500).await?,
        }],
        Effect::LoadDetail { run_id, task_id } => {
            let attempts = store.attempts(run_id, &task_id).await?;
            let inst = store.instance(run_id, &task_id).await?;
            let run = store.run(run_id).await?;
            let explicit = engine
                .ws
                .pipeline(&run.pipeline)
                .and_then(|p| p.tasks.iter().find(|t| t.id == task_id))
                .and_then(|t| t.runbook.clone());
            let rb = runbook::find(
                &engine.ws,
                &task_id,
                explicit.as_deref(),
                inst.error.as_deref(),
            )
            .map(|f| Runbook {
                path: f
                    .path
                    .strip_prefix(&engine.ws.dir)
                    .unwrap_or(&f.path)
                    .display()
                    .to_string(),
                text: f.text,
            });
            let rows = store
                .history(&run.pipeline, Some(&task_id), history::DEFAULT_RUNS)
                .await?;
            let history = history::by_task(&rows)
                .into_iter()
                .find(|h| h.task_id == task_id);
            vec![Msg::Detail {
                run_id,
                task_id,
                attempts,
                runbook: rb,
                history,
            }]
        }
        Effect::LoadLogs {
            run_id,
            task_id,
            attempt,
            after,
        } => {
            let lines = store.logs(run_id, &task_id, attempt, after, 2000).await?;
            vec![Msg::Logs {
                run_id,
                task_id,
                attempt,
                lines,
            }]
        }
        Effect::Request { run_id, request } => {
            vec![done(
                run_id,
                launch::request(engine, run_id, &request, owner).await?,
            )]
        }
        Effect::CancelThenRerun {
            run_id,
            cancel,
            request,
        } => {
            let text = launch::cancel_then_rerun(engine, run_id, &cancel, &request, owner).await?;
            vec![done(run_id, text)]
        }
        Effect::ResizePool { name, size } => {
            engine.set_pool_size(&name, size, &process::who()).await?;
            vec![
                Msg::Done {
                    ok: true,
                    text: format!("pool {name}: size {size}"),
                    at: now_ms(),
                },
                Msg::Pools(store.pools_usage().await?),
            ]
        }
        Effect::AddNote { run_id, text } => {
            crate::engine::journal::add_note(store, run_id, &process::who(), &text).await?;
            vec![
                Msg::Done {
                    ok: true,
                    text: "note added to the journal".into(),
                    at: now_ms(),
                },
                Msg::Journal {
                    run_id,
                    entries: store.journal(Some(run_id), 500).await?,
                },
            ]
        }
        Effect::Browse(b) => super::browse_io::perform(engine, b, owner).await,
        Effect::LoadBackfill(id) => super::backfill_io::load(engine, id).await?,
        Effect::LoadTimeline(id) => vec![Msg::Timeline {
            run_id: id,
            timeline: timeline::build(&store.timeline_rows(id).await?, now_ms()),
        }],
        Effect::WriteTimeline(id) => vec![write_timeline(engine, id).await?],
        Effect::StartBackfill(req) => super::backfill_io::start(engine, req).await?,
        Effect::SetTheme(_) | Effect::Quit => Vec::new(),
    })
}

/// Writes a run's timeline as Markdown beside the workspace's own files
/// (`.switchyard/`, else here) and says where, in full.
async fn write_timeline(engine: &Engine, run_id: i64) -> Result<Msg> {
    let tl = timeline::build(&engine.store.timeline_rows(run_id).await?, now_ms());
    let md = timeline::render::markdown(&tl, &chrono::Local);
    let dir = engine.ws.local_dir();
    let dir = if std::fs::create_dir_all(&dir).is_ok() {
        dir
    } else {
        std::env::current_dir()?
    };
    let path = std::path::absolute(dir.join(format!("timeline-run-{run_id}.md")))?;
    tokio::fs::write(&path, md)
        .await
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(Msg::Done {
        ok: true,
        text: format!("wrote {}", path.display()),
        at: now_ms(),
    })
}

/// The alerts the run and task views show: the newest of a run.
async fn alerts_of(engine: &Engine, run_id: i64) -> Result<Msg> {
    Ok(Msg::Alerts {
        run_id,
        alerts: engine.store.alerts(Some(run_id), 20).await?,
    })
}

/// A request's outcome, in the footer.
fn done(run_id: i64, text: String) -> Msg {
    Msg::Done {
        ok: true,
        text: format!("run {run_id}: {text}"),
        at: now_ms(),
    }
}
