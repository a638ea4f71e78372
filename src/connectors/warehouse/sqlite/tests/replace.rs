use std::sync::{Arc, Mutex};

use arrow_array::*;
use arrow_schema::{DataType, Field, Schema};

use super::*;
#[tokio::test]
async fn replace_creates_the_table_with_exact_values() {
    let env = env().await;
    let file = env.parquet("typed.parquet", &[typed_batch()]);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let req = LoadRequest {
        file: file.clone(),
        source_uri: None,
        format: Format::Parquet,
        table: "raw_typed".into(),
        mode: LoadMode::Replace,
        key: Vec::new(),
        ledger_key: "run1/load/typed.parquet".into(),
        legacy_key: None,
    };
    let progress: LoadProgress =
        Arc::new(move |rows, bytes| log.lock().unwrap().push((rows, bytes)));
    let stats = env.wh.load(&req, progress).await.unwrap();
    let file_len = std::fs::metadata(&file).unwrap().len() as i64;
    assert_eq!(
        stats,
        LoadStats {
            rows: 3,
            bytes: file_len,
            already_loaded: false,
            how: None,
        }
    );
    assert_eq!(*seen.lock().unwrap(), vec![(3, file_len)]);

    let got = env
        .rows(
            "SELECT id, name, amount, typeof(amount), huge, at, wall, day, tod, ok, ratio, typeof(ratio),
                    doc, typeof(doc), tags, nums, raw FROM raw_typed ORDER BY id",
        )
        .await;
    let want: Vec<Vec<&str>> = vec![
        vec![
            "1",
            "Zoë 東京 🚀",
            "-12.50",
            "text",
            "1234567890123456789012345678.9012345678",
            "2024-03-01 12:34:56.789012Z",
            "1999-12-31 23:59:59.000001",
            "2024-03-01",
            "01:02:03.000004",
            "1",
            "1.5",
            "real",
            r#"{"a": [1, 2.50]}"#,
            "text",
            r#"["a",null,"ö\""]"#,
            "[1,null]",
            "[0, 255]",
        ],
        vec![
            "2",
            "NULL",
            "0.05",
            "text",
            "NULL",
            "NULL",
            "NULL",
            "1969-12-31",
            "NULL",
            "0",
            "NaN",
            "text",
            "12345678901234567890.5",
            "text",
            "NULL",
            "NULL",
            "NULL",
        ],
        vec![
            "3",
            "it's \"q\"",
            "NULL",
            "null",
            "0.0000000001",
            "1970-01-01 00:00:00.000000Z",
            "NULL",
            "NULL",
            "24:00:00.000000",
            "NULL",
            "inf",
            "real",
            "NULL",
            "null",
            "[]",
            "[]",
            "[]",
        ],
    ];
    assert_eq!(got, want);
    // SQLite's own date functions read the stored form.
    let parsed = env
        .rows("SELECT datetime(at) FROM raw_typed WHERE id = 1")
        .await;
    assert_eq!(parsed[0][0], "2024-03-01 12:34:56");

    let tables = env.wh.list_tables().await.unwrap();
    assert_eq!(tables.len(), 1, "ledger and staging are hidden");
    let t = &tables[0];
    assert_eq!(
        (t.dataset.as_str(), t.name.as_str(), t.rows),
        ("main", "raw_typed", Some(3))
    );
    let decls: Vec<(&str, &str, bool)> = t
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.ty.db_type.as_str(), c.nullable))
        .collect();
    assert_eq!(
        decls,
        vec![
            ("id", "INTEGER", false),
            ("name", "TEXT", true),
            ("amount", "NUMERIC_TEXT(12,2)", true),
            ("huge", "NUMERIC_TEXT(38,10)", true),
            ("at", "TIMESTAMP", true),
            ("wall", "DATETIME", true),
            ("day", "DATE", true),
            ("tod", "TIME", true),
            ("ok", "BOOLEAN", true),
            ("ratio", "REAL", true),
            ("doc", "JSON_TEXT", true),
            ("tags", "ARRAY_TEXT", true),
            ("nums", "ARRAY_INTEGER", true),
            ("raw", "BLOB", true),
        ]
    );
    let wt: Vec<&WarehouseType> = t.columns.iter().map(|c| &c.ty.warehouse).collect();
    assert_eq!(
        *wt[2],
        WarehouseType::Numeric {
            precision: 12,
            scale: 2
        }
    );
    assert_eq!(
        *wt[3],
        WarehouseType::BigNumeric {
            precision: 38,
            scale: 10
        }
    );
    assert_eq!(*wt[4], WarehouseType::Timestamp);
    assert_eq!(*wt[10], WarehouseType::Json);
    assert_eq!(
        *wt[11],
        WarehouseType::Repeated(Box::new(WarehouseType::String))
    );

    // A second replace swaps the whole table, schema included.
    let file = env.parquet("ids.parquet", &[ids(5)]);
    env.load(&file, "raw_typed", LoadMode::Replace, "run2")
        .await
        .unwrap();
    assert_eq!(env.count("raw_typed").await, 5);
    let t = env.wh.list_tables().await.unwrap();
    assert_eq!(t[0].columns.len(), 2);
}

/// Loads `old` rows into `t`, then checks each failing replace leaves them.
#[tokio::test]
async fn a_replace_that_fails_midway_leaves_the_old_table() {
    let env = env().await;
    let old = env.parquet("old.parquet", &[ids(3)]);
    env.load(&old, "t", LoadMode::Replace, "old").await.unwrap();
    env.rows("CREATE VIEW v AS SELECT count(*) AS n FROM t")
        .await;

    // 1. A value that cannot be carried, far into the file (after batches
    // were already inserted into staging).
    let n = 30_000u64;
    let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::UInt64, false)]));
    let values = (1..=n).map(|i| if i == 25_000 { u64::MAX } else { i });
    let bad = RecordBatch::try_new(
        schema,
        vec![Arc::new(UInt64Array::from_iter_values(values))],
    )
    .unwrap();
    let file = env.parquet("bad_value.parquet", &[bad]);
    let seen = Arc::new(Mutex::new(0i64));
    let log = seen.clone();
    let req = LoadRequest {
        file,
        source_uri: None,
        format: Format::Parquet,
        table: "t".into(),
        mode: LoadMode::Replace,
        key: Vec::new(),
        ledger_key: "bad1".into(),
        legacy_key: None,
    };
    let err = env
        .wh
        .load(&req, Arc::new(move |rows, _| *log.lock().unwrap() = rows))
        .await
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("row 25000, column `n`"), "{msg}");
    assert!(msg.contains("does not fit"), "{msg}");
    assert!(
        *seen.lock().unwrap() >= 16_384,
        "rows were staged before the failure"
    );

    // 2. A truncated file.
    let good = env.parquet("good.parquet", &[ids(50_000)]);
    let bytes = std::fs::read(&good).unwrap();
    let cut = env.dir.path().join("cut.parquet");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = env
        .load(&cut, "t", LoadMode::Replace, "bad2")
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("not a readable Parquet file"),
        "{err:#}"
    );

    // 3. A corrupt page in the last row group: fails after earlier groups.
    let meta =
        parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&good).unwrap())
            .map(|r| parquet::file::reader::FileReader::metadata(&r).clone())
            .unwrap();
    let last = meta.row_group(meta.num_row_groups() - 1).column(0);
    let at = last
        .dictionary_page_offset()
        .unwrap_or(last.data_page_offset()) as usize;
    let mut corrupt = bytes.clone();
    corrupt[at..at + 64].fill(0xff);
    let corrupt_file = env.dir.path().join("corrupt.parquet");
    std::fs::write(&corrupt_file, corrupt).unwrap();
    let err = env
        .load(&corrupt_file, "t", LoadMode::Replace, "bad3")
        .await
        .unwrap_err();
    let msg = format!("{err:#}");
    let after: i64 = msg
        .split("cannot read the rows after row ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{msg}"));
    assert!(after >= 30_000, "fails in the last row group: {msg}");

    // 4. NDJSON with a type error after the lines used for inference.
    let mut lines: Vec<String> = (1..=5000).map(|i| format!(r#"{{"id": {i}}}"#)).collect();
    lines[4000] = r#"{"id": "four thousand and one"}"#.into();
    let file = env.ndjson("bad.ndjson", &lines);
    let err = env
        .load(&file, "t", LoadMode::Replace, "bad4")
        .await
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("line 4001, field `id`: expected an integer"),
        "{msg}"
    );

    assert_eq!(
        env.rows("SELECT id, label FROM t ORDER BY id").await,
        vec![vec!["1", "row 1"], vec!["2", "row 2"], vec!["3", "row 3"]]
    );
    assert_eq!(env.rows("SELECT n FROM v").await, vec![vec!["3"]]);
    let leftovers = env
        .rows("SELECT name FROM sqlite_schema WHERE name LIKE '%staging%'")
        .await;
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(
        env.rows("SELECT ledger_key FROM _switchyard_loads").await,
        vec![vec!["old|t"]]
    );

    // And the view still works after a successful replace.
    env.load(&good, "t", LoadMode::Replace, "good")
        .await
        .unwrap();
    assert_eq!(env.rows("SELECT n FROM v").await, vec![vec!["50000"]]);
}

const CHILD_ENV: &str = "SWITCHYARD_TEST_KILLED_LOADER_DIR";
const CHILD_TEST: &str =
    "connectors::warehouse::sqlite::tests::replace::child_loader_for_kill_test";

/// Plays the loader for `a_load_killed_midway_changes_nothing`: replaces `t`
/// slowly and is killed mid-way. Does nothing in a normal test run.
#[tokio::test]
async fn child_loader_for_kill_test() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let wh = SqliteWarehouse::open(&dir.join("warehouse.db"))
        .await
        .unwrap();
    let req = LoadRequest {
        file: dir.join("big.parquet"),
        source_uri: None,
        format: Format::Parquet,
        table: "t".into(),
        mode: LoadMode::Replace,
        key: Vec::new(),
        ledger_key: "killed".into(),
        legacy_key: None,
    };
    let progress: LoadProgress = Arc::new(|rows, _| {
        println!("LOADED {rows}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    });
    wh.load(&req, progress).await.unwrap();
    std::process::exit(3); // should have been killed long before
}

#[tokio::test]
async fn a_load_killed_midway_changes_nothing() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let env = env().await;
    let dir = env.wh.path().parent().unwrap().to_path_buf();
    let old = env.parquet("old.parquet", &[ids(3)]);
    env.load(&old, "t", LoadMode::Replace, "old").await.unwrap();
    let big = env.parquet("big.parquet", &[ids(200_000)]);
    std::fs::rename(&big, dir.join("big.parquet")).unwrap();

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([CHILD_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let loading = stdout
        .lines()
        .map_while(Result::ok)
        .any(|l| l.starts_with("LOADED 16384"));
    assert!(loading, "the child loader never got going");
    child.kill().unwrap(); // SIGKILL mid-transaction
    assert!(!child.wait().unwrap().success());

    // A fresh connection sees the table as it was: the open transaction
    // never committed, so SQLite discards it.
    drop(env.wh);
    let wh = SqliteWarehouse::open(&dir.join("warehouse.db"))
        .await
        .unwrap();
    let tables = wh.list_tables().await.unwrap();
    assert_eq!(tables.len(), 1);
    assert_eq!((tables[0].name.as_str(), tables[0].rows), ("t", Some(3)));
    let keys: Vec<String> = sqlx::query_scalar("SELECT ledger_key FROM _switchyard_loads")
        .fetch_all(wh.pool())
        .await
        .unwrap();
    assert_eq!(keys, vec!["old|t"]);
}
