//! Generic webhooks: the `Message` as JSON, signed when the channel has a
//! `secret`: `X-Switchyard-Signature: sha256=HEX` is the HMAC-SHA256 of
//! `TIMESTAMP.BODY` under the secret, with `X-Switchyard-Timestamp` (Unix
//! seconds), so a receiver can refuse forgeries and replays.

use aws_lc_rs::hmac;

pub const SIGNATURE_HEADER: &str = "X-Switchyard-Signature";
pub const TIMESTAMP_HEADER: &str = "X-Switchyard-Timestamp";

/// `sha256=HEX` of `TIMESTAMP.BODY` under `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

pub(super) fn headers(body: &[u8], secret: Option<&str>, now: i64) -> Vec<(&'static str, String)> {
    let mut h = vec![(TIMESTAMP_HEADER, now.to_string())];
    if let Some(s) = secret {
        h.push((SIGNATURE_HEADER, signature(s, now, body)));
    }
    h
}
