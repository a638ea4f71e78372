//! Durations (`"1h30m"`) and times of day (`"03:30"`) as written in `switchyard.toml`.

use std::time::Duration;

use chrono::NaiveTime;

const DURATION_HELP: &str = "expected a duration such as \"500ms\", \"30s\", \"10m\", \"1h30m\" or \"2d\" \
     (a whole number followed by ms, s, m, h or d, parts may be combined)";

/// Parses `"30s"`, `"10m"`, `"1h"`, `"1h30m"`, `"500ms"`, `"2d"`, `"0s"`.
/// Parts may be separated by spaces (`"1h 30m"`). The error text says what is accepted.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let text = s.trim();
    if text.is_empty() {
        return Err(format!("empty duration; {DURATION_HELP}"));
    }
    let bad = || format!("invalid duration {s:?}; {DURATION_HELP}");
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let per_unit_ms: u64 = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        rest = rest[unit_len..].trim_start();
        let part = n
            .checked_mul(per_unit_ms)
            .map(Duration::from_millis)
            .ok_or_else(|| format!("duration {s:?} is too large"))?;
        total = total
            .checked_add(part)
            .ok_or_else(|| format!("duration {s:?} is too large"))?;
    }
    Ok(total)
}

/// Parses a 24-hour time of day `"HH:MM"` (`"3:05"` is accepted too).
pub fn parse_hhmm(s: &str) -> Result<NaiveTime, String> {
    let bad =
        || format!("invalid time {s:?}; expected a 24-hour time of day as HH:MM, e.g. \"03:30\"");
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let digits = |p: &str, max_len: usize| {
        !p.is_empty() && p.len() <= max_len && p.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 2) || !digits(m, 2) || m.len() != 2 {
        return Err(bad());
    }
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    NaiveTime::from_hms_opt(h, m, 0).ok_or_else(bad)
}

/// Compact form that `parse_duration` reads back: `"1m30s"`, `"250ms"`, `"2d3h"`, `"0s"`.
/// Exact to the millisecond (sub-millisecond parts are dropped); callers that want a
/// coarser display should round first.
pub fn format_duration(d: Duration) -> String {
    let mut ms = d.as_millis();
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (unit, size) in [
        ("d", 86_400_000u128),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        let n = ms / size;
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
            ms %= size;
        }
    }
    out
}

/// A span for people ("late by 12m"): whole seconds under ten minutes,
/// whole minutes above, in `format_duration`'s form ("45s", "3m20s", "1h5m").
pub fn human(ms: i64) -> String {
    let ms = ms.max(0) as u64;
    let rounded = if ms < 600_000 {
        ms.div_ceil(1000) * 1000
    } else {
        ms.div_ceil(60_000) * 60_000
    };
    format_duration(Duration::from_millis(rounded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_spans_round_up_to_what_people_read() {
        assert_eq!(human(0), "0s");
        assert_eq!(human(1), "1s");
        assert_eq!(human(200_500), "3m21s");
        assert_eq!(human(12 * 60_000 + 1), "13m");
        assert_eq!(human(3_900_000), "1h5m");
    }

    #[test]
    fn parses_accepted_forms() {
        let cases = [
            ("30s", 30_000),
            ("10m", 600_000),
            ("1h", 3_600_000),
            ("1h30m", 5_400_000),
            ("500ms", 500),
            ("2d", 172_800_000),
            ("0s", 0),
            ("1h 30m", 5_400_000),
            (" 1m30s ", 90_000),
            ("1s500ms", 1_500),
        ];
        for (text, ms) in cases {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_bad_durations_with_help() {
        for text in ["", "30", "s", "10x", "1.5h", "-1s", "1h30", "h1", "10 m"] {
            let err = parse_duration(text).expect_err(text);
            assert!(err.contains("ms, s, m, h or d"), "{text}: {err}");
        }
        assert!(parse_duration("99999999999999999999d").is_err());
        assert!(
            parse_duration("999999999999999d")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn parses_times_of_day() {
        assert_eq!(
            parse_hhmm("03:30"),
            Ok(NaiveTime::from_hms_opt(3, 30, 0).unwrap())
        );
        assert_eq!(
            parse_hhmm("23:59"),
            Ok(NaiveTime::from_hms_opt(23, 59, 0).unwrap())
        );
        assert_eq!(
            parse_hhmm("0:05"),
            Ok(NaiveTime::from_hms_opt(0, 5, 0).unwrap())
        );
        for bad in [
            "24:00", "12:60", "1230", "12:5", "ab:cd", "", "12:30:00", "+1:30",
        ] {
            let err = parse_hhmm(bad).expect_err(bad);
            assert!(err.contains("HH:MM"), "{bad}: {err}");
        }
    }

    #[test]
    fn formats_compactly_and_round_trips() {
        let cases = [
            (0, "0s"),
            (250, "250ms"),
            (90_000, "1m30s"),
            (3_600_000, "1h"),
            (1_500, "1s500ms"),
            (93_784_005, "1d2h3m4s5ms"),
        ];
        for (ms, text) in cases {
            let d = Duration::from_millis(ms);
            assert_eq!(format_duration(d), text);
            assert_eq!(parse_duration(text), Ok(d));
        }
        assert_eq!(format_duration(Duration::from_micros(300)), "0s");
    }
}
