//! Deadlines (`"10:00"` on the reference's local day, or `"+90m"` after it)
//! and the same "HH:MM relative to a reference" rule for `wait until`.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;

use super::wall_clock::{WallTime, first_instant, resolve, wall_clock};
use crate::config::duration::{format_duration, parse_duration, parse_hhmm};

const DEADLINE_HELP: &str = "expected a 24-hour local time \"HH:MM\" such as \"10:00\", \
     or \"+DURATION\" after the slot such as \"+90m\"";

/// When a slot's run (or a task of it) must have succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// `"HH:MM"`: that local time on the reference's day, or the next day.
    At(NaiveTime),
    /// `"+90m"`: that long after the reference.
    After(Duration),
}

impl Deadline {
    pub fn parse(s: &str) -> Result<Deadline, String> {
        let text = s.trim();
        if let Some(rest) = text.strip_prefix('+') {
            if rest.trim().is_empty() {
                return Err(format!(
                    "invalid deadline `{text}`: a duration must follow `+`, such as \"+90m\""
                ));
            }
            let after = parse_duration(rest).map_err(|e| format!("invalid deadline: {e}"))?;
            if after.is_zero() {
                return Err(format!(
                    "invalid deadline `{text}`: the delay must be more than zero"
                ));
            }
            return Ok(Deadline::After(after));
        }
        if let Some(hint) = twelve_hour_hint(text) {
            return Err(format!("invalid deadline `{text}`: {hint}"));
        }
        parse_hhmm(text)
            .map(Deadline::At)
            .map_err(|_| format!("invalid deadline `{text}`; {DEADLINE_HELP}"))
    }

    /// When the deadline falls. `reference` is the slot (or, for a run without a
    /// slot, its creation time). `At(t)`: `t` on the reference's local day in
    /// `tz`, or the next day when that is before the reference (see
    /// `local_time_on_or_after`). `After(d)`: `reference + d`.
    pub fn due(&self, reference: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        match self {
            Deadline::At(t) => local_time_on_or_after(reference, tz, *t),
            Deadline::After(d) => TimeDelta::from_std(*d)
                .ok()
                .and_then(|d| reference.checked_add_signed(d))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    }
}

impl fmt::Display for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Deadline::At(t) => write!(f, "{}", t.format("%H:%M")),
            Deadline::After(d) => write!(f, "+{}", format_duration(*d)),
        }
    }
}

/// "10:00pm" → "write it as \"22:00\"".
fn twelve_hour_hint(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let (time, pm) = match (lower.strip_suffix("am"), lower.strip_suffix("pm")) {
        (Some(t), _) => (t, false),
        (_, Some(t)) => (t, true),
        _ => return None,
    };
    let time = time.trim_end();
    let t = parse_hhmm(time)
        .ok()
        .or_else(|| parse_hhmm(&format!("{time}:00")).ok())?;
    let hour = chrono::Timelike::hour(&t);
    let minute = chrono::Timelike::minute(&t);
    if !(1..=12).contains(&hour) {
        return None;
    }
    let hour24 = match (hour, pm) {
        (12, false) => 0,
        (12, true) => 12,
        (h, true) => h + 12,
        (h, false) => h,
    };
    Some(format!(
        "times are 24-hour; write \"{hour24:02}:{minute:02}\""
    ))
}

/// `t` local time in `tz` on the reference's local day, or on the next day when it
/// falls before the reference: `wait until = "06:00"` at 23:30 waits for 06:00
/// tomorrow. A time the clock skips that day means the first instant after the
/// gap; a time it shows twice means the first showing not before the reference.
pub fn local_time_on_or_after(reference: DateTime<Utc>, tz: Tz, t: NaiveTime) -> DateTime<Utc> {
    let day = wall_clock(tz, reference).date();
    let on_day = day.and_time(t);
    let candidates = match resolve(tz, on_day) {
        WallTime::Single(t) => [Some(t), None],
        WallTime::Repeated { earlier, later } => [Some(earlier), Some(later)],
        WallTime::Skipped(gap) => [Some(gap.resumes), None],
    };
    if let Some(at) = candidates.into_iter().flatten().find(|at| *at >= reference) {
        return at;
    }
    match day.succ_opt() {
        Some(next) => first_instant(tz, next.and_time(t)),
        None => DateTime::<Utc>::MAX_UTC,
    }
}
