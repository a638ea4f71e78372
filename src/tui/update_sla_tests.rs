//! Key flows of the SLA screen, through the real keymap.

use super::keymap::Keymap;
use super::state::{Effect, Modal, Msg, Screen, State};
use super::update::update;
use crate::engine::sla::{Report, compute};

fn press(s: &mut State, k: &Keymap, keys: &[&str]) -> Vec<Effect> {
    let mut fx = Vec::new();
    for key in keys {
        fx.extend(update(s, Msg::Key(key.to_string()), k));
    }
    fx
}

fn report(names: &[&str]) -> Report {
    let pipelines = names
        .iter()
        .map(|n| {
            compute(
                crate::engine::sla::PipelineRows {
                    pipeline: n.to_string(),
                    timezone: chrono_tz::UTC,
                    deadline: None,
                    slots: Vec::new(),
                    runs: Vec::new(),
                    alerts: Vec::new(),
                },
                0,
                1_000,
            )
        })
        .collect();
    Report {
        from: 0,
        to: 1_000,
        pipelines,
    }
}

fn changed(any_run: bool) -> Msg {
    Msg::Changed {
        runs: Vec::new(),
        any_run,
        pools: false,
        journal: false,
        logs: Vec::new(),
    }
}

#[test]
fn capital_s_opens_the_report_and_computes_it() {
    let k = Keymap::builtin();
    let mut s = State::new("acme", false, "default", 1_000);
    let fx = press(&mut s, &k, &["S"]);
    assert_eq!(s.screen, Screen::Sla);
    assert_eq!(fx, vec![Effect::LoadSla]);
    assert!(!s.sla.loaded);
    update(&mut s, Msg::Sla(report(&["a", "b", "c"])), &k);
    assert!(s.sla.loaded);
    press(&mut s, &k, &["down", "down", "down"]);
    assert_eq!(s.sla.cursor, 2, "the cursor stops at the last pipeline");
    press(&mut s, &k, &["g"]);
    assert_eq!(s.sla.cursor, 0);
    assert_eq!(press(&mut s, &k, &["r"]), vec![Effect::LoadSla]);
}

#[test]
fn a_shorter_report_keeps_the_cursor_on_a_pipeline() {
    let k = Keymap::builtin();
    let mut s = State::new("acme", false, "default", 1_000);
    press(&mut s, &k, &["S"]);
    update(&mut s, Msg::Sla(report(&["a", "b", "c"])), &k);
    press(&mut s, &k, &["G"]);
    update(&mut s, Msg::Sla(report(&["a"])), &k);
    assert_eq!(s.sla.cursor, 0);
}

#[test]
fn runs_changing_recompute_it_only_while_it_shows() {
    let k = Keymap::builtin();
    let mut s = State::new("acme", false, "default", 1_000);
    assert!(!update(&mut s, changed(true), &k).contains(&Effect::LoadSla));
    press(&mut s, &k, &["S"]);
    assert!(update(&mut s, changed(true), &k).contains(&Effect::LoadSla));
    assert!(!update(&mut s, changed(false), &k).contains(&Effect::LoadSla));
}

#[test]
fn the_palette_goes_there_too() {
    let k = Keymap::builtin();
    let mut s = State::new("acme", false, "default", 1_000);
    let mut fx = press(&mut s, &k, &[":", "s", "l", "a"]);
    assert!(matches!(s.modal, Some(Modal::Palette { .. })));
    fx.extend(press(&mut s, &k, &["enter"]));
    assert_eq!(s.screen, Screen::Sla);
    assert!(fx.contains(&Effect::LoadSla));
}
