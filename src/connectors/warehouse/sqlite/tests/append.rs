use std::sync::Arc;

use arrow_array::*;
use arrow_schema::{DataType, Field, Schema};

use super::*;
#[tokio::test]
async fn append_is_idempotent_per_ledger_key() {
    let env = env().await;
    let file = env.parquet("ids.parquet", &[ids(3)]);
    let first = env
        .load(&file, "events", LoadMode::Append, "run1/load/ids")
        .await
        .unwrap();
    assert_eq!((first.rows, first.already_loaded), (3, false));
    let again = env
        .load(&file, "events", LoadMode::Append, "run1/load/ids")
        .await
        .unwrap();
    assert_eq!(
        again,
        LoadStats {
            rows: 3,
            bytes: 0,
            already_loaded: true,
            how: None,
        }
    );
    assert_eq!(env.count("events").await, 3);

    env.load(&file, "events", LoadMode::Append, "run2/load/ids")
        .await
        .unwrap();
    assert_eq!(env.count("events").await, 6);
    // A replace under a key already loaded is skipped too.
    let skipped = env
        .load(&file, "events", LoadMode::Replace, "run2/load/ids")
        .await
        .unwrap();
    assert!(skipped.already_loaded);
    assert_eq!(env.count("events").await, 6);
    let ledger = env
        .rows("SELECT ledger_key, table_name, rows, loaded_at LIKE '____-__-__ __:__:__.______Z' FROM _switchyard_loads ORDER BY ledger_key")
        .await;
    assert_eq!(
        ledger,
        vec![
            vec!["run1/load/ids|events", "events", "3", "1"],
            vec!["run2/load/ids|events", "events", "3", "1"]
        ]
    );
}

#[tokio::test]
async fn append_keeps_the_table_columns() {
    let env = env().await;
    let file = env.parquet("ids.parquet", &[ids(2)]);
    env.load(&file, "t", LoadMode::Append, "a").await.unwrap();

    // A subset of the columns, in another order: the others are NULL.
    let schema = Schema::new(vec![Field::new("ID", DataType::Int32, false)]);
    let only_id =
        RecordBatch::try_new(Arc::new(schema), vec![Arc::new(Int32Array::from(vec![7]))]).unwrap();
    let file = env.parquet("only_id.parquet", &[only_id]);
    env.load(&file, "t", LoadMode::Append, "b").await.unwrap();
    assert_eq!(
        env.rows("SELECT id, label FROM t WHERE id = 7").await,
        vec![vec!["7", "NULL"]]
    );

    let schema = Schema::new(vec![Field::new("extra", DataType::Int32, false)]);
    let extra =
        RecordBatch::try_new(Arc::new(schema), vec![Arc::new(Int32Array::from(vec![1]))]).unwrap();
    let file = env.parquet("extra.parquet", &[extra]);
    let err = env
        .load(&file, "t", LoadMode::Append, "c")
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("column `extra` is not in table `t`"),
        "{err:#}"
    );

    let schema = Schema::new(vec![Field::new("label", DataType::Float64, true)]);
    let other = RecordBatch::try_new(
        Arc::new(schema),
        vec![Arc::new(Float64Array::from(vec![1.0]))],
    )
    .unwrap();
    let file = env.parquet("other.parquet", &[other]);
    let err = env
        .load(&file, "t", LoadMode::Append, "d")
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("column `label` is TEXT in table `t` but REAL"),
        "{err:#}"
    );
    assert_eq!(env.count("t").await, 3);
}

#[tokio::test]
async fn awkward_table_names_are_quoted() {
    let env = env().await;
    let file = env.parquet("ids.parquet", &[ids(2)]);
    let names = [
        "we\"ird",
        "select",
        "with space",
        "a.b",
        "Ünïcødé 表",
        "it's",
        "x\"; DROP TABLE \"select\"; --",
        "[brackets]",
    ];
    for (i, name) in names.iter().enumerate() {
        env.load(&file, name, LoadMode::Replace, &format!("k{i}"))
            .await
            .unwrap();
        env.load(&file, name, LoadMode::Append, &format!("a{i}"))
            .await
            .unwrap();
        assert_eq!(env.count(name).await, 4, "{name}");
    }
    let listed: Vec<String> = env
        .wh
        .list_tables()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(listed, want);

    for bad in [
        "",
        "sqlite_master",
        "_switchyard_loads",
        "_SWITCHYARD_x",
        "a\0b",
    ] {
        let err = env
            .load(&file, bad, LoadMode::Replace, "bad")
            .await
            .unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("reserved") || msg.contains("empty") || msg.contains("NUL"),
            "{msg}"
        );
    }
}

#[tokio::test]
async fn ndjson_loads_infer_or_take_the_table_columns() {
    let env = env().await;
    let lines = [
        r#"{"id": 1, "name": "Zoë", "score": 1, "tags": ["a"], "seen": "2024-01-02T03:04:05.000001Z"}"#,
        r#"{"id": 2, "name": null, "score": 2.5, "tags": null, "flag": true}"#,
        "",
        r#"{"id": 3, "name": "x", "score": null, "tags": {"k": 1}, "flag": false}"#,
    ]
    .map(String::from);
    let file = env.ndjson("in.ndjson", &lines);
    let stats = env.load(&file, "j", LoadMode::Replace, "1").await.unwrap();
    assert_eq!(stats.rows, 3);
    let t = env.wh.list_tables().await.unwrap();
    let decls: Vec<(&str, &str)> = t[0]
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.ty.db_type.as_str()))
        .collect();
    assert_eq!(
        decls,
        vec![
            ("id", "INTEGER"),
            ("name", "TEXT"),
            ("score", "REAL"),
            ("tags", "JSON_TEXT"),
            ("seen", "TEXT"),
            ("flag", "BOOLEAN"),
        ]
    );
    assert_eq!(
        env.rows("SELECT id, name, score, tags, seen, flag FROM j ORDER BY id")
            .await,
        vec![
            vec![
                "1",
                "Zoë",
                "1",
                r#"["a"]"#,
                "2024-01-02T03:04:05.000001Z",
                "NULL"
            ],
            vec!["2", "NULL", "2.5", "NULL", "NULL", "1"],
            vec!["3", "x", "NULL", r#"{"k":1}"#, "NULL", "0"],
        ]
    );

    // An empty file replacing the table keeps its columns.
    let empty = env.ndjson("empty.ndjson", &[]);
    env.load(&empty, "j", LoadMode::Replace, "1b")
        .await
        .unwrap();
    assert_eq!(env.count("j").await, 0);
    assert_eq!(env.wh.list_tables().await.unwrap()[0].columns.len(), 6);
    let err = env
        .load(&empty, "new", LoadMode::Replace, "1c")
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("no rows to infer columns from"),
        "{err:#}"
    );

    // Appending NDJSON to a Parquet-made table takes its columns and types.
    let typed = env.parquet("typed.parquet", &[typed_batch()]);
    env.load(&typed, "typed", LoadMode::Replace, "2")
        .await
        .unwrap();
    let line = r#"{"id": 9, "amount": "7.10", "at": "2024-05-06T07:08:09.000010Z", "raw": "AP8=", "tags": ["z"]}"#;
    let file = env.ndjson("more.ndjson", &[line.to_string()]);
    env.load(&file, "typed", LoadMode::Append, "3")
        .await
        .unwrap();
    assert_eq!(
        env.rows("SELECT amount, typeof(amount), at, hex(raw), tags FROM typed WHERE id = 9")
            .await,
        vec![vec![
            "7.10",
            "text",
            "2024-05-06 07:08:09.000010Z",
            "00FF",
            r#"["z"]"#
        ]]
    );
    let file = env.ndjson(
        "unknown.ndjson",
        &[r#"{"id": 10}"#.into(), r#"{"nope": 1}"#.into()],
    );
    let err = env
        .load(&file, "typed", LoadMode::Append, "4")
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("line 2, field `nope`: not a column"),
        "{err:#}"
    );
    assert_eq!(env.count("typed").await, 4);

    // CSV carries no types: refused with a hint.
    let csv = env.dir.path().join("x.csv");
    std::fs::write(&csv, "a\n1\n").unwrap();
    let err = env
        .load(&csv, "c", LoadMode::Replace, "5")
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("CSV"), "{err:#}");
}

#[tokio::test]
async fn an_append_already_done_is_skipped_only_for_its_own_table() {
    let env = env().await;
    let file = env.parquet("ids.parquet", &[ids(3)]);
    env.load(&file, "events", LoadMode::Append, "k")
        .await
        .unwrap();
    // The same table however it is cased: done.
    let again = env
        .load(&file, "EVENTS", LoadMode::Append, "k")
        .await
        .unwrap();
    assert!(again.already_loaded);
    // A task whose `table` was fixed since loads into the new one.
    let moved = env
        .load(&file, "events_v2", LoadMode::Append, "k")
        .await
        .unwrap();
    assert!(!moved.already_loaded);
    assert_eq!(
        (env.count("events").await, env.count("events_v2").await),
        (3, 3)
    );
}

#[tokio::test]
async fn a_replace_is_skipped_only_while_its_bytes_are_what_the_table_holds() {
    let env = env().await;
    let three = env.parquet("three.parquet", &[ids(3)]);
    let five = env.parquet("five.parquet", &[ids(5)]);
    let load = |file, key| env.load(file, "users", LoadMode::Replace, key);
    assert!(!load(&three, "x").await.unwrap().already_loaded);
    assert!(
        load(&three, "x").await.unwrap().already_loaded,
        "nothing changed"
    );
    assert!(!load(&five, "y").await.unwrap().already_loaded);
    assert_eq!(env.count("users").await, 5);
    // Back to the first bytes (rows restored at the source): loaded again.
    let back = load(&three, "x").await.unwrap();
    assert!(!back.already_loaded);
    assert_eq!(env.count("users").await, 3);
    assert!(load(&three, "x").await.unwrap().already_loaded);
    // A table dropped since is loaded again.
    sqlx::query("DROP TABLE users")
        .execute(env.wh.pool())
        .await
        .unwrap();
    assert!(!load(&three, "x").await.unwrap().already_loaded);
    assert_eq!(env.count("users").await, 3);
}

#[tokio::test]
async fn an_append_recorded_by_an_older_version_is_not_done_again() {
    let env = env().await;
    let file = env.parquet("ids.parquet", &[ids(3)]);
    env.load(&file, "events", LoadMode::Append, "any")
        .await
        .unwrap();
    // Older versions keyed the ledger by run, task and path alone.
    sqlx::query("UPDATE _switchyard_loads SET ledger_key = 'run 1@1/ap/ids.parquet'")
        .execute(env.wh.pool())
        .await
        .unwrap();
    let req = LoadRequest {
        file: file.clone(),
        source_uri: None,
        format: Format::Parquet,
        table: "events".into(),
        mode: LoadMode::Append,
        key: Vec::new(),
        ledger_key: "run 1@1/ap/ids.parquet#sha256:ab".into(),
        legacy_key: Some("run 1@1/ap/ids.parquet".into()),
    };
    let stats = env.wh.load(&req, Arc::new(|_, _| {})).await.unwrap();
    assert!(stats.already_loaded);
    assert_eq!(env.count("events").await, 3);
}
