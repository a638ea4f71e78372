//! Every row of the Postgres mapping table, round-tripped through a real
//! server: the decoded Arrow values are checked, not just counts and types.

mod pg_support;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ListArray};
use arrow_schema::{DataType, TimeUnit};
use chrono::NaiveDate;
use pg_support::{export, only, scratch};
use switchyard::connectors::source::{ExportInput, ExportOptions, Lossy, Source, TableName};
use switchyard::format::types::WarehouseType;

fn micros(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|d| d.and_hms_micro_opt(h, mi, s, us))
        .expect("valid timestamp")
        .and_utc()
        .timestamp_micros()
}

fn days(y: i32, m: u32, d: u32) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let date = NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
    (date - epoch).num_days() as i32
}

const CREATE: &str = r#"
CREATE TYPE {S}.mood AS ENUM ('sad', 'happy');
CREATE DOMAIN {S}.price AS numeric(10,2);
CREATE TABLE {S}.all_types (
  id int4 PRIMARY KEY,
  i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
  n numeric(12,3), nbig numeric(48,10), nhuge numeric(70,10), nu numeric, nneg numeric(3,-2),
  t text, vc varchar(20), ch char(5), nm name, mood {S}.mood, ci citext,
  b bool, d date, tm time, ts timestamp, tstz timestamptz, iv interval,
  js json, jb jsonb, u uuid, by bytea,
  a2 int2[], a4 int4[], a8 int8[], atx text[], avc varchar(10)[],
  dom {S}.price, ip inet, o oid
);
INSERT INTO {S}.all_types VALUES
 (1, 12, -34, 9007199254740993, 1.5, -2.25,
  1234.5, '12345678901234567890123456789012345678.0123456789', 1.5, 3.14159, 12345,
  'héllo wörld ☃ 日本', 'varchar', 'ab', 'a_name', 'happy', 'MiXeD',
  true, '2024-02-29', '13:45:56.789012', '2024-01-02 03:04:05.678901',
  '2024-06-01 12:00:00.5+02', '1 year 2 mons 3 days 04:05:06.5',
  '{"b": 1,  "a": [1, 2]}', '{"b": 1, "a": [1, 2], "é": "ü"}',
  'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '\x00ff10',
  '{1,2}', '{1,NULL,3}', '{9007199254740993}', '{"a b","ü",NULL,""}', '{x}',
  19.99, '192.168.0.1/24', 42),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL),
 (3, -32768, 2147483647, -9223372036854775808, 'NaN', '-Infinity',
  -0.001, -1, -2, -12345678901234567890.123456789, -100,
  '', '', '', '', 'sad', '',
  false, '1969-12-31', '00:00:00', '1970-01-01 00:00:00',
  '1999-12-31 23:59:59.999999+00', '-1 mons +2 days -00:00:01.5',
  'null', '[]', '00000000-0000-0000-0000-000000000000', '\x',
  '{}', '{}', '{}', '{}', '{}', -0.01, '::1', 4294967295);
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_round_trips_with_its_values() {
    let Some(mut db) = scratch("types").await else {
        return;
    };
    // citext is an extension (database-wide); create it once if missing.
    db.exec("CREATE EXTENSION IF NOT EXISTS citext").await;
    db.exec(&CREATE.replace("{S}", &db.q())).await;
    let src = db.source().await;
    let table = TableName {
        schema: db.schema.clone(),
        name: "all_types".into(),
    };

    // The catalog side of the mapping table.
    let detail = src.describe(&table).await.expect("describe");
    assert_eq!(detail.primary_key, vec!["id"]);
    let col = |n: &str| {
        detail
            .columns
            .iter()
            .find(|c| c.name == n)
            .unwrap_or_else(|| panic!("column {n}"))
    };
    assert!(!col("id").nullable && col("i2").nullable);
    assert_eq!(col("n").ty.db_type, "numeric(12,3)");
    assert_eq!(
        col("n").ty.warehouse,
        WarehouseType::Numeric {
            precision: 12,
            scale: 3
        }
    );
    assert_eq!(col("dom").ty.arrow, DataType::Decimal128(10, 2));
    assert_eq!(col("tstz").ty.warehouse, WarehouseType::Timestamp);
    assert_eq!(col("mood").ty.arrow, DataType::Utf8);
    assert_eq!(col("ci").ty.arrow, DataType::Utf8);
    assert_eq!(
        col("a8").ty.warehouse,
        WarehouseType::Repeated(Box::new(WarehouseType::Int64))
    );

    let opts = ExportOptions {
        batch_rows: 100,
        ..Default::default()
    };
    let e = export(&src, ExportInput::Table(table.clone()), opts)
        .await
        .expect("export");
    assert_eq!(e.stats.rows, 3);
    assert!(e.stats.source_bytes > 0);
    assert!(e.stats.warnings.is_empty(), "{:?}", e.stats.warnings);
    let b = only(&e);
    let s = b.schema();
    let field = |n: &str| s.field_with_name(n).expect("field").clone();
    assert_eq!(
        field("tstz").data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    );
    assert_eq!(
        field("ts").data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, None)
    );
    assert_eq!(field("jb").extension_type_name(), Some("arrow.json"));
    assert_eq!(field("js").extension_type_name(), Some("arrow.json"));
    assert_eq!(field("nbig").data_type(), &DataType::Decimal256(48, 10));
    assert_eq!(
        field("nhuge").data_type(),
        &DataType::Utf8,
        "too wide: text"
    );
    assert_eq!(field("nu").data_type(), &DataType::Decimal128(38, 9));
    assert_eq!(field("nneg").data_type(), &DataType::Decimal128(5, 0));
    assert!(!field("id").is_nullable());

    let c = |n: &str| b.column_by_name(n).expect("column").clone();
    // Row 2 is NULL in every column but the key.
    for (i, f) in s.fields().iter().enumerate().skip(1) {
        assert!(b.column(i).is_null(1), "{} should be NULL", f.name());
    }

    let i2 = c("i2");
    let i2 = i2.as_primitive::<Int16Type>();
    assert_eq!((i2.value(0), i2.value(2)), (12, i16::MIN));
    let i4 = c("i4");
    let i4 = i4.as_primitive::<Int32Type>();
    assert_eq!((i4.value(0), i4.value(2)), (-34, i32::MAX));
    let i8 = c("i8");
    let i8 = i8.as_primitive::<Int64Type>();
    assert_eq!(
        (i8.value(0), i8.value(2)),
        (9_007_199_254_740_993, i64::MIN)
    );
    let f4 = c("f4");
    let f4 = f4.as_primitive::<Float32Type>();
    assert_eq!(f4.value(0), 1.5);
    assert!(f4.value(2).is_nan());
    let f8 = c("f8");
    let f8 = f8.as_primitive::<Float64Type>();
    assert_eq!((f8.value(0), f8.value(2)), (-2.25, f64::NEG_INFINITY));

    let n = c("n");
    let n = n.as_primitive::<Decimal128Type>();
    assert_eq!((n.value(0), n.value(2)), (1_234_500, -1));
    let nbig = c("nbig");
    let nbig = nbig.as_primitive::<Decimal256Type>();
    assert_eq!(
        nbig.value_as_string(0),
        "12345678901234567890123456789012345678.0123456789"
    );
    assert_eq!(nbig.value_as_string(2), "-1.0000000000");
    let nu = c("nu");
    let nu = nu.as_primitive::<Decimal128Type>();
    assert_eq!(nu.value_as_string(0), "3.141590000");
    assert_eq!(nu.value_as_string(2), "-12345678901234567890.123456789");
    let nneg = c("nneg");
    let nneg = nneg.as_primitive::<Decimal128Type>();
    assert_eq!((nneg.value(0), nneg.value(2)), (12_300, -100));
    let dom = c("dom");
    let dom = dom.as_primitive::<Decimal128Type>();
    assert_eq!((dom.value(0), dom.value(2)), (1999, -1));

    let text = |n: &str, i: usize| c(n).as_string::<i32>().value(i).to_string();
    assert_eq!(text("nhuge", 0), "1.5000000000");
    assert_eq!(text("nhuge", 2), "-2.0000000000");
    assert_eq!(text("t", 0), "héllo wörld ☃ 日本");
    assert_eq!(text("t", 2), "");
    assert_eq!(text("vc", 0), "varchar");
    assert_eq!(text("ch", 0), "ab   ", "char(n) keeps its padding");
    assert_eq!(text("nm", 0), "a_name");
    assert_eq!(
        (text("mood", 0), text("mood", 2)),
        ("happy".into(), "sad".into())
    );
    assert_eq!(text("ci", 0), "MiXeD");
    assert_eq!(
        text("js", 0),
        r#"{"b": 1,  "a": [1, 2]}"#,
        "json is kept as written"
    );
    assert_eq!(text("js", 2), "null");
    assert_eq!(text("jb", 0), r#"{"a": [1, 2], "b": 1, "é": "ü"}"#);
    assert_eq!(text("jb", 2), "[]");
    assert_eq!(text("u", 0), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    assert_eq!(text("u", 2), "00000000-0000-0000-0000-000000000000");
    assert_eq!(text("iv", 0), "P1Y2M3DT4H5M6.5S");
    assert_eq!(text("iv", 2), "P-1M2DT-1.5S");
    // inet::text keeps the prefix length (its output function would drop /128).
    assert_eq!(
        (text("ip", 0), text("ip", 2)),
        ("192.168.0.1/24".into(), "::1/128".into())
    );

    let o = c("o");
    let o = o.as_primitive::<Int64Type>();
    assert_eq!((o.value(0), o.value(2)), (42, 4_294_967_295));
    let bools = c("b");
    let bools = bools.as_boolean();
    assert!(bools.value(0) && !bools.value(2));
    let by = c("by");
    let by = by.as_binary::<i32>();
    assert_eq!(
        (by.value(0), by.value(2)),
        (&[0u8, 0xff, 0x10][..], &[][..])
    );

    let d = c("d");
    let d = d.as_primitive::<Date32Type>();
    assert_eq!((d.value(0), d.value(2)), (days(2024, 2, 29), -1));
    let tm = c("tm");
    let tm = tm.as_primitive::<Time64MicrosecondType>();
    assert_eq!(
        tm.value(0),
        ((13 * 60 + 45) * 60 + 56) * 1_000_000 + 789_012
    );
    assert_eq!(tm.value(2), 0);
    let ts = c("ts");
    let ts = ts.as_primitive::<TimestampMicrosecondType>();
    assert_eq!(ts.value(0), micros(2024, 1, 2, 3, 4, 5, 678_901));
    assert_eq!(ts.value(2), 0);
    let tstz = c("tstz");
    let tstz = tstz.as_primitive::<TimestampMicrosecondType>();
    assert_eq!(
        tstz.value(0),
        micros(2024, 6, 1, 10, 0, 0, 500_000),
        "+02 → UTC"
    );
    assert_eq!(tstz.value(2), micros(1999, 12, 31, 23, 59, 59, 999_999));

    let list = |n: &str| {
        c(n).as_any()
            .downcast_ref::<ListArray>()
            .expect("list")
            .clone()
    };
    let a2 = list("a2");
    assert_eq!(a2.value(0).as_primitive::<Int16Type>().values(), &[1, 2]);
    assert_eq!(a2.value_length(2), 0);
    let a4 = list("a4");
    let first = a4.value(0);
    let first = first.as_primitive::<Int32Type>();
    assert_eq!(first.len(), 3);
    assert_eq!(
        (first.value(0), first.is_null(1), first.value(2)),
        (1, true, 3)
    );
    assert!(!a4.is_null(2) && a4.value_length(2) == 0, "empty, not NULL");
    let a8 = list("a8");
    assert_eq!(
        a8.value(0).as_primitive::<Int64Type>().values(),
        &[9_007_199_254_740_993]
    );
    let atx = list("atx");
    let words = atx.value(0);
    let words = words.as_string::<i32>();
    let words: Vec<_> = words.iter().collect();
    assert_eq!(words, vec![Some("a b"), Some("ü"), None, Some("")]);
    let avc = list("avc");
    assert_eq!(avc.value(0).as_string::<i32>().value(0), "x");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intervals_match_the_servers_iso_8601_text() {
    let Some(mut db) = scratch("intervals").await else {
        return;
    };
    let q = db.q();
    db.exec(&format!(
        "CREATE TABLE {q}.iv (id serial PRIMARY KEY, v interval);
         INSERT INTO {q}.iv (v) VALUES ('0'), ('1 second'), ('-1.5 seconds'),
           ('1 year -1 month'), ('-3 days 04:00'), ('1 day -00:00:00.000001'),
           ('100 years 11 mons 29 days 23:59:59.999999'), ('-178000000 years'),
           ('2 hours 3 minutes'), ('-1 mons +2 days -00:00:01.5'), ('1.25 seconds')"
    ))
    .await;
    db.exec("SET intervalstyle = iso_8601").await;
    let expected: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT v::text FROM {q}.iv ORDER BY id"
    )))
    .fetch_all(&mut db.conn)
    .await
    .expect("server text");
    let src = db.source().await;
    let e = export(
        &src,
        ExportInput::Query(format!("SELECT v FROM {q}.iv ORDER BY id")),
        ExportOptions::default(),
    )
    .await
    .expect("export");
    let got = pg_support::values(&e, "v", |a, i| a.as_string::<i32>().value(i).to_string());
    let want: Vec<_> = expected.into_iter().map(|(s,)| Some(s)).collect();
    assert_eq!(got, want);
}

const SPECIALS: &str = "
CREATE TABLE {S}.specials (id int PRIMARY KEY, d date, ts timestamp, tstz timestamptz,
  n numeric(10,2), nu numeric, tm time, a int4[]);
INSERT INTO {S}.specials VALUES
 (1, 'infinity', 'infinity', '-infinity', 'NaN', 'Infinity', '24:00:00', '{{1,2},{3,4}}'),
 (2, '-infinity', '-infinity', 'infinity', 1.5, 1.0000000005, '23:59:59.999999', '{5}'),
 (3, '2000-01-01', '2000-01-01', '2000-01-01', 2, 123456789012345678901234567890, NULL, NULL),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_without_an_arrow_form_are_refused_or_converted_to_null() {
    let Some(mut db) = scratch("specials").await else {
        return;
    };
    db.exec(&SPECIALS.replace("{S}", &db.q())).await;
    let src = db.source().await;
    let q = db.q();
    let refuse = ExportOptions::default();
    for (column, id, needle) in [
        ("d", 1, "infinity"),
        ("d", 2, "-infinity"),
        ("ts", 1, "infinity"),
        ("tstz", 1, "-infinity"),
        ("n", 1, "NaN"),
        ("nu", 1, "Infinity"),
        ("nu", 2, "more than 9 fractional digits"),
        ("nu", 3, "does not fit Decimal(38,9)"),
        ("tm", 1, "24:00:00"),
        ("a", 1, "2-dimensional"),
    ] {
        let input =
            ExportInput::Query(format!("SELECT {column} FROM {q}.specials WHERE id = {id}"));
        let err = export(&src, input, refuse.clone())
            .await
            .err()
            .unwrap_or_else(|| panic!("{column} of row {id} should be refused"));
        let msg = format!("{err:#}");
        assert!(msg.contains(&format!("column \"{column}\"")), "{msg}");
        assert!(msg.contains(needle), "{column}/{id}: {msg}");
        assert!(msg.contains("lossy"), "says how to opt in: {msg}");
    }

    let convert = ExportOptions {
        lossy: Lossy::Convert,
        ..Default::default()
    };
    let table = TableName {
        schema: db.schema.clone(),
        name: "specials".into(),
    };
    let e = export(&src, ExportInput::Table(table), convert)
        .await
        .expect("converted export");
    let b = only(&e);
    let nulls = |n: &str| -> Vec<bool> {
        let a = b.column_by_name(n).expect("column");
        (0..a.len()).map(|i| a.is_null(i)).collect()
    };
    assert_eq!(nulls("d"), [true, true, false, true]);
    assert_eq!(nulls("ts"), [true, true, false, true]);
    assert_eq!(nulls("tstz"), [true, true, false, true]);
    assert_eq!(nulls("n"), [true, false, false, true]);
    assert_eq!(nulls("nu"), [true, false, true, true]);
    assert_eq!(nulls("tm"), [true, false, true, true]);
    assert_eq!(nulls("a"), [true, false, true, true]);
    let nu = b.column_by_name("nu").expect("nu");
    let nu = nu.as_primitive::<Decimal128Type>();
    assert_eq!(
        nu.value_as_string(1),
        "1.000000001",
        "rounded half away from zero"
    );
    let d = b.column_by_name("d").expect("d");
    assert_eq!(d.as_primitive::<Date32Type>().value(2), days(2000, 1, 1));
    for column in ["d", "ts", "tstz", "n", "nu", "tm", "a"] {
        assert!(
            e.stats
                .warnings
                .iter()
                .any(|w| w.contains(&format!("column \"{column}\""))),
            "a warning names {column}: {:?}",
            e.stats.warnings
        );
    }
}
