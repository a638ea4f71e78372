//! What the README promises of PostgreSQL through the real binary and no
//! other test exercised: `partitions = N` takes N slots of its pool and
//! reads N ranges at once (so does `switchyard export --partitions N`); a
//! CSV export carries awkward text exactly; `export_all` with a load per
//! table brings every table over whole; `sql` and `check` tasks run on a
//! PostgreSQL target.
//!
//! The partitions are held at a gate: a row-level security policy whose
//! function waits for an advisory lock the test holds, so every range's
//! COPY stops at its first row, visible in `pg_stat_activity`, until the
//! test lets go.

mod common;
mod pg_support;

use std::time::Duration;

use common::{Bg, Ws, wait_for, wait_until};
use pg_support::{Scratch, URL, scratch};
use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection};

const LONG: Duration = Duration::from_secs(90);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn task<'a>(st: &'a Value, id: &str) -> &'a Value {
    st["runs"][0]["tasks"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["id"] == id))
        .unwrap_or_else(|| panic!("no task {id} in {st}"))
}

/// A login role of the test's own (RLS binds it; the superuser bypasses
/// RLS), dropped afterwards even on panic.
struct Role(String);

impl Drop for Role {
    fn drop(&mut self) {
        let sql = format!("DROP OWNED BY \"{0}\"; DROP ROLE IF EXISTS \"{0}\"", self.0);
        let _ = std::thread::spawn(move || {
            runtime().block_on(async {
                if let Ok(mut c) = sqlx::postgres::PgConnection::connect(URL).await {
                    let _ = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut c).await;
                }
            })
        })
        .join();
    }
}

/// `big` (20,000 rows, many pages) readable by a role of its own only
/// through a gate the test closes and opens.
struct Gated {
    rt: tokio::runtime::Runtime,
    db: Scratch,
    role: Role,
    key: i64,
    /// The test's own connection holding the gate's lock.
    holder: sqlx::postgres::PgConnection,
}

const ROWS: i64 = 20_000;

impl Gated {
    fn new(label: &str) -> Option<Gated> {
        let rt = runtime();
        let mut db = rt.block_on(scratch(label))?;
        let role = Role(format!("sy_{label}_{}", std::process::id()));
        let key = 7_000_000 + i64::from(std::process::id());
        let q = db.q();
        rt.block_on(db.exec(&format!(
            "CREATE TABLE {q}.big (id int8 PRIMARY KEY, payload text);
             INSERT INTO {q}.big SELECT i, repeat('p', 100) FROM generate_series(1, {ROWS}) i;
             ANALYZE {q}.big;
             CREATE FUNCTION {q}.gate() RETURNS boolean LANGUAGE plpgsql AS $$
             BEGIN
               PERFORM pg_advisory_lock_shared({key});
               PERFORM pg_advisory_unlock_shared({key});
               RETURN true;
             END $$;
             CREATE ROLE \"{r}\" LOGIN;
             GRANT USAGE ON SCHEMA {q} TO \"{r}\";
             GRANT SELECT ON {q}.big TO \"{r}\";
             GRANT EXECUTE ON FUNCTION {q}.gate() TO \"{r}\";
             ALTER TABLE {q}.big ENABLE ROW LEVEL SECURITY;
             CREATE POLICY through_the_gate ON {q}.big FOR SELECT TO \"{r}\" USING ({q}.gate());",
            r = role.0
        )));
        let holder = rt
            .block_on(sqlx::postgres::PgConnection::connect(URL))
            .expect("holder connection");
        Some(Gated {
            rt,
            db,
            role,
            key,
            holder,
        })
    }

    fn url(&self) -> String {
        format!("postgres://{}@127.0.0.1:5432/test", self.role.0)
    }

    fn close(&mut self) {
        let sql = format!("SELECT pg_advisory_lock({})", self.key);
        self.rt
            .block_on(sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut self.holder))
            .expect("close the gate");
    }

    fn open(&mut self) {
        let sql = format!("SELECT pg_advisory_unlock({})", self.key);
        self.rt
            .block_on(sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut self.holder))
            .expect("open the gate");
    }

    /// The role's queries waiting at the gate now.
    fn at_gate(&mut self) -> i64 {
        let role = self.role.0.clone();
        self.rt
            .block_on(
                sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = $1 \
                     AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
                )
                .bind(role)
                .fetch_one(&mut self.db.conn),
            )
            .expect("pg_stat_activity")
    }

    /// Waits until `n` ranges wait at the gate; then says how many do (more
    /// than `n` would be a bug too).
    fn wait_at_gate(&mut self, n: i64) -> i64 {
        wait_for(LONG, || self.at_gate() >= n);
        self.at_gate()
    }
}

#[test]
fn partitions_n_take_n_slots_of_the_pool_and_read_n_ranges_at_once() {
    let Some(mut g) = Gated::new("slots") else {
        return;
    };
    // A pool of 3: the export's 2 partitions and one more task fit, a third
    // task must wait for a slot.
    let ws = Ws::new(&format!(
        r#"
[sources.app]
kind = "postgres"
url = "{url}"

[stores.lake]
path = "lake"

[pools.replica]
size = 3

[pipelines.p]
[[pipelines.p.tasks]]
id = "wide"
kind = "export"
source = "app"
table = "{schema}.big"
store = "lake"
path = "big.ndjson"
format = "ndjson"
pool = "replica"
partitions = 2

[[pipelines.p.tasks]]
id = "narrow1"
kind = "command"
command = "sh wait_flag.sh go"
pool = "replica"

[[pipelines.p.tasks]]
id = "narrow2"
kind = "command"
command = "true"
pool = "replica"
"#,
        url = g.url(),
        schema = g.db.schema
    ));
    ws.install_scripts();
    g.close();
    let mut run = Bg::new(ws.spawn(&["run", "p", "--date", "2026-05-01"]));
    assert_eq!(g.wait_at_gate(2), 2, "two ranges read at once");
    let mut seen = None;
    let held = wait_for(LONG, || {
        let Some(st) = ws.try_status(Some("latest")) else {
            return false;
        };
        let states: Vec<&str> = ["wide", "narrow1", "narrow2"]
            .iter()
            .map(|id| task(&st, id)["state"].as_str().unwrap_or_default())
            .collect();
        seen = Some(st.clone());
        states == ["running", "running", "queued"]
    });
    let st = seen.unwrap_or_default();
    assert!(held, "wide and narrow1 run, narrow2 waits: {st:#}");
    assert_eq!(
        task(&st, "narrow2")["waiting_on"],
        "pool replica 3/3",
        "{st:#}"
    );
    assert_eq!(
        ws.state_sql("SELECT task_id, slots FROM task_instances WHERE run_id = 1 ORDER BY task_id"),
        "narrow1|1\nnarrow2|1\nwide|2"
    );
    // narrow1's slot frees: narrow2 takes it while the export still holds 2.
    ws.touch("go");
    wait_until(LONG, "narrow2 to run in narrow1's slot", || {
        ws.try_task_state("latest", "narrow2").as_deref() == Some("succeeded")
    });
    assert_eq!(ws.task_state("latest", "wide"), "running");
    assert_eq!(g.at_gate(), 2, "the export still waits at the gate");
    g.open();
    let (code, out, err) = run.wait(LONG);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(
        ws.read("lake/big.ndjson").lines().count() as i64,
        ROWS,
        "every row once"
    );
}

#[test]
fn export_partitions_flag_reads_n_ranges_at_once() {
    let Some(mut g) = Gated::new("flag") else {
        return;
    };
    let ws = Ws::new(&format!(
        "[sources.app]\nkind = \"postgres\"\nurl = \"{}\"\n\n[stores.lake]\npath = \"lake\"\n",
        g.url()
    ));
    g.close();
    let table = format!("{}.big", g.db.schema);
    let mut export = Bg::new(ws.spawn(&[
        "export",
        "app",
        &table,
        "--store",
        "lake",
        "--path",
        "big.ndjson",
        "--format",
        "ndjson",
        "--partitions",
        "3",
    ]));
    assert_eq!(g.wait_at_gate(3), 3, "three ranges read at once");
    assert_eq!(
        ws.state_sql("SELECT slots FROM task_instances"),
        "3",
        "the export asks for 3 slots"
    );
    g.open();
    let (code, out, err) = export.wait(LONG);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(ws.read("lake/big.ndjson").lines().count() as i64, ROWS);
}

/// The rows every awkward-text test inserts: (id, text, number).
fn awkward() -> Vec<(i64, Option<&'static str>, Option<i64>)> {
    vec![
        (1, Some("plain"), Some(1)),
        (2, Some("a,b,c"), Some(-2)),
        (3, Some("she said \"hi\""), None),
        (4, Some("two\nlines"), Some(4)),
        (5, Some("crlf\r\nend"), Some(5)),
        (6, None, Some(6)),
        (7, Some(""), None),
        (8, Some("Zoë ☃ 陽菜 — ünïcödé"), Some(8)),
        (9, Some(" spaced , \"\" "), Some(9)),
        (10, Some("\""), Some(10)),
        (11, Some(","), Some(i64::MAX)),
    ]
}

/// An RFC 4180 reader that keeps an unquoted empty field (null) apart from
/// `""` (empty text): rows of fields, None for null.
fn read_csv(text: &str) -> Vec<Vec<Option<String>>> {
    let mut rows = Vec::new();
    let (mut row, mut field) = (Vec::new(), String::new());
    let (mut quoted, mut in_quotes) = (false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                assert!(
                    field.is_empty(),
                    "a quote inside an unquoted field: {text:?}"
                );
                quoted = true;
                in_quotes = true;
            }
            ',' | '\r' => {
                if c == '\r' {
                    assert_eq!(chars.next(), Some('\n'), "CR without LF: {text:?}");
                }
                let f = std::mem::take(&mut field);
                row.push((quoted || !f.is_empty()).then_some(f));
                quoted = false;
                if c == '\r' {
                    rows.push(std::mem::take(&mut row));
                }
            }
            '\n' => panic!("a bare LF ends a line: {text:?}"),
            c => field.push(c),
        }
    }
    assert!(
        !in_quotes && field.is_empty() && row.is_empty(),
        "the file ends mid-line"
    );
    rows
}

#[test]
fn a_csv_export_carries_awkward_text_exactly() {
    let rt = runtime();
    let Some(mut db) = rt.block_on(scratch("csv")) else {
        return;
    };
    let q = db.q();
    rt.block_on(db.exec(&format!(
        "CREATE TABLE {q}.awkward (id int8 PRIMARY KEY, t text, n int8)"
    )));
    for (id, t, n) in awkward() {
        rt.block_on(
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO {q}.awkward VALUES ($1, $2, $3)"
            )))
            .bind(id)
            .bind(t)
            .bind(n)
            .execute(&mut db.conn),
        )
        .expect("insert");
    }
    let ws = Ws::new(&format!(
        r#"
[sources.app]
kind = "postgres"
url = "{URL}"

[stores.lake]
path = "lake"

[warehouses.wh]
kind = "sqlite"
path = "wh.db"

[pipelines.p]
[[pipelines.p.tasks]]
id = "export"
kind = "export"
source = "app"
table = "{schema}.awkward"
store = "lake"
path = "awkward.csv"
format = "csv"

[pipelines.load]
[[pipelines.load.tasks]]
id = "load"
kind = "load"
store = "lake"
path = "awkward.csv"
warehouse = "wh"
table = "awkward"
mode = "replace"
"#,
        schema = db.schema
    ));
    let (code, out, err) = ws.run_within(LONG, &["run", "p", "--date", "2026-05-01"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let text = std::fs::read_to_string(ws.path().join("lake/awkward.csv")).expect("the csv");
    let mut rows = read_csv(&text);
    let header = rows.remove(0);
    let name = |s: &str| Some(s.to_string());
    assert_eq!(header, [name("id"), name("t"), name("n")]);
    // Row for row, in the source's order of the key.
    rows.sort_by_key(|r| r[0].as_deref().and_then(|s| s.parse::<i64>().ok()));
    let want: Vec<Vec<Option<String>>> = awkward()
        .into_iter()
        .map(|(id, t, n)| {
            vec![
                Some(id.to_string()),
                t.map(String::from),
                n.map(|n| n.to_string()),
            ]
        })
        .collect();
    assert_eq!(rows, want, "the file:\n{text}");

    // The SQLite warehouse takes no CSV (the file carries no column types):
    // the load fails with that reason, and the warehouse has no such table.
    let (code, _, err) = ws.run_within(LONG, &["run", "load", "--date", "2026-05-01"]);
    assert_eq!(code, 1, "{err}");
    let st = ws.status(Some("latest"));
    let error = task(&st, "load")["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        error.contains("the SQLite warehouse loads Parquet and NDJSON files"),
        "{st:#}"
    );
}

#[test]
fn export_all_and_a_load_per_table_bring_every_table_whole() {
    let rt = runtime();
    let Some(mut db) = rt.block_on(scratch("all")) else {
        return;
    };
    let q = db.q();
    rt.block_on(db.exec(&format!(
        "CREATE TABLE {q}.orders (id int8 PRIMARY KEY, total numeric(12,2));
         INSERT INTO {q}.orders SELECT i, i * 1.25 FROM generate_series(1, 1500) i;
         CREATE TABLE {q}.users (id int4 PRIMARY KEY, name text);
         INSERT INTO {q}.users VALUES (1, 'Zoë');
         CREATE TABLE {q}.empty (id int4 PRIMARY KEY);
         CREATE TABLE {q}.events_audit (id int4);
         INSERT INTO {q}.events_audit VALUES (1), (2);"
    )));
    let s = &db.schema;
    let ws = Ws::new(&format!(
        r#"
[sources.app]
kind = "postgres"
url = "{URL}"

[stores.lake]
path = "lake"

[warehouses.wh]
kind = "sqlite"
path = "wh.db"

[pipelines.p]
[[pipelines.p.tasks]]
id = "dump"
kind = "export_all"
source = "app"
store = "lake"
prefix = "raw/{{run_date}}/"
include = ["{s}.*"]
exclude = ["*_audit"]

[[pipelines.p.tasks]]
id = "load_all"
kind = "load"
from = "dump"
warehouse = "wh"
table = "raw_{{table}}"
"#
    ));
    let (code, out, err) = ws.run_within(LONG, &["run", "p", "--date", "2026-05-01"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let st = ws.status(Some("latest"));
    let mut ids: Vec<String> = st["runs"][0]["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| format!("{} {}", t["id"].as_str().unwrap_or_default(), t["state"]))
        .collect();
    ids.sort();
    let want: Vec<String> = ["dump", "load_all"]
        .iter()
        .flat_map(|t| ["empty", "orders", "users"].map(|n| format!("{t}.{s}.{n} \"succeeded\"")))
        .collect();
    assert_eq!(
        ids, want,
        "one export and one load per included table: {st:#}"
    );
    let counts = common::sqlite(
        &ws.path().join("wh.db"),
        "SELECT count(*) FROM raw_empty; SELECT count(*) FROM raw_orders; \
         SELECT count(*) FROM raw_users; \
         SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'raw_%'",
    );
    assert_eq!(
        counts, "0\n1500\n1\n3",
        "rows per table, and no other table"
    );
    let sum = common::sqlite(
        &ws.path().join("wh.db"),
        "SELECT sum(id) FROM raw_orders; SELECT name FROM raw_users",
    );
    assert_eq!(sum, format!("{}\nZoë", 1500 * 1501 / 2));
}

#[test]
fn sql_and_check_tasks_on_postgres() {
    let rt = runtime();
    let Some(db) = rt.block_on(scratch("sqlcheck")) else {
        return;
    };
    // Bare: TOML strings hold it, and the scratch schema needs no quotes.
    let q = db.schema.clone();
    let ws = Ws::new(&format!(
        r#"
[sources.app]
kind = "postgres"
url = "{URL}"

[pipelines.build]
[[pipelines.build.tasks]]
id = "fill"
kind = "sql"
target = "app"
sql = """
CREATE TABLE {q}.daily (day date, name text);
INSERT INTO {q}.daily VALUES ('{{run_date}}', 'ann'), ('{{run_date}}', 'bob'), ('{{run_date}}', 'cy');
"""

[[pipelines.build.tasks]]
id = "has_rows"
kind = "check"
after = ["fill"]
target = "app"
sql = "select count(*) = 3 from {q}.daily where day = '{{run_date}}'"

[pipelines.bad]
[[pipelines.bad.tasks]]
id = "nobody"
kind = "check"
target = "app"
sql = "select count(*) from {q}.daily where name = 'nobody'"

[[pipelines.bad.tasks]]
id = "not_three"
kind = "check"
target = "app"
sql = "select count(*) = 3 from {q}.daily where day = '{{run_date}}'"
"#
    ));
    let (code, out, err) = ws.run_within(LONG, &["run", "build", "--date", "2026-09-01"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let st = ws.status(Some("latest"));
    assert_eq!(task(&st, "fill")["state"], "succeeded", "{st:#}");
    assert_eq!(task(&st, "has_rows")["state"], "succeeded", "{st:#}");
    let n = rt
        .block_on(async {
            let mut c = sqlx::postgres::PgConnection::connect(URL).await?;
            sqlx::query_scalar::<_, i64>(AssertSqlSafe(format!(
                "SELECT count(*) FROM {q}.daily WHERE day = '2026-09-01'"
            )))
            .fetch_one(&mut c)
            .await
        })
        .expect("count");
    assert_eq!(n, 3, "the sql task wrote into PostgreSQL");

    // Another date: nobody's count is 0, and there are not 3 rows that day.
    let (code, out, err) = ws.run_within(LONG, &["run", "bad", "--date", "2026-09-02"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let st = ws.status(Some("latest"));
    assert_eq!(st["runs"][0]["state"], "failed", "{st:#}");
    for id in ["nobody", "not_three"] {
        let t = task(&st, id);
        assert_eq!(t["state"], "failed", "{t}");
    }
    let error = |id: &str| {
        task(&st, id)["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        error("nobody"),
        "check failed: app returned 0 (expected true or non-zero)"
    );
    assert_eq!(
        error("not_three"),
        "check failed: app returned false (expected true or non-zero)"
    );
    drop(db);
}
