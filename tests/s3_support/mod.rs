//! Helpers for live S3 tests against the moto server that `scripts/test`
//! starts (its address in SWITCHYARD_TEST_S3_ENDPOINT). Without it a test
//! fails under CI and its skip is recorded otherwise (`live::missing`). Each test works in a
//! bucket of its own.
#![allow(dead_code)]

// The same file as `common::live` (a binary may include both).
#[allow(clippy::duplicate_mod)]
#[path = "../common/live.rs"]
pub mod live;

use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

pub const ENDPOINT_VAR: &str = "SWITCHYARD_TEST_S3_ENDPOINT";

/// Dummy credentials for the local server, unless the environment has some.
pub fn access_key() -> String {
    std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_else(|_| "test-access-key".into())
}

pub fn secret_key() -> String {
    std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|_| "test-secret-key".into())
}

/// The server's address, or None after `live::missing` (which panics under CI).
pub fn endpoint(test: &str) -> Option<String> {
    match std::env::var(ENDPOINT_VAR) {
        Ok(e) if !e.is_empty() => Some(e),
        _ => {
            live::missing(
                test,
                "the S3 server (moto)",
                &format!("{ENDPOINT_VAR} is not set; scripts/test starts one"),
            );
            None
        }
    }
}

/// Sets the variables the standard credential chain reads on a command
/// (and keeps it away from the instance metadata service).
pub fn s3_env(cmd: &mut std::process::Command) -> &mut std::process::Command {
    cmd.env("AWS_ACCESS_KEY_ID", access_key())
        .env("AWS_SECRET_ACCESS_KEY", secret_key())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
}

/// A client of the test server, for checking what the code under test did.
pub fn client(endpoint: &str) -> Client {
    let conf = aws_sdk_s3::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            access_key(),
            secret_key(),
            None,
            None,
            "test",
        ))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    Client::from_conf(conf)
}

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A new, empty bucket named after the test.
pub async fn bucket(client: &Client, test: &str) -> String {
    let name = format!(
        "sy-{}-{}-{}",
        test.replace('_', "-"),
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
    .to_ascii_lowercase();
    let name: String = name.chars().take(63).collect();
    let name = name.trim_end_matches('-').to_string();
    client
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create bucket {name}: {e:?}"));
    name
}

/// Every key in the bucket, sorted.
pub async fn keys(client: &Client, bucket: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .set_continuation_token(token.take())
            .send()
            .await
            .expect("list objects");
        out.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(String::from)),
        );
        match page.next_continuation_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    out.sort();
    out
}

/// Multipart uploads still in progress in the bucket (`key`, upload id).
pub async fn open_uploads(client: &Client, bucket: &str) -> Vec<(String, String)> {
    let resp = client
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .expect("list multipart uploads");
    resp.uploads()
        .iter()
        .map(|u| {
            (
                u.key().unwrap_or_default().to_string(),
                u.upload_id().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// An object's bytes.
pub async fn get(client: &Client, bucket: &str, key: &str) -> Vec<u8> {
    let resp = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {key}: {e:?}"));
    resp.body
        .collect()
        .await
        .expect("read body")
        .into_bytes()
        .to_vec()
}

/// The ETag of an object (a multipart object's ends in `-PARTS`).
pub async fn etag(client: &Client, bucket: &str, key: &str) -> String {
    let resp = client
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("head {key}: {e:?}"));
    resp.e_tag()
        .unwrap_or_default()
        .trim_matches('"')
        .to_string()
}

/// How many parts the object was uploaded in (1 for a single PutObject).
pub async fn parts_of(client: &Client, bucket: &str, key: &str) -> usize {
    let tag = etag(client, bucket, key).await;
    tag.rsplit_once('-')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(1)
}

/// A `[stores.NAME]` table for the test server (path-style, as moto needs).
pub fn store_toml(name: &str, endpoint: &str, bucket: &str, prefix: &str) -> String {
    format!(
        "[stores.{name}]\nkind = \"s3\"\nbucket = \"{bucket}\"\nprefix = \"{prefix}\"\nregion = \"us-east-1\"\nendpoint = \"{endpoint}\"\npath_style = true\n"
    )
}
