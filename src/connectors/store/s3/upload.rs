//! Streaming multipart upload behind a blocking `std::io::Write`.
//!
//! Format writers run on a blocking thread and call `write`; bytes collect
//! into a part buffer, and each full part is sent by a task on the runtime
//! while the writer goes on filling the next. At most `parts_in_flight`
//! parts are being sent at once: when that many are out, `write` waits for
//! the oldest, so memory stays at about `(parts_in_flight + 1) × part size`
//! whatever the object's size.
//!
//! Nothing is visible until `commit`: an object smaller than one part goes
//! up as a single PutObject there; a larger one becomes visible when
//! CompleteMultipartUpload succeeds. An upload that fails, or whose writer
//! is dropped without `commit`, is aborted so no parts stay behind (and
//! billed). A process killed outright cannot abort: a bucket lifecycle rule
//! (AbortIncompleteMultipartUpload) cleans those up; see the README.

use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, Write};

use anyhow::{Context, Result, anyhow};
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::task::JoinHandle;

use super::s3_error;
use crate::connectors::store::ObjectWriter;

/// S3's smallest part (except the last).
pub const MIN_PART_SIZE: usize = 5 * 1024 * 1024;
/// Default part size: few enough requests, small enough to keep memory low.
pub const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts being sent at once by one writer.
pub const PARTS_IN_FLIGHT: usize = 4;
/// S3 allows 10,000 parts per upload: the part size doubles every this many
/// parts, so an object of any realistic size fits (8 GB at the base size,
/// then 16 GB more at twice it, …).
const PARTS_PER_SIZE_STEP: i32 = 1000;

/// Runs `fut` to completion from blocking code. On a multi-threaded runtime
/// this works from a worker thread too (the worker hands its other tasks
/// off first), which a writer dropped in async code relies on.
pub(super) fn block_on<F: Future>(handle: &Handle, fut: F) -> F::Output {
    match handle.runtime_flavor() {
        RuntimeFlavor::MultiThread => tokio::task::block_in_place(|| handle.block_on(fut)),
        _ => handle.block_on(fut),
    }
}

pub(super) struct S3Writer {
    handle: Handle,
    client: Client,
    bucket: String,
    key: String,
    /// `s3://bucket/key`, for messages.
    location: String,
    base_part_size: usize,
    max_in_flight: usize,
    /// The part being filled.
    buf: Vec<u8>,
    /// Set once the first part is sent; None again after completion.
    upload_id: Option<String>,
    /// Number of the part being filled (S3 counts from 1).
    next_part: i32,
    in_flight: VecDeque<JoinHandle<Result<CompletedPart>>>,
    done: Vec<CompletedPart>,
    written: u64,
    /// The first error: the upload is lost, every later call repeats it.
    failed: Option<String>,
}

impl S3Writer {
    pub(super) fn new(
        handle: Handle,
        client: Client,
        bucket: String,
        key: String,
        location: String,
        base_part_size: usize,
        max_in_flight: usize,
    ) -> S3Writer {
        S3Writer {
            handle,
            client,
            bucket,
            key,
            location,
            base_part_size,
            max_in_flight: max_in_flight.max(1),
            buf: Vec::new(),
            upload_id: None,
            next_part: 1,
            in_flight: VecDeque::new(),
            done: Vec::new(),
            written: 0,
            failed: None,
        }
    }

    fn part_size(&self) -> usize {
        let step = ((self.next_part - 1) / PARTS_PER_SIZE_STEP).clamp(0, 10) as u32;
        self.base_part_size << step
    }

    /// Starts the multipart upload on the first full part.
    fn upload_id(&mut self) -> Result<String> {
        if let Some(id) = &self.upload_id {
            return Ok(id.clone());
        }
        let req = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .send();
        let resp = block_on(&self.handle, req)
            .map_err(|e| s3_error(&format!("starting the upload of {}", self.location), e))?;
        let id = resp
            .upload_id()
            .ok_or_else(|| anyhow!("the server started no upload for {}", self.location))?
            .to_string();
        self.upload_id = Some(id.clone());
        Ok(id)
    }

    /// Sends the buffered part; waits first while too many are in flight.
    fn send_part(&mut self) -> Result<()> {
        let upload_id = self.upload_id()?;
        // Parts already sent are collected as they finish, so a failure
        // shows at the next part rather than parts later.
        while self.in_flight.len() >= self.max_in_flight
            || self.in_flight.front().is_some_and(|t| t.is_finished())
        {
            self.reap_oldest()?;
        }
        let body = std::mem::take(&mut self.buf);
        let number = self.next_part;
        self.next_part += 1;
        let req = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(body))
            .send();
        let location = self.location.clone();
        self.in_flight.push_back(self.handle.spawn(async move {
            let resp = req
                .await
                .map_err(|e| s3_error(&format!("uploading part {number} of {location}"), e))?;
            Ok(CompletedPart::builder()
                .set_e_tag(resp.e_tag().map(str::to_string))
                .part_number(number)
                .build())
        }));
        Ok(())
    }

    fn reap_oldest(&mut self) -> Result<()> {
        let Some(task) = self.in_flight.pop_front() else {
            return Ok(());
        };
        let part = block_on(&self.handle, task)
            .map_err(|e| anyhow!("a part upload of {} crashed: {e}", self.location))??;
        self.done.push(part);
        Ok(())
    }

    /// Remembers the first error so later calls (and `commit`) repeat it.
    fn fail(&mut self, e: anyhow::Error) -> anyhow::Error {
        let text = crate::text::error_chain(&e);
        self.failed.get_or_insert(text);
        e
    }

    fn finish(&mut self) -> Result<()> {
        if self.upload_id.is_none() {
            // Smaller than one part: one request, visible only when it succeeds.
            let body = std::mem::take(&mut self.buf);
            let req = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(&self.key)
                .body(ByteStream::from(body))
                .send();
            block_on(&self.handle, req)
                .map_err(|e| s3_error(&format!("writing {}", self.location), e))?;
            return Ok(());
        }
        if !self.buf.is_empty() {
            self.send_part()?;
        }
        while !self.in_flight.is_empty() {
            self.reap_oldest()?;
        }
        let upload_id = self.upload_id()?;
        let mut parts = std::mem::take(&mut self.done);
        parts.sort_by_key(|p| p.part_number());
        let req = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send();
        block_on(&self.handle, req)
            .map_err(|e| s3_error(&format!("completing the upload of {}", self.location), e))?;
        // Complete: nothing left for `drop` to abort.
        self.upload_id = None;
        Ok(())
    }
}

impl Write for S3Writer {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if let Some(e) = &self.failed {
            return Err(io::Error::other(e.clone()));
        }
        if data.is_empty() {
            return Ok(0);
        }
        let part_size = self.part_size();
        if self.buf.capacity() == 0 {
            // One allocation per part, not a doubling series of them.
            self.buf.reserve_exact(part_size);
        }
        let n = (part_size - self.buf.len()).min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        self.written += n as u64;
        if self.buf.len() >= part_size
            && let Err(e) = self.send_part()
        {
            return Err(io::Error::other(crate::text::error_chain(&self.fail(e))));
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        // Parts go out when full; `commit` sends the rest.
        Ok(())
    }
}

impl ObjectWriter for S3Writer {
    fn commit(mut self: Box<Self>) -> Result<u64> {
        if let Some(e) = &self.failed {
            return Err(anyhow!("{e}")).context(format!("cannot publish {}", self.location));
        }
        // On an error `self` drops here and aborts the upload.
        self.finish()
            .map_err(|e| self.fail(e))
            .map(|()| self.written)
    }
}

impl Drop for S3Writer {
    fn drop(&mut self) {
        let Some(upload_id) = self.upload_id.take() else {
            return; // never started, or completed
        };
        let in_flight: Vec<_> = self.in_flight.drain(..).collect();
        for task in &in_flight {
            task.abort();
        }
        let abort = {
            let client = self.client.clone();
            let (bucket, key, location) =
                (self.bucket.clone(), self.key.clone(), self.location.clone());
            async move {
                // A part still being sent could land after the abort and
                // linger: wait until every part task has stopped first.
                for task in in_flight {
                    let _ = task.await;
                }
                let res = client
                    .abort_multipart_upload()
                    .bucket(&bucket)
                    .key(&key)
                    .upload_id(&upload_id)
                    .send()
                    .await;
                match res {
                    Ok(_) => tracing::info!("aborted the unfinished upload of {location}"),
                    Err(e) => tracing::warn!(
                        "could not abort the unfinished upload of {location}: {}",
                        super::describe(&e)
                    ),
                }
            }
        };
        match self.handle.runtime_flavor() {
            RuntimeFlavor::MultiThread => {
                // A runtime already shutting down panics on new I/O; a panic
                // in drop must not take the process with it.
                let handle = &self.handle;
                let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    block_on(handle, abort)
                }));
                if res.is_err() {
                    tracing::warn!("could not abort the unfinished upload of {}", self.location);
                }
            }
            // A single-threaded runtime cannot be blocked from inside: the
            // abort runs as a task of its own (tests use this flavour).
            _ => drop(self.handle.spawn(abort)),
        }
    }
}
