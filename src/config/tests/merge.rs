//! `mode = "merge"` and its `key`.

use super::{load_test, problems, with_base};

fn load(extra: &str) -> String {
    with_base(&format!(
        r#"[[pipelines.p.tasks]]
id = "l"
kind = "load"
store = "lake"
path = "a.parquet"
warehouse = "wh"
table = "t"
{extra}
"#
    ))
}

#[test]
fn merge_takes_a_key_as_a_string_or_a_list() {
    for (extra, want) in [
        ("mode = \"merge\"\nkey = \"id\"", vec!["id"]),
        ("mode = \"merge\"\nkey = [\"a\", \"b\"]", vec!["a", "b"]),
    ] {
        let ws = load_test(&load(extra)).unwrap_or_else(|e| panic!("{extra}: {e}"));
        let task = &ws.def.pipelines["p"].tasks[0];
        assert_eq!(task.mode.as_deref(), Some("merge"));
        let want: Vec<String> = want.into_iter().map(String::from).collect();
        assert_eq!(task.key.as_ref(), Some(&want), "{extra}");
    }
}

#[test]
fn merge_needs_a_key_and_only_merge_has_one() {
    assert_eq!(
        problems(&load("mode = \"merge\"")),
        vec![
            "17:6: load task `l` of pipeline `p` has mode = \"merge\" and needs `key` (the columns that identify a row, e.g. key = [\"id\"])"
        ]
    );
    assert_eq!(
        problems(&load("mode = \"append\"\nkey = [\"id\"]")),
        vec!["24:7: `key` of task `l` of pipeline `p` is only for a load with mode = \"merge\""]
    );
    assert_eq!(
        problems(&load("key = \"id\"")),
        vec!["23:7: `key` of task `l` of pipeline `p` is only for a load with mode = \"merge\""]
    );
}

#[test]
fn bad_keys_point_at_the_value() {
    assert_eq!(
        problems(&load("mode = \"merge\"\nkey = 3")),
        vec!["24:7: `key` must be a string or a list of strings, not a number"]
    );
    assert_eq!(
        problems(&load("mode = \"merge\"\nkey = [\"id\", 3]")),
        vec!["24:14: `key` must be a string or a list of strings, not a number"]
    );
    assert_eq!(
        problems(&load("mode = \"merge\"\nkey = []")),
        vec!["24:7: `key` of task `l` of pipeline `p` names no column"]
    );
    assert_eq!(
        problems(&load("mode = \"merge\"\nkey = [\"id\", \"\", \"ID\"]")),
        vec![
            "24:14: `key` of task `l` of pipeline `p`: a column name cannot be empty",
            "24:18: `key` of task `l` of pipeline `p` names column `ID` twice",
        ]
    );
    let unknown = problems(&load("mode = \"upsert\""));
    assert_eq!(
        unknown,
        vec!["23:8: unknown mode `upsert` (replace | append | merge)"]
    );
}
