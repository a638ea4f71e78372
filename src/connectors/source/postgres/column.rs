//! One Arrow builder per column of a COPY BINARY stream, filled value by
//! value according to the column's `PgKind` (the mapping table's decision).

use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Decimal256Builder,
    Float32Builder, Float64Builder, Int16Builder, Int32Builder, Int64Builder, NullBufferBuilder,
    OffsetBufferBuilder, StringBuilder, Time64MicrosecondBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::Decimal256Type;
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, ListArray};
use arrow_schema::FieldRef;

use super::value::{interval_iso, numeric_unscaled, uuid_text};
use crate::connectors::source::Lossy;
use crate::format::types::postgres::PgKind;

/// Days and microseconds from 1970-01-01 (Arrow) to 2000-01-01 (PostgreSQL).
const PG_EPOCH_DAYS: i32 = 10_957;
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
const DAY_MICROS: i64 = 86_400_000_000;

type I256 = <Decimal256Type as ArrowPrimitiveType>::Native;

/// What a value is checked against: the column's name and type for
/// messages, the task's lossy policy, and a count of values converted.
pub(crate) struct Ctx<'a> {
    pub column: &'a str,
    pub db_type: &'a str,
    pub lossy: Lossy,
    pub converted: &'a mut u64,
}

impl Ctx<'_> {
    fn malformed(&self, what: impl std::fmt::Display) -> anyhow::Error {
        anyhow!(
            "column \"{}\" ({}): malformed COPY value: {what}",
            self.column,
            self.db_type
        )
    }
}

pub(crate) struct Slot {
    kind: PgKind,
    b: Builder,
}

enum Builder {
    Bool(BooleanBuilder),
    I16(Int16Builder),
    I32(Int32Builder),
    I64(Int64Builder),
    F32(Float32Builder),
    F64(Float64Builder),
    D128(Decimal128Builder),
    D256(Decimal256Builder),
    Str(StringBuilder),
    Bin(BinaryBuilder),
    Date(Date32Builder),
    Time(Time64MicrosecondBuilder),
    Ts(TimestampMicrosecondBuilder),
    List(Box<ListSlot>),
}

struct ListSlot {
    item: FieldRef,
    offsets: OffsetBufferBuilder<i32>,
    nulls: NullBufferBuilder,
    child: Slot,
}

fn fixed<const N: usize>(v: &[u8], ctx: &Ctx) -> Result<[u8; N]> {
    v.try_into()
        .map_err(|_| ctx.malformed(format_args!("{} bytes where {N} were expected", v.len())))
}

fn text<'v>(v: &'v [u8], ctx: &Ctx) -> Result<&'v str> {
    std::str::from_utf8(v).map_err(|_| ctx.malformed("text that is not UTF-8"))
}

impl Builder {
    /// An empty builder for `kind` with room for `rows` values (and
    /// `data_bytes` of variable-length data) before it has to grow.
    fn with_capacity(kind: &PgKind, rows: usize, data_bytes: usize) -> Result<Builder> {
        Ok(match kind {
            PgKind::Bool => Builder::Bool(BooleanBuilder::with_capacity(rows)),
            PgKind::Int2 => Builder::I16(Int16Builder::with_capacity(rows)),
            PgKind::Int4 => Builder::I32(Int32Builder::with_capacity(rows)),
            PgKind::Int8 | PgKind::Oid => Builder::I64(Int64Builder::with_capacity(rows)),
            PgKind::Float4 => Builder::F32(Float32Builder::with_capacity(rows)),
            PgKind::Float8 => Builder::F64(Float64Builder::with_capacity(rows)),
            PgKind::Numeric {
                precision, scale, ..
            } if *precision <= 38 => Builder::D128(
                Decimal128Builder::with_capacity(rows)
                    .with_precision_and_scale(*precision, *scale)?,
            ),
            PgKind::Numeric {
                precision, scale, ..
            } => Builder::D256(
                Decimal256Builder::with_capacity(rows)
                    .with_precision_and_scale(*precision, *scale)?,
            ),
            PgKind::Text
            | PgKind::Json
            | PgKind::Jsonb
            | PgKind::Uuid
            | PgKind::Interval
            | PgKind::TextCast => Builder::Str(StringBuilder::with_capacity(rows, data_bytes)),
            PgKind::Bytea => Builder::Bin(BinaryBuilder::with_capacity(rows, data_bytes)),
            PgKind::Date => Builder::Date(Date32Builder::with_capacity(rows)),
            PgKind::Time => Builder::Time(Time64MicrosecondBuilder::with_capacity(rows)),
            PgKind::Timestamp => Builder::Ts(TimestampMicrosecondBuilder::with_capacity(rows)),
            PgKind::Timestamptz => {
                Builder::Ts(TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"))
            }
            PgKind::Array(elem) => Builder::List(Box::new(ListSlot {
                item: Arc::new(elem.item_field()),
                offsets: OffsetBufferBuilder::new(rows),
                nulls: NullBufferBuilder::new(rows),
                child: Slot::new(elem)?,
            })),
        })
    }
}

impl Slot {
    pub(crate) fn new(kind: &PgKind) -> Result<Slot> {
        Ok(Slot {
            kind: kind.clone(),
            b: Builder::with_capacity(kind, 1024, 0)?,
        })
    }

    pub(crate) fn append_null(&mut self) {
        match &mut self.b {
            Builder::Bool(b) => b.append_null(),
            Builder::I16(b) => b.append_null(),
            Builder::I32(b) => b.append_null(),
            Builder::I64(b) => b.append_null(),
            Builder::F32(b) => b.append_null(),
            Builder::F64(b) => b.append_null(),
            Builder::D128(b) => b.append_null(),
            Builder::D256(b) => b.append_null(),
            Builder::Str(b) => b.append_null(),
            Builder::Bin(b) => b.append_null(),
            Builder::Date(b) => b.append_null(),
            Builder::Time(b) => b.append_null(),
            Builder::Ts(b) => b.append_null(),
            Builder::List(l) => {
                l.offsets.push_length(0);
                l.nulls.append_null();
            }
        }
    }

    /// A value no Arrow type holds: refused, or NULL when the task allows it.
    fn lossy(&mut self, ctx: &mut Ctx, what: &str) -> Result<()> {
        match ctx.lossy {
            Lossy::Refuse => bail!(
                "column \"{}\" ({}): {what}; refused (the task can allow lossy conversion, \
                 which writes NULL instead)",
                ctx.column,
                ctx.db_type
            ),
            Lossy::Convert => {
                *ctx.converted += 1;
                self.append_null();
                Ok(())
            }
        }
    }

    pub(crate) fn append(&mut self, v: &[u8], ctx: &mut Ctx) -> Result<()> {
        match (&self.kind, &mut self.b) {
            (PgKind::Bool, Builder::Bool(b)) => b.append_value(fixed::<1>(v, ctx)?[0] != 0),
            (PgKind::Int2, Builder::I16(b)) => b.append_value(i16::from_be_bytes(fixed(v, ctx)?)),
            (PgKind::Int4, Builder::I32(b)) => b.append_value(i32::from_be_bytes(fixed(v, ctx)?)),
            (PgKind::Int8, Builder::I64(b)) => b.append_value(i64::from_be_bytes(fixed(v, ctx)?)),
            (PgKind::Oid, Builder::I64(b)) => {
                b.append_value(u32::from_be_bytes(fixed(v, ctx)?).into())
            }
            (PgKind::Float4, Builder::F32(b)) => b.append_value(f32::from_be_bytes(fixed(v, ctx)?)),
            (PgKind::Float8, Builder::F64(b)) => b.append_value(f64::from_be_bytes(fixed(v, ctx)?)),
            (PgKind::Numeric { .. }, _) => return self.append_numeric(v, ctx),
            (PgKind::Text | PgKind::Json | PgKind::TextCast, Builder::Str(b)) => {
                b.append_value(text(v, ctx)?)
            }
            (PgKind::Jsonb, Builder::Str(b)) => match v.split_first() {
                Some((1, json)) => b.append_value(text(json, ctx)?),
                _ => return Err(ctx.malformed("jsonb without version byte 1")),
            },
            (PgKind::Uuid, Builder::Str(b)) => {
                b.append_value(std::str::from_utf8(&uuid_text(&fixed(v, ctx)?)).unwrap_or_default())
            }
            (PgKind::Interval, Builder::Str(b)) => {
                let raw: [u8; 16] = fixed(v, ctx)?;
                let micros = i64::from_be_bytes([
                    raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7],
                ]);
                let days = i32::from_be_bytes([raw[8], raw[9], raw[10], raw[11]]);
                let months = i32::from_be_bytes([raw[12], raw[13], raw[14], raw[15]]);
                b.append_value(interval_iso(months, days, micros))
            }
            (PgKind::Bytea, Builder::Bin(b)) => b.append_value(v),
            (PgKind::Date, Builder::Date(b)) => {
                let days = i32::from_be_bytes(fixed(v, ctx)?);
                match days {
                    i32::MAX => return self.lossy(ctx, "date 'infinity' has no DATE value"),
                    i32::MIN => return self.lossy(ctx, "date '-infinity' has no DATE value"),
                    d => match d.checked_add(PG_EPOCH_DAYS) {
                        Some(d) => b.append_value(d),
                        None => return self.lossy(ctx, "a date is out of Date32's range"),
                    },
                }
            }
            (PgKind::Time, Builder::Time(b)) => match i64::from_be_bytes(fixed(v, ctx)?) {
                t if (0..DAY_MICROS).contains(&t) => b.append_value(t),
                _ => return self.lossy(ctx, "time 24:00:00 is outside TIME's range"),
            },
            (PgKind::Timestamp | PgKind::Timestamptz, Builder::Ts(b)) => {
                match i64::from_be_bytes(fixed(v, ctx)?) {
                    i64::MAX => return self.lossy(ctx, "'infinity' has no timestamp value"),
                    i64::MIN => return self.lossy(ctx, "'-infinity' has no timestamp value"),
                    t => match t.checked_add(PG_EPOCH_MICROS) {
                        Some(t) => b.append_value(t),
                        None => return self.lossy(ctx, "a timestamp is out of range"),
                    },
                }
            }
            (PgKind::Array(_), Builder::List(_)) => return self.append_array(v, ctx),
            (kind, _) => bail!("internal error: no decoder for {kind:?}"),
        }
        Ok(())
    }

    fn append_numeric(&mut self, v: &[u8], ctx: &mut Ctx) -> Result<()> {
        let PgKind::Numeric {
            precision, scale, ..
        } = self.kind
        else {
            bail!("internal error: numeric decoder on {:?}", self.kind);
        };
        let round = ctx.lossy == Lossy::Convert;
        let issue = match &mut self.b {
            Builder::D128(b) => {
                match numeric_unscaled::<i128>(v, precision, scale, round)
                    .map_err(|e| ctx.malformed(e))?
                {
                    Ok((n, rounded)) => {
                        b.append_value(n);
                        *ctx.converted += u64::from(rounded);
                        return Ok(());
                    }
                    Err(issue) => issue,
                }
            }
            Builder::D256(b) => {
                match numeric_unscaled::<I256>(v, precision, scale, round)
                    .map_err(|e| ctx.malformed(e))?
                {
                    Ok((n, rounded)) => {
                        b.append_value(n);
                        *ctx.converted += u64::from(rounded);
                        return Ok(());
                    }
                    Err(issue) => issue,
                }
            }
            _ => bail!("internal error: numeric decoder without a decimal builder"),
        };
        self.lossy(ctx, &issue.describe(precision, scale))
    }

    /// Array binary form: ndim, has-nulls flag, element oid, then per
    /// dimension (length, lower bound), then each element as (length, bytes).
    fn append_array(&mut self, v: &[u8], ctx: &mut Ctx) -> Result<()> {
        let mut r = Reader { buf: v, pos: 0 };
        let ndim = r.i32().map_err(|e| ctx.malformed(e))?;
        if ndim > 1 {
            let what = format!("a {ndim}-dimensional array cannot be carried as a list");
            return self.lossy(ctx, &what);
        }
        let Builder::List(l) = &mut self.b else {
            bail!("internal error: array decoder without a list builder");
        };
        let mut n = 0usize;
        let body = (|| -> Result<()> {
            let _has_nulls = r.i32()?;
            let _elem_oid = r.i32()?;
            if ndim == 1 {
                n = usize::try_from(r.i32()?).context("negative array length")?;
                let _lower_bound = r.i32()?;
            }
            Ok(())
        })();
        body.map_err(|e| ctx.malformed(e))?;
        for _ in 0..n {
            let len = r.i32().map_err(|e| ctx.malformed(e))?;
            if len < 0 {
                l.child.append_null();
            } else {
                let elem = r.take(len as usize).map_err(|e| ctx.malformed(e))?;
                l.child.append(elem, ctx)?;
            }
        }
        if r.pos != v.len() {
            return Err(ctx.malformed("bytes after the last array element"));
        }
        l.offsets.push_length(n);
        l.nulls.append_non_null();
        Ok(())
    }

    /// The values appended since the last call, as one array. The builder
    /// starts again with room for as many values (and bytes) as this batch
    /// held: the next batch is likely the same size, and growing by doubling
    /// from empty cost a chain of reallocations per column per batch.
    pub(crate) fn finish(&mut self) -> Result<ArrayRef> {
        let array: ArrayRef = match &mut self.b {
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::I16(b) => Arc::new(b.finish()),
            Builder::I32(b) => Arc::new(b.finish()),
            Builder::I64(b) => Arc::new(b.finish()),
            Builder::F32(b) => Arc::new(b.finish()),
            Builder::F64(b) => Arc::new(b.finish()),
            Builder::D128(b) => Arc::new(b.finish()),
            Builder::D256(b) => Arc::new(b.finish()),
            Builder::Str(b) => Arc::new(b.finish()),
            Builder::Bin(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Time(b) => Arc::new(b.finish()),
            Builder::Ts(b) => Arc::new(b.finish()),
            Builder::List(l) => {
                // Sized in place: the child slot sizes itself in its own finish.
                let rows = l.nulls.len();
                let offsets = std::mem::replace(&mut l.offsets, OffsetBufferBuilder::new(rows));
                let values = l.child.finish()?;
                let list =
                    ListArray::try_new(l.item.clone(), offsets.finish(), values, l.nulls.finish())?;
                return Ok(Arc::new(list));
            }
        };
        let data_bytes = match &self.b {
            Builder::Str(_) => array.as_string::<i32>().values().len(),
            Builder::Bin(_) => array.as_binary::<i32>().values().len(),
            _ => 0,
        };
        self.b = Builder::with_capacity(&self.kind, array.len(), data_bytes)?;
        Ok(array)
    }
}

/// Big-endian reads with bounds checks, for array bodies.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let Some(end) = end else {
            bail!("array value ends early");
        };
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn i32(&mut self) -> Result<i32> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}
