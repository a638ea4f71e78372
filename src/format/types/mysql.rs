//! MySQL / MariaDB column types, as `information_schema.columns` names them
//! (`COLUMN_TYPE` like `bigint(20) unsigned`, `DATA_TYPE` like `bigint`).
//!
//! | MySQL                         | Arrow                     | Warehouse        |
//! |-------------------------------|---------------------------|------------------|
//! | tinyint(1), bit(1)            | Boolean                   | BOOL             |
//! | tinyint/smallint/mediumint/int/bigint | Int8/Int16/Int32/Int32/Int64 | INT64   |
//! | … unsigned                    | the next wider signed int | INT64            |
//! | bigint unsigned, bit(64)      | Decimal128(20, 0)         | NUMERIC(20, 0)   |
//! | bit(2..63)                    | Int64                     | INT64            |
//! | year                          | Int16                     | INT64            |
//! | decimal(p,s)                  | Decimal128(p,s) (p > 38: Decimal256) | NUMERIC / BIGNUMERIC |
//! | float / double                | Float32 / Float64         | FLOAT64          |
//! | char, varchar, *text, enum, set, uuid, inet4/6 | Utf8     | STRING           |
//! | json (MariaDB: longtext + CHECK json_valid) | Utf8 + arrow.json | JSON     |
//! | binary, varbinary, *blob      | Binary                    | BYTES            |
//! | date                          | Date32                    | DATE             |
//! | datetime                      | Timestamp(µs)             | DATETIME (naive) |
//! | timestamp                     | Timestamp(µs, UTC)        | TIMESTAMP        |
//! | time                          | Time64(µs)                | TIME             |
//! | geometry and other spatial    | refused                   |                  |
//!
//! Fallbacks, decided per value by the source:
//! - `tinyint(1)` is MySQL's BOOLEAN but holds -128..127: 0 and 1 are exact,
//!   other values are refused unless the task opts in (then non-zero is true).
//! - `time` spans ±838 hours (it doubles as a duration): values outside
//!   00:00:00–23:59:59.999999 are refused unless the task opts in (then NULL).
//! - Zero dates (`0000-00-00`, and dates with a zero month or day, which the
//!   server accepts when `sql_mode` lacks NO_ZERO_DATE / NO_ZERO_IN_DATE) are
//!   not dates: they always become NULL, counted as a warning per column.
//! - `timestamp` is read as UTC: the source sets the session `time_zone` to
//!   '+00:00', so the server converts from its stored UTC value and back.

use arrow_schema::{DataType, TimeUnit};

use super::{ColumnType, Fidelity, WarehouseType};

/// Maps one column. `data_type` decides the family, `column_type` carries the
/// parameters (`(p,s)`, display width, `unsigned`). A MariaDB JSON column is
/// `longtext`: the caller detects its `json_valid` check and passes `json`.
pub fn map(column_type: &str, data_type: &str) -> ColumnType {
    let full = column_type.trim().to_ascii_lowercase();
    let base = data_type.trim().to_ascii_lowercase();
    let unsigned = full.contains("unsigned");
    let params = numeric_params(&full);
    let db_type = column_type.trim().to_string();
    let exact = |arrow, warehouse| ColumnType {
        db_type: db_type.clone(),
        arrow,
        warehouse,
        fidelity: Fidelity::Exact,
    };
    match base.as_str() {
        "tinyint" if params.first() == Some(&1) && !unsigned => ColumnType {
            db_type: db_type.clone(),
            arrow: DataType::Boolean,
            warehouse: WarehouseType::Bool,
            fidelity: Fidelity::Fallback {
                note: "tinyint(1) is carried as a boolean: values other than 0 and 1 are \
                       refused unless the task opts in (then non-zero is true)"
                    .into(),
            },
        },
        "tinyint" if unsigned => exact(DataType::Int16, WarehouseType::Int64),
        "tinyint" => exact(DataType::Int8, WarehouseType::Int64),
        "smallint" if unsigned => exact(DataType::Int32, WarehouseType::Int64),
        "smallint" => exact(DataType::Int16, WarehouseType::Int64),
        // mediumint unsigned tops out at 16777215: Int32 still holds it.
        "mediumint" => exact(DataType::Int32, WarehouseType::Int64),
        "int" | "integer" if unsigned => exact(DataType::Int64, WarehouseType::Int64),
        "int" | "integer" => exact(DataType::Int32, WarehouseType::Int64),
        // 2^64-1 fits no signed 64-bit type: NUMERIC(20,0) holds every value.
        "bigint" if unsigned => decimal(&db_type, 20, 0),
        "bigint" => exact(DataType::Int64, WarehouseType::Int64),
        "bit" => match params.first().copied().unwrap_or(1) {
            1 => exact(DataType::Boolean, WarehouseType::Bool),
            n if n < 64 => exact(DataType::Int64, WarehouseType::Int64),
            _ => decimal(&db_type, 20, 0),
        },
        // YEAR is 1901..2155 or 0 (the "zero year"): an integer, kept as one.
        "year" => exact(DataType::Int16, WarehouseType::Int64),
        "decimal" | "numeric" | "dec" | "fixed" => {
            let p = params.first().copied().unwrap_or(10);
            let s = params.get(1).copied().unwrap_or(0);
            match (u8::try_from(p), i8::try_from(s)) {
                (Ok(p), Ok(s)) if (1..=76).contains(&p) && s <= p as i8 => decimal(&db_type, p, s),
                _ => refused(&db_type, "decimal precision outside 1..76"),
            }
        }
        "float" => exact(DataType::Float32, WarehouseType::Float64),
        "double" | "double precision" | "real" => exact(DataType::Float64, WarehouseType::Float64),
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set"
        | "uuid" | "inet4" | "inet6" => exact(DataType::Utf8, WarehouseType::String),
        "json" => exact(DataType::Utf8, WarehouseType::Json),
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
            exact(DataType::Binary, WarehouseType::Bytes)
        }
        "date" => exact(DataType::Date32, WarehouseType::Date),
        "datetime" => exact(
            DataType::Timestamp(TimeUnit::Microsecond, None),
            WarehouseType::Datetime,
        ),
        "timestamp" => exact(
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            WarehouseType::Timestamp,
        ),
        "time" => ColumnType {
            db_type: db_type.clone(),
            arrow: DataType::Time64(TimeUnit::Microsecond),
            warehouse: WarehouseType::Time,
            fidelity: Fidelity::Fallback {
                note: "time values outside 00:00:00–23:59:59.999999 (MySQL TIME spans \
                       ±838 hours) are refused unless the task opts in (then NULL)"
                    .into(),
            },
        },
        "geometry" | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" | "geomcollection" => refused(
            &db_type,
            "spatial types are not carried; select ST_AsText(col) or ST_AsGeoJSON(col) in a query",
        ),
        other => refused(&db_type, &format!("unsupported MySQL type `{other}`")),
    }
}

/// decimal(p,s): Decimal128 up to 38 digits (Decimal256 beyond, for MySQL's
/// 65); NUMERIC where BigQuery's NUMERIC(P,S) holds it (S ≤ 9, P − S ≤ 29),
/// else BIGNUMERIC.
pub(crate) fn decimal(db_type: &str, p: u8, s: i8) -> ColumnType {
    let arrow = if p <= 38 {
        DataType::Decimal128(p, s)
    } else {
        DataType::Decimal256(p, s)
    };
    let warehouse = if s <= 9 && i16::from(p) - i16::from(s) <= 29 {
        WarehouseType::Numeric {
            precision: p,
            scale: s,
        }
    } else {
        WarehouseType::BigNumeric {
            precision: p,
            scale: s,
        }
    };
    ColumnType {
        db_type: db_type.to_string(),
        arrow,
        warehouse,
        fidelity: Fidelity::Exact,
    }
}

fn refused(db_type: &str, reason: &str) -> ColumnType {
    ColumnType {
        db_type: db_type.to_string(),
        arrow: DataType::Utf8,
        warehouse: WarehouseType::String,
        fidelity: Fidelity::Refused {
            reason: reason.to_string(),
        },
    }
}

/// The numbers in the first parentheses: `decimal(12,2)` → [12, 2]. Enum and
/// set lists are not numbers and give nothing.
pub(crate) fn numeric_params(full: &str) -> Vec<u32> {
    let Some(open) = full.find('(') else {
        return Vec::new();
    };
    let Some(len) = full[open..].find(')') else {
        return Vec::new();
    };
    full[open + 1..open + len]
        .split(',')
        .map(|p| p.trim().parse::<u32>())
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrow(ct: &str, dt: &str) -> DataType {
        map(ct, dt).arrow
    }

    #[test]
    fn integers_widen_when_unsigned() {
        assert_eq!(arrow("tinyint(4)", "tinyint"), DataType::Int8);
        assert_eq!(arrow("tinyint(3) unsigned", "tinyint"), DataType::Int16);
        assert_eq!(arrow("smallint(5) unsigned", "smallint"), DataType::Int32);
        assert_eq!(arrow("mediumint(8) unsigned", "mediumint"), DataType::Int32);
        assert_eq!(arrow("int(10) unsigned", "int"), DataType::Int64);
        assert_eq!(arrow("bigint(20)", "bigint"), DataType::Int64);
        let u = map("bigint(20) unsigned", "bigint");
        assert_eq!(u.arrow, DataType::Decimal128(20, 0));
        assert_eq!(
            u.warehouse,
            WarehouseType::Numeric {
                precision: 20,
                scale: 0
            }
        );
        assert_eq!(map("int(11)", "int").warehouse, WarehouseType::Int64);
    }

    #[test]
    fn booleans_and_bits() {
        let b = map("tinyint(1)", "tinyint");
        assert_eq!(b.arrow, DataType::Boolean);
        assert!(matches!(b.fidelity, Fidelity::Fallback { .. }));
        assert_eq!(arrow("tinyint(1) unsigned", "tinyint"), DataType::Int16);
        assert_eq!(arrow("bit(1)", "bit"), DataType::Boolean);
        assert_eq!(arrow("bit(12)", "bit"), DataType::Int64);
        assert_eq!(arrow("bit(64)", "bit"), DataType::Decimal128(20, 0));
        assert_eq!(arrow("year(4)", "year"), DataType::Int16);
    }

    #[test]
    fn decimals_pick_numeric_or_bignumeric() {
        let d = map("decimal(12,2)", "decimal");
        assert_eq!(d.arrow, DataType::Decimal128(12, 2));
        assert_eq!(
            d.warehouse,
            WarehouseType::Numeric {
                precision: 12,
                scale: 2
            }
        );
        assert!(matches!(
            map("decimal(20,12)", "decimal").warehouse,
            WarehouseType::BigNumeric { .. }
        ));
        assert!(matches!(
            map("decimal(35,0)", "decimal").warehouse,
            WarehouseType::BigNumeric { .. }
        ));
        assert_eq!(
            arrow("decimal(65,30)", "decimal"),
            DataType::Decimal256(65, 30)
        );
        assert_eq!(arrow("decimal", "decimal"), DataType::Decimal128(10, 0));
    }

    #[test]
    fn text_time_json_and_refusals() {
        assert_eq!(arrow("enum('a','b')", "enum"), DataType::Utf8);
        assert_eq!(arrow("set('x')", "set"), DataType::Utf8);
        assert_eq!(map("json", "json").warehouse, WarehouseType::Json);
        assert_eq!(
            map("varbinary(16)", "varbinary").warehouse,
            WarehouseType::Bytes
        );
        assert_eq!(
            arrow("timestamp(6)", "timestamp"),
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert_eq!(
            map("datetime", "datetime").warehouse,
            WarehouseType::Datetime
        );
        assert!(matches!(
            map("time(6)", "time").fidelity,
            Fidelity::Fallback { .. }
        ));
        assert!(matches!(
            map("point", "point").fidelity,
            Fidelity::Refused { .. }
        ));
        assert!(matches!(
            map("vector(3)", "vector").fidelity,
            Fidelity::Refused { .. }
        ));
    }
}
