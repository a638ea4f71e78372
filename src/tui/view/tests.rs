//! Snapshots of every screen at 80×24 (the smallest supported) and 160×48,
//! plus checks that no size or theme makes drawing panic.

use ratatui::layout::Position;

use super::fixtures::*;
use super::*;
use crate::engine::request::{Request, RerunSelection};
use crate::engine::state::TaskState;
use crate::tui::state::{Confirm, Effect, Flash, Focus, InputPurpose};

fn render(state: &State, w: u16, h: u16) -> String {
    render_to_string(state, &theme(), &keys(), w, h)
}

fn both(name: &str, state: &State) {
    insta::assert_snapshot!(format!("{name}_80x24"), render(state, 80, 24));
    insta::assert_snapshot!(format!("{name}_160x48"), render(state, 160, 48));
}

#[test]
fn runs_screen() {
    let mut s = incident();
    s.flash = Some(Flash {
        ok: true,
        text: "rerun of export_users requested".into(),
        until: NOW + 5000,
    });
    both("runs", &s);
}

#[test]
fn runs_screen_with_the_runs_list_focused_and_many_tasks() {
    let mut s = incident();
    for i in 0..30 {
        s.tasks.push(task(
            42,
            &format!("copy_table_{i:02}"),
            TaskState::Succeeded,
            10 + i,
        ));
    }
    s.focus = Focus::Runs;
    s.run_cursor = 1;
    // The cursor far down: the table scrolls to keep it visible.
    s.task_cursor = 30;
    insta::assert_snapshot!(render(&s, 80, 24));
}

#[test]
fn read_only_header() {
    let mut s = incident();
    s.readonly = true;
    let text = render(&s, 80, 24);
    let first = text.lines().next().unwrap_or("");
    assert!(first.ends_with("READ-ONLY"), "{first}");
    insta::assert_snapshot!(text);
}

#[test]
fn task_screen_with_runbook() {
    both("task_runbook", &task_screen(true));
}

#[test]
fn task_screen_without_runbook() {
    let mut s = task_screen(false);
    if let Some(d) = &mut s.detail {
        d.follow = false;
        d.scroll = 5;
        d.search = None;
    }
    insta::assert_snapshot!(render(&s, 80, 24));
}

#[test]
fn pools_screen() {
    let mut s = incident();
    s.screen = Screen::Pools;
    both("pools", &s);
}

#[test]
fn journal_screen() {
    let mut s = incident();
    s.screen = Screen::Journal;
    s.journal = journal();
    s.journal_of = Some(42);
    both("journal", &s);
}

#[test]
fn the_journal_wraps_notes_and_says_requests_in_words() {
    let mut s = incident();
    s.screen = Screen::Journal;
    s.journal_of = Some(42);
    let mut j = journal();
    j[2].detail = Some(
        "Cancelled load_users because the replica was overloaded; marked it skipped \
         so the rest of the night can go on. Will rerun at 9."
            .into(),
    );
    j[1].detail =
        Some(r#"{"kind":"rerun","task":"export_users","downstream":true,"upstream":false,"failed":false}"#.into());
    s.journal = j;
    let text = render(&s, 80, 24);
    let flat: String = text
        .lines()
        .flat_map(|l| l.trim_matches(|c| c == '│' || c == ' ').split_whitespace())
        .collect::<Vec<_>>()
        .join(" ");
    for word in ["overloaded;", "night", "Will rerun at 9."] {
        assert!(flat.contains(word), "{word} is cut off:\n{text}");
    }
    assert!(flat.contains("export_users with everything"), "{text}");
    assert!(!text.contains("\"kind\""), "raw JSON on screen:\n{text}");
}

#[test]
fn a_pending_task_without_a_stored_reason_names_its_upstream() {
    let mut s = incident();
    // As after a rerun: the reason is reset until an owner writes it.
    let pending = s
        .tasks
        .iter_mut()
        .find(|t| t.task_id == "load_orders")
        .expect("load_orders");
    pending.waiting_on = None;
    pending.upstream = vec!["export_orders".into(), "export_products".into()];
    let text = render(&s, 160, 48);
    let row = text
        .lines()
        .find(|l| l.contains("load_orders"))
        .unwrap_or_default();
    // export_products succeeded: only export_orders is waited on.
    assert!(row.contains("waiting on export_orders"), "{text}");
    assert!(!row.contains("export_products"), "{row}");
}

#[test]
fn help_that_does_not_fit_says_how_much_is_hidden() {
    let mut s = task_screen(true);
    s.modal = Some(Modal::Help);
    let small = render(&s, 50, 14);
    assert!(
        small.contains("more: a taller window shows them"),
        "{small}"
    );
    let full = render(&s, 80, 24);
    assert!(!full.contains("taller window"), "{full}");
}

#[test]
fn help_of_every_screen_fits_80x24_between_header_and_footer() {
    use crate::tui::action::Screen;
    for screen in [
        Screen::Runs,
        Screen::Task,
        Screen::Pools,
        Screen::Journal,
        Screen::Sources,
        Screen::Stores,
        Screen::Warehouse,
        Screen::Graph,
        Screen::Backfill,
        Screen::Timeline,
    ] {
        let mut s = incident();
        s.screen = screen;
        s.modal = Some(Modal::Help);
        let text = render(&s, 80, 24);
        assert!(!text.contains("taller window"), "{screen:?}:\n{text}");
        assert!(
            text.starts_with(" acme-data"),
            "{screen:?}: no header\n{text}"
        );
        assert!(text.contains("Screens: 1 runs"), "{screen:?}:\n{text}");
        assert!(text.contains("8 backfills"), "{screen:?}:\n{text}");
        // No key or description cut short.
        let help = text
            .lines()
            .skip_while(|l| !l.starts_with("┌ Help"))
            .take_while(|l| !l.starts_with('└'));
        assert!(
            !help.into_iter().any(|l| l.contains('…')),
            "{screen:?}:\n{text}"
        );
    }
}

#[test]
fn help_overlay() {
    let mut s = incident();
    s.modal = Some(Modal::Help);
    both("help", &s);
}

#[test]
fn confirm_overlay_with_a_running_task_to_cancel() {
    let mut s = incident();
    let tasks = vec![
        ("export_users".to_string(), TaskState::Failed),
        ("load_users".to_string(), TaskState::UpstreamFailed),
        ("export_orders".to_string(), TaskState::Running),
        ("load_orders".to_string(), TaskState::Pending),
    ];
    let request = Request::Rerun(RerunSelection {
        task: Some("export_users".into()),
        downstream: true,
        ..RerunSelection::default()
    });
    s.modal = Some(Modal::Confirm(Confirm {
        title: "Rerun export_users and downstream".into(),
        run_id: 42,
        tasks,
        cancel_first: vec!["export_orders".into()],
        effect: Effect::CancelThenRerun {
            run_id: 42,
            cancel: vec!["export_orders".into()],
            request,
        },
        scroll: 0,
    }));
    both("confirm", &s);
}

#[test]
fn a_confirmation_for_one_task_reads_as_one() {
    let mut s = incident();
    s.modal = Some(Modal::Confirm(Confirm {
        title: "Cancel export_orders".into(),
        run_id: 42,
        tasks: vec![("export_orders".to_string(), TaskState::Running)],
        cancel_first: Vec::new(),
        effect: Effect::Request {
            run_id: 42,
            request: Request::Cancel {
                task: Some("export_orders".into()),
            },
        },
        scroll: 0,
    }));
    let text = render(&s, 80, 24);
    assert!(text.contains("This task of run 42 is cancelled:"), "{text}");
    assert!(!text.contains("these 1 task"), "{text}");
}

#[test]
fn palette_with_completions() {
    let mut s = incident();
    s.modal = Some(Modal::Palette {
        input: "p".into(),
        selected: 1,
    });
    insta::assert_snapshot!(render(&s, 80, 24));
    assert_eq!(
        palette_completions(&s, "p"),
        ["pools", "pool replica 2", "pool warehouse 4"]
    );
    assert_eq!(palette_completions(&s, " THEME h"), ["theme high-contrast"]);
    assert_eq!(
        palette_completions(&s, "").len(),
        10 + 2 + BUNDLED_THEMES + 1
    );
    assert_eq!(palette_completions(&s, "g"), ["graph"]);
    assert_eq!(palette_completions(&s, "ba"), ["backfills"]);
    assert!(palette_completions(&s, "zzz").is_empty());
}

const BUNDLED_THEMES: usize = crate::tui::theme::BUNDLED.len();

#[test]
fn the_palette_says_how_many_completions_are_below() {
    let mut s = incident();
    let all = palette_completions(&s, "").len();
    assert!(all > 8, "{all} completions fit: nothing to test");
    s.modal = Some(Modal::Palette {
        input: String::new(),
        selected: 0,
    });
    let text = render(&s, 80, 24);
    assert!(text.contains(&format!(" {} more ↓ ", all - 8)), "{text}");
    s.modal = Some(Modal::Palette {
        input: String::new(),
        selected: all - 1,
    });
    let text = render(&s, 80, 24);
    assert!(!text.contains("more ↓"), "{text}");
    assert!(text.contains(" q "), "the last one is shown:\n{text}");
}

#[test]
fn mark_choice_and_input_boxes() {
    let mut s = incident();
    s.modal = Some(Modal::MarkChoice {
        run_id: 42,
        task_id: "export_users".into(),
    });
    let text = render(&s, 80, 24);
    assert!(
        text.contains("s ✓ succeeded  ·  k ⤼ skipped  ·  Esc"),
        "{text}"
    );
    s.modal = Some(Modal::Input {
        purpose: InputPurpose::Note,
        text: "replica lagging, waiting".into(),
    });
    insta::assert_snapshot!(render(&s, 80, 24));
    s.modal = Some(Modal::Input {
        purpose: InputPurpose::Search,
        text: "timeout".into(),
    });
    assert!(render(&s, 80, 24).contains("Search log"));
}

#[test]
fn tiny_and_odd_sizes_do_not_panic() {
    let screens = [Screen::Runs, Screen::Task, Screen::Pools, Screen::Journal];
    let modals = [
        None,
        Some(Modal::Help),
        Some(Modal::Palette {
            input: "pool replica 99999999999".into(),
            selected: 99,
        }),
    ];
    for screen in screens {
        for modal in &modals {
            let mut s = task_screen(true);
            s.screen = screen;
            s.modal = modal.clone();
            s.journal = journal();
            s.task_cursor = 999;
            s.run_cursor = 999;
            s.pool_cursor = 999;
            for (w, h) in [
                (20, 5),
                (1, 1),
                (0, 0),
                (5, 20),
                (80, 3),
                (39, 12),
                (300, 100),
            ] {
                render(&s, w, h);
            }
        }
    }
    insta::assert_snapshot!(render(&incident(), 20, 5));
    // Empty state: nothing loaded yet.
    let empty = State::new("acme-data", false, "default", NOW);
    for screen in screens {
        let mut s = empty.clone();
        s.screen = screen;
        render(&s, 20, 5);
        render(&s, 80, 24);
    }
}

#[test]
fn every_bundled_theme_draws_and_failed_differs_from_succeeded() {
    let mut s = incident();
    // The cursor on neither row, so the selection colour hides nothing.
    s.task_cursor = 4;
    for (name, text) in crate::tui::theme::BUNDLED {
        let t = Theme::parse(text, false).unwrap_or_else(|e| panic!("{name}: {e}"));
        let buf = render_buffer(&s, &t, &keys(), 80, 24);
        let style_of = |glyph: &str| {
            buf.content
                .iter()
                .find(|c| c.symbol() == glyph)
                .map(|c| (c.fg, c.bg, c.modifier))
                .unwrap_or_else(|| panic!("{name}: no {glyph} on screen"))
        };
        let failed = style_of(TaskState::Failed.glyph());
        let ok = style_of(TaskState::Succeeded.glyph());
        assert_ne!(failed, ok, "{name}: failed looks like succeeded");
        // NO_COLOR: still draws; the glyphs tell the states apart.
        let plain = Theme::parse(text, true).unwrap_or_else(|e| panic!("{name}: {e}"));
        render_to_string(&s, &plain, &keys(), 80, 24);
    }
}

#[test]
fn the_selected_row_uses_the_selection_role() {
    let s = incident();
    let t = theme();
    let buf = render_buffer(&s, &t, &keys(), 80, 24);
    // The cursor starts on the failed task, the first row of the table.
    let (x, y) = find(&buf, "export_users").expect("the failed task is on screen");
    assert_eq!(
        buf[Position::new(x, y)].bg,
        t.get("selection").bg.unwrap_or_default()
    );
    let (x, y) = find(&buf, "load_users").expect("the next task is on screen");
    assert_ne!(
        buf[Position::new(x, y)].bg,
        t.get("selection").bg.unwrap_or_default()
    );
}

#[test]
fn clicks_hit_the_rows_drawn() {
    let mut s = incident();
    for i in 0..30 {
        let id = format!("copy_table_{i:02}");
        s.tasks.push(task(42, &id, TaskState::Succeeded, 10 + i));
    }
    s.task_cursor = 30;
    for (w, h) in [(80, 24), (160, 48)] {
        s.size = (w, h);
        let buf = render_buffer(&s, &theme(), &keys(), w, h);
        let at = |text: &str| find(&buf, text).unwrap_or_else(|| panic!("{text} not drawn"));
        let (x, y) = at("hourly_sync");
        assert_eq!(hit_test(&s, x, y), Some(Hit::Run(2)));
        let (x, y) = at("copy_table_20");
        assert_eq!(hit_test(&s, x, y), Some(Hit::Task(27)));
        // Borders, headings and the header line are no row.
        assert_eq!(hit_test(&s, x, y.saturating_sub(30)), None);
        assert_eq!(hit_test(&s, 0, 0), None);
    }
}

/// Where `text` starts on screen (its first occurrence).
fn find(buf: &Buffer, text: &str) -> Option<(u16, u16)> {
    let w = buf.area.width;
    (0..buf.area.height).find_map(|y| {
        let row: Vec<&str> = (0..w).map(|x| buf[Position::new(x, y)].symbol()).collect();
        let first = text.chars().next()?.to_string();
        (0..w).find_map(|x| {
            let start = usize::from(x);
            let fits = row.get(start..start + text.chars().count())?;
            (row.get(start) == Some(&first.as_str()) && fits.concat() == text).then_some((x, y))
        })
    })
}
