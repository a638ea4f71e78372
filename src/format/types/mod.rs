//! The single type-mapping table: a database column type → the Arrow type it
//! is carried as → the warehouse type it lands as, and how exactly.
//! Every row of this table is tested against the real servers.

pub mod postgres;

use arrow_schema::DataType;
use serde::Serialize;

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
