//! The single type-mapping table: a database column type → the Arrow type it
//! is carried as → the warehouse type it lands as, and how exactly.
//! Every row of this table is tested against the real servers.

use std::sync::Arc;

use arrow_schema::extension::Json;
use arrow_schema::{DataType, Field};
use serde::Serialize;

pub mod mysql;
pub mod postgres;
pub mod sqlite;

/// How faithfully a column type is carried.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fidelity", rename_all = "snake_case")]
pub enum Fidelity {
    /// Every value arrives exactly.
    Exact,
    /// Carried through a documented conversion (e.g. interval → ISO-8601
    /// text); values that would change are refused unless the task opts in.
    Fallback { note: String },
    /// Not carried at all; the export refuses with this reason.
    Refused { reason: String },
}

/// A warehouse column type, named the BigQuery way; SQLite maps each to an affinity.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarehouseType {
    Bool,
    Int64,
    Float64,
    Numeric {
        precision: u8,
        scale: i8,
    },
    BigNumeric {
        precision: u8,
        scale: i8,
    },
    String,
    Bytes,
    Date,
    Time,
    /// Naive date and time (no zone).
    Datetime,
    /// An instant (UTC).
    Timestamp,
    Json,
    Repeated(Box<WarehouseType>),
}

/// The BigQuery way: `INT64`, `NUMERIC(12,2)`, `ARRAY<STRING>`; what the
/// console and `switchyard sources` show.
impl std::fmt::Display for WarehouseType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WarehouseType::Bool => f.write_str("BOOL"),
            WarehouseType::Int64 => f.write_str("INT64"),
            WarehouseType::Float64 => f.write_str("FLOAT64"),
            WarehouseType::Numeric { precision, scale } => {
                write!(f, "NUMERIC({precision},{scale})")
            }
            WarehouseType::BigNumeric { precision, scale } => {
                write!(f, "BIGNUMERIC({precision},{scale})")
            }
            WarehouseType::String => f.write_str("STRING"),
            WarehouseType::Bytes => f.write_str("BYTES"),
            WarehouseType::Date => f.write_str("DATE"),
            WarehouseType::Time => f.write_str("TIME"),
            WarehouseType::Datetime => f.write_str("DATETIME"),
            WarehouseType::Timestamp => f.write_str("TIMESTAMP"),
            WarehouseType::Json => f.write_str("JSON"),
            WarehouseType::Repeated(inner) => write!(f, "ARRAY<{inner}>"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnType {
    /// As the database names it: `numeric(12,2)`, `timestamptz`, `bigint unsigned`.
    pub db_type: String,
    #[serde(serialize_with = "display_arrow")]
    pub arrow: DataType,
    pub warehouse: WarehouseType,
    #[serde(flatten)]
    pub fidelity: Fidelity,
}

fn display_arrow<S: serde::Serializer>(t: &DataType, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_string())
}

/// The Arrow field a column is carried as. JSON columns (and arrays of JSON)
/// get Arrow's canonical JSON extension type, so Parquet writes the JSON
/// logical type and the text writers embed the value as JSON.
pub fn arrow_field(name: &str, ty: &ColumnType, nullable: bool) -> Field {
    let field = Field::new(name, ty.arrow.clone(), nullable);
    match (&ty.warehouse, &ty.arrow) {
        (WarehouseType::Json, _) => with_json(field),
        (WarehouseType::Repeated(inner), DataType::List(item))
            if **inner == WarehouseType::Json =>
        {
            let item = Arc::new(with_json(item.as_ref().clone()));
            field.with_data_type(DataType::List(item))
        }
        (WarehouseType::Repeated(inner), DataType::LargeList(item))
            if **inner == WarehouseType::Json =>
        {
            let item = Arc::new(with_json(item.as_ref().clone()));
            field.with_data_type(DataType::LargeList(item))
        }
        _ => field,
    }
}

fn with_json(mut field: Field) -> Field {
    // Only text can carry the extension; the dialect tables map JSON to Utf8,
    // and their tests would trip this.
    let attached = field.try_with_extension_type(Json::default());
    debug_assert!(
        attached.is_ok(),
        "JSON column `{}` is not text",
        field.name()
    );
    field
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(arrow: DataType, warehouse: WarehouseType) -> ColumnType {
        ColumnType {
            db_type: "x".into(),
            arrow,
            warehouse,
            fidelity: Fidelity::Exact,
        }
    }

    #[test]
    fn json_columns_carry_the_json_extension_type() {
        let f = arrow_field("doc", &ty(DataType::Utf8, WarehouseType::Json), true);
        assert_eq!(f.extension_type_name(), Some("arrow.json"));
        assert!(f.try_extension_type::<Json>().is_ok());
        assert!(f.is_nullable());

        let list = DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)));
        let repeated = WarehouseType::Repeated(Box::new(WarehouseType::Json));
        let f = arrow_field("docs", &ty(list.clone(), repeated), false);
        let DataType::List(item) = f.data_type() else {
            panic!("{f:?}")
        };
        assert_eq!(item.extension_type_name(), Some("arrow.json"));
        assert!(f.data_type().equals_datatype(&list));

        let f = arrow_field("s", &ty(DataType::Utf8, WarehouseType::String), false);
        assert_eq!(f, Field::new("s", DataType::Utf8, false));
        let f = arrow_field(
            "xs",
            &ty(
                list.clone(),
                WarehouseType::Repeated(Box::new(WarehouseType::String)),
            ),
            true,
        );
        assert_eq!(f, Field::new("xs", list, true));
    }
}
