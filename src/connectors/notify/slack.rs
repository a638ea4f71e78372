//! Slack incoming webhooks: `text` (the fallback every client shows) and
//! Block Kit sections with the details an on-call engineer acts on.

use serde_json::{Value, json};

use super::Message;

pub(super) fn body(m: &Message) -> Value {
    let mut lines = vec![format!("*{}*", escape(&m.headline()))];
    for t in m.tasks.iter().take(10) {
        let err = t
            .error
            .as_deref()
            .map(|e| format!(" — {}", escape(e)))
            .unwrap_or_default();
        lines.push(format!(
            "• `{}` {} (attempt {}){err}",
            escape(&t.id),
            t.state,
            t.attempt
        ));
    }
    if m.tasks.len() > 10 {
        lines.push(format!("• … and {} more", m.tasks.len() - 10));
    }
    let mut blocks = vec![section(&lines.join("\n"))];
    if !m.log_tail.is_empty() {
        let tail: Vec<String> = m.log_tail.iter().map(|l| l.replace("```", "'''")).collect();
        blocks.push(section(&format!("```{}```", escape(&tail.join("\n")))));
    }
    let mut next = Vec::new();
    if let Some(rb) = &m.runbook {
        next.push(format!(
            "Runbook: *{}* (`{}`)",
            escape(&rb.title),
            escape(&rb.path)
        ));
    }
    if let Some(c) = &m.rerun {
        next.push(format!("Rerun: `{}`", escape(c)));
    }
    if let Some(c) = &m.console {
        next.push(format!("Open: `{}`", escape(c)));
    }
    if !next.is_empty() {
        blocks.push(section(&next.join("\n")));
    }
    json!({ "text": m.headline(), "blocks": blocks })
}

fn section(text: &str) -> Value {
    // Slack refuses a section text over 3,000 characters.
    let text: String = text.chars().take(2900).collect();
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } })
}

/// Slack's three control characters in mrkdwn.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
