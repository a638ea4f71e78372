//! Snapshots of the backfill screen and its form.

use super::super::fixtures::{NOW, keys, run, theme};
use super::super::render_to_string;
use crate::engine::state::{RunState, TaskState};
use crate::engine::store::{BackfillRow, BackfillRun};
use crate::tui::State;
use crate::tui::state::{Modal, Msg, Screen};
use crate::tui::update::update;

const S: i64 = 1000;

fn both(name: &str, s: &State) {
    for (w, h) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(
            format!("{name}_{w}x{h}"),
            render_to_string(s, &theme(), &keys(), w, h)
        );
    }
}

fn row(id: i64) -> BackfillRow {
    BackfillRow {
        id,
        pipeline: "nightly_export".into(),
        from_date: "2024-04-24".into(),
        to_date: "2024-04-30".into(),
        max_active: 2,
        created_at: NOW - 3600 * S,
    }
}

/// A week of backfill: four days done (one failed), two running, one queued.
fn backfilling() -> State {
    use TaskState::*;
    let mut s = State::new("acme-data", false, "default", NOW);
    s.screen = Screen::Backfill;
    s.runs = vec![run(42, "nightly_export", "2024-05-01", RunState::Running)];
    s.backfill.pipelines = vec![
        ("nightly_export".into(), Some(2)),
        ("hourly_sync".into(), None),
    ];
    s.backfill.list = vec![row(3), row(2), row(1)];
    s.backfill.shown = Some(row(3));
    s.backfill.loaded = true;
    let day = |i: i64, state: RunState, counts: Vec<(TaskState, i64)>| {
        let mut r = run(
            60 + i,
            "nightly_export",
            &format!("2024-04-{:02}", 24 + i),
            state,
        );
        r.backfill_id = Some(3);
        r.started_at = Some(NOW - (3000 - 400 * i) * S);
        r.finished_at = state
            .is_live()
            .then_some(())
            .map_or(Some(NOW - (2700 - 400 * i) * S), |_| None);
        if state == RunState::Queued {
            r.started_at = None;
        }
        BackfillRun { run: r, counts }
    };
    s.backfill.runs = vec![
        day(0, RunState::Succeeded, vec![(Succeeded, 14)]),
        day(1, RunState::Succeeded, vec![(Succeeded, 14)]),
        day(
            2,
            RunState::Failed,
            vec![(Succeeded, 11), (Failed, 1), (UpstreamFailed, 2)],
        ),
        day(3, RunState::Succeeded, vec![(Succeeded, 13), (Skipped, 1)]),
        day(
            4,
            RunState::Running,
            vec![(Succeeded, 6), (Running, 2), (Pending, 6)],
        ),
        day(
            5,
            RunState::Running,
            vec![(Succeeded, 2), (Running, 1), (Queued, 1), (Pending, 10)],
        ),
        day(6, RunState::Queued, vec![(Pending, 14)]),
    ];
    s.backfill.cursor = 2;
    s
}

#[test]
fn backfill_screen() {
    let s = backfilling();
    let text = render_to_string(&s, &theme(), &keys(), 80, 24);
    assert!(
        text.contains("7 dates: ✗ 1 failed  ▶ 2 running  … 1 queued  ✓ 3 succeeded"),
        "{text}"
    );
    assert!(text.contains("1 of 3"), "{text}");
    both("backfill", &s);
}

/// Keys through `update`, as the console gets them.
fn press(s: &mut State, keys_: &[&str]) {
    for k in keys_ {
        update(s, Msg::Key(k.to_string()), &keys());
    }
}

fn type_text(s: &mut State, text: &str) {
    for c in text.chars() {
        press(s, &[&c.to_string()]);
    }
}

#[test]
fn backfill_form_with_a_validation_error() {
    let mut s = backfilling();
    // The form as `n` opens it; the dates typed in, the bad one refused.
    press(&mut s, &["n", "ctrl-u"]);
    type_text(&mut s, "2024-04-31");
    press(&mut s, &["tab", "ctrl-u"]);
    type_text(&mut s, "2024-04-30");
    press(&mut s, &["enter"]);
    assert!(matches!(s.modal, Some(Modal::Form(_))), "{:?}", s.modal);
    both("backfill_form_error", &s);
    // Valid: the form says what Enter starts.
    press(&mut s, &["backspace", "backspace"]);
    type_text(&mut s, "20");
    let text = render_to_string(&s, &theme(), &keys(), 80, 24);
    assert!(
        text.contains("11 runs: 2024-04-20 … 2024-04-30, 2 at once"),
        "{text}"
    );
}

#[test]
fn no_backfills_yet_says_how_to_start_one_and_small_sizes_draw() {
    let mut s = State::new("acme-data", false, "default", NOW);
    s.screen = Screen::Backfill;
    assert!(render_to_string(&s, &theme(), &keys(), 80, 24).contains("Loading backfills"));
    s.backfill.loaded = true;
    let text = render_to_string(&s, &theme(), &keys(), 80, 24);
    assert!(text.contains("press n to start one"), "{text}");
    s.readonly = true;
    assert!(!render_to_string(&s, &theme(), &keys(), 80, 24).contains("press n"));
    let mut s = backfilling();
    press(&mut s, &["n"]);
    for (w, h) in [(1, 1), (20, 5), (39, 12), (300, 100)] {
        render_to_string(&s, &theme(), &keys(), w, h);
    }
}

#[test]
fn a_click_on_a_date_selects_it() {
    use super::super::{Hit, hit_test};
    let mut s = backfilling();
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        s.size = (w, h);
        let text = render_to_string(&s, &theme(), &keys(), w, h);
        let y = text
            .lines()
            .position(|l| l.contains("2024-04-28"))
            .expect("the date is drawn") as u16;
        assert_eq!(hit_test(&s, 20, y), Some(Hit::BackfillRun(4)));
        assert_eq!(hit_test(&s, 20, 3), None, "the summary is no row");
    }
}
