//! The dates a backfill covers, checked the same way by the CLI and the
//! console's form (which validates as the user types, without IO).

use chrono::NaiveDate;

/// More dates than this is almost surely a typo (a year for a month).
pub const MAX_DATES: i64 = 3660;

/// Why a backfill's range is refused, worded for a form or a command line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("`{0}` is not a date (YYYY-MM-DD)")]
    NotADate(String),
    #[error("to ({to}) is before from ({from})")]
    Reversed { from: String, to: String },
    #[error("{0} dates is more than a backfill takes ({MAX_DATES})")]
    TooMany(i64),
}

pub fn parse_date(s: &str) -> Result<NaiveDate, RangeError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| RangeError::NotADate(s.trim().to_string()))
}

/// Every date from `from` to `to`, both included, as `YYYY-MM-DD`.
pub fn dates(from: &str, to: &str) -> Result<Vec<String>, RangeError> {
    let (f, t) = (parse_date(from)?, parse_date(to)?);
    if t < f {
        return Err(RangeError::Reversed {
            from: f.to_string(),
            to: t.to_string(),
        });
    }
    let days = (t - f).num_days() + 1;
    if days > MAX_DATES {
        return Err(RangeError::TooMany(days));
    }
    Ok((0..days)
        .map(|d| {
            (f + chrono::Duration::days(d))
                .format("%Y-%m-%d")
                .to_string()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_include_both_ends_and_refuse_bad_input() {
        assert_eq!(
            dates("2026-02-27", "2026-03-01").unwrap(),
            ["2026-02-27", "2026-02-28", "2026-03-01"]
        );
        assert_eq!(dates("2026-01-01", "2026-01-01").unwrap().len(), 1);
        assert_eq!(
            dates("2026-01-02", "2026-01-01"),
            Err(RangeError::Reversed {
                from: "2026-01-02".into(),
                to: "2026-01-01".into()
            })
        );
        assert_eq!(
            dates("2026-13-01", "2026-01-01"),
            Err(RangeError::NotADate("2026-13-01".into()))
        );
        assert!(matches!(
            dates("2000-01-01", "2026-01-01"),
            Err(RangeError::TooMany(_))
        ));
    }
}
