//! CSV, RFC 4180: a header row, CRLF line ends, fields quoted when they hold
//! a comma, quote, CR or LF (quotes doubled). Values as in NDJSON, but text
//! unquoted, JSON documents and lists as their JSON text, nulls empty.

use std::io::{BufWriter, Write};

use anyhow::{Context, Result};
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::render::{BUF_BYTES, columns};
use super::writer::{BatchWriter, check_schema};

pub struct CsvWriter<W: Write> {
    schema: SchemaRef,
    out: BufWriter<W>,
    line: Vec<u8>,
    field: Vec<u8>,
}

impl<W: Write + Send> CsvWriter<W> {
    /// Writes the header at once, so an empty table still names its columns.
    pub fn try_new(schema: SchemaRef, out: W) -> Result<Self> {
        check_schema(&schema)?;
        let mut out = BufWriter::with_capacity(BUF_BYTES, out);
        let mut line = Vec::new();
        for (i, f) in schema.fields().iter().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            push_field(&mut line, f.name().as_bytes());
        }
        line.extend_from_slice(b"\r\n");
        out.write_all(&line)?;
        Ok(CsvWriter {
            schema,
            out,
            line,
            field: Vec::new(),
        })
    }
}

/// Appends `text` as one field, quoted when it must be. An empty value is
/// written `""`, so that it stays distinct from null (an empty field).
fn push_field(line: &mut Vec<u8>, text: &[u8]) {
    let special = |b: &u8| matches!(b, b',' | b'"' | b'\r' | b'\n');
    if !text.is_empty() && !text.iter().any(special) {
        line.extend_from_slice(text);
        return;
    }
    line.push(b'"');
    for &b in text {
        if b == b'"' {
            line.push(b'"');
        }
        line.push(b);
    }
    line.push(b'"');
}

impl<W: Write + Send> BatchWriter<W> for CsvWriter<W> {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let cols = columns(&self.schema, batch)?;
        for row in 0..batch.num_rows() {
            self.line.clear();
            for (i, col) in cols.iter().enumerate() {
                if i > 0 {
                    self.line.push(b',');
                }
                self.field.clear();
                let written = col.write(row, false, &mut self.field).with_context(|| {
                    format!("column `{}`, row {row}", self.schema.field(i).name())
                })?;
                if written {
                    push_field(&mut self.line, &self.field);
                }
            }
            self.line.extend_from_slice(b"\r\n");
            self.out.write_all(&self.line)?;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<W> {
        super::render::into_flushed(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Format;
    use crate::format::testdata::every_type;
    use crate::format::writer::{WriterOptions, new_writer};

    fn csv(batch: &RecordBatch) -> String {
        crate::format::testdata::written(Format::Csv, batch)
    }

    #[test]
    fn every_type_as_csv() {
        let expected = concat!(
            "b,i8,i16,i32,i64,u8,u16,u32,u64,f32,f64,d128,d256,s,ls,j,bin,lbin,d,t,ts,tsn,li,lstr,lj,ll\r\n",
            "true,-128,-32768,-2147483648,-9223372036854775808,0,0,0,0,0.1,-1e+300,12.30,",
            "-12345678901234567890123456789012345678.901,\"héllo, \"\"wörld\"\"\r\n\",\"\",",
            "\"{\"\"a\"\": [1, 2.50, \"\"ü\"\"],\n \"\"n\"\": 12345678901234567890123}\",AP8=,Zm9v,",
            "2026-01-02,03:04:05.123456,2026-01-02T03:04:05.123456Z,2026-01-02T03:04:05.123456,",
            "\"[1,null,3]\",\"[\"\"a,b\"\",\"\"ü\\\"\"\"\"]\",\"[{\"\"k\"\": [1, \"\"x\"\"]},null]\",\"[1.0,null]\"\r\n",
            "false,127,32767,2147483647,9007199254740993,255,65535,4294967295,18446744073709551615,,,",
            "-0.05,0.007,日本\t\u{1},plain,\"\"\"x,y\"\"\",\"\",Zm8=,1969-12-31,00:00:00.000000,",
            "1969-12-31T23:59:59.999999Z,1970-01-01T00:00:00.000000,[],[null],[],\r\n",
            ",,,,,,,,,,,,,,,,,,,,,,,,,[]\r\n",
        );
        assert_eq!(csv(&every_type()), expected);
    }

    #[test]
    fn header_is_quoted_and_written_for_an_empty_table() {
        let schema = std::sync::Arc::new(arrow_schema::Schema::new(vec![
            arrow_schema::Field::new("a,b", arrow_schema::DataType::Int32, true),
            arrow_schema::Field::new("", arrow_schema::DataType::Int32, true),
            arrow_schema::Field::new("c", arrow_schema::DataType::Int32, true),
        ]));
        let w = new_writer(Format::Csv, schema, Vec::new(), &WriterOptions::default()).unwrap();
        assert_eq!(w.finish().unwrap(), b"\"a,b\",\"\",c\r\n");
    }
}
