//! Alerts through the real binary to a real HTTP receiver on 127.0.0.1 (the
//! stand-in for Slack, PagerDuty and webhook endpoints): one message per
//! incident with what the engineer on call needs, signed webhooks, PagerDuty
//! trigger and resolve under one dedup key, retries until accepted, and no
//! secret in any payload.

mod common;

use common::Ws;
use common::receiver::Receiver;
use serde_json::Value;

const SECRET: &str = "whsec-canary-7f3a9";
const ROUTING_KEY: &str = "pd-routing-canary-41c2";

fn workspace(hook: &Receiver, pd: &Receiver) -> Ws {
    let ws = Ws::new(&format!(
        r#"
[workspace]
name = "acme"

[notify.hook]
kind = "webhook"
url = "{hook}/alerts"
secret = "${{HOOK_SECRET}}"

[notify.pd]
kind = "pagerduty"
url = "{pd}/v2/enqueue"
routing_key = "${{PD_KEY}}"

[pipelines.nightly]
notify = ["hook", "pd"]

[[pipelines.nightly.tasks]]
id = "extract"
kind = "command"
command = "echo extracting"

[[pipelines.nightly.tasks]]
id = "load_orders"
kind = "command"
after = ["extract"]
runbook = "runbooks/load.md"
command = "echo loading orders; echo 'token {SECRET}'; test -f fixed || {{ echo 'relation raw_orders is locked' >&2; exit 3; }}"

[[pipelines.nightly.tasks]]
id = "report"
kind = "command"
after = ["load_orders"]
command = "echo report"
"#,
        hook = hook.url,
        pd = pd.url,
    ));
    std::fs::create_dir_all(ws.path().join("runbooks")).unwrap();
    std::fs::write(
        ws.path().join("runbooks/load.md"),
        "# Loading orders\n\nCheck the lock, then rerun.\n",
    )
    .unwrap();
    ws
}

fn run(ws: &Ws, args: &[&str]) -> (i32, String, String) {
    let out = ws
        .cmd(args)
        .env("HOOK_SECRET", SECRET)
        .env("PD_KEY", ROUTING_KEY)
        .output()
        .expect("run switchyard");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn hmac_hex(key: &str, data: &[u8]) -> String {
    // The test checks the signature with its own HMAC, written from RFC 2104.
    use sha2_for_tests::hmac_sha256;
    hmac_sha256(key.as_bytes(), data)
}

mod sha2_for_tests {
    /// HMAC-SHA256 from its definition, over a SHA-256 written out in full,
    /// so the test does not share code with what it checks.
    pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> String {
        let mut k = [0u8; 64];
        if key.len() > 64 {
            k[..32].copy_from_slice(&sha256(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let mut inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        inner.extend_from_slice(msg);
        let ih = sha256(&inner);
        let mut outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        outer.extend_from_slice(&ih);
        sha256(&outer).iter().map(|b| format!("{b:02x}")).collect()
    }

    fn sha256(data: &[u8]) -> [u8; 32] {
        const K: [u32; 64] = [
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
            0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
            0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
            0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
            0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
            0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
            0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
            0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
            0xc67178f2,
        ];
        let mut h: [u32; 8] = [
            0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
            0x5be0cd19,
        ];
        let mut m = data.to_vec();
        let bits = (data.len() as u64) * 8;
        m.push(0x80);
        while m.len() % 64 != 56 {
            m.push(0);
        }
        m.extend_from_slice(&bits.to_be_bytes());
        for chunk in m.chunks(64) {
            let mut w = [0u32; 64];
            for i in 0..16 {
                w[i] = u32::from_be_bytes([
                    chunk[4 * i],
                    chunk[4 * i + 1],
                    chunk[4 * i + 2],
                    chunk[4 * i + 3],
                ]);
            }
            for i in 16..64 {
                let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
                let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16]
                    .wrapping_add(s0)
                    .wrapping_add(w[i - 7])
                    .wrapping_add(s1);
            }
            let mut v = h;
            for i in 0..64 {
                let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
                let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
                let t1 = v[7]
                    .wrapping_add(s1)
                    .wrapping_add(ch)
                    .wrapping_add(K[i])
                    .wrapping_add(w[i]);
                let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
                let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
                let t2 = s0.wrapping_add(maj);
                v = [
                    t1.wrapping_add(t2),
                    v[0],
                    v[1],
                    v[2],
                    v[3].wrapping_add(t1),
                    v[4],
                    v[5],
                    v[6],
                ];
            }
            for (a, b) in h.iter_mut().zip(v) {
                *a = a.wrapping_add(b);
            }
        }
        let mut out = [0u8; 32];
        for (i, x) in h.iter().enumerate() {
            out[4 * i..4 * i + 4].copy_from_slice(&x.to_be_bytes());
        }
        out
    }
}

#[test]
fn a_failure_pages_once_with_the_fix_at_hand_and_its_rerun_resolves_it() {
    let hook = Receiver::start();
    let pd = Receiver::start();
    let ws = workspace(&hook, &pd);

    let (code, _, err) = run(&ws, &["run", "nightly", "--date", "2026-12-07"]);
    assert_eq!(code, 1, "the run fails: {err}");

    // Exactly one message per channel for the one failed task.
    let hooks = hook.accepted();
    assert_eq!(hooks.len(), 1, "{hooks:#?}");
    let m = hooks[0].json();
    assert_eq!(m["version"], 1);
    assert_eq!(m["kind"], "failed");
    assert_eq!(m["workspace"], "acme");
    assert_eq!(m["pipeline"], "nightly");
    assert_eq!(m["run_id"], 1);
    assert_eq!(m["run_date"], "2026-12-07");
    assert_eq!(m["task"], "load_orders");
    assert_eq!(m["tasks"][0]["id"], "load_orders");
    assert_eq!(m["tasks"][0]["state"], "failed");
    assert_eq!(m["tasks"][0]["attempt"], 1);
    assert!(
        m["error"].as_str().unwrap_or_default().contains("exit"),
        "{m}"
    );
    let tail: Vec<&str> = m["log_tail"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        tail.iter().any(|l| l.contains("raw_orders is locked")),
        "{tail:?}"
    );
    assert_eq!(m["runbook"]["title"], "Loading orders");
    assert_eq!(m["runbook"]["path"], "runbooks/load.md");
    assert_eq!(m["rerun"], "switchyard rerun 1 load_orders --downstream");
    assert_eq!(m["console"], "switchyard --run 1 --task load_orders");

    // Signed: HMAC-SHA256 of "TIMESTAMP.BODY".
    let ts = hooks[0]
        .header("x-switchyard-timestamp")
        .expect("timestamp header");
    let sig = hooks[0]
        .header("x-switchyard-signature")
        .expect("signature header");
    let expected = hmac_hex(SECRET, format!("{ts}.{}", hooks[0].body).as_bytes());
    assert_eq!(sig, format!("sha256={expected}"));

    let pds = pd.accepted();
    assert_eq!(pds.len(), 1, "{pds:#?}");
    let trigger = pds[0].json();
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["routing_key"], ROUTING_KEY);
    let key = trigger["dedup_key"]
        .as_str()
        .expect("dedup key")
        .to_string();
    assert_eq!(key, m["dedup_key"].as_str().unwrap_or_default());

    // No secret in any payload: the log line with the webhook secret is masked.
    for r in hook.requests().iter().chain(pd.requests().iter()) {
        assert!(!r.body.contains(SECRET), "secret leaked: {}", r.body);
    }

    // The fix, then the rerun of the chain: green, and one `recovered`.
    std::fs::write(ws.path().join("fixed"), "").unwrap();
    let (code, _, err) = run(&ws, &["rerun", "1", "load_orders", "--downstream"]);
    assert_eq!(code, 0, "the rerun goes green: {err}");
    let hooks = hook.accepted();
    assert_eq!(hooks.len(), 2, "{hooks:#?}");
    assert_eq!(hooks[1].json()["kind"], "recovered");
    let pds = pd.accepted();
    assert_eq!(pds.len(), 2, "{pds:#?}");
    let resolve = pds[1].json();
    assert_eq!(resolve["event_action"], "resolve");
    assert_eq!(resolve["dedup_key"], key.as_str());

    // `alerts --json` tells the same story.
    let (code, out, err) = run(&ws, &["alerts", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("alerts json");
    let kinds: Vec<&str> = v["alerts"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, ["recovered", "failed"]);
    assert!(
        v["alerts"]
            .as_array()
            .is_some_and(|a| a.iter().all(|x| x["state"] == "delivered"))
    );
    assert!(!out.contains(ROUTING_KEY) && !out.contains(SECRET));
}

#[test]
fn a_receiver_that_fails_twice_still_gets_the_alert_and_the_attempts_show() {
    let hook = Receiver::with_statuses(&[500, 503]);
    let pd = Receiver::start();
    let ws = workspace(&hook, &pd);
    let (code, _, err) = run(&ws, &["run", "nightly"]);
    assert_eq!(code, 1, "{err}");
    let reqs = hook.requests();
    let answers: Vec<&str> = reqs
        .iter()
        .filter_map(|r| r.header("x-test-answer"))
        .collect();
    assert_eq!(answers, ["500", "503", "200"], "retried until accepted");
    // The same alert each time.
    let keys: Vec<Value> = reqs.iter().map(|r| r.json()["dedup_key"].clone()).collect();
    assert!(keys.windows(2).all(|w| w[0] == w[1]), "{keys:?}");
    let (_, out, _) = run(&ws, &["alerts", "--json"]);
    let v: Value = serde_json::from_str(&out).expect("alerts json");
    let d = v["alerts"][0]["deliveries"]
        .as_array()
        .and_then(|ds| ds.iter().find(|d| d["channel"] == "hook"))
        .cloned()
        .expect("a delivery to hook");
    assert_eq!(d["attempts"], 3, "{d}");
    assert_eq!(d["state"], "delivered");
    assert!(
        d["last_error"].as_str().unwrap_or_default().contains("503"),
        "{d}"
    );
}

#[test]
fn check_refuses_literal_channel_secrets_and_unknown_channels() {
    let ws = Ws::new(
        r#"
[notify.slack]
kind = "slack"
url = "https://hooks.slack.com/services/T0/B0/literal"

[notify.pd]
kind = "pagerduty"
routing_key = "literal-key"
on = ["failed", "exploded"]

[pipelines.p]
notify = ["slak"]
[[pipelines.p.tasks]]
id = "t"
kind = "command"
command = "true"
notify = ["pd", "nope"]
"#,
    );
    let (code, out, err) = ws.run(&["check"]);
    let err = format!("{out}{err}");
    assert_eq!(code, 2, "check refuses a bad workspace");
    let lines: Vec<&str> = err.lines().collect();
    let has = |at: &str, what: &str| {
        lines
            .iter()
            .any(|l| l.contains(&format!("switchyard.toml:{at}:")) && l.contains(what))
    };
    assert!(has("4", "`url` is a secret"), "{err}");
    assert!(has("8", "`routing_key` is a secret"), "{err}");
    assert!(has("9", "unknown alert kind `exploded`"), "{err}");
    assert!(has("12", "unknown notification channel `slak`"), "{err}");
    assert!(has("17", "unknown notification channel `nope`"), "{err}");
    assert!(
        !err.contains("literal-key"),
        "a literal secret is not echoed: {err}"
    );
}

/// Without `serve` (a run started by cron), the run's own process raises a
/// passed deadline and delivers it while its task still runs.
#[test]
fn without_serve_a_runs_own_process_pages_a_missed_deadline_while_it_works() {
    let hook = Receiver::start();
    let ws = Ws::new(&format!(
        r#"
[notify.hook]
kind = "webhook"
url = "{}/alerts"

[pipelines.slow]
notify = ["hook"]

[[pipelines.slow.tasks]]
id = "sleepy"
kind = "command"
deadline = "+2s"
command = "sleep 12; echo done"
"#,
        hook.url
    ));
    let mut child = common::Bg::new(ws.spawn(&["run", "slow"]));
    let paged = common::wait_for(std::time::Duration::from_secs(60), || {
        !hook.accepted().is_empty()
    });
    assert!(paged, "no deadline_missed while the task ran");
    assert_eq!(
        ws.task_state("latest", "sleepy"),
        "running",
        "the page came while the task still ran"
    );
    let (code, _, err) = child.wait(std::time::Duration::from_secs(60));
    assert_eq!(code, 0, "the run itself succeeds, late: {err}");
    let msgs: Vec<Value> = hook.accepted().iter().map(|r| r.json()).collect();
    // One page, not one per check; the late run going green resolves it.
    assert_eq!(msgs.len(), 2, "{msgs:#?}");
    assert_eq!(msgs[0]["kind"], "deadline_missed");
    assert_eq!(msgs[0]["task"], "sleepy");
    assert!(
        msgs[0]["late_ms"].as_i64().is_some_and(|ms| ms > 0),
        "{msgs:#?}"
    );
    assert_eq!(msgs[1]["kind"], "recovered");
    assert_eq!(msgs[1]["resolves"][0], msgs[0]["dedup_key"], "{msgs:#?}");
}

/// A workspace without channels: the alert is recorded and routed to none,
/// not left waiting for a deliverer that has nothing to send.
#[test]
fn without_channels_an_alert_is_kept_but_nothing_waits_to_be_sent() {
    let ws = Ws::new(
        "[pipelines.p]\n[[pipelines.p.tasks]]\nid = \"t\"\nkind = \"command\"\ncommand = \"exit 1\"\n",
    );
    let (code, _, err) = ws.run(&["run", "p"]);
    assert_eq!(code, 1, "{err}");
    let (code, out, err) = ws.run(&["alerts", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("alerts json");
    let a = &v["alerts"];
    assert_eq!(a.as_array().map(Vec::len), Some(1), "{v:#}");
    assert_eq!(a[0]["kind"], "failed");
    assert_eq!(a[0]["state"], "no channel", "{v:#}");
}
