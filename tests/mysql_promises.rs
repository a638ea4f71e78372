//! What the README promises of MySQL/MariaDB through the real binary and no
//! other test exercised: `export_all` with a load per table brings every
//! table over whole into the SQLite warehouse, and `sql` and `check` tasks
//! run on a MySQL target (a failing check fails the run, exit 1, saying why).
//! Each test's tables carry its own prefix and are dropped afterwards, even
//! when it fails.

mod common;

use std::time::Duration;

use common::Ws;
use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection, mysql::MySqlConnection};

const LONG: Duration = Duration::from_secs(90);

fn url() -> String {
    std::env::var("SWITCHYARD_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

fn block_on<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// Tables named `PREFIX*` in `test`, dropped when this goes out of scope.
struct Tables {
    prefix: String,
}

impl Tables {
    /// Connects and runs `setup` (`{p}` stands for the prefix), or returns
    /// None after `live::missing`.
    fn new(label: &str, setup: &str) -> Option<Tables> {
        let prefix = format!("sy_{label}_{}_", std::process::id());
        let t = Tables { prefix };
        match block_on(MySqlConnection::connect(&url())) {
            Ok(_) => {}
            Err(e) => {
                common::live::missing(label, "MariaDB (127.0.0.1:3306)", &e.to_string());
                return None;
            }
        }
        t.drop_all();
        t.exec(&setup.replace("{p}", &t.prefix));
        Some(t)
    }

    fn exec(&self, sql: &str) {
        block_on(async {
            let mut c = MySqlConnection::connect(&url()).await.expect("connect");
            sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                .execute(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        })
    }

    fn scalar(&self, sql: &str) -> i64 {
        block_on(async {
            let mut c = MySqlConnection::connect(&url()).await.expect("connect");
            sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.to_string()))
                .fetch_one(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        })
    }

    fn drop_all(&self) {
        let names: Vec<String> = block_on(async {
            let mut c = MySqlConnection::connect(&url()).await.ok()?;
            sqlx::query_scalar(
                "SELECT table_name FROM information_schema.tables \
                 WHERE table_schema = 'test' AND table_name LIKE CONCAT(?, '%')",
            )
            .bind(&self.prefix)
            .fetch_all(&mut c)
            .await
            .ok()
        })
        .unwrap_or_default();
        for n in names {
            self.exec(&format!("DROP TABLE IF EXISTS `{n}`"));
        }
    }
}

impl Drop for Tables {
    fn drop(&mut self) {
        self.drop_all();
    }
}

fn task<'a>(st: &'a Value, id: &str) -> &'a Value {
    st["runs"][0]["tasks"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["id"] == id))
        .unwrap_or_else(|| panic!("no task {id} in {st}"))
}

#[test]
fn export_all_and_a_load_per_table_bring_every_table_whole() {
    let Some(t) = Tables::new(
        "all",
        "CREATE TABLE `{p}orders` (id BIGINT PRIMARY KEY, total DECIMAL(12,2));
         INSERT INTO `{p}orders` SELECT seq, seq * 1.25 FROM seq_1_to_1500;
         CREATE TABLE `{p}users` (id INT PRIMARY KEY, name VARCHAR(20));
         INSERT INTO `{p}users` VALUES (1, 'Zoë');
         CREATE TABLE `{p}empty` (id INT PRIMARY KEY);
         CREATE TABLE `{p}audit` (id INT);
         INSERT INTO `{p}audit` VALUES (1), (2);",
    ) else {
        return;
    };
    let p = &t.prefix;
    let ws = Ws::new(&format!(
        r#"
[sources.app]
kind = "mysql"
url = "{url}"

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
include = ["test.{p}*"]
exclude = ["*audit"]

[[pipelines.p.tasks]]
id = "load_all"
kind = "load"
from = "dump"
warehouse = "wh"
table = "{{table}}"
"#,
        url = url()
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
        .flat_map(|task| {
            ["empty", "orders", "users"].map(|n| format!("{task}.test.{p}{n} \"succeeded\""))
        })
        .collect();
    assert_eq!(
        ids, want,
        "one export and one load per included table: {st:#}"
    );
    let wh = ws.path().join("wh.db");
    let counts = common::sqlite(
        &wh,
        &format!(
            "SELECT count(*) FROM {p}empty; SELECT count(*) FROM {p}orders; \
             SELECT count(*) FROM {p}users; \
             SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE '{p}%'"
        ),
    );
    assert_eq!(
        counts, "0\n1500\n1\n3",
        "rows per table, and no other table"
    );
    for n in ["empty", "orders", "users"] {
        let source = t.scalar(&format!("SELECT count(*) FROM `{p}{n}`"));
        let loaded = common::sqlite(&wh, &format!("SELECT count(*) FROM {p}{n}"));
        assert_eq!(loaded, source.to_string(), "{n}");
    }
    let values = common::sqlite(
        &wh,
        &format!("SELECT sum(id) FROM {p}orders; SELECT name FROM {p}users"),
    );
    assert_eq!(values, format!("{}\nZoë", 1500 * 1501 / 2));
}

#[test]
fn sql_and_check_tasks_on_mysql() {
    let Some(t) = Tables::new("sqlcheck", "SELECT 1") else {
        return;
    };
    let p = &t.prefix;
    let ws = Ws::new(&format!(
        r#"
[sources.app]
kind = "mysql"
url = "{url}"

[pipelines.build]
[[pipelines.build.tasks]]
id = "create"
kind = "sql"
target = "app"
sql = "CREATE TABLE `{p}daily` (day DATE, name VARCHAR(20))"

[[pipelines.build.tasks]]
id = "fill"
kind = "sql"
after = ["create"]
target = "app"
sql = "INSERT INTO `{p}daily` VALUES ('{{run_date}}', 'ann'), ('{{run_date}}', 'bob'), ('{{run_date}}', 'cy')"

[[pipelines.build.tasks]]
id = "has_rows"
kind = "check"
after = ["fill"]
target = "app"
sql = "select count(*) = 3 from `{p}daily` where day = '{{run_date}}'"

[pipelines.bad]
[[pipelines.bad.tasks]]
id = "nobody"
kind = "check"
target = "app"
sql = "select count(*) from `{p}daily` where name = 'nobody'"
"#,
        url = url()
    ));
    let (code, out, err) = ws.run_within(LONG, &["run", "build", "--date", "2026-09-01"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let st = ws.status(Some("latest"));
    for id in ["create", "fill", "has_rows"] {
        assert_eq!(task(&st, id)["state"], "succeeded", "{st:#}");
    }
    assert_eq!(task(&st, "fill")["rows"], 3, "rows affected: {st:#}");
    assert_eq!(
        t.scalar(&format!(
            "SELECT count(*) FROM `{p}daily` WHERE day = '2026-09-01'"
        )),
        3,
        "the sql task wrote into MySQL"
    );

    let (code, out, err) = ws.run_within(LONG, &["run", "bad", "--date", "2026-09-02"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let st = ws.status(Some("latest"));
    assert_eq!(st["runs"][0]["state"], "failed", "{st:#}");
    let nobody = task(&st, "nobody");
    assert_eq!(nobody["state"], "failed", "{nobody}");
    assert_eq!(
        nobody["error"],
        "check failed: app returned 0 (expected true or non-zero)"
    );
}
