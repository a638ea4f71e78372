//! The demo workspace end to end, through the real binary: the pipeline
//! reaches the expected states (the flaky task fails once with its realistic
//! error, its rerun succeeds, the checks pass), and the data really moved.

mod common;

use std::process::Command;

use common::BIN;
use serde_json::Value;

fn sy(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .arg("-c")
        .arg(dir.join("switchyard.toml"))
        .args(args)
        .env("SWITCHYARD_HOME", dir.join(".home"))
        .env_remove("SWITCHYARD_READONLY")
        .current_dir(dir)
        .output()
        .expect("run switchyard");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tasks(dir: &std::path::Path) -> Vec<(String, String, Option<String>)> {
    let (code, out, err) = sy(dir, &["status", "--json", "--run", "latest"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("status json");
    v["runs"][0]["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap_or_default().to_string(),
                t["state"].as_str().unwrap_or_default().to_string(),
                t["error"].as_str().map(String::from),
            )
        })
        .collect()
}

/// Every file under `dir` with its bytes.
fn contents(dir: &std::path::Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    assert!(!out.is_empty(), "no files under {}", dir.display());
    out
}

#[test]
fn demo_fails_once_then_the_rerun_goes_green() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let out = Command::new(BIN)
        .args(["demo", "--dir"])
        .arg(&dir)
        .env("SWITCHYARD_HOME", tmp.path().join(".home"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A second demo into the same place is refused, not overwritten: a
    // user's edit survives, and every file stays byte for byte.
    let file = dir.join("switchyard.toml");
    let edited = std::fs::read_to_string(&file).unwrap() + "\n# edited by the user\n";
    std::fs::write(&file, &edited).unwrap();
    let before = contents(&dir);
    let again = Command::new(BIN)
        .args(["demo", "--dir"])
        .arg(&dir)
        .env("SWITCHYARD_HOME", tmp.path().join(".home"))
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(
        contents(&dir) == before,
        "the refused demo changed files in {}",
        dir.display()
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), edited);

    let (code, _, err) = sy(&dir, &["run", "nightly"]);
    assert_eq!(code, 1, "the flaky task makes the first run fail: {err}");
    let ts = tasks(&dir);
    let state = |id: &str| {
        ts.iter()
            .find(|t| t.0 == id)
            .map(|t| t.1.clone())
            .unwrap_or_else(|| panic!("no task {id} in {ts:?}"))
    };
    for table in ["users", "orders", "order_items", "events"] {
        assert_eq!(state(&format!("extract.main.{table}")), "succeeded");
        assert_eq!(state(&format!("load_raw.main.{table}")), "succeeded");
    }
    for check in [
        "users_arrived",
        "orders_arrived",
        "daily_revenue",
        "revenue_positive",
    ] {
        assert_eq!(state(check), "succeeded", "{ts:?}");
    }
    assert_eq!(state("publish_report"), "failed");
    assert_eq!(state("settle"), "upstream_failed");
    let error = ts
        .iter()
        .find(|t| t.0 == "publish_report")
        .and_then(|t| t.2.clone());
    assert!(error.unwrap_or_default().contains("503"), "{ts:?}");

    // The files landed under the final names, nothing half-written.
    let files: Vec<String> = walk(&dir.join("lake"));
    assert_eq!(
        files.iter().filter(|f| f.ends_with(".parquet")).count(),
        4,
        "{files:?}"
    );
    assert!(!files.iter().any(|f| f.ends_with(".partial")), "{files:?}");

    let (code, _, err) = sy(&dir, &["rerun", "latest", "publish_report", "--downstream"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("publish_report") && err.contains("settle"),
        "{err}"
    );
    let ts = tasks(&dir);
    assert!(ts.iter().all(|t| t.1 == "succeeded"), "{ts:?}");
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}
