//! The console's browse path against real servers: catalog effects run by
//! the runner's IO (`tui::browse_io`) on PostgreSQL and MariaDB, their
//! answers fed through the pure `update` and drawn by the real view, so what
//! an on-call engineer sees (types at each step, lossy and refused marks,
//! primary key, preview rows, errors in place without secrets) is checked
//! end to end. Unreachable servers fail under CI=true, else SKIP loudly.

mod pg_support;

use std::path::Path;

use switchyard::engine::Engine;
use switchyard::engine::lease::Owner;
use switchyard::tui::browse::{Browse, BrowseEffect, BrowseMsg, Load};
use switchyard::tui::state::{Effect, Msg, Screen, State};
use switchyard::tui::update::update;
use switchyard::tui::view::render_to_string;
use switchyard::tui::{Keymap, Theme, browse_io};

const MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";

async fn engine(dir: &Path, sources: &str) -> Engine {
    let file = dir.join("switchyard.toml");
    let toml = format!(
        "[workspace]\nname = \"live\"\n{sources}\n[stores.lake]\nkind = \"local\"\npath = \"./lake\"\n[warehouses.wh]\nkind = \"sqlite\"\npath = \"./wh.db\"\n"
    );
    std::fs::write(&file, toml).expect("write workspace");
    let ws = switchyard::config::load(&file).expect("workspace");
    Engine::open(ws).await.expect("engine")
}

/// Runs effects through the runner's IO and feeds the answers to `update`
/// until no catalog work is left.
async fn settle(e: &Engine, s: &mut State, k: &Keymap, mut fx: Vec<Effect>) {
    let owner = Owner::this_process(None);
    while let Some(effect) = fx.pop() {
        if let Effect::Browse(b) = effect {
            for m in browse_io::perform(e, b, &owner).await {
                fx.extend(update(s, m, k));
            }
        }
    }
}

async fn keys(e: &Engine, s: &mut State, k: &Keymap, list: &[&str]) {
    for key in list {
        let fx = update(s, Msg::Key(key.to_string()), k);
        settle(e, s, k, fx).await;
    }
}

fn screen(s: &State, w: u16, h: u16) -> String {
    let theme = Theme::parse(switchyard::tui::theme::BUNDLED[0].1, true).expect("theme");
    render_to_string(s, &theme, &Keymap::builtin(), w, h)
}

fn console(e: &Engine) -> (State, Keymap) {
    let mut s = State::new("live", false, "default", 1_000);
    s.browse = Browse::for_workspace(&e.ws);
    (s, Keymap::builtin())
}

#[tokio::test]
async fn postgres_tables_show_their_types_lossy_marks_primary_key_and_a_preview() {
    let Some(mut pg) = pg_support::scratch("browse").await else {
        return;
    };
    let q = pg.q();
    pg.exec(&format!(
        "CREATE TABLE {q}.accounts (id bigint PRIMARY KEY, span interval, balance numeric(12,2), seen timestamptz);
         INSERT INTO {q}.accounts VALUES (1, '1 day 2 hours', 120.50, '2024-05-01 03:12:00+00'), (2, NULL, 7.25, NULL);
         ANALYZE {q}.accounts;"
    ))
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let e = engine(
        dir.path(),
        &format!(
            "[sources.pg]\nkind = \"postgres\"\nurl = \"{}\"\n",
            pg_support::URL
        ),
    )
    .await;
    let (mut s, k) = console(&e);
    keys(&e, &mut s, &k, &["4"]).await;
    assert_eq!(s.screen, Screen::Sources);
    assert!(
        matches!(s.browse.sources.tables[0], Load::Ready(_)),
        "{:?}",
        s.browse.sources.tables[0]
    );
    // Filter down to the scratch schema's table: the cursor lands on it.
    keys(&e, &mut s, &k, &["/"]).await;
    for c in pg.schema.chars() {
        keys(&e, &mut s, &k, &[&c.to_string()]).await;
    }
    keys(&e, &mut s, &k, &["enter", "p"]).await;
    let (_, t) = s.browse.selected_table().expect("a table selected");
    assert_eq!(t.table.name, "accounts");
    assert_eq!(t.row_estimate, Some(2));
    let text = screen(&s, 160, 48);
    for want in [
        "primary key id",
        "about 2 rows",
        "timestamp with time zone",
        "Timestamp(µs, \"UTC\")",
        "TIMESTAMP",
        "NUMERIC(12,2)",
        "⚠ span",
        "span: lossy, carried as an ISO-8601 duration",
        "Preview: first 2 rows",
        "120.50",
        "P1DT2H",
    ] {
        assert!(text.contains(want), "`{want}` not on screen:\n{text}");
    }
    // The export form comes with the choice to convert inexact values.
    keys(&e, &mut s, &k, &["e"]).await;
    let text = screen(&s, 160, 48);
    assert!(
        text.contains(&format!("Export pg.{}.accounts", pg.schema)),
        "{text}"
    );
    assert!(text.contains("Inexact values"), "{text}");
}

#[tokio::test]
async fn mariadb_refused_columns_are_marked_and_said_before_an_export() {
    let pool = match sqlx::MySqlPool::connect(MYSQL_URL).await {
        Ok(p) => p,
        Err(e) => {
            pg_support::live::missing("mariadb_browse", "MariaDB (127.0.0.1:3306)", &e.to_string());
            return;
        }
    };
    let table = format!("sy_browse_{}", std::process::id());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP TABLE IF EXISTS `{table}`; CREATE TABLE `{table}` (id int PRIMARY KEY, loc point, at time(6));
         INSERT INTO `{table}` VALUES (1, ST_GeomFromText('POINT(1 2)'), '03:12:00');"
    )))
    .execute(&pool)
    .await
    .expect("create");
    let dir = tempfile::tempdir().expect("tempdir");
    let e = engine(
        dir.path(),
        &format!("[sources.my]\nkind = \"mysql\"\nurl = \"{MYSQL_URL}\"\n"),
    )
    .await;
    let (mut s, k) = console(&e);
    keys(&e, &mut s, &k, &["4", "/"]).await;
    for c in table.chars() {
        keys(&e, &mut s, &k, &[&c.to_string()]).await;
    }
    keys(&e, &mut s, &k, &["enter"]).await;
    let text = screen(&s, 160, 48);
    let ok = text.contains("✗ loc") && text.contains("loc: refused") && text.contains("⚠ at");
    keys(&e, &mut s, &k, &["e"]).await;
    let form = screen(&s, 160, 48);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE `{table}`")))
        .execute(&pool)
        .await
        .expect("drop");
    assert!(ok, "marks missing:\n{text}");
    assert!(
        form.contains("column loc (point) cannot be exported"),
        "{form}"
    );
}

#[tokio::test]
async fn a_source_that_cannot_be_reached_shows_its_error_in_place_without_the_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = engine(
        dir.path(),
        "[sources.down]\nkind = \"postgres\"\nurl = \"postgres://etl:s3cret-pw@127.0.0.1:1/app\"\n",
    )
    .await;
    let (mut s, k) = console(&e);
    let fx = update(&mut s, Msg::Key("4".into()), &k);
    assert!(s.browse.sources.tables[0].is_loading());
    let owner = Owner::this_process(None);
    let Some(Effect::Browse(b)) = fx.into_iter().next() else {
        panic!("no catalog effect");
    };
    assert_eq!(
        b,
        BrowseEffect::Tables {
            source: "down".into()
        }
    );
    let msgs = browse_io::perform(&e, b, &owner).await;
    let [
        Msg::Browse(BrowseMsg::Tables {
            result: Err(err), ..
        }),
    ] = &msgs[..]
    else {
        panic!("{msgs:?}");
    };
    assert!(!err.contains("s3cret-pw"), "{err}");
    for m in msgs {
        update(&mut s, m, &k);
    }
    let text = screen(&s, 80, 24);
    assert!(text.contains("✗ cannot load its tables"), "{text}");
    assert!(!text.contains("s3cret-pw"), "{text}");
    // Enter asks again.
    let fx = update(&mut s, Msg::Key("enter".into()), &k);
    assert_eq!(
        fx,
        vec![Effect::Browse(BrowseEffect::Tables {
            source: "down".into()
        })]
    );
}
