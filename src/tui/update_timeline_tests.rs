//! The Timeline screen's flow through the real keymap: `t` opens the run on
//! screen, Esc goes back where it was pressed, the store's changes reload
//! it, `w` asks the runner to write it.

use super::state::{Effect, Msg, Screen};
use super::update::update;
use super::update_tests::{keys, loaded};
use crate::engine::timeline::build;
use crate::engine::timeline::tests::{M, T0, incident};

fn timeline_of(run_id: i64) -> Msg {
    let mut rows = incident();
    rows.run.id = run_id;
    Msg::Timeline {
        run_id,
        timeline: build(&rows, T0 + 20 * M),
    }
}

#[test]
fn t_on_the_runs_screen_opens_the_runs_timeline_and_esc_comes_back() {
    let (mut s, k) = loaded(false);
    let fx = keys(&mut s, &k, &["t"]);
    assert_eq!(s.screen, Screen::Timeline);
    assert_eq!(fx, [Effect::LoadTimeline(2)]);
    update(&mut s, timeline_of(2), &k);
    assert_eq!(s.timeline.shown.as_ref().map(|t| t.run_id), Some(2));
    keys(&mut s, &k, &["esc"]);
    assert_eq!(s.screen, Screen::Runs);
}

#[test]
fn t_on_the_task_screen_goes_back_to_the_open_task() {
    let (mut s, k) = loaded(false);
    keys(&mut s, &k, &["enter"]);
    assert_eq!(s.screen, Screen::Task);
    let fx = keys(&mut s, &k, &["t"]);
    assert_eq!(fx, [Effect::LoadTimeline(2)]);
    keys(&mut s, &k, &["esc"]);
    assert_eq!(s.screen, Screen::Task);
    assert_eq!(
        s.detail.as_ref().map(|d| d.task_id.as_str()),
        Some("load"),
        "the task is still open"
    );
}

#[test]
fn an_answer_for_another_run_is_dropped() {
    let (mut s, k) = loaded(false);
    keys(&mut s, &k, &["t"]);
    update(&mut s, timeline_of(1), &k);
    assert_eq!(s.timeline.shown, None);
}

#[test]
fn the_cursor_scrolls_within_the_entries() {
    let (mut s, k) = loaded(false);
    keys(&mut s, &k, &["t"]);
    update(&mut s, timeline_of(2), &k);
    let n = s.timeline.shown.as_ref().map_or(0, |t| t.entries.len());
    assert!(n > 3);
    keys(&mut s, &k, &["j", "j"]);
    assert_eq!(s.timeline.cursor, 2);
    keys(&mut s, &k, &["G"]);
    assert_eq!(s.timeline.cursor, n - 1);
    keys(&mut s, &k, &["pagedown", "down"]);
    assert_eq!(s.timeline.cursor, n - 1, "stops at the last entry");
    keys(&mut s, &k, &["pageup", "g"]);
    assert_eq!(s.timeline.cursor, 0);
}

#[test]
fn changes_to_the_run_reload_it_and_others_do_not() {
    let (mut s, k) = loaded(false);
    keys(&mut s, &k, &["t"]);
    let changed = |runs: Vec<i64>| Msg::Changed {
        runs,
        any_run: true,
        pools: false,
        journal: true,
        logs: Vec::new(),
    };
    let fx = update(&mut s, changed(vec![2]), &k);
    assert!(fx.contains(&Effect::LoadTimeline(2)), "{fx:?}");
    let fx = update(&mut s, changed(vec![1]), &k);
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::LoadTimeline(_))),
        "{fx:?}"
    );
}

#[test]
fn w_writes_the_timeline_even_in_a_read_only_console() {
    // Writing a file of one's own changes nothing in the store.
    let (mut s, k) = loaded(true);
    keys(&mut s, &k, &["t"]);
    let fx = keys(&mut s, &k, &["w"]);
    assert_eq!(fx, [Effect::WriteTimeline(2)]);
}
