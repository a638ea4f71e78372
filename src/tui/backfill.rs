//! Backfills in the console: the screen's data (one backfill's runs, date by
//! date) and the form that starts one. Pure; the runner does the IO.

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

/// What the form asks, in order.
pub const FIELDS: [&str; 4] = ["pipeline", "from", "to", "max active"];
pub const PIPELINE: usize = 0;
pub const FROM: usize = 1;
pub const TO: usize = 2;
pub const MAX_ACTIVE: usize = 3;

#[derive(Debug, Clone, PartialEq)]
pub struct BackfillForm {
    pub values: [String; 4],
    pub focus: usize,
    /// The field that is wrong and why, after a refused submit.
    pub error: Option<(usize, String)>,
}

/// What a valid form starts.
#[derive(Debug, Clone, PartialEq)]
pub struct BackfillRequest {
    pub pipeline: String,
    pub dates: Vec<String>,
    pub max_active: u32,
}

impl BackfillForm {
    /// Prefilled: `pipeline`, the three days before `today`, the pipeline's
    /// own `max_active` (else 1).
    pub fn new(pipeline: &str, max_active: Option<u32>, today: chrono::NaiveDate) -> BackfillForm {
        let day = |n: i64| {
            (today - chrono::Duration::days(n))
                .format("%Y-%m-%d")
                .to_string()
        };
        BackfillForm {
            values: [
                pipeline.to_string(),
                day(3),
                day(1),
                max_active.unwrap_or(1).to_string(),
            ],
            focus: PIPELINE,
            error: None,
        }
    }

    /// The request, or the first field that is wrong and why.
    pub fn validate(
        &self,
        pipelines: &[(String, Option<u32>)],
    ) -> Result<BackfillRequest, (usize, String)> {
        let pipeline = self.values[PIPELINE].trim();
        if pipeline.is_empty() {
            return Err((PIPELINE, "name a pipeline".into()));
        }
        if !pipelines.iter().any(|(p, _)| p == pipeline) {
            let known: Vec<&str> = pipelines.iter().map(|(p, _)| p.as_str()).collect();
            return Err((
                PIPELINE,
                format!("no pipeline `{pipeline}` (known: {})", known.join(", ")),
            ));
        }
        if let Err(e) = backfill::parse_date(&self.values[FROM]) {
            return Err((FROM, e.to_string()));
        }
        let dates = backfill::dates(&self.values[FROM], &self.values[TO])
            .map_err(|e| (TO, e.to_string()))?;
        let max_active = match self.values[MAX_ACTIVE].trim().parse::<u32>() {
            Ok(n) if (1..=FORM_MAX_ACTIVE).contains(&n) => n,
            _ => {
                return Err((
                    MAX_ACTIVE,
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

    /// Left/right on the pipeline field: the next known pipeline.
    pub fn cycle_pipeline(&mut self, pipelines: &[(String, Option<u32>)], forward: bool) {
        if pipelines.is_empty() {
            return;
        }
        let n = pipelines.len();
        let at = pipelines
            .iter()
            .position(|(p, _)| *p == self.values[PIPELINE].trim());
        let next = match (at, forward) {
            (Some(i), true) => (i + 1) % n,
            (Some(i), false) => (i + n - 1) % n,
            (None, _) => 0,
        };
        self.values[PIPELINE] = pipelines[next].0.clone();
        self.values[MAX_ACTIVE] = pipelines[next].1.unwrap_or(1).to_string();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipelines() -> Vec<(String, Option<u32>)> {
        vec![("nightly".into(), Some(2)), ("hourly".into(), None)]
    }

    fn day(s: &str) -> chrono::NaiveDate {
        backfill::parse_date(s).unwrap()
    }

    #[test]
    fn the_form_is_prefilled_with_the_three_days_before_today() {
        let f = BackfillForm::new("nightly", Some(2), day("2026-11-22"));
        assert_eq!(f.values, ["nightly", "2026-11-19", "2026-11-21", "2"]);
        let req = f.validate(&pipelines()).unwrap();
        assert_eq!(req.dates, ["2026-11-19", "2026-11-20", "2026-11-21"]);
        assert_eq!(req.max_active, 2);
    }

    #[test]
    fn each_bad_field_is_named() {
        let ok = BackfillForm::new("nightly", None, day("2026-11-22"));
        let with = |i: usize, v: &str| {
            let mut f = ok.clone();
            f.values[i] = v.into();
            f.validate(&pipelines()).unwrap_err()
        };
        assert_eq!(with(PIPELINE, "weekly").0, PIPELINE);
        assert!(
            with(PIPELINE, "weekly")
                .1
                .contains("known: nightly, hourly")
        );
        assert_eq!(with(FROM, "2026-02-30").0, FROM);
        assert_eq!(with(TO, "tomorrow").0, TO);
        let reversed = with(FROM, "2026-12-01");
        assert_eq!(reversed.0, TO);
        assert!(reversed.1.contains("before"), "{reversed:?}");
        assert_eq!(with(MAX_ACTIVE, "0").0, MAX_ACTIVE);
        assert_eq!(with(MAX_ACTIVE, "x").0, MAX_ACTIVE);
    }

    #[test]
    fn left_and_right_cycle_pipelines_with_their_max_active() {
        let mut f = BackfillForm::new("nightly", Some(2), day("2026-11-22"));
        f.cycle_pipeline(&pipelines(), true);
        assert_eq!(
            (f.values[0].as_str(), f.values[3].as_str()),
            ("hourly", "1")
        );
        f.cycle_pipeline(&pipelines(), true);
        assert_eq!(
            (f.values[0].as_str(), f.values[3].as_str()),
            ("nightly", "2")
        );
        f.cycle_pipeline(&pipelines(), false);
        assert_eq!(f.values[0], "hourly");
    }
}
