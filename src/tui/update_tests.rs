//! Key flows through the real keymap, as unit tests of the pure `update`.

use super::keymap::Keymap;
use super::state::{Effect, Focus, Modal, Msg, Screen, State};
use super::update::update;
use crate::engine::request::{MarkAs, Request, RerunSelection};
use crate::engine::state::{RunState, TaskState};
use crate::engine::store::{InstanceRow, PoolUsage, RunRow};

pub fn run_row(id: i64, state: RunState) -> RunRow {
    RunRow {
        id,
        pipeline: "nightly".into(),
        run_date: "2026-11-22".into(),
        state,
        backfill_id: None,
        created_at: 0,
        started_at: Some(0),
        finished_at: None,
        owner: None,
        note: None,
        slot_at: None,
        deadline_at: None,
    }
}

pub fn task(ord: i64, id: &str, state: TaskState, upstream: &[&str]) -> InstanceRow {
    InstanceRow {
        run_id: 1,
        task_id: id.into(),
        kind: "command".into(),
        state,
        attempt: 1,
        retry_base: 0,
        pool: None,
        slots: 1,
        upstream: upstream.iter().map(|s| s.to_string()).collect(),
        ord,
        rows: None,
        bytes: None,
        total_estimate: None,
        error: (state == TaskState::Failed).then(|| "exit code 1".into()),
        waiting_on: None,
        next_try_at: None,
        started_at: Some(0),
        finished_at: None,
        updated_at: 0,
        cancel_requested: false,
        params: None,
        queued_at: None,
    }
}

/// A run: export -> load -> check, plus an unrelated running task `slow`,
/// and `report` after `check` and `slow`.
pub fn loaded(readonly: bool) -> (State, Keymap) {
    let keys = Keymap::builtin();
    let mut s = State::new("acme", readonly, "default", 1_000);
    let fx = update(
        &mut s,
        Msg::Runs(vec![
            run_row(2, RunState::Running),
            run_row(1, RunState::Failed),
        ]),
        &keys,
    );
    assert_eq!(fx, [Effect::LoadRun(2)], "the newest run is loaded first");
    let tasks = vec![
        task(0, "export", TaskState::Succeeded, &[]),
        task(1, "load", TaskState::Failed, &["export"]),
        task(2, "check", TaskState::UpstreamFailed, &["load"]),
        task(3, "slow", TaskState::Running, &[]),
        task(4, "report", TaskState::Pending, &["check", "slow"]),
    ];
    update(
        &mut s,
        Msg::Run {
            run: run_row(2, RunState::Running),
            tasks,
        },
        &keys,
    );
    (s, keys)
}

pub fn keys(s: &mut State, k: &Keymap, seq: &[&str]) -> Vec<Effect> {
    seq.iter()
        .flat_map(|key| update(s, Msg::Key(key.to_string()), k))
        .collect()
}

#[test]
fn on_start_the_cursor_sits_on_the_first_failed_task_and_enter_opens_it() {
    let (mut s, k) = loaded(false);
    assert_eq!(s.selected_task().map(|t| t.task_id.as_str()), Some("load"));
    assert_eq!(
        s.tasks[0].state,
        TaskState::Failed,
        "failed tasks come first"
    );
    let fx = keys(&mut s, &k, &["enter"]);
    assert_eq!(s.screen, Screen::Task);
    assert_eq!(
        fx,
        [
            Effect::LoadDetail {
                run_id: 2,
                task_id: "load".into()
            },
            Effect::LoadLogs {
                run_id: 2,
                task_id: "load".into(),
                attempt: 1,
                after: 0
            },
        ]
    );
    keys(&mut s, &k, &["esc"]);
    assert_eq!(s.screen, Screen::Runs);
}

#[test]
fn shift_r_shows_the_blast_radius_and_enter_cancels_running_ones_first() {
    let (mut s, k) = loaded(false);
    keys(&mut s, &k, &["R"]);
    let Some(Modal::Confirm(c)) = &s.modal else {
        panic!("expected a confirmation, got {:?}", s.modal)
    };
    let ids: Vec<&str> = c.tasks.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(ids, ["load", "check", "report"]);
    assert!(c.cancel_first.is_empty());
    let fx = keys(&mut s, &k, &["enter"]);
    assert_eq!(
        fx,
        [Effect::Request {
            run_id: 2,
            request: Request::Rerun(RerunSelection {
                task: Some("load".into()),
                downstream: true,
                ..RerunSelection::default()
            })
        }]
    );
    assert!(s.modal.is_none());

    // On the running task: it must be cancelled first, and the dialog says so.
    let slow = s.tasks.iter().position(|t| t.task_id == "slow").unwrap();
    s.task_cursor = slow;
    keys(&mut s, &k, &["R"]);
    let Some(Modal::Confirm(c)) = &s.modal else {
        panic!()
    };
    assert_eq!(c.cancel_first, ["slow"]);
    let fx = keys(&mut s, &k, &["enter"]);
    assert!(
        matches!(&fx[..], [Effect::CancelThenRerun { cancel, .. }] if cancel == &["slow".to_string()])
    );
}

#[test]
fn esc_leaves_a_confirmation_without_doing_anything() {
    let (mut s, k) = loaded(false);
    let fx = keys(&mut s, &k, &["r", "esc"]);
    assert!(fx.is_empty());
    assert!(s.modal.is_none());
}

#[test]
fn f_selects_every_failure_and_its_downstream() {
    let (mut s, k) = loaded(false);
    keys(&mut s, &k, &["F"]);
    let Some(Modal::Confirm(c)) = &s.modal else {
        panic!()
    };
    let mut ids: Vec<&str> = c.tasks.iter().map(|(t, _)| t.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["check", "load", "report"]);
}

#[test]
fn read_only_disables_every_mutating_key() {
    let (mut s, k) = loaded(true);
    for (key, what) in [
        ("R", "rerun downstream"),
        ("r", "rerun one task"),
        ("F", "rerun the failed tasks"),
        ("x", "cancel"),
        ("m", "mark"),
        ("n", "add a note"),
    ] {
        // Each key's own refusal, not one an earlier key left on screen.
        s.flash = None;
        let fx = keys(&mut s, &k, &[key]);
        assert!(fx.is_empty(), "{key}: {fx:?}");
        assert!(s.modal.is_none(), "{key} opened {:?}", s.modal);
        assert_eq!(
            s.flash.as_ref().map(|f| f.text.as_str()),
            Some(crate::tui::action::read_only_refusal(what).as_str()),
            "{key}"
        );
    }
    // Looking around still works.
    keys(&mut s, &k, &["enter"]);
    assert_eq!(s.screen, Screen::Task);
}

#[test]
fn mark_refuses_a_running_task_and_asks_which_state_otherwise() {
    let (mut s, k) = loaded(false);
    s.task_cursor = s.tasks.iter().position(|t| t.task_id == "slow").unwrap();
    assert!(keys(&mut s, &k, &["m"]).is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("cancel it first"));
    s.task_cursor = 0;
    let fx = keys(&mut s, &k, &["m", "k"]);
    assert_eq!(
        fx,
        [Effect::Request {
            run_id: 2,
            request: Request::Mark {
                task: "load".into(),
                state: MarkAs::Skipped
            }
        }]
    );
}

#[test]
fn cancel_asks_first() {
    let (mut s, k) = loaded(false);
    s.task_cursor = s.tasks.iter().position(|t| t.task_id == "slow").unwrap();
    assert!(keys(&mut s, &k, &["x"]).is_empty());
    let fx = keys(&mut s, &k, &["enter"]);
    assert_eq!(
        fx,
        [Effect::Request {
            run_id: 2,
            request: Request::Cancel {
                task: Some("slow".into())
            }
        }]
    );
}

#[test]
fn pools_grow_and_shrink_and_the_palette_sets_a_size() {
    let (mut s, k) = loaded(false);
    let fx = keys(&mut s, &k, &["2"]);
    assert_eq!(s.screen, Screen::Pools);
    assert_eq!(fx, [Effect::LoadPools]);
    update(
        &mut s,
        Msg::Pools(vec![PoolUsage {
            name: "replica".into(),
            size: 2,
            running: 2,
            queued: 3,
        }]),
        &k,
    );
    assert_eq!(
        keys(&mut s, &k, &["+"]),
        [Effect::ResizePool {
            name: "replica".into(),
            size: 3
        }]
    );
    assert_eq!(keys(&mut s, &k, &["-", "-"]).len(), 2);
    assert_eq!(s.pools[0].size, 1);
    let mut seq = vec![":"];
    let typed: Vec<String> = "pool replica 4"
        .chars()
        .map(|c| {
            if c == ' ' {
                "space".into()
            } else {
                c.to_string()
            }
        })
        .collect();
    seq.extend(typed.iter().map(String::as_str));
    seq.push("enter");
    let fx = keys(&mut s, &k, &seq);
    assert_eq!(
        fx.last(),
        Some(&Effect::ResizePool {
            name: "replica".into(),
            size: 4
        })
    );
}

/// A pool keeps at least one slot, as the workspace file and `switchyard
/// pool` require: `-` stops at 1 and `:pool NAME 0` is refused.
#[test]
fn pools_never_shrink_below_one_slot() {
    let (mut s, k) = loaded(false);
    keys(&mut s, &k, &["2"]);
    update(
        &mut s,
        Msg::Pools(vec![PoolUsage {
            name: "replica".into(),
            size: 1,
            running: 0,
            queued: 0,
        }]),
        &k,
    );
    assert_eq!(keys(&mut s, &k, &["-"]), []);
    assert_eq!(s.pools[0].size, 1);
    let flash = s.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(flash.contains("size must be at least 1"), "{flash}");
    let mut fx = keys(&mut s, &k, &[":"]);
    fx.extend(type_text(&mut s, &k, "pool replica 0"));
    fx.extend(keys(&mut s, &k, &["enter"]));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::ResizePool { .. })),
        "{fx:?}"
    );
    assert_eq!(s.pools[0].size, 1);
}

/// Types `text` into whatever has the keyboard, a key at a time.
fn type_text(s: &mut State, k: &Keymap, text: &str) -> Vec<Effect> {
    let typed: Vec<String> = text
        .chars()
        .map(|c| match c {
            ' ' => "space".to_string(),
            c => c.to_string(),
        })
        .collect();
    let seq: Vec<&str> = typed.iter().map(String::as_str).collect();
    keys(s, k, &seq)
}

#[test]
fn the_palette_runs_a_whole_command_as_typed_and_completes_the_rest() {
    let (mut s, k) = loaded(false);
    let pools = |size| {
        Msg::Pools(vec![PoolUsage {
            name: "replica".into(),
            size,
            running: 0,
            queued: 0,
        }])
    };
    update(&mut s, pools(10), &k);
    let resize = |size| Effect::ResizePool {
        name: "replica".into(),
        size,
    };
    // `pool replica 1` is listed as the completion `pool replica 10`: typed wins.
    keys(&mut s, &k, &[":"]);
    type_text(&mut s, &k, "pool replica 1");
    assert_eq!(keys(&mut s, &k, &["enter"]), [resize(1)]);
    assert_eq!(s.modal, None);

    // A start of a command runs the highlighted completion.
    update(&mut s, pools(10), &k);
    keys(&mut s, &k, &[":"]);
    type_text(&mut s, &k, "po");
    keys(&mut s, &k, &["enter"]);
    assert_eq!(s.screen, Screen::Pools);
    keys(&mut s, &k, &[":"]);
    type_text(&mut s, &k, "theme li");
    assert_eq!(
        keys(&mut s, &k, &["enter"]),
        [Effect::SetTheme("light".into())]
    );

    // Moving the highlight chooses it, even over a whole command.
    keys(&mut s, &k, &[":"]);
    type_text(&mut s, &k, "pool");
    let fx = keys(&mut s, &k, &["down", "enter"]);
    assert_eq!(fx, [resize(10)], "pools, then pool replica 10");

    // The highlight stops at the last completion.
    keys(&mut s, &k, &[":"]);
    type_text(&mut s, &k, "theme");
    keys(&mut s, &k, &["down"; 20]);
    let fx = keys(&mut s, &k, &["up", "enter"]);
    assert_eq!(fx, [Effect::SetTheme("high-contrast".into())]);
}

#[test]
fn scrolling_a_followed_log_starts_from_its_tail() {
    let (mut s, k) = loaded(false);
    keys(&mut s, &k, &["enter"]);
    let lines = (1..=100)
        .map(|n| crate::engine::store::LogLine {
            attempt: 1,
            line_no: n,
            at: 0,
            line: format!("line {n}"),
        })
        .collect();
    update(
        &mut s,
        Msg::Logs {
            run_id: 2,
            task_id: "load".into(),
            attempt: 1,
            lines,
        },
        &k,
    );
    fn d(s: &State) -> super::state::Detail {
        s.detail.clone().expect("detail")
    }
    let area = super::view::log_area(&s).expect("a log pane at 80x24");
    let tail = super::view::tail_start(&d(&s), area);
    let page = usize::from(area.height) - 3;
    assert!(
        tail > 80,
        "the last lines are on screen while following: {tail}"
    );
    assert!(d(&s).follow);

    // Down at the end keeps following; up leaves the tail one line up.
    keys(&mut s, &k, &["down", "pagedown"]);
    assert!(d(&s).follow);
    keys(&mut s, &k, &["up"]);
    assert_eq!((d(&s).follow, d(&s).scroll), (false, tail - 1));
    keys(&mut s, &k, &["pageup"]);
    assert_eq!(d(&s).scroll, tail - 1 - page);
    // Down stops where the last line is at the bottom; `G` follows again.
    keys(&mut s, &k, &["pagedown", "pagedown", "down"]);
    assert_eq!((d(&s).follow, d(&s).scroll), (false, tail));
    keys(&mut s, &k, &["g"]);
    assert_eq!(d(&s).scroll, 0);
    keys(&mut s, &k, &["G"]);
    assert!(d(&s).follow);
    // Page up from the tail, too (the mouse wheel goes the same way).
    keys(&mut s, &k, &["pageup"]);
    assert_eq!((d(&s).follow, d(&s).scroll), (false, tail - page));
    update(&mut s, Msg::Scroll(-2), &k);
    assert_eq!(d(&s).scroll, tail - page - 2);
}

#[test]
fn the_journal_scrolls_and_starts_at_the_top_for_another_run() {
    let (mut s, k) = loaded(false);
    keys(&mut s, &k, &["3"]);
    let entry = |at| crate::engine::store::JournalEntry {
        at,
        who: "alice".into(),
        action: "note".into(),
        run_id: Some(2),
        tasks: Vec::new(),
        detail: Some("seen".into()),
    };
    let entries: Vec<_> = (0..5).map(entry).collect();
    let journal = |run_id, entries: &Vec<_>| Msg::Journal {
        run_id,
        entries: entries.clone(),
    };
    update(&mut s, journal(2, &entries), &k);
    keys(&mut s, &k, &["down", "down", "j"]);
    assert_eq!(s.journal_cursor, 3);
    keys(&mut s, &k, &["G", "down"]);
    assert_eq!(s.journal_cursor, 4);
    // A reload keeps the place; another run starts at its newest entry.
    update(&mut s, journal(2, &entries), &k);
    assert_eq!(s.journal_cursor, 4);
    update(&mut s, journal(1, &entries[..2].to_vec()), &k);
    assert_eq!(s.journal_cursor, 0);
}

#[test]
fn ctrl_c_closes_any_question_and_a_second_one_quits() {
    let (mut s, k) = loaded(false);
    for open in [&["R"][..], &["m"], &["n", "x"], &[":", "p"], &["?"]] {
        keys(&mut s, &k, open);
        assert!(s.modal.is_some(), "{open:?} opens nothing");
        assert_eq!(keys(&mut s, &k, &["ctrl-c"]), [], "{open:?}");
        assert_eq!(s.modal, None, "{open:?}");
        assert!(!s.quit);
    }
    assert_eq!(keys(&mut s, &k, &["ctrl-c"]), [Effect::Quit]);
}

#[test]
fn a_note_goes_to_the_journal() {
    let (mut s, k) = loaded(false);
    let fx = keys(&mut s, &k, &["n", "o", "k", "enter"]);
    assert_eq!(
        fx,
        [Effect::AddNote {
            run_id: 2,
            text: "ok".into()
        }]
    );
}

#[test]
fn store_changes_reload_what_is_visible_and_progress_gives_a_rate() {
    let (mut s, k) = loaded(false);
    let fx = update(
        &mut s,
        Msg::Changed {
            runs: vec![2],
            any_run: true,
            pools: false,
            journal: false,
            logs: vec![],
        },
        &k,
    );
    assert_eq!(fx, [Effect::LoadRuns, Effect::LoadRun(2)]);
    for (rows, at) in [(0, 10_000), (5_000, 12_000)] {
        update(
            &mut s,
            Msg::Progress {
                run_id: 2,
                task_id: "slow".into(),
                rows,
                bytes: rows * 10,
                total: Some(20_000),
                at,
            },
            &k,
        );
    }
    let r = s.rates[&(2, "slow".to_string())];
    assert_eq!(r.rows_per_s(), Some(2500.0));
    assert_eq!(r.eta_s(), Some(6.0));
    assert_eq!(
        s.tasks
            .iter()
            .find(|t| t.task_id == "slow")
            .and_then(|t| t.rows),
        Some(5_000)
    );
}

#[test]
fn a_rerun_task_gets_a_rate_of_its_own() {
    let (mut s, k) = loaded(false);
    let progress = |rows, at| Msg::Progress {
        run_id: 2,
        task_id: "slow".into(),
        rows,
        bytes: 0,
        total: Some(100_000),
        at,
    };
    let rate = |s: &State| s.rates[&(2, "slow".to_string())];
    update(&mut s, progress(0, 10_000), &k);
    update(&mut s, progress(60_000, 16_000), &k);
    assert_eq!(rate(&s).rows_per_s(), Some(10_000.0));
    // Cancelled and rerun before the console saw it stop: rows start over.
    update(&mut s, progress(1_000, 20_000), &k);
    update(&mut s, progress(5_000, 22_000), &k);
    assert_eq!(rate(&s).rows_per_s(), Some(2_000.0));
    assert_eq!(rate(&s).eta_s(), Some(47.5));
    // Seen stopped: the rate goes with the attempt.
    let mut tasks = s.tasks.clone();
    for t in &mut tasks {
        if t.task_id == "slow" {
            t.state = TaskState::Cancelled;
        }
    }
    update(
        &mut s,
        Msg::Run {
            run: run_row(2, RunState::Running),
            tasks,
        },
        &k,
    );
    assert!(!s.rates.contains_key(&(2, "slow".to_string())));
}

#[test]
fn nothing_redraws_on_a_tick_when_nothing_ages() {
    let keys = Keymap::builtin();
    let mut s = State::new("acme", false, "default", 0);
    s.dirty = false;
    update(&mut s, Msg::Tick(5_000), &keys);
    assert!(!s.dirty, "an idle console must not redraw");
}

#[test]
fn the_runs_list_takes_focus_and_selecting_a_run_loads_it() {
    let (mut s, k) = loaded(false);
    let fx = keys(&mut s, &k, &["tab", "down"]);
    assert_eq!(s.focus, Focus::Runs);
    assert_eq!(fx, [Effect::LoadRun(1)]);
}

#[test]
fn opened_with_run_and_task_the_console_shows_that_task_of_that_run() {
    let keys = Keymap::builtin();
    let mut s = State::new("acme", false, "default", 1_000);
    s.start_at = Some((1, Some("check".into())));
    let fx = update(
        &mut s,
        Msg::Runs(vec![
            run_row(2, RunState::Running),
            run_row(1, RunState::Failed),
        ]),
        &keys,
    );
    assert_eq!(
        fx,
        [Effect::LoadRun(1)],
        "the run asked for, not the newest"
    );
    let fx = update(
        &mut s,
        Msg::Run {
            run: run_row(1, RunState::Failed),
            tasks: vec![
                task(0, "load", TaskState::Failed, &[]),
                task(1, "check", TaskState::UpstreamFailed, &["load"]),
            ],
        },
        &keys,
    );
    assert_eq!(s.screen, Screen::Task);
    let d = s.detail.as_ref().expect("the task is open");
    assert_eq!((d.run_id, d.task_id.as_str()), (1, "check"));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::LoadDetail { task_id, .. } if task_id == "check")),
        "{fx:?}"
    );
    assert!(s.start_at.is_none(), "used once");
}

#[test]
fn a_forecast_is_kept_for_the_shown_run_and_a_resized_pool_reprojects_it() {
    use crate::engine::forecast::RunForecast;
    let (mut s, k) = loaded(false);
    let forecast = |run: i64| RunForecast {
        run_id: Some(run),
        pipeline: "nightly".into(),
        slot_at: None,
        deadline_at: Some(10_000),
        projected_at: Some(20_000),
        critical_path: vec!["slow".into()],
        blocked_by: Vec::new(),
        guessed: Vec::new(),
        at_risk: true,
        what_if: Vec::new(),
        tz: chrono_tz::Tz::UTC,
    };
    // Another run's late answer is dropped; the shown run's is kept.
    update(
        &mut s,
        Msg::Forecast {
            run_id: 1,
            forecast: Some(forecast(1)),
        },
        &k,
    );
    assert_eq!(s.forecast, None);
    update(
        &mut s,
        Msg::Forecast {
            run_id: 2,
            forecast: Some(forecast(2)),
        },
        &k,
    );
    assert_eq!(s.forecast.as_ref().and_then(|f| f.run_id), Some(2));
    let pool = |size: i64, running: i64| {
        Msg::Pools(vec![PoolUsage {
            name: "replica".into(),
            size,
            running,
            queued: 0,
        }])
    };
    assert!(
        update(&mut s, pool(2, 1), &k).contains(&Effect::LoadRun(2)),
        "a new pool size"
    );
    assert!(
        !update(&mut s, pool(2, 2), &k).contains(&Effect::LoadRun(2)),
        "only usage moved"
    );
    assert!(
        update(&mut s, pool(3, 2), &k).contains(&Effect::LoadRun(2)),
        "resized"
    );
    // The run done: its forecast goes.
    update(
        &mut s,
        Msg::Forecast {
            run_id: 2,
            forecast: None,
        },
        &k,
    );
    assert_eq!(s.forecast, None);
}
