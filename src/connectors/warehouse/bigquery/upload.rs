//! Load jobs whose data is uploaded with the request
//! (`/upload/bigquery/v2/projects/P/jobs`), which the crate lacks: multipart
//! for small files (one request), resumable for larger ones (a session, then
//! chunks that survive a dropped connection). Memory stays at one chunk.

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::api::{ApiError, Rest, read_json, request_error};
use super::job::enc;

/// How a file is uploaded: set by the warehouse's `upload_chunk_kib`.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    /// Files up to this size go in one multipart request.
    pub multipart_max: u64,
    /// Bytes per resumable chunk (BigQuery wants multiples of 256 KiB, but
    /// the last one).
    pub chunk: usize,
}

/// The largest file sent in one multipart request.
const MULTIPART_MAX: u64 = 5 * 1024 * 1024;

impl UploadLimits {
    /// Chunks of `chunk` bytes; a file goes in one multipart request up to
    /// 5 MiB, or up to one chunk when chunks are smaller than that.
    pub fn with_chunk(chunk: usize) -> UploadLimits {
        UploadLimits {
            multipart_max: MULTIPART_MAX.min(chunk as u64),
            chunk,
        }
    }
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits::with_chunk(crate::config::rules::UPLOAD_CHUNK_KIB_DEFAULT as usize * 1024)
    }
}

/// Tries per chunk before the upload fails.
const CHUNK_TRIES: u32 = 5;

pub async fn upload(
    rest: &Rest,
    project: &str,
    meta: &Value,
    file: &Path,
    limits: UploadLimits,
    progress: &(dyn Fn(i64, i64) + Send + Sync),
) -> Result<(Value, String), ApiError> {
    let size = tokio::fs::metadata(file)
        .await
        .map_err(|e| ApiError::other(format!("cannot read {}: {e}", file.display())))?
        .len();
    let url = rest.upload(&format!("/projects/{}/jobs", enc(project)));
    let chunk = limits.chunk.max(1);
    if size <= limits.multipart_max {
        let job = multipart(rest, &url, meta, file, size).await?;
        Ok((job, format!("multipart upload of {size} bytes")))
    } else {
        let job = resumable(rest, &url, meta, file, size, chunk, progress).await?;
        let chunks = size.div_ceil(chunk as u64);
        Ok((
            job,
            format!("resumable upload of {size} bytes in {chunks} chunks"),
        ))
    }
}

async fn multipart(
    rest: &Rest,
    url: &str,
    meta: &Value,
    file: &Path,
    size: u64,
) -> Result<Value, ApiError> {
    let data = tokio::fs::read(file)
        .await
        .map_err(|e| ApiError::other(format!("cannot read {}: {e}", file.display())))?;
    // A boundary that cannot occur in the JSON part; the file part is sized by
    // the closing delimiter, and a random-looking token makes a clash absurd.
    let boundary = format!("switchyard_{:016x}_{size}", seed(file, size));
    let mut body = Vec::with_capacity(data.len() + 1024);
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(meta.to_string().as_bytes());
    body.extend_from_slice(
        format!("\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(&data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = rest
        .http
        .post(url)
        .query(&[("uploadType", "multipart")])
        .header(
            reqwest::header::CONTENT_TYPE,
            format!("multipart/related; boundary={boundary}"),
        )
        .body(body);
    rest.send(req).await
}

fn seed(file: &Path, size: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut h = 0xcbf2_9ce4_8422_2325_u64 ^ nanos ^ size;
    for b in file.as_os_str().as_encoded_bytes() {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

async fn resumable(
    rest: &Rest,
    url: &str,
    meta: &Value,
    file: &Path,
    size: u64,
    chunk: usize,
    progress: &(dyn Fn(i64, i64) + Send + Sync),
) -> Result<Value, ApiError> {
    let token = rest.token().await?;
    let resp = rest
        .http
        .post(url)
        .query(&[("uploadType", "resumable")])
        .bearer_auth(&token)
        .header("X-Upload-Content-Type", "application/octet-stream")
        .header("X-Upload-Content-Length", size.to_string())
        .json(meta)
        .send()
        .await
        .map_err(|e| request_error(&e))?;
    if !resp.status().is_success() {
        return Err(read_json(resp).await.err().unwrap_or_else(|| {
            ApiError::other("starting the resumable upload failed without an error")
        }));
    }
    let session = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(String::from)
        .ok_or_else(|| ApiError::other("BigQuery started an upload but sent no session URI"))?;

    let mut f = tokio::fs::File::open(file)
        .await
        .map_err(|e| ApiError::other(format!("cannot read {}: {e}", file.display())))?;
    let mut offset: u64 = 0;
    let mut tries = 0;
    loop {
        let len = usize::try_from((size - offset).min(chunk as u64)).unwrap_or(chunk);
        // One chunk in memory, handed to the request (re-read on a resend).
        let mut data = vec![0u8; len];
        let read = async {
            f.seek(std::io::SeekFrom::Start(offset)).await?;
            f.read_exact(&mut data).await
        };
        read.await
            .map_err(|e| ApiError::other(format!("cannot read {}: {e}", file.display())))?;
        let last = offset + len as u64 - 1;
        let token = rest.token().await?;
        let sent = rest
            .http
            .put(&session)
            .bearer_auth(&token)
            .header(
                reqwest::header::CONTENT_RANGE,
                format!("bytes {offset}-{last}/{size}"),
            )
            .body(data)
            .send()
            .await;
        let resp = match sent {
            Ok(r) if r.status().is_server_error() => None,
            Ok(r) => Some(r),
            // A dropped connection: ask where the session is, then go on.
            Err(_) => None,
        };
        let Some(resp) = resp else {
            tries += 1;
            if tries >= CHUNK_TRIES {
                return Err(ApiError::other(format!(
                    "uploading {} failed {CHUNK_TRIES} times at byte {offset}",
                    file.display()
                )));
            }
            tokio::time::sleep(Duration::from_millis(500 * u64::from(tries))).await;
            offset = status(rest, &session, size).await?;
            continue;
        };
        if resp.status().as_u16() == 308 {
            tries = 0;
            offset = received(&resp);
            progress(0, i64::try_from(offset).unwrap_or(i64::MAX));
            continue;
        }
        if resp.status() == StatusCode::OK || resp.status() == StatusCode::CREATED {
            progress(0, i64::try_from(size).unwrap_or(i64::MAX));
        }
        return read_json(resp).await;
    }
}

/// Where a session stands: the next byte it wants.
async fn status(rest: &Rest, session: &str, size: u64) -> Result<u64, ApiError> {
    let token = rest.token().await?;
    let resp = rest
        .http
        .put(session)
        .bearer_auth(&token)
        .header(reqwest::header::CONTENT_RANGE, format!("bytes */{size}"))
        .send()
        .await
        .map_err(|e| request_error(&e))?;
    if resp.status().as_u16() == 308 {
        return Ok(received(&resp));
    }
    Err(read_json(resp).await.err().unwrap_or_else(|| {
        ApiError::other("the upload session finished while a chunk was being resent")
    }))
}

/// The `Range: bytes=0-N` of a 308: N + 1 bytes are in (none without it).
fn received(resp: &reqwest::Response) -> u64 {
    resp.headers()
        .get(reqwest::header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.rsplit('-').next())
        .and_then(|n| n.trim().parse::<u64>().ok())
        .map_or(0, |n| n + 1)
}
