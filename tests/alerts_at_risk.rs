//! `at_risk` through the real binary: a run whose projected finish (from
//! its tasks' history) passes its deadline less `at_risk_margin` pages
//! once, before the deadline, with the projection and the critical path,
//! and is resolved when the run goes green.

mod common;

use std::time::Duration;

use common::Ws;
use common::receiver::Receiver;
use serde_json::Value;

fn workspace(hook: &Receiver, deadline: &str, margin: &str) -> String {
    format!(
        r#"
[notify.hook]
kind = "webhook"
url = "{}/alerts"

[pipelines.nightly]
notify = ["hook"]
deadline = "{deadline}"
at_risk_margin = "{margin}"

[[pipelines.nightly.tasks]]
id = "export_orders"
kind = "command"
command = "sleep 4; echo exported"

[[pipelines.nightly.tasks]]
id = "daily_revenue"
kind = "command"
after = ["export_orders"]
command = "sleep 1; echo built"

[[pipelines.nightly.tasks]]
id = "side_table"
kind = "command"
command = "echo quick"
"#,
        hook.url
    )
}

#[test]
fn a_run_projected_past_its_deadline_pages_at_risk_once_before_it() {
    let hook = Receiver::start();
    // First run: no history yet, and a deadline far enough away.
    let ws = Ws::new(&workspace(&hook, "+10m", "1m"));
    let (code, _, err) = ws.run(&["run", "nightly", "--date", "2026-12-01"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        hook.requests().is_empty(),
        "nothing was at risk: {:?}",
        hook.requests().len()
    );

    // Now the deadline is 20 s after the run starts and the margin 17 s:
    // history says export_orders → daily_revenue takes about 5 s, past
    // 20 − 17 = 3 s after the start (only because of the margin, so the
    // run still makes its deadline); the page must come while the run
    // works, before the deadline.
    std::fs::write(ws.file(), workspace(&hook, "+20s", "17s")).unwrap();
    let mut child = common::Bg::new(ws.spawn(&["run", "nightly", "--date", "2026-12-02"]));
    let paged = common::wait_for(Duration::from_secs(60), || !hook.accepted().is_empty());
    assert!(paged, "no at_risk page while the run worked");
    let (code, _, err) = child.wait(Duration::from_secs(60));
    assert_eq!(code, 0, "{err}");

    let msgs: Vec<Value> = hook.accepted().iter().map(|r| r.json()).collect();
    let kinds: Vec<&str> = msgs.iter().filter_map(|m| m["kind"].as_str()).collect();
    assert_eq!(kinds, ["at_risk", "recovered"], "{msgs:#?}");
    let page = &msgs[0];
    let text = page["error"].as_str().unwrap_or_default();
    assert!(text.starts_with("at risk: projected "), "{text}");
    assert!(text.contains(", deadline "), "{text}");
    assert!(
        text.contains("critical path export_orders → daily_revenue"),
        "the chain that decides the finish, not the side table: {text}"
    );
    assert!(page["late_ms"].as_i64().is_some(), "{page:#}");
    assert_eq!(msgs[1]["resolves"][0], page["dedup_key"], "{msgs:#?}");

    // Raised once, and before the deadline passed; not missed after all.
    let when = ws.state_sql(
        "SELECT COUNT(*), MIN(CASE WHEN a.created_at < r.deadline_at THEN 1 ELSE 0 END) FROM alerts a JOIN runs r ON r.id = a.run_id WHERE a.kind = 'at_risk'",
    );
    assert_eq!(
        when.trim(),
        "1|1",
        "one at_risk row, raised before the deadline"
    );
    let missed = ws.state_sql("SELECT COUNT(*) FROM alerts WHERE kind = 'deadline_missed'");
    assert_eq!(missed.trim(), "0");
}
