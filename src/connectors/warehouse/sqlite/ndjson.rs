//! NDJSON loads: one JSON object per line, its keys naming columns.
//!
//! NDJSON carries only JSON's own types, so the columns come from:
//! - appending to an existing table: that table's columns and declared types
//!   (values are converted to them; a `T` between date and time becomes a
//!   space in DATETIME and TIMESTAMP columns; BLOB columns take base64);
//! - otherwise (replace, or a new table): the first `INFER_LINES` lines. Keys
//!   in order of first appearance; integers → INTEGER, other numbers → REAL,
//!   booleans → BOOLEAN, strings → TEXT, objects and arrays → JSON_TEXT;
//!   mixed scalars or only nulls → TEXT (numbers and booleans as their JSON
//!   text). A timestamp or decimal written as a string stays TEXT, exact.
//!   An empty file replacing an existing table keeps that table's columns.
//!
//! A key that is not a column, or a value that does not fit its column, fails
//! the load naming the line (and the load leaves the table as it was).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::decl::{JSON_DECL, Kind, kind_of};
use super::encode::{SqlValue, base64_decode};
use super::read::{BATCH_ROWS, ColumnDef, ReadInput, ReadMsg, send};

/// Lines read to infer the columns of a new table.
pub(super) const INFER_LINES: usize = 1000;

/// A batch is also sent once its lines reach this size (wide rows).
const BATCH_BYTES: usize = 16 << 20;

/// Non-blank lines of a file as JSON objects, with line numbers and the
/// bytes read so far.
struct Lines {
    reader: BufReader<File>,
    buf: Vec<u8>,
    line: usize,
    bytes: i64,
}

impl Lines {
    fn open(path: &Path) -> Result<Lines> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        Ok(Lines {
            reader: BufReader::with_capacity(1 << 20, file),
            buf: Vec::new(),
            line: 0,
            bytes: 0,
        })
    }

    fn next_object(&mut self) -> Result<Option<Map<String, Value>>> {
        loop {
            self.buf.clear();
            let n = self.reader.read_until(b'\n', &mut self.buf)?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            self.bytes += n as i64;
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return serde_json::from_slice(&self.buf)
                .map(Some)
                .map_err(|e| anyhow!("line {}: not a JSON object: {e}", self.line));
        }
    }
}

pub(super) fn read(input: &ReadInput, out: &mpsc::Sender<ReadMsg>) -> Result<()> {
    let path = input.file.display();
    let inferred = match (&input.existing, input.use_existing) {
        (Some(_), true) => None,
        _ => Some(infer(&input.file).with_context(|| format!("{path}"))?),
    };
    let (columns, origin) = match (inferred, &input.existing) {
        (Some(cols), _) if !cols.is_empty() => (cols, "were inferred from the first lines"),
        (_, Some(existing)) => (existing.clone(), "are the table's"),
        (_, None) => bail!("{path} has no rows to infer columns from"),
    };
    let kinds: Vec<Kind> = columns.iter().map(|c| kind_of(&c.decl)).collect();
    let index: HashMap<String, usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.clone(), i))
        .collect();
    if !send(out, ReadMsg::Columns(columns)) {
        return Ok(());
    }

    let mut lines = Lines::open(&input.file)?;
    let (mut rows, mut batch_start) = (Vec::new(), 0i64);
    while let Some(object) = lines.next_object().with_context(|| format!("{path}"))? {
        let mut row = vec![SqlValue::Null; kinds.len()];
        for (key, value) in object {
            let at = |e: String| anyhow!("{path}, line {}, field `{key}`: {e}", lines.line);
            let &c = index
                .get(&key)
                .ok_or_else(|| at(format!("not a column (the columns {origin})")))?;
            row[c] = convert(kinds[c], value).map_err(at)?;
        }
        rows.push(row);
        if rows.len() >= BATCH_ROWS || (lines.bytes - batch_start) as usize >= BATCH_BYTES {
            batch_start = lines.bytes;
            let rows = std::mem::take(&mut rows);
            if !send(
                out,
                ReadMsg::Rows {
                    rows,
                    bytes: lines.bytes,
                },
            ) {
                return Ok(());
            }
        }
    }
    if !rows.is_empty() {
        send(
            out,
            ReadMsg::Rows {
                rows,
                bytes: lines.bytes,
            },
        );
    }
    Ok(())
}

/// What the sample showed for one key; joins move up towards TEXT or JSON.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Seen {
    Null,
    Bool,
    Int,
    Real,
    Text,
    Json,
}

fn seen(v: &Value) -> Seen {
    match v {
        Value::Null => Seen::Null,
        Value::Bool(_) => Seen::Bool,
        Value::Number(n) if n.is_i64() => Seen::Int,
        // Above i64::MAX: kept exact as text rather than rounded to REAL.
        Value::Number(n) if n.is_u64() => Seen::Text,
        Value::Number(_) => Seen::Real,
        Value::String(_) => Seen::Text,
        Value::Array(_) | Value::Object(_) => Seen::Json,
    }
}

fn join(a: Seen, b: Seen) -> Seen {
    use Seen::*;
    match (a, b) {
        (a, b) if a == b => a,
        (Null, x) | (x, Null) => x,
        (Int, Real) | (Real, Int) => Real,
        (Json, _) | (_, Json) => Json,
        _ => Text,
    }
}

fn infer(path: &Path) -> Result<Vec<ColumnDef>> {
    let mut lines = Lines::open(path)?;
    let mut cols: Vec<(String, Seen)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for _ in 0..INFER_LINES {
        let Some(object) = lines.next_object()? else {
            break;
        };
        for (key, value) in &object {
            let s = seen(value);
            match index.get(key) {
                Some(&c) => cols[c].1 = join(cols[c].1, s),
                None => {
                    index.insert(key.clone(), cols.len());
                    cols.push((key.clone(), s));
                }
            }
        }
    }
    Ok(cols
        .into_iter()
        .map(|(name, s)| ColumnDef {
            name,
            decl: match s {
                Seen::Null | Seen::Text => "TEXT",
                Seen::Bool => "BOOLEAN",
                Seen::Int => "INTEGER",
                Seen::Real => "REAL",
                Seen::Json => JSON_DECL,
            }
            .into(),
            nullable: true,
        })
        .collect())
}

/// A JSON value as the column's kind wants it; the error says what was wrong.
fn convert(kind: Kind, v: Value) -> Result<SqlValue, String> {
    let found = |what: &str, v: &Value| Err(format!("expected {what}, found {v}"));
    Ok(match (kind, v) {
        (_, Value::Null) => SqlValue::Null,
        (Kind::Integer, Value::Number(n)) if n.is_i64() => SqlValue::Int(n.as_i64().unwrap_or(0)),
        (Kind::Integer, v) => return found("an integer", &v),
        (Kind::Real, Value::Number(n)) => SqlValue::Real(n.as_f64().unwrap_or(f64::NAN)),
        (Kind::Real, Value::String(s)) if s == "NaN" => SqlValue::Text(s),
        (Kind::Real, Value::String(s)) if s == "Infinity" => SqlValue::Real(f64::INFINITY),
        (Kind::Real, Value::String(s)) if s == "-Infinity" => SqlValue::Real(f64::NEG_INFINITY),
        (Kind::Real, v) => return found("a number", &v),
        (Kind::Boolean, Value::Bool(b)) => SqlValue::Int(i64::from(b)),
        (Kind::Boolean, Value::Number(n)) if matches!(n.as_i64(), Some(0 | 1)) => {
            SqlValue::Int(n.as_i64().unwrap_or(0))
        }
        (Kind::Boolean, v) => return found("a boolean", &v),
        (Kind::DateTime, Value::String(mut s)) => {
            // `2024-01-02T03:04:05Z` → `2024-01-02 03:04:05Z`, as Parquet loads write.
            if s.len() > 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[10] == b'T' {
                s.replace_range(10..11, " ");
            }
            SqlValue::Text(s)
        }
        (Kind::DateTime, v) => return found("a date-time string", &v),
        (Kind::Text, Value::String(s)) => SqlValue::Text(s),
        (Kind::Text, v) => SqlValue::Text(v.to_string()),
        (Kind::Json, v) => SqlValue::Text(v.to_string()),
        (Kind::Blob, Value::String(s)) => {
            SqlValue::Blob(base64_decode(&s).map_err(|e| e.to_string())?)
        }
        (Kind::Blob, v) => return found("a base64 string", &v),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inference_joins_towards_text_and_json() {
        use Seen::*;
        assert_eq!(join(Null, Int), Int);
        assert_eq!(join(Int, Real), Real);
        assert_eq!(join(Int, Text), Text);
        assert_eq!(join(Bool, Int), Text);
        assert_eq!(join(Text, Json), Json);
        let big = serde_json::json!(18446744073709551615u64);
        assert_eq!(seen(&big), Text);
    }

    #[test]
    fn values_convert_to_their_column_kind() {
        let j = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        assert_eq!(convert(Kind::Integer, j("42")), Ok(SqlValue::Int(42)));
        assert!(
            convert(Kind::Integer, j("4.5"))
                .unwrap_err()
                .contains("expected an integer")
        );
        assert_eq!(
            convert(Kind::DateTime, j(r#""2024-01-02T03:04:05.000001Z""#)),
            Ok(SqlValue::Text("2024-01-02 03:04:05.000001Z".into()))
        );
        assert_eq!(
            convert(Kind::Json, j(r#""x""#)),
            Ok(SqlValue::Text(r#""x""#.into()))
        );
        assert_eq!(
            convert(Kind::Text, j("1.5")),
            Ok(SqlValue::Text("1.5".into()))
        );
        assert_eq!(
            convert(Kind::Blob, j(r#""AP8=""#)),
            Ok(SqlValue::Blob(vec![0, 255]))
        );
        assert_eq!(convert(Kind::Boolean, j("true")), Ok(SqlValue::Int(1)));
        assert_eq!(convert(Kind::Real, j("null")), Ok(SqlValue::Null));
    }
}
