//! `switchyard demo`: a self-contained demo workspace — a SQLite "app"
//! database with realistic tables (about 200,000 rows: timestamps, decimals,
//! JSON, NULLs, non-ASCII names), a local store, a SQLite warehouse, a pool,
//! and a nightly pipeline in which one task fails once, with a runbook.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{Connection, SqliteConnection};

use super::{Cli, exit};

const FILES: &[(&str, &str)] = &[
    (
        "switchyard.toml",
        include_str!("../../assets/demo/switchyard.toml"),
    ),
    (
        "runbooks/publish_report.md",
        include_str!("../../assets/demo/runbooks/publish_report.md"),
    ),
    (
        "runbooks/exports.md",
        include_str!("../../assets/demo/runbooks/exports.md"),
    ),
    (
        "bin/publish_report.sh",
        include_str!("../../assets/demo/bin/publish_report.sh"),
    ),
];

pub const USERS: usize = 20_000;
pub const ORDERS: usize = 50_000;
pub const ITEMS: usize = 100_000;
pub const EVENTS: usize = 30_000;

pub async fn demo(cli: &Cli, dir: Option<&Path>, run: bool) -> Result<u8> {
    let dir = dir
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("switchyard-demo"));
    if dir.join("switchyard.toml").exists() {
        return Err(exit(
            2,
            format!(
                "{} already holds a workspace; remove it or choose another --dir",
                dir.display()
            ),
        ));
    }
    // Nothing of the user's is overwritten: any of the demo's files already
    // there refuses the whole demo before anything is written.
    let ours = FILES.iter().map(|(name, _)| *name).chain(["app.db"]);
    if let Some(name) = ours.into_iter().find(|name| dir.join(name).exists()) {
        return Err(exit(
            2,
            format!(
                "{} already holds {name}; remove it or choose another --dir",
                dir.display()
            ),
        ));
    }
    std::fs::create_dir_all(dir.join("lake"))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, text) in FILES {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    eprintln!("generating the app database (about 200,000 rows)…");
    generate_app_db(&dir.join("app.db")).await?;
    let file = dir.join("switchyard.toml");
    // Hints name the program as it was started (`target/release/switchyard`
    // under `cargo run`), so they can be pasted as they are.
    let me = std::env::args()
        .next()
        .unwrap_or_else(|| "switchyard".into());
    println!("demo workspace written to {}", dir.display());
    println!("  run it:      {me} -c {} run nightly", file.display());
    println!(
        "  look around: {me} -c {} status --run latest",
        file.display()
    );
    if !run {
        return Ok(0);
    }
    let demo_cli = Cli {
        config: Some(file.clone()),
        readonly: cli.readonly,
        theme: cli.theme.clone(),
        open_run: None,
        open_task: None,
        command: None,
    };
    let code = super::execute::run(&demo_cli, "nightly", None, false).await?;
    if code != 0 {
        println!();
        println!("publish_report failed, as it does on purpose the first time. The 3 a.m. drill:");
        println!("  {me} -c {} logs latest publish_report", file.display());
        println!("  cat {}", dir.join("runbooks/publish_report.md").display());
        println!(
            "  {me} -c {} rerun latest publish_report --downstream",
            file.display()
        );
    }
    Ok(code)
}

/// A small deterministic generator: the same demo on every machine.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Ana",
    "José",
    "Zoë",
    "Łukasz",
    "Søren",
    "Amélie",
    "Björn",
    "Chloé",
    "Dmitri",
    "Emma",
    "Fatima",
    "Grégoire",
    "Hiroshi",
    "Ingrid",
    "Jürgen",
    "Kateřina",
    "Liam",
    "María",
    "Noah",
    "Olga",
    "陽菜",
    "Priya",
    "Rafael",
    "Siobhán",
    "Tomás",
    "Ümit",
    "Wei",
    "Yasmin",
];
const LAST: &[&str] = &[
    "García",
    "Müller",
    "Nowak",
    "Rossi",
    "Dubois",
    "Jensen",
    "O'Brien",
    "Smith",
    "Öztürk",
    "Kowalski",
    "Novák",
    "Silva",
    "佐藤",
    "Andersson",
    "Ferreira",
    "Ivanova",
    "Chen",
    "Haddad",
];
const COUNTRIES: &[&str] = &[
    "DE", "FR", "PL", "ES", "DK", "IE", "JP", "US", "BR", "TR", "CZ",
];
const STATUS: &[&str] = &[
    "paid",
    "paid",
    "paid",
    "shipped",
    "shipped",
    "cancelled",
    "refunded",
];
const KINDS: &[&str] = &["login", "view_item", "add_to_cart", "checkout", "logout"];

fn ts(lcg: &mut Lcg, base: i64, spread: u64) -> String {
    let t = base + lcg.below(spread) as i64;
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

async fn generate_app_db(path: &Path) -> Result<()> {
    let opts = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Delete);
    let mut conn = SqliteConnection::connect_with(&opts).await?;
    sqlx::raw_sql(
        "CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            name TEXT,
            country TEXT,
            created_at DATETIME NOT NULL,
            is_active BOOLEAN NOT NULL,
            lifetime_value_cents INTEGER NOT NULL
        );
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            status TEXT NOT NULL,
            created_at DATETIME NOT NULL,
            total_cents INTEGER NOT NULL,
            note TEXT
        );
        CREATE TABLE order_items (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            sku TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            unit_price REAL NOT NULL
        );
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            user_id INTEGER,
            kind TEXT NOT NULL,
            occurred_at DATETIME NOT NULL,
            payload JSON
        );",
    )
    .execute(&mut conn)
    .await?;
    let mut lcg = Lcg(20261122);
    let base = 1_735_689_600; // 2025-01-01
    let year = 365 * 86_400;
    let mut tx = conn.begin().await?;
    for id in 1..=USERS {
        let first = lcg.pick(FIRST);
        let last = lcg.pick(LAST);
        let name = (lcg.below(40) != 0).then(|| format!("{first} {last}"));
        let country = (lcg.below(10) != 0).then(|| lcg.pick(COUNTRIES));
        sqlx::query("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(id as i64)
            .bind(format!("user{id}@example.com"))
            .bind(name)
            .bind(country)
            .bind(ts(&mut lcg, base, year))
            .bind(lcg.below(5) != 0)
            .bind(lcg.below(500_000) as i64)
            .execute(&mut *tx)
            .await?;
    }
    for id in 1..=ORDERS {
        let note = (lcg.below(20) == 0).then_some("gift wrap, please — «merci»");
        sqlx::query("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)")
            .bind(id as i64)
            .bind(1 + lcg.below(USERS as u64) as i64)
            .bind(lcg.pick(STATUS))
            .bind(ts(&mut lcg, base, year))
            .bind(100 + lcg.below(50_000) as i64)
            .bind(note)
            .execute(&mut *tx)
            .await?;
    }
    for id in 1..=ITEMS {
        sqlx::query("INSERT INTO order_items VALUES (?, ?, ?, ?, ?)")
            .bind(id as i64)
            .bind(1 + lcg.below(ORDERS as u64) as i64)
            .bind(format!("SKU-{:05}", lcg.below(3000)))
            .bind(1 + lcg.below(5) as i64)
            .bind((99 + lcg.below(20_000)) as f64 / 100.0)
            .execute(&mut *tx)
            .await?;
    }
    for id in 1..=EVENTS {
        let kind = lcg.pick(KINDS);
        let payload = (lcg.below(8) != 0).then(|| {
            serde_json::json!({"kind": kind, "session": format!("s{}", lcg.below(1_000_000)), "ms": lcg.below(3000)})
                .to_string()
        });
        let user = (lcg.below(15) != 0).then(|| 1 + lcg.below(USERS as u64) as i64);
        sqlx::query("INSERT INTO events VALUES (?, ?, ?, ?, ?)")
            .bind(id as i64)
            .bind(user)
            .bind(kind)
            .bind(ts(&mut lcg, base, year))
            .bind(payload)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    // Row estimates for the catalog, as a real database would have them.
    sqlx::query("ANALYZE").execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}
