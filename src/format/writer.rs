//! Streaming writers: record batches in, bytes out, memory bounded.

use std::io::Write;

use anyhow::{Result, bail};
use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use super::Format;

/// Writes batches of one schema to `W`; `finish` flushes and hands `W` back
/// (so the caller can publish it atomically).
pub trait BatchWriter<W: Write + Send>: Send {
    fn write(&mut self, batch: &RecordBatch) -> Result<()>;
    fn finish(self: Box<Self>) -> Result<W>;
}

/// Row-group bounds for Parquet (the text formats stream row by row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterOptions {
    /// A row group is flushed once it holds this many rows.
    pub row_group_rows: usize,
    /// ... or once its estimated encoded size passes this many bytes, which
    /// is what bounds memory for wide rows.
    pub row_group_bytes: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        // 48 MiB groups: large enough for efficient reads (and BigQuery
        // loads), small enough that an export stays under 150 MB of memory.
        WriterOptions {
            row_group_rows: 1_000_000,
            row_group_bytes: 48 * 1024 * 1024,
        }
    }
}

/// A writer for `format`; refuses a schema holding a type no source produces.
pub fn new_writer<W: Write + Send + 'static>(
    format: Format,
    schema: SchemaRef,
    out: W,
    opts: &WriterOptions,
) -> Result<Box<dyn BatchWriter<W>>> {
    Ok(match format {
        Format::Parquet => Box::new(super::parquet::ParquetWriter::try_new(schema, out, opts)?),
        Format::Ndjson => Box::new(super::ndjson::NdjsonWriter::try_new(schema, out)?),
        Format::Csv => Box::new(super::csv::CsvWriter::try_new(schema, out)?),
    })
}

/// Refuses types outside what the source readers produce, naming the column.
pub(crate) fn check_schema(schema: &Schema) -> Result<()> {
    for field in schema.fields() {
        if !supported(field) {
            bail!(
                "column `{}`: Arrow type {} cannot be written (unsupported type)",
                field.name(),
                field.data_type()
            );
        }
    }
    Ok(())
}

fn supported(field: &Field) -> bool {
    use DataType::*;
    match field.data_type() {
        Boolean | Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => true,
        Float32 | Float64 | Decimal128(..) | Decimal256(..) => true,
        Utf8 | LargeUtf8 | Binary | LargeBinary | Date32 => true,
        Time64(TimeUnit::Microsecond) => true,
        Timestamp(TimeUnit::Microsecond, None) => true,
        // Instants are written in UTC; arrow's own `with_timezone_utc` says "+00:00".
        Timestamp(TimeUnit::Microsecond, Some(tz)) => matches!(tz.as_ref(), "UTC" | "+00:00"),
        List(item) | LargeList(item) => supported(item),
        _ => false,
    }
}

/// Checks a batch against the writer's schema before any of it is written.
pub(crate) fn check_batch(schema: &Schema, batch: &RecordBatch) -> Result<()> {
    if batch.num_columns() != schema.fields().len() {
        bail!(
            "batch has {} columns, the file's schema {}",
            batch.num_columns(),
            schema.fields().len()
        );
    }
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        if !field.data_type().equals_datatype(column.data_type()) {
            bail!(
                "column `{}`: batch holds {}, the file's schema says {}",
                field.name(),
                column.data_type(),
                field.data_type()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::Int32Array;

    use super::*;
    use crate::format::testdata::ts_schema;

    fn refusal(format: Format, schema: SchemaRef) -> String {
        let opts = WriterOptions::default();
        match new_writer(format, schema, Vec::new(), &opts) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn unsupported_types_are_refused_naming_the_column() {
        let utc = Some("+00:00");
        for format in [Format::Parquet, Format::Ndjson, Format::Csv] {
            assert_eq!(refusal(format, ts_schema(TimeUnit::Microsecond, utc)), "");
            let msg = refusal(format, ts_schema(TimeUnit::Nanosecond, None));
            assert!(
                msg.contains("column `when`: Arrow type Timestamp(ns)"),
                "{msg}"
            );
            let msg = refusal(
                format,
                ts_schema(TimeUnit::Microsecond, Some("Europe/Paris")),
            );
            assert!(msg.contains("column `when`"), "{msg}");
            let list = DataType::List(Arc::new(Field::new_list_field(DataType::Float16, true)));
            let schema = Arc::new(Schema::new(vec![Field::new("xs", list, true)]));
            assert!(refusal(format, schema).contains("column `xs`"));
        }
    }

    #[test]
    fn batches_must_match_the_schema() {
        let schema = ts_schema(TimeUnit::Microsecond, None);
        let other = Arc::new(Schema::new(vec![Field::new("n", DataType::Int32, true)]));
        let batch = RecordBatch::try_new(other, vec![Arc::new(Int32Array::from(vec![1]))]).unwrap();
        for format in [Format::Parquet, Format::Ndjson, Format::Csv] {
            let opts = WriterOptions::default();
            let mut w = new_writer(format, schema.clone(), Vec::new(), &opts).unwrap();
            let msg = w.write(&batch).unwrap_err().to_string();
            assert!(msg.starts_with("column `when`: batch holds Int32"), "{msg}");
        }
        let opts = WriterOptions {
            row_group_rows: 0,
            ..WriterOptions::default()
        };
        assert!(new_writer(Format::Parquet, schema, Vec::new(), &opts).is_err());
    }
}
