use std::io::Write as _;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::types::Int32Type;
use arrow_array::*;
use arrow_schema::extension::Json;
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

use super::*;
use crate::format::Format;
use crate::format::types::WarehouseType;

mod append;
mod merge;
mod replace;

pub(super) struct Env {
    pub dir: tempfile::TempDir,
    pub wh: SqliteWarehouse,
}

pub(super) async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let wh = SqliteWarehouse::open(&dir.path().join("wh/warehouse.db"))
        .await
        .unwrap();
    Env { dir, wh }
}

impl Env {
    pub(super) fn parquet(&self, name: &str, batches: &[RecordBatch]) -> PathBuf {
        let path = self.dir.path().join(name);
        let file = std::fs::File::create(&path).unwrap();
        // Small row groups, so a file can hold several.
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(10_000))
            .build();
        let mut w = ArrowWriter::try_new(file, batches[0].schema(), Some(props)).unwrap();
        for b in batches {
            w.write(b).unwrap();
        }
        w.close().unwrap();
        path
    }

    pub(super) fn ndjson(&self, name: &str, lines: &[String]) -> PathBuf {
        let path = self.dir.path().join(name);
        let mut f = std::fs::File::create(&path).unwrap();
        for l in lines {
            writeln!(f, "{l}").unwrap();
        }
        path
    }

    pub(super) async fn load(
        &self,
        file: &Path,
        table: &str,
        mode: LoadMode,
        key: &str,
    ) -> Result<LoadStats> {
        self.load_keyed(file, table, mode, &[], key).await
    }

    /// A merge by `columns`, under ledger key `key`.
    pub(super) async fn merge(
        &self,
        file: &Path,
        table: &str,
        columns: &[&str],
        key: &str,
    ) -> Result<LoadStats> {
        self.load_keyed(file, table, LoadMode::Merge, columns, key)
            .await
    }

    async fn load_keyed(
        &self,
        file: &Path,
        table: &str,
        mode: LoadMode,
        columns: &[&str],
        key: &str,
    ) -> Result<LoadStats> {
        let format = Format::from_path(&file.display().to_string()).unwrap();
        let req = LoadRequest {
            file: file.to_path_buf(),
            source_uri: None,
            format,
            table: table.into(),
            mode,
            key: columns.iter().map(|c| c.to_string()).collect(),
            ledger_key: key.into(),
            legacy_key: None,
        };
        self.wh.load(&req, Arc::new(|_, _| {})).await
    }

    pub(super) async fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        let rows = sqlx::query(AssertSqlSafe(sql.to_string()))
            .fetch_all(self.wh.pool())
            .await
            .unwrap();
        rows.iter()
            .map(|r| (0..r.len()).map(|i| text(r, i)).collect())
            .collect()
    }

    pub(super) async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT count(*) FROM {}",
            quote(table)
        )))
        .fetch_one(self.wh.pool())
        .await
        .unwrap()
    }
}

/// A value as text, whatever its storage class.
pub(super) fn text(row: &sqlx::sqlite::SqliteRow, i: usize) -> String {
    use sqlx::{TypeInfo, ValueRef};
    let raw = row.try_get_raw(i).unwrap();
    if raw.is_null() {
        return "NULL".into();
    }
    match raw.type_info().name() {
        "INTEGER" => row.get::<i64, _>(i).to_string(),
        "REAL" => row.get::<f64, _>(i).to_string(),
        "BLOB" => format!("{:?}", row.get::<Vec<u8>, _>(i)),
        _ => row.get::<String, _>(i),
    }
}

pub(super) fn ids(n: i64) -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("label", DataType::Utf8, true),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(Int64Array::from_iter_values(1..=n)),
            Arc::new(StringArray::from_iter_values(
                (1..=n).map(|i| format!("row {i}")),
            )),
        ],
    )
    .unwrap()
}

/// Every type the exporters produce, with NULLs, non-ASCII and edge values.
pub(super) fn typed_batch() -> RecordBatch {
    let mut tags = ListBuilder::new(StringBuilder::new());
    tags.append_value([Some("a"), None, Some("ö\"")]);
    tags.append_null();
    tags.append_value(Vec::<Option<&str>>::new());
    let tags = tags.finish();
    let nums = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), None]),
        None,
        Some(vec![]),
    ]);
    let doc = Field::new("doc", DataType::Utf8, true).with_extension_type(Json::default());
    let us = |s: &str| {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
            .unwrap()
            .and_utc()
            .timestamp_micros()
    };
    let fields = vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("amount", DataType::Decimal128(12, 2), true),
        Field::new("huge", DataType::Decimal128(38, 10), true),
        Field::new(
            "at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new(
            "wall",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            true,
        ),
        Field::new("day", DataType::Date32, true),
        Field::new("tod", DataType::Time64(TimeUnit::Microsecond), true),
        Field::new("ok", DataType::Boolean, true),
        Field::new("ratio", DataType::Float64, true),
        doc,
        Field::new("tags", tags.data_type().clone(), true),
        Field::new("nums", nums.data_type().clone(), true),
        Field::new("raw", DataType::Binary, true),
    ];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![1, 2, 3])),
        Arc::new(StringArray::from(vec![
            Some("Zoë 東京 🚀"),
            None,
            Some("it's \"q\""),
        ])),
        Arc::new(
            Decimal128Array::from(vec![Some(-1250), Some(5), None])
                .with_precision_and_scale(12, 2)
                .unwrap(),
        ),
        Arc::new(
            Decimal128Array::from(vec![
                Some(12_345_678_901_234_567_890_123_456_789_012_345_678),
                None,
                Some(1),
            ])
            .with_precision_and_scale(38, 10)
            .unwrap(),
        ),
        Arc::new(
            TimestampMicrosecondArray::from(vec![
                Some(us("2024-03-01 12:34:56.789012")),
                None,
                Some(0),
            ])
            .with_timezone("UTC"),
        ),
        Arc::new(TimestampMicrosecondArray::from(vec![
            Some(us("1999-12-31 23:59:59.000001")),
            None,
            None,
        ])),
        Arc::new(Date32Array::from(vec![Some(19_783), Some(-1), None])),
        Arc::new(Time64MicrosecondArray::from(vec![
            Some(3_723_000_004),
            None,
            Some(86_400_000_000),
        ])),
        Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
        Arc::new(Float64Array::from(vec![
            Some(1.5),
            Some(f64::NAN),
            Some(f64::INFINITY),
        ])),
        Arc::new(StringArray::from(vec![
            Some(r#"{"a": [1, 2.50]}"#),
            Some("12345678901234567890.5"),
            None,
        ])),
        Arc::new(tags),
        Arc::new(nums),
        Arc::new(BinaryArray::from(vec![
            Some(&[0u8, 255][..]),
            None,
            Some(b""),
        ])),
    ];
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}
