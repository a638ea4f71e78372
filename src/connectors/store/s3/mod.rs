//! S3 and everything that speaks its API (MinIO, Cloudflare R2, Google Cloud
//! Storage's interoperability endpoint) as an object store.
//!
//! Credentials come from aws-config's standard chain (environment, profiles
//! with SSO, credential processes, web identity, instance metadata), or from
//! the store's `access_key_id`/`secret_access_key` when those are given (they
//! must be `${VAR}`s: the loader refuses secrets written in the file).
//!
//! Writes stream as a multipart upload (see `upload.rs`): the object appears
//! only when the upload completes, and a failed or abandoned upload is
//! aborted so no parts remain.

mod upload;

use std::fmt::Debug;

use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use tokio::io::AsyncWriteExt;
use tokio::sync::OnceCell;

use super::tempfile_guard::TempGuard;
use super::{LocalCopy, ObjectInfo, ObjectStore, ObjectWriter};
use crate::config::StoreDef;
use crate::connectors::BoxFuture;
use crate::text::error_sources;

pub use upload::{MIN_PART_SIZE, PART_SIZE, PARTS_IN_FLIGHT};

/// Where a store's objects live and how to reach them (from `[stores.NAME]`).
#[derive(Clone)]
pub struct S3Settings {
    /// The store's name in the workspace, for messages.
    pub name: String,
    pub bucket: String,
    /// Key prefix of every object (`raw` and `/raw/` both mean `raw/`).
    pub prefix: String,
    /// None: from the chain (`AWS_REGION`, the profile).
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub path_style: bool,
    /// `(access_key_id, secret_access_key)` from the workspace; None: the standard chain.
    pub keys: Option<(String, String)>,
}

impl Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the keys.
        f.debug_struct("S3Settings")
            .field("name", &self.name)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("path_style", &self.path_style)
            .finish_non_exhaustive()
    }
}

impl S3Settings {
    /// From a validated store definition.
    pub fn from_def(name: &str, def: &StoreDef) -> Result<S3Settings> {
        let bucket = def
            .bucket
            .clone()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| anyhow!("store `{name}` (s3) needs `bucket`"))?;
        let keys = match (&def.access_key_id, &def.secret_access_key) {
            (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
            (None, None) => None,
            _ => bail!(
                "store `{name}`: give both `access_key_id` and `secret_access_key`, or neither"
            ),
        };
        Ok(S3Settings {
            name: name.to_string(),
            bucket,
            prefix: def.prefix.clone().unwrap_or_default(),
            region: def.region.clone().filter(|r| !r.is_empty()),
            endpoint: def.endpoint.clone().filter(|e| !e.is_empty()),
            path_style: def.path_style.unwrap_or(false),
            keys,
        })
    }
}

/// `a/b` and `/a/b/` both become `a/b/`; empty stays empty.
fn normalize_prefix(p: &str) -> String {
    let p = p.trim_matches('/');
    if p.is_empty() {
        String::new()
    } else {
        format!("{p}/")
    }
}

pub struct S3Store {
    settings: S3Settings,
    /// Built on first use: loading the credential chain's configuration is async.
    client: OnceCell<Client>,
    part_size: usize,
    parts_in_flight: usize,
    /// Keys per list request (None: the server's default, 1000 on AWS).
    page_size: Option<i32>,
}

impl S3Store {
    pub fn new(mut settings: S3Settings) -> S3Store {
        settings.prefix = normalize_prefix(&settings.prefix);
        S3Store {
            settings,
            client: OnceCell::new(),
            part_size: PART_SIZE,
            parts_in_flight: PARTS_IN_FLIGHT,
            page_size: None,
        }
    }

    /// Size of each multipart part (at least S3's 5 MiB minimum).
    pub fn with_part_size(mut self, bytes: usize) -> S3Store {
        self.part_size = bytes.max(MIN_PART_SIZE);
        self
    }

    /// Keys per list request; smaller pages exercise pagination.
    pub fn with_page_size(mut self, keys: i32) -> S3Store {
        self.page_size = Some(keys.max(1));
        self
    }

    pub fn settings(&self) -> &S3Settings {
        &self.settings
    }

    /// The SDK client, built on first use.
    pub async fn client(&self) -> Result<&Client> {
        self.client
            .get_or_try_init(|| build_client(&self.settings))
            .await
    }

    /// The object key of a store path: the store's prefix, then the path.
    fn key(&self, path: &str) -> Result<String> {
        check_path(path)?;
        Ok(format!("{}{path}", self.settings.prefix))
    }

    fn location(&self, path: &str) -> String {
        format!(
            "s3://{}/{}{path}",
            self.settings.bucket, self.settings.prefix
        )
    }

    async fn list_all(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        if prefix.starts_with('/') || prefix.contains('\0') {
            bail!("list prefix {prefix:?} must be relative to the store");
        }
        let client = self.client().await?;
        let full = format!("{}{prefix}", self.settings.prefix);
        let strip = |key: &str| key.strip_prefix(&self.settings.prefix).map(str::to_string);
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = client
                .list_objects_v2()
                .bucket(&self.settings.bucket)
                .prefix(&full)
                .delimiter("/")
                .set_max_keys(self.page_size)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| s3_error(&format!("listing {}", self.location(prefix)), e))?;
            for p in page.common_prefixes() {
                if let Some(path) = p.prefix().and_then(strip).filter(|p| !p.is_empty()) {
                    out.push(ObjectInfo {
                        path,
                        size: 0,
                        modified: None,
                        is_prefix: true,
                        partial: None,
                    });
                }
            }
            for o in page.contents() {
                // The "folder" placeholder some tools create lists as the prefix itself.
                let Some(path) = o.key().and_then(strip).filter(|p| !p.is_empty()) else {
                    continue;
                };
                out.push(ObjectInfo {
                    path,
                    size: o.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                    modified: o.last_modified().and_then(|t| t.to_millis().ok()),
                    is_prefix: false,
                    partial: None,
                });
            }
            match page.next_continuation_token() {
                Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => break,
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    async fn fetch_to_temp(&self, path: &str) -> Result<LocalCopy> {
        let key = self.key(path)?;
        let client = self.client().await?;
        let resp = client
            .get_object()
            .bucket(&self.settings.bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| s3_error(&format!("reading {}", self.location(path)), e))?;
        // Keep the extension: readers pick the format from it.
        let ext = std::path::Path::new(path)
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| format!(".{e}"))
            .unwrap_or_default();
        let temp = tempfile::Builder::new()
            .prefix("switchyard-s3-")
            .suffix(&ext)
            .tempfile()
            .context("cannot create a temporary file for the download")?;
        let (file, temp_path) = temp.into_parts();
        let guard = TempGuard(
            temp_path
                .keep()
                .context("cannot keep the temporary download file")?,
        );
        let mut file = tokio::fs::File::from_std(file);
        // Streamed chunk by chunk: a large object never sits in memory.
        let mut body = resp.body;
        while let Some(chunk) = body
            .try_next()
            .await
            .with_context(|| format!("downloading {}", self.location(path)))?
        {
            file.write_all(&chunk)
                .await
                .with_context(|| format!("writing {}", guard.0.display()))?;
        }
        file.flush().await?;
        Ok(LocalCopy {
            path: guard.0.clone(),
            _temp: Some(guard),
        })
    }
}

async fn build_client(s: &S3Settings) -> Result<Client> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &s.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some((id, secret)) = &s.keys {
        loader = loader.credentials_provider(Credentials::new(
            id,
            secret,
            None,
            None,
            "switchyard.toml",
        ));
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        bail!(
            "store `{}`: no region: set `region` in the store or AWS_REGION",
            s.name
        );
    }
    let mut conf = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(s.path_style)
        // Non-AWS endpoints (GCS, older MinIO, R2) reject or mangle the
        // default CRC trailers; checksums only where an operation requires one.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
    if let Some(endpoint) = &s.endpoint {
        conf = conf.endpoint_url(endpoint);
    }
    Ok(Client::from_conf(conf.build()))
}

/// Store paths are relative keys: no leading `/`, no NUL, not empty.
fn check_path(path: &str) -> Result<()> {
    if path.is_empty() {
        bail!("an object path cannot be empty");
    }
    if path.contains('\0') {
        bail!("object path {path:?} contains a NUL byte");
    }
    if path.starts_with('/') {
        bail!("object path `{path}` must be relative to the store, not absolute");
    }
    if path.split('/').any(|seg| seg == "..") {
        bail!("object path `{path}` must not contain `..` (paths stay inside the store)");
    }
    Ok(())
}

/// An S3 error whole: the service's code and message (and HTTP status), or
/// the full chain of a transport error. Never credentials: the SDK does not
/// put them in errors, and the caller's text is redacted on the way out.
pub(crate) fn s3_error<E>(what: &str, err: SdkError<E, HttpResponse>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    anyhow!("{what}: {}", describe(&err))
}

pub(crate) fn describe<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let status = se.raw().status().as_u16();
            match (e.code(), e.message()) {
                (Some(code), Some(msg)) => format!("{code}: {msg} (HTTP {status})"),
                (Some(code), None) => format!("{code} (HTTP {status})"),
                _ => format!(
                    "HTTP {status} without an S3 error code ({})",
                    error_sources(e)
                ),
            }
        }
        // The chain's messages alone: DisplayErrorContext appends the
        // error's Debug form, a struct dump on one line.
        other => error_sources(other),
    }
}

impl ObjectStore for S3Store {
    fn kind(&self) -> &'static str {
        "s3"
    }

    fn uri(&self, path: &str) -> String {
        self.location(path)
    }

    fn create(&self, path: &str) -> Result<Box<dyn ObjectWriter>> {
        let key = self.key(path)?;
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| anyhow!("an S3 writer needs the tokio runtime"))?;
        let client = upload::block_on(&handle, self.client())?.clone();
        Ok(Box::new(upload::S3Writer::new(
            handle,
            client,
            self.settings.bucket.clone(),
            key,
            self.location(path),
            self.part_size,
            self.parts_in_flight,
        )))
    }

    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<ObjectInfo>>> {
        Box::pin(self.list_all(prefix))
    }

    fn fetch<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<LocalCopy>> {
        Box::pin(self.fetch_to_temp(path))
    }

    fn delete<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let key = self.key(path)?;
            let client = self.client().await?;
            // Deleting what is not there succeeds, as on S3 itself.
            client
                .delete_object()
                .bucket(&self.settings.bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| s3_error(&format!("deleting {}", self.location(path)), e))?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_normalised() {
        assert_eq!(normalize_prefix(""), "");
        assert_eq!(normalize_prefix("/"), "");
        assert_eq!(normalize_prefix("raw"), "raw/");
        assert_eq!(normalize_prefix("/raw/2024/"), "raw/2024/");
    }

    #[test]
    fn paths_stay_inside_the_store() {
        assert!(check_path("users/2024.parquet").is_ok());
        assert!(check_path("").is_err());
        assert!(check_path("/etc/passwd").is_err());
        assert!(check_path("a/../../b").is_err());
        assert!(check_path("a\0b").is_err());
    }

    #[test]
    fn settings_never_show_keys() {
        let def = StoreDef {
            kind: "s3".into(),
            bucket: Some("b".into()),
            access_key_id: Some("AKIAEXAMPLEKEY".into()),
            secret_access_key: Some("very-secret-value".into()),
            ..StoreDef::default()
        };
        let s = S3Settings::from_def("lake", &def).unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("AKIAEXAMPLEKEY"), "{shown}");
        assert!(!shown.contains("very-secret-value"), "{shown}");
        let half = StoreDef {
            secret_access_key: None,
            ..def
        };
        let e = S3Settings::from_def("lake", &half).unwrap_err().to_string();
        assert!(e.contains("both"), "{e}");
    }
}
