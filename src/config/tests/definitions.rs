//! Problems in the file as a whole and in sources, stores, warehouses and pools.

use super::problems;

#[test]
fn toml_syntax_errors_have_positions() {
    assert_eq!(
        problems("[workspace]\nname = \"acme\n[pools.x]\nsize = 1\n"),
        vec!["2:13: invalid basic string, expected `\"`"]
    );
    assert_eq!(
        problems("[pools.x]\nsize = 1\nsize = 2\n"),
        vec!["3:1: duplicate key `size`"]
    );
    let got = problems("[workspace]\nname = acme\n[pools.x]\nsize = \n");
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(
        got[0].starts_with("2:8: string values must be quoted"),
        "{got:#?}"
    );
    assert!(got[1].starts_with("4:8: "), "{got:#?}");
}

#[test]
fn unknown_keys_in_every_table_suggest_the_right_one() {
    let text = r#"[workspace]
nmae = "acme"
[sources.app]
kind = "postgres"
url = "postgres://db/app"
ulr = "x"
[stores.lake]
path = "./lake"
bukcet = "b"
[warehouses.wh]
path = "./wh.db"
projet = "p"
[pools.replica]
size = 1
sise = 2
[pipelines.p]
max_actve = 1
[[pipelines.p.tasks]]
id = "c"
kind = "check"
retires = 1
left = { target = "app", sqll = "1", sql = "1" }
right = { target = "app", sql = "1" }
[sourcess.x]
[totally_unrelated]
"#;
    assert_eq!(
        problems(text),
        vec![
            "2:1: unknown key `nmae` in [workspace]; did you mean `name`?",
            "6:1: unknown key `ulr` in [sources.app]; did you mean `url`?",
            "9:1: unknown key `bukcet` in [stores.lake]; did you mean `bucket`?",
            "12:1: unknown key `projet` in [warehouses.wh]; did you mean `project`?",
            "15:1: unknown key `sise` in [pools.replica]; did you mean `size`?",
            "17:1: unknown key `max_actve` in [pipelines.p]; did you mean `max_active`?",
            "21:1: unknown key `retires` in task `c` of pipeline `p`; did you mean `retries`?",
            "22:26: unknown key `sqll` in `left` of task `c` of pipeline `p`; did you mean `sql`?",
            "24:2: unknown key `sourcess` at the top level; did you mean `sources`?",
            "25:2: unknown key `totally_unrelated` at the top level",
        ]
    );
}

#[test]
fn unknown_kinds() {
    let text = r#"[sources.a]
kind = "postgress"
url = "x"
[stores.s]
kind = "gcs"
[warehouses.w]
kind = "bigqeury"
[pipelines.p]
[[pipelines.p.tasks]]
id = "t"
kind = "exprt"
"#;
    assert_eq!(
        problems(text),
        vec![
            "2:8: unknown kind `postgress` (postgres | mysql | sqlite); did you mean `postgres`?",
            "5:8: unknown kind `gcs` (local | s3)",
            "7:8: unknown kind `bigqeury` (sqlite | bigquery); did you mean `bigquery`?",
            "11:8: unknown kind `exprt` (export | export_all | load | sql | check | wait | command); did you mean `export`?",
        ]
    );
}

#[test]
fn definitions_missing_their_keys() {
    let text = r#"[sources.a]
url = "x"
[sources.b]
kind = "mysql"
[sources.c]
kind = "sqlite"
[stores.s]
kind = "s3"
[stores.l]
[warehouses.bq]
kind = "bigquery"
project = "p"
[pools.p]
[pipelines.x]
[[pipelines.x.tasks]]
id = "t"
"#;
    assert_eq!(
        problems(text),
        vec![
            "1:1: source `a` has no `kind` (postgres | mysql | sqlite)",
            "3:1: source `b` (mysql) needs `url`",
            "5:1: source `c` (sqlite) needs `url` or `path`",
            "7:1: store `s` (s3) needs `bucket`",
            "9:1: store `l` (local) needs `path`",
            "10:1: warehouse `bq` (bigquery) needs `dataset`",
            "13:1: pool `p` has no `size`",
            "16:6: task `t` of pipeline `x` has no `kind` (export | export_all | load | sql | check | wait | command)",
        ]
    );
}

#[test]
fn wrong_value_types() {
    let text = r#"[workspace]
max_parallel = -1
[sources.a]
kind = 1
url = "x"
[stores.s]
path = "./s"
path_style = "yes"
[pools.p]
size = "4"
[pipelines]
q = 3
[pipelines.x]
tasks = { id = "t" }
[pipelines.y]
[[pipelines.y.tasks]]
id = "t"
kind = "command"
command = ["echo", "hi"]
retries = 1.5
after = ["a", 2]
left = "l"
"#;
    assert_eq!(
        problems(text),
        vec![
            "2:16: `max_parallel` must be a non-negative whole number, not -1",
            "4:8: `kind` must be a string, not a number",
            "8:14: `path_style` must be true or false, not a string",
            "10:8: `size` must be a whole number, not a string",
            "12:5: `pipelines.q` must be a table, e.g. [pipelines.q]",
            "14:9: `tasks` must be a list of tables, not a table",
            "19:11: `command` must be a string, not a list",
            "20:11: `retries` must be a non-negative whole number, not a decimal number",
            "21:10: unknown upstream `a` in `after` of task `t`: not a task of pipeline `y`",
            "21:15: `after` must be a list of strings, not a number",
            "22:8: `left` must be a table, not a string",
        ]
    );
}

#[test]
fn s3_store_keys() {
    let text = r#"[stores.ok]
kind = "s3"
bucket = "lake"
prefix = "raw/"
region = "eu-west-1"
endpoint = "http://127.0.0.1:9000"
path_style = true
access_key_id = "${S3_SECRET}"
secret_access_key = "${S3_SECRET}"
[stores.bad]
kind = "s3"
bucket = "a b"
prefix = "../up"
endpoint = "ftp://x"
path_style = 1
secret_access_key = "written-in-the-file"
[stores.creds]
kind = "s3"
bucket = "b"
endpoint = "https://key:${S3_SECRET}@storage.example"
"#;
    assert_eq!(
        problems(text),
        vec![
            "10:1: store `bad`: give both `access_key_id` and `secret_access_key`, or neither to use the AWS credential chain",
            "12:10: store `bad`: `bucket` is a bucket name alone (no `/` or spaces); folders go in `prefix`",
            "13:10: store `bad`: `prefix` must not contain `..`",
            "14:12: store `bad`: `endpoint` must be an http:// or https:// URL",
            "15:14: `path_style` must be true or false, not a number",
            "16:21: `secret_access_key` must come from the environment as ${VAR}, not be written in the file (or leave it out: the AWS credential chain is used)",
            "20:12: store `creds`: `endpoint` must not carry credentials (user:password@); they come from the AWS credential chain, or from `access_key_id`/`secret_access_key` given as ${VAR}",
        ]
    );
    // The valid store loads with its keys as given.
    let ws = super::load_test(text.split("[stores.bad]").next().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    let s = &ws.def.stores["ok"];
    assert_eq!(s.bucket.as_deref(), Some("lake"));
    assert_eq!(s.path_style, Some(true));
    assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
}

#[test]
fn bigquery_warehouses_and_gs_uris_are_checked_where_written() {
    let text = r#"[warehouses.bq]
kind = "bigquery"
project = "my project"
dataset = "raw-data"
location = ""
endpoint = "localhost:9050"
credentials = " "
[warehouses.ok]
kind = "bigquery"
project = "acme-prod-123"
dataset = "raw_data"
location = "europe-west1"
endpoint = "http://127.0.0.1:9050"
credentials = "keys/sa.json"
[stores.lake]
path = "./lake"
bigquery_uri = "s3://bucket/x"
[stores.lake2]
path = "./lake"
bigquery_uri = "gs://"
[stores.lake3]
path = "./lake"
bigquery_uri = "gs://lake-bucket/exports"
"#;
    assert_eq!(
        problems(text),
        vec![
            "3:11: `project` of warehouse `bq` must be a project id (letters, digits, `-`, `.`, `:`), not `my project`",
            "4:11: `dataset` of warehouse `bq` must be a dataset id (letters, digits and `_`), not `raw-data`",
            "5:12: `location` of warehouse `bq` must name a location (`US`, `EU`, `europe-west1`…), not ``",
            "6:12: `endpoint` of warehouse `bq` must be an http:// or https:// URL, not `localhost:9050`",
            "7:15: `credentials` of warehouse `bq` is empty (leave it out for application default credentials)",
            "17:16: `bigquery_uri` of store `lake` must be gs://BUCKET[/PREFIX], not `s3://bucket/x`",
            "20:16: `bigquery_uri` of store `lake2` must be gs://BUCKET[/PREFIX], not `gs://`",
        ]
    );
}

#[test]
fn upload_chunk_kib_is_a_multiple_of_256_on_bigquery_warehouses_only() {
    let text = r#"[warehouses.bq]
kind = "bigquery"
project = "p"
dataset = "d"
upload_chunk_kib = 300
[warehouses.big]
kind = "bigquery"
project = "p"
dataset = "d"
upload_chunk_kib = 2097152
[warehouses.text]
kind = "bigquery"
project = "p"
dataset = "d"
upload_chunk_kib = "1MiB"
[warehouses.local]
path = "./wh.db"
upload_chunk_kib = 256
[warehouses.ok]
kind = "bigquery"
project = "p"
dataset = "d"
upload_chunk_kib = 512
"#;
    assert_eq!(
        problems(text),
        vec![
            "5:20: warehouse `bq`: `upload_chunk_kib` must be a multiple of 256 from 256 to 1048576 (1 GiB), not 300",
            "10:20: warehouse `big`: `upload_chunk_kib` must be a multiple of 256 from 256 to 1048576 (1 GiB), not 2097152",
            "15:20: `upload_chunk_kib` must be a non-negative whole number, not a string",
            "18:20: warehouse `local`: `upload_chunk_kib` is for bigquery warehouses",
        ]
    );
    let ok = &text[text.find("[warehouses.ok]").expect("ok")..];
    let ws = super::load_test(ok).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ws.def.warehouses["ok"].upload_chunk_kib, Some(512));
}

#[test]
fn lease_times_must_be_durations_and_give_up_before_the_lease_goes_stale() {
    let text = "[workspace]\nlease_stale_after = \"10s\"\nlease_give_up_after = \"10s\"\n";
    let p = problems(text);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with(
            "3:23: `lease_give_up_after` (10s) must be shorter than `lease_stale_after` (10s)"
        ),
        "{p:?}"
    );
    // The default stale timeout (15s) counts when only the give-up is set.
    let p = problems("[workspace]\nlease_give_up_after = \"20s\"\n");
    assert!(
        p[0].contains("must be shorter than `lease_stale_after` (15s)"),
        "{p:?}"
    );
    assert_eq!(
        problems("[workspace]\nlease_stale_after = \"1s\"\nlease_give_up_after = \"soon\"\n"),
        vec![
            "2:21: `lease_stale_after` must be at least 2s (heartbeats are 1s apart)".to_string(),
            "3:23: `lease_give_up_after`: invalid duration \"soon\"; expected a duration such as \"500ms\", \"30s\", \"10m\", \"1h30m\" or \"2d\" (a whole number followed by ms, s, m, h or d, parts may be combined)"
                .to_string(),
        ]
    );
    assert!(
        problems("[workspace]\nlease_stale_after = \"30s\"\nlease_give_up_after = \"20s\"\n")
            .is_empty()
    );
}
