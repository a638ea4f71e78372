//! The console while on call, through the real binary in tmux: a failed
//! scheduled pipeline whose alert the channel refuses shows a failing badge
//! and the delivery's state beside the run; the Schedule screen (`9`) lists
//! the pipeline with its last run, and Enter opens that run; once the
//! channel accepts, the badge goes and the run's line says delivered — with
//! no key pressed.

mod common;

use std::time::Duration;

use common::receiver::Receiver;
use common::{Bg, Ws, wait_for};

#[path = "common/tmux.rs"]
mod tmux;
use tmux::*;

#[test]
fn a_refused_alert_shows_until_the_channel_takes_it_and_the_schedule_opens_the_run() {
    if !tmux_or_skip("console_paged") {
        return;
    }
    // Refuses everything until told otherwise.
    let hook = Receiver::with_statuses(&[500; 200]);
    let ws = Ws::new(&format!(
        r#"
[notify.oncall]
kind = "webhook"
url = "{}/hook"

[pipelines.nightly]
schedule = "0 3 * * *"
catchup = "none"
deadline = "+1h"
notify = ["oncall"]

[[pipelines.nightly.tasks]]
id = "load_orders"
kind = "command"
command = "echo 'relation orders does not exist' >&2; exit 3"
"#,
        hook.url
    ));
    let _serve = Bg::new(ws.spawn(&["serve"]));
    let (code, _, err) = ws.run(&["run", "nightly"]);
    assert_eq!(code, 1, "the run fails: {err}");
    assert!(
        wait_for(Duration::from_secs(60), || !hook.requests().is_empty()),
        "serve tried the channel"
    );

    let t = Tmux::start("paged", ws.path(), 120, 30, &[]);
    t.open_console("", "");
    let s = t.wait_screen("the failing badge and the run's alert", |s| {
        s.lines()
            .next()
            .is_some_and(|l| l.contains("1 alert failing"))
            && line_with(s, &["alerts: failed load_orders", "oncall ✗", "HTTP 500"]).is_some()
    });
    assert!(line_with(&s, &["load_orders", "✗"]).is_some(), "{s}");

    // The Schedule screen: the pipeline, its schedule, its last run.
    t.keys(&["9"]);
    let s = t.wait_screen("the Schedule screen", |s| {
        s.contains("Schedule (1)")
            && line_with(s, &["nightly", "0 3 * * *", "1 ", "failed"]).is_some()
    });
    assert!(
        line_with(&s, &["nightly", "+1h", "on time"]).is_some(),
        "{s}"
    );

    // Enter: the pipeline's latest run, its failed task in view.
    t.keys(&["Enter"]);
    t.wait_screen("the run from the schedule", |s| {
        s.contains("Run 1 · nightly") && !s.contains("Schedule (1)")
    });

    // The channel comes back: delivered, the badge goes, no key pressed.
    hook.answer_from_now(&[]);
    let s = t.wait_screen("the alert delivered", |s| {
        line_with(s, &["alerts: failed load_orders", "oncall ✓"]).is_some()
            && !s.lines().next().unwrap_or_default().contains("alert")
    });
    assert_eq!(hook.accepted().len(), 1, "delivered once:\n{s}");
    t.quit_and_check_restored("q");
}
