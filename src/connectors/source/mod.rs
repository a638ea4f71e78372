//! Sources: databases that data is read from and browsed. Each kind lists
//! tables, describes columns with their exact types (through the one mapping
//! table in `format::types`), previews rows, and streams a table or a query
//! as Arrow record batches.

use std::fmt;
use std::sync::Arc;

use anyhow::Result;
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use serde::Serialize;

use super::BoxFuture;
use crate::format::types::ColumnType;

pub mod mark;
pub mod mysql;
mod parse;
pub mod postgres;
mod rows;
pub mod sqlite;

/// A table, always with its schema (`main` for SQLite, the database for MySQL).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TableName {
    pub schema: String,
    pub name: String,
}

impl TableName {
    /// Parses `schema.table` or `table` (then `default_schema`), with SQL
    /// quoting: a name that itself holds a dot is written `"my.schema"."my.table"`.
    /// Anything else (three parts, an unterminated quote) is refused, never
    /// read as some other table.
    pub fn parse(s: &str, default_schema: &str) -> anyhow::Result<TableName> {
        let parts = parse::dotted_parts(s).map_err(|e| anyhow::anyhow!("{e}"))?;
        match <[String; 2]>::try_from(parts) {
            Ok([schema, name]) => Ok(TableName { schema, name }),
            Err(parts) if parts.len() == 1 => Ok(TableName {
                schema: default_schema.to_string(),
                name: parts.concat(),
            }),
            Err(parts) => anyhow::bail!(
                "`{s}` has {} dot-separated parts; a table is `table` or `schema.table` (quote a name that holds a dot: `\"my.schema\".\"my.table\"`)",
                parts.len()
            ),
        }
    }
}

impl TableName {
    /// `schema.table` as `parse` reads it back: a part that holds a dot or a
    /// quote is quoted (`"my.schema".users`).
    pub fn spelled(&self) -> String {
        let part = |p: &str| {
            if p.is_empty() || p.contains(['.', '"']) {
                format!("\"{}\"", p.replace('"', "\"\""))
            } else {
                p.to_string()
            }
        };
        format!("{}.{}", part(&self.schema), part(&self.name))
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    Table,
    View,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableSummary {
    pub table: TableName,
    pub kind: TableKind,
    /// Rows as the catalog estimates them (None: never analysed / unknown).
    pub row_estimate: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    pub name: String,
    pub nullable: bool,
    /// Source type, Arrow type, warehouse type and how exactly it is carried.
    pub ty: ColumnType,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableDetail {
    pub summary: TableSummary,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExportInput {
    Table(TableName),
    /// The workspace author's query, run as written.
    Query(String),
}

/// What to do with a value that cannot be carried exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lossy {
    /// Refuse the export with a message naming table, column and type.
    #[default]
    Refuse,
    /// Apply the documented fallback of `format::types` (the task opted in).
    Convert,
}

#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Rows per record batch.
    pub batch_rows: usize,
    /// Key ranges read in parallel under one snapshot (Postgres); 1 = one stream.
    pub partitions: u32,
    pub lossy: Lossy,
    /// An incremental export reads only the rows above a mark (tables only).
    pub above: Option<mark::Above>,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            batch_rows: 64 * 1024,
            partitions: 1,
            lossy: Lossy::Refuse,
            above: None,
        }
    }
}

/// What a source sends to the writer: the schema first, then batches. The
/// channel is bounded, so a slow writer slows the reader: memory stays bounded.
#[derive(Debug)]
pub enum ExportMsg {
    Schema(SchemaRef),
    Batch(RecordBatch),
}

pub type BatchSender = tokio::sync::mpsc::Sender<ExportMsg>;

/// Rows and source bytes read so far, reported as the export goes.
pub type ProgressFn = Arc<dyn Fn(i64, i64) + Send + Sync>;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportStats {
    pub rows: i64,
    /// Bytes read from the source (wire bytes where known).
    pub source_bytes: i64,
    /// Warnings worth a log line (e.g. MySQL zero dates turned into NULL).
    pub warnings: Vec<String>,
}

pub trait Source: Send + Sync {
    fn kind(&self) -> &'static str;
    fn list_tables(&self) -> BoxFuture<'_, Result<Vec<TableSummary>>>;
    fn describe<'a>(&'a self, table: &'a TableName) -> BoxFuture<'a, Result<TableDetail>>;
    fn preview<'a>(
        &'a self,
        table: &'a TableName,
        rows: usize,
    ) -> BoxFuture<'a, Result<RecordBatch>>;
    /// Streams `input` into `out`. Fails as a whole: on error the caller
    /// discards whatever was written.
    fn export<'a>(
        &'a self,
        input: &'a ExportInput,
        opts: &'a ExportOptions,
        out: BatchSender,
        progress: ProgressFn,
    ) -> BoxFuture<'a, Result<ExportStats>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_parse_with_quotes() {
        assert_eq!(
            TableName::parse("public.users", "x").unwrap(),
            TableName {
                schema: "public".into(),
                name: "users".into()
            }
        );
        assert_eq!(TableName::parse("users", "main").unwrap().schema, "main");
        assert_eq!(
            TableName::parse(r#""my.schema"."Odd ""name""""#, "x").unwrap(),
            TableName {
                schema: "my.schema".into(),
                name: "Odd \"name\"".into()
            }
        );
        let odd = TableName {
            schema: "odd.a".into(),
            name: "Q\"b".into(),
        };
        assert_eq!(odd.spelled(), r#""odd.a"."Q""b""#);
        assert_eq!(TableName::parse(&odd.spelled(), "x").unwrap(), odd);
        for bad in ["odd.a.b", "a.b.c.d", r#""unterminated"#] {
            let e = TableName::parse(bad, "public").unwrap_err().to_string();
            assert!(e.contains(bad), "names the input: {e}");
        }
    }
}
