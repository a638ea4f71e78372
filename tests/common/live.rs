//! The one rule for a test that needs a live service (PostgreSQL, MariaDB,
//! the S3 server, the BigQuery emulator, tmux, root for a tmpfs) that it
//! cannot reach:
//!
//! - under CI (`CI` set to anything but empty, `false` or `0`) the test
//!   fails: a service missing there is a broken machine, not a pass;
//! - elsewhere the skip is recorded: one line `TEST<TAB>SERVICE<TAB>WHY`
//!   appended to the file named by `SWITCHYARD_TEST_SKIPS` (which
//!   `scripts/test` sets and sums up at its end), and said on stderr too.
//!
//! Every live test goes through [`missing`]; no test reads `CI` itself. The
//! file has no dependencies, so each support module includes it with
//! `#[path]` (a test binary may hold several copies; they agree).
#![allow(dead_code)]

use std::io::Write;

/// Names the file skips are appended to.
pub const SKIPS_VAR: &str = "SWITCHYARD_TEST_SKIPS";

/// Whether this is a CI run, where nothing may be skipped.
pub fn under_ci() -> bool {
    ci_value(std::env::var("CI").ok().as_deref())
}

/// `CI=true`, `CI=1`, `CI=yes`… are CI; unset, empty, `false` and `0` are not.
pub fn ci_value(v: Option<&str>) -> bool {
    match v.map(str::trim) {
        None | Some("") => false,
        Some(v) => !v.eq_ignore_ascii_case("false") && v != "0",
    }
}

/// The running test as `BINARY::test_name`: the test harness names each
/// test's thread after the test, and this file's module path starts with
/// the name of the test binary that includes it.
pub fn current_test(label: &str) -> String {
    let binary = module_path!().split("::").next().unwrap_or("?");
    let name = match std::thread::current().name() {
        Some(n) if n != "main" => n.to_string(),
        _ => label.to_string(),
    };
    format!("{binary}::{name}")
}

/// `label`'s test cannot reach `service` (`why` says how it failed): panics
/// under CI, else records the skip. The caller then returns without
/// testing anything. `label` names the test only where the harness does not
/// (a test running on the main thread).
pub fn missing(label: &str, service: &str, why: &str) {
    let test = current_test(label);
    let why = why.split_whitespace().collect::<Vec<_>>().join(" ");
    if under_ci() {
        panic!("{test}: {service} is missing under CI, where every live test must run: {why}");
    }
    eprintln!("\n*** SKIP {test}: {service} is missing ({why}); NOT tested ***\n");
    let Some(path) = std::env::var_os(SKIPS_VAR).filter(|p| !p.is_empty()) else {
        return;
    };
    // One write of one line: concurrent tests append whole lines.
    let line = format!("{test}\t{service}\t{why}\n");
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        eprintln!(
            "(could not record the skip in {}: {e})",
            path.to_string_lossy()
        );
    }
}
