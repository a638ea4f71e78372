//! The console's SLA screen end to end: the real binary in tmux, the report
//! computed by the runner from a real store. Nothing here asserts how fast
//! it is; waits poll the screen.

mod common;

use common::Ws;

#[path = "common/tmux.rs"]
mod tmux;
use tmux::*;

/// Runs by hand with a deadline an hour after their creation: each counts.
const WS: &str = r#"
[workspace]
name = "acme"

[pipelines.nightly]
deadline = "+1h"

[[pipelines.nightly.tasks]]
id = "work"
kind = "command"
command = "true"
"#;

#[test]
fn capital_s_shows_the_sla_of_runs_in_the_store() {
    if !tmux_or_skip("sla_screen") {
        return;
    }
    let ws = Ws::new(WS);
    let (code, _, err) = ws.run(&["run", "nightly"]);
    assert_eq!(code, 0, "run: {err}");
    let t = Tmux::start("sla", ws.path(), 100, 30, &[]);
    t.open_console("", "");
    t.keys(&["S"]);
    let s = t.wait_screen("the report", |s| {
        line_with(s, &["nightly", "1/1", "100.0%"]).is_some()
    });
    assert!(s.contains("SLA · last 30 days (1)"), "{s}");
    assert!(s.contains("nightly · on time by week"), "{s}");
    assert!(s.contains("no misses"), "{s}");
    t.quit_and_check_restored("q");
}
