//! COPY … TO STDOUT (FORMAT binary) decoded straight into Arrow record
//! batches. The stream arrives in chunks that may split anywhere (a header,
//! a tuple, even a length word): bytes of an incomplete tuple wait in a
//! carry-over buffer, and a tuple is decoded only once it is whole, so the
//! builders never hold half a row.

use anyhow::{Context, Result, bail};
use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::SchemaRef;

use super::column::{Ctx, Slot};
use crate::connectors::source::Lossy;
use crate::format::types::postgres::PgKind;

const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";
/// Signature, flags word, header-extension length.
const HEADER_LEN: usize = 11 + 4 + 4;

/// One line per column whose values were converted (NULL, or rounded) as
/// the task allowed; `counts` in column order.
pub(crate) fn conversion_warnings(columns: &[CopyColumn], counts: &[u64]) -> Vec<String> {
    columns
        .iter()
        .zip(counts)
        .filter(|(_, n)| **n > 0)
        .map(|(c, n)| {
            format!(
                "column \"{}\" ({}): {n} value(s) had no exact Arrow value and were converted \
                 (NULL, or rounded) as the task allows",
                c.name, c.db_type
            )
        })
        .collect()
}

/// A column as the decoder needs it: name and type for messages, kind to read it.
#[derive(Debug, Clone)]
pub(crate) struct CopyColumn {
    pub name: String,
    pub db_type: String,
    pub kind: PgKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Header,
    Tuples,
    Done,
}

struct Col {
    name: String,
    db_type: String,
    slot: Slot,
    converted: u64,
}

pub(crate) struct CopyDecoder {
    schema: SchemaRef,
    cols: Vec<Col>,
    lossy: Lossy,
    batch_rows: usize,
    /// Rows in the builders, not yet in a batch.
    pending: usize,
    carry: Vec<u8>,
    stage: Stage,
}

enum Frame {
    /// A whole tuple of this many bytes.
    Tuple(usize),
    Trailer,
}

fn be_i16(b: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([b[at], b[at + 1]])
}

fn be_i32(b: &[u8], at: usize) -> i32 {
    i32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl CopyDecoder {
    /// `schema` must hold the Arrow types of `columns`' kinds, in order.
    pub(crate) fn new(
        schema: SchemaRef,
        columns: &[CopyColumn],
        lossy: Lossy,
        batch_rows: usize,
    ) -> Result<CopyDecoder> {
        let cols = columns
            .iter()
            .map(|c| {
                Ok(Col {
                    name: c.name.clone(),
                    db_type: c.db_type.clone(),
                    slot: Slot::new(&c.kind)?,
                    converted: 0,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(CopyDecoder {
            schema,
            cols,
            lossy,
            batch_rows: batch_rows.max(1),
            pending: 0,
            carry: Vec::new(),
            stage: Stage::Header,
        })
    }

    /// Decodes what `chunk` completes; full batches are pushed onto `out`.
    pub(crate) fn feed(&mut self, chunk: &[u8], out: &mut Vec<RecordBatch>) -> Result<()> {
        if self.carry.is_empty() {
            // The common case (PostgreSQL sends a row per message): no copy.
            let used = self.consume(chunk, out)?;
            self.carry.extend_from_slice(&chunk[used..]);
        } else {
            let mut buf = std::mem::take(&mut self.carry);
            buf.extend_from_slice(chunk);
            let used = self.consume(&buf, out)?;
            buf.drain(..used);
            self.carry = buf;
        }
        Ok(())
    }

    /// The last, partial batch; an error if the stream stopped early.
    pub(crate) fn finish(&mut self) -> Result<Option<RecordBatch>> {
        if self.stage != Stage::Done {
            bail!("the COPY stream ended before its trailer");
        }
        if self.pending == 0 {
            return Ok(None);
        }
        self.flush().map(Some)
    }

    /// Counts of converted values per column, in column order.
    pub(crate) fn converted(&self) -> Vec<u64> {
        self.cols.iter().map(|c| c.converted).collect()
    }

    /// Decodes every whole frame in `buf`; returns how many bytes it used.
    fn consume(&mut self, buf: &[u8], out: &mut Vec<RecordBatch>) -> Result<usize> {
        let mut pos = 0;
        loop {
            let rest = &buf[pos..];
            match self.stage {
                Stage::Header => {
                    if rest.len() < HEADER_LEN {
                        return Ok(pos);
                    }
                    if &rest[..11] != SIGNATURE {
                        bail!("not a binary COPY stream (bad signature)");
                    }
                    if be_i32(rest, 11) & (1 << 16) != 0 {
                        bail!("binary COPY with OIDs is not supported");
                    }
                    let ext = usize::try_from(be_i32(rest, 15))
                        .context("negative COPY header extension length")?;
                    if rest.len() < HEADER_LEN + ext {
                        return Ok(pos);
                    }
                    pos += HEADER_LEN + ext;
                    self.stage = Stage::Tuples;
                }
                Stage::Tuples => match self.frame(rest)? {
                    None => return Ok(pos),
                    Some(Frame::Trailer) => {
                        pos += 2;
                        self.stage = Stage::Done;
                    }
                    Some(Frame::Tuple(len)) => {
                        self.decode_tuple(&rest[..len])?;
                        pos += len;
                        self.pending += 1;
                        if self.pending == self.batch_rows {
                            out.push(self.flush()?);
                        }
                    }
                },
                Stage::Done if rest.is_empty() => return Ok(pos),
                Stage::Done => bail!("data after the end of the COPY stream"),
            }
        }
    }

    /// The extent of the next frame, if `buf` holds all of it. Walks only
    /// the length words, so a tuple split over many chunks costs little.
    fn frame(&self, buf: &[u8]) -> Result<Option<Frame>> {
        if buf.len() < 2 {
            return Ok(None);
        }
        let fields = be_i16(buf, 0);
        if fields == -1 {
            return Ok(Some(Frame::Trailer));
        }
        if usize::try_from(fields).ok() != Some(self.cols.len()) {
            bail!(
                "COPY sent a row of {fields} fields where {} columns were expected",
                self.cols.len()
            );
        }
        let mut p = 2;
        for _ in 0..fields {
            if buf.len() < p + 4 {
                return Ok(None);
            }
            let len = be_i32(buf, p);
            p += 4;
            if len > 0 {
                p += len as usize;
                if buf.len() < p {
                    return Ok(None);
                }
            } else if len < -1 {
                bail!("COPY sent a field length of {len}");
            }
        }
        Ok(Some(Frame::Tuple(p)))
    }

    fn decode_tuple(&mut self, t: &[u8]) -> Result<()> {
        let mut p = 2;
        for col in &mut self.cols {
            let len = be_i32(t, p);
            p += 4;
            if len < 0 {
                col.slot.append_null();
                continue;
            }
            let v = &t[p..p + len as usize];
            p += len as usize;
            let mut ctx = Ctx {
                column: &col.name,
                db_type: &col.db_type,
                lossy: self.lossy,
                converted: &mut col.converted,
            };
            col.slot.append(v, &mut ctx)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<RecordBatch> {
        let arrays = self
            .cols
            .iter_mut()
            .map(|c| c.slot.finish())
            .collect::<Result<Vec<_>>>()?;
        let opts = RecordBatchOptions::new().with_row_count(Some(self.pending));
        self.pending = 0;
        Ok(RecordBatch::try_new_with_options(
            self.schema.clone(),
            arrays,
            &opts,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::cast::AsArray;
    use arrow_array::types::{Decimal128Type, Int32Type};
    use arrow_array::{Array, ListArray};
    use arrow_schema::{Field, Schema};

    use super::*;

    fn columns() -> Vec<CopyColumn> {
        let col = |name: &str, kind: PgKind| CopyColumn {
            name: name.into(),
            db_type: format!("{kind:?}"),
            kind,
        };
        vec![
            col("id", PgKind::Int4),
            col("name", PgKind::Text),
            col(
                "amount",
                PgKind::Numeric {
                    precision: 10,
                    scale: 2,
                    declared: true,
                },
            ),
            col("tags", PgKind::Array(Box::new(PgKind::Int4))),
            col("doc", PgKind::Jsonb),
        ]
    }

    fn schema(cols: &[CopyColumn]) -> SchemaRef {
        let fields: Vec<_> = cols
            .iter()
            .map(|c| Field::new(&c.name, c.kind.arrow_type(), true))
            .collect();
        Arc::new(Schema::new(fields))
    }

    fn field(out: &mut Vec<u8>, v: Option<&[u8]>) {
        match v {
            None => out.extend((-1i32).to_be_bytes()),
            Some(v) => {
                out.extend((v.len() as i32).to_be_bytes());
                out.extend(v);
            }
        }
    }

    /// A binary numeric: digit groups, weight, negative.
    fn numeric(digits: &[u16], weight: i16, negative: bool) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend((digits.len() as u16).to_be_bytes());
        v.extend(weight.to_be_bytes());
        v.extend((if negative { 0x4000u16 } else { 0 }).to_be_bytes());
        v.extend(2u16.to_be_bytes());
        digits.iter().for_each(|d| v.extend(d.to_be_bytes()));
        v
    }

    fn int4_array(items: &[Option<i32>]) -> Vec<u8> {
        let mut v = Vec::new();
        let ndim: i32 = if items.is_empty() { 0 } else { 1 };
        v.extend(ndim.to_be_bytes());
        v.extend(0i32.to_be_bytes());
        v.extend(23u32.to_be_bytes());
        if ndim == 1 {
            v.extend((items.len() as i32).to_be_bytes());
            v.extend(1i32.to_be_bytes());
        }
        for i in items {
            let bytes = i.map(|i| i.to_be_bytes());
            field(&mut v, bytes.as_ref().map(|b| b.as_slice()));
        }
        v
    }

    fn jsonb(s: &str) -> Vec<u8> {
        let mut v = vec![1u8];
        v.extend(s.as_bytes());
        v
    }

    /// Header (with a 3-byte extension), three rows, trailer.
    fn stream() -> Vec<u8> {
        let mut s = SIGNATURE.to_vec();
        s.extend(0i32.to_be_bytes());
        s.extend(3i32.to_be_bytes());
        s.extend(b"ext");
        let rows: Vec<[Option<Vec<u8>>; 5]> = vec![
            [
                Some(1i32.to_be_bytes().to_vec()),
                Some("héllo ☃".as_bytes().to_vec()),
                Some(numeric(&[12, 3400], 0, false)),
                Some(int4_array(&[Some(1), None, Some(3)])),
                Some(jsonb(r#"{"a": 1}"#)),
            ],
            [None, None, None, None, None],
            [
                Some(3i32.to_be_bytes().to_vec()),
                Some(Vec::new()),
                Some(numeric(&[5000], -1, true)),
                Some(int4_array(&[])),
                Some(jsonb("[]")),
            ],
        ];
        for row in rows {
            s.extend(5i16.to_be_bytes());
            for v in &row {
                field(&mut s, v.as_deref());
            }
        }
        s.extend((-1i16).to_be_bytes());
        s
    }

    fn decode(chunk_size: usize) -> Result<Vec<RecordBatch>> {
        let cols = columns();
        let mut dec = CopyDecoder::new(schema(&cols), &cols, Lossy::Refuse, 2)?;
        let mut out = Vec::new();
        for chunk in stream().chunks(chunk_size) {
            dec.feed(chunk, &mut out)?;
        }
        out.extend(dec.finish()?);
        Ok(out)
    }

    #[test]
    fn decodes_the_same_whatever_the_chunking() {
        let whole = decode(usize::MAX).expect("decode whole");
        assert_eq!(whole.len(), 2, "batches of 2 rows: 2 + 1");
        assert_eq!(whole[0].num_rows(), 2);
        assert_eq!(whole[1].num_rows(), 1);
        for size in [1, 2, 3, 7] {
            assert_eq!(
                decode(size).expect("decode in pieces"),
                whole,
                "chunks of {size}"
            );
        }
        let b = &whole[0];
        let id = b.column(0).as_primitive::<Int32Type>();
        assert_eq!((id.value(0), id.is_null(1)), (1, true));
        assert_eq!(b.column(1).as_string::<i32>().value(0), "héllo ☃");
        let amount = b.column(2).as_primitive::<Decimal128Type>();
        assert_eq!(amount.value(0), 1234);
        assert!(amount.is_null(1));
        let tags = b
            .column(3)
            .as_any()
            .downcast_ref::<ListArray>()
            .expect("list");
        let first = tags.value(0);
        let first = first.as_primitive::<Int32Type>();
        assert_eq!(first.len(), 3);
        assert_eq!(
            (first.value(0), first.is_null(1), first.value(2)),
            (1, true, 3)
        );
        assert!(tags.is_null(1));
        assert_eq!(b.column(4).as_string::<i32>().value(0), r#"{"a": 1}"#);
        let last = &whole[1];
        assert_eq!(last.column(1).as_string::<i32>().value(0), "");
        assert_eq!(
            last.column(2).as_primitive::<Decimal128Type>().value(0),
            -50
        );
        let tags = last
            .column(3)
            .as_any()
            .downcast_ref::<ListArray>()
            .expect("list");
        assert_eq!((tags.is_null(0), tags.value_length(0)), (false, 0));
        assert_eq!(last.column(4).as_string::<i32>().value(0), "[]");
    }

    #[test]
    fn a_stream_cut_short_is_an_error() {
        let cols = columns();
        let s = stream();
        let mut dec = CopyDecoder::new(schema(&cols), &cols, Lossy::Refuse, 100).expect("new");
        let mut out = Vec::new();
        dec.feed(&s[..s.len() - 5], &mut out).expect("feed");
        assert!(dec.finish().is_err());
        let mut dec =
            CopyDecoder::new(schema(&cols[..2]), &cols[..2], Lossy::Refuse, 100).expect("new");
        let err = dec.feed(&s, &mut out).expect_err("5 fields for 2 columns");
        assert!(err.to_string().contains("5 fields"), "{err}");
    }
}
