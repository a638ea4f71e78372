//! Key flows of the browse screens (Sources, Stores, Warehouse) and their
//! forms, as unit tests of the pure `update` through the real keymap.

use arrow_schema::DataType;

use super::browse::{Browse, BrowseEffect, BrowseMsg, Load, Named, Preview, TreeRow};
use super::keymap::Keymap;
use super::state::{Effect, Modal, Msg, Screen, State};
use super::update::update;
use crate::connectors::source::{Column, TableDetail, TableKind, TableName, TableSummary};
use crate::connectors::warehouse::WarehouseTable;
use crate::engine::state::RunState;
use crate::format::types::{ColumnType, Fidelity, WarehouseType};

fn named(n: &str, k: &str) -> Named {
    Named {
        name: n.into(),
        kind: k.into(),
    }
}

pub fn summary(schema: &str, name: &str, rows: Option<i64>) -> TableSummary {
    TableSummary {
        table: TableName {
            schema: schema.into(),
            name: name.into(),
        },
        kind: TableKind::Table,
        row_estimate: rows,
    }
}

pub fn column(name: &str, db: &str, fidelity: Fidelity) -> Column {
    Column {
        name: name.into(),
        nullable: true,
        ty: ColumnType {
            db_type: db.into(),
            arrow: DataType::Utf8,
            warehouse: WarehouseType::String,
            fidelity,
        },
    }
}

pub(super) fn setup(readonly: bool) -> (State, Keymap) {
    let mut s = State::new("acme", readonly, "default", 1_000);
    s.browse = Browse::new(
        vec![named("app", "postgres"), named("crm", "mysql")],
        vec![named("lake", "local")],
        vec![named("wh", "sqlite")],
    );
    (s, Keymap::builtin())
}

pub(super) fn key(s: &mut State, k: &Keymap, key: &str) -> Vec<Effect> {
    update(s, Msg::Key(key.into()), k)
}

pub(super) fn keys(s: &mut State, k: &Keymap, list: &[&str]) -> Vec<Effect> {
    list.iter().flat_map(|x| key(s, k, x)).collect()
}

pub(super) fn browse(s: &mut State, k: &Keymap, m: BrowseMsg) -> Vec<Effect> {
    update(s, Msg::Browse(m), k)
}

fn tables(source: &str, list: Vec<TableSummary>) -> BrowseMsg {
    BrowseMsg::Tables {
        source: source.into(),
        result: Ok(list),
    }
}

fn users() -> TableName {
    TableName {
        schema: "public".into(),
        name: "users".into(),
    }
}

fn orders() -> TableName {
    TableName {
        schema: "public".into(),
        name: "orders".into(),
    }
}

/// Sources opened, `app` listed (public.orders, public.users, audit.log)
/// and opened down to its tables; the cursor on public.users.
pub(super) fn on_users() -> (State, Keymap) {
    let (mut s, k) = setup(false);
    key(&mut s, &k, "4");
    browse(
        &mut s,
        &k,
        tables(
            "app",
            vec![
                summary("public", "users", Some(20_000)),
                summary("public", "orders", Some(50_000)),
                summary("audit", "log", None),
            ],
        ),
    );
    // app ▸ (closed): open it, then the public schema.
    keys(&mut s, &k, &["enter", "down", "down", "enter"]);
    let fx = keys(&mut s, &k, &["down", "down"]);
    assert_eq!(
        s.browse.selected_table().map(|(_, t)| t.table.clone()),
        Some(users()),
        "rows: {:?}",
        s.browse.sources.rows()
    );
    assert!(
        fx.contains(&Effect::Browse(BrowseEffect::Describe {
            source: "app".into(),
            table: users()
        })),
        "landing on a table describes it: {fx:?}"
    );
    (s, k)
}

#[test]
fn sources_list_every_source_off_the_ui_path_with_a_spinner_until_they_answer() {
    let (mut s, k) = setup(false);
    let fx = key(&mut s, &k, "4");
    assert_eq!(s.screen, Screen::Sources);
    for src in ["app", "crm"] {
        assert!(
            fx.contains(&Effect::Browse(BrowseEffect::Tables { source: src.into() })),
            "{fx:?}"
        );
    }
    assert!(s.browse.sources.tables[0].is_loading());
    assert!(s.needs_clock(), "the spinner's seconds move while waiting");
    // A slow source does not hold the console: other screens still work.
    key(&mut s, &k, "2");
    assert_eq!(s.screen, Screen::Pools);
    key(&mut s, &k, "4");
    // A failure shows in place; Enter on the source asks again.
    browse(
        &mut s,
        &k,
        BrowseMsg::Tables {
            source: "crm".into(),
            result: Err("connection refused".into()),
        },
    );
    assert_eq!(
        s.browse.sources.tables[1],
        Load::Failed("connection refused".into())
    );
    s.browse.sources.cursor = 1;
    let fx = key(&mut s, &k, "enter");
    assert_eq!(
        fx,
        vec![Effect::Browse(BrowseEffect::Tables {
            source: "crm".into()
        })]
    );
    assert!(s.browse.sources.tables[1].is_loading());
}

#[test]
fn the_only_source_opens_on_its_first_table_and_a_single_schema_opens_itself() {
    let (mut s, k) = setup(false);
    s.browse = Browse::new(vec![named("app", "sqlite")], vec![], vec![]);
    key(&mut s, &k, "4");
    let fx = browse(
        &mut s,
        &k,
        tables(
            "app",
            vec![summary("main", "b", Some(1)), summary("main", "a", None)],
        ),
    );
    // Sorted by name; the cursor on `main.a`, described at once.
    assert_eq!(
        s.browse.sources.rows(),
        vec![
            TreeRow::Root(0),
            TreeRow::Group(0, "main".into()),
            TreeRow::Leaf(0, 0),
            TreeRow::Leaf(0, 1)
        ]
    );
    assert_eq!(s.browse.sources.cursor, 2);
    assert!(matches!(
        &fx[..],
        [Effect::Browse(BrowseEffect::Describe { table, .. })] if table.name == "a"
    ));
}

#[test]
fn moving_over_tables_describes_each_once_and_left_goes_to_the_parent() {
    let (mut s, k) = on_users();
    let detail = TableDetail {
        summary: summary("public", "users", Some(20_000)),
        columns: vec![column("id", "bigint", Fidelity::Exact)],
        primary_key: vec!["id".into()],
    };
    browse(
        &mut s,
        &k,
        BrowseMsg::Described {
            source: "app".into(),
            table: users(),
            result: Ok(detail.clone()),
        },
    );
    assert_eq!(
        s.browse.details.get(&(0, users())),
        Some(&Load::Ready(detail))
    );
    // Orders was asked for on the way down: up and down again ask nothing.
    assert!(s.browse.details.contains_key(&(0, orders())));
    let fx = keys(&mut s, &k, &["up", "down"]);
    assert!(fx.is_empty(), "{fx:?}");
    // Left: to the schema; left again closes it.
    key(&mut s, &k, "left");
    assert_eq!(
        s.browse.sources.selected(),
        Some(TreeRow::Group(0, "public".into()))
    );
    key(&mut s, &k, "left");
    assert!(
        !s.browse
            .sources
            .rows()
            .iter()
            .any(|r| matches!(r, TreeRow::Leaf(0, 0))),
        "public closed"
    );
}

#[test]
fn the_filter_shows_matches_in_every_source_and_esc_clears_it() {
    let (mut s, k) = on_users();
    // Entering Sources asked for every source's tables (crm's answer is
    // still out): the filter has nothing left to fetch.
    assert!(matches!(s.browse.sources.tables[1], Load::Loading { .. }));
    let fx = key(&mut s, &k, "/");
    assert_eq!(fx, vec![], "both sources were asked on entry");
    keys(&mut s, &k, &["o", "r", "d"]);
    assert!(s.browse.sources.editing_filter);
    let rows = s.browse.sources.rows();
    let leaves: Vec<&str> = rows
        .iter()
        .filter_map(|r| s.browse.sources.leaf(r))
        .map(|t| t.table.name.as_str())
        .collect();
    assert_eq!(leaves, vec!["orders"]);
    assert_eq!(
        s.browse
            .selected_table()
            .map(|(_, t)| t.table.name.as_str()),
        Some("orders"),
        "the cursor is on the first match"
    );
    // Typed `q` is text, not quit.
    key(&mut s, &k, "q");
    assert!(!s.quit);
    assert_eq!(s.browse.sources.filter, "ordq");
    key(&mut s, &k, "backspace");
    key(&mut s, &k, "enter");
    assert!(!s.browse.sources.editing_filter);
    assert_eq!(s.browse.sources.filter, "ord");
    // Esc clears the kept filter before it leaves the screen.
    key(&mut s, &k, "esc");
    assert_eq!(s.browse.sources.filter, "");
    assert_eq!(s.screen, Screen::Sources);
    key(&mut s, &k, "esc");
    assert_eq!(s.screen, Screen::Runs);
}

#[test]
fn p_previews_the_table_without_waiting() {
    let (mut s, k) = on_users();
    let fx = key(&mut s, &k, "p");
    assert_eq!(
        fx,
        vec![Effect::Browse(BrowseEffect::Preview {
            source: "app".into(),
            table: users(),
            rows: 20
        })]
    );
    assert!(s.browse.previews[&(0, users())].is_loading());
    let p = Preview {
        columns: vec!["id".into()],
        rows: vec![vec![Some("1".into())], vec![None]],
    };
    browse(
        &mut s,
        &k,
        BrowseMsg::Previewed {
            source: "app".into(),
            table: users(),
            result: Ok(p.clone()),
        },
    );
    assert_eq!(s.browse.previews[&(0, users())], Load::Ready(p));
    // On a source, `p` says what it needs.
    key(&mut s, &k, "g");
    assert!(key(&mut s, &k, "p").is_empty());
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("choose a table"))
    );
}

pub(super) fn form(s: &State) -> &crate::tui::form::Form {
    match &s.modal {
        Some(Modal::Form(f)) => f,
        other => panic!("no form: {other:?}"),
    }
}

#[test]
fn e_opens_a_prefilled_export_form_and_enter_starts_the_run_in_a_worker() {
    let (mut s, k) = on_users();
    assert!(key(&mut s, &k, "e").is_empty());
    let f = form(&s);
    assert_eq!(f.title, "Export app.public.users");
    assert_eq!(f.value("store"), "lake");
    assert_eq!(f.value("path"), "public.users/{run_date}.parquet");
    assert_eq!(f.value("format"), "parquet");
    // The path follows the format until it is edited.
    keys(&mut s, &k, &["down", "right", "right"]);
    assert_eq!(form(&s).value("format"), "csv");
    assert_eq!(form(&s).value("path"), "public.users/{run_date}.csv");
    let fx = key(&mut s, &k, "enter");
    let [Effect::Browse(BrowseEffect::Start { label, def })] = &fx[..] else {
        panic!("{fx:?}");
    };
    assert_eq!(label, "export app.public.users");
    assert_eq!(def.kind, crate::config::TaskKind::Export);
    assert_eq!(def.source.as_deref(), Some("app"));
    assert_eq!(def.table.as_deref(), Some("public.users"));
    assert_eq!(def.store.as_deref(), Some("lake"));
    assert_eq!(def.path.as_deref(), Some("public.users/{run_date}.csv"));
    assert_eq!(def.format.as_deref(), Some("csv"));
    assert_eq!(def.lossy, None);
    assert!(s.modal.is_none());
}

#[test]
fn a_bad_export_path_keeps_the_form_open_with_its_error() {
    let (mut s, k) = on_users();
    key(&mut s, &k, "e");
    // Focus starts on the path: clear it and type a way out of the store.
    key(&mut s, &k, "ctrl-u");
    for c in "../etc/x".chars() {
        key(&mut s, &k, &c.to_string());
    }
    let fx = key(&mut s, &k, "enter");
    assert!(fx.is_empty(), "{fx:?}");
    let f = form(&s);
    assert!(
        f.error.as_deref().is_some_and(|e| e.contains("..")),
        "{f:?}"
    );
    // Edited: the format no longer rewrites it.
    assert_eq!(f.value("path"), "../etc/x");
    // Esc closes it, starting nothing.
    assert!(key(&mut s, &k, "esc").is_empty());
    assert!(s.modal.is_none());
}

#[test]
fn a_lossy_table_offers_convert_and_a_refused_column_is_said_up_front() {
    let (mut s, k) = on_users();
    s.browse.details.insert(
        (0, users()),
        Load::Ready(TableDetail {
            summary: summary("public", "users", None),
            columns: vec![
                column(
                    "span",
                    "interval",
                    Fidelity::Fallback {
                        note: "ISO-8601 text".into(),
                    },
                ),
                column(
                    "shape",
                    "geometry",
                    Fidelity::Refused {
                        reason: "no type".into(),
                    },
                ),
            ],
            primary_key: vec![],
        }),
    );
    key(&mut s, &k, "e");
    let f = form(&s);
    assert_eq!(f.value("lossy"), "refuse");
    assert!(f.field("lossy").is_some_and(|x| x.help.contains("span")));
    assert!(
        f.error.as_deref().is_some_and(|e| e.contains("shape")),
        "{f:?}"
    );
    // Choose convert: the task says so.
    s.modal = Some(Modal::Form({
        let mut f = f.clone();
        f.focus = 3;
        f
    }));
    key(&mut s, &k, "right");
    let fx = key(&mut s, &k, "enter");
    let [Effect::Browse(BrowseEffect::Start { def, .. })] = &fx[..] else {
        panic!("{fx:?}");
    };
    assert_eq!(def.lossy.as_deref(), Some("convert"));
}

#[test]
fn a_started_run_is_announced_and_selected_in_runs() {
    let (mut s, k) = on_users();
    update(
        &mut s,
        Msg::Runs(vec![
            super::update_tests::run_row(7, RunState::Running),
            super::update_tests::run_row(3, RunState::Succeeded),
        ]),
        &k,
    );
    s.run_cursor = 1;
    let fx = browse(
        &mut s,
        &k,
        BrowseMsg::Started {
            label: "export app.public.users".into(),
            result: Ok(7),
        },
    );
    assert_eq!(s.run_cursor, 0);
    assert!(fx.contains(&Effect::LoadRun(7)));
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.ok && f.text.contains("run 7"))
    );
    browse(
        &mut s,
        &k,
        BrowseMsg::Started {
            label: "x".into(),
            result: Err("a live run of `x` for 2026-11-22 exists".into()),
        },
    );
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| !f.ok && f.text.contains("live run"))
    );
}

#[test]
fn the_warehouse_lists_tables_by_dataset_and_r_reloads() {
    let (mut s, k) = setup(false);
    let fx = key(&mut s, &k, "6");
    assert_eq!(
        fx,
        vec![Effect::Browse(BrowseEffect::WarehouseTables {
            warehouse: "wh".into()
        })]
    );
    let t = |d: &str, n: &str| WarehouseTable {
        dataset: d.into(),
        name: n.into(),
        rows: Some(5),
        columns: vec![],
    };
    browse(
        &mut s,
        &k,
        BrowseMsg::WarehouseTables {
            warehouse: "wh".into(),
            result: Ok(vec![t("raw", "users"), t("marts", "revenue")]),
        },
    );
    // Two datasets: both shown, closed; Enter opens one.
    let rows = s.browse.warehouses.rows();
    assert_eq!(rows.len(), 3, "{rows:?}");
    keys(&mut s, &k, &["down", "down", "enter", "down"]);
    let sel = s.browse.warehouses.selected();
    let leaf = sel.and_then(|r| s.browse.warehouses.leaf(&r).cloned());
    assert_eq!(leaf.map(|l| l.name), Some("users".into()));
    let fx = key(&mut s, &k, "r");
    assert_eq!(
        fx,
        vec![Effect::Browse(BrowseEffect::WarehouseTables {
            warehouse: "wh".into()
        })]
    );
}

#[test]
fn the_filter_fetches_the_tables_of_sources_never_asked() {
    let (mut s, k) = on_users();
    // As if crm had never been asked (entering Sources asks every source).
    s.browse.sources.tables[1] = Load::Idle;
    let fx = key(&mut s, &k, "/");
    assert_eq!(
        fx,
        vec![Effect::Browse(BrowseEffect::Tables {
            source: "crm".into()
        })]
    );
    assert!(matches!(s.browse.sources.tables[1], Load::Loading { .. }));
    // Asked once: typing does not ask for tables again.
    let typed = keys(&mut s, &k, &["o"]);
    assert!(
        !typed
            .iter()
            .any(|e| matches!(e, Effect::Browse(BrowseEffect::Tables { .. }))),
        "{typed:?}"
    );
}
