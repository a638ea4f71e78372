//! The S3 store against a real S3 server (moto, started by scripts/test):
//! small and multipart writes visible only on commit, aborted uploads that
//! leave no parts, paginated listing, streamed fetch, delete, and errors
//! shown whole.

mod s3_support;

use std::io::Write;
use std::sync::Arc;

use s3_support as s3;
use switchyard::connectors::store::s3::{MIN_PART_SIZE, S3Settings, S3Store};
use switchyard::connectors::store::{ObjectStore, ObjectWriter};

fn store(endpoint: &str, bucket: &str, prefix: &str) -> S3Store {
    S3Store::new(S3Settings {
        name: "lake".into(),
        bucket: bucket.into(),
        prefix: prefix.into(),
        region: Some("us-east-1".into()),
        endpoint: Some(endpoint.into()),
        path_style: true,
        keys: Some((s3::access_key(), s3::secret_key())),
    })
}

/// Pseudo-random bytes (incompressible, reproducible).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Writes `data` in uneven chunks on a blocking thread, as format writers do;
/// returns the uncommitted writer.
async fn write_blocking(
    store: Arc<S3Store>,
    path: &str,
    data: Vec<u8>,
) -> anyhow::Result<Box<dyn ObjectWriter>> {
    let path = path.to_string();
    tokio::task::spawn_blocking(move || {
        let mut w = store.create(&path)?;
        for chunk in data.chunks(777_777) {
            w.write_all(chunk)?;
        }
        Ok(w)
    })
    .await?
}

async fn commit(w: Box<dyn ObjectWriter>) -> anyhow::Result<u64> {
    tokio::task::spawn_blocking(move || w.commit()).await?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_object_appears_on_commit_lists_fetches_and_deletes() {
    let Some(ep) = s3::endpoint("s3_small_object") else {
        return;
    };
    let c = s3::client(&ep);
    let bucket = s3::bucket(&c, "small").await;
    let st = Arc::new(store(&ep, &bucket, "lake/"));

    let w = write_blocking(st.clone(), "users/2024-01-01.csv", b"id\n1\n2\n".to_vec())
        .await
        .unwrap();
    assert!(
        s3::keys(&c, &bucket).await.is_empty(),
        "nothing is visible before commit"
    );
    assert_eq!(commit(w).await.unwrap(), 7);
    assert_eq!(
        s3::keys(&c, &bucket).await,
        vec!["lake/users/2024-01-01.csv"]
    );
    assert_eq!(
        s3::parts_of(&c, &bucket, "lake/users/2024-01-01.csv").await,
        1
    );
    assert_eq!(
        st.uri("users/x.csv"),
        format!("s3://{bucket}/lake/users/x.csv")
    );

    // The store prefix is stripped; a folder lists as a prefix.
    let top = st.list("").await.unwrap();
    assert_eq!(top.len(), 1, "{top:?}");
    assert_eq!(top[0].path, "users/");
    assert!(top[0].is_prefix);
    let inner = st.list("users/").await.unwrap();
    assert_eq!(inner.len(), 1, "{inner:?}");
    assert_eq!(inner[0].path, "users/2024-01-01.csv");
    assert_eq!(inner[0].size, 7);
    assert!(!inner[0].is_prefix);
    assert!(inner[0].modified.is_some());

    let copy = st.fetch("users/2024-01-01.csv").await.unwrap();
    assert_eq!(std::fs::read(&copy.path).unwrap(), b"id\n1\n2\n");
    assert!(
        copy.path.to_string_lossy().ends_with(".csv"),
        "the download keeps the extension: {}",
        copy.path.display()
    );
    let temp = copy.path.clone();
    drop(copy);
    assert!(
        !temp.exists(),
        "the temporary download is removed when dropped"
    );

    st.delete("users/2024-01-01.csv").await.unwrap();
    assert!(s3::keys(&c, &bucket).await.is_empty());
    // Deleting what is not there succeeds, as on S3.
    st.delete("users/2024-01-01.csv").await.unwrap();
    // An empty object is an object too.
    let w = write_blocking(st.clone(), "empty.csv", Vec::new())
        .await
        .unwrap();
    assert_eq!(commit(w).await.unwrap(), 0);
    assert_eq!(s3::keys(&c, &bucket).await, vec!["lake/empty.csv"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_object_goes_up_in_parts_and_appears_only_when_complete() {
    let Some(ep) = s3::endpoint("s3_multipart") else {
        return;
    };
    let c = s3::client(&ep);
    let bucket = s3::bucket(&c, "multipart").await;
    let st = Arc::new(store(&ep, &bucket, "").with_part_size(MIN_PART_SIZE));
    // Three full parts and a short last one.
    let data = noise(3 * MIN_PART_SIZE + 123_457, 7);

    let w = write_blocking(st.clone(), "big.bin", data.clone())
        .await
        .unwrap();
    assert!(
        s3::keys(&c, &bucket).await.is_empty(),
        "not visible before completion"
    );
    let open = s3::open_uploads(&c, &bucket).await;
    assert_eq!(open.len(), 1, "one upload in progress: {open:?}");
    assert_eq!(open[0].0, "big.bin");

    assert_eq!(commit(w).await.unwrap(), data.len() as u64);
    assert_eq!(s3::keys(&c, &bucket).await, vec!["big.bin"]);
    assert_eq!(s3::parts_of(&c, &bucket, "big.bin").await, 4);
    assert!(s3::open_uploads(&c, &bucket).await.is_empty());

    // Fetched whole and equal, through a streamed download.
    let copy = st.fetch("big.bin").await.unwrap();
    assert!(std::fs::read(&copy.path).unwrap() == data, "bytes differ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_dropped_without_commit_aborts_its_upload() {
    let Some(ep) = s3::endpoint("s3_drop") else {
        return;
    };
    let c = s3::client(&ep);
    let bucket = s3::bucket(&c, "drop").await;
    let st = Arc::new(store(&ep, &bucket, "p/").with_part_size(MIN_PART_SIZE));

    let w = write_blocking(st.clone(), "half.bin", noise(2 * MIN_PART_SIZE + 10, 3))
        .await
        .unwrap();
    assert_eq!(
        s3::open_uploads(&c, &bucket).await.len(),
        1,
        "parts were sent"
    );
    // Dropped on a runtime worker thread, as an export's error path does.
    drop(w);
    assert!(s3::open_uploads(&c, &bucket).await.is_empty());
    assert!(s3::keys(&c, &bucket).await.is_empty());

    // And dropped on a blocking thread.
    let w = write_blocking(st.clone(), "half.bin", noise(MIN_PART_SIZE + 10, 4))
        .await
        .unwrap();
    tokio::task::spawn_blocking(move || drop(w)).await.unwrap();
    assert!(s3::open_uploads(&c, &bucket).await.is_empty());
    assert!(s3::keys(&c, &bucket).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_part_fails_the_writer_and_leaves_nothing() {
    let Some(ep) = s3::endpoint("s3_failed_part") else {
        return;
    };
    let c = s3::client(&ep);
    let bucket = s3::bucket(&c, "failed-part").await;
    let st = Arc::new(store(&ep, &bucket, "").with_part_size(MIN_PART_SIZE));

    let path = "doomed.bin";
    let w = write_blocking(st.clone(), path, noise(MIN_PART_SIZE + 1, 5))
        .await
        .unwrap();
    // Someone else aborts the upload under the writer: its parts fail with
    // the server's own error (moto answers HTTP 500 for a gone upload).
    let open = s3::open_uploads(&c, &bucket).await;
    assert_eq!(open.len(), 1, "{open:?}");
    c.abort_multipart_upload()
        .bucket(&bucket)
        .key(path)
        .upload_id(&open[0].1)
        .send()
        .await
        .unwrap();
    let res = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
        let mut w = w;
        for chunk in noise(2 * MIN_PART_SIZE, 6).chunks(1 << 20) {
            w.write_all(chunk)?;
        }
        w.commit()
    })
    .await
    .unwrap();
    let err = format!("{:#}", res.expect_err("the upload was aborted under it"));
    assert!(
        err.contains("HTTP 500"),
        "the server's answer is shown: {err}"
    );
    assert!(err.contains(path), "the object is named: {err}");
    assert!(!err.contains(&s3::secret_key()), "{err}");
    assert!(s3::keys(&c, &bucket).await.is_empty());
    assert!(s3::open_uploads(&c, &bucket).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_follows_continuation_tokens_past_one_page() {
    let Some(ep) = s3::endpoint("s3_list_pages") else {
        return;
    };
    let c = s3::client(&ep);
    let bucket = s3::bucket(&c, "pages").await;
    // 23 objects and 4 folders under the store prefix, and an object outside it.
    let mut want = Vec::new();
    for i in 0..23 {
        let key = format!("root/day/f{i:02}.csv");
        c.put_object()
            .bucket(&bucket)
            .key(&key)
            .body(vec![b'x'; i].into())
            .send()
            .await
            .unwrap();
        want.push((format!("day/f{i:02}.csv"), false, i as u64));
    }
    for d in ["a", "b", "c", "d"] {
        c.put_object()
            .bucket(&bucket)
            .key(format!("root/day/{d}/inner.csv"))
            .body(b"1".to_vec().into())
            .send()
            .await
            .unwrap();
        want.push((format!("day/{d}/"), true, 0));
    }
    c.put_object()
        .bucket(&bucket)
        .key("elsewhere/day/f00.csv")
        .body(b"1".to_vec().into())
        .send()
        .await
        .unwrap();
    want.sort();

    let st = store(&ep, &bucket, "root").with_page_size(5);
    let got: Vec<(String, bool, u64)> = st
        .list("day/")
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.path, o.is_prefix, o.size))
        .collect();
    assert_eq!(got, want);
    // A prefix that is the start of a name, as on the local store.
    let f1: Vec<String> = st
        .list("day/f1")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.path)
        .collect();
    assert_eq!(f1.len(), 10, "{f1:?}");
    assert!(f1.iter().all(|p| p.starts_with("day/f1")), "{f1:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_the_s3_code_and_message() {
    let Some(ep) = s3::endpoint("s3_errors") else {
        return;
    };
    let c = s3::client(&ep);
    let bucket = s3::bucket(&c, "errors").await;
    let st = store(&ep, &bucket, "x/");
    let err = format!("{:#}", st.fetch("missing.parquet").await.unwrap_err());
    assert!(err.contains("NoSuchKey"), "{err}");
    assert!(
        err.contains(&format!("s3://{bucket}/x/missing.parquet")),
        "{err}"
    );

    let gone = store(&ep, "no-such-bucket-switchyard", "");
    let err = format!("{:#}", gone.list("").await.unwrap_err());
    assert!(err.contains("NoSuchBucket"), "{err}");
    assert!(!err.contains(&s3::secret_key()), "{err}");

    let err = format!("{:#}", st.fetch("../escape").await.unwrap_err());
    assert!(err.contains("`..`"), "{err}");
}
