//! Value rendering shared by the NDJSON and CSV writers, straight from the
//! Arrow arrays: JSON values for NDJSON (and for lists in CSV), plain text
//! for CSV fields.

use std::io::Write;

use anyhow::{Context, Result, anyhow, bail};
use arrow_array::types::{Decimal128Type, Decimal256Type, DecimalType};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Decimal256Array,
    Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, LargeBinaryArray,
    LargeListArray, LargeStringArray, ListArray, StringArray, Time64MicrosecondArray,
    TimestampMicrosecondArray, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use arrow_schema::extension::{ExtensionType, Json};
use arrow_schema::{DataType, Field};

/// Output buffer of the text writers: fewer, larger writes to a file or upload.
pub(crate) const BUF_BYTES: usize = 256 * 1024;

/// One column of a batch, downcast once per batch rather than per value.
pub(crate) enum Col<'a> {
    Bool(&'a BooleanArray),
    I8(&'a Int8Array),
    I16(&'a Int16Array),
    I32(&'a Int32Array),
    I64(&'a Int64Array),
    U8(&'a UInt8Array),
    U16(&'a UInt16Array),
    U32(&'a UInt32Array),
    U64(&'a UInt64Array),
    F32(&'a Float32Array),
    F64(&'a Float64Array),
    D128(&'a Decimal128Array, u8, i8),
    D256(&'a Decimal256Array, u8, i8),
    /// `json`: the column holds JSON documents (the canonical extension type).
    Str(&'a StringArray, bool),
    LargeStr(&'a LargeStringArray, bool),
    Bin(&'a BinaryArray),
    LargeBin(&'a LargeBinaryArray),
    Date(&'a Date32Array),
    Time(&'a Time64MicrosecondArray),
    /// `utc`: an instant, written with a `Z`; otherwise a naive date-time.
    Ts(&'a TimestampMicrosecondArray, bool),
    List(&'a dyn Array, Offsets<'a>, Box<Col<'a>>),
}

pub(crate) enum Offsets<'a> {
    Small(&'a [i32]),
    Large(&'a [i64]),
}

fn down<T: 'static>(array: &dyn Array) -> Result<&T> {
    array
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| anyhow!("array is not a {}", std::any::type_name::<T>()))
}

impl<'a> Col<'a> {
    /// `field` is the writer's (it carries the JSON extension); `array` was
    /// checked against it by `check_batch`.
    pub(crate) fn new(field: &Field, array: &'a dyn Array) -> Result<Col<'a>> {
        let json = field.extension_type_name() == Some(Json::NAME);
        Ok(match field.data_type() {
            DataType::Boolean => Col::Bool(down(array)?),
            DataType::Int8 => Col::I8(down(array)?),
            DataType::Int16 => Col::I16(down(array)?),
            DataType::Int32 => Col::I32(down(array)?),
            DataType::Int64 => Col::I64(down(array)?),
            DataType::UInt8 => Col::U8(down(array)?),
            DataType::UInt16 => Col::U16(down(array)?),
            DataType::UInt32 => Col::U32(down(array)?),
            DataType::UInt64 => Col::U64(down(array)?),
            DataType::Float32 => Col::F32(down(array)?),
            DataType::Float64 => Col::F64(down(array)?),
            DataType::Decimal128(p, s) => Col::D128(down(array)?, *p, *s),
            DataType::Decimal256(p, s) => Col::D256(down(array)?, *p, *s),
            DataType::Utf8 => Col::Str(down(array)?, json),
            DataType::LargeUtf8 => Col::LargeStr(down(array)?, json),
            DataType::Binary => Col::Bin(down(array)?),
            DataType::LargeBinary => Col::LargeBin(down(array)?),
            DataType::Date32 => Col::Date(down(array)?),
            DataType::Time64(_) => Col::Time(down(array)?),
            DataType::Timestamp(_, tz) => Col::Ts(down(array)?, tz.is_some()),
            DataType::List(item) => {
                let a = down::<ListArray>(array)?;
                Col::List(
                    a,
                    Offsets::Small(a.value_offsets()),
                    items(item, a.values())?,
                )
            }
            DataType::LargeList(item) => {
                let a = down::<LargeListArray>(array)?;
                Col::List(
                    a,
                    Offsets::Large(a.value_offsets()),
                    items(item, a.values())?,
                )
            }
            other => bail!("Arrow type {other} cannot be written"),
        })
    }

    fn array(&self) -> &dyn Array {
        match self {
            Col::Bool(a) => *a,
            Col::I8(a) => *a,
            Col::I16(a) => *a,
            Col::I32(a) => *a,
            Col::I64(a) => *a,
            Col::U8(a) => *a,
            Col::U16(a) => *a,
            Col::U32(a) => *a,
            Col::U64(a) => *a,
            Col::F32(a) => *a,
            Col::F64(a) => *a,
            Col::D128(a, ..) => *a,
            Col::D256(a, ..) => *a,
            Col::Str(a, _) => *a,
            Col::LargeStr(a, _) => *a,
            Col::Bin(a) => *a,
            Col::LargeBin(a) => *a,
            Col::Date(a) => *a,
            Col::Time(a) => *a,
            Col::Ts(a, _) => *a,
            Col::List(a, ..) => *a,
        }
    }

    /// Writes the value at `row` as a JSON value (`json`) or as CSV text.
    /// Returns false, having written nothing, for null (and NaN/±Inf, which
    /// neither JSON nor the warehouses' CSV readers carry).
    pub(crate) fn write(&self, row: usize, json: bool, out: &mut Vec<u8>) -> Result<bool> {
        if self.array().is_null(row) {
            return Ok(false);
        }
        match self {
            Col::Bool(a) => out.extend_from_slice(if a.value(row) { b"true" } else { b"false" }),
            Col::I8(a) => write!(out, "{}", a.value(row))?,
            Col::I16(a) => write!(out, "{}", a.value(row))?,
            Col::I32(a) => write!(out, "{}", a.value(row))?,
            Col::I64(a) => write!(out, "{}", a.value(row))?,
            Col::U8(a) => write!(out, "{}", a.value(row))?,
            Col::U16(a) => write!(out, "{}", a.value(row))?,
            Col::U32(a) => write!(out, "{}", a.value(row))?,
            Col::U64(a) => write!(out, "{}", a.value(row))?,
            Col::F32(a) => return float(a.value(row), out),
            Col::F64(a) => return float(a.value(row), out),
            // As a JSON string: a JSON number would be read back as a double.
            Col::D128(a, p, s) => {
                let text = Decimal128Type::format_decimal(a.value(row), *p, *s);
                quoted(json, out, |out| out.extend_from_slice(text.as_bytes()));
            }
            Col::D256(a, p, s) => {
                let text = Decimal256Type::format_decimal(a.value(row), *p, *s);
                quoted(json, out, |out| out.extend_from_slice(text.as_bytes()));
            }
            Col::Str(a, is_json) => text(a.value(row), *is_json, json, out)?,
            Col::LargeStr(a, is_json) => text(a.value(row), *is_json, json, out)?,
            Col::Bin(a) => quoted(json, out, |out| base64(a.value(row), out)),
            Col::LargeBin(a) => quoted(json, out, |out| base64(a.value(row), out)),
            Col::Date(a) => {
                let day = i64::from(a.value(row));
                quoted(json, out, |out| date(day, out));
            }
            Col::Time(a) => {
                let us = a.value(row);
                // Postgres allows 24:00:00; anything else outside a day is corrupt.
                if !(0..=DAY_US).contains(&us) {
                    bail!("time value {us}µs is outside a day");
                }
                quoted(json, out, |out| time(us, out));
            }
            Col::Ts(a, utc) => {
                let us = a.value(row);
                quoted(json, out, |out| {
                    date(us.div_euclid(DAY_US), out);
                    out.push(b'T');
                    time(us.rem_euclid(DAY_US), out);
                    if *utc {
                        out.push(b'Z');
                    }
                });
            }
            // Lists are JSON arrays, in CSV too (as the field's text).
            Col::List(_, offsets, items) => {
                let (start, end) = offsets.range(row);
                out.push(b'[');
                for i in start..end {
                    if i > start {
                        out.push(b',');
                    }
                    if !items.write(i, true, out)? {
                        out.extend_from_slice(b"null");
                    }
                }
                out.push(b']');
            }
        }
        Ok(true)
    }
}

fn items<'a>(item: &Field, values: &'a ArrayRef) -> Result<Box<Col<'a>>> {
    Ok(Box::new(
        Col::new(item, values.as_ref()).context("list items")?,
    ))
}

impl Offsets<'_> {
    // Arrow guarantees list offsets are non-negative and in bounds.
    fn range(&self, row: usize) -> (usize, usize) {
        match self {
            Offsets::Small(o) => (o[row] as usize, o[row + 1] as usize),
            Offsets::Large(o) => (o[row] as usize, o[row + 1] as usize),
        }
    }
}

const DAY_US: i64 = 86_400_000_000;

fn float<F: Into<f64> + serde::Serialize + Copy>(v: F, out: &mut Vec<u8>) -> Result<bool> {
    if !v.into().is_finite() {
        return Ok(false);
    }
    // serde_json (ryu): shortest text that reads back to the same float.
    serde_json::to_writer(out, &v)?;
    Ok(true)
}

fn quoted(json: bool, out: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) {
    if json {
        out.push(b'"');
    }
    f(out);
    if json {
        out.push(b'"');
    }
}

fn text(s: &str, is_json: bool, json: bool, out: &mut Vec<u8>) -> Result<()> {
    match (is_json, json) {
        (false, true) => serde_json::to_writer(out, s)?,
        (false, false) | (true, false) => out.extend_from_slice(s.as_bytes()),
        (true, true) => {
            // Embedded raw, so it must be valid JSON, or the line is corrupt
            // (IgnoredAny scans numbers without converting: no range limits).
            serde_json::from_str::<serde::de::IgnoredAny>(s)
                .map_err(|e| anyhow!("invalid JSON document: {e}"))?;
            // In valid JSON, CR and LF only occur as whitespace between
            // tokens; a space keeps the document and the one-line framing.
            out.extend(
                s.bytes()
                    .map(|b| if b == b'\n' || b == b'\r' { b' ' } else { b }),
            );
        }
    }
    Ok(())
}

/// `YYYY-MM-DD`; years outside 0..=9999 in ISO 8601's expanded form (`+12345`,
/// `-0044`) rather than refused, so every Date32 is written exactly.
fn date(days: i64, out: &mut Vec<u8>) {
    // Days since 1970-01-01 to the civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    // Writing to a Vec cannot fail.
    let _ = match y {
        0..=9999 => write!(out, "{y:04}-{m:02}-{d:02}"),
        10_000.. => write!(out, "+{y}-{m:02}-{d:02}"),
        _ => write!(out, "-{:04}-{m:02}-{d:02}", -y),
    };
}

/// `HH:MM:SS.ffffff`, always six digits: the value is exact at µs.
fn time(us: i64, out: &mut Vec<u8>) {
    let (h, m) = (us / 3_600_000_000, us / 60_000_000 % 60);
    let (s, f) = (us / 1_000_000 % 60, us % 1_000_000);
    let _ = write!(out, "{h:02}:{m:02}:{s:02}.{f:06}");
}

fn base64(bytes: &[u8], out: &mut Vec<u8>) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = b(0) << 16 | b(1) << 8 | b(2);
        let sextet = |shift: u32| ALPHABET[(n >> shift & 63) as usize];
        out.extend_from_slice(&[sextet(18), sextet(12)]);
        out.push(if chunk.len() > 1 { sextet(6) } else { b'=' });
        out.push(if chunk.len() > 2 { sextet(0) } else { b'=' });
    }
}

/// Flushes a text writer's buffer and hands its sink back.
pub(crate) fn into_flushed<W: Write>(out: std::io::BufWriter<W>) -> Result<W> {
    let mut out = out.into_inner().map_err(|e| e.into_error())?;
    out.flush()?;
    Ok(out)
}

/// The columns of `batch` ready to render, after checking it matches the
/// writer's schema.
pub(crate) fn columns<'a>(
    schema: &arrow_schema::Schema,
    batch: &'a arrow_array::RecordBatch,
) -> Result<Vec<Col<'a>>> {
    super::writer::check_batch(schema, batch)?;
    (schema.fields().iter().zip(batch.columns()))
        .map(|(f, a)| Col::new(f, a.as_ref()).with_context(|| format!("column `{}`", f.name())))
        .collect()
}

/// Rows of values as text, None for null.
pub type TextRows = Vec<Vec<Option<String>>>;

/// A batch as text, a value as the CSV writer renders it (None for null):
/// column names and rows, for a preview on screen. A column of a type the
/// writers do not render shows its Arrow type instead of failing the rest.
pub fn batch_text(batch: &arrow_array::RecordBatch) -> Result<(Vec<String>, TextRows)> {
    let schema = batch.schema();
    let cols: Vec<Option<Col<'_>>> = (schema.fields().iter().zip(batch.columns()))
        .map(|(f, a)| Col::new(f, a.as_ref()).ok())
        .collect();
    let mut rows = Vec::with_capacity(batch.num_rows());
    for r in 0..batch.num_rows() {
        let mut row = Vec::with_capacity(cols.len());
        for (c, f) in cols.iter().zip(schema.fields()) {
            let Some(c) = c else {
                row.push(Some(format!("‹{}›", f.data_type())));
                continue;
            };
            let mut buf = Vec::new();
            let some = c.write(r, false, &mut buf)?;
            row.push(some.then(|| String::from_utf8_lossy(&buf).into_owned()));
        }
        rows.push(row);
    }
    let names = schema.fields().iter().map(|f| f.name().clone()).collect();
    Ok((names, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn dates_times_and_base64() {
        assert_eq!(s(|o| date(0, o)), "1970-01-01");
        assert_eq!(s(|o| date(-1, o)), "1969-12-31");
        assert_eq!(s(|o| date(11_016, o)), "2000-02-29");
        assert_eq!(s(|o| date(-719_162, o)), "0001-01-01");
        assert_eq!(s(|o| date(2_932_896, o)), "9999-12-31");
        assert_eq!(s(|o| date(2_932_897, o)), "+10000-01-01");
        assert_eq!(s(|o| date(-719_529, o)), "-0001-12-31");
        assert_eq!(s(|o| time(0, o)), "00:00:00.000000");
        assert_eq!(s(|o| time(DAY_US, o)), "24:00:00.000000");
        assert_eq!(s(|o| time(DAY_US - 1, o)), "23:59:59.999999");
        for (raw, b64) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v")] {
            assert_eq!(s(|o| base64(raw.as_bytes(), o)), b64);
        }
        assert_eq!(s(|o| base64(&[0xff, 0xfe, 0x00, 0x01], o)), "//4AAQ==");
    }

    #[test]
    fn invalid_json_documents_are_refused() {
        let mut out = Vec::new();
        assert!(text("{\"a\":", true, true, &mut out).is_err());
        text("{\"a\":\n 1e400}", true, true, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "{\"a\":  1e400}");
    }
}
