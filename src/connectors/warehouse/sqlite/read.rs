//! Reading the file being loaded, on a blocking thread: its columns first,
//! then rows in batches through a bounded channel, so a file of any size
//! loads in bounded memory and a slow insert slows the reader.

use std::fs::File;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tokio::sync::mpsc;

use super::decl::declared_type;
use super::encode::{SqlValue, cell};
use super::ndjson;
use crate::format::Format;

/// Rows per batch sent to the loader.
pub(super) const BATCH_ROWS: usize = 8192;

/// A column of the table being loaded.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ColumnDef {
    pub name: String,
    /// The declared SQLite type (see `decl`).
    pub decl: String,
    pub nullable: bool,
}

#[derive(Debug)]
pub(super) enum ReadMsg {
    /// Always first.
    Columns(Vec<ColumnDef>),
    /// `bytes`: of the file, read so far (estimated for Parquet).
    Rows {
        rows: Vec<Vec<SqlValue>>,
        bytes: i64,
    },
}

pub(super) struct ReadInput {
    pub file: PathBuf,
    pub format: Format,
    /// The target table's columns, when it exists.
    pub existing: Option<Vec<ColumnDef>>,
    /// NDJSON takes `existing` as its columns (appends) instead of inferring.
    pub use_existing: bool,
}

/// Sends to the loader; false when it has stopped, after an error of its own
/// (which is the one to report, so the reader just ends).
pub(super) fn send(out: &mpsc::Sender<ReadMsg>, msg: ReadMsg) -> bool {
    out.blocking_send(msg).is_ok()
}

pub(super) fn read_file(input: ReadInput, out: &mpsc::Sender<ReadMsg>) -> Result<()> {
    match input.format {
        Format::Parquet => read_parquet(&input, out),
        Format::Ndjson => ndjson::read(&input, out),
        Format::Csv => bail!(
            "the SQLite warehouse loads Parquet and NDJSON files; CSV carries no column types (export with format = \"parquet\")"
        ),
    }
}

fn read_parquet(input: &ReadInput, out: &mpsc::Sender<ReadMsg>) -> Result<()> {
    let path = input.file.display();
    let file = File::open(&input.file).with_context(|| format!("cannot open {path}"))?;
    let file_len = i64::try_from(file.metadata()?.len()).unwrap_or(i64::MAX);
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .with_context(|| format!("{path} is not a readable Parquet file"))?;
    let total = builder.metadata().file_metadata().num_rows();
    // The builder's fields carry the extension types (JSON, UUID).
    let fields = builder.schema().fields().clone();
    if fields.is_empty() {
        bail!("{path} has no columns");
    }
    let columns = fields
        .iter()
        .map(|f| {
            Ok(ColumnDef {
                name: f.name().clone(),
                decl: declared_type(f)?,
                nullable: f.is_nullable(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if !send(out, ReadMsg::Columns(columns)) {
        return Ok(());
    }
    let reader = builder.with_batch_size(BATCH_ROWS).build()?;
    let mut done: i64 = 0;
    for batch in reader {
        let batch =
            batch.with_context(|| format!("{path}: cannot read the rows after row {done}"))?;
        let mut rows = vec![Vec::with_capacity(fields.len()); batch.num_rows()];
        for (field, column) in fields.iter().zip(batch.columns()) {
            for (r, row) in rows.iter_mut().enumerate() {
                let value = cell(field, column.as_ref(), r).with_context(|| {
                    format!("row {}, column `{}`", done + r as i64 + 1, field.name())
                })?;
                row.push(value);
            }
        }
        done += batch.num_rows() as i64;
        // Progress in file bytes, pro rata of rows (pages are compressed).
        let bytes = match total {
            t if t > 0 => (i128::from(file_len) * i128::from(done.min(t)) / i128::from(t)) as i64,
            _ => file_len,
        };
        if !send(out, ReadMsg::Rows { rows, bytes }) {
            return Ok(());
        }
    }
    Ok(())
}
