//! Backfills in the console: the screen's data (one backfill's runs, date by
//! date) and what the form that starts one asks for (the form itself is a
//! `tui::form`, see `update/forms.rs`). Pure; the runner does the IO.

use crate::engine::backfill;
use crate::engine::store::{BackfillRow, BackfillRun};

/// Most runs at once a backfill from the form executes (more is a typo).
pub const FORM_MAX_ACTIVE: u32 = 64;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackfillState {
    /// The workspace's pipelines with their default `max_active`.
    pub pipelines: Vec<(String, Option<u32>)>,
    /// Recent backfills, newest first.
    pub list: Vec<BackfillRow>,
    /// The backfill on screen and its runs by date.
    pub shown: Option<BackfillRow>,
    pub runs: Vec<BackfillRun>,
    pub cursor: usize,
    /// A load answered (so "no backfills yet" is true, not "loading").
    pub loaded: bool,
}

/// What a valid backfill form starts.
#[derive(Debug, Clone, PartialEq)]
pub struct BackfillRequest {
    pub pipeline: String,
    pub dates: Vec<String>,
    pub max_active: u32,
}

impl BackfillRequest {
    /// "3 runs: 2026-11-19 … 2026-11-21, 2 at once": what Enter starts.
    pub fn summary(&self) -> String {
        let n = self.dates.len();
        let (a, b) = (
            self.dates.first().map_or("", String::as_str),
            self.dates.last().map_or("", String::as_str),
        );
        format!(
            "{n} run{}: {a} … {b}, {} at once",
            if n == 1 { "" } else { "s" },
            self.max_active
        )
    }
}

/// The backfill the form's values ask for, or the field that is wrong
/// (`pipeline`, `from`, `to` or `max_active`) and why.
pub fn request(
    pipeline: &str,
    from: &str,
    to: &str,
    max_active: &str,
) -> Result<BackfillRequest, (&'static str, String)> {
    let pipeline = pipeline.trim();
    if pipeline.is_empty() {
        return Err((
            "pipeline",
            "this workspace has no pipeline to backfill".into(),
        ));
    }
    if let Err(e) = backfill::parse_date(from) {
        return Err(("from", e.to_string()));
    }
    let dates = backfill::dates(from, to).map_err(|e| ("to", e.to_string()))?;
    let max_active = match max_active.trim().parse::<u32>() {
        Ok(n) if (1..=FORM_MAX_ACTIVE).contains(&n) => n,
        _ => {
            return Err((
                "max_active",
                format!("max active is a number from 1 to {FORM_MAX_ACTIVE}"),
            ));
        }
    };
    Ok(BackfillRequest {
        pipeline: pipeline.to_string(),
        dates,
        max_active,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_range_is_every_date_with_a_summary() {
        let req = request("nightly", "2026-11-19", "2026-11-21", "2").unwrap();
        assert_eq!(req.dates, ["2026-11-19", "2026-11-20", "2026-11-21"]);
        assert_eq!(req.max_active, 2);
        assert_eq!(req.summary(), "3 runs: 2026-11-19 … 2026-11-21, 2 at once");
        let one = request("nightly", "2026-11-19", "2026-11-19", "1").unwrap();
        assert_eq!(one.summary(), "1 run: 2026-11-19 … 2026-11-19, 1 at once");
    }

    #[test]
    fn each_bad_field_is_named() {
        let field = |p: &str, f: &str, t: &str, m: &str| request(p, f, t, m).unwrap_err();
        assert_eq!(field("", "2026-11-19", "2026-11-21", "1").0, "pipeline");
        let bad_from = field("nightly", "2026-02-30", "2026-11-21", "1");
        assert_eq!(bad_from.0, "from");
        assert!(bad_from.1.contains("not a date"), "{bad_from:?}");
        assert_eq!(field("nightly", "2026-11-19", "tomorrow", "1").0, "to");
        let reversed = field("nightly", "2026-12-01", "2026-11-21", "1");
        assert_eq!(reversed.0, "to");
        assert!(reversed.1.contains("before"), "{reversed:?}");
        assert_eq!(
            field("nightly", "2026-11-19", "2026-11-21", "0").0,
            "max_active"
        );
        assert_eq!(
            field("nightly", "2026-11-19", "2026-11-21", "x").0,
            "max_active"
        );
        assert_eq!(
            field("nightly", "2026-11-19", "2026-11-21", "65").0,
            "max_active"
        );
    }
}
