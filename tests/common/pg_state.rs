//! The multi-process suite on a PostgreSQL state store: `scripts/test` runs
//! it a second time with `SWITCHYARD_TEST_STATE=postgres`, and then every
//! workspace of a test gets a database of its own on the machine's
//! PostgreSQL (`SWITCHYARD_TEST_STATE_PG`, default the local server as
//! `postgres`), dropped with the workspace. The database is created and
//! read with `psql`, not with the code under test.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Which backend the suite runs on, from `SWITCHYARD_TEST_STATE`.
pub fn suite_on_postgres() -> bool {
    match std::env::var("SWITCHYARD_TEST_STATE").ok().as_deref() {
        None | Some("") | Some("sqlite") => false,
        Some("postgres") => true,
        Some(other) => panic!("SWITCHYARD_TEST_STATE={other}: say sqlite or postgres"),
    }
}

/// The server the suite's databases are made on (no database name).
fn server() -> String {
    std::env::var("SWITCHYARD_TEST_STATE_PG")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".into())
}

/// Whether the suite's PostgreSQL server answers (psql can log in).
pub fn server_reachable() -> bool {
    Command::new("psql")
        .args(["-XAtqc", "select 1", "-d"])
        .arg(format!("{}/postgres", server()))
        .output()
        .is_ok_and(|o| o.status.success())
}

/// One test workspace's own database.
pub struct PgState {
    db: String,
}

impl PgState {
    /// A new database when the suite runs on PostgreSQL; None on SQLite.
    pub fn for_suite() -> Option<PgState> {
        suite_on_postgres().then(PgState::create)
    }

    /// A new, empty database, named after this process and a counter.
    pub fn create() -> PgState {
        static N: AtomicUsize = AtomicUsize::new(0);
        let db = format!(
            "sy_test_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        psql(
            &format!("{}/postgres", server()),
            &format!("DROP DATABASE IF EXISTS {db}"),
        );
        psql(
            &format!("{}/postgres", server()),
            &format!("CREATE DATABASE {db}"),
        );
        PgState { db }
    }

    /// The URL `SWITCHYARD_STATE` takes.
    pub fn url(&self) -> String {
        format!("{}/{}", server(), self.db)
    }

    /// The URL for logging in as `role` instead (the local server trusts
    /// every role).
    pub fn url_as(&self, role: &PgRole) -> String {
        let server = server();
        let host = server.rsplit('@').next().unwrap_or("127.0.0.1:5432");
        format!("postgres://{}@{host}/{}", role.name, self.db)
    }

    /// Hands the database to `role`: the process logging in as it creates
    /// the store's tables, as a team's least-privileged role would.
    pub fn give_to(&self, role: &PgRole) {
        self.sql_admin(&format!(
            "ALTER DATABASE {} OWNER TO {}",
            self.db, role.name
        ));
    }

    fn sql_admin(&self, sql: &str) -> String {
        psql(&format!("{}/postgres", server()), sql)
    }

    pub fn name(&self) -> &str {
        &self.db
    }

    /// Runs SQL on this database; rows as `a|b` lines.
    pub fn sql(&self, sql: &str) -> String {
        psql(&self.url(), sql)
    }
}

impl Drop for PgState {
    fn drop(&mut self) {
        // A worker left running by a failed test must not keep it alive.
        let _ = Command::new("psql")
            .args(["-XAtq", "-d"])
            .arg(format!("{}/postgres", server()))
            .arg("-c")
            .arg(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.db))
            .output();
    }
}

/// `psql -c SQL` on `url`; its rows as `a|b` lines. Panics when it fails.
pub fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args(["-XAtq", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .output()
        .expect("psql (PostgreSQL's client) must be installed for the PostgreSQL suite");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

/// A login role of the test's own, dropped with it (after its databases).
pub struct PgRole {
    pub name: String,
}

impl PgRole {
    pub fn create(tag: &str) -> PgRole {
        let name = format!("sy_{tag}_{}", std::process::id());
        let admin = format!("{}/postgres", server());
        psql(&admin, &format!("DROP ROLE IF EXISTS {name}"));
        psql(&admin, &format!("CREATE ROLE {name} LOGIN"));
        PgRole { name }
    }

    /// Cuts the role's processes off the database: no new login, and every
    /// connection it has is terminated (a network partition, as the
    /// database sees it).
    pub fn cut_off(&self) {
        let admin = format!("{}/postgres", server());
        psql(&admin, &format!("ALTER ROLE {} NOLOGIN", self.name));
        psql(
            &admin,
            &format!(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '{}'",
                self.name
            ),
        );
    }

    /// Lets the role's processes reach the database again.
    pub fn reconnect(&self) {
        psql(
            &format!("{}/postgres", server()),
            &format!("ALTER ROLE {} LOGIN", self.name),
        );
    }
}

impl Drop for PgRole {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args(["-XAtq", "-d"])
            .arg(format!("{}/postgres", server()))
            .arg("-c")
            .arg(format!("DROP ROLE IF EXISTS {}", self.name))
            .output();
    }
}

/// Terminates every connection to database `db` but psql's own.
pub fn terminate_connections(db: &str) -> String {
    psql(
        &format!("{}/postgres", server()),
        &format!(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = '{db}' AND pid <> pg_backend_pid()"
        ),
    )
}
