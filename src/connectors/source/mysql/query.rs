//! Typing a workspace query: column types from the prepared statement's
//! metadata, exact where a column comes straight from a table.

use std::collections::HashMap;

use anyhow::Result;
use arrow_schema::DataType;
use sqlx::mysql::MySqlConnection;
use sqlx::{Column, Executor, SqlSafeStr, Statement, TypeInfo};

use super::super::Column as SourceColumn;
use super::super::TableName;
use super::decode::{Plan, clean};
use super::{MysqlSource, text};
use crate::format::types::{ColumnType, Fidelity, WarehouseType, mysql};

impl MysqlSource {
    /// Column types of a workspace query, from the prepared statement's
    /// metadata: a column read straight from a table gets that column's
    /// exact type; an expression gets the type the server reports.
    pub(super) async fn query_plan(
        &self,
        conn: &mut MySqlConnection,
        sql: &str,
    ) -> Result<Vec<Plan>> {
        let described = (&mut *conn)
            .prepare(sqlx::AssertSqlSafe(sql.to_string()).into_sql_str())
            .await
            .map_err(clean)?;
        let mut tables: HashMap<String, Vec<SourceColumn>> = HashMap::new();
        let mut plan = Vec::new();
        let mut unknown_decimals = false;
        for col in described.columns() {
            let origin = col.origin();
            let from_table = match origin.table_column() {
                Some(tc) => {
                    let key = tc.table.to_string();
                    if !tables.contains_key(&key) {
                        let (schema, name) = key.split_once('.').unwrap_or(("", &key));
                        let t = TableName {
                            schema: schema.to_string(),
                            name: name.to_string(),
                        };
                        let cols = self.columns(&t).await.unwrap_or_default();
                        tables.insert(key.clone(), cols);
                    }
                    tables[&key]
                        .iter()
                        .find(|c| c.name == *tc.name)
                        .map(|c| c.ty.clone())
                }
                None => None,
            };
            let type_name = col.type_info().name();
            let ty = from_table.unwrap_or_else(|| expression_type(type_name));
            unknown_decimals |= ty.db_type == "DECIMAL";
            plan.push(Plan {
                name: col.name().to_string(),
                ty,
            });
        }
        if unknown_decimals {
            probe_decimals(conn, sql, &mut plan).await;
        }
        Ok(plan)
    }
}

/// An expression column's type from the protocol's type name. DECIMAL's
/// precision is not in the name: `probe_decimals` finds it.
fn expression_type(name: &str) -> ColumnType {
    let (column_type, data_type) = match name {
        "BOOLEAN" => ("tinyint(1)", "tinyint"),
        "BIGINT UNSIGNED" => ("bigint unsigned", "bigint"),
        "INT UNSIGNED" => ("int unsigned", "int"),
        "MEDIUMINT UNSIGNED" => ("mediumint unsigned", "mediumint"),
        "SMALLINT UNSIGNED" => ("smallint unsigned", "smallint"),
        "TINYINT UNSIGNED" => ("tinyint unsigned", "tinyint"),
        "BIT" => ("bit(64)", "bit"),
        "ENUM" | "SET" | "NULL" => ("text", "text"),
        "DECIMAL" => return decimal_as_text(),
        other => {
            let lower = other.to_ascii_lowercase();
            return mysql::map(&lower, &lower);
        }
    };
    mysql::map(column_type, data_type)
}

/// The fallback when a decimal expression's precision stays unknown.
pub(super) fn decimal_as_text() -> ColumnType {
    ColumnType {
        db_type: "DECIMAL".into(),
        arrow: DataType::Utf8,
        warehouse: WarehouseType::String,
        fidelity: Fidelity::Fallback {
            note: "a decimal expression of unknown precision is carried as its exact text".into(),
        },
    }
}

/// Finds decimal expressions' (p,s) by materialising the query's shape:
/// `CREATE TEMPORARY TABLE … AS SELECT * FROM (query) q LIMIT 0`, which reads
/// no rows. Without the privilege (or with duplicate column names) the
/// columns stay exact text, refused unless the task opts in.
async fn probe_decimals(conn: &mut MySqlConnection, sql: &str, plan: &mut [Plan]) {
    let probe = "`switchyard_probe`";
    let create = format!("CREATE TEMPORARY TABLE {probe} AS SELECT * FROM ({sql}) AS q LIMIT 0");
    if sqlx::raw_sql(sqlx::AssertSqlSafe(create))
        .execute(&mut *conn)
        .await
        .is_err()
    {
        return;
    }
    let shown = sqlx::query(sqlx::AssertSqlSafe(format!("SHOW COLUMNS FROM {probe}")))
        .fetch_all(&mut *conn)
        .await
        .unwrap_or_default();
    let types: HashMap<String, String> = shown
        .iter()
        .filter_map(|r| Some((text(r, 0).ok()?, text(r, 1).ok()?)))
        .collect();
    for col in plan.iter_mut().filter(|c| c.ty.db_type == "DECIMAL") {
        if let Some(t) = types.get(&col.name) {
            col.ty = mysql::map(t, "decimal");
        }
    }
    let drop = format!("DROP TEMPORARY TABLE IF EXISTS {probe}");
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
        .execute(&mut *conn)
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expression_types() {
        assert_eq!(expression_type("BIGINT").arrow, DataType::Int64);
        assert_eq!(
            expression_type("BIGINT UNSIGNED").arrow,
            DataType::Decimal128(20, 0)
        );
        assert_eq!(expression_type("VARCHAR").arrow, DataType::Utf8);
        assert_eq!(expression_type("DECIMAL").db_type, "DECIMAL");
        assert_eq!(
            expression_type("DATETIME").warehouse,
            WarehouseType::Datetime
        );
    }
}
