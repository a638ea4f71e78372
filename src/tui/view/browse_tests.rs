//! Snapshots of the browse screens (Sources, Stores, Warehouse) and their
//! forms at 80×24 and 160×48: loading, failed and populated.

use arrow_schema::{DataType, TimeUnit};

use super::fixtures::*;
use super::*;
use crate::connectors::source::{Column, TableDetail, TableKind, TableName, TableSummary};
use crate::connectors::store::ObjectInfo;
use crate::connectors::warehouse::WarehouseTable;
use crate::format::types::{ColumnType, Fidelity, WarehouseType};
use crate::tui::browse::{Browse, BrowseEffect, Load, Named, Preview};
use crate::tui::form::{Field, Form, FormPurpose};
use crate::tui::state::{Ask, Effect};
use crate::tui::update::forms::open_load;

fn render(state: &State, w: u16, h: u16) -> String {
    render_to_string(state, &theme(), &keys(), w, h)
}

fn both(name: &str, state: &State) {
    insta::assert_snapshot!(format!("{name}_80x24"), render(state, 80, 24));
    insta::assert_snapshot!(format!("{name}_160x48"), render(state, 160, 48));
}

fn named(n: &str, k: &str) -> Named {
    Named {
        name: n.into(),
        kind: k.into(),
    }
}

fn summary(schema: &str, name: &str, rows: Option<i64>, kind: TableKind) -> TableSummary {
    TableSummary {
        table: TableName {
            schema: schema.into(),
            name: name.into(),
        },
        kind,
        row_estimate: rows,
    }
}

fn col(name: &str, db: &str, arrow: DataType, wh: WarehouseType, f: Fidelity) -> Column {
    Column {
        name: name.into(),
        nullable: name != "id",
        ty: ColumnType {
            db_type: db.into(),
            arrow,
            warehouse: wh,
            fidelity: f,
        },
    }
}

fn users() -> TableName {
    TableName {
        schema: "public".into(),
        name: "users".into(),
    }
}

fn browse_state() -> State {
    let mut s = incident();
    s.browse = Browse::new(
        vec![named("app", "postgres"), named("crm", "mysql")],
        vec![named("lake", "s3"), named("scratch", "local")],
        vec![named("wh", "bigquery")],
    );
    s.screen = Screen::Sources;
    s
}

fn app_tables() -> Vec<TableSummary> {
    vec![
        summary("public", "users", Some(1_204_332), TableKind::Table),
        summary("public", "orders", Some(48_211_907), TableKind::Table),
        summary("public", "active_users", None, TableKind::View),
        summary("audit", "events", Some(912), TableKind::Table),
    ]
}

fn users_detail() -> TableDetail {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    TableDetail {
        summary: summary("public", "users", Some(1_204_332), TableKind::Table),
        columns: vec![
            col(
                "id",
                "bigint",
                DataType::Int64,
                WarehouseType::Int64,
                Fidelity::Exact,
            ),
            col(
                "email",
                "text",
                DataType::Utf8,
                WarehouseType::String,
                Fidelity::Exact,
            ),
            col(
                "created_at",
                "timestamptz",
                ts,
                WarehouseType::Timestamp,
                Fidelity::Exact,
            ),
            col(
                "balance",
                "numeric(12,2)",
                DataType::Decimal128(12, 2),
                WarehouseType::Numeric {
                    precision: 12,
                    scale: 2,
                },
                Fidelity::Exact,
            ),
            col(
                "tags",
                "text[]",
                DataType::Utf8,
                WarehouseType::Repeated(Box::new(WarehouseType::String)),
                Fidelity::Exact,
            ),
            col(
                "session_length",
                "interval",
                DataType::Utf8,
                WarehouseType::String,
                Fidelity::Fallback {
                    note:
                        "carried as ISO-8601 text (P1DT2H); months and days are not a fixed length"
                            .into(),
                },
            ),
            col(
                "home",
                "geometry",
                DataType::Null,
                WarehouseType::Bytes,
                Fidelity::Refused {
                    reason: "PostGIS geometry has no Arrow type; cast it to text or WKB in a query"
                        .into(),
                },
            ),
        ],
        primary_key: vec!["id".into()],
    }
}

/// app listed and opened on public.users, its columns and a preview.
fn sources_populated() -> State {
    let mut s = browse_state();
    let b = &mut s.browse;
    b.sources.loaded(0, Ok(app_tables()));
    b.sources.loaded(
        1,
        Ok(vec![summary(
            "crm",
            "accounts",
            Some(3_100),
            TableKind::Table,
        )]),
    );
    b.sources.open.insert((0, None));
    b.sources.open.insert((0, Some("public".into())));
    // app, audit, public, active_users, orders, users
    b.sources.cursor = 5;
    b.details.insert((0, users()), Load::Ready(users_detail()));
    b.previews.insert(
        (0, users()),
        Load::Ready(Preview {
            columns: ["id", "email", "created_at", "balance", "tags"]
                .map(String::from)
                .to_vec(),
            rows: vec![
                vec![
                    Some("1".into()),
                    Some("ada@example.com".into()),
                    Some("2024-04-30T22:01:12.000000Z".into()),
                    Some("120.50".into()),
                    Some("[\"vip\"]".into()),
                ],
                vec![
                    Some("2".into()),
                    Some("grace@example.com".into()),
                    Some("2024-05-01T01:40:00.000000Z".into()),
                    None,
                    Some("[]".into()),
                ],
            ],
        }),
    );
    s
}

#[test]
fn sources_loading() {
    let mut s = browse_state();
    s.browse.sources.tables[0] = Load::Loading { since: NOW - 3_000 };
    s.browse.sources.tables[1] = Load::Loading {
        since: NOW - 12_000,
    };
    both("sources_loading", &s);
}

#[test]
fn sources_failed() {
    let mut s = browse_state();
    s.browse.sources.loaded(
        0,
        Err("cannot connect to postgres://etl@db.internal:5432/app: password authentication failed for user \"etl\"".into()),
    );
    s.browse.sources.loaded(1, Ok(vec![]));
    both("sources_failed", &s);
}

#[test]
fn sources_table_with_lossy_and_refused_columns_and_a_preview() {
    both("sources_table", &sources_populated());
}

#[test]
fn sources_table_while_its_columns_and_preview_load() {
    let mut s = sources_populated();
    s.browse
        .details
        .insert((0, users()), Load::Loading { since: NOW - 1_000 });
    s.browse.previews.clear();
    insta::assert_snapshot!(render(&s, 80, 24));
    s.browse
        .details
        .insert((0, users()), Load::Ready(users_detail()));
    s.browse
        .previews
        .insert((0, users()), Load::Loading { since: NOW - 2_000 });
    let text = render(&s, 160, 48);
    assert!(text.contains("⠹ 2s loading a preview…"), "{text}");
    s.browse.previews.insert(
        (0, users()),
        Load::Failed("canceling statement due to statement timeout".into()),
    );
    let text = render(&s, 160, 48);
    assert!(text.contains("✗ cannot load a preview"), "{text}");
    assert!(text.contains("statement timeout"), "{text}");
}

#[test]
fn sources_filter_being_typed() {
    let mut s = sources_populated();
    s.browse.sources.filter = "user".into();
    s.browse.sources.editing_filter = true;
    s.browse.sources.cursor = 3;
    both("sources_filter", &s);
}

fn export_form() -> Form {
    let mut f = Form::new(
        "Export app.public.users",
        FormPurpose::Export {
            source: "app".into(),
            table: users(),
        },
        vec![
            Field::choice(
                "store",
                "Store",
                vec!["lake".into(), "scratch".into()],
                0,
                "The store the file lands in",
            ),
            Field::text(
                "path",
                "Path",
                "public.users/{run_date}.parquet",
                "In the store; {run_date} and {run_id} are filled in when it runs",
            ),
            Field::choice(
                "format",
                "Format",
                vec!["parquet".into(), "ndjson".into(), "csv".into()],
                0,
                "Parquet keeps every type",
            ),
        ],
    );
    f.focus = 1;
    f
}

#[test]
fn export_form_over_sources() {
    let mut s = sources_populated();
    s.modal = Some(Modal::Form(export_form()));
    both("export_form", &s);
    let mut f = export_form();
    f.focus = 2;
    f.error = Some("`../x`: no `..`, `.` or empty part in a path".into());
    s.modal = Some(Modal::Form(f));
    insta::assert_snapshot!("export_form_error_80x24", render(&s, 80, 24));
}

fn object(path: &str, size: u64, mins_ago: i64) -> ObjectInfo {
    ObjectInfo {
        path: path.into(),
        size,
        modified: Some(NOW - mins_ago * 60_000),
        is_prefix: path.ends_with('/'),
        partial: None,
    }
}

fn stores_state() -> State {
    let mut s = browse_state();
    s.screen = Screen::Stores;
    let v = &mut s.browse.stores;
    v.store = Some(0);
    v.prefix = "raw/2024-05-01/".into();
    v.listing = Load::Ready(vec![
        object("raw/2024-05-01/parts/", 0, 0),
        object("raw/2024-05-01/main.order_items.parquet", 48_221_004, 122),
        object("raw/2024-05-01/main.orders.parquet", 9_812_551, 121),
        object("raw/2024-05-01/main.users.parquet", 812_003, 120),
        object("raw/2024-05-01/readme.txt", 412, 3000),
    ]);
    v.cursor = 3;
    s
}

#[test]
fn stores_listing() {
    both("stores_listing", &stores_state());
}

#[test]
fn stores_listing_with_leftover_partial_files() {
    use crate::connectors::store::{PartialFile, Writer};
    let mut s = stores_state();
    let partial = |path: &str, size: u64, mins_ago: i64, pid: u32, writer: Writer| ObjectInfo {
        partial: Some(PartialFile {
            pid: Some(pid),
            host: (writer == Writer::Elsewhere).then(|| "etl-2".to_string()),
            writer,
            object: path
                .rsplit('/')
                .next()
                .and_then(|n| n.split(".parquet.").next())
                .map(|n| format!("{n}.parquet")),
        }),
        ..object(path, size, mins_ago)
    };
    let Load::Ready(list) = &mut s.browse.stores.listing else {
        unreachable!()
    };
    list.insert(
        2,
        partial(
            "raw/2024-05-01/main.order_items.parquet.4242-0@etl-1.partial",
            29_200_000,
            300,
            4242,
            Writer::Dead,
        ),
    );
    list.insert(
        4,
        partial(
            "raw/2024-05-01/main.orders.parquet.5150-1@etl-1.partial",
            0,
            1,
            5150,
            Writer::Alive,
        ),
    );
    list.push(partial(
        "raw/2024-05-01/main.users.parquet.77-0@etl-2.partial",
        4096,
        2,
        77,
        Writer::Elsewhere,
    ));
    both("stores_listing_partials", &s);
}

#[test]
fn stores_choice_loading_and_failed() {
    let mut s = stores_state();
    s.browse.stores.store = None;
    s.browse.stores.store_cursor = 1;
    insta::assert_snapshot!("stores_choice_80x24", render(&s, 80, 24));
    let mut s = stores_state();
    s.browse.stores.listing = Load::Loading { since: NOW - 4_000 };
    both("stores_loading", &s);
    s.browse.stores.listing = Load::Failed(
        "cannot list s3://lake/raw/2024-05-01/: AccessDenied: the key has no s3:ListBucket".into(),
    );
    both("stores_failed", &s);
}

#[test]
fn delete_question_and_load_form_over_stores() {
    let mut s = stores_state();
    s.modal = Some(Modal::Ask(Ask {
        title: "Delete a file".into(),
        lines: vec![
            "lake: raw/2024-05-01/main.users.parquet".into(),
            "793 KiB, modified 2024-05-01 01:14".into(),
            String::new(),
            "It is removed from the store; this cannot be undone.".into(),
        ],
        effect: Effect::Browse(BrowseEffect::Delete {
            store: "lake".into(),
            path: "raw/2024-05-01/main.users.parquet".into(),
        }),
    }));
    both("delete_question", &s);
    let f = open_load(&s.browse, "lake", "raw/2024-05-01/main.users.parquet");
    s.modal = Some(Modal::Form(f));
    both("load_form", &s);
}

fn wh_table(dataset: &str, name: &str, rows: i64) -> WarehouseTable {
    let c = |n: &str, db: &str, wh: WarehouseType| Column {
        name: n.into(),
        nullable: n != "id",
        ty: ColumnType {
            db_type: db.into(),
            arrow: DataType::Utf8,
            warehouse: wh,
            fidelity: Fidelity::Exact,
        },
    };
    WarehouseTable {
        dataset: dataset.into(),
        name: name.into(),
        rows: Some(rows),
        columns: vec![
            c("id", "INT64", WarehouseType::Int64),
            c("email", "STRING", WarehouseType::String),
            c("created_at", "TIMESTAMP", WarehouseType::Timestamp),
            c(
                "balance",
                "NUMERIC(12, 2)",
                WarehouseType::Numeric {
                    precision: 12,
                    scale: 2,
                },
            ),
        ],
    }
}

#[test]
fn warehouse_datasets_and_a_table() {
    let mut s = browse_state();
    s.screen = Screen::Warehouse;
    let t = &mut s.browse.warehouses;
    t.loaded(
        0,
        Ok(vec![
            wh_table("raw", "users", 1_204_332),
            wh_table("raw", "orders", 48_211_907),
            wh_table("marts", "daily_revenue", 365),
        ]),
    );
    t.open.insert((0, None));
    t.open.insert((0, Some("raw".into())));
    // wh, marts, raw, orders, users
    t.cursor = 4;
    both("warehouse_table", &s);
}

#[test]
fn warehouse_loading_empty_and_failed() {
    let mut s = browse_state();
    s.screen = Screen::Warehouse;
    s.browse.warehouses.tables[0] = Load::Loading { since: NOW - 1_000 };
    both("warehouse_loading", &s);
    s.browse.warehouses.loaded(0, Ok(vec![]));
    let text = render(&s, 80, 24);
    assert!(text.contains("No tables yet"), "{text}");
    s.browse.warehouses.loaded(
        0,
        Err(
            "BigQuery: 403 Access Denied: Dataset acme:raw: Permission bigquery.tables.list denied"
                .into(),
        ),
    );
    both("warehouse_failed", &s);
}

#[test]
fn browse_screens_draw_at_any_size_without_panicking() {
    let mut states = vec![sources_populated(), stores_state()];
    let mut f = sources_populated();
    f.modal = Some(Modal::Form(export_form()));
    states.push(f);
    for s in &states {
        for (w, h) in [(1, 1), (10, 3), (24, 8), (40, 12), (79, 23), (200, 60)] {
            let _ = render(s, w, h);
        }
    }
}
