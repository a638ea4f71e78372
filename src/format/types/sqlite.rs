//! SQLite declared column types. SQLite types values, not columns: a declared
//! type only gives the column an affinity, and any value may still land in
//! any column. Names that say more than the affinity are honoured first:
//!
//! | Declared                          | Arrow               | Warehouse   |
//! |-----------------------------------|---------------------|-------------|
//! | BOOLEAN, BOOL                     | Boolean (0 / 1)     | BOOL        |
//! | DATE                              | Date32 (YYYY-MM-DD text) | DATE   |
//! | DATETIME, TIMESTAMP               | Timestamp(µs)       | DATETIME    |
//! | TIMESTAMPTZ, TIMESTAMP WITH TIME ZONE | Timestamp(µs, UTC) | TIMESTAMP |
//! | TIME                              | Time64(µs)          | TIME        |
//! | JSON                              | Utf8 + arrow.json   | JSON        |
//! | DECIMAL(p,s), NUMERIC(p,s)        | Decimal128(p,s)     | NUMERIC / BIGNUMERIC |
//! | …INT… (INTEGER affinity)          | Int64               | INT64       |
//! | …CHAR…, …CLOB…, …TEXT… (TEXT)     | Utf8                | STRING      |
//! | …BLOB…                            | Binary              | BYTES       |
//! | …REAL…, …FLOA…, …DOUB… (REAL)     | Float64             | FLOAT64     |
//! | NUMERIC, DECIMAL, NUMBER, MONEY   | Float64             | FLOAT64     |
//! | empty, or any other name          | Utf8 (dynamic)      | STRING      |
//!
//! Values, decided by the source:
//! - A value whose storage class does not fit the column ('abc' in an
//!   INTEGER column, 1.5 in a BOOLEAN one, unparseable date text) is refused,
//!   naming table, column, declared type and the value's class, unless the
//!   task opts in: then it is rendered as text where the column is Utf8, and
//!   becomes NULL with a warning elsewhere.
//! - DATETIME / TIMESTAMP text is `YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]]` (a date
//!   alone is midnight). Text with a zone (`Z`, `+02:00`) in a naive column is
//!   a mismatch; in a TIMESTAMPTZ column it is shifted to UTC, and zone-less
//!   text is read as UTC (what SQLite's own `datetime('now')` writes).
//! - DECIMAL(p,s): SQLite stores these values as INTEGER or REAL. A value is
//!   carried when it is exact at scale s (a REAL is read through its shortest
//!   round-trip decimal form, so 12.34 stays 12.34); others are mismatches.
//! - Bare NUMERIC-affinity names carry INTEGER and REAL values as Float64;
//!   integers beyond ±2^53 would change and are mismatches.
//! - Empty or unknown names (SQLite gives `UUID` or `STRING` NUMERIC affinity,
//!   yet their values are text) are dynamic: text as is, integers and reals as
//!   their decimal text, BLOBs when they are UTF-8.

use arrow_schema::{DataType, TimeUnit};

use super::mysql::{decimal, numeric_params};
use super::{ColumnType, Fidelity, WarehouseType};

/// SQLite's five column affinities (https://www.sqlite.org/datatype3.html).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Affinity {
    Integer,
    Text,
    Blob,
    Real,
    Numeric,
}

/// The affinity rules, in SQLite's order.
pub fn affinity(declared: &str) -> Affinity {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        Affinity::Integer
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        Affinity::Text
    } else if t.contains("BLOB") || t.trim().is_empty() {
        Affinity::Blob
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        Affinity::Real
    } else {
        Affinity::Numeric
    }
}

/// True when the column takes any value and carries it as text: no declared
/// type, or a name that says nothing SQLite (or this mapping) understands.
pub fn is_dynamic(declared: &str) -> bool {
    map(declared).fidelity == dynamic_fidelity()
}

pub fn map(declared: &str) -> ColumnType {
    let db_type = declared.trim().to_string();
    let upper = db_type.to_ascii_uppercase();
    let name = upper.split('(').next().unwrap_or("").trim();
    let params = numeric_params(&upper);
    let exact = |arrow, warehouse| ColumnType {
        db_type: db_type.clone(),
        arrow,
        warehouse,
        fidelity: Fidelity::Exact,
    };
    match name {
        "BOOLEAN" | "BOOL" => exact(DataType::Boolean, WarehouseType::Bool),
        "DATE" => exact(DataType::Date32, WarehouseType::Date),
        "DATETIME" | "TIMESTAMP" | "TIMESTAMP WITHOUT TIME ZONE" => exact(
            DataType::Timestamp(TimeUnit::Microsecond, None),
            WarehouseType::Datetime,
        ),
        "TIMESTAMPTZ" | "TIMESTAMP WITH TIME ZONE" => exact(
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            WarehouseType::Timestamp,
        ),
        "TIME" => exact(DataType::Time64(TimeUnit::Microsecond), WarehouseType::Time),
        "JSON" => exact(DataType::Utf8, WarehouseType::Json),
        "DECIMAL" | "NUMERIC" if !params.is_empty() => {
            let p = params[0];
            let s = params.get(1).copied().unwrap_or(0);
            match (u8::try_from(p), i8::try_from(s)) {
                (Ok(p), Ok(s)) if (1..=76).contains(&p) && s <= p as i8 => {
                    let mut ct = decimal(&db_type, p, s);
                    ct.fidelity = Fidelity::Fallback {
                        note: format!(
                            "SQLite keeps these as INTEGER or REAL: values not exact at \
                             scale {s} are refused unless the task opts in (then NULL)"
                        ),
                    };
                    ct
                }
                _ => numeric_float(&db_type),
            }
        }
        "NUMERIC" | "DECIMAL" | "NUMBER" | "MONEY" => numeric_float(&db_type),
        _ => match affinity(&upper) {
            Affinity::Integer => exact(DataType::Int64, WarehouseType::Int64),
            Affinity::Text => exact(DataType::Utf8, WarehouseType::String),
            Affinity::Real => exact(DataType::Float64, WarehouseType::Float64),
            Affinity::Blob if !upper.trim().is_empty() => {
                exact(DataType::Binary, WarehouseType::Bytes)
            }
            Affinity::Blob | Affinity::Numeric => ColumnType {
                db_type: db_type.clone(),
                arrow: DataType::Utf8,
                warehouse: WarehouseType::String,
                fidelity: dynamic_fidelity(),
            },
        },
    }
}

fn numeric_float(db_type: &str) -> ColumnType {
    ColumnType {
        db_type: db_type.to_string(),
        arrow: DataType::Float64,
        warehouse: WarehouseType::Float64,
        fidelity: Fidelity::Fallback {
            note: "NUMERIC affinity without a scale: INTEGER and REAL values as Float64; \
                   integers beyond ±2^53 and text are refused unless the task opts in"
                .into(),
        },
    }
}

fn dynamic_fidelity() -> Fidelity {
    Fidelity::Fallback {
        note: "no declared type SQLite or switchyard understands: values are carried as \
               text (integers and reals as their decimal text)"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affinity_rules_in_order() {
        assert_eq!(affinity("BIGINT"), Affinity::Integer);
        // "POINT" contains "INT": SQLite's rule, not ours.
        assert_eq!(affinity("POINT"), Affinity::Integer);
        assert_eq!(affinity("varchar(20)"), Affinity::Text);
        assert_eq!(affinity(""), Affinity::Blob);
        assert_eq!(affinity("DOUBLE PRECISION"), Affinity::Real);
        assert_eq!(affinity("STRING"), Affinity::Numeric);
    }

    #[test]
    fn declared_names() {
        assert_eq!(map("integer").arrow, DataType::Int64);
        assert_eq!(map("TEXT").arrow, DataType::Utf8);
        assert_eq!(map("blob").arrow, DataType::Binary);
        assert_eq!(map("float").arrow, DataType::Float64);
        assert_eq!(map("boolean").arrow, DataType::Boolean);
        assert_eq!(map("date").arrow, DataType::Date32);
        assert_eq!(
            map("DATETIME").arrow,
            DataType::Timestamp(TimeUnit::Microsecond, None)
        );
        assert_eq!(
            map("timestamptz").arrow,
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert_eq!(map("json").warehouse, WarehouseType::Json);
        assert_eq!(map("DECIMAL(12,2)").arrow, DataType::Decimal128(12, 2));
        assert_eq!(map("numeric(10)").arrow, DataType::Decimal128(10, 0));
        assert_eq!(map("NUMERIC").arrow, DataType::Float64);
    }

    #[test]
    fn empty_and_unknown_are_dynamic_text() {
        assert!(is_dynamic(""));
        assert!(is_dynamic("UUID"));
        assert!(is_dynamic("string"));
        assert!(!is_dynamic("TEXT"));
        assert!(!is_dynamic("NUMERIC"));
        assert_eq!(map("").arrow, DataType::Utf8);
    }
}
