use std::sync::Arc;

use arrow_array::*;
use arrow_schema::{DataType, Field, Schema};

use super::*;

/// Rows of (id, label); an id may be NULL.
fn rows(rows: &[(Option<i64>, &str)]) -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("label", DataType::Utf8, true),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
        ],
    )
    .unwrap()
}

async fn all(env: &Env) -> Vec<Vec<String>> {
    env.rows("SELECT id, label FROM t ORDER BY id").await
}

fn table(rows: &[(i64, &str)]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|(i, l)| vec![i.to_string(), l.to_string()])
        .collect()
}

#[tokio::test]
async fn merge_updates_by_key_inserts_new_keys_and_leaves_the_rest() {
    let env = env().await;
    let first = env.parquet(
        "a.parquet",
        &[rows(&[
            (Some(1), "one"),
            (Some(2), "two"),
            (Some(3), "three"),
        ])],
    );
    // The table is missing: the merge creates it.
    let stats = env.merge(&first, "t", &["id"], "run1/l/a").await.unwrap();
    assert_eq!((stats.rows, stats.already_loaded), (3, false));
    assert_eq!(
        all(&env).await,
        table(&[(1, "one"), (2, "two"), (3, "three")])
    );

    let second = env.parquet("b.parquet", &[rows(&[(Some(4), "four"), (Some(2), "TWO")])]);
    let stats = env.merge(&second, "t", &["id"], "run2/l/b").await.unwrap();
    assert_eq!((stats.rows, stats.already_loaded), (2, false));
    assert_eq!(
        all(&env).await,
        table(&[(1, "one"), (2, "TWO"), (3, "three"), (4, "four")])
    );

    // The same ledger key again does nothing, even after the table changed.
    env.rows("UPDATE t SET label = 'changed' WHERE id = 2")
        .await;
    let again = env.merge(&second, "t", &["id"], "run2/l/b").await.unwrap();
    assert!(again.already_loaded);
    assert_eq!(again.rows, 2);
    assert_eq!(env.count("t").await, 4);
    assert_eq!(
        env.rows("SELECT label FROM t WHERE id = 2").await,
        vec![vec!["changed"]]
    );
    // The staging table is gone, and the key has its unique index.
    assert_eq!(
        env.rows("SELECT count(*) FROM sqlite_schema WHERE name = '_switchyard_staging'")
            .await,
        vec![vec!["0"]]
    );
    assert_eq!(
        env.rows("SELECT count(*) FROM pragma_index_list('t') WHERE \"unique\" = 1")
            .await,
        vec![vec!["1"]]
    );
    assert_eq!(
        env.rows("SELECT ledger_key FROM _switchyard_loads ORDER BY ledger_key")
            .await,
        vec![vec!["run1/l/a|t"], vec!["run2/l/b|t"]]
    );
}

#[tokio::test]
async fn a_null_key_is_refused_and_the_table_is_unchanged() {
    let env = env().await;
    let first = env.parquet("a.parquet", &[rows(&[(Some(1), "one")])]);
    env.merge(&first, "t", &["id"], "a").await.unwrap();
    let bad = env.parquet(
        "b.parquet",
        &[rows(&[
            (Some(1), "ONE"),
            (Some(5), "five"),
            (None, "nobody"),
        ])],
    );
    let err = env.merge(&bad, "t", &["id"], "b").await.unwrap_err();
    assert!(
        format!("{err:#}").contains("row 3 of the file has no value (NULL) in key column `id`"),
        "{err:#}"
    );
    assert_eq!(all(&env).await, table(&[(1, "one")]));
    // Refused loads leave no ledger row: fixed, the same key loads.
    assert_eq!(env.count("_switchyard_loads").await, 1);
}

#[tokio::test]
async fn a_key_twice_in_the_file_is_refused_naming_it() {
    let env = env().await;
    let first = env.parquet("a.parquet", &[rows(&[(Some(1), "one")])]);
    env.merge(&first, "t", &["id"], "a").await.unwrap();
    let bad = env.parquet(
        "b.parquet",
        &[rows(&[(Some(7), "x"), (Some(1), "ONE"), (Some(7), "y")])],
    );
    let err = env.merge(&bad, "t", &["id"], "b").await.unwrap_err();
    assert!(
        format!("{err:#}").contains("the file has key id = 7 2 times (rows 1 and 3)"),
        "{err:#}"
    );
    assert_eq!(all(&env).await, table(&[(1, "one")]));

    // Into a missing table too: nothing is created.
    let err = env.merge(&bad, "fresh", &["id"], "c").await.unwrap_err();
    assert!(format!("{err:#}").contains("id = 7"), "{err:#}");
    assert_eq!(
        env.rows("SELECT count(*) FROM sqlite_schema WHERE name = 'fresh'")
            .await,
        vec![vec!["0"]]
    );
}

#[tokio::test]
async fn key_columns_must_be_in_the_file_and_the_table() {
    let env = env().await;
    let first = env.parquet("a.parquet", &[rows(&[(Some(1), "one")])]);
    env.merge(&first, "t", &["id"], "a").await.unwrap();

    let err = env.merge(&first, "t", &["nope"], "b").await.unwrap_err();
    assert!(
        format!("{err:#}").contains("key column `nope` is not in table `t`"),
        "{err:#}"
    );
    let err = env
        .merge(&first, "other", &["nope"], "c")
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("key column `nope` is not in the file"),
        "{err:#}"
    );
    // A column the table lacks is refused, as for an append.
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("extra", DataType::Int64, true),
    ]);
    let extra = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(Int64Array::from(vec![1])),
            Arc::new(Int64Array::from(vec![9])),
        ],
    )
    .unwrap();
    let file = env.parquet("extra.parquet", &[extra]);
    let err = env.merge(&file, "t", &["id"], "d").await.unwrap_err();
    assert!(
        format!("{err:#}").contains("the file's column `extra` is not in table `t` (merge keeps"),
        "{err:#}"
    );
    assert_eq!(all(&env).await, table(&[(1, "one")]));
}

#[tokio::test]
async fn a_composite_key_and_columns_the_file_lacks() {
    let env = env().await;
    env.rows("CREATE TABLE t (region TEXT, id INTEGER, label TEXT, note TEXT)")
        .await;
    env.rows("INSERT INTO t VALUES ('eu', 1, 'eu one', 'kept'), ('us', 1, 'us one', 'kept')")
        .await;
    let lines = [
        r#"{"region": "eu", "id": 1, "label": "EU ONE"}"#.to_string(),
        r#"{"region": "eu", "id": 2, "label": "eu two"}"#.to_string(),
    ];
    let file = env.ndjson("b.ndjson", &lines);
    env.merge(&file, "t", &["region", "id"], "b").await.unwrap();
    // NDJSON takes the table's columns: a field a line lacks is NULL.
    assert_eq!(
        env.rows("SELECT region, id, label, note FROM t ORDER BY region, id")
            .await,
        vec![
            vec!["eu", "1", "EU ONE", "NULL"],
            vec!["eu", "2", "eu two", "NULL"],
            vec!["us", "1", "us one", "kept"],
        ]
    );
    // Parquet updates only the file's columns.
    let file = env.parquet("c.parquet", &[rows(&[(Some(1), "us ONE")])]);
    let err = env
        .merge(&file, "t", &["region", "id"], "c")
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("key column `region` is not in the file"),
        "{err:#}"
    );
    let file = env.parquet("d.parquet", &[rows(&[(Some(1), "x"), (Some(3), "three")])]);
    env.rows("DELETE FROM t").await;
    env.rows("INSERT INTO t VALUES ('eu', 1, 'old', 'kept')")
        .await;
    env.merge(&file, "t", &["id"], "d").await.unwrap();
    assert_eq!(
        env.rows("SELECT region, id, label, note FROM t ORDER BY id")
            .await,
        vec![
            vec!["eu", "1", "x", "kept"],
            vec!["NULL", "3", "three", "NULL"],
        ]
    );
}

#[tokio::test]
async fn a_table_with_duplicate_keys_is_refused() {
    let env = env().await;
    env.rows("CREATE TABLE t (id INTEGER, label TEXT)").await;
    env.rows("INSERT INTO t VALUES (1, 'a'), (1, 'b')").await;
    let file = env.parquet("a.parquet", &[rows(&[(Some(2), "two")])]);
    let err = env.merge(&file, "t", &["id"], "a").await.unwrap_err();
    assert!(
        format!("{err:#}").contains("table `t` already holds rows with the same key (id)"),
        "{err:#}"
    );
    assert_eq!(env.count("t").await, 2);
}
