//! What the row-streaming sources (MySQL, SQLite) share: typed Arrow column
//! builders, the batch loop's sending and progress, per-column warning
//! counts and refusal messages.

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
use arrow_schema::{DataType, SchemaRef, TimeUnit};

use super::{BatchSender, ExportMsg, ExportStats, ProgressFn};

/// arrow's 256-bit integer (arrow-buffer's `i256`, named without that crate).
pub(crate) type I256 = <Decimal256Type as ArrowPrimitiveType>::Native;

pub(crate) use crate::format::types::arrow_field;

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
