//! Parquet through parquet's ArrowWriter: zstd, row groups bounded in rows
//! and in bytes, so memory is bounded whatever the table size.

use std::io::Write;

use anyhow::{Result, bail};
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::writer::{BatchWriter, WriterOptions, check_batch, check_schema};

/// zstd's own default: most of the ratio of higher levels at a fraction of
/// the CPU, so the writer keeps up with the source.
const ZSTD_LEVEL: i32 = 3;

pub struct ParquetWriter<W: Write + Send> {
    schema: SchemaRef,
    inner: ArrowWriter<W>,
}

impl<W: Write + Send> ParquetWriter<W> {
    /// Timestamp(µs, "UTC") is written TIMESTAMP(isAdjustedToUTC=true, MICROS),
    /// a naive one with false; JSON-extension columns get the JSON logical type.
    pub fn try_new(schema: SchemaRef, out: W, opts: &WriterOptions) -> Result<Self> {
        check_schema(&schema)?;
        if opts.row_group_rows == 0 || opts.row_group_bytes == 0 {
            bail!("row groups must allow at least one row and one byte");
        }
        // The writer flushes a row group as soon as its rows reach the row
        // limit or its estimated encoded size (`in_progress_size`) the byte
        // limit, splitting a batch where needed.
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(ZSTD_LEVEL)?))
            .set_max_row_group_row_count(Some(opts.row_group_rows))
            .set_max_row_group_bytes(Some(opts.row_group_bytes))
            .build();
        let inner = ArrowWriter::try_new(out, schema.clone(), Some(props))?;
        Ok(ParquetWriter { schema, inner })
    }

    /// Bytes buffered for the row group in progress.
    pub fn memory_size(&self) -> usize {
        self.inner.memory_size()
    }

    /// Estimated encoded size of the row group in progress.
    pub fn in_progress_size(&self) -> usize {
        self.inner.in_progress_size()
    }

    pub fn flushed_row_groups(&self) -> usize {
        self.inner.flushed_row_groups().len()
    }
}

impl<W: Write + Send> BatchWriter<W> for ParquetWriter<W> {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        check_batch(&self.schema, batch)?;
        Ok(self.inner.write(batch)?)
    }

    /// Flushes the last row group, writes the footer and flushes `W`.
    fn finish(self: Box<Self>) -> Result<W> {
        let mut out = self.inner.into_inner()?;
        out.flush()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::fs::File;
    use std::io::Write;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use arrow_array::{Float64Array, Int64Array, StringArray, TimestampMicrosecondArray};
    use arrow_schema::{DataType, Field, Schema, TimeUnit};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::basic::{LogicalType, TimeUnit as PqUnit};

    use super::*;
    use crate::format::Format;
    use crate::format::testdata::{TS, every_type};
    use crate::format::writer::new_writer;

    fn read_back(file: File) -> (ParquetRecordBatchReaderBuilder<File>, Vec<RecordBatch>) {
        let builder = ParquetRecordBatchReaderBuilder::try_new(file.try_clone().unwrap()).unwrap();
        let batches = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        (builder, batches)
    }

    #[test]
    fn every_type_round_trips_with_logical_types() {
        let batch = every_type();
        let opts = WriterOptions::default();
        let mut w = new_writer(
            Format::Parquet,
            batch.schema(),
            tempfile::tempfile().unwrap(),
            &opts,
        )
        .unwrap();
        w.write(&batch).unwrap();
        let (builder, read) = read_back(w.finish().unwrap());

        assert_eq!(read.len(), 1);
        assert_eq!(read[0].schema(), batch.schema());
        for (i, field) in batch.schema().fields().iter().enumerate() {
            assert_eq!(
                read[0].column(i),
                batch.column(i),
                "column {}",
                field.name()
            );
        }

        let meta = builder.metadata();
        let types: HashMap<String, Option<LogicalType>> = (meta.file_metadata().schema_descr())
            .columns()
            .iter()
            .map(|c| (c.path().string(), c.logical_type_ref().cloned()))
            .collect();
        let ts = |utc| Some(LogicalType::timestamp(utc, PqUnit::MICROS));
        assert_eq!(types["ts"], ts(true));
        assert_eq!(types["tsn"], ts(false));
        assert_eq!(types["j"], Some(LogicalType::Json));
        assert_eq!(types["lj.list.item"], Some(LogicalType::Json));
        assert_eq!(types["s"], Some(LogicalType::String));
        assert_eq!(types["d128"], Some(LogicalType::decimal(2, 10)));
        assert_eq!(types["u64"], Some(LogicalType::integer(64, false)));
        let chunk = meta.row_group(0).column(0);
        // The file records the codec, not the level.
        assert!(matches!(chunk.compression(), Compression::ZSTD(_)));
    }

    fn wide_batch(start: i64, rows: usize) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
            Field::new("amount", DataType::Float64, true),
            Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
        ]));
        let ids = start..start + rows as i64;
        let cols: Vec<arrow_array::ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(ids.clone())),
            Arc::new(StringArray::from_iter_values(
                ids.clone().map(|i| format!("name-{}", i * 7919)),
            )),
            Arc::new(Float64Array::from_iter_values(
                ids.clone().map(|i| i as f64 / 3.0),
            )),
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(ids.map(|i| TS + i * 1_013))
                    .with_timezone("UTC"),
            ),
        ];
        RecordBatch::try_new(schema, cols).unwrap()
    }

    /// Counts the bytes written and keeps none of them.
    struct Counter(Arc<AtomicUsize>);

    impl Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.fetch_add(buf.len(), Ordering::Relaxed);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn memory_stays_bounded_over_two_million_rows() {
        const MIB: usize = 1024 * 1024;
        let opts = WriterOptions {
            row_group_rows: 1_000_000,
            row_group_bytes: 2 * MIB,
        };
        let written = Arc::new(AtomicUsize::new(0));
        let schema = wide_batch(0, 1).schema();
        let mut w =
            ParquetWriter::try_new(schema.clone(), Counter(written.clone()), &opts).unwrap();
        // Small batches, so row groups build up over many writes.
        let (batch_rows, total) = (8 * 1024, 2_000_000);
        let (mut peak, mut arrow_bytes) = (0, 0);
        for start in (0..total).step_by(batch_rows) {
            let batch = wide_batch(start as i64, batch_rows.min(total - start));
            arrow_bytes += batch.get_array_memory_size();
            w.write(&batch).unwrap();
            assert!(
                w.in_progress_size() < opts.row_group_bytes,
                "{}",
                w.in_progress_size()
            );
            peak = peak.max(w.memory_size());
        }
        let groups = w.flushed_row_groups();
        Box::new(w).finish().unwrap();
        // One row group, plus each column's dictionary encoder (parquet
        // falls back to plain encoding past a 1 MiB dictionary page).
        let bound = opts.row_group_bytes + schema.fields().len() * 2 * MIB;
        assert!(peak > MIB && peak < bound, "peak {peak}");
        // ... a small part of the table, whether as Arrow data or as the file.
        assert!(
            arrow_bytes > 8 * peak,
            "{arrow_bytes} bytes in, peak {peak}"
        );
        assert!(written.load(Ordering::Relaxed) > 3 * peak, "peak {peak}");
        assert!(groups > 10, "{groups} row groups");
    }

    #[test]
    fn row_groups_are_bounded_in_rows() {
        let opts = WriterOptions {
            row_group_rows: 100_000,
            ..WriterOptions::default()
        };
        let mut w = new_writer(
            Format::Parquet,
            wide_batch(0, 1).schema(),
            tempfile::tempfile().unwrap(),
            &opts,
        )
        .unwrap();
        for start in (0..250_000).step_by(30_000) {
            w.write(&wide_batch(start, 30_000.min(250_000 - start as usize)))
                .unwrap();
        }
        let (builder, read) = read_back(w.finish().unwrap());
        let rows: Vec<i64> = builder
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        assert_eq!(rows, [100_000, 100_000, 50_000]);
        assert_eq!(read.iter().map(|b| b.num_rows()).sum::<usize>(), 250_000);
    }
}
