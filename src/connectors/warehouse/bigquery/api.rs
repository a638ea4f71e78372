//! The few REST calls the crate's types cannot make (a table schema with
//! precision and scale, a load job with `parquetOptions`, uploads), and one
//! way to show BigQuery's errors whole: the message and every `errors[]` entry.

use std::fmt;

use gcp_bigquery_client::error::BQError;
use serde_json::Value;

use super::auth::Auth;

/// An error answered by BigQuery (or failing to reach it).
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status; 0 when no answer came.
    pub status: u16,
    pub text: String,
}

impl ApiError {
    pub fn is_not_found(&self) -> bool {
        self.status == 404
    }
    pub fn is_conflict(&self) -> bool {
        self.status == 409
    }
    pub fn other(text: impl Into<String>) -> ApiError {
        ApiError {
            status: 0,
            text: text.into(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.status == 0 {
            f.write_str(&self.text)
        } else {
            write!(f, "BigQuery answered {}: {}", self.status, self.text)
        }
    }
}

impl std::error::Error for ApiError {}

/// `message` then every entry of `errors[]` (reason, location, message) of an
/// ErrorProto list: BigQuery puts the useful detail in the entries.
pub fn describe_errors(message: Option<&str>, errors: &[Value]) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(m) = message.filter(|m| !m.is_empty()) {
        parts.push(m.to_string());
    }
    for e in errors {
        let field = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or_default();
        let (reason, location, msg) = (field("reason"), field("location"), field("message"));
        if !parts.is_empty() && msg == parts[0] && location.is_empty() {
            // The first entry usually repeats the message; keep its reason only.
            if !reason.is_empty() {
                parts[0] = format!("{} ({reason})", parts[0]);
            }
            continue;
        }
        let mut s = String::new();
        if !reason.is_empty() {
            s.push_str(reason);
            s.push_str(": ");
        }
        s.push_str(msg);
        if !location.is_empty() {
            s.push_str(&format!(" (at {location})"));
        }
        parts.push(s);
    }
    if parts.is_empty() {
        "no details given".into()
    } else {
        parts.join("; ")
    }
}

/// The `{"error": {...}}` body of a failed call, described whole.
fn error_body(status: u16, body: &str) -> ApiError {
    let text = match serde_json::from_str::<Value>(body) {
        Ok(v) if v.get("error").is_some() => {
            let e = &v["error"];
            let errors = e["errors"].as_array().cloned().unwrap_or_default();
            describe_errors(e["message"].as_str(), &errors)
        }
        _ if body.trim().is_empty() => "no details given".into(),
        // Not JSON (a proxy's page): the start of it is the best clue.
        _ => body.chars().take(500).collect(),
    };
    ApiError { status, text }
}

impl From<BQError> for ApiError {
    fn from(e: BQError) -> ApiError {
        match e {
            BQError::ResponseError { error } => {
                let errors: Vec<Value> = error
                    .error
                    .errors
                    .iter()
                    .map(|m| serde_json::to_value(m).unwrap_or(Value::Null))
                    .collect();
                ApiError {
                    status: u16::try_from(error.error.code).unwrap_or(0),
                    text: describe_errors(Some(&error.error.message), &errors),
                }
            }
            BQError::RequestError(e) => request_error(&e),
            other => ApiError::other(other.to_string()),
        }
    }
}

/// reqwest's message, and its causes (the useful part: "connection refused").
pub fn request_error(e: &reqwest::Error) -> ApiError {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    ApiError {
        status: e.status().map(|s| s.as_u16()).unwrap_or(0),
        text,
    }
}

/// A JSON REST client for the endpoints below `root` (`https://bigquery.googleapis.com`).
#[derive(Clone)]
pub struct Rest {
    pub http: reqwest::Client,
    pub root: String,
    pub auth: Auth,
}

impl Rest {
    pub fn v2(&self, path: &str) -> String {
        format!("{}/bigquery/v2{path}", self.root)
    }

    pub fn upload(&self, path: &str) -> String {
        format!("{}/upload/bigquery/v2{path}", self.root)
    }

    pub async fn token(&self) -> Result<String, ApiError> {
        self.auth
            .token()
            .await
            .map_err(|e| ApiError::other(crate::text::error_chain(&e)))
    }

    /// Sends a request with the bearer token; the JSON answer, or the error whole.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Result<Value, ApiError> {
        let token = self.token().await?;
        let resp = req
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| request_error(&e))?;
        read_json(resp).await
    }

    pub async fn get(&self, url: &str, query: &[(&str, &str)]) -> Result<Value, ApiError> {
        self.send(self.http.get(url).query(query)).await
    }

    pub async fn post(&self, url: &str, body: &Value) -> Result<Value, ApiError> {
        self.send(self.http.post(url).json(body)).await
    }
}

pub async fn read_json(resp: reqwest::Response) -> Result<Value, ApiError> {
    let status = resp.status().as_u16();
    let body = resp.text().await.map_err(|e| request_error(&e))?;
    if !(200..300).contains(&status) {
        return Err(error_body(status, &body));
    }
    if body.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&body)
        .map_err(|e| ApiError::other(format!("BigQuery sent an answer that is not JSON ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_error_entry_is_shown() {
        let body = json!({"error": {"code": 400, "message": "Error while reading data",
        "errors": [
            {"reason": "invalid", "message": "Error while reading data"},
            {"reason": "invalid", "location": "file-00000000", "message": "Array cannot have a null element; error in writing field a4"},
            {"reason": "invalid", "message": "Provided Schema does not match Table p:d.t"}
        ]}});
        let e = error_body(400, &body.to_string());
        assert_eq!(e.status, 400);
        assert_eq!(
            e.text,
            "Error while reading data (invalid); invalid: Array cannot have a null element; error in writing field a4 (at file-00000000); invalid: Provided Schema does not match Table p:d.t"
        );
        assert!(e.to_string().starts_with("BigQuery answered 400: "));
        assert_eq!(error_body(502, "").text, "no details given");
        assert_eq!(
            error_body(502, "<html>bad gateway</html>").text,
            "<html>bad gateway</html>"
        );
    }
}
