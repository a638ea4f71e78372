//! Export throughput against references in the same run, on the same table of
//! the local PostgreSQL (127.0.0.1:5432, user postgres, database test):
//!
//! - `psql -c "COPY … TO STDOUT (FORMAT binary)" > /dev/null`: the floor of
//!   reading Postgres on one stream;
//! - DuckDB's postgres scanner writing the same Parquet (zstd), when the
//!   pinned wheels install (a virtualenv under target/bench-venv);
//! - `switchyard export` to Parquet (zstd) on a local store, one stream and
//!   with `--partitions 2`, with its peak RSS.
//!
//! ```text
//! cargo bench --bench export              # 5,000,000 rows
//! BENCH_ROWS=500000 cargo bench --bench export
//! ```
//!
//! It prints rows/s and the ratios; it asserts nothing about speed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

const BIN: &str = env!("CARGO_BIN_EXE_switchyard");
const PG: &[&str] = &[
    "-h",
    "127.0.0.1",
    "-U",
    "postgres",
    "-d",
    "test",
    "-X",
    "-q",
];

fn psql(sql: &str) -> Result<String> {
    let out = Command::new("psql")
        .args(PG)
        .args(["-At", "-c", sql])
        .output()
        .context("psql not found")?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn ensure_table(rows: i64) -> Result<()> {
    let have = psql("SELECT count(*) FROM bench_events").unwrap_or_default();
    if have == rows.to_string() {
        return Ok(());
    }
    eprintln!("creating bench_events with {rows} rows…");
    psql("DROP TABLE IF EXISTS bench_events")?;
    psql(
        "CREATE TABLE bench_events (id bigint PRIMARY KEY, at timestamptz NOT NULL, name text, n int, \
         amount numeric(12,2), flag bool, payload jsonb, uid uuid)",
    )?;
    psql(&format!(
        "INSERT INTO bench_events SELECT g, timestamptz '2026-01-01' + g * interval '1 second', \
         substr(md5(g::text), 1, 8 + (g % 23)::int), (g % 100000)::int, (g % 1000000) / 100.0, g % 3 = 0, \
         jsonb_build_object('k', g % 97, 'src', 'web', 'tags', jsonb_build_array('a', 'b')), \
         md5(g::text)::uuid FROM generate_series(1, {rows}) g"
    ))?;
    psql("ANALYZE bench_events")?;
    Ok(())
}

/// Runs a command, returning wall seconds and its peak RSS in KiB.
fn timed(cmd: &mut Command) -> Result<(f64, i64)> {
    let start = Instant::now();
    let child = cmd.stdout(Stdio::null()).spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: wait4 on our own child, with valid out-pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let secs = start.elapsed().as_secs_f64();
    if rc != pid || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!("{cmd:?} failed (status {status})");
    }
    Ok((secs, usage.ru_maxrss))
}

fn duckdb(dir: &Path, out: &Path) -> Result<f64> {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-venv");
    let py = venv.join("bin/python");
    if !py.exists() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()?
            .success()
            && Command::new(&py)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "duckdb==1.5.5",
                    "duckdb-extension-postgres==1.5.5",
                ])
                .status()?
                .success();
        if !ok {
            bail!("could not install duckdb==1.5.5 and duckdb-extension-postgres==1.5.5");
        }
    }
    let script = dir.join("duck.py");
    std::fs::write(
        &script,
        r#"
import duckdb, glob, os, sys
ext = glob.glob(os.path.join(os.path.dirname(__import__('duckdb_extension_postgres').__file__), '**', 'postgres*.duckdb_extension'), recursive=True)[0]
link = os.path.join(sys.argv[2], 'postgres_scanner.duckdb_extension')
if not os.path.exists(link): os.symlink(ext, link)
con = duckdb.connect(config={'autoinstall_known_extensions': False, 'autoload_known_extensions': False})
con.execute(f"LOAD '{link}'")
con.execute(f"COPY (SELECT * FROM postgres_scan('host=127.0.0.1 user=postgres dbname=test', 'public', 'bench_events')) TO '{sys.argv[1]}' (FORMAT parquet, COMPRESSION zstd)")
"#,
    )?;
    let (secs, _) = timed(Command::new(&py).arg(&script).arg(out).arg(dir))?;
    Ok(secs)
}

fn main() -> Result<()> {
    let rows: i64 = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5_000_000);
    if psql("SELECT 1").is_err() {
        bail!("PostgreSQL on 127.0.0.1:5432 is not reachable");
    }
    ensure_table(rows)?;
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("switchyard.toml"),
        "[sources.pg]\nkind = \"postgres\"\nurl = \"postgres://postgres@127.0.0.1:5432/test\"\n\n\
         [stores.lake]\nkind = \"local\"\npath = \"./lake\"\n",
    )?;

    let (psql_s, _) = timed(
        Command::new("psql")
            .args(PG)
            .args(["-c", "COPY bench_events TO STDOUT (FORMAT binary)"]),
    )?;
    let duck = duckdb(dir.path(), &dir.path().join("duck.parquet"));
    let export = |extra: &[&str], name: &str| -> Result<(f64, i64)> {
        timed(
            Command::new(BIN)
                .current_dir(dir.path())
                .env("SWITCHYARD_HOME", dir.path().join(".home"))
                .args([
                    "export",
                    "pg",
                    "public.bench_events",
                    "--store",
                    "lake",
                    "--path",
                    name,
                ])
                .args(extra),
        )
    };
    let (one_s, one_rss) = export(&[], "one.parquet")?;
    let (two_s, two_rss) = export(&["--partitions", "2"], "two.parquet")?;

    let rate = |s: f64| rows as f64 / s;
    println!(
        "export benchmark: {rows} rows of bench_events (bigint, timestamptz, text, int, numeric(12,2), bool, jsonb, uuid)"
    );
    println!(
        "  psql COPY binary > /dev/null   {psql_s:>7.2} s  {:>12.0} rows/s",
        rate(psql_s)
    );
    match &duck {
        Ok(d) => println!(
            "  duckdb postgres_scan → parquet {d:>7.2} s  {:>12.0} rows/s",
            rate(*d)
        ),
        Err(e) => println!("  duckdb: not measured ({e:#})"),
    }
    for (label, s, rss) in [
        ("switchyard export", one_s, one_rss),
        ("  … --partitions 2", two_s, two_rss),
    ] {
        print!(
            "  {label:<30} {s:>7.2} s  {:>12.0} rows/s  peak RSS {:>4} MB",
            rate(s),
            rss / 1024
        );
        print!("  {:.2}× psql", psql_s / s);
        if let Ok(d) = &duck {
            print!("  {:.2}× duckdb", d / s);
        }
        println!();
    }
    Ok(())
}
