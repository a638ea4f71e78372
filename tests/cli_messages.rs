//! Messages say each thing once and in words: an error's cause is not
//! repeated, a warehouse type is a type name, a transport error is its
//! messages without a struct dump.

mod common;

use common::Ws;

/// `app` is a source and, for seeding it, a warehouse on the same file.
const WS: &str = r#"
[sources.app]
kind = "sqlite"
path = "./app.db"

[warehouses.app_rw]
kind = "sqlite"
path = "./app.db"

[stores.lake]
kind = "local"
path = "./lake"

[stores.down]
kind = "s3"
bucket = "lake"
region = "us-east-1"
endpoint = "http://127.0.0.1:1"
path_style = true
access_key_id = "${SY_TEST_KEY_ID}"
secret_access_key = "${SY_TEST_SECRET}"

[pipelines.seed]
[[pipelines.seed.tasks]]
id = "t"
kind = "sql"
target = "app_rw"
sql = "create table prices (id integer, amount numeric(12,2)); insert into prices values (1, 2.50)"

[pipelines.broken]
[[pipelines.broken.tasks]]
id = "missing"
kind = "sql"
target = "app_rw"
sql = "select * from nosuch_table"
"#;

fn workspace() -> Ws {
    let ws = Ws::new(WS);
    let (code, _, err) = run(&ws, &["run", "seed"]);
    assert_eq!(code, 0, "{err}");
    ws
}

/// With the S3 store's keys in the environment and no metadata lookups.
fn run(ws: &Ws, args: &[&str]) -> (i32, String, String) {
    let out = ws
        .cmd(args)
        .env("SY_TEST_KEY_ID", "AKIDSYTEST")
        .env("SY_TEST_SECRET", "sy-test-secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run switchyard");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn task_error(ws: &Ws) -> String {
    let (code, out, err) = run(ws, &["status", "--json", "--run", "latest"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("status json");
    v["runs"][0]["tasks"][0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_database_error_names_its_cause_once() {
    let ws = workspace();
    let (code, _, err) = run(&ws, &["run", "broken"]);
    assert_eq!(code, 1, "{err}");
    let error = task_error(&ws);
    assert_eq!(
        error.matches("no such table: nosuch_table").count(),
        1,
        "{error}"
    );
    assert_eq!(err.matches("no such table").count(), 1, "{err}");
}

#[test]
fn sources_show_warehouse_types_by_name() {
    let ws = workspace();
    let (code, out, err) = run(&ws, &["sources", "app", "prices"]);
    assert_eq!(code, 0, "{err}");
    let amount = out
        .lines()
        .find(|l| l.starts_with("amount "))
        .unwrap_or_else(|| panic!("no amount column:\n{out}"));
    assert!(amount.contains(" NUMERIC(12,2) "), "{amount}");
    assert!(!out.contains('{'), "raw JSON in:\n{out}");
    let id = out
        .lines()
        .find(|l| l.starts_with("id "))
        .unwrap_or_default();
    assert!(id.contains(" INT64 "), "{out}");
}

/// Port 1 on the loopback refuses connections.
#[test]
fn a_refused_s3_connection_is_one_line_of_messages() {
    let ws = workspace();
    let (code, _, err) = run(
        &ws,
        &[
            "export",
            "app",
            "prices",
            "--store",
            "down",
            "--path",
            "p.parquet",
        ],
    );
    assert_eq!(code, 1, "{err}");
    let error = task_error(&ws);
    assert!(error.contains("Connection refused"), "{error}");
    for dump in ["DispatchFailure(", "ConnectorError {", "source:", "kind: "] {
        assert!(!error.contains(dump), "`{dump}` in {error}");
    }
    assert!(!error.contains('\n'), "{error}");
}
