//! The dates a backfill covers, checked the same way by the CLI and the
//! console's form (which validates as the user types, without IO).

use chrono::{Datelike, NaiveDate};

/// More dates than this is almost surely a typo (a year for a month).
pub const MAX_DATES: i64 = 3660;

/// Why a backfill's range is refused, worded for a form or a command line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("`{0}` is not a date (YYYY-MM-DD, years 0001 to 9999)")]
    NotADate(String),
    #[error("to ({to}) is before from ({from})")]
    Reversed { from: String, to: String },
    #[error("{0} dates is more than a backfill takes ({MAX_DATES})")]
    TooMany(i64),
}

/// A run date, exactly `YYYY-MM-DD` from 0001-01-01: chrono alone also
/// takes a year 0, a signed year and fields without their leading zeros,
/// which then print differently from what was typed.
pub fn parse_date(s: &str) -> Result<NaiveDate, RangeError> {
    let s = s.trim();
    let bad = || RangeError::NotADate(crate::text::one_line(s).into_owned());
    let shaped = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return Err(bad());
    }
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?;
    if date.year() < 1 {
        return Err(bad());
    }
    Ok(date)
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
        for bad in [
            "0000-01-01",
            "-0001-01-01",
            "+2026-01-01",
            "2026-1-01",
            "2026-01-1",
        ] {
            assert_eq!(
                parse_date(bad),
                Err(RangeError::NotADate(bad.into())),
                "{bad}"
            );
        }
        assert!(parse_date("0001-01-01").is_ok());
        assert!(parse_date("9999-12-31").is_ok());
    }
}
