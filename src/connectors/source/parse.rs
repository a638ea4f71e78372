//! Exact parsers shared by the sources: qualified table names with SQL
//! quoting, decimal text to unscaled integers, and date / time text to
//! Arrow's day and microsecond counts. Each refuses rather than guesses: a
//! name that does not parse is an error, and a value that would change is
//! None, the caller's to refuse or convert.

use super::rows::I256;

/// The parts of a dotted name (`schema.table`, `table`), split on dots
/// outside double quotes. A quoted part is quoted whole (`"my.schema"`) and
/// writes a quote as `""`. Refused: an unterminated quote, a quote inside
/// an unquoted part, text after a closing quote, and empty parts.
pub(crate) fn dotted_parts(s: &str) -> Result<Vec<String>, String> {
    let mut parts = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err(format!("`{s}`: a quote is not closed")),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                }
            }
            if let Some(&c) = chars.peek().filter(|&&c| c != '.') {
                return Err(format!(
                    "`{s}`: {c:?} follows the closing quote of \"{part}\" (a quoted name is quoted whole)"
                ));
            }
            if part.is_empty() {
                return Err(format!("`{s}`: a quoted name (\"\") is empty"));
            }
        } else {
            while let Some(&c) = chars.peek().filter(|&&c| c != '.') {
                if c == '"' {
                    return Err(format!(
                        "`{s}`: a quote inside the unquoted name `{part}…`: quote the whole name, and write a quote in it as \"\""
                    ));
                }
                part.push(c);
                chars.next();
            }
            if part.is_empty() {
                return Err(format!("`{s}`: a name before or after a dot is empty"));
            }
        }
        parts.push(part);
        // The loop above stopped at a dot or at the end.
        if chars.next().is_none() {
            return Ok(parts);
        }
    }
}

/// `-12.5` at scale 3 → "-12500": the unscaled digits, or None when the text
/// is not a plain decimal or has non-zero digits beyond `scale`.
fn decimal_digits(text: &str, scale: i8) -> Option<String> {
    let t = text.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return None;
    }
    let scale = usize::try_from(scale).ok()?;
    let (kept, dropped) = frac.split_at(frac.len().min(scale));
    if dropped.bytes().any(|b| b != b'0') {
        return None;
    }
    let mut out = String::with_capacity(int.len() + scale + 2);
    if neg {
        out.push('-');
    }
    out.push_str(if int.is_empty() { "0" } else { int });
    out.push_str(kept);
    out.extend(std::iter::repeat_n('0', scale - kept.len()));
    Some(out)
}

pub(crate) fn decimal_i128(text: &str, scale: i8) -> Option<i128> {
    decimal_digits(text, scale)?.parse().ok()
}

pub(crate) fn decimal_i256(text: &str, scale: i8) -> Option<I256> {
    I256::from_string(&decimal_digits(text, scale)?)
}

/// Days since 1970-01-01 of a calendar date; None for dates that do not
/// exist (MySQL's zero dates, February 30th).
pub(crate) fn days_from_ymd(y: i32, m: u32, d: u32) -> Option<i32> {
    let date = chrono::NaiveDate::from_ymd_opt(y, m, d)?;
    Some(chrono::Datelike::num_days_from_ce(&date) - 719_163)
}

pub(crate) fn micros_of_day(h: u32, m: u32, s: u32, us: u32) -> Option<i64> {
    if h > 23 || m > 59 || s > 59 || us > 999_999 {
        return None;
    }
    Some(((i64::from(h) * 60 + i64::from(m)) * 60 + i64::from(s)) * 1_000_000 + i64::from(us))
}

pub(crate) const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A parsed `YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]][Z|±HH[:MM]]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DateTimeText {
    pub micros: i64,
    /// Seconds east of UTC, when the text names a zone.
    pub offset: Option<i32>,
}

pub(crate) fn parse_date(text: &str) -> Option<i32> {
    let b = text.trim().as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    days_from_ymd(num(&b[0..4])? as i32, num(&b[5..7])?, num(&b[8..10])?)
}

pub(crate) fn parse_datetime(text: &str) -> Option<DateTimeText> {
    let t = text.trim();
    let days = parse_date(t.get(..10)?)?;
    let rest = &t[10..];
    if rest.is_empty() {
        return Some(DateTimeText {
            micros: i64::from(days) * MICROS_PER_DAY,
            offset: None,
        });
    }
    let rest = rest.strip_prefix([' ', 'T'])?;
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let offset = match zone {
        "" => None,
        "Z" | "z" => Some(0),
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let hm = z[1..].replace(':', "");
            let (h, m) = match hm.len() {
                2 => (num(hm.as_bytes())?, 0),
                4 => (num(&hm.as_bytes()[..2])?, num(&hm.as_bytes()[2..])?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            Some(sign * (h as i32 * 3600 + m as i32 * 60))
        }
    };
    let micros = i64::from(days) * MICROS_PER_DAY + parse_time(clock.trim_end())?;
    Some(DateTimeText { micros, offset })
}

/// `HH:MM[:SS[.ffffff]]` → microseconds since midnight. Fractions finer than
/// a microsecond are accepted only when they are zeros (else not exact).
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    let t = text.trim();
    let (hms, frac) = t.split_once('.').unwrap_or((t, ""));
    let mut parts = hms.split(':');
    let (h, m) = (parts.next()?, parts.next()?);
    let s = parts.next().unwrap_or("00");
    if parts.next().is_some() || h.len() != 2 || m.len() != 2 || s.len() != 2 {
        return None;
    }
    if (!frac.is_empty() && hms.len() != 8) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (kept, dropped) = frac.split_at(frac.len().min(6));
    if dropped.bytes().any(|b| b != b'0') {
        return None;
    }
    let us = if kept.is_empty() {
        0
    } else {
        num(kept.as_bytes())? * 10u32.pow(6 - kept.len() as u32)
    };
    micros_of_day(
        num(h.as_bytes())?,
        num(m.as_bytes())?,
        num(s.as_bytes())?,
        us,
    )
}

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_names_split_with_quotes_or_are_refused() {
        let ok = |s: &str| dotted_parts(s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok("public.users"), ["public", "users"]);
        assert_eq!(ok("users"), ["users"]);
        assert_eq!(ok(r#""odd.a".b"#), ["odd.a", "b"]);
        assert_eq!(ok(r#"odd."a.b""#), ["odd", "a.b"]);
        assert_eq!(ok(r#""Q ""x""".{run_date}"#), ["Q \"x\"", "{run_date}"]);
        assert_eq!(ok("a.b.c.d").len(), 4, "counting parts is the caller's");
        for (bad, says) in [
            (r#""abc"#, "not closed"),
            (r#"public."users"#, "not closed"),
            (r#"ab"c"#, "quote inside"),
            (r#""a"b.c"#, "follows the closing quote"),
            ("public.", "empty"),
            (".users", "empty"),
            ("a..b", "empty"),
            ("", "empty"),
            (r#""".x"#, "empty"),
            (r#"".x"#, "not closed"),
        ] {
            let e = dotted_parts(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad} parsed"));
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn decimals_are_exact_or_refused() {
        assert_eq!(decimal_i128("12.34", 2), Some(1234));
        assert_eq!(decimal_i128("-0.5", 3), Some(-500));
        assert_eq!(decimal_i128("7", 2), Some(700));
        assert_eq!(decimal_i128("1.230", 2), Some(123));
        assert_eq!(decimal_i128("1.235", 2), None);
        assert_eq!(decimal_i128("abc", 2), None);
        assert_eq!(decimal_i128(".5", 1), Some(5));
        assert_eq!(decimal_i128("1e5", 0), None);
        assert_eq!(
            decimal_i256("-12345678901234567890123456789012345678901234.5", 1),
            I256::from_string("-123456789012345678901234567890123456789012345")
        );
    }

    #[test]
    fn dates_and_times_parse_exactly() {
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(parse_date("2024-02-30"), None);
        assert_eq!(parse_time("01:02:03.5"), Some(3_723_500_000));
        assert_eq!(parse_time("01:02"), Some(3_720_000_000));
        assert_eq!(parse_time("01:02:03.1234567"), None);
        assert_eq!(parse_time("24:00:00"), None);
        let dt = parse_datetime("1970-01-01T00:00:01.000001Z").unwrap();
        assert_eq!(
            dt,
            DateTimeText {
                micros: 1_000_001,
                offset: Some(0)
            }
        );
        let dt = parse_datetime("1970-01-02 01:00 +01:30").unwrap();
        assert_eq!(dt.offset, Some(5400));
        assert_eq!(dt.micros, MICROS_PER_DAY + 3_600_000_000);
        assert_eq!(parse_datetime("1970-01-02").unwrap().micros, MICROS_PER_DAY);
        assert_eq!(parse_datetime("1970-01-02x"), None);
        assert_eq!(
            parse_datetime("1970-01-02 10:00-0230").unwrap().offset,
            Some(-9000)
        );
    }
}
