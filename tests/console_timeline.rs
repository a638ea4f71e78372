//! The console's Timeline screen through the real binary in tmux: `t` on a
//! failed run shows its story, `w` writes it as Markdown and the footer says
//! the full path of the file it wrote, Esc goes back to the runs.

mod common;

use std::time::Duration;

use common::{Ws, wait_until};

#[path = "common/tmux.rs"]
mod tmux;
use tmux::*;

const LONG: Duration = Duration::from_secs(90);

const WS: &str = r#"
[pipelines.p]
[[pipelines.p.tasks]]
id = "extract"
kind = "command"
command = "echo extracting"

[[pipelines.p.tasks]]
id = "load_orders"
kind = "command"
after = ["extract"]
command = "echo 'relation raw_orders is locked' >&2; exit 3"
"#;

#[test]
fn t_shows_the_runs_timeline_and_w_writes_it_where_the_footer_says() {
    if !tmux_or_skip("console_timeline") {
        return;
    }
    let ws = Ws::new(WS);
    let (code, _, err) = ws.run_within(LONG, &["run", "p"]);
    assert_eq!(code, 1, "the load fails: {err}");

    let t = Tmux::start("timeline", ws.path(), 160, 40, &[]);
    t.open_console("", "");
    t.wait_for("load_orders");
    t.keys(&["t"]);
    t.wait_for("Timeline · run 1");
    let screen = t.wait_for("raw_orders is locked");
    assert!(
        line_with(&screen, &["FAILED", "load_orders attempt 1 failed"]).is_some(),
        "{screen}"
    );

    t.keys(&["w"]);
    let screen = t.wait_for("timeline-run-1.md");
    let shown = screen
        .lines()
        .find_map(|l| l.split_once("wrote ").map(|(_, p)| p.trim().to_string()))
        .unwrap_or_else(|| panic!("no path in the footer:\n{screen}"));
    let path = std::path::PathBuf::from(&shown);
    assert!(path.is_absolute(), "{shown}");
    let mut md = String::new();
    wait_until(LONG, "the file the footer names", || {
        md = std::fs::read_to_string(&path).unwrap_or_default();
        !md.is_empty()
    });
    assert!(md.starts_with("# Incident timeline: p run 1"), "{md}");
    assert!(md.contains("raw_orders is locked"), "{md}");
    assert_eq!(
        path.canonicalize().ok(),
        ws.path()
            .join(".switchyard/timeline-run-1.md")
            .canonicalize()
            .ok(),
        "written beside the workspace's own files"
    );

    t.keys(&["Escape"]);
    t.wait_screen("the runs screen again", |s| !s.contains("Timeline · run"));
    t.quit_and_check_restored("q");
}
