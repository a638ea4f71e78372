//! Arrow values → the SQLite values bound for them.
//!
//! - integers as INTEGER (a UInt64 above i64::MAX is refused), booleans 0/1;
//! - floats as REAL, except NaN, stored as the text `'NaN'` (SQLite would
//!   turn a NaN into NULL);
//! - decimals as exact text (`'-12.50'`);
//! - dates `'YYYY-MM-DD'`, times `'HH:MM:SS.ffffff'`;
//! - naive timestamps `'YYYY-MM-DD HH:MM:SS.ffffff'`, instants (any Arrow
//!   zone) in UTC with a `Z`: `'YYYY-MM-DD HH:MM:SS.ffffffZ'`. Six digits,
//!   nine for nanosecond columns, so text order is time order and SQLite's
//!   date functions read them;
//! - binary as BLOB; JSON as its text; lists and structs as JSON text (items
//!   rendered as above, binary items as base64, non-finite floats as strings).

use anyhow::{Context, Result, anyhow, bail};
use arrow_array::cast::AsArray;
use arrow_array::temporal_conversions::as_datetime;
use arrow_array::types::*;
use arrow_array::{Array, ArrowPrimitiveType};
use arrow_schema::{DataType, Field, TimeUnit};
use chrono::NaiveDate;

use super::decl::{is_json, is_uuid};

/// One value ready to bind.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum SqlValue {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// The value at row `i` of `array` (a column typed as `field` says).
pub(super) fn cell(field: &Field, array: &dyn Array, i: usize) -> Result<SqlValue> {
    use DataType::*;
    use SqlValue::{Blob, Int, Text};
    if array.is_null(i) {
        return Ok(SqlValue::Null);
    }
    Ok(match array.data_type() {
        Null => SqlValue::Null,
        Boolean => Int(i64::from(array.as_boolean().value(i))),
        Int8 => Int(prim::<Int8Type>(array, i).into()),
        Int16 => Int(prim::<Int16Type>(array, i).into()),
        Int32 => Int(prim::<Int32Type>(array, i).into()),
        Int64 => Int(prim::<Int64Type>(array, i)),
        UInt8 => Int(prim::<UInt8Type>(array, i).into()),
        UInt16 => Int(prim::<UInt16Type>(array, i).into()),
        UInt32 => Int(prim::<UInt32Type>(array, i).into()),
        UInt64 => {
            let v = prim::<UInt64Type>(array, i);
            Int(i64::try_from(v)
                .map_err(|_| anyhow!("{v} does not fit SQLite's 64-bit INTEGER"))?)
        }
        Float16 => real(prim::<Float16Type>(array, i).to_f64()),
        Float32 => real(prim::<Float32Type>(array, i).into()),
        Float64 => real(prim::<Float64Type>(array, i)),
        Utf8 | LargeUtf8 | Utf8View => {
            let s = string_at(array, i)?;
            if is_json(field) {
                check_json(s)?;
            }
            Text(s.to_string())
        }
        FixedSizeBinary(16) if is_uuid(field) => {
            Text(uuid_text(array.as_fixed_size_binary().value(i)))
        }
        Binary => Blob(array.as_binary::<i32>().value(i).to_vec()),
        LargeBinary => Blob(array.as_binary::<i64>().value(i).to_vec()),
        BinaryView => Blob(array.as_binary_view().value(i).to_vec()),
        FixedSizeBinary(_) => Blob(array.as_fixed_size_binary().value(i).to_vec()),
        Date32 => Text(date_text(prim::<Date32Type>(array, i).into())?),
        Date64 => {
            let ms = prim::<Date64Type>(array, i);
            if ms % 86_400_000 != 0 {
                bail!("Date64 value {ms} ms is not a whole day");
            }
            Text(date_text(ms / 86_400_000)?)
        }
        Time32(TimeUnit::Second) => Text(time_text(prim::<Time32SecondType>(array, i).into(), 0)?),
        Time32(_) => Text(time_text(
            prim::<Time32MillisecondType>(array, i).into(),
            3,
        )?),
        Time64(TimeUnit::Nanosecond) => Text(time_text(prim::<Time64NanosecondType>(array, i), 9)?),
        Time64(_) => Text(time_text(prim::<Time64MicrosecondType>(array, i), 6)?),
        Timestamp(unit, tz) => {
            let utc = tz.is_some();
            Text(match unit {
                TimeUnit::Second => ts_text::<TimestampSecondType>(array, i, utc)?,
                TimeUnit::Millisecond => ts_text::<TimestampMillisecondType>(array, i, utc)?,
                TimeUnit::Microsecond => ts_text::<TimestampMicrosecondType>(array, i, utc)?,
                TimeUnit::Nanosecond => ts_text::<TimestampNanosecondType>(array, i, utc)?,
            })
        }
        Decimal32(p, s) => Text(Decimal32Type::format_decimal(
            prim::<Decimal32Type>(array, i),
            *p,
            *s,
        )),
        Decimal64(p, s) => Text(Decimal64Type::format_decimal(
            prim::<Decimal64Type>(array, i),
            *p,
            *s,
        )),
        Decimal128(p, s) => Text(Decimal128Type::format_decimal(
            prim::<Decimal128Type>(array, i),
            *p,
            *s,
        )),
        Decimal256(p, s) => Text(Decimal256Type::format_decimal(
            prim::<Decimal256Type>(array, i),
            *p,
            *s,
        )),
        List(_) | LargeList(_) | FixedSizeList(..) | Struct(_) => {
            let mut out = String::new();
            write_json(field, array, i, &mut out)?;
            Text(out)
        }
        Dictionary(..) => {
            let (values, at) = dictionary_at(array, i)?;
            let value_field = field.clone().with_data_type(values.data_type().clone());
            return cell(&value_field, values, at);
        }
        other => bail!("Arrow type {other} cannot be loaded into SQLite"),
    })
}

fn prim<T: ArrowPrimitiveType>(array: &dyn Array, i: usize) -> T::Native {
    array.as_primitive::<T>().value(i)
}

fn real(v: f64) -> SqlValue {
    if v.is_nan() {
        SqlValue::Text("NaN".into())
    } else {
        SqlValue::Real(v)
    }
}

fn string_at(array: &dyn Array, i: usize) -> Result<&str> {
    Ok(match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value(i),
        DataType::LargeUtf8 => array.as_string::<i64>().value(i),
        DataType::Utf8View => array.as_string_view().value(i),
        other => bail!("expected text, found {other}"),
    })
}

/// Refuses a value of a JSON column that is not a JSON document.
fn check_json(s: &str) -> Result<()> {
    // IgnoredAny scans numbers without converting them: no range limits.
    serde_json::from_str::<serde::de::IgnoredAny>(s)
        .map(|_| ())
        .map_err(|e| anyhow!("invalid JSON document: {e}"))
}

/// The dictionary's values and the index row `i` points at.
fn dictionary_at(array: &dyn Array, i: usize) -> Result<(&dyn Array, usize)> {
    let dict = array
        .as_any_dictionary_opt()
        .ok_or_else(|| anyhow!("expected a dictionary array"))?;
    let keys = dict.keys();
    let key: i64 = match keys.data_type() {
        DataType::Int8 => prim::<Int8Type>(keys, i).into(),
        DataType::Int16 => prim::<Int16Type>(keys, i).into(),
        DataType::Int32 => prim::<Int32Type>(keys, i).into(),
        DataType::Int64 => prim::<Int64Type>(keys, i),
        DataType::UInt8 => prim::<UInt8Type>(keys, i).into(),
        DataType::UInt16 => prim::<UInt16Type>(keys, i).into(),
        DataType::UInt32 => prim::<UInt32Type>(keys, i).into(),
        other => bail!("dictionary keys of type {other} are not supported"),
    };
    let at = usize::try_from(key).map_err(|_| anyhow!("negative dictionary key {key}"))?;
    Ok((dict.values().as_ref(), at))
}

fn date_text(days: i64) -> Result<String> {
    // 719_163 days from 0001-01-01 (day 1 of the common era) to 1970-01-01.
    let d = i32::try_from(days + 719_163)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .ok_or_else(|| anyhow!("date {days} days from 1970-01-01 is out of range"))?;
    Ok(d.format("%Y-%m-%d").to_string())
}

/// `HH:MM:SS.ffffff` from units of 10^-digits s; `24:00:00` (Postgres) is kept.
fn time_text(v: i64, digits: u32) -> Result<String> {
    let per_sec = 10i64.pow(digits);
    if !(0..=86_400 * per_sec).contains(&v) {
        bail!("time value {v} (10^-{digits} s) is outside a day");
    }
    let (secs, frac) = (v / per_sec, v % per_sec);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    // Seconds and milliseconds widen to six digits like microseconds.
    let (frac, width) = match digits {
        9 => (frac, 9),
        d => (frac * 10i64.pow(6 - d), 6),
    };
    Ok(format!("{h:02}:{m:02}:{s:02}.{frac:0width$}"))
}

fn ts_text<T: ArrowPrimitiveType<Native = i64>>(
    array: &dyn Array,
    i: usize,
    utc: bool,
) -> Result<String> {
    let v = prim::<T>(array, i);
    // With a zone the value is already an instant in UTC; without, wall time.
    let dt = as_datetime::<T>(v).ok_or_else(|| anyhow!("timestamp {v} is out of range"))?;
    let nanos = matches!(T::DATA_TYPE, DataType::Timestamp(TimeUnit::Nanosecond, _));
    let fmt = if nanos {
        dt.format("%Y-%m-%d %H:%M:%S%.9f")
    } else {
        dt.format("%Y-%m-%d %H:%M:%S%.6f")
    };
    Ok(if utc {
        format!("{fmt}Z")
    } else {
        fmt.to_string()
    })
}

fn uuid_text(b: &[u8]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Writes the value at row `i` as JSON (lists, structs and their items).
fn write_json(field: &Field, array: &dyn Array, i: usize, out: &mut String) -> Result<()> {
    use std::fmt::Write;
    if array.is_null(i) {
        out.push_str("null");
        return Ok(());
    }
    if is_json(field) {
        // A JSON document is embedded as it is (after checking it is one).
        let s = string_at(array, i)?;
        check_json(s)?;
        out.push_str(s);
        return Ok(());
    }
    let items = |item: &Field, values: &dyn Array, out: &mut String| -> Result<()> {
        out.push('[');
        for j in 0..values.len() {
            if j > 0 {
                out.push(',');
            }
            write_json(item, values, j, out)?;
        }
        out.push(']');
        Ok(())
    };
    match array.data_type() {
        DataType::Boolean => out.push_str(if array.as_boolean().value(i) {
            "true"
        } else {
            "false"
        }),
        DataType::UInt64 => write!(out, "{}", prim::<UInt64Type>(array, i))?,
        DataType::List(item) => items(item, array.as_list::<i32>().value(i).as_ref(), out)?,
        DataType::LargeList(item) => items(item, array.as_list::<i64>().value(i).as_ref(), out)?,
        DataType::FixedSizeList(item, _) => {
            items(item, array.as_fixed_size_list().value(i).as_ref(), out)?
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            out.push('{');
            for (k, (f, col)) in fields.iter().zip(s.columns()).enumerate() {
                if k > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(f.name())?);
                out.push(':');
                write_json(f, col.as_ref(), i, out)
                    .with_context(|| format!("field `{}`", f.name()))?;
            }
            out.push('}');
        }
        _ => match cell(field, array, i)? {
            SqlValue::Null => out.push_str("null"),
            SqlValue::Int(v) => write!(out, "{v}")?,
            SqlValue::Real(v) if v.is_finite() => out.push_str(&serde_json::to_string(&v)?),
            SqlValue::Real(v) => out.push_str(if v > 0.0 {
                "\"Infinity\""
            } else {
                "\"-Infinity\""
            }),
            SqlValue::Text(s) => out.push_str(&serde_json::to_string(&s)?),
            SqlValue::Blob(b) => {
                out.push('"');
                base64_encode(&b, out);
                out.push('"');
            }
        },
    }
    Ok(())
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (what BigQuery and our NDJSON writer use).
pub(super) fn base64_encode(bytes: &[u8], out: &mut String) {
    for chunk in bytes.chunks(3) {
        let b = |k: usize| u32::from(chunk.get(k).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        let sextet = |shift: u32| char::from(B64[((n >> shift) & 63) as usize]);
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if chunk.len() > 1 { sextet(6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(0) } else { '=' });
    }
}

pub(super) fn base64_decode(s: &str) -> Result<Vec<u8>> {
    let digits: Vec<u8> = s.bytes().take_while(|&c| c != b'=').collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in digits {
        let v = B64
            .iter()
            .position(|&x| x == c)
            .ok_or_else(|| anyhow!("invalid base64 character {:?}", char::from(c)))?;
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{
        DictionaryArray, FixedSizeBinaryArray, Float64Array, Int64Array, ListArray, StructArray,
        TimestampNanosecondArray,
    };
    use arrow_schema::extension::Uuid;

    use super::*;

    fn at(field: Field, array: &dyn Array, i: usize) -> SqlValue {
        cell(&field, array, i).unwrap()
    }

    #[test]
    fn less_common_arrow_types() {
        let t = |s: &str| SqlValue::Text(s.into());
        let dict: DictionaryArray<Int32Type> = vec!["x", "y", "x"].into_iter().collect();
        let f = Field::new("d", dict.data_type().clone(), true);
        assert_eq!(at(f, &dict, 2), t("x"));

        let uuid = FixedSizeBinaryArray::try_from_iter([[0x11u8; 16]].iter()).unwrap();
        let f = Field::new("u", DataType::FixedSizeBinary(16), true).with_extension_type(Uuid);
        assert_eq!(at(f, &uuid, 0), t("11111111-1111-1111-1111-111111111111"));

        let ns = TimestampNanosecondArray::from(vec![1_000_000_001]).with_timezone("+02:00");
        let f = Field::new("ts", ns.data_type().clone(), true);
        assert_eq!(at(f, &ns, 0), t("1970-01-01 00:00:01.000000001Z"));

        let floats = ListArray::from_iter_primitive::<Float64Type, _, _>(vec![Some(vec![
            Some(f64::NAN),
            Some(f64::NEG_INFINITY),
            Some(0.1),
        ])]);
        let f = Field::new("l", floats.data_type().clone(), true);
        assert_eq!(at(f, &floats, 0), t(r#"["NaN","-Infinity",0.1]"#));

        let s = StructArray::from(vec![
            (
                Arc::new(Field::new("a", DataType::Int64, true)),
                Arc::new(Int64Array::from(vec![Some(1)])) as _,
            ),
            (
                Arc::new(Field::new("b", DataType::Float64, true)),
                Arc::new(Float64Array::from(vec![None])) as _,
            ),
        ]);
        let f = Field::new("s", s.data_type().clone(), true);
        assert_eq!(at(f, &s, 0), t(r#"{"a":1,"b":null}"#));

        let bad = arrow_array::StringArray::from(vec!["{nope"]);
        let f = Field::new("j", DataType::Utf8, true)
            .with_extension_type(arrow_schema::extension::Json::default());
        assert!(
            cell(&f, &bad, 0)
                .unwrap_err()
                .to_string()
                .contains("invalid JSON")
        );
    }

    #[test]
    fn text_forms() {
        assert_eq!(date_text(0).unwrap(), "1970-01-01");
        assert_eq!(date_text(-1).unwrap(), "1969-12-31");
        assert_eq!(time_text(86_400_000_000, 6).unwrap(), "24:00:00.000000");
        assert_eq!(time_text(3_723_000_004, 6).unwrap(), "01:02:03.000004");
        assert_eq!(time_text(5, 0).unwrap(), "00:00:05.000000");
        assert_eq!(time_text(1_000_000_001, 9).unwrap(), "00:00:01.000000001");
        assert!(time_text(-1, 6).is_err());
        assert_eq!(
            uuid_text(&[0xab; 16]),
            "abababab-abab-abab-abab-abababababab"
        );
        for raw in [
            "",
            "f",
            "fo",
            "foo",
            "foob",
            "fooba",
            "foobar",
            "\u{0}\u{ff}",
        ] {
            let mut enc = String::new();
            base64_encode(raw.as_bytes(), &mut enc);
            assert_eq!(base64_decode(&enc).unwrap(), raw.as_bytes(), "{enc}");
        }
        let mut enc = String::new();
        base64_encode(b"foobar", &mut enc);
        assert_eq!(enc, "Zm9vYmFy");
        assert!(base64_decode("a*b").is_err());
    }
}
