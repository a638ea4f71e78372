//! Snapshots of the Timeline screen: run 7's incident (a failed load, its
//! page, a note, the rerun and the recovery), as the engine builds it.

use super::fixtures::*;
use super::*;
use crate::engine::state::RunState;
use crate::engine::timeline::tests::{M, T0, incident};
use crate::engine::timeline::{build, render};
use crate::tui::Msg;
use crate::tui::update::update;

fn render(state: &State, w: u16, h: u16) -> String {
    render_to_string(state, &theme(), &keys(), w, h)
}

fn on_timeline(cursor: usize) -> State {
    let mut s = State::new("acme-data", false, "default", T0 + 20 * M);
    // As after `t` on the runs screen: the run is the one selected.
    s.runs = vec![run(7, "nightly", "2026-12-07", RunState::Succeeded)];
    s.tasks_of = Some(7);
    s.screen = Screen::Timeline;
    s.timeline.run_id = Some(7);
    s.timeline.shown = Some(build(&incident(), T0 + 20 * M));
    s.timeline.cursor = cursor;
    s
}

#[test]
fn timeline_screen() {
    // The cursor on the failure: its error in full at the bottom.
    let s = on_timeline(5);
    insta::assert_snapshot!("timeline_80x24", render(&s, 80, 24));
    insta::assert_snapshot!("timeline_160x48", render(&s, 160, 48));
}

#[test]
fn the_screen_shows_the_same_entries_the_cli_prints() {
    let s = on_timeline(0);
    let screen = render(&s, 160, 48);
    let tl = s.timeline.shown.as_ref().expect("timeline");
    for line in render::text(tl, &chrono::Utc).lines().skip(1) {
        // `MM-DD HH:MM:SS  what  text`: the screen shows HH:MM:SS and the text.
        let (time, rest) = (&line[6..14], line[16..].trim_start());
        let text = rest.split_once("  ").map_or(rest, |(_, t)| t.trim_start());
        assert!(
            screen.contains(time) && screen.contains(text),
            "{line:?} not on\n{screen}"
        );
    }
}

#[test]
fn a_timeline_still_loading_says_so_and_small_sizes_do_not_panic() {
    let mut s = on_timeline(0);
    s.timeline.shown = None;
    assert!(render(&s, 80, 24).contains("loading…"));
    let s = on_timeline(999);
    for (w, h) in [(20, 5), (1, 1), (0, 0), (80, 3), (39, 12)] {
        render(&s, w, h);
    }
}

#[test]
fn the_footer_says_the_write_key() {
    let s = on_timeline(0);
    let text = render(&s, 80, 24);
    let footer = text.lines().last().unwrap_or_default();
    assert!(footer.contains("write .md"), "{footer}");
    // And after the write the path it wrote (what the runner answers).
    let mut s = s;
    let path = "/work/ws/.switchyard/timeline-run-7.md";
    update(
        &mut s,
        Msg::Done {
            ok: true,
            text: format!("wrote {path}"),
            at: T0 + 20 * M,
        },
        &keys(),
    );
    let text = render(&s, 80, 24);
    assert!(
        text.lines().last().unwrap_or_default().contains(path),
        "{text}"
    );
}
