//! What the row-streaming sources (MySQL, SQLite) share: typed Arrow column
//! builders, the batch loop's sending and progress, per-column warning
//! counts, refusal messages, and exact parsers for decimal and date text.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Decimal256Builder,
    Float32Builder, Float64Builder, Int8Builder, Int16Builder, Int32Builder, Int64Builder,
    StringBuilder, Time64MicrosecondBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::types::{ArrowPrimitiveType, Decimal128Type, Decimal256Type, DecimalType};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::extension::Json;
use arrow_schema::{DataType, Field, SchemaRef, TimeUnit};

use super::{BatchSender, ExportMsg, ExportStats, ProgressFn};
use crate::format::types::{ColumnType, WarehouseType};

/// arrow's 256-bit integer (arrow-buffer's `i256`, named without that crate).
pub(crate) type I256 = <Decimal256Type as ArrowPrimitiveType>::Native;

/// The field a column is carried as; JSON columns get the canonical
/// `arrow.json` extension type so writers and loaders know them.
// Private stand-in until `format::types::arrow_field` lands.
pub(crate) fn arrow_field(name: &str, ty: &ColumnType, nullable: bool) -> Field {
    let field = Field::new(name, ty.arrow.clone(), nullable);
    if ty.warehouse == WarehouseType::Json {
        field.with_extension_type(Json::default())
    } else {
        field
    }
}

/// One decoded value, in the unit its Arrow column wants.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    /// Unscaled decimal.
    Dec(i128),
    Dec256(I256),
    F32(f32),
    F64(f64),
    Str(&'a str),
    Bytes(&'a [u8]),
    /// Days since 1970-01-01.
    Days(i32),
    /// Microseconds since 1970-01-01 (timestamps) or since midnight (time).
    Micros(i64),
}

pub(crate) enum ColBuilder {
    Boolean(BooleanBuilder),
    Int8(Int8Builder),
    Int16(Int16Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Decimal128(Decimal128Builder, u8),
    Decimal256(Decimal256Builder, u8),
    Utf8(StringBuilder),
    Binary(BinaryBuilder),
    Date32(Date32Builder),
    Time64(Time64MicrosecondBuilder),
    Timestamp(TimestampMicrosecondBuilder),
}

impl ColBuilder {
    pub(crate) fn new(dt: &DataType, cap: usize) -> Result<ColBuilder> {
        Ok(match dt {
            DataType::Boolean => ColBuilder::Boolean(BooleanBuilder::with_capacity(cap)),
            DataType::Int8 => ColBuilder::Int8(Int8Builder::with_capacity(cap)),
            DataType::Int16 => ColBuilder::Int16(Int16Builder::with_capacity(cap)),
            DataType::Int32 => ColBuilder::Int32(Int32Builder::with_capacity(cap)),
            DataType::Int64 => ColBuilder::Int64(Int64Builder::with_capacity(cap)),
            DataType::Float32 => ColBuilder::Float32(Float32Builder::with_capacity(cap)),
            DataType::Float64 => ColBuilder::Float64(Float64Builder::with_capacity(cap)),
            DataType::Decimal128(p, _) => ColBuilder::Decimal128(
                Decimal128Builder::with_capacity(cap).with_data_type(dt.clone()),
                *p,
            ),
            DataType::Decimal256(p, _) => ColBuilder::Decimal256(
                Decimal256Builder::with_capacity(cap).with_data_type(dt.clone()),
                *p,
            ),
            // Values are small on average; the builders grow as needed.
            DataType::Utf8 => ColBuilder::Utf8(StringBuilder::with_capacity(cap, cap * 16)),
            DataType::Binary => ColBuilder::Binary(BinaryBuilder::with_capacity(cap, cap * 16)),
            DataType::Date32 => ColBuilder::Date32(Date32Builder::with_capacity(cap)),
            DataType::Time64(TimeUnit::Microsecond) => {
                ColBuilder::Time64(Time64MicrosecondBuilder::with_capacity(cap))
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => ColBuilder::Timestamp(
                TimestampMicrosecondBuilder::with_capacity(cap).with_data_type(dt.clone()),
            ),
            other => bail!("no row builder for Arrow type {other}"),
        })
    }

    /// Appends `cell`; Err when it does not fit the column (a refusal).
    pub(crate) fn push(&mut self, cell: Cell<'_>) -> Result<(), &'static str> {
        use ColBuilder as B;
        const RANGE: &str = "out of range for its Arrow type";
        match (self, cell) {
            (B::Boolean(b), Cell::Null) => b.append_null(),
            (B::Int8(b), Cell::Null) => b.append_null(),
            (B::Int16(b), Cell::Null) => b.append_null(),
            (B::Int32(b), Cell::Null) => b.append_null(),
            (B::Int64(b), Cell::Null) => b.append_null(),
            (B::Float32(b), Cell::Null) => b.append_null(),
            (B::Float64(b), Cell::Null) => b.append_null(),
            (B::Decimal128(b, _), Cell::Null) => b.append_null(),
            (B::Decimal256(b, _), Cell::Null) => b.append_null(),
            (B::Utf8(b), Cell::Null) => b.append_null(),
            (B::Binary(b), Cell::Null) => b.append_null(),
            (B::Date32(b), Cell::Null) => b.append_null(),
            (B::Time64(b), Cell::Null) => b.append_null(),
            (B::Timestamp(b), Cell::Null) => b.append_null(),
            (B::Boolean(b), Cell::Bool(v)) => b.append_value(v),
            (B::Int8(b), Cell::Int(v)) => b.append_value(i8::try_from(v).map_err(|_| RANGE)?),
            (B::Int16(b), Cell::Int(v)) => b.append_value(i16::try_from(v).map_err(|_| RANGE)?),
            (B::Int32(b), Cell::Int(v)) => b.append_value(i32::try_from(v).map_err(|_| RANGE)?),
            (B::Int64(b), Cell::Int(v)) => b.append_value(v),
            (B::Float32(b), Cell::F32(v)) => b.append_value(v),
            (B::Float64(b), Cell::F64(v)) => b.append_value(v),
            (B::Decimal128(b, p), Cell::Dec(v)) => {
                if !Decimal128Type::is_valid_decimal_precision(v, *p) {
                    return Err("more digits than the column's precision");
                }
                b.append_value(v)
            }
            (B::Decimal256(b, p), Cell::Dec256(v)) => {
                if !Decimal256Type::is_valid_decimal_precision(v, *p) {
                    return Err("more digits than the column's precision");
                }
                b.append_value(v)
            }
            (B::Utf8(b), Cell::Str(v)) => b.append_value(v),
            (B::Binary(b), Cell::Bytes(v)) => b.append_value(v),
            (B::Date32(b), Cell::Days(v)) => b.append_value(v),
            (B::Time64(b), Cell::Micros(v)) => b.append_value(v),
            (B::Timestamp(b), Cell::Micros(v)) => b.append_value(v),
            _ => return Err("decoded as a different kind of value than its column"),
        }
        Ok(())
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColBuilder::Boolean(b) => Arc::new(b.finish()),
            ColBuilder::Int8(b) => Arc::new(b.finish()),
            ColBuilder::Int16(b) => Arc::new(b.finish()),
            ColBuilder::Int32(b) => Arc::new(b.finish()),
            ColBuilder::Int64(b) => Arc::new(b.finish()),
            ColBuilder::Float32(b) => Arc::new(b.finish()),
            ColBuilder::Float64(b) => Arc::new(b.finish()),
            ColBuilder::Decimal128(b, _) => Arc::new(b.finish()),
            ColBuilder::Decimal256(b, _) => Arc::new(b.finish()),
            ColBuilder::Utf8(b) => Arc::new(b.finish()),
            ColBuilder::Binary(b) => Arc::new(b.finish()),
            ColBuilder::Date32(b) => Arc::new(b.finish()),
            ColBuilder::Time64(b) => Arc::new(b.finish()),
            ColBuilder::Timestamp(b) => Arc::new(b.finish()),
        }
    }
}

/// Builds batches of one schema and sends them: the schema first, then a
/// batch every `batch_rows` rows, with progress after each.
pub(crate) struct BatchSink {
    schema: SchemaRef,
    cols: Vec<ColBuilder>,
    batch_rows: usize,
    rows_in_batch: usize,
    out: BatchSender,
    progress: ProgressFn,
    pub(crate) stats: ExportStats,
    /// Source bytes of the current batch (added to stats when it is sent).
    pub(crate) batch_bytes: i64,
}

impl BatchSink {
    pub(crate) async fn start(
        schema: SchemaRef,
        batch_rows: usize,
        out: BatchSender,
        progress: ProgressFn,
    ) -> Result<BatchSink> {
        let batch_rows = batch_rows.max(1);
        let cols = builders(&schema, batch_rows)?;
        out.send(ExportMsg::Schema(schema.clone()))
            .await
            .map_err(|_| anyhow!("export stopped: the writer went away"))?;
        Ok(BatchSink {
            schema,
            cols,
            batch_rows,
            rows_in_batch: 0,
            out,
            progress,
            stats: ExportStats::default(),
            batch_bytes: 0,
        })
    }

    pub(crate) fn col(&mut self, i: usize) -> &mut ColBuilder {
        &mut self.cols[i]
    }

    /// Call after every column of a row was pushed.
    pub(crate) async fn row_done(&mut self) -> Result<()> {
        self.rows_in_batch += 1;
        if self.rows_in_batch >= self.batch_rows {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        if self.rows_in_batch == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self.cols.iter_mut().map(ColBuilder::finish).collect();
        let batch =
            RecordBatch::try_new(self.schema.clone(), arrays).context("building a record batch")?;
        self.stats.rows += self.rows_in_batch as i64;
        self.stats.source_bytes += self.batch_bytes;
        self.rows_in_batch = 0;
        self.batch_bytes = 0;
        self.out
            .send(ExportMsg::Batch(batch))
            .await
            .map_err(|_| anyhow!("export stopped: the writer went away"))?;
        (self.progress)(self.stats.rows, self.stats.source_bytes);
        Ok(())
    }

    /// Sends the last partial batch; returns the totals.
    pub(crate) async fn finish(mut self, warnings: Warnings) -> Result<ExportStats> {
        self.flush().await?;
        let names: Vec<String> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        self.stats.warnings = warnings.messages(&names);
        Ok(self.stats)
    }
}

fn builders(schema: &SchemaRef, cap: usize) -> Result<Vec<ColBuilder>> {
    schema
        .fields()
        .iter()
        .map(|f| ColBuilder::new(f.data_type(), cap))
        .collect()
}

/// Runs an export into a channel and keeps its one batch (callers set
/// `batch_rows` to the preview size): what `preview` returns.
pub(crate) async fn collect_one<F>(run: impl FnOnce(BatchSender) -> F) -> Result<RecordBatch>
where
    F: Future<Output = Result<ExportStats>>,
{
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let collect = async {
        let (mut schema, mut first) = (None, None);
        while let Some(msg) = rx.recv().await {
            match msg {
                ExportMsg::Schema(s) => schema = Some(s),
                ExportMsg::Batch(b) => first = first.or(Some(b)),
            }
        }
        (schema, first)
    };
    let (result, (schema, first)) = tokio::join!(run(tx), collect);
    result?;
    match (first, schema) {
        (Some(batch), _) => Ok(batch),
        (None, Some(schema)) => Ok(RecordBatch::new_empty(schema)),
        (None, None) => bail!("the export sent no schema"),
    }
}

/// Conversions counted per column, reported once each at the end.
#[derive(Debug, Default)]
pub(crate) struct Warnings(BTreeMap<(usize, &'static str), u64>);

impl Warnings {
    pub(crate) fn add(&mut self, col: usize, what: &'static str) {
        *self.0.entry((col, what)).or_insert(0) += 1;
    }

    fn messages(&self, names: &[String]) -> Vec<String> {
        self.0
            .iter()
            .map(|((col, what), n)| {
                let name = names.get(*col).map(String::as_str).unwrap_or("?");
                format!("column `{name}`: {n} {what}")
            })
            .collect()
    }
}

/// A value that cannot be carried exactly, named so the reader can find it.
pub(crate) fn refusal(table: &str, column: &str, db_type: &str, what: &str) -> anyhow::Error {
    anyhow!(
        "{table}, column `{column}` ({db_type}): {what}; refused (the task can opt in to \
         converting such values)"
    )
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
