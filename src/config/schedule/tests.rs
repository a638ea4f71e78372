use chrono::{NaiveDate, TimeZone};
use chrono_tz::America::New_York;
use chrono_tz::Europe::Berlin;

use super::*;
use chrono::NaiveTime;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .to_utc()
}

/// An unambiguous local time, as `YYYY-MM-DD HH:MM`.
fn local(tz: Tz, s: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    tz.from_local_datetime(&naive).single().unwrap().to_utc()
}

/// Local time with its offset, so a test reads as a wall clock.
fn show(tz: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

fn cron(s: &str) -> Schedule {
    Schedule::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// Every slot of `schedule` on one local day.
fn slots_on(schedule: &Schedule, tz: Tz, day: &str) -> Vec<String> {
    let date = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    let start = first_instant(tz, date.and_hms_opt(0, 0, 0).unwrap());
    let end = first_instant(tz, date.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap());
    schedule
        .slots_between(
            tz,
            start - TimeDelta::seconds(1),
            end - TimeDelta::seconds(1),
            10_000,
        )
        .into_iter()
        .map(|t| show(tz, t))
        .collect()
}

#[test]
fn parses_cron_shorthands_and_every() {
    for (text, same_as) in [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@weekly", "0 0 * * SUN"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@DAILY", "0 0 * * *"),
        ("0 30 2 * * *", "30 2 * * *"),
    ] {
        let after = utc("2026-05-13T10:17:00Z");
        let a = cron(text).next_after(Berlin, after);
        let b = cron(same_as).next_after(Berlin, after);
        assert!(a.is_some(), "{text}");
        assert_eq!(a, b, "{text} vs {same_as}");
    }
    assert_eq!(
        cron("@every 1h30m"),
        Schedule::Every(Duration::from_secs(5400))
    );
    assert_eq!(cron("@every 30s").to_string(), "@every 30s");
    assert_eq!(cron(" 30 2 * * 1-5 ").to_string(), "30 2 * * 1-5");
    // Seconds: the 6th field comes first.
    let every_20s = cron("*/20 * * * * *");
    assert_eq!(
        every_20s.next_after(Tz::UTC, utc("2026-05-13T10:17:05Z")),
        Some(utc("2026-05-13T10:17:20Z"))
    );
    // Five fields are minute precision.
    assert_eq!(
        cron("* * * * *").next_after(Tz::UTC, utc("2026-05-13T10:17:05Z")),
        Some(utc("2026-05-13T10:18:00Z"))
    );
}

#[test]
fn bad_schedules_say_what_is_wrong() {
    let cases = [
        (
            "0 25 * * *",
            "invalid cron schedule `0 25 * * *`: hour field `25` is not valid (number out of bounds); hour values are 0-23",
        ),
        (
            "0 0 * 13 *",
            "invalid cron schedule `0 0 * 13 *`: month field `13` is not valid (number out of bounds); month values are 1-12 or JAN-DEC",
        ),
        (
            "61 * * * * *",
            "invalid cron schedule `61 * * * * *`: second field `61` is not valid (number out of bounds); second values are 0-59",
        ),
        (
            "* * *",
            "`* * *` has 3 fields; a cron schedule has 5 (minute hour day-of-month month day-of-week) or 6 (with seconds first)",
        ),
        (
            "0 0 0 1 1 * 2030",
            "`0 0 0 1 1 * 2030` has 7 fields; a cron schedule has 5 (minute hour day-of-month month day-of-week) or 6 (with seconds first)",
        ),
        ("@every 0s", "`@every 0s`: the interval must be at least 1s"),
        (
            "@every 500ms",
            "`@every 500ms`: the interval must be at least 1s (slots are whole seconds)",
        ),
        (
            "@every 1s500ms",
            "`@every 1s500ms`: the interval must be whole seconds (slots are whole seconds)",
        ),
        (
            "@every",
            "`@every` needs an interval, e.g. \"@every 30s\", \"@every 5m\" or \"@every 1h30m\"",
        ),
        (
            "@dialy",
            "unknown schedule `@dialy` (@hourly | @daily | @midnight | @weekly | @monthly | @yearly | @every DURATION); did you mean `@daily`?",
        ),
        (
            "0 0 30 2 *",
            "cron schedule `0 0 30 2 *` never fires (no date matches it)",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(Schedule::parse(text).unwrap_err(), want, "{text}");
    }
    let err = Schedule::parse("@every 10x").unwrap_err();
    assert!(
        err.starts_with("`@every 10x`: invalid duration \"10x\""),
        "{err}"
    );
    let err = Schedule::parse("").unwrap_err();
    assert!(
        err.starts_with("empty schedule; expected a cron expression"),
        "{err}"
    );
    let err = Schedule::parse("0 0 * * MONDAY").unwrap_err();
    assert!(
        err.contains("day-of-week field `MONDAY` is not valid"),
        "{err}"
    );
}

#[test]
fn every_slots_are_multiples_of_the_interval_since_the_epoch() {
    let every = cron("@every 7s");
    let after = utc("2026-05-13T10:17:05.250Z");
    let next = every.next_after(Berlin, after).unwrap();
    assert_eq!(next.timestamp_millis() % 7000, 0);
    assert!(next > after && next - after <= TimeDelta::seconds(7));
    // Another process asking at another time, in another zone, gets the same grid.
    let later = every
        .next_after(New_York, next + TimeDelta::seconds(3))
        .unwrap();
    assert_eq!(later, next + TimeDelta::seconds(7));
    // A slot is not after itself; it is the latest at or before itself.
    assert_eq!(
        every.next_after(Tz::UTC, next),
        Some(next + TimeDelta::seconds(7))
    );
    assert_eq!(every.latest_at_or_before(Tz::UTC, next), Some(next));
    assert_eq!(
        every.latest_at_or_before(Tz::UTC, next - TimeDelta::milliseconds(1)),
        Some(next - TimeDelta::seconds(7))
    );
    // Before 1970 too.
    let old = every
        .latest_at_or_before(Tz::UTC, utc("1969-12-31T23:59:59Z"))
        .unwrap();
    assert_eq!(old.timestamp() % 7, 0);
    assert_eq!(old, utc("1969-12-31T23:59:53Z"));
    // Daily intervals are UTC days, whatever the zone.
    assert_eq!(
        cron("@every 1d").next_after(Berlin, utc("2026-03-29T12:00:00Z")),
        Some(utc("2026-03-30T00:00:00Z"))
    );
}

#[test]
fn slots_between_is_half_open_ordered_and_limited() {
    let hourly = cron("@hourly");
    let after = utc("2026-05-13T10:00:00Z");
    let until = utc("2026-05-13T13:00:00Z");
    let slots = hourly.slots_between(Tz::UTC, after, until, 100);
    assert_eq!(
        slots,
        vec![
            utc("2026-05-13T11:00:00Z"),
            utc("2026-05-13T12:00:00Z"),
            utc("2026-05-13T13:00:00Z")
        ]
    );
    assert_eq!(hourly.slots_between(Tz::UTC, after, until, 2).len(), 2);
    assert!(hourly.slots_between(Tz::UTC, after, after, 10).is_empty());
    assert!(hourly.slots_between(Tz::UTC, until, after, 10).is_empty());
    let every = cron("@every 30s");
    assert_eq!(every.slots_between(Tz::UTC, after, until, 1_000).len(), 360);
}

#[test]
fn daily_0230_through_berlin_spring_forward_and_fall_back() {
    let daily = cron("30 2 * * *");
    // 2026-03-29: 02:00 CET jumps to 03:00 CEST, so 02:30 is skipped: run at 03:00.
    assert_eq!(
        daily
            .slots_between(
                Berlin,
                local(Berlin, "2026-03-28 00:00"),
                local(Berlin, "2026-03-31 00:00"),
                10
            )
            .into_iter()
            .map(|t| show(Berlin, t))
            .collect::<Vec<_>>(),
        [
            "2026-03-28 02:30:00 +01:00",
            "2026-03-29 03:00:00 +02:00",
            "2026-03-30 02:30:00 +02:00"
        ]
    );
    // 2026-10-25: 03:00 CEST falls back to 02:00 CET, so 02:30 shows twice: run once.
    assert_eq!(
        slots_on(&daily, Berlin, "2026-10-25"),
        ["2026-10-25 02:30:00 +02:00"]
    );
    assert_eq!(
        slots_on(&daily, Berlin, "2026-10-26"),
        ["2026-10-26 02:30:00 +01:00"]
    );
    // Asked from inside the second showing, the next slot is tomorrow's.
    let second_showing = utc("2026-10-25T01:30:00Z"); // 02:30 CET
    assert_eq!(
        show(Berlin, daily.next_after(Berlin, second_showing).unwrap()),
        "2026-10-26 02:30:00 +01:00"
    );
    assert_eq!(
        show(
            Berlin,
            daily.latest_at_or_before(Berlin, second_showing).unwrap()
        ),
        "2026-10-25 02:30:00 +02:00"
    );
}

#[test]
fn daily_0230_through_new_york_spring_forward_and_fall_back() {
    let daily = cron("30 2 * * *");
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT.
    assert_eq!(
        slots_on(&daily, New_York, "2026-03-08"),
        ["2026-03-08 03:00:00 -04:00"]
    );
    assert_eq!(
        slots_on(&daily, New_York, "2026-03-09"),
        ["2026-03-09 02:30:00 -04:00"]
    );
    // 2026-11-01: 02:00 EDT falls back to 01:00 EST; 02:30 exists once, 01:30 twice.
    assert_eq!(
        slots_on(&daily, New_York, "2026-11-01"),
        ["2026-11-01 02:30:00 -05:00"]
    );
    let at_0130 = cron("30 1 * * *");
    assert_eq!(
        slots_on(&at_0130, New_York, "2026-11-01"),
        ["2026-11-01 01:30:00 -04:00"]
    );
    assert_eq!(
        at_0130.next_after(New_York, utc("2026-11-01T05:30:00Z")),
        Some(utc("2026-11-02T06:30:00Z"))
    );
}

/// The wall-clock hours of an hourly schedule's slots on one day.
fn hours_on(schedule: &Schedule, tz: Tz, day: &str) -> Vec<u32> {
    slots_on(schedule, tz, day)
        .iter()
        .map(|s| s[11..13].parse().unwrap())
        .collect()
}

#[test]
fn hourly_neither_doubles_nor_skips_an_existing_hour() {
    let all: Vec<u32> = (0..24).collect();
    let without = |h: u32| all.iter().copied().filter(|&x| x != h).collect::<Vec<_>>();
    for text in ["@hourly", "30 * * * *", "0 */1 * * *"] {
        let hourly = cron(text);
        // Spring-forward: the skipped hour has no slot, every other hour one.
        assert_eq!(
            hours_on(&hourly, Berlin, "2026-03-29"),
            without(2),
            "{text}"
        );
        assert_eq!(
            hours_on(&hourly, New_York, "2026-03-08"),
            without(2),
            "{text}"
        );
        // Fall-back: the repeated hour has one slot, at its first showing.
        assert_eq!(hours_on(&hourly, Berlin, "2026-10-25"), all, "{text}");
        assert_eq!(hours_on(&hourly, New_York, "2026-11-01"), all, "{text}");
        // Ordinary days for comparison.
        assert_eq!(hours_on(&hourly, Berlin, "2026-10-26"), all, "{text}");
    }
    let hourly = cron("@hourly");
    assert_eq!(
        slots_on(&hourly, Berlin, "2026-03-29")[1..3],
        ["2026-03-29 01:00:00 +01:00", "2026-03-29 03:00:00 +02:00"]
    );
    assert_eq!(
        slots_on(&hourly, New_York, "2026-11-01")[1..3],
        ["2026-11-01 01:00:00 -04:00", "2026-11-01 02:00:00 -05:00"]
    );
    // At :30 the skipped 02:30 is stood for by 03:30, an hour after 01:30.
    assert_eq!(
        slots_on(&cron("30 * * * *"), Berlin, "2026-03-29")[1..3],
        ["2026-03-29 01:30:00 +01:00", "2026-03-29 03:30:00 +02:00"]
    );
}

#[test]
fn slots_in_a_gap_merge_into_one_at_its_end() {
    let quarter = cron("*/15 * * * *");
    let slots = slots_on(&quarter, Berlin, "2026-03-29");
    let around: Vec<&str> = slots
        .iter()
        .map(String::as_str)
        .filter(|s| s.starts_with("2026-03-29 01:45") || s[11..13] == *"03")
        .collect();
    assert_eq!(
        around,
        [
            "2026-03-29 01:45:00 +01:00",
            "2026-03-29 03:00:00 +02:00",
            "2026-03-29 03:15:00 +02:00",
            "2026-03-29 03:30:00 +02:00",
            "2026-03-29 03:45:00 +02:00"
        ]
    );
    // Twice a day: the 02:30 run is not stood for by 14:30, so it runs at 03:00.
    assert_eq!(
        slots_on(&cron("30 2,14 * * *"), Berlin, "2026-03-29"),
        ["2026-03-29 03:00:00 +02:00", "2026-03-29 14:30:00 +02:00"]
    );
    // Every two hours: 02:00 runs at 03:00, then 04:00 as usual.
    assert_eq!(
        slots_on(&cron("0 */2 * * *"), New_York, "2026-03-08")[..3],
        [
            "2026-03-08 00:00:00 -05:00",
            "2026-03-08 03:00:00 -04:00",
            "2026-03-08 04:00:00 -04:00"
        ]
    );
}

#[test]
fn next_and_latest_describe_the_same_slots() {
    let schedules = [
        "30 2 * * *",
        "0 * * * *",
        "30 * * * *",
        "*/15 * * * *",
        "0 */2 * * *",
        "30 1 * * *",
        "0 0 * * *",
        "30 2,14 * * *",
        "15 */7 * * * *",
    ];
    let zones = [
        Berlin,
        New_York,
        chrono_tz::Australia::Lord_Howe,
        chrono_tz::Europe::London,
    ];
    let windows = [
        ("2026-03-28T12:00:00Z", "2026-03-30T00:00:00Z"),
        ("2026-10-24T12:00:00Z", "2026-10-26T00:00:00Z"),
        ("2026-03-07T12:00:00Z", "2026-03-09T12:00:00Z"),
        ("2026-10-31T12:00:00Z", "2026-11-02T12:00:00Z"),
        ("2026-04-04T00:00:00Z", "2026-04-06T00:00:00Z"),
    ];
    for text in schedules {
        let s = cron(text);
        for tz in zones {
            for (from, to) in windows {
                let (mut x, to) = (utc(from), utc(to));
                while x < to {
                    let next = s.next_after(tz, x).unwrap();
                    let latest = s.latest_at_or_before(tz, x).unwrap();
                    let at = |t| show(tz, t);
                    assert!(latest <= x && x < next, "{text} {tz} at {}", at(x));
                    assert_eq!(
                        s.next_after(tz, latest),
                        Some(next),
                        "{text} {tz} at {}: a slot between {} and {}",
                        at(x),
                        at(latest),
                        at(next)
                    );
                    assert_eq!(s.latest_at_or_before(tz, next), Some(next), "{text} {tz}");
                    x += TimeDelta::seconds(7 * 60 + 13);
                }
            }
        }
    }
}

#[test]
fn parses_time_zones_with_suggestions() {
    assert_eq!(parse_timezone("Europe/Berlin"), Ok(Berlin));
    assert_eq!(parse_timezone("UTC"), Ok(Tz::UTC));
    assert_eq!(parse_timezone(" America/New_York "), Ok(New_York));
    assert_eq!(
        parse_timezone("Europe/Berlinn").unwrap_err(),
        "unknown time zone `Europe/Berlinn`; expected an IANA name such as \"Europe/Berlin\" or \"UTC\"; did you mean `Europe/Berlin`?"
    );
    for (given, suggested) in [
        ("Berlin", "Europe/Berlin"),
        ("new_york", "America/New_York"),
        ("utc", "UTC"),
    ] {
        let err = parse_timezone(given).unwrap_err();
        assert!(
            err.ends_with(&format!("did you mean `{suggested}`?")),
            "{given}: {err}"
        );
    }
    let err = parse_timezone("Mars/Olympus_Mons").unwrap_err();
    assert!(!err.contains("did you mean"), "{err}");
    assert!(
        parse_timezone("")
            .unwrap_err()
            .starts_with("empty time zone")
    );
}

#[test]
fn parses_catchup() {
    assert_eq!(Catchup::parse("latest"), Ok(Catchup::Latest));
    assert_eq!(Catchup::parse("all"), Ok(Catchup::All));
    assert_eq!(Catchup::parse("none"), Ok(Catchup::None));
    assert_eq!(Catchup::default(), Catchup::Latest);
    assert_eq!(
        Catchup::parse("lastest").unwrap_err(),
        "unknown catchup `lastest` (latest | all | none); did you mean `latest`?"
    );
    for c in [Catchup::Latest, Catchup::All, Catchup::None] {
        assert_eq!(Catchup::parse(c.as_str()), Ok(c));
    }
}

#[test]
fn parses_deadlines() {
    let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    assert_eq!(Deadline::parse("10:00"), Ok(Deadline::At(hm(10, 0))));
    assert_eq!(Deadline::parse("6:05"), Ok(Deadline::At(hm(6, 5))));
    assert_eq!(
        Deadline::parse("+90m"),
        Ok(Deadline::After(Duration::from_secs(5400)))
    );
    assert_eq!(
        Deadline::parse("+1h30m"),
        Ok(Deadline::After(Duration::from_secs(5400)))
    );
    for text in ["10:00", "+1h30m", "+3s"] {
        assert_eq!(Deadline::parse(text).unwrap().to_string(), text);
    }
    let help = "expected a 24-hour local time \"HH:MM\" such as \"10:00\", or \"+DURATION\" after the slot such as \"+90m\"";
    for (text, want) in [
        ("25:00", format!("invalid deadline `25:00`; {help}")),
        ("10", format!("invalid deadline `10`; {help}")),
        ("", format!("invalid deadline ``; {help}")),
        (
            "+0m",
            "invalid deadline `+0m`: the delay must be more than zero".into(),
        ),
        (
            "+",
            "invalid deadline `+`: a duration must follow `+`, such as \"+90m\"".into(),
        ),
        (
            "10:00pm",
            "invalid deadline `10:00pm`: times are 24-hour; write \"22:00\"".into(),
        ),
        (
            "12am",
            "invalid deadline `12am`: times are 24-hour; write \"00:00\"".into(),
        ),
    ] {
        assert_eq!(Deadline::parse(text).unwrap_err(), want, "{text}");
    }
    let err = Deadline::parse("+90").unwrap_err();
    assert!(
        err.starts_with("invalid deadline: invalid duration \"90\""),
        "{err}"
    );
}

#[test]
fn deadlines_fall_on_the_slots_day_or_the_next() {
    let at = |s: &str| Deadline::parse(s).unwrap();
    let slot = local(Berlin, "2026-05-13 02:30");
    assert_eq!(
        show(Berlin, at("10:00").due(slot, Berlin)),
        "2026-05-13 10:00:00 +02:00"
    );
    // Before the slot's time of day: the next day.
    assert_eq!(
        show(Berlin, at("01:00").due(slot, Berlin)),
        "2026-05-14 01:00:00 +02:00"
    );
    // At the slot's own time: the slot itself.
    assert_eq!(at("02:30").due(slot, Berlin), slot);
    assert_eq!(at("+90m").due(slot, Berlin), slot + TimeDelta::minutes(90));
    // The day is the slot's local day, not its UTC day.
    let late_slot = local(New_York, "2026-05-13 22:00"); // 02:00Z on the 14th
    assert_eq!(
        show(New_York, at("23:00").due(late_slot, New_York)),
        "2026-05-13 23:00:00 -04:00"
    );
}

#[test]
fn deadlines_in_a_gap_or_a_repeated_hour() {
    let at = |s: &str| Deadline::parse(s).unwrap();
    // 02:30 does not exist on 2026-03-29 in Berlin: the next valid time, 03:00.
    let midnight = local(Berlin, "2026-03-29 00:00");
    assert_eq!(
        show(Berlin, at("02:30").due(midnight, Berlin)),
        "2026-03-29 03:00:00 +02:00"
    );
    assert_eq!(
        show(
            New_York,
            at("02:15").due(local(New_York, "2026-03-08 00:00"), New_York)
        ),
        "2026-03-08 03:00:00 -04:00"
    );
    // 02:30 shows twice on 2026-10-25: the earlier instant.
    assert_eq!(
        show(
            Berlin,
            at("02:30").due(local(Berlin, "2026-10-25 00:00"), Berlin)
        ),
        "2026-10-25 02:30:00 +02:00"
    );
    assert_eq!(
        show(
            New_York,
            at("01:30").due(local(New_York, "2026-11-01 00:00"), New_York)
        ),
        "2026-11-01 01:30:00 -04:00"
    );
    // From inside the second showing, 02:50 still comes that day (its second showing),
    // while 02:30 has passed twice and falls on the next day.
    let second_0240 = utc("2026-10-25T01:40:00Z");
    assert_eq!(
        show(Berlin, at("02:50").due(second_0240, Berlin)),
        "2026-10-25 02:50:00 +01:00"
    );
    assert_eq!(
        show(Berlin, at("02:30").due(second_0240, Berlin)),
        "2026-10-26 02:30:00 +01:00"
    );
}

#[test]
fn wait_until_is_relative_to_its_reference() {
    let six = NaiveTime::from_hms_opt(6, 0, 0).unwrap();
    let late = local(Berlin, "2026-05-13 23:30");
    assert_eq!(
        show(Berlin, local_time_on_or_after(late, Berlin, six)),
        "2026-05-14 06:00:00 +02:00"
    );
    let early = local(Berlin, "2026-05-13 05:00");
    assert_eq!(
        show(Berlin, local_time_on_or_after(early, Berlin, six)),
        "2026-05-13 06:00:00 +02:00"
    );
    // Across the change to summer time, 23:30 to 06:00 is 5.5 real hours.
    let before_change = local(Berlin, "2026-03-28 23:30");
    assert_eq!(
        local_time_on_or_after(before_change, Berlin, six) - before_change,
        TimeDelta::minutes(330)
    );
}

#[test]
fn slot_dates_are_local() {
    assert_eq!(slot_date(utc("2026-05-13T23:30:00Z"), Berlin), "2026-05-14");
    assert_eq!(
        slot_date(utc("2026-05-13T23:30:00Z"), Tz::UTC),
        "2026-05-13"
    );
    assert_eq!(
        slot_date(utc("2026-05-14T02:00:00Z"), New_York),
        "2026-05-13"
    );
    // The skipped 02:30 slot runs at 03:00 the same day.
    let slot = cron("30 2 * * *")
        .next_after(Berlin, local(Berlin, "2026-03-29 00:00"))
        .unwrap();
    assert_eq!(slot_date(slot, Berlin), "2026-03-29");
}

#[test]
fn gaps_are_found_exactly() {
    let wall = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    let WallTime::Skipped(gap) = resolve(Berlin, wall("2026-03-29 02:30")) else {
        panic!("02:30 should be skipped");
    };
    assert_eq!(gap.starts, wall("2026-03-29 02:00"));
    assert_eq!(gap.ends, wall("2026-03-29 03:00"));
    assert_eq!(gap.resumes, utc("2026-03-29T01:00:00Z"));
    // Lord Howe moves its clock by half an hour.
    let WallTime::Skipped(gap) = resolve(chrono_tz::Australia::Lord_Howe, wall("2026-10-04 02:10"))
    else {
        panic!("02:10 should be skipped");
    };
    assert_eq!(gap.ends, wall("2026-10-04 02:30"));
    // Samoa skipped a whole day in 2011.
    let WallTime::Skipped(gap) = resolve(chrono_tz::Pacific::Apia, wall("2011-12-30 12:00")) else {
        panic!("2011-12-30 should be skipped in Samoa");
    };
    assert_eq!(gap.starts, wall("2011-12-30 00:00"));
    assert_eq!(gap.ends, wall("2011-12-31 00:00"));
}
