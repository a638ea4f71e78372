//! Browsing: the dataset's tables, their columns and row counts, for the
//! console's Warehouse screen.

use std::sync::Arc;

use anyhow::{Result, anyhow};
use arrow_schema::{DataType, TimeUnit};
use gcp_bigquery_client::model::table_field_schema::TableFieldSchema;

use super::BigQueryWarehouse;
use super::api::ApiError;
use crate::connectors::source::Column;
use crate::connectors::warehouse::WarehouseTable;
use crate::format::types::{ColumnType, Fidelity, WarehouseType};

impl BigQueryWarehouse {
    pub(super) async fn tables(&self) -> Result<Vec<WarehouseTable>> {
        let mut names = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let mut q: Vec<(&str, &str)> = vec![("maxResults", "1000")];
            if let Some(p) = page.as_deref() {
                q.push(("pageToken", p));
            }
            let v = match self.rest.get(&self.table_url(None), &q).await {
                Ok(v) => v,
                // No dataset yet: nothing loaded yet.
                Err(e) if e.is_not_found() => return Ok(Vec::new()),
                Err(e) => return Err(e.into()),
            };
            for t in v["tables"].as_array().into_iter().flatten() {
                if let Some(id) = t["tableReference"]["tableId"].as_str() {
                    names.push(id.to_string());
                }
            }
            page = v["nextPageToken"]
                .as_str()
                .filter(|p| !p.is_empty())
                .map(String::from);
            if page.is_none() {
                break;
            }
        }
        names.sort();
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let t = self
                .client
                .table()
                .get(&self.cfg.project, &self.cfg.dataset, &name, None)
                .await
                .map_err(|e| anyhow!("table {name}: {}", ApiError::from(e)))?;
            let fields = t.schema.fields.unwrap_or_default();
            out.push(WarehouseTable {
                dataset: self.cfg.dataset.clone(),
                rows: t.num_rows.and_then(|n| n.parse().ok()),
                columns: fields.iter().map(column_of).collect(),
                name,
            });
        }
        Ok(out)
    }
}

/// A column of a BigQuery table, as the console's Warehouse screen lists it.
fn column_of(f: &TableFieldSchema) -> Column {
    let type_name = serde_json::to_value(&f.r#type)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let base = match type_name.as_str() {
        "BOOL" | "BOOLEAN" => WarehouseType::Bool,
        "INT64" | "INTEGER" => WarehouseType::Int64,
        "FLOAT64" | "FLOAT" => WarehouseType::Float64,
        "NUMERIC" => WarehouseType::Numeric {
            precision: 38,
            scale: 9,
        },
        "BIGNUMERIC" => WarehouseType::BigNumeric {
            precision: 76,
            scale: 38,
        },
        "BYTES" => WarehouseType::Bytes,
        "DATE" => WarehouseType::Date,
        "TIME" => WarehouseType::Time,
        "DATETIME" => WarehouseType::Datetime,
        "TIMESTAMP" => WarehouseType::Timestamp,
        "JSON" => WarehouseType::Json,
        _ => WarehouseType::String,
    };
    let mode = f.mode.as_deref().unwrap_or("NULLABLE");
    let repeated = mode == "REPEATED";
    let arrow = arrow_of(&base);
    let (warehouse, arrow, db_type) = if repeated {
        let item = arrow_schema::Field::new_list_field(arrow, true);
        (
            WarehouseType::Repeated(Box::new(base)),
            DataType::List(Arc::new(item)),
            format!("ARRAY<{type_name}>"),
        )
    } else {
        (base, arrow, type_name)
    };
    Column {
        name: f.name.clone(),
        nullable: mode == "NULLABLE",
        ty: ColumnType {
            db_type,
            arrow,
            warehouse,
            fidelity: Fidelity::Exact,
        },
    }
}

fn arrow_of(t: &WarehouseType) -> DataType {
    use WarehouseType as W;
    match t {
        W::Bool => DataType::Boolean,
        W::Int64 => DataType::Int64,
        W::Float64 => DataType::Float64,
        W::Numeric { precision, scale } => DataType::Decimal128(*precision, *scale),
        W::BigNumeric { precision, scale } => DataType::Decimal256(*precision, *scale),
        W::String | W::Json => DataType::Utf8,
        W::Bytes => DataType::Binary,
        W::Date => DataType::Date32,
        W::Time => DataType::Time64(TimeUnit::Microsecond),
        W::Datetime => DataType::Timestamp(TimeUnit::Microsecond, None),
        W::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        W::Repeated(inner) => DataType::List(Arc::new(arrow_schema::Field::new_list_field(
            arrow_of(inner),
            true,
        ))),
    }
}
