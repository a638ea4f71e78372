//! Queries: what `sql` and `check` tasks run on a BigQuery warehouse, and
//! what the tests read loaded tables back with.
//!
//! Cells come back as JSON text; a TIMESTAMP cell is float seconds from
//! Google ("1.7040672E9") and integer microseconds from the emulator
//! ("1704067200000000"): both are read.

use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use chrono::DateTime;
use gcp_bigquery_client::model::dataset_reference::DatasetReference;
use gcp_bigquery_client::model::get_query_results_parameters::GetQueryResultsParameters;
use gcp_bigquery_client::model::job::Job;
use gcp_bigquery_client::model::job_configuration::JobConfiguration;
use gcp_bigquery_client::model::job_configuration_query::JobConfigurationQuery;
use gcp_bigquery_client::model::job_reference::JobReference;
use gcp_bigquery_client::model::table_row::TableRow;
use serde_json::Value;

use super::BigQueryWarehouse;
use super::api::ApiError;
use super::job::Backoff;
use crate::connectors::BoxFuture;
use crate::connectors::sql::{ScalarValue, SqlTarget};

/// A result column: name, BigQuery type, mode (NULLABLE, REQUIRED, REPEATED).
#[derive(Debug, Clone, PartialEq)]
pub struct ResultColumn {
    pub name: String,
    pub ty: String,
    pub mode: String,
}

#[derive(Debug, Clone, Default)]
pub struct QueryResult {
    pub columns: Vec<ResultColumn>,
    /// Each cell's JSON `v`: a string, null, or a list of `{"v": …}` (REPEATED).
    pub rows: Vec<Vec<Value>>,
    pub dml_rows: Option<u64>,
}

fn cells(rows: Option<Vec<TableRow>>) -> Vec<Vec<Value>> {
    rows.unwrap_or_default()
        .into_iter()
        .map(|r| {
            r.columns
                .unwrap_or_default()
                .into_iter()
                .map(|c| c.value.unwrap_or(Value::Null))
                .collect()
        })
        .collect()
}

fn errors_of(
    errors: Option<&Vec<gcp_bigquery_client::model::error_proto::ErrorProto>>,
) -> Result<()> {
    let list: Vec<Value> = errors
        .into_iter()
        .flatten()
        .map(|e| serde_json::json!({"reason": e.reason, "location": e.location, "message": e.message}))
        .collect();
    if list.is_empty() {
        Ok(())
    } else {
        bail!("{}", super::api::describe_errors(None, &list))
    }
}

impl BigQueryWarehouse {
    /// Runs standard SQL with the warehouse's dataset as the default one;
    /// every page of the result. A query job (jobs.insert) rather than
    /// jobs.query: the same on Google, and emulators honour its default dataset.
    pub async fn query(&self, sql: &str) -> Result<QueryResult> {
        self.query_as(sql, None).await
    }

    /// `query` under a job id of our own (None: BigQuery names the job), so
    /// a statement that must run once can be found again.
    pub(super) async fn query_as(&self, sql: &str, job_id: Option<String>) -> Result<QueryResult> {
        let project = &self.cfg.project;
        let job = Job {
            configuration: Some(JobConfiguration {
                query: Some(JobConfigurationQuery {
                    query: sql.to_string(),
                    use_legacy_sql: Some(false),
                    default_dataset: Some(DatasetReference {
                        dataset_id: self.cfg.dataset.clone(),
                        project_id: project.clone(),
                    }),
                    ..JobConfigurationQuery::default()
                }),
                ..JobConfiguration::default()
            }),
            job_reference: Some(JobReference {
                project_id: Some(project.clone()),
                location: self.cfg.location.clone(),
                job_id,
            }),
            ..Job::default()
        };
        let inserted = self
            .client
            .job()
            .insert(project, job)
            .await
            .map_err(ApiError::from)?;
        if let super::job::JobState::Failed(e) = super::job::state_of(&inserted) {
            bail!("{e}");
        }
        let reference = inserted.job_reference.unwrap_or_default();
        let id = reference
            .job_id
            .ok_or_else(|| anyhow!("BigQuery gave the query no job id to wait on"))?;
        let location = reference.location.or_else(|| self.cfg.location.clone());
        let mut out = QueryResult::default();
        let mut schema = None;
        let mut page: Option<String> = None;
        let mut backoff = Backoff::default();
        loop {
            let r = self
                .client
                .job()
                .get_query_results(
                    project,
                    &id,
                    GetQueryResultsParameters {
                        location: location.clone(),
                        page_token: page.clone(),
                        timeout_ms: Some(10_000),
                        ..GetQueryResultsParameters::default()
                    },
                )
                .await
                .map_err(ApiError::from)?;
            errors_of(r.errors.as_ref())?;
            if !r.job_complete.unwrap_or(true) {
                tokio::time::sleep(backoff.next_delay().min(Duration::from_secs(2))).await;
                continue;
            }
            if schema.is_none() {
                schema = r.schema;
            }
            if out.dml_rows.is_none() {
                out.dml_rows = r
                    .num_dml_affected_rows
                    .as_deref()
                    .and_then(|n| n.parse().ok());
            }
            out.rows.extend(cells(r.rows));
            page = r.page_token.filter(|p| !p.is_empty());
            if page.is_none() {
                break;
            }
        }
        out.columns = schema
            .and_then(|s| s.fields)
            .unwrap_or_default()
            .iter()
            .map(|f| ResultColumn {
                name: f.name.clone(),
                ty: serde_json::to_value(&f.r#type)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                mode: f.mode.clone().unwrap_or_else(|| "NULLABLE".into()),
            })
            .collect();
        Ok(out)
    }
}

/// A TIMESTAMP cell as RFC 3339 UTC with microseconds: integer microseconds
/// (emulator) or float seconds, possibly in E notation (Google).
pub fn timestamp_text(cell: &str) -> Option<String> {
    let micros: i64 = if let Ok(us) = cell.parse::<i64>() {
        us
    } else {
        let secs: f64 = cell.parse().ok()?;
        // Float seconds carry microseconds within f64 precision; round to them.
        (secs * 1e6).round() as i64
    };
    let t = DateTime::from_timestamp_micros(micros)?;
    Some(t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

/// A NUMERIC cell in plain notation without trailing fractional zeros
/// ("10.500000000" → "10.5", "0E-9" → "0", "1.5E+2" → "150"), so it equals
/// the same number from another database.
pub fn numeric_text(cell: &str) -> String {
    let (mantissa, exp) = match cell.split_once(['e', 'E']) {
        Some((m, e)) => match e.parse::<i32>() {
            Ok(e) => (m, e),
            Err(_) => return cell.to_string(),
        },
        None => (cell, 0),
    };
    let (sign, unsigned) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if !(int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())) {
        return cell.to_string();
    }
    // All digits, and where the point goes among them.
    let digits = format!("{int}{frac}");
    let point = i64::from(exp) + int.len() as i64;
    let (int, frac) = if point <= 0 {
        let zeros = "0".repeat(usize::try_from(-point).unwrap_or(0));
        ("0".to_string(), format!("{zeros}{digits}"))
    } else {
        let p = usize::try_from(point).unwrap_or(0);
        if p >= digits.len() {
            (
                format!("{digits}{}", "0".repeat(p - digits.len())),
                String::new(),
            )
        } else {
            (digits[..p].to_string(), digits[p..].to_string())
        }
    };
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let frac = frac.trim_end_matches('0');
    let sign = if int == "0" && frac.is_empty() {
        ""
    } else {
        sign
    };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// The first column of the first row as a scalar, typed by its column.
pub fn scalar(result: &QueryResult) -> Result<ScalarValue> {
    let Some(cell) = result.rows.first().and_then(|r| r.first()) else {
        return Ok(ScalarValue::Null);
    };
    let ty = result
        .columns
        .first()
        .map(|c| c.ty.as_str())
        .unwrap_or("STRING");
    let text = match cell {
        Value::Null => return Ok(ScalarValue::Null),
        Value::String(s) => s.clone(),
        // A REPEATED or RECORD cell: shown as its JSON.
        other => return Ok(ScalarValue::Text(other.to_string())),
    };
    let bad = || anyhow!("BigQuery sent {text:?} for a {ty} column");
    Ok(match ty {
        "INT64" | "INTEGER" => ScalarValue::Int(text.parse().map_err(|_| bad())?),
        "FLOAT64" | "FLOAT" => ScalarValue::Float(text.parse().map_err(|_| bad())?),
        "BOOL" | "BOOLEAN" => ScalarValue::Bool(text.eq_ignore_ascii_case("true")),
        "NUMERIC" | "BIGNUMERIC" => ScalarValue::Text(numeric_text(&text)),
        "TIMESTAMP" => ScalarValue::Text(timestamp_text(&text).ok_or_else(bad)?),
        _ => ScalarValue::Text(text),
    })
}

/// `sql` and `check` on a BigQuery warehouse.
pub struct BigQueryTarget(pub BigQueryWarehouse);

impl SqlTarget for BigQueryTarget {
    fn execute<'a>(&'a self, sql: &'a str) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            let r = self.0.query(sql).await?;
            Ok(r.dml_rows.unwrap_or(r.rows.len() as u64))
        })
    }

    fn query_scalar<'a>(&'a self, sql: &'a str) -> BoxFuture<'a, Result<ScalarValue>> {
        Box::pin(async move { scalar(&self.0.query(sql).await?) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_parse_from_both_encodings() {
        let want = Some("2024-06-01T10:00:00.500000Z".to_string());
        assert_eq!(timestamp_text("1717236000500000"), want);
        assert_eq!(timestamp_text("1.7172360005E9"), want);
        assert_eq!(timestamp_text("1717236000.5"), want);
        assert_eq!(
            timestamp_text("-1"),
            Some("1969-12-31T23:59:59.999999Z".into())
        );
        assert_eq!(timestamp_text("soon"), None);
    }

    fn one(ty: &str, v: Value) -> QueryResult {
        QueryResult {
            columns: vec![ResultColumn {
                name: "x".into(),
                ty: ty.into(),
                mode: "NULLABLE".into(),
            }],
            rows: vec![vec![v]],
            dml_rows: None,
        }
    }

    #[test]
    fn scalars_take_their_column_type() {
        assert_eq!(
            scalar(&one("INTEGER", json!("42"))).ok(),
            Some(ScalarValue::Int(42))
        );
        assert_eq!(
            scalar(&one("FLOAT", json!("2.5"))).ok(),
            Some(ScalarValue::Float(2.5))
        );
        assert_eq!(
            scalar(&one("BOOLEAN", json!("true"))).ok(),
            Some(ScalarValue::Bool(true))
        );
        assert_eq!(
            scalar(&one("STRING", Value::Null)).ok(),
            Some(ScalarValue::Null)
        );
        let n = scalar(&one("NUMERIC", json!("10.000000000"))).expect("numeric");
        assert!(n.same_as(&ScalarValue::Int(10)), "{n:?}");
        assert_eq!(
            scalar(&one("TIMESTAMP", json!("0"))).ok(),
            Some(ScalarValue::Text("1970-01-01T00:00:00.000000Z".into()))
        );
        assert!(scalar(&one("INTEGER", json!("x"))).is_err());
        for (cell, plain) in [
            ("0E-9", "0"),
            ("-0.000000000", "0"),
            ("1.5E+2", "150"),
            ("1.25E-3", "0.00125"),
            (
                "-12345678901234567890.123456789",
                "-12345678901234567890.123456789",
            ),
            ("007.50", "7.5"),
            ("abc", "abc"),
        ] {
            assert_eq!(numeric_text(cell), plain, "{cell}");
        }
        assert_eq!(
            scalar(&QueryResult::default()).ok(),
            Some(ScalarValue::Null)
        );
    }
}
