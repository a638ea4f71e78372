//! SQLite values → Arrow cells. SQLite types values, not columns, so every
//! value's storage class is checked against what its column is carried as;
//! a misfit is refused, or converted when the task opts in (see
//! `format::types::sqlite` for the rules).

use std::sync::Arc;

use anyhow::{Result, anyhow};
use arrow_schema::{DataType, Schema};
use futures_util::TryStreamExt;
use sqlx::sqlite::{Sqlite, SqliteConnection, SqliteRow};
use sqlx::{Decode, Row, TypeInfo, ValueRef};

use crate::connectors::source::parse::{
    decimal_i128, decimal_i256, parse_date, parse_datetime, parse_time,
};
use crate::connectors::source::rows::{BatchSink, Cell, Warnings, arrow_field, refusal};
use crate::connectors::source::{BatchSender, ExportStats, Lossy, ProgressFn};
use crate::format::types::{ColumnType, WarehouseType, sqlite};

/// One column of an export and how its values are judged.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub name: String,
    pub ty: ColumnType,
    /// No declared type (or an unknown one): any value, carried as text.
    pub dynamic: bool,
    /// An expression: typed from the first batch's values.
    pub infer: bool,
}

/// A value as SQLite stores it.
#[derive(Debug, Clone, Copy)]
enum Class<'r> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'r str),
    Blob(&'r [u8]),
}

impl Class<'_> {
    fn name(&self) -> &'static str {
        match self {
            Class::Null => "NULL",
            Class::Integer(_) => "INTEGER",
            Class::Real(_) => "REAL",
            Class::Text(_) => "TEXT",
            Class::Blob(_) => "BLOB",
        }
    }

    /// The value for a message, cut short.
    fn shown(&self) -> String {
        match self {
            Class::Null => "NULL".into(),
            Class::Integer(v) => v.to_string(),
            Class::Real(v) => format!("{v:?}"),
            Class::Text(t) if t.chars().count() > 40 => {
                format!("'{}…'", t.chars().take(40).collect::<String>())
            }
            Class::Text(t) => format!("'{t}'"),
            Class::Blob(b) => format!("{} bytes", b.len()),
        }
    }

    fn size(&self) -> usize {
        match self {
            Class::Null => 0,
            Class::Integer(_) | Class::Real(_) => 8,
            Class::Text(t) => t.len(),
            Class::Blob(b) => b.len(),
        }
    }
}

/// What an export needs besides its SQL and columns.
pub(crate) struct Job<'a> {
    /// Where rows come from, for messages: `main.orders` or `query`.
    pub what: &'a str,
    pub lossy: Lossy,
    pub batch_rows: usize,
    /// Declared nullability, per column.
    pub nullable: Vec<bool>,
    pub out: BatchSender,
    pub progress: ProgressFn,
}

/// Streams `sql` on `conn`: the schema, then batches. Expression columns
/// (`infer`) take their type from the storage classes of the first batch's
/// values, read ahead before the schema is sent (memory stays one batch).
pub(crate) async fn export_rows(
    conn: &mut SqliteConnection,
    sql: String,
    mut plan: Vec<Plan>,
    job: Job<'_>,
) -> Result<ExportStats> {
    let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(conn);
    let mut head = Vec::new();
    if plan.iter().any(|c| c.infer) {
        while head.len() < job.batch_rows.max(1) {
            match rows.try_next().await.map_err(clean)? {
                Some(row) => head.push(row),
                None => break,
            }
        }
        infer(&mut plan, &head)?;
    }
    // Under Convert a misfit becomes NULL, even in a NOT NULL column.
    let fields: Vec<_> = plan
        .iter()
        .zip(&job.nullable)
        .map(|(c, n)| arrow_field(&c.name, &c.ty, *n || job.lossy == Lossy::Convert))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let mut sink = BatchSink::start(
        schema,
        job.batch_rows,
        job.out.clone(),
        job.progress.clone(),
    )
    .await?;
    let mut warnings = Warnings::default();
    for row in &head {
        push_row(row, &plan, &job, &mut sink, &mut warnings)?;
        sink.row_done().await?;
    }
    drop(head);
    while let Some(row) = rows.try_next().await.map_err(clean)? {
        push_row(&row, &plan, &job, &mut sink, &mut warnings)?;
        sink.row_done().await?;
    }
    sink.finish(warnings).await
}

/// INTEGER only → INTEGER; REAL (with or without INTEGER) → REAL; TEXT only
/// → TEXT; BLOB only → BLOB; nothing or a mix → dynamic text.
fn infer(plan: &mut [Plan], head: &[SqliteRow]) -> Result<()> {
    for (i, col) in plan.iter_mut().enumerate().filter(|(_, c)| c.infer) {
        let mut seen = [false; 4];
        for row in head {
            match class_of(row, i)? {
                Class::Null => {}
                Class::Integer(_) => seen[0] = true,
                Class::Real(_) => seen[1] = true,
                Class::Text(_) => seen[2] = true,
                Class::Blob(_) => seen[3] = true,
            }
        }
        let declared = match seen {
            [true, false, false, false] => "INTEGER",
            [_, true, false, false] => "REAL",
            [false, false, true, false] => "TEXT",
            [false, false, false, true] => "BLOB",
            _ => "",
        };
        col.ty = sqlite::map(declared);
        col.dynamic = sqlite::is_dynamic(declared);
    }
    Ok(())
}

fn push_row(
    row: &SqliteRow,
    plan: &[Plan],
    job: &Job<'_>,
    sink: &mut BatchSink,
    warnings: &mut Warnings,
) -> Result<()> {
    if row.len() != plan.len() {
        return Err(anyhow!(
            "{}: the query returned {} columns, expected {}",
            job.what,
            row.len(),
            plan.len()
        ));
    }
    // Rendered numbers live here until their cell is pushed (two, so the
    // fallback does not borrow what the exact attempt borrowed).
    let (mut scratch, mut fallback) = (String::new(), String::new());
    for (i, col) in plan.iter().enumerate() {
        let class = class_of(row, i)?;
        sink.batch_bytes += class.size() as i64;
        let cell = match fit(class, col, &mut scratch) {
            Some(cell) => cell,
            None if job.lossy == Lossy::Convert => convert(class, col, i, &mut fallback, warnings),
            None => {
                let article = if class.name() == "INTEGER" { "an" } else { "a" };
                let why = format!(
                    "{article} {} value ({}) does not fit {}",
                    class.name(),
                    class.shown(),
                    carried_as(&col.ty)
                );
                return Err(refusal(job.what, &col.name, &declared(&col.ty), &why));
            }
        };
        sink.col(i)
            .push(cell)
            .map_err(|why| refusal(job.what, &col.name, &declared(&col.ty), why))?;
    }
    Ok(())
}

pub(crate) fn clean(e: sqlx::Error) -> anyhow::Error {
    anyhow!("SQLite: {}", driver_message(e))
}

/// The server's (or driver's) words alone; never holds the URL.
pub(crate) fn driver_message(e: sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}

fn declared(ty: &ColumnType) -> String {
    if ty.db_type.is_empty() {
        "no declared type".into()
    } else {
        format!("declared {}", ty.db_type)
    }
}

fn carried_as(ty: &ColumnType) -> String {
    if ty.warehouse == WarehouseType::Json {
        "JSON text".into()
    } else {
        ty.arrow.to_string()
    }
}

fn class_of(row: &SqliteRow, i: usize) -> Result<Class<'_>> {
    let raw = row.try_get_raw(i).map_err(clean)?;
    if raw.is_null() {
        return Ok(Class::Null);
    }
    let class = match raw.type_info().name() {
        "INTEGER" => Class::Integer(<i64 as Decode<Sqlite>>::decode(raw).map_err(boxed)?),
        "REAL" => Class::Real(<f64 as Decode<Sqlite>>::decode(raw).map_err(boxed)?),
        "TEXT" => Class::Text(<&str as Decode<Sqlite>>::decode(raw).map_err(boxed)?),
        _ => Class::Blob(<&[u8] as Decode<Sqlite>>::decode(raw).map_err(boxed)?),
    };
    Ok(class)
}

fn boxed(e: sqlx::error::BoxDynError) -> anyhow::Error {
    anyhow!("SQLite: {e}")
}

/// The cell when the value fits its column exactly, else None.
fn fit<'a>(class: Class<'a>, col: &Plan, scratch: &'a mut String) -> Option<Cell<'a>> {
    use Class as C;
    // Integers up to 2^53 convert to f64 and back unchanged.
    const EXACT_F64: i64 = 1 << 53;
    Some(match (&col.ty.arrow, class) {
        (_, C::Null) => Cell::Null,
        (DataType::Utf8, C::Text(t)) if col.ty.warehouse == WarehouseType::Json => {
            serde_json::from_str::<serde::de::IgnoredAny>(t).ok()?;
            Cell::Str(t)
        }
        (DataType::Utf8, C::Text(t)) => Cell::Str(t),
        (DataType::Utf8, C::Integer(_) | C::Real(_)) if col.dynamic => render(class, scratch)?,
        (DataType::Utf8, C::Blob(b)) if col.dynamic => Cell::Str(std::str::from_utf8(b).ok()?),
        (DataType::Boolean, C::Integer(0)) => Cell::Bool(false),
        (DataType::Boolean, C::Integer(1)) => Cell::Bool(true),
        (DataType::Int64, C::Integer(v)) => Cell::Int(v),
        (DataType::Float64, C::Real(v)) => Cell::F64(v),
        (DataType::Float64, C::Integer(v)) if v.abs() <= EXACT_F64 => Cell::F64(v as f64),
        (DataType::Binary, C::Blob(b)) => Cell::Bytes(b),
        (DataType::Decimal128(_, s), c) => Cell::Dec(decimal_i128(decimal_text(c, scratch)?, *s)?),
        (DataType::Decimal256(_, s), c) => {
            Cell::Dec256(decimal_i256(decimal_text(c, scratch)?, *s)?)
        }
        (DataType::Date32, C::Text(t)) => Cell::Days(parse_date(t)?),
        (DataType::Time64(_), C::Text(t)) => Cell::Micros(parse_time(t)?),
        (DataType::Timestamp(_, tz), C::Text(t)) => {
            let dt = parse_datetime(t)?;
            match (tz, dt.offset) {
                (None, None) => Cell::Micros(dt.micros),
                // A zone in a naive column would be silently dropped.
                (None, Some(_)) => return None,
                // Zone-less text in a TIMESTAMPTZ column is UTC, as SQLite writes it.
                (Some(_), offset) => {
                    Cell::Micros(dt.micros - i64::from(offset.unwrap_or(0)) * 1_000_000)
                }
            }
        }
        _ => return None,
    })
}

/// A number's exact decimal text: REALs through their shortest round-trip
/// form, so 12.34 reads back as 12.34.
fn decimal_text<'a>(class: Class<'a>, scratch: &'a mut String) -> Option<&'a str> {
    use std::fmt::Write;
    scratch.clear();
    match class {
        Class::Integer(v) => write!(scratch, "{v}").ok()?,
        Class::Real(v) if v.is_finite() => write!(scratch, "{v}").ok()?,
        Class::Text(t) => return Some(t),
        _ => return None,
    }
    Some(scratch.as_str())
}

/// Integers and reals as SQLite renders them (`3`, `3.0`, `0.1`).
fn render<'a>(class: Class<'_>, scratch: &'a mut String) -> Option<Cell<'a>> {
    use std::fmt::Write;
    scratch.clear();
    match class {
        Class::Integer(v) => write!(scratch, "{v}").ok()?,
        Class::Real(v) => write!(scratch, "{v:?}").ok()?,
        _ => return None,
    }
    Some(Cell::Str(scratch.as_str()))
}

/// The opted-in fallback: text where the column is text, else NULL.
fn convert<'a>(
    class: Class<'a>,
    col: &Plan,
    i: usize,
    scratch: &'a mut String,
    warnings: &mut Warnings,
) -> Cell<'a> {
    let as_text = col.ty.arrow == DataType::Utf8 && col.ty.warehouse != WarehouseType::Json;
    let cell = match class {
        Class::Integer(_) | Class::Real(_)
            if as_text || col.ty.warehouse == WarehouseType::Json =>
        {
            render(class, scratch)
        }
        Class::Blob(b) if as_text => std::str::from_utf8(b).ok().map(Cell::Str),
        _ => None,
    };
    match cell {
        Some(cell) => {
            warnings.add(i, "values of another storage class were rendered as text");
            cell
        }
        None => {
            warnings.add(i, "values that did not fit the column became NULL");
            Cell::Null
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::types::sqlite::map;

    fn plan(declared: &str) -> Plan {
        Plan {
            name: "c".into(),
            ty: map(declared),
            dynamic: sqlite::is_dynamic(declared),
            infer: false,
        }
    }

    fn fits(declared: &str, class: Class<'_>) -> bool {
        let mut s = String::new();
        fit(class, &plan(declared), &mut s).is_some()
    }

    #[test]
    fn storage_classes_against_declared_types() {
        assert!(fits("INTEGER", Class::Integer(5)));
        assert!(!fits("INTEGER", Class::Text("abc")));
        assert!(!fits("INTEGER", Class::Real(1.5)));
        assert!(fits("BOOLEAN", Class::Integer(1)));
        assert!(!fits("BOOLEAN", Class::Integer(2)));
        assert!(fits("DECIMAL(5,2)", Class::Real(12.34)));
        assert!(fits("DECIMAL(5,2)", Class::Integer(7)));
        assert!(!fits("DECIMAL(5,2)", Class::Real(1.0 / 3.0)));
        assert!(fits("JSON", Class::Text("{\"a\":1}")));
        assert!(!fits("JSON", Class::Text("{nope")));
        assert!(fits("", Class::Real(0.5)));
        assert!(fits("DATETIME", Class::Text("2024-01-02 03:04:05")));
        assert!(!fits("DATETIME", Class::Text("2024-01-02 03:04:05Z")));
        assert!(fits(
            "TIMESTAMPTZ",
            Class::Text("2024-01-02 03:04:05+02:00")
        ));
        assert!(!fits("DATE", Class::Integer(20240102)));
        assert!(!fits("NUMERIC", Class::Integer(i64::MAX)));
    }

    #[test]
    fn converted_values() {
        let mut w = Warnings::default();
        let mut s = String::new();
        let text = plan("TEXT");
        assert!(matches!(
            convert(Class::Integer(7), &text, 0, &mut s, &mut w),
            Cell::Str("7")
        ));
        let mut s = String::new();
        let int = plan("INTEGER");
        assert!(matches!(
            convert(Class::Text("x"), &int, 0, &mut s, &mut w),
            Cell::Null
        ));
    }
}
