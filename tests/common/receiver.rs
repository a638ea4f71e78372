//! An HTTP server on 127.0.0.1 that records every request it receives and
//! answers with scripted statuses: it stands in for Slack, PagerDuty and
//! webhook receivers, which cannot be reached from the test machines, at the
//! HTTP boundary a real one would have.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct Receiver {
    pub url: String,
    requests: Arc<Mutex<Vec<Request>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    /// Answers 200 to everything.
    pub fn start() -> Receiver {
        Self::with_statuses(&[])
    }

    /// Answers the first requests with `statuses` in order, then 200.
    pub fn with_statuses(statuses: &[u16]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(
            statuses.iter().copied().collect::<VecDeque<_>>(),
        ));
        let (r, s) = (requests.clone(), script.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, s) = (r.clone(), s.clone());
                std::thread::spawn(move || serve(stream, &r, &s));
            }
        });
        Receiver {
            url,
            requests,
            script,
        }
    }

    /// Every request so far (all answers included, errors too).
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Requests so far that were answered with success.
    pub fn accepted(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.header("x-test-answer") == Some("200"))
            .collect()
    }

    /// From now on, answers these (then 200), whatever was left before.
    pub fn answer_from_now(&self, statuses: &[u16]) {
        if let Ok(mut s) = self.script.lock() {
            *s = statuses.iter().copied().collect();
        }
    }

    /// Whatever is left of the script is answered with these next.
    pub fn answer_next(&self, statuses: &[u16]) {
        if let Ok(mut s) = self.script.lock() {
            s.extend(statuses.iter().copied());
        }
    }
}

fn serve(stream: TcpStream, requests: &Mutex<Vec<Request>>, script: &Mutex<VecDeque<u16>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(mut write) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let status = script
        .lock()
        .ok()
        .and_then(|mut s| s.pop_front())
        .unwrap_or(200);
    // Recorded with the answer it got, so tests can tell retries from deliveries.
    headers.push(("x-test-answer".into(), status.to_string()));
    if let Ok(mut r) = requests.lock() {
        r.push(Request {
            method,
            path,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    }
    let reason = if status < 300 { "OK" } else { "Error" };
    let answer = if status < 300 { "ok" } else { "try again" };
    let _ = write!(
        write,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
    let _ = write.flush();
}
