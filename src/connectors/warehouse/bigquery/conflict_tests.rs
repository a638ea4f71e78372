//! What the emulator cannot show: BigQuery answering 409 for a job id that
//! exists (a retry after a lost answer), and an earlier failed job of the
//! same key. A small HTTP server stands in for BigQuery here.

use std::sync::{Arc, Mutex};

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::auth::Credentials;
use super::*;
use crate::connectors::warehouse::LoadMode;

type Handler = Arc<dyn Fn(&str, &str, &Value) -> (u16, Value) + Send + Sync>;

/// Serves `handler(method, path, body)` on 127.0.0.1; returns its base URL.
async fn serve(handler: Handler) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                while buf.len() < head_end + len {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let mut first = head.lines().next().unwrap_or("").split_whitespace();
                let method = first.next().unwrap_or("").to_string();
                let path = first.next().unwrap_or("").to_string();
                let body: Value = serde_json::from_slice(&buf[head_end..]).unwrap_or(Value::Null);
                let (status, answer) = handler(&method, &path, &body);
                let text = answer.to_string();
                let resp = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                    text.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

fn parquet_file(dir: &Path) -> std::path::PathBuf {
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![1, 2]))])
        .expect("batch");
    let path = dir.join("x.parquet");
    let file = std::fs::File::create(&path).expect("create");
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema, None).expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
    path
}

async fn warehouse(endpoint: String) -> BigQueryWarehouse {
    BigQueryWarehouse::open(BigQueryConfig {
        project: "p".into(),
        dataset: "d".into(),
        location: None,
        credentials: Credentials::Fixed("t".into()),
        endpoint: Some(endpoint),
        limits: UploadLimits::default(),
    })
    .await
    .expect("open")
}

fn done(id: &str, rows: u64) -> Value {
    json!({"jobReference": {"projectId": "p", "jobId": id}, "status": {"state": "DONE"},
           "statistics": {"load": {"outputRows": rows.to_string()}}})
}

fn request(file: std::path::PathBuf) -> LoadRequest {
    LoadRequest {
        file,
        source_uri: Some("gs://b/x.parquet".into()),
        format: Format::Parquet,
        table: "t".into(),
        mode: LoadMode::Append,
        key: Vec::new(),
        ledger_key: "run 1@1/load/x.parquet".into(),
        legacy_key: None,
    }
}

#[tokio::test]
async fn a_conflicting_job_id_means_use_that_jobs_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = parquet_file(dir.path());
    // The job exists only once our insert "lost its answer": a 409 then.
    let inserted = Arc::new(Mutex::new(Vec::<Value>::new()));
    let seen = inserted.clone();
    let base = serve(Arc::new(move |method, path, body| {
        let exists = !seen.lock().expect("lock").is_empty();
        match (method, path) {
            ("GET", p) if p.contains("/jobs/") => {
                let id = p
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .split('?')
                    .next()
                    .unwrap_or("");
                if exists && id.ends_with("_0") {
                    (200, done(id, 7))
                } else {
                    (
                        404,
                        json!({"error": {"code": 404, "message": "Not found: Job", "errors": []}}),
                    )
                }
            }
            ("POST", "/bigquery/v2/projects/p/jobs") => {
                seen.lock().expect("lock").push(body.clone());
                (
                    409,
                    json!({"error": {"code": 409, "message": "Already Exists: Job p:x",
                    "errors": [{"reason": "duplicate", "message": "Already Exists: Job p:x"}]}}),
                )
            }
            _ => (200, json!({})),
        }
    }))
    .await;
    let wh = warehouse(base).await;
    let stats = wh
        .load(&request(file), Arc::new(|_, _| {}))
        .await
        .expect("the existing job's result");
    assert_eq!(stats.rows, 7);
    assert!(!stats.already_loaded);
    let how = stats.how.unwrap_or_default();
    assert!(how.contains("had been submitted already"), "{how}");
    let bodies = inserted.lock().expect("lock").clone();
    assert_eq!(bodies.len(), 1, "one insert, no second try");
    let load = &bodies[0]["configuration"]["load"];
    assert_eq!(load["sourceUris"], json!(["gs://b/x.parquet"]));
    assert_eq!(load["writeDisposition"], "WRITE_APPEND");
    assert_eq!(load["parquetOptions"]["enableListInference"], true);
}

#[tokio::test]
async fn an_earlier_failed_job_is_passed_over_and_a_succeeded_one_ends_the_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = parquet_file(dir.path());
    let inserted = Arc::new(Mutex::new(Vec::<Value>::new()));
    let seen = inserted.clone();
    let base = serve(Arc::new(move |method, path, body| match (method, path) {
        ("GET", p) if p.contains("/jobs/") => {
            let id = p
                .rsplit('/')
                .next()
                .unwrap_or("")
                .split('?')
                .next()
                .unwrap_or("");
            if id.ends_with("_0") {
                (
                    200,
                    json!({"jobReference": {"jobId": id}, "status": {"state": "DONE",
                    "errorResult": {"reason": "invalid", "message": "bad file"}}}),
                )
            } else {
                (
                    404,
                    json!({"error": {"code": 404, "message": "Not found", "errors": []}}),
                )
            }
        }
        ("POST", "/bigquery/v2/projects/p/jobs") => {
            seen.lock().expect("lock").push(body.clone());
            let id = body["jobReference"]["jobId"]
                .as_str()
                .unwrap_or("")
                .to_string();
            (200, done(&id, 2))
        }
        _ => (200, json!({})),
    }))
    .await;
    let wh = warehouse(base.clone()).await;
    let stats = wh
        .load(&request(file.clone()), Arc::new(|_, _| {}))
        .await
        .expect("load");
    assert_eq!(stats.rows, 2);
    let bodies = inserted.lock().expect("lock").clone();
    assert_eq!(bodies.len(), 1);
    let id = bodies[0]["jobReference"]["jobId"].as_str().unwrap_or("");
    assert!(id.ends_with("_1"), "the failed job _0 wrote nothing: {id}");

    // A succeeded job of the key: nothing is submitted.
    let submitted = Arc::new(Mutex::new(0));
    let count = submitted.clone();
    let base = serve(Arc::new(move |method, path, _| match (method, path) {
        ("GET", p) if p.contains("/jobs/") => (200, done("x_0", 9)),
        ("POST", _) => {
            *count.lock().expect("lock") += 1;
            (500, json!({}))
        }
        _ => (200, json!({})),
    }))
    .await;
    let wh = warehouse(base).await;
    let stats = wh
        .load(&request(file), Arc::new(|_, _| {}))
        .await
        .expect("load");
    assert!(stats.already_loaded);
    assert_eq!(stats.rows, 9);
    assert_eq!(*submitted.lock().expect("lock"), 0);
}

#[tokio::test]
async fn a_table_made_for_a_failed_load_is_dropped_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = parquet_file(dir.path());
    let calls = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = calls.clone();
    let base = serve(Arc::new(move |method, path, body| {
        seen.lock().expect("lock").push(format!("{method} {path}"));
        match (method, path) {
            ("GET", p) if p.contains("/jobs/") || p.contains("/tables/") => (
                404,
                json!({"error": {"code": 404, "message": "Not found", "errors": []}}),
            ),
            ("POST", "/bigquery/v2/projects/p/datasets/d/tables") => {
                assert_eq!(body["schema"]["fields"][0]["type"], "INT64");
                assert_eq!(body["schema"]["fields"][0]["mode"], "REQUIRED");
                (200, json!({}))
            }
            ("POST", "/bigquery/v2/projects/p/jobs") => (
                200,
                json!({"jobReference": {"jobId": body["jobReference"]["jobId"]},
                    "status": {"state": "DONE",
                        "errorResult": {"reason": "invalid", "message": "Error while reading data"},
                        "errors": [
                            {"reason": "invalid", "message": "Error while reading data"},
                            {"reason": "invalid", "location": "gs://b/x.parquet", "message": "Bad value in column id"}
                        ]}}),
            ),
            _ => (200, json!({})),
        }
    }))
    .await;
    let wh = warehouse(base).await;
    let e = wh
        .load(&request(file), Arc::new(|_, _| {}))
        .await
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(
        e.contains("invalid: Error while reading data; invalid: Bad value in column id (at gs://b/x.parquet)"),
        "{e}"
    );
    let calls = calls.lock().expect("lock").clone();
    assert!(
        calls
            .iter()
            .any(|c| c == "DELETE /bigquery/v2/projects/p/datasets/d/tables/t"),
        "{calls:#?}"
    );
}

/// A replace whose key (same run, task and bytes) loaded before: done, unless
/// the table changed or went away after that job ended.
#[tokio::test]
async fn a_replace_loads_again_when_the_table_changed_since_its_job() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = parquet_file(dir.path());
    // The table's lastModifiedTime (None: no table), and whether the load is skipped.
    let cases = [
        (Some("900"), true),
        (Some("1000"), true),
        (Some("2000"), false),
        (None, false),
    ];
    for (modified, skipped) in cases {
        let inserted = Arc::new(Mutex::new(Vec::<String>::new()));
        let seen = inserted.clone();
        let base = serve(Arc::new(move |method, path, body| {
            let id_of = |p: &str| {
                p.rsplit('/')
                    .next()
                    .unwrap_or("")
                    .split('?')
                    .next()
                    .unwrap_or("")
                    .to_string()
            };
            let missing = json!({"error": {"code": 404, "message": "Not found", "errors": []}});
            match (method, path) {
                ("GET", p) if p.contains("/jobs/") => {
                    let id = id_of(p);
                    if id.ends_with("_0") {
                        let mut job = done(&id, 3);
                        job["statistics"]["endTime"] = json!("1000");
                        (200, job)
                    } else {
                        (404, missing)
                    }
                }
                ("GET", p) if p.contains("/tables/") => match modified {
                    Some(m) => (200, json!({"lastModifiedTime": m})),
                    None => (404, missing),
                },
                ("POST", "/bigquery/v2/projects/p/jobs") => {
                    let id = body["jobReference"]["jobId"]
                        .as_str()
                        .unwrap_or("")
                        .to_string();
                    seen.lock().expect("lock").push(id.clone());
                    (200, done(&id, 3))
                }
                _ => (200, json!({})),
            }
        }))
        .await;
        let wh = warehouse(base).await;
        let req = LoadRequest {
            mode: LoadMode::Replace,
            key: Vec::new(),
            ..request(file.clone())
        };
        let stats = wh.load(&req, Arc::new(|_, _| {})).await.expect("load");
        let ids = inserted.lock().expect("lock").clone();
        assert_eq!(stats.already_loaded, skipped, "{modified:?}");
        if skipped {
            assert!(ids.is_empty(), "{modified:?}: {ids:?}");
        } else {
            assert_eq!(ids.len(), 1, "{modified:?}: {ids:?}");
            assert!(ids[0].ends_with("_1"), "the next number: {ids:?}");
        }
    }
}

#[tokio::test]
async fn an_append_an_older_version_loaded_is_not_submitted_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = parquet_file(dir.path());
    let legacy = "run 1@1/load/x.parquet";
    let old_id = job::job_id(&format!("{legacy}|p.d.t"), 0);
    let submitted = Arc::new(Mutex::new(0));
    let count = submitted.clone();
    let base = serve(Arc::new(move |method, path, _| match (method, path) {
        ("GET", p) if p.contains(&format!("/jobs/{old_id}")) => (200, done(&old_id, 4)),
        ("GET", p) if p.contains("/jobs/") => (
            404,
            json!({"error": {"code": 404, "message": "Not found", "errors": []}}),
        ),
        ("POST", _) => {
            *count.lock().expect("lock") += 1;
            (500, json!({}))
        }
        _ => (200, json!({})),
    }))
    .await;
    let wh = warehouse(base).await;
    let req = LoadRequest {
        ledger_key: format!("{legacy}#sha256:ab"),
        legacy_key: Some(legacy.into()),
        ..request(file)
    };
    let stats = wh.load(&req, Arc::new(|_, _| {})).await.expect("load");
    assert!(stats.already_loaded);
    assert_eq!(stats.rows, 4);
    assert_eq!(*submitted.lock().expect("lock"), 0);
}
