//! PostgreSQL binary values that need more than a byte swap: numeric to an
//! unscaled decimal integer, interval to ISO-8601 text, uuid to text.

use std::fmt::Write as _;

use anyhow::{Result, bail};
use arrow_array::ArrowNativeTypeOp;

/// Why a numeric value has no exact decimal at the column's precision and scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumericIssue {
    NaN,
    Infinity {
        negative: bool,
    },
    /// More integer digits than the precision leaves room for.
    TooLarge,
    /// More fractional digits than the scale (only when not rounding).
    TooPrecise,
}

impl NumericIssue {
    pub(crate) fn describe(self, precision: u8, scale: i8) -> String {
        match self {
            NumericIssue::NaN => "NaN has no decimal value".into(),
            NumericIssue::Infinity { negative: false } => "Infinity has no decimal value".into(),
            NumericIssue::Infinity { negative: true } => "-Infinity has no decimal value".into(),
            NumericIssue::TooLarge => {
                format!("a value does not fit Decimal({precision},{scale})")
            }
            NumericIssue::TooPrecise => {
                format!("a value has more than {scale} fractional digits")
            }
        }
    }
}

/// A decoded numeric: the unscaled integer and whether it was rounded.
pub(crate) type Unscaled<T> = std::result::Result<(T, bool), NumericIssue>;

/// The unscaled integer (value × 10^scale) of a binary `numeric`, checked
/// against `precision`. With `round`, extra fractional digits are rounded
/// half away from zero (PostgreSQL's rule) instead of being an issue.
/// Malformed bytes are an error; values without a decimal are an issue.
pub(crate) fn numeric_unscaled<T>(
    v: &[u8],
    precision: u8,
    scale: i8,
    round: bool,
) -> Result<Unscaled<T>>
where
    T: ArrowNativeTypeOp + PartialOrd,
{
    if v.len() < 8 {
        bail!("a numeric value of {} bytes", v.len());
    }
    let word = |i: usize| u16::from_be_bytes([v[2 * i], v[2 * i + 1]]);
    let ndigits = usize::from(word(0));
    let weight = i32::from(word(1) as i16);
    let sign = word(2);
    if v.len() != 8 + 2 * ndigits {
        bail!("a numeric value of {} bytes for {ndigits} digits", v.len());
    }
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Ok(Err(NumericIssue::NaN)),
        0xD000 => return Ok(Err(NumericIssue::Infinity { negative: false })),
        0xF000 => return Ok(Err(NumericIssue::Infinity { negative: true })),
        other => bail!("a numeric value with sign word {other:#06x}"),
    }
    let ten = T::usize_as(10);
    let mut acc = T::ZERO;
    let mut inexact = false;
    // The first dropped decimal digit (at 10^-1 of the unscaled integer).
    let mut round_digit = 0u16;
    for i in 0..ndigits {
        let d = word(4 + i);
        if d > 9999 {
            bail!("a numeric digit group of {d}");
        }
        // Digit group i is worth d × 10000^(weight − i); in unscaled units
        // that is d × 10^e.
        let e = 4 * (weight - i as i32) + i32::from(scale);
        if e >= 0 {
            if d == 0 {
                continue;
            }
            let term = ten
                .pow_checked(e as u32)
                .and_then(|p| T::usize_as(usize::from(d)).mul_checked(p))
                .and_then(|t| acc.add_checked(t));
            match term {
                Ok(sum) => acc = sum,
                Err(_) => return Ok(Err(NumericIssue::TooLarge)),
            }
        } else if e > -4 {
            let div = 10u16.pow((-e) as u32);
            acc = match acc.add_checked(T::usize_as(usize::from(d / div))) {
                Ok(sum) => sum,
                Err(_) => return Ok(Err(NumericIssue::TooLarge)),
            };
            let rest = d % div;
            inexact |= rest != 0;
            round_digit = rest / (div / 10);
        } else {
            inexact |= d != 0;
            if e == -4 {
                round_digit = d / 1000;
            }
        }
    }
    if inexact && !round {
        return Ok(Err(NumericIssue::TooPrecise));
    }
    if inexact && round_digit >= 5 {
        acc = match acc.add_checked(T::ONE) {
            Ok(sum) => sum,
            Err(_) => return Ok(Err(NumericIssue::TooLarge)),
        };
    }
    match ten.pow_checked(u32::from(precision)) {
        Ok(limit) if acc >= limit => return Ok(Err(NumericIssue::TooLarge)),
        _ => {}
    }
    if sign == 0x4000 {
        acc = match acc.neg_checked() {
            Ok(n) => n,
            Err(_) => return Ok(Err(NumericIssue::TooLarge)),
        };
    }
    Ok(Ok((acc, inexact)))
}

/// An interval as PostgreSQL prints it with `intervalstyle = iso_8601`
/// (same component split and signs, so `P1Y2M3DT4H5M6.5S`, `P-1M2D`,
/// `PT-1.5S`, and `PT0S` for zero).
pub(crate) fn interval_iso(months: i32, days: i32, micros: i64) -> String {
    const HOUR: i64 = 3_600_000_000;
    const MINUTE: i64 = 60_000_000;
    const SECOND: i64 = 1_000_000;
    let (year, mon) = (months / 12, months % 12);
    let hour = micros / HOUR;
    let min = (micros % HOUR) / MINUTE;
    let sec = (micros % MINUTE) / SECOND;
    let fsec = micros % SECOND;
    if year == 0 && mon == 0 && days == 0 && micros == 0 {
        return "PT0S".into();
    }
    let mut s = String::from("P");
    let part = |s: &mut String, v: i64, unit: char| {
        if v != 0 {
            let _ = write!(s, "{v}{unit}");
        }
    };
    part(&mut s, year.into(), 'Y');
    part(&mut s, mon.into(), 'M');
    part(&mut s, days.into(), 'D');
    if micros != 0 {
        s.push('T');
    }
    part(&mut s, hour, 'H');
    part(&mut s, min, 'M');
    if sec != 0 || fsec != 0 {
        if sec < 0 || fsec < 0 {
            s.push('-');
        }
        let _ = write!(s, "{}", sec.unsigned_abs());
        if fsec != 0 {
            let frac = format!("{:06}", fsec.unsigned_abs());
            s.push('.');
            s.push_str(frac.trim_end_matches('0'));
        }
        s.push('S');
    }
    s
}

/// The canonical lowercase 8-4-4-4-12 form.
/// A uuid's canonical text, on the stack: `fmt` costs a sixth of an export
/// of a uuid-heavy table, a table lookup almost nothing.
pub(crate) fn uuid_text(b: &[u8; 16]) -> [u8; 36] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'-'; 36];
    let mut at = 0;
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1;
        }
        out[at] = HEX[usize::from(byte >> 4)];
        out[at + 1] = HEX[usize::from(byte & 0x0f)];
        at += 2;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Binary numeric from its parts.
    fn num(weight: i16, negative: bool, digits: &[u16]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend((digits.len() as u16).to_be_bytes());
        v.extend(weight.to_be_bytes());
        v.extend((if negative { 0x4000u16 } else { 0 }).to_be_bytes());
        v.extend(0u16.to_be_bytes());
        for d in digits {
            v.extend(d.to_be_bytes());
        }
        v
    }

    fn dec(v: &[u8], p: u8, s: i8, round: bool) -> Unscaled<i128> {
        numeric_unscaled::<i128>(v, p, s, round).expect("well formed")
    }

    #[test]
    fn numerics_scale_exactly_or_say_why_not() {
        // 12345.678 = [1, 2345, 6780] weight 1
        let v = num(1, false, &[1, 2345, 6780]);
        assert_eq!(dec(&v, 10, 3, false), Ok((12_345_678, false)));
        assert_eq!(dec(&v, 12, 5, false), Ok((1_234_567_800, false)));
        assert_eq!(dec(&v, 10, 2, false), Err(NumericIssue::TooPrecise));
        assert_eq!(dec(&v, 10, 2, true), Ok((1_234_568, true)));
        assert_eq!(dec(&v, 10, 0, true), Ok((12_346, true)));
        assert_eq!(dec(&v, 4, 0, true), Err(NumericIssue::TooLarge));
        let neg = num(1, true, &[1, 2345, 6750]);
        assert_eq!(dec(&neg, 10, 2, true), Ok((-1_234_568, true)));
        // 0.00005 = [5000] weight −2; at scale 4 it rounds up to 0.0001.
        let small = num(-2, false, &[5000]);
        assert_eq!(dec(&small, 5, 4, true), Ok((1, true)));
        assert_eq!(dec(&small, 5, 3, true), Ok((0, true)));
        assert_eq!(dec(&num(0, false, &[]), 5, 2, false), Ok((0, false)));
        // 10^40 does not fit Decimal128 at all.
        let huge = num(10, false, &[1]);
        assert_eq!(dec(&huge, 38, 0, true), Err(NumericIssue::TooLarge));
        let mut nan = num(0, false, &[]);
        nan[4] = 0xC0;
        assert_eq!(dec(&nan, 38, 9, true), Err(NumericIssue::NaN));
        assert!(numeric_unscaled::<i128>(&nan[..5], 38, 9, true).is_err());
    }

    #[test]
    fn intervals_print_like_postgres_iso_8601() {
        let us = |h: i64, m: i64, s: i64, f: i64| ((h * 60 + m) * 60 + s) * 1_000_000 + f;
        assert_eq!(
            interval_iso(14, 3, us(4, 5, 6, 500_000)),
            "P1Y2M3DT4H5M6.5S"
        );
        assert_eq!(interval_iso(0, 0, 0), "PT0S");
        assert_eq!(interval_iso(-1, 2, 0), "P-1M2D");
        assert_eq!(interval_iso(0, 0, -1_500_000), "PT-1.5S");
        assert_eq!(interval_iso(0, 0, us(-1, -30, 0, 0)), "PT-1H-30M");
        assert_eq!(interval_iso(0, 0, 1), "PT0.000001S");
    }

    #[test]
    fn uuids_print_canonically() {
        let b: [u8; 16] = [
            0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38,
            0x0a, 0x11,
        ];
        assert_eq!(&uuid_text(&b), b"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    }
}
