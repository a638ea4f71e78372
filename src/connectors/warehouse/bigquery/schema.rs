//! A BigQuery table schema from a file's Arrow schema: each column keeps its
//! type (TIMESTAMP for UTC instants, DATETIME for naive ones, NUMERIC or
//! BIGNUMERIC with the file's precision and scale, JSON for the JSON
//! extension type, REPEATED for lists). The crate's `TableFieldSchema` has no
//! precision or scale, so fields are written as JSON here.

use anyhow::{Result, bail};
use arrow_schema::{DataType, Field, Schema};
use serde_json::{Value, json};

use crate::format::types::WarehouseType;

/// The warehouse type of one Arrow field (lists: `Repeated`).
pub fn warehouse_type(f: &Field) -> Result<WarehouseType> {
    let name = f.name();
    Ok(match f.data_type() {
        DataType::List(item) | DataType::LargeList(item) | DataType::FixedSizeList(item, _) => {
            let inner = warehouse_type(item)?;
            if matches!(inner, WarehouseType::Repeated(_)) {
                bail!(
                    "column `{name}` is a list of lists, which BigQuery cannot hold (ARRAY<ARRAY>)"
                );
            }
            WarehouseType::Repeated(Box::new(inner))
        }
        dt => scalar(name, f, dt)?,
    })
}

fn scalar(name: &str, f: &Field, dt: &DataType) -> Result<WarehouseType> {
    use WarehouseType as W;
    Ok(match dt {
        DataType::Boolean => W::Bool,
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => W::Int64,
        DataType::Float16 | DataType::Float32 | DataType::Float64 => W::Float64,
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => numeric(name, *p, *s)?,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            if f.extension_type_name() == Some("arrow.json") {
                W::Json
            } else {
                W::String
            }
        }
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => W::Bytes,
        DataType::Date32 | DataType::Date64 => W::Date,
        DataType::Time32(_) | DataType::Time64(_) => W::Time,
        DataType::Timestamp(_, Some(_)) => W::Timestamp,
        DataType::Timestamp(_, None) => W::Datetime,
        other => bail!("column `{name}` is {other}, which this BigQuery load does not carry"),
    })
}

/// NUMERIC(P,S) where it holds the values (S ≤ 9, P − S ≤ 29), else
/// BIGNUMERIC(P,S) (S ≤ 38, P − S ≤ 38); beyond, no BigQuery type does.
fn numeric(name: &str, p: u8, s: i8) -> Result<WarehouseType> {
    if s < 0 {
        bail!("column `{name}` has a negative decimal scale ({s}), which BigQuery cannot declare");
    }
    let int_digits = i16::from(p) - i16::from(s);
    if s <= 9 && int_digits <= 29 {
        Ok(WarehouseType::Numeric {
            precision: p,
            scale: s,
        })
    } else if s <= 38 && int_digits <= 38 {
        Ok(WarehouseType::BigNumeric {
            precision: p,
            scale: s,
        })
    } else {
        bail!(
            "column `{name}` is decimal({p},{s}), wider than BigQuery's BIGNUMERIC (38 digits on each side of the point)"
        )
    }
}

/// The type name BigQuery uses in a schema (`mode` says REPEATED).
pub fn type_name(t: &WarehouseType) -> &'static str {
    use WarehouseType as W;
    match t {
        W::Bool => "BOOL",
        W::Int64 => "INT64",
        W::Float64 => "FLOAT64",
        W::Numeric { .. } => "NUMERIC",
        W::BigNumeric { .. } => "BIGNUMERIC",
        W::String => "STRING",
        W::Bytes => "BYTES",
        W::Date => "DATE",
        W::Time => "TIME",
        W::Datetime => "DATETIME",
        W::Timestamp => "TIMESTAMP",
        W::Json => "JSON",
        W::Repeated(inner) => type_name(inner),
    }
}

/// One `TableFieldSchema` as JSON.
pub fn field_json(f: &Field) -> Result<Value> {
    let t = warehouse_type(f)?;
    let (mode, base) = match &t {
        WarehouseType::Repeated(inner) => ("REPEATED", inner.as_ref()),
        // A nullable column is NULLABLE; a NOT NULL one REQUIRED, as declared at the source.
        other if f.is_nullable() => ("NULLABLE", other),
        other => ("REQUIRED", other),
    };
    let mut v = json!({ "name": f.name(), "type": type_name(base), "mode": mode });
    if let WarehouseType::Numeric { precision, scale }
    | WarehouseType::BigNumeric { precision, scale } = base
    {
        // int64 fields travel as strings in BigQuery's JSON.
        v["precision"] = json!(precision.to_string());
        v["scale"] = json!(scale.to_string());
    }
    Ok(v)
}

/// `{"fields": [...]}` for a table or a load job.
pub fn table_schema(schema: &Schema) -> Result<Value> {
    if schema.fields().is_empty() {
        bail!("the file has no columns");
    }
    let fields = schema
        .fields()
        .iter()
        .map(|f| field_json(f))
        .collect::<Result<Vec<_>>>()?;
    Ok(json!({ "fields": fields }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_schema::TimeUnit;
    use arrow_schema::extension::Json;

    use super::*;

    fn f(name: &str, dt: DataType, nullable: bool) -> Field {
        Field::new(name, dt, nullable)
    }

    #[test]
    fn every_arrow_type_gets_its_bigquery_type() {
        let json = f("doc", DataType::Utf8, true).with_extension_type(Json::default());
        let json_items = DataType::List(Arc::new(
            Field::new_list_field(DataType::Utf8, true).with_extension_type(Json::default()),
        ));
        let schema = Schema::new(vec![
            f("id", DataType::Int32, false),
            f("big", DataType::Int64, true),
            f("x", DataType::Float32, true),
            f("ok", DataType::Boolean, true),
            f("n", DataType::Decimal128(12, 3), true),
            f("nb", DataType::Decimal256(48, 10), true),
            f("wide_scale", DataType::Decimal128(20, 12), true),
            f("s", DataType::Utf8, true),
            json,
            f("raw", DataType::Binary, true),
            f("d", DataType::Date32, true),
            f("t", DataType::Time64(TimeUnit::Microsecond), true),
            f("ts", DataType::Timestamp(TimeUnit::Microsecond, None), true),
            f(
                "tz",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            f(
                "xs",
                DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true))),
                true,
            ),
            f("docs", json_items, true),
        ]);
        let got = table_schema(&schema).expect("schema");
        let fields = got["fields"].as_array().expect("fields");
        let brief: Vec<String> = fields
            .iter()
            .map(|v| {
                let mut s = format!(
                    "{} {} {}",
                    v["name"].as_str().unwrap_or_default(),
                    v["type"].as_str().unwrap_or_default(),
                    v["mode"].as_str().unwrap_or_default()
                );
                if let Some(p) = v["precision"].as_str() {
                    s.push_str(&format!(
                        " ({p},{})",
                        v["scale"].as_str().unwrap_or_default()
                    ));
                }
                s
            })
            .collect();
        assert_eq!(
            brief,
            vec![
                "id INT64 REQUIRED",
                "big INT64 NULLABLE",
                "x FLOAT64 NULLABLE",
                "ok BOOL NULLABLE",
                "n NUMERIC NULLABLE (12,3)",
                "nb BIGNUMERIC NULLABLE (48,10)",
                "wide_scale BIGNUMERIC NULLABLE (20,12)",
                "s STRING NULLABLE",
                "doc JSON NULLABLE",
                "raw BYTES NULLABLE",
                "d DATE NULLABLE",
                "t TIME NULLABLE",
                "ts DATETIME NULLABLE",
                "tz TIMESTAMP NULLABLE",
                "xs INT64 REPEATED",
                "docs JSON REPEATED",
            ]
        );
    }

    #[test]
    fn what_bigquery_cannot_hold_is_refused_by_name() {
        let nested = DataType::List(Arc::new(Field::new_list_field(
            DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true))),
            true,
        )));
        for (field, needle) in [
            (f("grid", nested, true), "`grid` is a list of lists"),
            (f("u", DataType::UInt64, true), "`u` is UInt64"),
            (
                f("neg", DataType::Decimal128(5, -2), true),
                "negative decimal scale",
            ),
            (
                f("huge", DataType::Decimal256(76, 0), true),
                "wider than BigQuery",
            ),
        ] {
            let e = table_schema(&Schema::new(vec![field]))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains(needle), "{e}");
        }
        assert!(table_schema(&Schema::empty()).is_err());
    }
}
