//! High-water marks of incremental exports: the largest value of a column
//! that only grows (an integer id, a timestamp), and the filter "rows above
//! this mark" that each source renders in its own SQL.
//!
//! A mark is kept as text in the state store (`kind` + `text`), compared here
//! in Rust so both store backends agree. Timestamps are microseconds: a
//! nanosecond column's mark is floored, so a row in the same microsecond is
//! read again rather than skipped.

use std::fmt;

use anyhow::{Result, anyhow, bail};
use arrow_array::{Array, ArrayRef, PrimitiveArray, types::*};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// What kind of value a mark holds, from the column's Arrow type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    Integer,
    /// A timestamp with a zone (stored as UTC): `timestamptz`, MySQL `timestamp`.
    Timestamp,
    /// A timestamp without a zone (wall time): `timestamp`, MySQL `datetime`.
    LocalTimestamp,
}

impl MarkKind {
    /// The kind of a column an incremental export can follow, or None for a
    /// type whose values need not grow in order (text, floats, dates…).
    pub fn of(t: &DataType) -> Option<MarkKind> {
        match t {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => Some(MarkKind::Integer),
            DataType::Timestamp(_, Some(_)) => Some(MarkKind::Timestamp),
            DataType::Timestamp(_, None) => Some(MarkKind::LocalTimestamp),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            MarkKind::Integer => "integer",
            MarkKind::Timestamp => "timestamp",
            MarkKind::LocalTimestamp => "local_timestamp",
        }
    }

    pub fn parse_name(s: &str) -> Option<MarkKind> {
        [
            MarkKind::Integer,
            MarkKind::Timestamp,
            MarkKind::LocalTimestamp,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }
}

/// One value of the column: an integer, or microseconds since the epoch
/// (UTC for `Timestamp`, wall time read as UTC for `LocalTimestamp`). Marks
/// of one kind compare by value (`later`); of two kinds, not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub kind: MarkKind,
    pub value: i64,
}

impl Mark {
    /// Reads a mark as written by `text`, or as a person types it: an
    /// integer; RFC 3339 (`2026-12-07T03:00:00Z`, any offset); or
    /// `2026-12-07 03:00:00[.ffffff]` / `2026-12-07` (UTC, or wall time for a
    /// local timestamp).
    pub fn parse(kind: MarkKind, s: &str) -> Result<Mark> {
        let s = s.trim();
        let value = match kind {
            MarkKind::Integer => s
                .parse::<i64>()
                .map_err(|_| anyhow!("`{s}` is not an integer"))?,
            MarkKind::Timestamp | MarkKind::LocalTimestamp => parse_micros(s).ok_or_else(|| {
                anyhow!(
                    "`{s}` is not a timestamp (write 2026-12-07T03:00:00Z or 2026-12-07 03:00:00)"
                )
            })?,
        };
        Ok(Mark { kind, value })
    }

    /// The stored and shown form: the integer, RFC 3339 in UTC with
    /// microseconds, or the wall time without an offset.
    pub fn text(&self) -> String {
        match self.kind {
            MarkKind::Integer => self.value.to_string(),
            MarkKind::Timestamp => self.datetime().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            MarkKind::LocalTimestamp => self.datetime().format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        }
    }

    /// `YYYY-MM-DD HH:MM:SS.ffffff`: a literal every SQL dialect reads (in
    /// UTC for a zoned timestamp).
    pub fn sql_datetime(&self) -> String {
        self.datetime().format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    }

    fn datetime(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.value).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// The mark less the lookback: a duration for timestamps, a count for
    /// integers. Saturates rather than wrapping at the ends of the range.
    pub fn less(&self, lookback: &Lookback) -> Result<Mark> {
        let by = match (self.kind, lookback) {
            (MarkKind::Integer, Lookback::Values(n)) => *n,
            (MarkKind::Timestamp | MarkKind::LocalTimestamp, Lookback::Duration(d)) => {
                i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
            }
            (MarkKind::Integer, Lookback::Duration(_)) => {
                bail!("`lookback` of an integer column is a number of values (lookback = 1000)")
            }
            (_, Lookback::Values(_)) => {
                bail!("`lookback` of a timestamp column is a duration (lookback = \"10m\")")
            }
        };
        Ok(Mark {
            kind: self.kind,
            value: self.value.saturating_sub(by),
        })
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// How far below the mark a run starts, for rows that commit late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookback {
    Duration(std::time::Duration),
    Values(i64),
}

fn parse_micros(s: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_micros());
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc().timestamp_micros());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_micros())
}

/// An incremental export's filter: rows whose `column` is above `mark`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Above {
    pub column: String,
    pub mark: Mark,
}

/// The largest value of a column in one batch (nulls ignored), as a mark.
/// A `UInt64` value beyond `i64` cannot be a mark: that is an error, not a
/// silently wrapped (and so skipped-past) value.
pub fn max_of(array: &ArrayRef, kind: MarkKind) -> Result<Option<Mark>> {
    fn max<T: arrow_array::ArrowPrimitiveType>(a: &dyn Array) -> Option<T::Native>
    where
        T::Native: Ord,
    {
        let a = a.as_any().downcast_ref::<PrimitiveArray<T>>()?;
        a.iter().flatten().max()
    }
    let a = array.as_ref();
    let value: Option<i64> = match a.data_type() {
        DataType::Int8 => max::<Int8Type>(a).map(i64::from),
        DataType::Int16 => max::<Int16Type>(a).map(i64::from),
        DataType::Int32 => max::<Int32Type>(a).map(i64::from),
        DataType::Int64 => max::<Int64Type>(a),
        DataType::UInt8 => max::<UInt8Type>(a).map(i64::from),
        DataType::UInt16 => max::<UInt16Type>(a).map(i64::from),
        DataType::UInt32 => max::<UInt32Type>(a).map(i64::from),
        DataType::UInt64 => match max::<UInt64Type>(a) {
            Some(v) => Some(
                i64::try_from(v)
                    .map_err(|_| anyhow!("value {v} is too large for a high-water mark"))?,
            ),
            None => None,
        },
        DataType::Timestamp(TimeUnit::Second, _) => {
            max::<TimestampSecondType>(a).map(|v| v.saturating_mul(1_000_000))
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            max::<TimestampMillisecondType>(a).map(|v| v.saturating_mul(1_000))
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => max::<TimestampMicrosecondType>(a),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            max::<TimestampNanosecondType>(a).map(|v| v.div_euclid(1_000))
        }
        other => bail!("a column of type {other} cannot hold a high-water mark"),
    };
    Ok(value.map(|value| Mark { kind, value }))
}

/// The larger of two marks; a mark of another kind (the column's type
/// changed) replaces the old one.
pub fn later(old: Option<Mark>, new: Option<Mark>) -> Option<Mark> {
    match (old, new) {
        (Some(o), Some(n)) if o.kind == n.kind && o.value >= n.value => Some(o),
        (o, None) => o,
        (_, n) => n,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int32Array, TimestampNanosecondArray, UInt64Array};

    use super::*;

    #[test]
    fn text_round_trips_for_every_kind() {
        for (kind, input, text) in [
            (MarkKind::Integer, "-42", "-42"),
            (
                MarkKind::Timestamp,
                "2026-12-07T04:00:00.5+01:00",
                "2026-12-07T03:00:00.500000Z",
            ),
            (
                MarkKind::Timestamp,
                "2026-12-07 03:00:00",
                "2026-12-07T03:00:00.000000Z",
            ),
            (
                MarkKind::LocalTimestamp,
                "2026-12-07",
                "2026-12-07T00:00:00.000000",
            ),
        ] {
            let m = Mark::parse(kind, input).unwrap();
            assert_eq!(m.text(), text, "{input}");
            assert_eq!(Mark::parse(kind, &m.text()).unwrap(), m);
        }
        assert!(Mark::parse(MarkKind::Integer, "12a").is_err());
        assert!(Mark::parse(MarkKind::Timestamp, "yesterday").is_err());
        assert_eq!(
            MarkKind::parse_name(MarkKind::LocalTimestamp.name()),
            Some(MarkKind::LocalTimestamp)
        );
    }

    #[test]
    fn lookback_takes_the_unit_of_the_column() {
        let t = Mark::parse(MarkKind::Timestamp, "2026-12-07T03:00:00Z").unwrap();
        let back = t
            .less(&Lookback::Duration(std::time::Duration::from_secs(600)))
            .unwrap();
        assert_eq!(back.text(), "2026-12-07T02:50:00.000000Z");
        assert!(t.less(&Lookback::Values(5)).is_err());
        let i = Mark::parse(MarkKind::Integer, "100").unwrap();
        assert_eq!(i.less(&Lookback::Values(7)).unwrap().value, 93);
        assert!(
            i.less(&Lookback::Duration(std::time::Duration::from_secs(1)))
                .is_err()
        );
        let low = Mark {
            kind: MarkKind::Integer,
            value: i64::MIN + 1,
        };
        assert_eq!(low.less(&Lookback::Values(5)).unwrap().value, i64::MIN);
    }

    #[test]
    fn max_ignores_nulls_and_floors_nanoseconds() {
        let a: ArrayRef = Arc::new(Int32Array::from(vec![Some(3), None, Some(9), Some(-1)]));
        assert_eq!(max_of(&a, MarkKind::Integer).unwrap().unwrap().value, 9);
        let empty: ArrayRef = Arc::new(Int32Array::from(vec![None::<i32>]));
        assert_eq!(max_of(&empty, MarkKind::Integer).unwrap(), None);
        let ns: ArrayRef = Arc::new(TimestampNanosecondArray::from(vec![1_999, 2_001]));
        assert_eq!(max_of(&ns, MarkKind::Timestamp).unwrap().unwrap().value, 2);
        let huge: ArrayRef = Arc::new(UInt64Array::from(vec![u64::MAX]));
        assert!(max_of(&huge, MarkKind::Integer).is_err());
    }

    #[test]
    fn the_later_mark_wins_and_a_new_kind_replaces_the_old() {
        let m = |v| Mark {
            kind: MarkKind::Integer,
            value: v,
        };
        assert_eq!(later(Some(m(5)), Some(m(3))), Some(m(5)));
        assert_eq!(later(Some(m(5)), Some(m(8))), Some(m(8)));
        assert_eq!(later(Some(m(5)), None), Some(m(5)));
        assert_eq!(later(None, Some(m(1))), Some(m(1)));
        let t = Mark {
            kind: MarkKind::Timestamp,
            value: 1,
        };
        assert_eq!(later(Some(m(5)), Some(t)), Some(t));
    }
}
