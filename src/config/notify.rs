//! Checks of `[notify.NAME]` channels and of the `notify = [...]` lists that
//! name them. Secrets (a Slack webhook URL, a PagerDuty routing key, a
//! webhook's signing secret) may only come from `${VAR}`: that rule is
//! applied during interpolation (`interpolate.rs`), which still sees the text
//! as written.

use toml::de::DeTable;

use super::model::{keys, kinds};
use super::report::Report;
use super::tree::{Ty, check_table, get, get_str, get_str_list};
use super::validate::{kind_of, one_of, reference};

/// PagerDuty's Events API v2 endpoint, when a channel gives no `url`.
pub const PAGERDUTY_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";

pub(crate) fn channel(r: &mut Report, name: &str, header: usize, t: &DeTable<'_>) {
    check_table(
        r,
        t,
        keys::NOTIFY,
        &[("on", Ty::StrList)],
        &format!("in [notify.{name}]"),
    );
    for (kind, at) in get_str_list(t, "on") {
        one_of(r, kind, at, "alert kind", kinds::ALERT);
    }
    if let Some((url, at)) = get_str(t, "url")
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        r.at(
            at,
            format!("channel `{name}`: `url` must be an http:// or https:// URL"),
        );
    }
    let Some(kind) = kind_of(
        r,
        t,
        header,
        &format!("channel `{name}`"),
        kinds::NOTIFY,
        None,
    ) else {
        return;
    };
    let needs = |r: &mut Report, key: &str, why: &str| {
        if get(t, key).is_none() {
            r.at(
                header,
                format!("channel `{name}` ({kind}) needs `{key}`: {why}"),
            );
        }
    };
    let refuses = |r: &mut Report, key: &str| {
        if let Some(node) = get(t, key) {
            r.at(
                node.span().start,
                format!("channel `{name}` ({kind}) takes no `{key}`"),
            );
        }
    };
    match kind {
        "slack" => {
            needs(r, "url", "the incoming webhook's URL, as ${VAR}");
            refuses(r, "routing_key");
            refuses(r, "secret");
        }
        "pagerduty" => {
            needs(r, "routing_key", "the integration key, as ${VAR}");
            refuses(r, "secret");
        }
        _ => {
            needs(r, "url", "where the alert is POSTed");
            refuses(r, "routing_key");
        }
    }
}

/// A `notify = [...]` list on a pipeline or task: every name a channel.
pub(crate) fn references(r: &mut Report, t: &DeTable<'_>, channels: &[&str]) {
    for (name, at) in get_str_list(t, "notify") {
        reference(r, name, at, "notification channel", channels);
    }
}

/// Keys whose value is a secret that must come from the environment, by the
/// path of the key (`["notify", NAME, key]`) and the channel's kind.
pub(crate) fn env_only_key(path: &[String], channel_kind: Option<&str>) -> bool {
    match path {
        [top, _, key] if top == "notify" => {
            key == "routing_key"
                || key == "secret"
                || (key == "url" && channel_kind == Some("slack"))
        }
        _ => false,
    }
}
