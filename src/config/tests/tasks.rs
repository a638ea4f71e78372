//! Problems in pipelines and tasks.

use super::{problems, with_base};

#[test]
fn unknown_upstream_points_at_the_array_element() {
    let text = with_base(
        r#"[[pipelines.p.tasks]]
id = "export_users"
kind = "command"
command = "true"
[[pipelines.p.tasks]]
id = "load_users"
kind = "command"
command = "true"
after = ["export_users", "export_user", "zzz"]
"#,
    );
    assert_eq!(
        problems(&text),
        vec![
            "24:26: unknown upstream `export_user` in `after` of task `load_users`: not a task of pipeline `p`; did you mean `export_users`?",
            "24:41: unknown upstream `zzz` in `after` of task `load_users`: not a task of pipeline `p`",
        ]
    );
}

#[test]
fn cycles_print_their_path_at_the_first_task() {
    let text = with_base(
        r#"[[pipelines.p.tasks]]
id = "a"
kind = "command"
command = "true"
after = ["c"]
[[pipelines.p.tasks]]
id = "b"
kind = "command"
command = "true"
after = ["a"]
[[pipelines.p.tasks]]
id = "c"
kind = "command"
command = "true"
after = ["b"]
[[pipelines.p.tasks]]
id = "self"
kind = "command"
command = "true"
after = ["self"]
"#,
    );
    assert_eq!(
        problems(&text),
        vec!["17:6: cycle: a -> b -> c -> a", "32:6: cycle: self -> self"]
    );
}

/// Tasks that all wait on one another are one problem, not one per task:
/// the shortest cycle through the first of them, and the rest named.
#[test]
fn a_knot_of_cycles_is_one_problem_naming_the_others() {
    let mut text = with_base("");
    for (id, after) in [("hub", "x1"), ("x1", "hub"), ("x2", "hub"), ("x3", "x2")] {
        text.push_str(&format!(
            "[[pipelines.p.tasks]]\nid = \"{id}\"\nkind = \"command\"\ncommand = \"true\"\nafter = [\"{after}\"]\n"
        ));
    }
    // hub waits on x1 only, so x2 and x3 are no cycle: a cycle needs hub -> x2 too.
    assert_eq!(problems(&text), vec!["17:6: cycle: hub -> x1 -> hub"]);
    text = text.replace("after = [\"x1\"]", "after = [\"x1\", \"x3\"]");
    assert_eq!(
        problems(&text),
        vec!["17:6: cycle: hub -> x1 -> hub (2 more in cycles with these: x2, x3)"]
    );
}

#[test]
fn duplicate_and_invalid_task_ids() {
    let text = with_base(
        r#"[[pipelines.p.tasks]]
id = "a"
kind = "command"
command = "true"
[[pipelines.p.tasks]]
id = "a"
kind = "command"
command = "true"
[[pipelines.p.tasks]]
id = "bad id!"
kind = "command"
command = "true"
[[pipelines.p.tasks]]
kind = "command"
command = "true"
"#,
    );
    assert_eq!(
        problems(&text),
        vec![
            "21:6: duplicate task id `a` in pipeline `p` (first defined on line 17)",
            "25:6: invalid task id `bad id!`: use only letters, digits, `_`, `.` and `-`, and not only dots",
            "28:1: task #4 of pipeline `p` has no `id`",
        ]
    );
}

#[test]
fn unknown_references() {
    let text = with_base(
        r#"[[pipelines.p.tasks]]
id = "e"
kind = "export"
source = "ap"
table = "t"
store = "lak"
path = "x"
pool = "replicas"
[[pipelines.p.tasks]]
id = "l"
kind = "load"
store = "lake"
warehouse = "nowhere"
table = "t"
from = "e"
[[pipelines.p.tasks]]
id = "s"
kind = "sql"
target = "whh"
sql = "select 1"
[[pipelines.p.tasks]]
id = "l2"
kind = "load"
store = "lake"
warehouse = "wh"
table = "t"
from = "ee"
[[pipelines.p.tasks]]
id = "c"
kind = "check"
left = { target = "nope", sql = "1" }
right = { target = "app", sql = "1" }
"#,
    );
    assert_eq!(
        problems(&text),
        vec![
            "19:10: unknown source `ap`; did you mean `app`?",
            "21:9: unknown store `lak`; did you mean `lake`?",
            "23:8: unknown pool `replicas`; did you mean `replica`?",
            "28:13: unknown warehouse `nowhere` (known: wh)",
            "30:8: `from` must name an export_all task; `e` is of kind `export`",
            "34:10: unknown target (source or warehouse) `whh`; did you mean `wh`?",
            "42:8: `from` names `ee`, which is not a task of pipeline `p`",
            "46:19: unknown target (source or warehouse) `nope` (known: app, wh)",
        ]
    );
}

#[test]
fn bad_durations_times_formats_modes_and_sizes() {
    let text = with_base(
        r#"[[pipelines.p.tasks]]
id = "w"
kind = "wait"
until = "25:00"
retry_delay = "30"
max_retry_delay = "1x"
timeout = "forever"
format = "xml"
mode = "upsert"
partitions = 0
[[pipelines.p.tasks]]
id = "w2"
kind = "wait"
duration = "10 minutes"
[pools.tiny]
size = 0
"#,
    );
    let got = problems(&text);
    let help = "(a whole number followed by ms, s, m, h or d, parts may be combined)";
    assert_eq!(
        got,
        vec![
            "19:9: `until`: invalid time \"25:00\"; expected a 24-hour time of day as HH:MM, e.g. \"03:30\"".to_string(),
            format!("20:15: `retry_delay`: invalid duration \"30\"; expected a duration such as \"500ms\", \"30s\", \"10m\", \"1h30m\" or \"2d\" {help}"),
            format!("21:19: `max_retry_delay`: invalid duration \"1x\"; expected a duration such as \"500ms\", \"30s\", \"10m\", \"1h30m\" or \"2d\" {help}"),
            format!("22:11: `timeout`: invalid duration \"forever\"; expected a duration such as \"500ms\", \"30s\", \"10m\", \"1h30m\" or \"2d\" {help}"),
            "23:10: unknown format `xml` (parquet | ndjson | csv)".to_string(),
            "24:8: unknown mode `upsert` (replace | append | merge)".to_string(),
            "25:14: `partitions` must be at least 1, not 0".to_string(),
            format!("29:12: `duration`: invalid duration \"10 minutes\"; expected a duration such as \"500ms\", \"30s\", \"10m\", \"1h30m\" or \"2d\" {help}"),
            "31:8: pool `tiny` size must be at least 1, not 0".to_string(),
        ]
    );
}

#[test]
fn missing_required_keys_per_kind() {
    let text = with_base(
        r#"[[pipelines.p.tasks]]
id = "e"
kind = "export"
[[pipelines.p.tasks]]
id = "e2"
kind = "export"
source = "app"
store = "lake"
path = "x"
table = "t"
query = "select 1"
[[pipelines.p.tasks]]
id = "ea"
kind = "export_all"
[[pipelines.p.tasks]]
id = "l"
kind = "load"
[[pipelines.p.tasks]]
id = "q"
kind = "sql"
[[pipelines.p.tasks]]
id = "c"
kind = "check"
target = "app"
[[pipelines.p.tasks]]
id = "c2"
kind = "check"
[[pipelines.p.tasks]]
id = "c3"
kind = "check"
left = { target = "app", sql = "1" }
[[pipelines.p.tasks]]
id = "w"
kind = "wait"
[[pipelines.p.tasks]]
id = "w2"
kind = "wait"
duration = "1m"
until = "03:00"
[[pipelines.p.tasks]]
id = "x"
kind = "command"
[[pipelines.p.tasks]]
kind = "command"
"#,
    );
    assert_eq!(
        problems(&text),
        vec![
            "17:6: export task `e` of pipeline `p` needs `source`, `store`, `path`",
            "17:6: export task `e` of pipeline `p` needs `table` or `query`",
            "20:6: export task `e2` of pipeline `p` has both `table` and `query`; keep one",
            "28:6: export_all task `ea` of pipeline `p` needs `source`, `store`",
            "31:6: load task `l` of pipeline `p` needs `store`, `warehouse`, `table`",
            "31:6: load task `l` of pipeline `p` needs `path` or `from`",
            "34:6: sql task `q` of pipeline `p` needs `target`, `sql`",
            "37:6: check task `c` of pipeline `p` needs both `target` and `sql`",
            "41:6: check task `c2` of pipeline `p` needs `target` and `sql`, or `left` and `right`",
            "44:6: check task `c3` of pipeline `p` needs both `left` and `right`",
            "48:6: wait task `w` of pipeline `p` needs `duration` or `until`",
            "51:6: wait task `w2` of pipeline `p` has both `duration` and `until`; keep one",
            "56:6: command task `x` of pipeline `p` needs `command`",
            "58:1: task #12 of pipeline `p` has no `id`",
            "58:1: command task #12 of pipeline `p` needs `command`",
        ]
    );
}

#[test]
fn load_from_counts_as_a_dependency() {
    let text = with_base(
        r#"[[pipelines.p.tasks]]
id = "all"
kind = "export_all"
source = "app"
store = "lake"
after = ["load_all"]
[[pipelines.p.tasks]]
id = "load_all"
kind = "load"
store = "lake"
warehouse = "wh"
table = "raw_{table}"
from = "all"
"#,
    );
    assert_eq!(problems(&text), vec!["17:6: cycle: all -> load_all -> all"]);
}

#[test]
fn an_export_table_that_does_not_parse_is_refused_at_its_value() {
    let text = with_base(
        r#"[[pipelines.p.tasks]]
id = "dotted"
kind = "export"
source = "app"
store = "lake"
path = "x.parquet"
table = "odd.a.b"
[[pipelines.p.tasks]]
id = "open_quote"
kind = "export"
source = "app"
store = "lake"
path = "y.parquet"
table = '"users'
[[pipelines.p.tasks]]
id = "fine"
kind = "export"
source = "app"
store = "lake"
path = "z.parquet"
table = '"odd.a".b'
"#,
    );
    assert_eq!(
        problems(&text),
        vec![
            "22:9: `table` of task `dotted` of pipeline `p`: `odd.a.b` has 3 dot-separated parts; a table is `table` or `schema.table` (quote a name that holds a dot: `\"my.schema\".\"my.table\"`)",
            "29:9: `table` of task `open_quote` of pipeline `p`: `\"users`: a quote is not closed",
        ]
    );
}

#[test]
fn a_load_from_that_replaces_one_fixed_table_is_refused() {
    let text = with_base(
        r#"[[pipelines.p.tasks]]
id = "all"
kind = "export_all"
source = "app"
store = "lake"
[[pipelines.p.tasks]]
id = "one_table"
kind = "load"
from = "all"
warehouse = "wh"
table = "raw"
[[pipelines.p.tasks]]
id = "gather"
kind = "load"
from = "all"
warehouse = "wh"
table = "everything"
mode = "append"
[[pipelines.p.tasks]]
id = "per_table"
kind = "load"
from = "all"
warehouse = "wh"
table = "raw_{schema}_{table}"
"#,
    );
    assert_eq!(
        problems(&text),
        vec![
            "26:9: `table` of load `one_table`: every table of `all` would replace warehouse table `raw` in turn; put {table} in it (and {schema} when schemas share table names), e.g. \"raw_{schema}_{table}\""
        ]
    );
}
