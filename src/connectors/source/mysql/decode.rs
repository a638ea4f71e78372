//! MySQL binary-protocol values → Arrow cells. Rows come from prepared
//! statements, so every value arrives in the binary protocol: integers and
//! floats as fixed-width little-endian (exact, unlike the text protocol's
//! shortened FLOAT), decimals as text, dates and times as small structs.
//! Raw bytes are decoded here because sqlx's own decoders need the chrono or
//! decimal features, and they hide zero dates as NULL.

use anyhow::{Context, Result, anyhow};
use arrow_schema::DataType;
use futures_util::TryStreamExt;
use sqlx::mysql::{MySql, MySqlConnection, MySqlRow, MySqlValueRef};
use sqlx::{Column, Decode, Row, TypeInfo, ValueRef};

use crate::connectors::source::Lossy;
use crate::connectors::source::parse::{
    MICROS_PER_DAY, days_from_ymd, decimal_i128, decimal_i256, micros_of_day,
};
use crate::connectors::source::rows::{BatchSink, Cell, Warnings, refusal};
use crate::format::types::ColumnType;

/// How a column's values travel in the binary protocol.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Wire {
    Int {
        size: usize,
        unsigned: bool,
    },
    Float,
    Double,
    Decimal,
    /// DATE, DATETIME and TIMESTAMP share one layout.
    Date,
    Time,
    /// BIT(n): big-endian bytes.
    Bit,
    Bytes,
    Null,
}

impl Wire {
    fn from_type_name(name: &str) -> Wire {
        let unsigned = name.ends_with(" UNSIGNED");
        let int = |size| Wire::Int { size, unsigned };
        match name.trim_end_matches(" UNSIGNED") {
            "TINYINT" | "BOOLEAN" => int(1),
            "SMALLINT" => int(2),
            "YEAR" => Wire::Int {
                size: 2,
                unsigned: true,
            },
            "MEDIUMINT" | "INT" => int(4),
            "BIGINT" => int(8),
            "FLOAT" => Wire::Float,
            "DOUBLE" => Wire::Double,
            "DECIMAL" => Wire::Decimal,
            "DATE" | "DATETIME" | "TIMESTAMP" => Wire::Date,
            "TIME" => Wire::Time,
            "BIT" => Wire::Bit,
            "NULL" => Wire::Null,
            _ => Wire::Bytes,
        }
    }
}

/// One column of an export: what it is called and how it is carried.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub name: String,
    pub ty: ColumnType,
}

/// Where the rows come from, for messages: `test.orders` or `query`.
pub(crate) struct Ctx<'a> {
    pub what: &'a str,
    pub lossy: Lossy,
}

/// Streams `sql` on `conn` into `sink`, one cell at a time.
pub(crate) async fn stream_rows(
    conn: &mut MySqlConnection,
    sql: String,
    plan: &[Plan],
    ctx: &Ctx<'_>,
    sink: &mut BatchSink,
    warnings: &mut Warnings,
) -> Result<()> {
    let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(conn);
    let mut wires: Vec<Wire> = Vec::new();
    while let Some(row) = rows.try_next().await.map_err(clean)? {
        if wires.is_empty() {
            if row.len() != plan.len() {
                return Err(anyhow!(
                    "{}: the server returned {} columns, expected {}",
                    ctx.what,
                    row.len(),
                    plan.len()
                ));
            }
            wires = row
                .columns()
                .iter()
                .map(|c| Wire::from_type_name(c.type_info().name()))
                .collect();
        }
        for (i, (col, wire)) in plan.iter().zip(&wires).enumerate() {
            let (cell, bytes) = decode(&row, i, *wire, col, ctx, warnings)?;
            sink.batch_bytes += bytes as i64;
            sink.col(i)
                .push(cell)
                .map_err(|what| refusal(ctx.what, &col.name, &col.ty.db_type, what))?;
        }
        sink.row_done().await?;
    }
    Ok(())
}

/// A server error without the driver's wrapping.
pub(crate) fn clean(e: sqlx::Error) -> anyhow::Error {
    anyhow!("MySQL: {}", driver_message(e))
}

/// The server's (or driver's) words alone; never holds the URL.
pub(crate) fn driver_message(e: sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}

fn decode<'r>(
    row: &'r MySqlRow,
    i: usize,
    wire: Wire,
    col: &Plan,
    ctx: &Ctx<'_>,
    warnings: &mut Warnings,
) -> Result<(Cell<'r>, usize)> {
    let raw = row.try_get_raw(i)?;
    let refuse = |what: &str| refusal(ctx.what, &col.name, &col.ty.db_type, what);
    if raw.is_null() {
        // sqlx calls a zero date NULL; the raw bytes tell them apart.
        if wire == Wire::Date && bytes_of(raw).is_ok() {
            warnings.add(i, "zero or invalid dates became NULL");
        }
        return Ok((Cell::Null, 0));
    }
    let b = bytes_of(raw).map_err(|e| anyhow!("{}, column `{}`: {e}", ctx.what, col.name))?;
    let target = &col.ty.arrow;
    let cell = match wire {
        Wire::Int { size, unsigned } => {
            let v = le_int(b, size, unsigned).with_context(|| refuse("short integer value"))?;
            int_cell(v, target, i, ctx, warnings).map_err(|what| refuse(&what))?
        }
        Wire::Bit => {
            if b.len() > 8 {
                return Err(refuse("BIT value wider than 64 bits"));
            }
            let v = b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x));
            int_cell(i128::from(v), target, i, ctx, warnings).map_err(|what| refuse(&what))?
        }
        Wire::Float => {
            let a: [u8; 4] = b.try_into().map_err(|_| refuse("short FLOAT value"))?;
            let v = f32::from_le_bytes(a);
            match target {
                DataType::Float64 => Cell::F64(f64::from(v)),
                _ => Cell::F32(v),
            }
        }
        Wire::Double => {
            let a: [u8; 8] = b.try_into().map_err(|_| refuse("short DOUBLE value"))?;
            Cell::F64(f64::from_le_bytes(a))
        }
        Wire::Decimal => {
            let text = std::str::from_utf8(b).map_err(|_| refuse("decimal is not text"))?;
            match target {
                DataType::Decimal128(_, s) => {
                    Cell::Dec(decimal_i128(text, *s).ok_or_else(|| refuse("inexact decimal"))?)
                }
                DataType::Decimal256(_, s) => {
                    Cell::Dec256(decimal_i256(text, *s).ok_or_else(|| refuse("inexact decimal"))?)
                }
                // A decimal expression of unknown precision, carried as text.
                _ => Cell::Str(text),
            }
        }
        Wire::Date => match date_parts(b) {
            Some((days, micros)) => match target {
                DataType::Date32 => Cell::Days(days),
                _ => Cell::Micros(i64::from(days) * MICROS_PER_DAY + micros),
            },
            None => {
                warnings.add(i, "zero or invalid dates became NULL");
                Cell::Null
            }
        },
        Wire::Time => match time_of_day(b) {
            Some(us) => Cell::Micros(us),
            None if ctx.lossy == Lossy::Convert => {
                warnings.add(i, "times outside 00:00–24:00 became NULL");
                Cell::Null
            }
            None => {
                return Err(refuse(&format!(
                    "{} is outside 00:00:00–23:59:59.999999",
                    time_text(b)
                )));
            }
        },
        Wire::Bytes => match target {
            DataType::Binary => Cell::Bytes(b),
            _ => Cell::Str(std::str::from_utf8(b).map_err(|_| refuse("text is not UTF-8"))?),
        },
        Wire::Null => Cell::Null,
    };
    Ok((cell, b.len()))
}

fn bytes_of(raw: MySqlValueRef<'_>) -> Result<&[u8], sqlx::error::BoxDynError> {
    <&[u8] as Decode<'_, MySql>>::decode(raw)
}

fn le_int(b: &[u8], size: usize, unsigned: bool) -> Option<i128> {
    let b = b.get(..size)?;
    let mut buf = [0u8; 8];
    buf[..size].copy_from_slice(b);
    let u = u64::from_le_bytes(buf);
    if unsigned {
        return Some(i128::from(u));
    }
    // Sign-extend from `size` bytes.
    let shift = 64 - 8 * size as u32;
    Some(i128::from(((u << shift) as i64) >> shift))
}

fn int_cell(
    v: i128,
    target: &DataType,
    col: usize,
    ctx: &Ctx<'_>,
    warnings: &mut Warnings,
) -> Result<Cell<'static>, String> {
    Ok(match target {
        DataType::Boolean => match v {
            0 => Cell::Bool(false),
            1 => Cell::Bool(true),
            _ if ctx.lossy == Lossy::Convert => {
                warnings.add(col, "booleans other than 0/1 became true");
                Cell::Bool(true)
            }
            _ => return Err(format!("{v} is not a boolean (0 or 1)")),
        },
        DataType::Decimal128(_, 0) => Cell::Dec(v),
        _ => Cell::Int(i64::try_from(v).map_err(|_| format!("{v} does not fit Int64"))?),
    })
}

/// DATE/DATETIME/TIMESTAMP: length, year u16, month, day, [h, m, s, [µs u32]].
/// None for zero dates (length 0) and dates with a zero month or day.
fn date_parts(b: &[u8]) -> Option<(i32, i64)> {
    let len = usize::from(*b.first()?);
    let b = b.get(1..1 + len)?;
    if len < 4 {
        return None;
    }
    let year = i32::from(u16::from_le_bytes([b[0], b[1]]));
    let days = days_from_ymd(year, u32::from(b[2]), u32::from(b[3]))?;
    let (h, m, s) = match len {
        4 => (0, 0, 0),
        _ => (b[4], b[5], b[6]),
    };
    let us = match len {
        11 => u32::from_le_bytes([b[7], b[8], b[9], b[10]]),
        _ => 0,
    };
    let micros = micros_of_day(u32::from(h), u32::from(m), u32::from(s), us)?;
    Some((days, micros))
}

/// TIME: length, negative u8, days u32, h, m, s, [µs u32]. None when the
/// value is not a time of day (negative, or 24 hours and more).
fn time_of_day(b: &[u8]) -> Option<i64> {
    let (neg, days, h, m, s, us) = time_fields(b)?;
    let total = micros_of_day(u32::from(h), u32::from(m), u32::from(s), us)?;
    if days != 0 || (neg && total != 0) {
        return None;
    }
    Some(total)
}

type TimeFields = (bool, u32, u8, u8, u8, u32);

fn time_fields(b: &[u8]) -> Option<TimeFields> {
    let len = usize::from(*b.first()?);
    if len == 0 {
        return Some((false, 0, 0, 0, 0, 0));
    }
    let b = b.get(1..1 + len)?;
    if len < 8 {
        return None;
    }
    let days = u32::from_le_bytes([b[1], b[2], b[3], b[4]]);
    let us = match len {
        12 => u32::from_le_bytes([b[8], b[9], b[10], b[11]]),
        _ => 0,
    };
    Some((b[0] == 1, days, b[5], b[6], b[7], us))
}

/// `-838:59:59`, for refusal messages.
fn time_text(b: &[u8]) -> String {
    match time_fields(b) {
        Some((neg, days, h, m, s, us)) => {
            let hours = u64::from(days) * 24 + u64::from(h);
            let sign = if neg { "-" } else { "" };
            let frac = if us > 0 {
                format!(".{us:06}")
            } else {
                String::new()
            };
            format!("{sign}{hours:02}:{m:02}:{s:02}{frac}")
        }
        None => "a malformed TIME".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_sign_extend() {
        assert_eq!(le_int(&[0xff], 1, false), Some(-1));
        assert_eq!(le_int(&[0xff], 1, true), Some(255));
        assert_eq!(le_int(&[0xff; 8], 8, true), Some(i128::from(u64::MAX)));
        assert_eq!(le_int(&[0x00, 0x80], 2, false), Some(-32768));
        assert_eq!(le_int(&[1], 2, false), None);
    }

    #[test]
    fn dates_and_times_from_the_wire() {
        assert_eq!(date_parts(&[0]), None);
        assert_eq!(date_parts(&[4, 0xb2, 0x07, 1, 2]), Some((1, 0)));
        assert_eq!(date_parts(&[4, 0xb2, 0x07, 0, 2]), None);
        let dt = [11, 0xb2, 0x07, 1, 1, 0, 0, 1, 0x01, 0, 0, 0];
        assert_eq!(date_parts(&dt), Some((0, 1_000_001)));
        assert_eq!(time_of_day(&[0]), Some(0));
        assert_eq!(
            time_of_day(&[8, 0, 0, 0, 0, 0, 23, 59, 59]),
            Some(86_399_000_000)
        );
        assert_eq!(time_of_day(&[8, 0, 1, 0, 0, 0, 1, 0, 0]), None);
        assert_eq!(time_of_day(&[8, 1, 0, 0, 0, 0, 1, 0, 0]), None);
        assert_eq!(time_text(&[8, 1, 34, 0, 0, 0, 22, 59, 59]), "-838:59:59");
    }
}
