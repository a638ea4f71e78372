//! Declared column types: Arrow → the name a column is declared with, and a
//! declared name → the warehouse type a later reader sees.
//!
//! SQLite derives a column's *affinity* from its declared name, and NUMERIC
//! affinity turns text that looks like a number into a REAL (`'12.50'` →
//! `12.5`, 16+ digits rounded). So types whose values are text that may look
//! numeric carry `TEXT` in their name: decimals are `NUMERIC_TEXT(p,s)` and
//! JSON is `JSON_TEXT`. DATE, TIME, DATETIME and TIMESTAMP keep their plain
//! names: their text never parses as a number.

use std::sync::Arc;

use anyhow::{Result, bail};
use arrow_schema::extension::{ExtensionType, Json, Uuid};
use arrow_schema::{DataType, Field, TimeUnit};

use crate::connectors::source::Column;
use crate::format::types::{ColumnType, Fidelity, WarehouseType};

pub(super) const JSON_DECL: &str = "JSON_TEXT";

pub(super) fn is_json(field: &Field) -> bool {
    field.extension_type_name() == Some(Json::NAME)
}

pub(super) fn is_uuid(field: &Field) -> bool {
    field.extension_type_name() == Some(Uuid::NAME)
}

/// The declared SQLite type for an Arrow field (see the module comment).
pub(super) fn declared_type(field: &Field) -> Result<String> {
    use DataType::*;
    if is_json(field) {
        return Ok(JSON_DECL.into());
    }
    if is_uuid(field) {
        return Ok("UUID".into());
    }
    Ok(match field.data_type() {
        Null | Utf8 | LargeUtf8 | Utf8View => "TEXT".into(),
        Boolean => "BOOLEAN".into(),
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => "INTEGER".into(),
        Float16 | Float32 | Float64 => "REAL".into(),
        Binary | LargeBinary | BinaryView | FixedSizeBinary(_) => "BLOB".into(),
        Date32 | Date64 => "DATE".into(),
        Time32(_) | Time64(_) => "TIME".into(),
        Timestamp(_, None) => "DATETIME".into(),
        Timestamp(_, Some(_)) => "TIMESTAMP".into(),
        Decimal32(p, s) | Decimal64(p, s) | Decimal128(p, s) | Decimal256(p, s) => {
            format!("NUMERIC_TEXT({p},{s})")
        }
        // Arrays are JSON text; the element type stays in the name.
        List(item) | LargeList(item) | FixedSizeList(item, _) => {
            format!("ARRAY_{}", declared_type(item)?)
        }
        Struct(_) => JSON_DECL.into(),
        Dictionary(_, values) => {
            return declared_type(&field.clone().with_data_type(values.as_ref().clone()));
        }
        other => bail!(
            "column `{}`: Arrow type {other} cannot be loaded into SQLite",
            field.name()
        ),
    })
}

/// How a declared type wants a JSON value (NDJSON loads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Integer,
    Real,
    Boolean,
    /// Text; `T` between date and time becomes a space (DATETIME, TIMESTAMP).
    DateTime,
    Text,
    Json,
    Blob,
}

pub(super) fn kind_of(decl: &str) -> Kind {
    match warehouse_type(decl) {
        WarehouseType::Int64 => Kind::Integer,
        WarehouseType::Float64 => Kind::Real,
        WarehouseType::Bool => Kind::Boolean,
        WarehouseType::Datetime | WarehouseType::Timestamp => Kind::DateTime,
        WarehouseType::Json | WarehouseType::Repeated(_) => Kind::Json,
        WarehouseType::Bytes => Kind::Blob,
        _ => Kind::Text,
    }
}

/// The warehouse type a declared name stands for: ours first, then the
/// usual SQL names, then SQLite's affinity rules.
pub(super) fn warehouse_type(decl: &str) -> WarehouseType {
    let upper = decl.trim().to_ascii_uppercase();
    if let Some(item) = upper.strip_prefix("ARRAY_") {
        return WarehouseType::Repeated(Box::new(warehouse_type(item)));
    }
    let (base, params) = match upper.split_once('(') {
        Some((b, p)) => (b.trim(), Some(p.trim_end_matches(')'))),
        None => (upper.as_str(), None),
    };
    match base {
        "BOOLEAN" | "BOOL" => WarehouseType::Bool,
        "DATE" => WarehouseType::Date,
        "TIME" => WarehouseType::Time,
        "DATETIME" => WarehouseType::Datetime,
        "TIMESTAMP" | "TIMESTAMPTZ" => WarehouseType::Timestamp,
        "JSON_TEXT" | "JSON" | "JSONB" => WarehouseType::Json,
        "UUID" => WarehouseType::String,
        "NUMERIC_TEXT" | "NUMERIC" | "DECIMAL" => numeric(params),
        _ if base.contains("INT") => WarehouseType::Int64,
        _ if ["CHAR", "CLOB", "TEXT"].iter().any(|t| base.contains(t)) => WarehouseType::String,
        _ if base.contains("BLOB") => WarehouseType::Bytes,
        _ if ["REAL", "FLOA", "DOUB"].iter().any(|t| base.contains(t)) => WarehouseType::Float64,
        _ => WarehouseType::String,
    }
}

/// `NUMERIC(p,s)`: BigQuery's NUMERIC holds 29 integer and 9 fractional
/// digits; wider is BIGNUMERIC. Without parameters: NUMERIC's default (38,9).
fn numeric(params: Option<&str>) -> WarehouseType {
    let Some(params) = params else {
        return WarehouseType::Numeric {
            precision: 38,
            scale: 9,
        };
    };
    let mut nums = params.split(',').map(|n| n.trim().parse::<i16>().ok());
    // Clamped, so the casts below cannot truncate.
    let precision = nums.next().flatten().unwrap_or(38).clamp(1, 76) as u8;
    let scale = nums.next().flatten().unwrap_or(0).clamp(-76, 76) as i8;
    if scale <= 9 && i16::from(precision) - i16::from(scale) <= 29 {
        WarehouseType::Numeric { precision, scale }
    } else {
        WarehouseType::BigNumeric { precision, scale }
    }
}

/// The Arrow type a column of this warehouse type is read back as.
fn arrow_type(ty: &WarehouseType) -> DataType {
    match ty {
        WarehouseType::Bool => DataType::Boolean,
        WarehouseType::Int64 => DataType::Int64,
        WarehouseType::Float64 => DataType::Float64,
        WarehouseType::Numeric { precision, scale } if *precision <= 38 => {
            DataType::Decimal128(*precision, *scale)
        }
        WarehouseType::Numeric { precision, scale }
        | WarehouseType::BigNumeric { precision, scale } => {
            DataType::Decimal256(*precision, *scale)
        }
        WarehouseType::String | WarehouseType::Json => DataType::Utf8,
        WarehouseType::Bytes => DataType::Binary,
        WarehouseType::Date => DataType::Date32,
        WarehouseType::Time => DataType::Time64(TimeUnit::Microsecond),
        WarehouseType::Datetime => DataType::Timestamp(TimeUnit::Microsecond, None),
        WarehouseType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        WarehouseType::Repeated(item) => {
            DataType::List(Arc::new(Field::new("item", arrow_type(item), true)))
        }
    }
}

/// A column of a warehouse table as `list_tables` reports it.
pub(super) fn column(name: String, decl: String, nullable: bool) -> Column {
    let warehouse = warehouse_type(&decl);
    Column {
        name,
        nullable,
        ty: ColumnType {
            arrow: arrow_type(&warehouse),
            db_type: decl,
            warehouse,
            fidelity: Fidelity::Exact,
        },
    }
}

/// Appending needs each file column to land in a column of the same kind;
/// numeric precision may differ (the text is exact either way).
pub(super) fn same_family(a: &WarehouseType, b: &WarehouseType) -> bool {
    use WarehouseType::*;
    match (a, b) {
        (Numeric { .. } | BigNumeric { .. }, Numeric { .. } | BigNumeric { .. }) => true,
        (Repeated(x), Repeated(y)) => same_family(x, y),
        (x, y) => x == y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_names_map_back_to_warehouse_types() {
        use WarehouseType::*;
        for (decl, ty) in [
            ("INTEGER", Int64),
            ("bigint", Int64),
            ("REAL", Float64),
            ("TEXT", String),
            ("varchar(20)", String),
            ("BLOB", Bytes),
            ("BOOLEAN", Bool),
            ("DATE", Date),
            ("TIME", Time),
            ("DATETIME", Datetime),
            ("TIMESTAMP", Timestamp),
            ("JSON_TEXT", Json),
            ("JSON", Json),
            ("UUID", String),
            ("", String),
            (
                "NUMERIC_TEXT(12,2)",
                Numeric {
                    precision: 12,
                    scale: 2,
                },
            ),
            (
                "NUMERIC_TEXT(50,20)",
                BigNumeric {
                    precision: 50,
                    scale: 20,
                },
            ),
            ("ARRAY_TIMESTAMP", Repeated(Box::new(Timestamp))),
            (
                "ARRAY_ARRAY_INTEGER",
                Repeated(Box::new(Repeated(Box::new(Int64)))),
            ),
        ] {
            assert_eq!(warehouse_type(decl), ty, "{decl}");
        }
        assert_eq!(kind_of("NUMERIC_TEXT(12,2)"), Kind::Text);
        assert_eq!(kind_of("TIMESTAMP"), Kind::DateTime);
        assert_eq!(kind_of("ARRAY_INTEGER"), Kind::Json);
    }

    #[test]
    fn arrow_fields_get_declared_names() {
        let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let list = DataType::List(Arc::new(Field::new(
            "item",
            DataType::Decimal128(12, 2),
            true,
        )));
        let json = Field::new("j", DataType::Utf8, true).with_extension_type(Json::default());
        for (field, decl) in [
            (Field::new("a", DataType::Int16, true), "INTEGER"),
            (Field::new("a", utc, true), "TIMESTAMP"),
            (
                Field::new("a", DataType::Decimal128(38, 9), true),
                "NUMERIC_TEXT(38,9)",
            ),
            (Field::new("a", list, true), "ARRAY_NUMERIC_TEXT(12,2)"),
            (json, "JSON_TEXT"),
        ] {
            assert_eq!(declared_type(&field).unwrap(), decl);
        }
        let err = declared_type(&Field::new("d", DataType::Duration(TimeUnit::Second), true))
            .unwrap_err();
        assert!(err.to_string().contains("column `d`"), "{err}");
    }
}
