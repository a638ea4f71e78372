//! PostgreSQL rows of the mapping table. `kind` decides how the COPY BINARY
//! decoder reads each column and `map` derives the Arrow and warehouse types
//! from the same `PgKind`, so the decoder and this table cannot disagree.
//!
//! | PostgreSQL                          | Arrow                      | Warehouse            |
//! |-------------------------------------|----------------------------|----------------------|
//! | bool                                | Boolean                    | BOOL                 |
//! | int2 / int4 / int8 / oid            | Int16 / Int32 / Int64 / Int64 | INT64             |
//! | float4 / float8                     | Float32 / Float64          | FLOAT64              |
//! | numeric(p,s), p ≤ 38                | Decimal128(p,s)            | NUMERIC or BIGNUMERIC|
//! | numeric(p,s), 38 < p ≤ 76           | Decimal256(p,s)            | BIGNUMERIC           |
//! | numeric (unconstrained)             | Decimal128(38,9)           | NUMERIC(38,9)        |
//! | text, varchar, bpchar, name, citext, enums | Utf8                | STRING               |
//! | json, jsonb                         | Utf8 + `arrow.json`        | JSON                 |
//! | uuid                                | Utf8 (36 chars, lowercase) | STRING               |
//! | bytea                               | Binary                     | BYTES                |
//! | date                                | Date32                     | DATE                 |
//! | time                                | Time64(µs)                 | TIME                 |
//! | timestamp                           | Timestamp(µs)              | DATETIME             |
//! | timestamptz                         | Timestamp(µs, "UTC")       | TIMESTAMP            |
//! | interval                            | Utf8, ISO-8601 duration    | STRING               |
//! | 1-D arrays of any type above        | List                       | REPEATED             |
//! | anything else                       | Utf8 (the `::text` form)   | STRING               |
//!
//! Warehouse numerics follow BigQuery's limits: NUMERIC(p,s) when s ≤ 9 and
//! p − s ≤ 29, else BIGNUMERIC(p,s) (s ≤ 38, p − s ≤ 38). Negative scales
//! (PostgreSQL 15) become scale 0 with the precision widened to match; a
//! scale above the precision widens the precision to the scale. A numeric
//! that fits no warehouse type (p > 76, or too many integer or fractional
//! digits for BIGNUMERIC) is carried as text.
//!
//! Fallbacks (`Fidelity::Fallback`):
//! - unconstrained `numeric` is carried as Decimal128(38,9) when every value
//!   fits exactly; a value with more than 9 fractional digits or 29 integer
//!   digits refuses the export, unless the task allows lossy conversion:
//!   then extra fractional digits are rounded half away from zero (as
//!   PostgreSQL rounds) and a value too large becomes NULL.
//! - `interval` is carried as PostgreSQL's own `intervalstyle = iso_8601`
//!   text (`P1Y2M3DT4H5M6.5S`; `PT0S` for zero): months, days and
//!   microseconds stay apart, exactly, because no warehouse type holds them.
//! - any other type (inet, money, ranges, composites, xml, arrays of those…)
//!   is read as `column::text` and carried as that string.
//!
//! Values that no Arrow type holds are refused per value, naming the column,
//! unless the task allows lossy conversion, which writes NULL instead (and
//! the export reports how many): numeric NaN and ±Infinity, date and
//! timestamp ±infinity, time 24:00:00, and multi-dimensional arrays. The
//! column types themselves stay `Exact`: ordinary values arrive unchanged.
//! Array lower bounds other than 1 are not kept (the elements are).

use std::sync::Arc;

use arrow_schema::extension::Json;
use arrow_schema::{DataType, Field, TimeUnit};

use super::{ColumnType, Fidelity, WarehouseType};

/// Precision and scale unconstrained `numeric` is carried at.
pub const UNCONSTRAINED_NUMERIC: (u8, i8) = (38, 9);

/// How a value of a column is read from COPY BINARY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgKind {
    Bool,
    Int2,
    Int4,
    Int8,
    /// `oid`: unsigned 32 bits, carried as Int64.
    Oid,
    Float4,
    Float8,
    /// Decimal128 (precision ≤ 38) or Decimal256. `declared` is false for
    /// unconstrained numeric, whose values may not fit.
    Numeric {
        precision: u8,
        scale: i8,
        declared: bool,
    },
    /// Text in the client encoding (UTF-8): text, varchar, bpchar, name, citext, enums.
    Text,
    Json,
    /// Text after a version byte (1).
    Jsonb,
    Uuid,
    Bytea,
    Date,
    Time,
    Timestamp,
    Timestamptz,
    Interval,
    /// A one-dimensional array of the element kind.
    Array(Box<PgKind>),
    /// Selected as `column::text`, decoded as text.
    TextCast,
}

/// The kind for an effective type name (domains resolved to their base type,
/// enums passed as `text`, arrays as `_elem`) and its type modifier.
pub fn kind(typname: &str, typmod: i32) -> PgKind {
    match typname {
        "bool" => PgKind::Bool,
        "int2" => PgKind::Int2,
        "int4" => PgKind::Int4,
        "int8" => PgKind::Int8,
        "oid" => PgKind::Oid,
        "float4" => PgKind::Float4,
        "float8" => PgKind::Float8,
        "numeric" => numeric_kind(typmod),
        "text" | "varchar" | "bpchar" | "name" | "citext" => PgKind::Text,
        "json" => PgKind::Json,
        "jsonb" => PgKind::Jsonb,
        "uuid" => PgKind::Uuid,
        "bytea" => PgKind::Bytea,
        "date" => PgKind::Date,
        "time" => PgKind::Time,
        "timestamp" => PgKind::Timestamp,
        "timestamptz" => PgKind::Timestamptz,
        "interval" => PgKind::Interval,
        _ => match typname.strip_prefix('_').map(|elem| kind(elem, typmod)) {
            // Arrays cannot nest: `__x` is the array of a type named `_x`.
            Some(PgKind::TextCast | PgKind::Array(_)) | None => PgKind::TextCast,
            Some(elem) => PgKind::Array(Box::new(elem)),
        },
    }
}

/// `numeric(p,s)` from its type modifier (PostgreSQL packs `(p << 16 | s) + 4`,
/// the scale as 11 signed bits).
fn numeric_kind(typmod: i32) -> PgKind {
    if typmod < 4 {
        let (precision, scale) = UNCONSTRAINED_NUMERIC;
        return PgKind::Numeric {
            precision,
            scale,
            declared: false,
        };
    }
    let m = typmod - 4;
    let p = (m >> 16) & 0xffff;
    let s = ((m & 0x7ff) ^ 1024) - 1024;
    // numeric(3,-2) holds 99900: five digits, no fraction.
    let (p, s) = if s < 0 { (p - s, 0) } else { (p.max(s), s) };
    let fits_bignumeric = p <= 38 || (s <= 38 && p - s <= 38 && p <= 76);
    match (u8::try_from(p), i8::try_from(s)) {
        (Ok(precision), Ok(scale)) if fits_bignumeric && precision > 0 => PgKind::Numeric {
            precision,
            scale,
            declared: true,
        },
        _ => PgKind::TextCast,
    }
}

impl PgKind {
    /// The Arrow type values of this kind are decoded into.
    pub fn arrow_type(&self) -> DataType {
        match self {
            PgKind::Bool => DataType::Boolean,
            PgKind::Int2 => DataType::Int16,
            PgKind::Int4 => DataType::Int32,
            PgKind::Int8 | PgKind::Oid => DataType::Int64,
            PgKind::Float4 => DataType::Float32,
            PgKind::Float8 => DataType::Float64,
            PgKind::Numeric {
                precision, scale, ..
            } if *precision <= 38 => DataType::Decimal128(*precision, *scale),
            PgKind::Numeric {
                precision, scale, ..
            } => DataType::Decimal256(*precision, *scale),
            PgKind::Text
            | PgKind::Json
            | PgKind::Jsonb
            | PgKind::Uuid
            | PgKind::Interval
            | PgKind::TextCast => DataType::Utf8,
            PgKind::Bytea => DataType::Binary,
            PgKind::Date => DataType::Date32,
            PgKind::Time => DataType::Time64(TimeUnit::Microsecond),
            PgKind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            PgKind::Timestamptz => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            PgKind::Array(elem) => DataType::List(Arc::new(elem.item_field())),
        }
    }

    /// The field of a list's elements: nullable (PostgreSQL arrays hold
    /// NULLs), tagged `arrow.json` for JSON elements.
    pub fn item_field(&self) -> Field {
        let f = Field::new("item", self.arrow_type(), true);
        if self.is_json() {
            f.with_extension_type(Json::default())
        } else {
            f
        }
    }

    pub fn is_json(&self) -> bool {
        matches!(self, PgKind::Json | PgKind::Jsonb)
    }

    /// True when the value is selected as `column::text`.
    pub fn needs_text_cast(&self) -> bool {
        matches!(self, PgKind::TextCast)
    }

    pub fn warehouse_type(&self) -> WarehouseType {
        match self {
            PgKind::Bool => WarehouseType::Bool,
            PgKind::Int2 | PgKind::Int4 | PgKind::Int8 | PgKind::Oid => WarehouseType::Int64,
            PgKind::Float4 | PgKind::Float8 => WarehouseType::Float64,
            PgKind::Numeric {
                precision, scale, ..
            } => {
                let (precision, scale) = (*precision, *scale);
                if scale <= 9 && i16::from(precision) - i16::from(scale) <= 29 {
                    WarehouseType::Numeric { precision, scale }
                } else {
                    WarehouseType::BigNumeric { precision, scale }
                }
            }
            PgKind::Text | PgKind::Uuid | PgKind::Interval | PgKind::TextCast => {
                WarehouseType::String
            }
            PgKind::Json | PgKind::Jsonb => WarehouseType::Json,
            PgKind::Bytea => WarehouseType::Bytes,
            PgKind::Date => WarehouseType::Date,
            PgKind::Time => WarehouseType::Time,
            PgKind::Timestamp => WarehouseType::Datetime,
            PgKind::Timestamptz => WarehouseType::Timestamp,
            PgKind::Array(elem) => WarehouseType::Repeated(Box::new(elem.warehouse_type())),
        }
    }

    pub fn fidelity(&self) -> Fidelity {
        let note = |s: &str| Fidelity::Fallback {
            note: s.to_string(),
        };
        match self {
            PgKind::Numeric {
                declared: false, ..
            } => note(
                "unconstrained numeric is carried as Decimal128(38,9); a value with more than \
                 9 fractional or 29 integer digits is refused unless the task allows lossy \
                 conversion (then rounded, or NULL when too large)",
            ),
            PgKind::Interval => note("carried as an ISO-8601 duration string (P1Y2M3DT4H5M6.5S)"),
            PgKind::TextCast => note("carried as PostgreSQL's text form of the value"),
            PgKind::Array(elem) => match elem.fidelity() {
                Fidelity::Fallback { note: n } => note(&format!("array elements: {n}")),
                other => other,
            },
            _ => Fidelity::Exact,
        }
    }

    /// The full row of the mapping table, named as the database shows the type.
    pub fn column_type(&self, display: &str) -> ColumnType {
        ColumnType {
            db_type: display.to_string(),
            arrow: self.arrow_type(),
            warehouse: self.warehouse_type(),
            fidelity: self.fidelity(),
        }
    }
}

/// The mapping table row for a column: `typname` as resolved from pg_type
/// (`int4`, `numeric`, `_int4` for arrays; enums as `text`; domains as their
/// base type), its type modifier, and `display` = `format_type(oid, typmod)`.
pub fn map(typname: &str, typmod: i32, display: &str) -> ColumnType {
    kind(typname, typmod).column_type(display)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_typmod(p: i32, s: i32) -> i32 {
        ((p << 16) | (s & 0x7ff)) + 4
    }

    #[test]
    fn scalar_rows() {
        let t = map("timestamptz", -1, "timestamp with time zone");
        assert_eq!(
            t.arrow,
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert_eq!(t.warehouse, WarehouseType::Timestamp);
        assert_eq!(t.fidelity, Fidelity::Exact);
        assert_eq!(t.db_type, "timestamp with time zone");
        assert_eq!(map("int2", -1, "smallint").arrow, DataType::Int16);
        assert_eq!(map("int8", -1, "bigint").warehouse, WarehouseType::Int64);
        assert_eq!(map("jsonb", -1, "jsonb").warehouse, WarehouseType::Json);
        assert_eq!(map("bytea", -1, "bytea").arrow, DataType::Binary);
        assert_eq!(
            map("timestamp", -1, "timestamp").warehouse,
            WarehouseType::Datetime
        );
        assert!(matches!(
            map("interval", -1, "interval").fidelity,
            Fidelity::Fallback { .. }
        ));
        let inet = map("inet", -1, "inet");
        assert_eq!(inet.arrow, DataType::Utf8);
        assert!(kind("inet", -1).needs_text_cast());
    }

    #[test]
    fn numeric_precision_decides_the_warehouse_type() {
        let n = map("numeric", numeric_typmod(12, 2), "numeric(12,2)");
        assert_eq!(n.arrow, DataType::Decimal128(12, 2));
        assert_eq!(
            n.warehouse,
            WarehouseType::Numeric {
                precision: 12,
                scale: 2
            }
        );
        assert_eq!(n.fidelity, Fidelity::Exact);
        // 29 integer digits and 9 fractional ones is BigQuery's NUMERIC.
        assert!(matches!(
            map("numeric", numeric_typmod(38, 9), "").warehouse,
            WarehouseType::Numeric { .. }
        ));
        assert!(matches!(
            map("numeric", numeric_typmod(30, 0), "").warehouse,
            WarehouseType::BigNumeric { .. }
        ));
        assert!(matches!(
            map("numeric", numeric_typmod(20, 12), "").warehouse,
            WarehouseType::BigNumeric { .. }
        ));
        assert_eq!(
            map("numeric", numeric_typmod(50, 20), "").arrow,
            DataType::Decimal256(50, 20)
        );
        assert!(kind("numeric", numeric_typmod(70, 10)).needs_text_cast());
        assert!(kind("numeric", numeric_typmod(100, 2)).needs_text_cast());
        assert_eq!(
            map("numeric", numeric_typmod(3, -2), "").arrow,
            DataType::Decimal128(5, 0)
        );
        assert_eq!(
            map("numeric", numeric_typmod(2, 5), "").arrow,
            DataType::Decimal128(5, 5)
        );
        let u = map("numeric", -1, "numeric");
        assert_eq!(u.arrow, DataType::Decimal128(38, 9));
        assert!(matches!(u.fidelity, Fidelity::Fallback { .. }));
    }

    #[test]
    fn arrays_are_lists_of_their_element() {
        let a = map("_int4", -1, "integer[]");
        assert_eq!(
            a.arrow,
            DataType::List(Arc::new(Field::new("item", DataType::Int32, true)))
        );
        assert_eq!(
            a.warehouse,
            WarehouseType::Repeated(Box::new(WarehouseType::Int64))
        );
        let j = kind("_jsonb", -1);
        let DataType::List(item) = j.arrow_type() else {
            panic!("not a list")
        };
        assert_eq!(item.extension_type_name(), Some("arrow.json"));
        assert!(kind("_inet", -1).needs_text_cast());
        assert!(kind("__int4", -1).needs_text_cast());
        assert_eq!(
            kind("_numeric", numeric_typmod(10, 2)),
            PgKind::Array(Box::new(PgKind::Numeric {
                precision: 10,
                scale: 2,
                declared: true
            }))
        );
    }
}
