//! PagerDuty Events API v2: `trigger` with the alert's dedup key opens (or
//! updates) one incident; `recovered` sends `resolve` for each key of the
//! incident it closes.

use serde_json::{Value, json};

use super::Message;

pub(super) fn events(m: &Message, routing_key: &str) -> Vec<Value> {
    if m.kind == "recovered" {
        return m
            .resolves
            .iter()
            .map(|key| {
                json!({
                    "routing_key": routing_key,
                    "event_action": "resolve",
                    "dedup_key": key,
                })
            })
            .collect();
    }
    let summary: String = m.headline().chars().take(1024).collect();
    let severity = if matches!(m.kind.as_str(), "deadline_missed" | "at_risk") {
        "warning"
    } else {
        "error"
    };
    vec![json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": m.dedup_key,
        "payload": {
            "summary": summary,
            "source": format!("switchyard/{}", m.workspace),
            "severity": severity,
            "component": m.pipeline,
            "group": m.task.clone().unwrap_or_else(|| m.pipeline.clone()),
            "class": m.kind,
            "custom_details": m,
        },
    })]
}
