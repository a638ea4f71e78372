use super::*;

fn failed() -> Message {
    Message {
        version: MESSAGE_VERSION,
        kind: "failed".into(),
        dedup_key: "sy/run-42.1/load_orders/failed#0".into(),
        workspace: "acme".into(),
        pipeline: "nightly".into(),
        run_id: Some(42),
        run_date: Some("2026-12-07".into()),
        slot: None,
        task: Some("load_orders".into()),
        tasks: vec![TaskLine {
            id: "load_orders".into(),
            state: "failed".into(),
            attempt: 3,
            error: Some("table <raw_orders> is locked".into()),
        }],
        error: Some("table <raw_orders> is locked".into()),
        log_tail: vec!["loading".into(), "```boom```".into()],
        runbook: Some(Runbook {
            title: "Loads".into(),
            path: "runbooks/load.md".into(),
        }),
        deadline_at: None,
        late_ms: None,
        rerun: Some("switchyard rerun 42 load_orders --downstream".into()),
        console: Some("switchyard --run 42 --task load_orders".into()),
        resolves: Vec::new(),
        created_at: "2026-12-07T03:12:00Z".into(),
    }
}

#[test]
fn headline_names_workspace_pipeline_run_and_task() {
    assert_eq!(
        failed().headline(),
        "[acme] nightly run 42 (2026-12-07): load_orders failed"
    );
    let mut m = failed();
    m.kind = "deadline_missed".into();
    m.task = None;
    m.late_ms = Some(12 * 60_000);
    assert_eq!(
        m.headline(),
        "[acme] nightly run 42 (2026-12-07): deadline missed, late by 12m"
    );
}

#[test]
fn slack_body_escapes_and_carries_the_commands() {
    let b = slack::body(&failed());
    let text = b.to_string();
    assert!(text.contains("&lt;raw_orders&gt;"), "{text}");
    assert!(!text.contains("<raw_orders>"), "{text}");
    assert!(text.contains("switchyard rerun 42 load_orders --downstream"));
    assert!(text.contains("switchyard --run 42 --task load_orders"));
    assert!(text.contains("runbooks/load.md"));
    // A log line cannot close the code block early.
    assert!(text.contains("'''boom'''"), "{text}");
}

#[test]
fn pagerduty_triggers_with_the_dedup_key_and_resolves_every_key() {
    let t = pagerduty::events(&failed(), "rk");
    assert_eq!(t.len(), 1);
    assert_eq!(t[0]["event_action"], "trigger");
    assert_eq!(t[0]["dedup_key"], "sy/run-42.1/load_orders/failed#0");
    assert_eq!(t[0]["routing_key"], "rk");
    assert_eq!(t[0]["payload"]["severity"], "error");
    let mut r = failed();
    r.kind = "recovered".into();
    r.resolves = vec!["a".into(), "b".into()];
    let ev = pagerduty::events(&r, "rk");
    let keys: Vec<&str> = ev
        .iter()
        .map(|e| e["dedup_key"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(keys, ["a", "b"]);
    assert!(ev.iter().all(|e| e["event_action"] == "resolve"));
}

#[test]
fn webhook_signature_is_hmac_sha256_of_timestamp_dot_body() {
    // Python: hmac.new(b"s3cret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert_eq!(
        signature("s3cret", 1_700_000_000, b"{}"),
        "sha256=97926816e98fbb41ccb1673225ff29a2f35369099990e1b1561651e7bd097ebf"
    );
    let h = webhook::headers(b"{}", Some("s3cret"), 1_700_000_000);
    assert_eq!(h[0], (TIMESTAMP_HEADER, "1700000000".to_string()));
    assert_eq!(h[1].0, SIGNATURE_HEADER);
    assert_eq!(h[1].1, signature("s3cret", 1_700_000_000, b"{}"));
    assert_eq!(webhook::headers(b"{}", None, 1).len(), 1);
}

#[test]
fn channels_filter_by_kind() {
    let def = NotifyDef {
        kind: "slack".into(),
        url: Some("http://127.0.0.1:1/x".into()),
        on: Some(vec!["failed".into()]),
        ..NotifyDef::default()
    };
    let c = Channel::new("oncall", &def);
    assert!(c.wants("failed"));
    assert!(!c.wants("recovered"));
    let pd = Channel::new(
        "pd",
        &NotifyDef {
            kind: "pagerduty".into(),
            ..NotifyDef::default()
        },
    );
    assert!(pd.wants("recovered"));
    assert_eq!(pd.url, PAGERDUTY_EVENTS_URL);
}
