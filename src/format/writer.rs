//! Streaming writers: record batches in, bytes out, memory bounded.

use std::io::Write;

use anyhow::Result;
use arrow_array::RecordBatch;

/// Writes batches of one schema to `W`; `finish` flushes and hands `W` back
/// (so the caller can publish it atomically).
pub trait BatchWriter<W: Write + Send>: Send {
    fn write(&mut self, batch: &RecordBatch) -> Result<()>;
    fn finish(self: Box<Self>) -> Result<W>;
}
