//! Pipeline schedules, time zones, `catchup` and deadlines: parsing and the pure
//! time arithmetic on them. Nothing here reads the clock; `now` is a parameter.
//!
//! A cron schedule is evaluated on local wall-clock times (croner, with no zone),
//! and each matching wall time becomes one slot instant in the pipeline's zone:
//! - a wall time the clock shows twice (fall-back) is one slot, at its first
//!   showing;
//! - a wall time the clock skips (spring-forward) is one slot at the first instant
//!   after the gap — unless the schedule fires anyway no later than that slot
//!   would have come by the clock in force before the change (an hourly schedule
//!   does), which then stands for it. Slots that land on one instant are one slot.
//!
//! So a daily 02:30 runs once on both change days (at 03:00 when 02:30 is skipped),
//! and an hourly schedule runs once for every wall-clock hour that exists.
//! `@every` slots ignore zones: they are multiples of the interval since the Unix
//! epoch, so every process and every restart agrees on them.

mod deadline;
mod wall_clock;

pub use deadline::{Deadline, local_time_on_or_after};

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::errors::CronError;
use croner::parser::{CronParser, Seconds, Year};

use super::duration::{format_duration, parse_duration};
use super::suggest::{closest, did_you_mean};
use wall_clock::{WallTime, first_instant, resolve, wall_clock};

const SCHEDULE_HELP: &str = "expected a cron expression such as \"30 2 * * *\", \
     @hourly, @daily, @weekly, @monthly, @yearly, or @every DURATION such as \"@every 5m\"";

/// Searches step over wall times that name no slot of their own; no real zone needs
/// more than a few thousand (an every-second schedule through a repeated hour).
const MAX_STEPS: usize = 200_000;

/// When a pipeline's runs start.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    Cron(Box<CronSchedule>),
    /// Slots at whole multiples of the interval since the Unix epoch.
    Every(Duration),
}

/// A parsed cron expression (5 fields, or 6 with seconds first) and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct CronSchedule {
    text: String,
    cron: Cron,
}

/// `@name` shorthands and the cron expressions they stand for.
const NICKNAMES: &[(&str, &str)] = &[
    ("@hourly", "0 * * * *"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@weekly", "0 0 * * 0"),
    ("@monthly", "0 0 1 * *"),
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
];

const FIELDS_5: &[(&str, &str)] = &[
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31"),
    ("month", "1-12 or JAN-DEC"),
    ("day-of-week", "0-7 or SUN-SAT, 0 and 7 are Sunday"),
];

impl Schedule {
    /// A 5-field cron expression (minute precision), 6 fields with seconds first,
    /// `@hourly`, `@daily` (= `@midnight`), `@weekly`, `@monthly`, `@yearly`, or
    /// `@every DURATION` (whole seconds, at least 1s).
    pub fn parse(s: &str) -> Result<Schedule, String> {
        let text = s.trim();
        if text.is_empty() {
            return Err(format!("empty schedule; {SCHEDULE_HELP}"));
        }
        if let Some(rest) = strip_prefix_ignore_case(text, "@every") {
            return parse_every(text, rest).map(Schedule::Every);
        }
        if text.starts_with('@') {
            let Some((_, cron)) = NICKNAMES
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(text))
            else {
                let names = NICKNAMES.iter().map(|(n, _)| *n).chain(["@every"]);
                let hint = did_you_mean(text, names);
                return Err(format!(
                    "unknown schedule `{text}` (@hourly | @daily | @midnight | @weekly | \
                     @monthly | @yearly | @every DURATION){hint}"
                ));
            };
            return parse_cron(text, cron).map(|c| Schedule::Cron(Box::new(c)));
        }
        parse_cron(text, text).map(|c| Schedule::Cron(Box::new(c)))
    }

    /// The first slot strictly after `after`, in zone `tz`; `None` past year 5000.
    pub fn next_after(&self, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Every(every) => {
                let step = every_ms(*every)?;
                let k = after.timestamp_millis().div_euclid(step).checked_add(1)?;
                DateTime::from_timestamp_millis(k.checked_mul(step)?)
            }
            Schedule::Cron(c) => c.next_after(tz, after),
        }
    }

    /// Every slot in `(after, until]`, in order, at most `limit` of them (the first
    /// ones). The caller applies `catchup`.
    pub fn slots_between(
        &self,
        tz: Tz,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Vec<DateTime<Utc>> {
        let mut slots = Vec::new();
        let mut cursor = after;
        while slots.len() < limit {
            match self.next_after(tz, cursor) {
                Some(slot) if slot <= until => {
                    slots.push(slot);
                    cursor = slot;
                }
                _ => break,
            }
        }
        slots
    }

    /// The latest slot at or before `at` (for `catchup = "latest"`, and to start a
    /// cursor).
    pub fn latest_at_or_before(&self, tz: Tz, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Every(every) => {
                let step = every_ms(*every)?;
                let k = at.timestamp_millis().div_euclid(step);
                DateTime::from_timestamp_millis(k.checked_mul(step)?)
            }
            Schedule::Cron(c) => c.latest_at_or_before(tz, at),
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Cron(c) => f.write_str(&c.text),
            Schedule::Every(d) => write!(f, "@every {}", format_duration(*d)),
        }
    }
}

fn strip_prefix_ignore_case<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    let rest = &s[prefix.len()..];
    let word_ends = rest.is_empty() || rest.starts_with(char::is_whitespace);
    (head.eq_ignore_ascii_case(prefix) && word_ends).then_some(rest)
}

fn parse_every(text: &str, rest: &str) -> Result<Duration, String> {
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(
            "`@every` needs an interval, e.g. \"@every 30s\", \"@every 5m\" or \
                    \"@every 1h30m\""
                .into(),
        );
    }
    let every = parse_duration(rest).map_err(|e| format!("`{text}`: {e}"))?;
    if every.is_zero() {
        return Err(format!("`{text}`: the interval must be at least 1s"));
    }
    if every < Duration::from_secs(1) {
        return Err(format!(
            "`{text}`: the interval must be at least 1s (slots are whole seconds)"
        ));
    }
    if every.subsec_nanos() != 0 {
        return Err(format!(
            "`{text}`: the interval must be whole seconds (slots are whole seconds)"
        ));
    }
    if every_ms(every).is_none() {
        return Err(format!("`{text}`: the interval is too large"));
    }
    Ok(every)
}

fn every_ms(every: Duration) -> Option<i64> {
    i64::try_from(every.as_millis()).ok().filter(|&ms| ms > 0)
}

fn parse_cron(text: &str, cron: &str) -> Result<CronSchedule, String> {
    let fields: Vec<&str> = cron.split_whitespace().collect();
    if fields.len() != 5 && fields.len() != 6 {
        return Err(format!(
            "`{text}` has {} field{}; a cron schedule has 5 (minute hour day-of-month \
             month day-of-week) or 6 (with seconds first)",
            fields.len(),
            if fields.len() == 1 { "" } else { "s" }
        ));
    }
    let parser = CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .build();
    let parsed = parser
        .parse(cron)
        .map_err(|e| cron_error(text, &fields, &parser, &e))?;
    // A pattern such as "0 0 30 2 *" parses but names no date.
    let from = NaiveDateTime::default();
    if parsed.find_next_occurrence(&from, false).is_err() {
        return Err(format!(
            "cron schedule `{text}` never fires (no date matches it)"
        ));
    }
    Ok(CronSchedule {
        text: text.to_string(),
        cron: parsed,
    })
}

/// croner names neither the field nor its range; find the field that fails alone.
fn cron_error(text: &str, fields: &[&str], parser: &CronParser, e: &CronError) -> String {
    let names: Vec<(&str, &str)> = if fields.len() == 6 {
        std::iter::once(("second", "0-59"))
            .chain(FIELDS_5.iter().copied())
            .collect()
    } else {
        FIELDS_5.to_vec()
    };
    let reason = |e: &CronError| {
        let msg = match e {
            CronError::ComponentError(m)
            | CronError::InvalidPattern(m)
            | CronError::IllegalCharacters(m) => m.clone(),
            other => other.to_string(),
        };
        let msg = msg
            .trim_end_matches('.')
            .replace("CronPattern contains ", "");
        let mut chars = msg.chars();
        chars.next().map_or_else(String::new, |c| {
            c.to_lowercase().chain(chars).collect::<String>()
        })
    };
    for (i, field) in fields.iter().enumerate() {
        let alone: Vec<&str> = (0..fields.len())
            .map(|j| if j == i { *field } else { "*" })
            .collect();
        if let Err(e) = parser.parse(&alone.join(" ")) {
            let (name, range) = names[i];
            return format!(
                "invalid cron schedule `{text}`: {name} field `{field}` is not valid ({}); \
                 {name} values are {range}",
                reason(&e)
            );
        }
    }
    format!("invalid cron schedule `{text}`: {}", reason(e))
}

impl CronSchedule {
    /// The expression as written (a shorthand keeps its `@name`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn next_after(&self, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // A slot after `after` has a wall time after `after`'s: the wall time of
        // an instant never names a later instant than the instant itself.
        let mut wall = wall_clock(tz, after);
        for _ in 0..MAX_STEPS {
            let candidate = self.cron.find_next_occurrence(&wall, false).ok()?;
            let (slot, resume) = match resolve(tz, candidate) {
                WallTime::Single(t) | WallTime::Repeated { earlier: t, .. } => (Some(t), candidate),
                // Every wall time of one gap gives the same answer: ask once.
                WallTime::Skipped(gap) => (
                    self.skipped_slot(tz, candidate, &gap),
                    gap.ends - TimeDelta::seconds(1),
                ),
            };
            if let Some(t) = slot
                && t > after
            {
                return Some(t);
            }
            wall = resume;
        }
        None
    }

    fn latest_at_or_before(&self, tz: Tz, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut wall = wall_clock(tz, at);
        // In the second showing of a repeated hour, wall times up to one repeat
        // ahead were first shown before `at`, and that first showing is the slot.
        if let WallTime::Repeated { earlier, later } = resolve(tz, wall)
            && later == at
        {
            wall += later - earlier;
        }
        let mut candidate = self.cron.find_previous_occurrence(&wall, true).ok()?;
        for _ in 0..MAX_STEPS {
            let (slot, resume) = match resolve(tz, candidate) {
                WallTime::Single(t) | WallTime::Repeated { earlier: t, .. } => (Some(t), candidate),
                WallTime::Skipped(gap) => (self.skipped_slot(tz, candidate, &gap), gap.starts),
            };
            if let Some(t) = slot
                && t <= at
            {
                return Some(t);
            }
            candidate = self.cron.find_previous_occurrence(&resume, false).ok()?;
        }
        None
    }

    /// The slot of wall time `wall`, which the clock skips: the first instant after
    /// the gap, or `None` when a slot after the gap stands for it.
    fn skipped_slot(
        &self,
        tz: Tz,
        wall: NaiveDateTime,
        gap: &wall_clock::Gap,
    ) -> Option<DateTime<Utc>> {
        // When `wall` would have come by the clock in force before the change.
        let due = gap.resumes + (wall - gap.starts);
        let covered = self
            .cron
            .find_next_occurrence(&gap.ends, true)
            .is_ok_and(|next| first_instant(tz, next) <= due);
        (!covered).then_some(gap.resumes)
    }
}

/// An IANA zone name (`Europe/Berlin`, `America/New_York`, `UTC`).
pub fn parse_timezone(s: &str) -> Result<Tz, String> {
    let name = s.trim();
    if name.is_empty() {
        return Err(
            "empty time zone; expected an IANA name such as \"Europe/Berlin\" or \"UTC\"".into(),
        );
    }
    if let Ok(tz) = name.parse::<Tz>() {
        return Ok(tz);
    }
    let names = || chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
    let mut hint = did_you_mean(name, names());
    if hint.is_empty() {
        // "Berlin" or "new_york": match the city part of the name.
        let city = |n: &'static str| n.rsplit('/').next().unwrap_or(n);
        let exact = names().find(|n| city(n).eq_ignore_ascii_case(name));
        let near = || {
            closest(name, names().map(city)).and_then(|found| names().find(|n| city(n) == found))
        };
        if let Some(full) = exact.or_else(near) {
            hint = format!("; did you mean `{full}`?");
        }
    }
    Err(format!(
        "unknown time zone `{name}`; expected an IANA name such as \"Europe/Berlin\" or \"UTC\"{hint}"
    ))
}

/// What `serve` does with slots missed while nobody served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Catchup {
    /// Only the most recent missed slot runs.
    #[default]
    Latest,
    /// Every missed slot runs (at most `max_active` at once).
    All,
    /// Missed slots are skipped; the next slot runs when it comes.
    None,
}

impl Catchup {
    pub const NAMES: &[&str] = &["latest", "all", "none"];

    pub fn parse(s: &str) -> Result<Catchup, String> {
        match s.trim() {
            "latest" => Ok(Catchup::Latest),
            "all" => Ok(Catchup::All),
            "none" => Ok(Catchup::None),
            other => Err(format!(
                "unknown catchup `{other}` ({}){}",
                Catchup::NAMES.join(" | "),
                did_you_mean(other, Catchup::NAMES.iter().copied())
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Catchup::Latest => "latest",
            Catchup::All => "all",
            Catchup::None => "none",
        }
    }
}

/// The slot's local date (YYYY-MM-DD) in `tz`: the `run_date` of the slot's run.
pub fn slot_date(slot: DateTime<Utc>, tz: Tz) -> String {
    wall_clock(tz, slot).date().format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests;
