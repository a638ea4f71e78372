//! Browse speed: key-to-frame time on the Sources screen of a source with
//! 5,000 tables in 20 schemas, all open (the tree is laid out again on every
//! key and frame): moving the cursor, and typing a filter. All of `update`
//! plus a full draw into an in-memory terminal. Prints p50 and p99.
//!
//!     cargo bench --bench browse
//!
//! Target: under 5 ms a key, like the runs screen.

use std::time::Instant;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use switchyard::connectors::source::{TableKind, TableName, TableSummary};
use switchyard::tui::browse::{Browse, BrowseMsg, Named};
use switchyard::tui::update::update;
use switchyard::tui::{Keymap, Msg, State, Theme, view};

mod support;
use support::percentiles;

fn main() -> anyhow::Result<()> {
    let keys = Keymap::builtin();
    let theme = Theme::load("default", None, false)?;
    let mut state = State::new("bench", false, "default", 0);
    state.browse = Browse::new(
        vec![Named {
            name: "app".into(),
            kind: "postgres".into(),
        }],
        vec![],
        vec![],
    );
    update(&mut state, Msg::Key("4".into()), &keys);
    let tables: Vec<TableSummary> = (0..5000)
        .map(|i| TableSummary {
            table: TableName {
                schema: format!("tenant_{:02}", i % 20),
                name: format!("events_{i:04}"),
            },
            kind: TableKind::Table,
            row_estimate: Some(i * 1000),
        })
        .collect();
    update(
        &mut state,
        Msg::Browse(BrowseMsg::Tables {
            source: "app".into(),
            result: Ok(tables),
        }),
        &keys,
    );
    for g in 0..20 {
        state
            .browse
            .sources
            .open
            .insert((0, Some(format!("tenant_{g:02}"))));
    }
    let mut term = Terminal::new(TestBackend::new(160, 48))?;
    state.size = (160, 48);
    let mut frame = |state: &mut State, key: &str| -> anyhow::Result<f64> {
        let t = Instant::now();
        update(state, Msg::Key(key.into()), &keys);
        term.draw(|f| view::draw(f, state, &theme, &keys))?;
        Ok(t.elapsed().as_secs_f64() * 1000.0)
    };
    let mut moves = Vec::new();
    for i in 0..500 {
        moves.push(frame(
            &mut state,
            if i % 50 < 25 { "pagedown" } else { "down" },
        )?);
    }
    let (p50, p99) = percentiles(moves);
    println!(
        "sources, 5,000 tables open, a cursor move: p50 {p50:.3} ms, p99 {p99:.3} ms (target < 5 ms)"
    );
    let mut typing = Vec::new();
    for _ in 0..50 {
        frame(&mut state, "/")?;
        for c in ["e", "v", "e", "n", "t", "s", "_", "4", "9"] {
            typing.push(frame(&mut state, c)?);
        }
        for _ in 0..9 {
            typing.push(frame(&mut state, "backspace")?);
        }
        frame(&mut state, "esc")?;
    }
    let (p50, p99) = percentiles(typing);
    println!(
        "sources, 5,000 tables, a filter key: p50 {p50:.3} ms, p99 {p99:.3} ms (target < 5 ms)"
    );
    Ok(())
}
