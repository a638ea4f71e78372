//! The MySQL/MariaDB source against the real server (127.0.0.1:3306, root,
//! database `test`): every mapped type round-trips with its values, NULL in
//! every column, non-ASCII text, zero dates, BIGINT UNSIGNED max, TIME and
//! boolean fallbacks, workspace queries, awkward names, and connection
//! errors that keep the password out. Unreachable server: fails under
//! CI=true, else a loud SKIP.

mod source_support;

use std::future::Future;

use arrow_array::cast::AsArray;
use arrow_array::types::Decimal256Type;
use arrow_schema::{DataType, TimeUnit};
use source_support::*;
use sqlx::mysql::MySqlPool;
use switchyard::connectors::source::mysql::MysqlSource;
use switchyard::connectors::source::{
    ExportInput, ExportOptions, Lossy, Source, TableKind, TableName,
};

fn url() -> String {
    std::env::var("SWITCHYARD_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// The source and a setup pool, or None (after a loud SKIP) without a server.
async fn server(test: &str) -> Option<(MysqlSource, MySqlPool)> {
    let connected = async {
        Ok::<_, anyhow::Error>((
            MysqlSource::connect(&url()).await?,
            MySqlPool::connect(&url()).await?,
        ))
    };
    match connected.await {
        Ok(pair) => Some(pair),
        Err(e) => {
            source_support::live::missing(test, "MariaDB (127.0.0.1:3306)", &format!("{e:#}"));
            None
        }
    }
}

async fn exec(pool: &MySqlPool, sql: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn q(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Runs `body`, then drops what the test made, whether it passed or panicked.
async fn with_tables<F>(pool: &MySqlPool, drops: &[String], body: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let outcome = tokio::spawn(body).await;
    for d in drops {
        exec(pool, d).await;
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn drop_table(name: &str) -> String {
    format!("DROP TABLE IF EXISTS {}", q(name))
}

fn table(name: &str) -> ExportInput {
    ExportInput::Table(TableName {
        schema: "test".into(),
        name: name.into(),
    })
}

const ALL_TYPES: &str = "(
    id INT NOT NULL PRIMARY KEY,
    b TINYINT(1), i8 TINYINT, u8 TINYINT UNSIGNED, i16 SMALLINT, u16 SMALLINT UNSIGNED,
    i24 MEDIUMINT, u24 MEDIUMINT UNSIGNED, i32 INT, u32 INT UNSIGNED,
    i64 BIGINT, u64 BIGINT UNSIGNED,
    d DECIMAL(12,2), dwide DECIMAL(65,30), f FLOAT, db DOUBLE,
    vc VARCHAR(50), ch CHAR(5), tx TEXT, en ENUM('a','b','ü'), st SET('x','y'),
    j JSON, bl BLOB, bn BINARY(4), vb VARBINARY(10),
    dt DATE, dtm DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME(6), yr YEAR,
    bt1 BIT(1), bt BIT(12), bt64 BIT(64)
)";

#[tokio::test]
async fn every_type_round_trips_with_its_values() {
    let Some((src, pool)) = server("every_type_round_trips_with_its_values").await else {
        return;
    };
    let name = unique("sy_types");
    exec(&pool, &format!("CREATE TABLE {} {ALL_TYPES}", q(&name))).await;
    // One connection, so the session settings hold for the inserts.
    let mut conn = pool.acquire().await.unwrap();
    let setup = format!(
        "SET SESSION sql_mode = '';
         SET time_zone = '+02:00';
         INSERT INTO {t} VALUES (1, 1, -128, 255, -32768, 65535, -8388608, 16777215,
           -2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
           -1234567890.12, '-12345678901234567890123456789012345.123456789012345678901234567890',
           123456.789, 2.718281828459045,
           'héllo wörld ✓ 日本', 'abc', 'multi\\nline', 'ü', 'x,y',
           '{{\"k\": [1, \"ä\"]}}', x'00FF10', x'01020304', x'',
           '2024-02-29', '2024-02-29 13:14:15.123456', '2024-01-01 12:00:00.5',
           '23:59:59.999999', 2155, b'1', b'101010101010', b'1111111111111111111111111111111111111111111111111111111111111111');
         INSERT INTO {t} (id) VALUES (2);
         INSERT INTO {t} (id, b, u64, dt, dtm, ts, tm, yr, bt1, vb)
           VALUES (3, 0, 0, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00',
                   '00:00:00', 0, b'0', 'plain');
         INSERT INTO {t} (id, dt, dtm) VALUES (4, '2024-00-10', '1000-01-01 00:00:00');",
        t = q(&name)
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(setup))
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);

    let body = {
        let name = name.clone();
        async move {
            let opts = ExportOptions {
                batch_rows: 3,
                ..Default::default()
            };
            let e = export(&src, table(&name), opts).await.unwrap();
            assert_eq!(e.rows(), 4);
            assert_eq!(e.batches.len(), 2, "3 + 1 rows");
            assert_eq!(e.progress.len(), 2);
            assert_eq!(e.progress[1].0, 4);
            assert!(e.progress[1].1 > e.progress[0].1, "bytes grow");
            assert_eq!(e.stats.rows, 4);

            let f = |n: &str| e.schema.field_with_name(n).unwrap().clone();
            assert_eq!(f("b").data_type(), &DataType::Boolean);
            assert_eq!(f("u64").data_type(), &DataType::Decimal128(20, 0));
            assert_eq!(f("dwide").data_type(), &DataType::Decimal256(65, 30));
            assert_eq!(f("j").extension_type_name(), Some("arrow.json"));
            assert_eq!(
                f("ts").data_type(),
                &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
            );
            assert_eq!(
                f("dtm").data_type(),
                &DataType::Timestamp(TimeUnit::Microsecond, None)
            );
            assert!(!f("id").is_nullable());

            assert_eq!(i32s(&e, "id"), [Some(1), Some(2), Some(3), Some(4)]);
            assert_eq!(bools(&e, "b"), [Some(true), None, Some(false), None]);
            assert_eq!(i8s(&e, "i8")[0], Some(-128));
            assert_eq!(i16s(&e, "u8")[0], Some(255));
            assert_eq!(i16s(&e, "i16")[0], Some(-32768));
            assert_eq!(i32s(&e, "u16")[0], Some(65535));
            assert_eq!(i32s(&e, "i24")[0], Some(-8388608));
            assert_eq!(i32s(&e, "u24")[0], Some(16777215));
            assert_eq!(i32s(&e, "i32")[0], Some(i32::MIN));
            assert_eq!(i64s(&e, "u32")[0], Some(4294967295));
            assert_eq!(i64s(&e, "i64")[0], Some(i64::MIN));
            assert_eq!(
                decimals(&e, "u64"),
                [Some(u64::MAX as i128), None, Some(0), None]
            );
            assert_eq!(decimals(&e, "d")[0], Some(-123456789012));
            let wide = e.arrays("dwide")[0]
                .as_primitive::<Decimal256Type>()
                .value(0);
            assert_eq!(
                wide.to_string(),
                "-12345678901234567890123456789012345123456789012345678901234567890"
            );
            assert_eq!(
                f32s(&e, "f")[0],
                Some(123_456.79_f32),
                "FLOAT arrives exactly, not as its 6-digit text"
            );
            assert_eq!(f64s(&e, "db")[0], Some(std::f64::consts::E));
            assert_eq!(strings(&e, "vc")[0].as_deref(), Some("héllo wörld ✓ 日本"));
            assert_eq!(strings(&e, "ch")[0].as_deref(), Some("abc"));
            assert_eq!(strings(&e, "tx")[0].as_deref(), Some("multi\nline"));
            assert_eq!(strings(&e, "en")[0].as_deref(), Some("ü"));
            assert_eq!(strings(&e, "st")[0].as_deref(), Some("x,y"));
            assert_eq!(strings(&e, "j")[0].as_deref(), Some("{\"k\": [1, \"ä\"]}"));
            assert_eq!(bytes(&e, "bl")[0], Some(vec![0, 0xff, 0x10]));
            assert_eq!(bytes(&e, "bn")[0], Some(vec![1, 2, 3, 4]));
            assert_eq!(
                bytes(&e, "vb"),
                [Some(vec![]), None, Some(b"plain".to_vec()), None]
            );
            assert_eq!(dates(&e, "dt"), [Some(days(2024, 2, 29)), None, None, None]);
            assert_eq!(
                timestamps(&e, "dtm"),
                [
                    Some(micros(2024, 2, 29, 13, 14, 15, 123456)),
                    None,
                    None,
                    Some(micros(1000, 1, 1, 0, 0, 0, 0))
                ]
            );
            // Written at +02:00, read as UTC.
            assert_eq!(
                timestamps(&e, "ts")[0],
                Some(micros(2024, 1, 1, 10, 0, 0, 500000))
            );
            assert_eq!(times(&e, "tm"), [Some(86_399_999_999), None, Some(0), None]);
            assert_eq!(i16s(&e, "yr"), [Some(2155), None, Some(0), None]);
            assert_eq!(bools(&e, "bt1"), [Some(true), None, Some(false), None]);
            assert_eq!(i64s(&e, "bt")[0], Some(0b101010101010));
            assert_eq!(decimals(&e, "bt64")[0], Some(u64::MAX as i128));

            // Row 2 is NULL everywhere but its key.
            for field in e.schema.fields().iter().skip(1) {
                let arr = &e.arrays(field.name())[0];
                assert!(arr.is_null(1), "column {} of the NULL row", field.name());
            }
            // Zero dates: NULL, counted per column, never a failure.
            let w = e.stats.warnings.join("\n");
            assert!(w.contains("column `dt`: 2 zero"), "{w}");
            assert!(w.contains("column `dtm`: 1 zero"), "{w}");
            assert!(w.contains("column `ts`: 1 zero"), "{w}");
        }
    };
    with_tables(&pool, &[drop_table(&name)], body).await;
}

#[tokio::test]
async fn time_and_boolean_fallbacks_refuse_unless_converted() {
    let Some((src, pool)) = server("time_and_boolean_fallbacks_refuse_unless_converted").await
    else {
        return;
    };
    let name = unique("sy_fallback");
    exec(
        &pool,
        &format!(
            "CREATE TABLE {t} (id INT PRIMARY KEY, tm TIME NOT NULL, b TINYINT(1));
             INSERT INTO {t} VALUES (1, '12:00:00', 1), (2, '-01:30:00', 0), (3, '838:59:59', 2);",
            t = q(&name)
        ),
    )
    .await;
    let body = {
        let name = name.clone();
        async move {
            let err = export(&src, table(&name), ExportOptions::default())
                .await
                .unwrap_err()
                .to_string();
            assert!(err.contains("column `tm`"), "{err}");
            assert!(err.contains("-01:30:00"), "{err}");
            assert!(err.contains(&name), "{err}");

            let opts = ExportOptions {
                lossy: Lossy::Convert,
                ..Default::default()
            };
            let e = export(&src, table(&name), opts).await.unwrap();
            assert!(e.schema.field_with_name("tm").unwrap().is_nullable());
            assert_eq!(times(&e, "tm"), [Some(43_200_000_000), None, None]);
            assert_eq!(bools(&e, "b"), [Some(true), Some(false), Some(true)]);
            let w = e.stats.warnings.join("\n");
            assert!(w.contains("column `tm`: 2 times"), "{w}");
            assert!(w.contains("column `b`: 1 booleans"), "{w}");

            // The boolean alone: 2 is not a boolean.
            let q = ExportInput::Query(format!("SELECT b FROM {} WHERE id = 3", q(&name)));
            let err = export(&src, q, ExportOptions::default()).await.unwrap_err();
            assert!(err.to_string().contains("2 is not a boolean"), "{err}");
        }
    };
    with_tables(&pool, &[drop_table(&name)], body).await;
}

#[tokio::test]
async fn queries_take_types_from_statement_metadata() {
    let Some((src, pool)) = server("queries_take_types_from_statement_metadata").await else {
        return;
    };
    let name = unique("sy_query");
    exec(
        &pool,
        &format!(
            "CREATE TABLE {t} (id INT PRIMARY KEY, d DECIMAL(12,2), j JSON, u BIGINT UNSIGNED);
             INSERT INTO {t} VALUES (1, 10.25, '[1]', 18446744073709551615), (2, NULL, NULL, 7);",
            t = q(&name)
        ),
    )
    .await;
    let body = {
        let name = name.clone();
        async move {
            let sql = format!(
                "SELECT id, d, d * 2 AS dd, j, u, COUNT(*) OVER () AS n, \
                 CONCAT('ü', id) AS s, NOW() - INTERVAL 1 DAY < NOW() AS flag \
                 FROM {} ORDER BY id;",
                q(&name)
            );
            let e = export(&src, ExportInput::Query(sql), ExportOptions::default())
                .await
                .unwrap();
            let ty = |n: &str| e.schema.field_with_name(n).unwrap().data_type().clone();
            assert_eq!(ty("d"), DataType::Decimal128(12, 2));
            // Decimal expressions: precision found by the probe.
            assert!(
                matches!(ty("dd"), DataType::Decimal128(_, 2)),
                "{:?}",
                ty("dd")
            );
            assert_eq!(ty("u"), DataType::Decimal128(20, 0));
            assert_eq!(ty("n"), DataType::Int64);
            assert_eq!(ty("s"), DataType::Utf8);
            let j = e.schema.field_with_name("j").unwrap();
            assert_eq!(j.extension_type_name(), Some("arrow.json"));
            assert_eq!(decimals(&e, "d"), [Some(1025), None]);
            assert_eq!(decimals(&e, "dd"), [Some(2050), None]);
            assert_eq!(decimals(&e, "u"), [Some(u64::MAX as i128), Some(7)]);
            assert_eq!(i64s(&e, "n"), [Some(2), Some(2)]);
            assert_eq!(strings(&e, "s"), [Some("ü1".into()), Some("ü2".into())]);
            assert_eq!(strings(&e, "j"), [Some("[1]".into()), None]);
        }
    };
    with_tables(&pool, &[drop_table(&name)], body).await;
}

#[tokio::test]
async fn awkward_names_list_describe_preview_and_export() {
    let Some((src, pool)) = server("awkward_names_list_describe_preview_and_export").await else {
        return;
    };
    let name = format!("{} Mixed `q` \"x\" ü", unique("Sy"));
    let view = format!("{name} view");
    exec(
        &pool,
        &format!(
            "CREATE TABLE {t} (`Key Col` INT NOT NULL, `we``ird` VARCHAR(10) NOT NULL, \
               doc LONGTEXT CHECK (json_valid(doc)), PRIMARY KEY (`we``ird`, `Key Col`));
             INSERT INTO {t} VALUES (1, 'a', '{{}}'), (2, 'b', NULL);
             CREATE VIEW {v} AS SELECT `Key Col` FROM {t};",
            t = q(&name),
            v = q(&view)
        ),
    )
    .await;
    let body = {
        let (name, view) = (name.clone(), view.clone());
        async move {
            let tables = src.list_tables().await.unwrap();
            let t = tables
                .iter()
                .find(|t| t.table.name == name)
                .expect("listed");
            assert_eq!(t.table.schema, "test");
            assert_eq!(t.kind, TableKind::Table);
            assert!(t.row_estimate.is_some());
            let v = tables
                .iter()
                .find(|t| t.table.name == view)
                .expect("view listed");
            assert_eq!(v.kind, TableKind::View);

            let tn = TableName {
                schema: "test".into(),
                name: name.clone(),
            };
            let d = src.describe(&tn).await.unwrap();
            assert_eq!(d.primary_key, ["we`ird", "Key Col"]);
            let cols: Vec<_> = d
                .columns
                .iter()
                .map(|c| (c.name.as_str(), c.nullable))
                .collect();
            assert_eq!(cols, [("Key Col", false), ("we`ird", false), ("doc", true)]);
            assert_eq!(
                d.columns[2].ty.warehouse,
                switchyard::format::types::WarehouseType::Json
            );

            let p = src.preview(&tn, 1).await.unwrap();
            assert_eq!(p.num_rows(), 1);
            assert_eq!(p.num_columns(), 3);

            let e = export(&src, table(&name), ExportOptions::default())
                .await
                .unwrap();
            assert_eq!(strings(&e, "we`ird"), [Some("a".into()), Some("b".into())]);
            assert_eq!(strings(&e, "doc"), [Some("{}".into()), None]);
            let e = export(&src, table(&view), ExportOptions::default())
                .await
                .unwrap();
            assert_eq!(i32s(&e, "Key Col"), [Some(1), Some(2)]);

            let missing = TableName {
                schema: "test".into(),
                name: format!("{name} nope"),
            };
            assert!(src.describe(&missing).await.is_err());
        }
    };
    let drops = [
        format!("DROP VIEW IF EXISTS {}", q(&view)),
        drop_table(&name),
    ];
    with_tables(&pool, &drops, body).await;
}

#[tokio::test]
async fn connection_errors_keep_the_password_out() {
    // Nothing listens on port 1: no server needed.
    let err = MysqlSource::connect("mysql://root:Sup3rSecretPw@127.0.0.1:1/test")
        .await
        .err()
        .expect("no server on port 1")
        .to_string();
    assert!(!err.contains("Sup3rSecretPw"), "{err}");
    assert!(err.contains("127.0.0.1:1"), "{err}");
    let err = MysqlSource::connect("mysql://root:Sup3rSecretPw@[bad/test")
        .await
        .err()
        .expect("a bad URL")
        .to_string();
    assert!(!err.contains("Sup3rSecretPw"), "{err}");

    if server("connection_errors_keep_the_password_out")
        .await
        .is_none()
    {
        return;
    }
    // The server refuses the wrong password; its error must not repeat it.
    let wrong = url().replacen("root@", "root:Wr0ngPassw0rd@", 1);
    let e = MysqlSource::connect(&wrong)
        .await
        .err()
        .expect("a wrong password is refused");
    let text = format!("{e:#}");
    assert!(!text.contains("Wr0ngPassw0rd"), "{text}");
    assert!(
        text.contains("Access denied"),
        "the server's refusal: {text}"
    );
}

#[tokio::test]
async fn mariadb_uuid_and_inet_types_arrive_as_text() {
    let Some((src, pool)) = server("mariadb_uuid_and_inet_types_arrive_as_text").await else {
        return;
    };
    let name = unique("sy_uuid");
    let create = format!("CREATE TABLE {} (u UUID, a INET6, b INET4)", q(&name));
    if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(create))
        .execute(&pool)
        .await
    {
        // MySQL, or MariaDB before 10.10: fails under CI, a recorded skip elsewhere.
        source_support::live::missing(
            "mariadb_uuid_and_inet_types_arrive_as_text",
            "MariaDB 10.10+ (UUID, INET4 and INET6 types)",
            &e.to_string(),
        );
        return;
    }
    exec(
        &pool,
        &format!(
            "INSERT INTO {} VALUES ('123e4567-e89b-12d3-a456-426655440000', '::1', '10.0.0.1')",
            q(&name)
        ),
    )
    .await;
    let body = {
        let name = name.clone();
        async move {
            let e = export(&src, table(&name), ExportOptions::default())
                .await
                .unwrap();
            assert_eq!(
                strings(&e, "u"),
                [Some("123e4567-e89b-12d3-a456-426655440000".into())]
            );
            assert_eq!(strings(&e, "a"), [Some("::1".into())]);
            assert_eq!(strings(&e, "b"), [Some("10.0.0.1".into())]);
        }
    };
    with_tables(&pool, &[drop_table(&name)], body).await;
}
