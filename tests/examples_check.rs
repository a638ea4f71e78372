//! The example workspaces under assets/examples/ are real configuration:
//! `switchyard check` accepts each of them (with the environment variables
//! it names set), and the production one names every missing variable with
//! its position instead of running with an empty password.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_switchyard");

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/examples")
        .join(name)
        .join("switchyard.toml")
}

/// `switchyard -c FILE check`, with HOME-like state kept out of the repository.
fn check(file: &Path, env: &[(&str, &str)]) -> (i32, String) {
    let home = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(BIN);
    cmd.arg("-c")
        .arg(file)
        .arg("check")
        .env("SWITCHYARD_HOME", home.path())
        .env_remove("APP_REPLICA_URL")
        .env_remove("BILLING_DB_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run switchyard");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn every_example_directory_is_checked_here() {
    let mut names: Vec<String> = std::fs::read_dir(
        example("x")
            .parent()
            .and_then(Path::parent)
            .expect("examples dir"),
    )
    .expect("read assets/examples")
    .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
    .collect();
    names.sort();
    assert_eq!(
        names,
        ["k8s", "production", "quickstart"],
        "add a test for a new example"
    );
}

#[test]
fn quickstart_checks_clean() {
    let (code, out) = check(&example("quickstart"), &[]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn production_checks_clean_with_its_variables_set() {
    let (code, out) = check(
        &example("production"),
        &[
            (
                "APP_REPLICA_URL",
                "postgres://loader:s3cret-pw@replica.internal:5432/app",
            ),
            (
                "BILLING_DB_URL",
                "mysql://loader:s3cret-pw@billing-ro.internal:3306/billing",
            ),
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("s3cret-pw"), "a password was printed:\n{out}");
}

#[test]
fn production_names_each_missing_variable_where_it_is_used() {
    let file = example("production");
    let (code, out) = check(&file, &[]);
    assert_eq!(code, 2, "a bad workspace: {out}");
    let text = std::fs::read_to_string(&file).expect("read example");
    for var in ["APP_REPLICA_URL", "BILLING_DB_URL"] {
        let needle = format!("${{{var}}}");
        let line = text
            .lines()
            .position(|l| l.contains(&needle) && !l.trim_start().starts_with('#'))
            .map(|i| i + 1)
            .unwrap_or_else(|| panic!("{var} is not used in the example"));
        assert!(
            out.contains(&format!("switchyard.toml:{line}:")),
            "no position for {var} (line {line}):\n{out}"
        );
        assert!(out.contains(&format!("`{var}` is not set")), "{out}");
    }
}

/// The workspace inside the Kubernetes manifest's ConfigMap, unindented.
fn configmap_workspace(manifest: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in manifest.lines() {
        if line.trim_start().starts_with("switchyard.toml: |") {
            inside = true;
            continue;
        }
        if inside {
            if !line.is_empty() && !line.starts_with("    ") {
                break;
            }
            out.push_str(line.strip_prefix("    ").unwrap_or(line));
            out.push('\n');
        }
    }
    out
}

#[test]
fn the_kubernetes_serve_manifest_carries_a_workspace_that_checks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/examples/k8s");
    let manifest = std::fs::read_to_string(dir.join("serve.yaml")).expect("serve.yaml");
    assert!(
        manifest.contains(r#"args: ["-c", "/etc/switchyard/switchyard.toml", "serve"]"#),
        "the Deployment runs `serve` on the ConfigMap's workspace"
    );
    let ws = configmap_workspace(&manifest);
    assert!(ws.contains("[notify.oncall]"), "{ws}");
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("switchyard.toml");
    std::fs::write(&file, &ws).expect("write workspace");
    let (code, text) = check(
        &file,
        &[
            ("PAGERDUTY_ROUTING_KEY", "pd-canary-0001"),
            ("SLACK_WEBHOOK_URL", "https://hooks.example.com/canary-0002"),
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("canary"), "no secret echoed: {text}");
    // Without the secrets, each missing variable is named with its line.
    let (code, text) = check(&file, &[]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("PAGERDUTY_ROUTING_KEY") && text.contains("SLACK_WEBHOOK_URL"),
        "{text}"
    );
    let unit = std::fs::read_to_string(dir.join("switchyard-serve.service")).expect("unit");
    assert!(
        unit.contains("serve") && unit.contains("KillMode=process"),
        "{unit}"
    );
}

#[test]
fn the_kubernetes_team_manifests_share_a_postgres_store_and_check() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/examples/k8s");
    let manifest = std::fs::read_to_string(dir.join("team.yaml")).expect("team.yaml");
    for kind in ["kind: CronJob", "kind: Deployment", "kind: ConfigMap"] {
        assert!(manifest.contains(kind), "team.yaml has no {kind}");
    }
    assert!(
        manifest.contains(r#"args: ["-c", "/etc/switchyard/switchyard.toml", "run", "nightly"]"#),
        "the CronJob runs the pipeline"
    );
    assert!(
        manifest.contains(r#"args: ["-c", "/etc/switchyard/switchyard.toml", "serve"]"#),
        "the Deployment serves"
    );
    // Every container gets the store's URL from the Secret.
    assert_eq!(
        manifest.matches("name: SWITCHYARD_STATE_URL").count(),
        2,
        "{manifest}"
    );
    let ws = configmap_workspace(&manifest);
    assert!(ws.contains(r#"state = "${SWITCHYARD_STATE_URL}""#), "{ws}");
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("switchyard.toml");
    std::fs::write(&file, &ws).expect("write workspace");
    let (code, text) = check(
        &file,
        &[
            (
                "SWITCHYARD_STATE_URL",
                "postgres://switchyard:canary-pw-0003@db.internal:5432/switchyard",
            ),
            ("PAGERDUTY_ROUTING_KEY", "pd-canary-0001"),
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("canary"), "no secret echoed: {text}");
    let (code, text) = check(&file, &[("PAGERDUTY_ROUTING_KEY", "pd-canary-0001")]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("SWITCHYARD_STATE_URL"), "{text}");
}
