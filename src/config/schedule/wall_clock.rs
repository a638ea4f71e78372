//! Local wall-clock times in an IANA zone and the instants they name, across DST
//! changes: a time the clock skips names none, a time it shows twice names two.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// What one local wall-clock time names in a zone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum WallTime {
    /// An ordinary time: one instant.
    Single(DateTime<Utc>),
    /// A time the clock shows twice (after a fall-back).
    Repeated {
        earlier: DateTime<Utc>,
        later: DateTime<Utc>,
    },
    /// A time the clock skips (a spring-forward).
    Skipped(Gap),
}

/// A range of wall-clock times the clock jumps over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Gap {
    /// The first skipped wall time (02:00 for a jump from 02:00 to 03:00).
    pub starts: NaiveDateTime,
    /// The wall time the clock jumps to (03:00).
    pub ends: NaiveDateTime,
    /// The instant of the jump: the first real instant after the gap.
    pub resumes: DateTime<Utc>,
}

/// The local wall-clock time of an instant.
pub(super) fn wall_clock(tz: Tz, t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&tz).naive_local()
}

pub(super) fn resolve(tz: Tz, wall: NaiveDateTime) -> WallTime {
    match tz.from_local_datetime(&wall) {
        LocalResult::Single(t) => WallTime::Single(t.to_utc()),
        LocalResult::Ambiguous(a, b) => WallTime::Repeated {
            earlier: a.to_utc().min(b.to_utc()),
            later: a.to_utc().max(b.to_utc()),
        },
        LocalResult::None => WallTime::Skipped(gap_around(tz, wall)),
    }
}

/// The instant something due "at" a local time happens: a skipped time at the
/// first instant after the gap, a repeated one at its earlier instant.
pub(super) fn first_instant(tz: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    match resolve(tz, wall) {
        WallTime::Single(t) | WallTime::Repeated { earlier: t, .. } => t,
        WallTime::Skipped(gap) => gap.resumes,
    }
}

/// The gap holding `wall`, a time no instant shows in `tz`.
fn gap_around(tz: Tz, wall: NaiveDateTime) -> Gap {
    // Zone offsets stay within a day of UTC, so two days before `wall` read as
    // UTC the clock showed an earlier time. Moving forward by how far the clock is
    // behind lands past the jump, unless the clock fell back on the way (then
    // repeat from there).
    let mut lo = wall.and_utc() - TimeDelta::days(2);
    let mut hi = lo;
    for _ in 0..16 {
        let behind = wall - wall_clock(tz, lo);
        hi = lo + behind;
        if wall_clock(tz, hi) > wall {
            break;
        }
        lo = hi;
    }
    // The jump is the first whole second in (lo, hi] whose clock is past `wall`.
    let (mut lo_s, mut hi_s) = (lo.timestamp(), hi.timestamp());
    let past = |s: i64| DateTime::from_timestamp(s, 0).is_some_and(|t| wall_clock(tz, t) > wall);
    while hi_s - lo_s > 1 {
        let mid = lo_s + (hi_s - lo_s) / 2;
        if past(mid) {
            hi_s = mid;
        } else {
            lo_s = mid;
        }
    }
    let resumes = DateTime::from_timestamp(hi_s, 0).unwrap_or(hi);
    let last_before = wall_clock(tz, resumes - TimeDelta::seconds(1));
    Gap {
        starts: last_before + TimeDelta::seconds(1),
        ends: wall_clock(tz, resumes),
        resumes,
    }
}
