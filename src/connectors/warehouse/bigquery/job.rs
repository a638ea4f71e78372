//! Load jobs: ids derived from the ledger key, submission, polling with
//! backoff, and what a finished job means.
//!
//! A job id is `sy_<readable part of the key>_<hash>_<n>`. BigQuery keeps job
//! ids unique per project, so submitting the same id twice answers 409: the
//! load already happened (or is happening), and its result is used. `n`
//! counts failed jobs of the same key: a load job is atomic, so a failed one
//! wrote nothing and a retry may run under the next number.

use std::time::Duration;

use gcp_bigquery_client::model::job::Job;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::api::{ApiError, Rest, describe_errors};

/// BigQuery allows 1024; a readable prefix plus the hash is plenty.
const READABLE_MAX: usize = 120;
/// Failed jobs of one key before giving up on numbering (a guard, not a policy).
pub const MAX_JOBS_PER_KEY: u32 = 1000;

pub fn job_id(ledger_key: &str, n: u32) -> String {
    let readable: String = ledger_key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(READABLE_MAX)
        .collect();
    let hash = Sha256::digest(ledger_key.as_bytes());
    let hex: String = hash.iter().take(10).map(|b| format!("{b:02x}")).collect();
    format!("sy_{readable}_{hex}_{n}")
}

/// What a job says about itself.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    Running {
        rows: i64,
        bytes: i64,
    },
    Succeeded {
        rows: i64,
        bytes: i64,
        /// When it finished (ms since the epoch), if BigQuery says.
        ended_ms: Option<i64>,
    },
    /// BigQuery's error, whole.
    Failed(String),
}

fn num_opt(v: Option<&String>) -> Option<i64> {
    v.and_then(|s| s.parse::<i64>().ok())
}

pub fn state_of(job: &Job) -> JobState {
    let load = job.statistics.as_ref().and_then(|s| s.load.as_ref());
    let num = |v: Option<&String>| num_opt(v).unwrap_or(0);
    // A merge's MERGE job is a query job: its rows are the rows it changed.
    let dml = job.statistics.as_ref().and_then(|s| s.query.as_ref());
    let rows = num(load
        .and_then(|l| l.output_rows.as_ref())
        .or(dml.and_then(|q| q.num_dml_affected_rows.as_ref())));
    let bytes = num(load.and_then(|l| l.input_file_bytes.as_ref().or(l.output_bytes.as_ref())));
    let status = job.status.as_ref();
    if status.and_then(|s| s.state.as_deref()) != Some("DONE") {
        return JobState::Running { rows, bytes };
    }
    match status.and_then(|s| s.error_result.as_ref()) {
        None => JobState::Succeeded {
            rows,
            bytes,
            ended_ms: num_opt(job.statistics.as_ref().and_then(|s| s.end_time.as_ref())),
        },
        Some(top) => {
            let as_json = |e: &gcp_bigquery_client::model::error_proto::ErrorProto| json!({"reason": e.reason, "location": e.location, "message": e.message});
            let mut errors: Vec<Value> = vec![as_json(top)];
            for e in status.and_then(|s| s.errors.as_ref()).into_iter().flatten() {
                let v = as_json(e);
                if !errors.contains(&v) {
                    errors.push(v);
                }
            }
            JobState::Failed(describe_errors(None, &errors))
        }
    }
}

/// Polling delays: quick at first (small loads finish in a second or two),
/// then backing off to a few seconds.
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next: Duration::from_millis(200),
        }
    }
}

impl Backoff {
    pub const MAX: Duration = Duration::from_secs(5);

    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        d
    }
}

/// Gets a job by id: None when there is none.
pub async fn get(
    client: &gcp_bigquery_client::Client,
    project: &str,
    id: &str,
    location: Option<&str>,
) -> Result<Option<Job>, ApiError> {
    match client.job().get_job(project, id, location).await {
        Ok(j) => Ok(Some(j)),
        Err(e) => {
            let e = ApiError::from(e);
            if e.is_not_found() { Ok(None) } else { Err(e) }
        }
    }
}

/// Polls until the job is done, reporting progress from its statistics.
pub async fn wait(
    client: &gcp_bigquery_client::Client,
    project: &str,
    id: &str,
    location: Option<&str>,
    mut job: Job,
    progress: &(dyn Fn(i64, i64) + Send + Sync),
) -> Result<JobState, ApiError> {
    let mut backoff = Backoff::default();
    loop {
        match state_of(&job) {
            JobState::Running { rows, bytes } => {
                if rows > 0 || bytes > 0 {
                    progress(rows, bytes);
                }
            }
            done => return Ok(done),
        }
        tokio::time::sleep(backoff.next_delay()).await;
        job = get(client, project, id, location)
            .await?
            .ok_or_else(|| ApiError::other(format!("job {id} vanished while running")))?;
    }
}

/// Inserts a load job whose sources are `gs://` URIs (no upload).
pub async fn insert(rest: &Rest, project: &str, body: &Value) -> Result<Value, ApiError> {
    let url = rest.v2(&format!("/projects/{}/jobs", enc(project)));
    rest.post(&url, body).await
}

/// Percent-encodes one URL path segment.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_stable_valid_and_distinct() {
        let a = job_id("run 12/load_users/users/2024-01-01.parquet", 0);
        assert_eq!(a, job_id("run 12/load_users/users/2024-01-01.parquet", 0));
        assert!(
            a.starts_with("sy_run_12_load_users_users_2024-01-01_parquet_"),
            "{a}"
        );
        assert!(a.ends_with("_0"));
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        );
        // Keys that read alike after sanitizing still differ by their hash.
        assert_ne!(job_id("run 1/a/b", 0), job_id("run 1/a_b", 0));
        assert_ne!(a, job_id("run 12/load_users/users/2024-01-01.parquet", 1));
        let long = job_id(&"é/".repeat(2000), 3);
        assert!(long.len() < 1024, "{}", long.len());
    }

    #[test]
    fn backoff_grows_to_a_cap() {
        let mut b = Backoff::default();
        let delays: Vec<u128> = (0..8).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(delays, vec![200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    }

    #[test]
    fn finished_jobs_show_every_error() {
        let job: Job = serde_json::from_value(json!({
            "status": {"state": "DONE",
                "errorResult": {"reason": "invalid", "message": "Error while reading data, error message: Parquet"},
                "errors": [
                    {"reason": "invalid", "message": "Error while reading data, error message: Parquet"},
                    {"reason": "invalid", "location": "gs://b/x.parquet", "message": "Array cannot have a null element"}
                ]}
        }))
        .expect("job");
        assert_eq!(
            state_of(&job),
            JobState::Failed(
                "invalid: Error while reading data, error message: Parquet; invalid: Array cannot have a null element (at gs://b/x.parquet)".into()
            )
        );
        let job: Job = serde_json::from_value(json!({
            "status": {"state": "DONE"}, "statistics": {"endTime": "1767600000123", "load": {"outputRows": "42", "inputFileBytes": "1000"}}
        }))
        .expect("job");
        assert_eq!(
            state_of(&job),
            JobState::Succeeded {
                rows: 42,
                bytes: 1000,
                ended_ms: Some(1_767_600_000_123),
            }
        );
        let job: Job =
            serde_json::from_value(json!({"status": {"state": "RUNNING"}})).expect("job");
        assert_eq!(state_of(&job), JobState::Running { rows: 0, bytes: 0 });
    }
}
