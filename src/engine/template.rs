//! Placeholders in the workspace's own strings: `{run_date}`, `{slot}`,
//! `{run_id}`, `{task_id}`, `{attempt}`, and an export_all fan-out's
//! `{schema}` and `{table}`.
//!
//! `{slot}` is the run's schedule slot as RFC 3339 in the pipeline's time
//! zone, with its offset (`2026-03-29T03:00:00+02:00`): the local time people
//! read in a schedule, and still one exact instant for a program to parse. A
//! run without a slot (started by hand, a backfill) gets its creation time:
//! the same reference its deadlines and `wait until` count from, so a
//! template never expands to nothing. A backfill that must see each date's
//! slot uses `{run_date}`.
//!
//! Expansion is one pass over the template: a value put in is never read
//! again, so a catalog name that looks like a placeholder (a table named
//! `{run_date}`) stays what it is. Values from a catalog are therefore only
//! ever placeholder values, never part of the template.

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;

/// What `{slot}` expands to: `at` as RFC 3339 in `tz`, to the second, with
/// the zone's offset at that instant (`Z` for UTC).
pub fn slot_text(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `template` with each `{name}` that `value` knows replaced by its value;
/// unknown placeholders and lone braces stay as written.
pub fn expand(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let known = after
            .find('}')
            .map(|close| &after[..close])
            .filter(|name| name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .and_then(|name| value(name).map(|v| (v, name.len())));
        match known {
            Some((v, len)) => {
                out.push_str(&v);
                rest = &after[len + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "run_date" => Some("2026-01-05".into()),
            "table" => Some("{run_date}".into()),
            "schema" => Some("{table}".into()),
            _ => None,
        }
    }

    #[test]
    fn values_are_not_expanded_again() {
        assert_eq!(
            expand("raw/{run_date}/{schema}.{table}.parquet", vars),
            "raw/2026-01-05/{table}.{run_date}.parquet"
        );
    }

    #[test]
    fn slot_is_local_with_its_offset() {
        let at = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("time")
                .with_timezone(&Utc)
        };
        let berlin: Tz = "Europe/Berlin".parse().expect("zone");
        let new_york: Tz = "America/New_York".parse().expect("zone");
        // Either side of the spring-forward in Berlin (02:00 → 03:00).
        assert_eq!(
            slot_text(at("2026-03-29T00:30:00Z"), berlin),
            "2026-03-29T01:30:00+01:00"
        );
        assert_eq!(
            slot_text(at("2026-03-29T01:00:00Z"), berlin),
            "2026-03-29T03:00:00+02:00"
        );
        assert_eq!(
            slot_text(at("2026-11-01T06:30:00Z"), new_york),
            "2026-11-01T01:30:00-05:00"
        );
        assert_eq!(
            slot_text(at("2026-05-14T02:30:00Z"), Tz::UTC),
            "2026-05-14T02:30:00Z"
        );
        // The text names the same instant.
        let text = slot_text(at("2026-10-25T00:30:00Z"), berlin);
        assert_eq!(at(&text), at("2026-10-25T00:30:00Z"));
    }

    #[test]
    fn unknown_placeholders_and_lone_braces_stay() {
        assert_eq!(expand("{nope}-{run_date", vars), "{nope}-{run_date");
        assert_eq!(expand("{{run_date}}", vars), "{2026-01-05}");
        assert_eq!(expand("a}b{", vars), "a}b{");
        assert_eq!(expand("{Run_Date}", vars), "{Run_Date}");
        assert_eq!(expand("", vars), "");
    }
}
