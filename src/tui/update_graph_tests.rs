//! Key flows of the graph and backfill screens through the real keymap.

use serde_json::json;

use super::backfill::BackfillRequest;
use super::keymap::Keymap;
use super::state::{Effect, Focus, Msg, Screen, State};
use super::update::update;
use super::update_browse_tests::form;
use super::update_tests::{run_row, task};
use crate::engine::state::{RunState, TaskState};
use crate::engine::store::{BackfillRow, BackfillRun, InstanceRow};

fn press(s: &mut State, k: &Keymap, seq: &[&str]) -> Vec<Effect> {
    seq.iter()
        .flat_map(|key| update(s, Msg::Key(key.to_string()), k))
        .collect()
}

fn selected(s: &State) -> &str {
    s.selected_task().map_or("", |t| t.task_id.as_str())
}

/// a → b, a → c, b → d, c → d, d → e; plus a fan-out x.s.t1..t3 → load → e.
fn graph_state(readonly: bool) -> (State, Keymap) {
    let keys = Keymap::builtin();
    let mut s = State::new("acme", readonly, "default", 1_000);
    update(
        &mut s,
        Msg::Runs(vec![run_row(1, RunState::Running)]),
        &keys,
    );
    let fan = |ord: i64, id: &str, st: TaskState| -> InstanceRow {
        let mut t = task(ord, id, st, &[]);
        t.params = Some(json!({"parent": "x"}));
        t
    };
    let tasks = vec![
        task(0, "a", TaskState::Succeeded, &[]),
        task(1, "b", TaskState::Succeeded, &["a"]),
        task(2, "c", TaskState::Failed, &["a"]),
        task(3, "d", TaskState::UpstreamFailed, &["b", "c"]),
        fan(4, "x.s.t1", TaskState::Succeeded),
        fan(5, "x.s.t2", TaskState::Failed),
        fan(6, "x.s.t3", TaskState::Succeeded),
        task(
            7,
            "load",
            TaskState::UpstreamFailed,
            &["x.s.t1", "x.s.t2", "x.s.t3"],
        ),
        task(8, "e", TaskState::Pending, &["d", "load"]),
    ];
    update(
        &mut s,
        Msg::Run {
            run: run_row(1, RunState::Running),
            tasks,
        },
        &keys,
    );
    (s, keys)
}

#[test]
fn arrows_walk_the_graph_and_select_the_task_everywhere() {
    let (mut s, k) = graph_state(false);
    press(&mut s, &k, &["7"]);
    assert_eq!(s.screen, Screen::Graph);
    // The cursor starts where the runs screen put it: the first failed task.
    assert_eq!(selected(&s), "c");
    press(&mut s, &k, &["left"]);
    assert_eq!(selected(&s), "a", "left goes to the upstream");
    press(&mut s, &k, &["right"]);
    let first = selected(&s).to_string();
    assert!(first == "b" || first == "c", "{first}");
    press(&mut s, &k, &["down"]);
    let second = selected(&s).to_string();
    assert!(second != first && (second == "b" || second == "c" || second == "x.s.t2"));
    press(&mut s, &k, &["G"]);
    press(&mut s, &k, &["g"]);
    assert_eq!(selected(&s), first, "g is the top of the column");
    // Right twice from a: d (downstream of b and c), then e.
    press(&mut s, &k, &["h", "l", "l"]);
    assert_eq!(selected(&s), "d");
    press(&mut s, &k, &["l"]);
    assert_eq!(selected(&s), "e");
    press(&mut s, &k, &["l"]);
    assert_eq!(selected(&s), "e", "nothing right of the last column");
    // The runs screen has the same task under its cursor.
    press(&mut s, &k, &["1"]);
    assert_eq!(s.screen, Screen::Runs);
    assert_eq!(selected(&s), "e");
    assert_eq!(s.focus, Focus::Tasks);
}

#[test]
fn a_folded_fan_out_is_one_node_that_space_or_enter_unfolds() {
    let (mut s, k) = graph_state(false);
    press(&mut s, &k, &["7"]);
    // Left of `load` is the folded fan-out, standing for its failed member.
    // Down a column, else right to the next: bounded, so a cursor that
    // never reaches `load` fails instead of looping forever.
    let mut path = vec![selected(&s).to_string()];
    for _ in 0..20 {
        if selected(&s) == "load" {
            break;
        }
        let before = selected(&s).to_string();
        press(&mut s, &k, &["down"]);
        if selected(&s) == before {
            press(&mut s, &k, &["right"]);
        }
        path.push(selected(&s).to_string());
    }
    assert_eq!(selected(&s), "load", "the cursor went {path:?}");
    press(&mut s, &k, &["left"]);
    assert_eq!(selected(&s), "x.s.t2", "a fan-out selects its worst member");
    let g = crate::tui::graph::build(&s.tasks, &s.graph.expanded);
    assert_eq!(g.nodes.len(), 7);
    // Enter on a folded fan-out unfolds it rather than opening a task.
    let fx = press(&mut s, &k, &["enter"]);
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(s.screen, Screen::Graph);
    assert!(s.graph.expanded.contains("x"));
    assert_eq!(
        crate::tui::graph::build(&s.tasks, &s.graph.expanded)
            .nodes
            .len(),
        9
    );
    assert_eq!(selected(&s), "x.s.t2");
    press(&mut s, &k, &["down"]);
    assert_eq!(selected(&s), "x.s.t3");
    // Space on a member folds its fan-out back.
    press(&mut s, &k, &["space"]);
    assert!(!s.graph.expanded.contains("x"));
    press(&mut s, &k, &["space"]);
    assert!(s.graph.expanded.contains("x"));
    // Space on a plain task says why nothing happens.
    press(&mut s, &k, &["right", "space"]);
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("not part of a fan-out"))
    );
}

#[test]
fn enter_opens_the_task_and_esc_comes_back_to_the_graph() {
    let (mut s, k) = graph_state(false);
    press(&mut s, &k, &["7"]);
    let fx = press(&mut s, &k, &["enter"]);
    assert_eq!(s.screen, Screen::Task);
    assert!(matches!(&fx[0], Effect::LoadDetail { task_id, .. } if task_id == "c"));
    press(&mut s, &k, &["esc"]);
    assert_eq!(s.screen, Screen::Graph);
    // From the runs screen, Esc still goes back to the runs.
    press(&mut s, &k, &["1", "enter", "esc"]);
    assert_eq!(s.screen, Screen::Runs);
    // `v` on the runs screen is the graph too, and so is `:graph`.
    press(&mut s, &k, &["v"]);
    assert_eq!(s.screen, Screen::Graph);
    press(&mut s, &k, &["1", ":", "g", "r", "enter"]);
    assert_eq!(s.screen, Screen::Graph);
    let fx = press(&mut s, &k, &[":", "b", "a", "c", "k", "enter"]);
    assert_eq!(s.screen, Screen::Backfill);
    assert_eq!(fx, [Effect::LoadBackfill(None)]);
}

fn backfill_row(id: i64) -> BackfillRow {
    BackfillRow {
        id,
        pipeline: "nightly".into(),
        from_date: "2026-11-19".into(),
        to_date: "2026-11-21".into(),
        max_active: 2,
        created_at: 0,
    }
}

fn bf_run(id: i64, date: &str, state: RunState) -> BackfillRun {
    let mut run = run_row(id, state);
    run.run_date = date.into();
    run.backfill_id = Some(3);
    BackfillRun {
        run,
        counts: vec![(TaskState::Succeeded, 3)],
    }
}

#[test]
fn the_backfill_form_validates_then_starts_a_backfill_and_shows_it() {
    let (mut s, k) = graph_state(false);
    s.backfill.pipelines = vec![("nightly".into(), Some(2)), ("hourly".into(), None)];
    // 2026-11-22 in ms: the form offers the three days before.
    s.now = 1_795_336_000_000;
    let fx = press(&mut s, &k, &["8"]);
    assert_eq!(fx, [Effect::LoadBackfill(None)]);
    press(&mut s, &k, &["n"]);
    let values = |s: &State| {
        let f = form(s);
        ["pipeline", "from", "to", "max_active"].map(|n| f.value(n).to_string())
    };
    assert_eq!(values(&s), ["nightly", "2026-11-19", "2026-11-21", "2"]);
    assert_eq!(form(&s).title, "New backfill");
    assert_eq!(
        form(&s).note.as_deref(),
        Some("3 runs: 2026-11-19 … 2026-11-21, 2 at once")
    );
    let focused = |s: &State| form(s).fields[form(s).focus].name;
    assert_eq!(focused(&s), "from", "the dates are what people change");

    // A bad date: Enter keeps the form open and names the field.
    press(&mut s, &k, &["backspace", "backspace", "3", "2"]);
    let fx = press(&mut s, &k, &["tab", "enter"]);
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(values(&s)[1], "2026-11-32");
    assert_eq!(focused(&s), "from", "the focus goes back to the bad field");
    assert!(
        form(&s)
            .error
            .as_deref()
            .is_some_and(|e| e.contains("not a date")),
        "{:?}",
        form(&s).error
    );
    assert_eq!(form(&s).note, None);
    // From after to, then max active 0: each refused in turn.
    press(&mut s, &k, &["backspace", "backspace", "2", "5", "enter"]);
    assert_eq!(focused(&s), "to", "{:?}", form(&s).error);
    assert!(
        form(&s)
            .error
            .as_deref()
            .is_some_and(|e| e.contains("before"))
    );
    press(&mut s, &k, &["up", "ctrl-u"]);
    for c in "2026-11-19".chars() {
        press(&mut s, &k, &[&c.to_string()]);
    }
    press(&mut s, &k, &["down", "down", "ctrl-u", "0", "enter"]);
    assert_eq!(focused(&s), "max_active");
    // An edit clears the error; Ctrl-U and a new value.
    press(&mut s, &k, &["ctrl-u", "2"]);
    assert_eq!(form(&s).error, None);
    // Right on the pipeline field picks the next pipeline; max active keeps
    // what was typed.
    press(&mut s, &k, &["tab", "right"]);
    assert_eq!(focused(&s), "pipeline");
    assert_eq!(values(&s)[0], "hourly");
    assert_eq!(values(&s)[3], "2");
    press(&mut s, &k, &["tab", "tab", "tab", "ctrl-u", "1"]);

    let fx = press(&mut s, &k, &["enter"]);
    assert_eq!(
        fx,
        [Effect::StartBackfill(BackfillRequest {
            pipeline: "hourly".into(),
            dates: vec![
                "2026-11-19".into(),
                "2026-11-20".into(),
                "2026-11-21".into()
            ],
            max_active: 1,
        })]
    );
    assert!(s.modal.is_none());
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text == "starting a backfill of hourly: 3 dates…"),
        "{:?}",
        s.flash
    );

    // The runner answers: the new backfill is shown, and reread as runs change.
    let fx = update(&mut s, Msg::BackfillStarted(3), &k);
    assert_eq!(fx, [Effect::LoadBackfill(Some(3))]);
    assert_eq!(s.screen, Screen::Backfill);
    update(
        &mut s,
        Msg::Backfills {
            list: vec![backfill_row(3), backfill_row(2)],
            shown: Some((
                backfill_row(3),
                vec![
                    bf_run(7, "2026-11-19", RunState::Succeeded),
                    bf_run(8, "2026-11-20", RunState::Running),
                    bf_run(9, "2026-11-21", RunState::Queued),
                ],
            )),
        },
        &k,
    );
    let fx = update(
        &mut s,
        Msg::Changed {
            runs: vec![8],
            any_run: true,
            pools: false,
            journal: false,
            logs: Vec::new(),
        },
        &k,
    );
    assert!(fx.contains(&Effect::LoadBackfill(Some(3))), "{fx:?}");
    // `]` is the older backfill.
    assert_eq!(press(&mut s, &k, &["]"]), [Effect::LoadBackfill(Some(2))]);
    assert!(press(&mut s, &k, &["["]).is_empty(), "3 is the newest");
}

#[test]
fn the_backfill_forms_max_active_follows_the_pipeline_until_typed() {
    let (mut s, k) = graph_state(false);
    s.backfill.pipelines = vec![("nightly".into(), Some(2)), ("hourly".into(), None)];
    press(&mut s, &k, &["8", "n", "up", "right"]);
    assert_eq!(form(&s).value("pipeline"), "hourly");
    assert_eq!(form(&s).value("max_active"), "1", "hourly has none: 1");
    press(&mut s, &k, &["left"]);
    assert_eq!(form(&s).value("max_active"), "2");
    assert!(
        form(&s)
            .note
            .as_deref()
            .is_some_and(|n| n.ends_with("2 at once"))
    );
    press(&mut s, &k, &["esc"]);
    assert!(s.modal.is_none());
    // No pipeline: said, and no form.
    s.backfill.pipelines.clear();
    press(&mut s, &k, &["n"]);
    assert!(s.modal.is_none());
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("no pipeline"))
    );
}

#[test]
fn enter_on_a_date_opens_its_run_in_the_runs_screen() {
    let (mut s, k) = graph_state(false);
    s.runs.push(run_row(8, RunState::Running));
    s.screen = Screen::Backfill;
    update(
        &mut s,
        Msg::Backfills {
            list: vec![backfill_row(3)],
            shown: Some((
                backfill_row(3),
                vec![
                    bf_run(7, "2026-11-19", RunState::Succeeded),
                    bf_run(8, "2026-11-20", RunState::Running),
                ],
            )),
        },
        &k,
    );
    press(&mut s, &k, &["down", "down"]);
    assert_eq!(s.backfill.cursor, 1);
    let fx = press(&mut s, &k, &["enter"]);
    assert_eq!(s.screen, Screen::Runs);
    assert_eq!(s.selected_run().map(|r| r.id), Some(8));
    assert_eq!(fx, [Effect::LoadRun(8)]);
    // A run not in the runs list: said, not silently ignored.
    s.screen = Screen::Backfill;
    press(&mut s, &k, &["up", "enter"]);
    assert_eq!(s.screen, Screen::Backfill);
    assert!(s.flash.as_ref().is_some_and(|f| f.text.contains("run 7")));
}

#[test]
fn read_only_refuses_the_backfill_form() {
    let (mut s, k) = graph_state(true);
    s.backfill.pipelines = vec![("nightly".into(), None)];
    for screen_key in ["8", "1"] {
        press(&mut s, &k, &[screen_key]);
        let key = if screen_key == "8" { "n" } else { "B" };
        s.flash = None;
        let fx = press(&mut s, &k, &[key]);
        assert!(fx.is_empty());
        assert!(s.modal.is_none(), "{:?}", s.modal);
        assert_eq!(
            s.flash.as_ref().map(|f| f.text.as_str()),
            Some(crate::tui::action::read_only_refusal("start a backfill").as_str()),
            "{key}"
        );
    }
}

#[test]
fn the_picture_pans_to_the_cursor_and_stays_put_while_it_is_in_view() {
    let (mut s, k) = graph_state(false);
    // A canvas of 28×4 cells: much smaller than the graph.
    update(&mut s, Msg::Resize(30, 8), &k);
    press(&mut s, &k, &["7", "h"]);
    assert_eq!(selected(&s), "a");
    assert_eq!(s.graph.offset, (0, 0));
    press(&mut s, &k, &["l", "l", "l"]);
    assert_eq!(selected(&s), "e");
    let panned = s.graph.offset;
    assert!(panned.0 > 0, "the picture did not pan right: {panned:?}");
    // One column back is still on screen: nothing moves.
    press(&mut s, &k, &["h"]);
    assert_eq!(selected(&s), "d");
    // (d sits at columns 28–32, inside the view at 13–40.)
    let g = crate::tui::graph::build(&s.tasks, &s.graph.expanded);
    let d = g.layout.nodes[g.node_of_task(s.task_cursor).unwrap_or(0)];
    assert!(
        d.x >= panned.0 && d.x + d.w <= panned.0 + 28,
        "{d:?} {panned:?}"
    );
    assert_eq!(s.graph.offset, panned);
    // Back to the first column: the picture follows.
    press(&mut s, &k, &["h", "h"]);
    assert_eq!(selected(&s), "a");
    assert_eq!(s.graph.offset.0, 0);
}

#[test]
fn a_running_backfill_on_screen_keeps_its_clock_ticking() {
    let (mut s, k) = graph_state(false);
    // The run on the runs screen has a running task: stop that one.
    s.tasks.clear();
    assert!(!s.needs_clock());
    s.screen = Screen::Backfill;
    update(
        &mut s,
        Msg::Backfills {
            list: vec![backfill_row(3)],
            shown: Some((
                backfill_row(3),
                vec![bf_run(8, "2026-11-20", RunState::Running)],
            )),
        },
        &k,
    );
    assert!(s.needs_clock(), "the running date's time would freeze");
    s.backfill.runs[0].run.state = RunState::Succeeded;
    assert!(!s.needs_clock());
}
