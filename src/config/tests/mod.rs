//! Loading whole workspace files. Problem classes are in `definitions` and `tasks`,
//! each asserting the exact line:col.

mod definitions;
mod merge;
mod tasks;

use std::path::Path;

use super::redact::redact;
use super::*;

const DB_PASSWORD: &str = "Pw-load-test-7781";

fn env(name: &str) -> Option<String> {
    match name {
        "APP_DB_URL" => Some(format!("postgres://app:{DB_PASSWORD}@db:5432/app")),
        "LAKE_DIR" => Some("./lake".into()),
        "S3_SECRET" => Some("s3-secret-from-env-5521".into()),
        "SA_JSON" => Some(
            r#"{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"}"#.into(),
        ),
        _ => None,
    }
}

pub(super) fn load_test(text: &str) -> Result<Workspace, ConfigError> {
    load_with_env(Path::new("ws.toml"), text, &env)
}

/// Every problem as `line:col: message`.
pub(super) fn problems(text: &str) -> Vec<String> {
    match load_test(text) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .problems
            .iter()
            .map(|p| format!("{}:{}: {}", p.line, p.col, p.message))
            .collect(),
    }
}

/// The definitions every pipeline test can refer to (lines 1-15).
const BASE: &str = r#"[workspace]
name = "acme"
[sources.app]
kind = "postgres"
url = "${APP_DB_URL}"
[stores.lake]
kind = "local"
path = "${LAKE_DIR}"
[warehouses.wh]
kind = "sqlite"
path = "./warehouse.db"
[pools.replica]
size = 4
[pipelines.p]
max_active = 2
"#;

/// `BASE` followed by `rest`; `rest` starts on line 16.
pub(super) fn with_base(rest: &str) -> String {
    format!("{BASE}{rest}")
}

#[test]
fn loads_the_design_example() {
    let text = with_base(
        r#"[[pipelines.p.tasks]]
id = "export_users"
kind = "export"
source = "app"
table = "public.users"
store = "lake"
path = "users/{run_date}.parquet"
format = "parquet"
pool = "replica"
retries = 2
retry_delay = "30s"
timeout = "1h"
[[pipelines.p.tasks]]
id = "load_users"
kind = "load"
after = ["export_users"]
store = "lake"
path = "users/{run_date}.parquet"
warehouse = "wh"
table = "raw_users"
mode = "replace"
[[pipelines.p.tasks]]
id = "users_arrived"
kind = "check"
after = ["load_users"]
left = { target = "app", sql = "select count(*) from public.users" }
right = { target = "wh", sql = "select count(*) from raw_users" }
"#,
    );
    let ws = load_test(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ws.name(), "acme");
    assert!(ws.file.is_absolute() && ws.file.ends_with("ws.toml"));
    assert_eq!(ws.file.parent(), Some(ws.dir.as_path()));
    let src = &ws.def.sources["app"];
    assert_eq!(
        src.url.as_deref(),
        Some(format!("postgres://app:{DB_PASSWORD}@db:5432/app").as_str())
    );
    assert_eq!(ws.def.stores["lake"].path.as_deref(), Some("./lake"));
    let tasks = &ws.pipeline("p").unwrap().tasks;
    assert_eq!(tasks.len(), 3);
    assert_eq!(tasks[1].after, vec!["export_users"]);
    assert_eq!(tasks[2].right.as_ref().unwrap().target, "wh");
    assert_eq!(ws.def.pipelines["p"].max_active, Some(2));
    // The interpolated URL's password is now a registered secret.
    assert_eq!(
        redact(&format!("auth failed ({DB_PASSWORD})")),
        "auth failed (***)"
    );
}

#[test]
fn store_and_warehouse_kinds_default() {
    let text = "[stores.lake]\npath = \"./lake\"\n[warehouses.wh]\npath = \"./wh.db\"\n";
    let ws = load_test(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ws.def.stores["lake"].kind, "local");
    assert_eq!(ws.def.warehouses["wh"].kind, "sqlite");
}

#[test]
fn interpolates_arrays_inline_tables_and_escapes() {
    let text = with_base(
        r#"[[pipelines.p.tasks]]
id = "c"
kind = "check"
left = { target = "app", sql = "select '$${LAKE_DIR}' = '${LAKE_DIR}'" }
right = { target = "wh", sql = "select 1" }
[[pipelines.p.tasks]]
id = "all"
kind = "export_all"
source = "app"
store = "lake"
include = ["public.*", "${LAKE_DIR}"]
"#,
    );
    let ws = load_test(&text).unwrap_or_else(|e| panic!("{e}"));
    let tasks = &ws.pipeline("p").unwrap().tasks;
    assert_eq!(
        tasks[0].left.as_ref().unwrap().sql,
        "select '${LAKE_DIR}' = './lake'"
    );
    assert_eq!(
        tasks[1].include.as_deref(),
        Some(&["public.*".to_string(), "./lake".to_string()][..])
    );
}

#[test]
fn missing_variables_are_reported_at_their_string() {
    let text = "[sources.app]\nkind = \"postgres\"\nurl = \"${NO_SUCH_URL}\"\n\
                [pipelines.p]\n[[pipelines.p.tasks]]\nid = \"x\"\nkind = \"command\"\n\
                command = \"echo\"\nafter = [\"a\", \"${MISSING_IN_ARRAY}\"]\n\
                left = { target = \"${MISSING_INLINE}\", sql = \"1\" }\n";
    let got = problems(text);
    assert!(
        got.contains(&"3:7: environment variable `NO_SUCH_URL` is not set".to_string()),
        "{got:#?}"
    );
    assert!(
        got.contains(&"9:15: environment variable `MISSING_IN_ARRAY` is not set".to_string()),
        "{got:#?}"
    );
    assert!(
        got.contains(&"10:19: environment variable `MISSING_INLINE` is not set".to_string()),
        "{got:#?}"
    );
}

#[test]
fn problem_and_error_display() {
    let err = load_with_env(
        Path::new("conf/switchyard.toml"),
        "[pools.a]\nsize = 0\n[pools.b]\nsize = -2\n",
        &env,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "conf/switchyard.toml:2:8: pool `a` size must be at least 1, not 0\n\
         conf/switchyard.toml:4:8: pool `b` size must be at least 1, not -2"
    );
}

/// A name with a line break stays inside its problem's one line.
#[test]
fn problems_are_one_line_each() {
    let err = load_test("[stores.\"a\\nb\"]\npath = \"\"\n").unwrap_err();
    let text = err.to_string();
    assert_eq!(text.lines().count(), err.problems.len(), "{text}");
    assert!(text.lines().all(|l| l.starts_with("ws.toml:")), "{text}");
    assert!(text.contains(r"store `a\nb`: `path` is empty"), "{text}");
}

#[test]
fn secrets_from_the_file_are_registered() {
    let text = r#"[sources.lit]
kind = "mysql"
url = "mysql://root:Literal-pw-9931@h/db"
[stores.s3]
kind = "s3"
bucket = "b"
access_key_id = "AKIDEXAMPLE"
secret_access_key = "${S3_SECRET}"
[warehouses.bq]
kind = "bigquery"
project = "p"
dataset = "d"
credentials = "${SA_JSON}"
"#;
    load_test(text).unwrap_or_else(|e| panic!("{e}"));
    let out = redact(
        "denied: Literal-pw-9931 / s3-secret-from-env-5521 / MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    );
    assert_eq!(out, "denied: *** / *** / ***");
}

#[test]
fn problems_never_show_secrets() {
    // A secret echoed back in a message (here: an unknown kind) is masked.
    let text = "[stores.s]\nkind = \"${S3_SECRET}\"\nsecret_access_key = \"${S3_SECRET}\"\n";
    assert_eq!(problems(text), vec!["2:8: unknown kind `***` (local | s3)"]);
}

#[test]
fn finds_the_workspace_upwards() {
    let root = std::env::temp_dir().join(format!("switchyard-find-{}", std::process::id()));
    let deep = root.join("a/b");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(root.join(WORKSPACE_FILE_NAME), "").unwrap();
    assert_eq!(find_upwards(&deep), Some(root.join(WORKSPACE_FILE_NAME)));
    assert_eq!(
        find_upwards(&root),
        Some(PathBuf::from(WORKSPACE_FILE_NAME))
    );

    // -c accepts a file, or a directory holding switchyard.toml.
    let file = root.join(WORKSPACE_FILE_NAME);
    assert_eq!(find_workspace(Some(&file)).unwrap(), file);
    assert_eq!(find_workspace(Some(&root)).unwrap(), file);
    let err = find_workspace(Some(&root.join("nope.toml"))).unwrap_err();
    assert!(err.to_string().contains("nope.toml"), "{err}");
    assert!(err.to_string().contains("does not exist"), "{err}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn load_reads_files_and_names_unreadable_ones() {
    let err = load(Path::new("/nonexistent/switchyard.toml")).unwrap_err();
    assert_eq!(err.problems.len(), 1);
    assert!(
        err.to_string()
            .starts_with("/nonexistent/switchyard.toml:1:1: cannot read the workspace file"),
        "{err}"
    );
}

#[test]
fn serde_errors_from_the_tree_keep_their_position() {
    // `validate` catches type errors first; this is the fallback for anything it misses.
    #[derive(Debug, serde::Deserialize)]
    struct Strict {
        #[allow(dead_code)]
        n: u8,
    }
    let text = "# comment\nn = 300\n";
    let tree = DeTable::parse(text).unwrap();
    let err = Strict::deserialize(toml::de::Deserializer::from(tree)).unwrap_err();
    let mut r = report::Report::new(Path::new("x.toml"), text);
    r.toml_error(&err, text);
    let problems = r.into_error().problems;
    assert_eq!((problems[0].line, problems[0].col), (2, 5), "{problems:?}");
}
