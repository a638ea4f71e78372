//! A `[warehouses.NAME]` of kind `bigquery`, resolved, and where BigQuery
//! can read a store's objects itself (`gs://`).

use anyhow::{Result, anyhow};

use super::auth::Credentials;
use super::upload::UploadLimits;
use crate::config::{StoreDef, WarehouseDef, Workspace};

/// Where BigQuery lives when no `endpoint` is set.
pub(super) const GOOGLE_ROOT: &str = "https://bigquery.googleapis.com";
/// The token an emulator is sent (it checks none).
const EMULATOR_TOKEN: &str = "emulator";

/// A `[warehouses.NAME]` of kind `bigquery`, resolved.
#[derive(Debug, Clone)]
pub struct BigQueryConfig {
    pub project: String,
    pub dataset: String,
    pub location: Option<String>,
    pub credentials: Credentials,
    /// `http://127.0.0.1:9050` for an emulator; None for Google.
    pub endpoint: Option<String>,
    pub limits: UploadLimits,
}

impl BigQueryConfig {
    pub fn from_def(ws: &Workspace, name: &str, def: &WarehouseDef) -> Result<BigQueryConfig> {
        let need = |v: &Option<String>, key: &str| {
            v.clone()
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| anyhow!("warehouse `{name}` (bigquery) needs `{key}`"))
        };
        let endpoint = def
            .endpoint
            .as_deref()
            .map(|e| e.trim_end_matches('/').to_string());
        let credentials = match (def.credentials.as_deref(), &endpoint) {
            (Some(c), _) if c.trim_start().starts_with('{') => Credentials::KeyJson(c.to_string()),
            (Some(c), _) => Credentials::KeyFile(ws.resolve_path(c)),
            // An emulator checks no token; Google needs real credentials.
            (None, Some(_)) => Credentials::Fixed(EMULATOR_TOKEN.into()),
            (None, None) => Credentials::Default,
        };
        Ok(BigQueryConfig {
            project: need(&def.project, "project")?,
            dataset: need(&def.dataset, "dataset")?,
            location: def.location.clone().filter(|l| !l.is_empty()),
            credentials,
            endpoint,
            limits: limits(name, def.upload_chunk_kib)?,
        })
    }
}

/// The upload limits of `upload_chunk_kib` (validated by `check`; checked
/// again here for a definition that did not come through it).
fn limits(name: &str, chunk_kib: Option<u32>) -> Result<UploadLimits> {
    let kib = chunk_kib.unwrap_or(crate::config::rules::UPLOAD_CHUNK_KIB_DEFAULT);
    crate::config::rules::upload_chunk_kib(i64::from(kib))
        .map_err(|e| anyhow!("warehouse `{name}`: {e}"))?;
    Ok(UploadLimits::with_chunk(kib as usize * 1024))
}

/// The `gs://` URI of a store's object when BigQuery can read it directly:
/// the store declares `bigquery_uri`, or it is GCS through its S3
/// interoperability endpoint (then the bucket and prefix are the same).
pub fn gs_uri(store: &StoreDef, path: &str) -> Option<String> {
    let path = path.trim_start_matches('/');
    if let Some(base) = store.bigquery_uri.as_deref() {
        return Some(format!("{}/{path}", base.trim_end_matches('/')));
    }
    let endpoint = store.endpoint.as_deref()?;
    if store.kind == "s3" && endpoint.contains("storage.googleapis.com") {
        let bucket = store.bucket.as_deref()?;
        let prefix = store.prefix.as_deref().unwrap_or("").trim_matches('/');
        return Some(if prefix.is_empty() {
            format!("gs://{bucket}/{path}")
        } else {
            format!("gs://{bucket}/{prefix}/{path}")
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_chunk_kib_sets_the_chunk_and_caps_the_multipart_size() {
        let default = limits("bq", None).expect("default");
        assert_eq!(default.chunk, 16 * 1024 * 1024);
        assert_eq!(default.multipart_max, 5 * 1024 * 1024);
        let small = limits("bq", Some(256)).expect("256 KiB");
        assert_eq!(small.chunk, 256 * 1024);
        assert_eq!(
            small.multipart_max,
            256 * 1024,
            "beyond one chunk: resumable"
        );
        let err = limits("bq", Some(300)).expect_err("not a multiple of 256");
        assert!(err.to_string().contains("warehouse `bq`"), "{err}");
    }

    #[test]
    fn gs_uris_come_from_bigquery_uri_or_the_gcs_endpoint() {
        let local = StoreDef {
            kind: "local".into(),
            path: Some("/data/lake".into()),
            bigquery_uri: Some("gs://lake-bucket/exports/".into()),
            ..StoreDef::default()
        };
        assert_eq!(
            gs_uri(&local, "users/2024.parquet").as_deref(),
            Some("gs://lake-bucket/exports/users/2024.parquet")
        );
        let gcs = StoreDef {
            kind: "s3".into(),
            bucket: Some("b".into()),
            prefix: Some("/raw/".into()),
            endpoint: Some("https://storage.googleapis.com".into()),
            ..StoreDef::default()
        };
        assert_eq!(
            gs_uri(&gcs, "x.parquet").as_deref(),
            Some("gs://b/raw/x.parquet")
        );
        let s3 = StoreDef {
            kind: "s3".into(),
            bucket: Some("b".into()),
            ..StoreDef::default()
        };
        assert_eq!(gs_uri(&s3, "x.parquet"), None);
    }
}
