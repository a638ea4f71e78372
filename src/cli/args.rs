//! The command line as clap parses it: global flags (`Cli`), every
//! subcommand with its flags and help (`Command`), and the value checks they
//! share. `mod.rs` dispatches them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::rules;

#[derive(Parser, Debug)]
#[command(
    name = "switchyard",
    version,
    about = "Move tables from databases to the warehouse, and fix the night's failures from one keyboard.",
    long_about = "Switchyard runs pipelines of dependent tasks (export, load, sql, check, wait, command) \
from cron or a shell, records every run in a shared state store, and lets the engineer on call \
see, cancel and rerun any task with everything downstream of it.\n\n\
Run with no command to open the console on the workspace here.",
    after_help = "Examples:\n  switchyard check\n  switchyard run nightly\n  switchyard status --run latest\n  switchyard rerun latest --failed\n  switchyard logs latest export_users --follow"
)]
pub struct Cli {
    /// Workspace file (default: switchyard.toml here or in a parent directory)
    #[arg(short = 'c', long = "config", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Refuse every command that would change anything
    // A plain flag, so `--readonly status` does not take `status` as its value;
    // SWITCHYARD_READONLY=1/0 still goes through `parse_flag`.
    #[arg(long, global = true, env = "SWITCHYARD_READONLY", value_parser = parse_flag, action = clap::ArgAction::SetTrue)]
    pub readonly: bool,
    /// Colour theme of the console
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
    /// Open the console on this run (an id or `latest`)
    #[arg(long = "run", value_name = "RUN")]
    pub open_run: Option<String>,
    /// …with this task open: its error, log and runbook
    #[arg(long = "task", value_name = "TASK", requires = "open_run")]
    pub open_task: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// A whole-number argument checked by the same rule as the workspace file.
fn limit<T>(rule: fn(i64) -> Result<(), String>) -> impl Fn(&str) -> Result<T, String> + Clone
where
    T: std::str::FromStr + Into<i64> + Copy,
{
    move |s: &str| {
        let n: T = s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not a whole number"))?;
        rule(n.into())?;
        Ok(n)
    }
}

fn attempt_number(n: i64) -> Result<(), String> {
    if n < 1 {
        return Err(format!("attempts are numbered from 1, not {n}"));
    }
    Ok(())
}

fn parse_flag(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" | "off" => Ok(false),
        "1" | "true" | "yes" | "on" => Ok(true),
        other => Err(format!("`{other}` is not a yes/no value")),
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a pipeline for a date; stays until it ends (exit 0 iff all succeeded)
    Run {
        pipeline: String,
        /// Run date, YYYY-MM-DD (default: today)
        #[arg(long)]
        date: Option<String>,
        /// Hand the run to a background worker and return at once
        #[arg(long)]
        detach: bool,
    },
    /// One run per date of a range, at most --max-active at once
    Backfill {
        pipeline: String,
        #[arg(long, value_name = "DATE")]
        from: String,
        #[arg(long, value_name = "DATE")]
        to: String,
        /// Runs executing at once (default: the pipeline's max_active, or 1)
        #[arg(long, value_parser = limit::<u32>(rules::max_active))]
        max_active: Option<u32>,
        #[arg(long)]
        detach: bool,
    },
    /// Recent runs and their tasks
    Status {
        #[arg(long)]
        json: bool,
        /// One run: an id or `latest`
        #[arg(long, value_name = "RUN")]
        run: Option<String>,
        /// How many recent runs (without --run)
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Reset tasks of a run to pending and run them again with the workspace as it is now
    #[command(group = clap::ArgGroup::new("what").required(true).args(["task", "failed"]))]
    Rerun {
        /// Run id or `latest`
        run: String,
        /// The task to rerun
        task: Option<String>,
        /// Also everything downstream of TASK
        #[arg(long, requires = "task")]
        downstream: bool,
        /// Also everything upstream of TASK
        #[arg(long, requires = "task")]
        upstream: bool,
        /// Every failed, upstream_failed, interrupted and cancelled task and its downstream
        #[arg(long, conflicts_with_all = ["task", "downstream", "upstream"])]
        failed: bool,
        #[arg(long)]
        detach: bool,
        /// Say why in the run's journal first (shown on its timeline)
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
    /// Cancel a run, or one task of it
    Cancel { run: String, task: Option<String> },
    /// Mark a task succeeded or skipped
    Mark {
        run: String,
        task: String,
        #[arg(value_parser = ["succeeded", "skipped"])]
        state: String,
    },
    /// Set a pool's size; honoured within a second by every process
    Pool {
        name: String,
        #[arg(value_parser = limit::<i64>(rules::pool_size))]
        size: i64,
    },
    /// Print a task's log (latest attempt)
    Logs {
        run: String,
        task: String,
        /// Keep printing until the task ends
        #[arg(long, short)]
        follow: bool,
        /// A specific attempt (1 is the first)
        #[arg(long, value_parser = limit::<i64>(attempt_number))]
        attempt: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Export a table of a source to a file in a store (a run of its own)
    Export {
        source: String,
        /// `table` or `schema.table` (quote odd names: '"My Schema"."Odd table"')
        table: String,
        #[arg(long)]
        store: String,
        /// Path in the store (default: TABLE/{run_date}.EXT); {run_date} and {run_id} expand
        #[arg(long)]
        path: Option<String>,
        #[arg(long, value_parser = ["parquet", "ndjson", "csv"])]
        format: Option<String>,
        /// Page ranges read in parallel under one snapshot (PostgreSQL)
        #[arg(long, value_parser = limit::<u32>(rules::partitions))]
        partitions: Option<u32>,
        /// Convert values that cannot be carried exactly (see `sources SOURCE TABLE`)
        #[arg(long)]
        lossy: bool,
        /// Export only the rows whose COLUMN is above --since (an integer or a timestamp column)
        #[arg(long, value_name = "COLUMN", requires = "since")]
        incremental: Option<String>,
        /// With --incremental: the value the rows must be above (e.g. 2026-12-07T03:00:00Z, or 41000)
        #[arg(long, value_name = "VALUE", requires = "incremental")]
        since: Option<String>,
        #[arg(long)]
        detach: bool,
    },
    /// Load a file of a store into a warehouse table (a run of its own)
    Load {
        store: String,
        path: String,
        #[arg(long)]
        warehouse: String,
        #[arg(long)]
        table: String,
        #[arg(long, value_parser = ["replace", "append", "merge"])]
        mode: Option<String>,
        /// The key columns of a merge (repeat, or separate with commas)
        #[arg(long, value_delimiter = ',', required_if_eq("mode", "merge"))]
        key: Vec<String>,
        #[arg(long)]
        detach: bool,
    },
    /// Browse sources: their tables, and a table's columns with exact types
    Sources {
        source: Option<String>,
        table: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Write a self-contained demo workspace (SQLite app database, local store, SQLite warehouse)
    Demo {
        /// Where to write it (default: ./switchyard-demo)
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Then run its pipeline headless
        #[arg(long)]
        run: bool,
    },
    /// Validate the workspace file and print every problem found
    Check {
        #[arg(long)]
        json: bool,
    },
    /// Start scheduled runs, watch deadlines, deliver alerts, reap dead owners
    Serve,
    /// Each scheduled pipeline: its next slot, last run, deadline, late or on time
    Schedule {
        #[arg(long)]
        json: bool,
    },
    /// What each task of a pipeline took across runs: p50/p90/last, rows, rate, trend
    History {
        pipeline: String,
        /// One task (an export_all also shows its tables)
        task: Option<String>,
        /// How many of the pipeline's latest runs to look at
        #[arg(long, default_value_t = 30)]
        runs: i64,
        #[arg(long)]
        json: bool,
    },
    /// Alerts and their delivery to each channel, newest first
    Alerts {
        #[arg(long)]
        json: bool,
        /// One run's alerts: an id or `latest`
        #[arg(long, value_name = "RUN")]
        run: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Per pipeline over a window: slots, on-time share, misses, failures, time to recover
    #[command(group = clap::ArgGroup::new("format").args(["json", "md"]))]
    Sla {
        /// How far back: 30d, 2w, 12h…
        #[arg(long, default_value = "30d", value_name = "DURATION")]
        since: String,
        /// Only this pipeline
        #[arg(long, value_name = "PIPELINE")]
        pipeline: Option<String>,
        #[arg(long)]
        json: bool,
        /// Markdown, for the weekly review
        #[arg(long)]
        md: bool,
    },
    /// A run's incident in time order: attempts, failures, alerts, deliveries, human actions
    Timeline {
        /// Run id or `latest`
        run: String,
        /// Markdown for a postmortem
        #[arg(long, conflicts_with = "json")]
        md: bool,
        #[arg(long)]
        json: bool,
    },
    /// Human actions (reruns, cancels, marks, notes) across runs, newest last
    Journal {
        /// Only since then: a duration (`7d`), a date or an RFC 3339 time
        #[arg(long, value_name = "DURATION_OR_DATE")]
        since: Option<String>,
        /// One run's: an id or `latest`
        #[arg(long, value_name = "RUN")]
        run: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Notification channels
    Notify {
        #[command(subcommand)]
        action: NotifyAction,
    },
    /// The state store itself: `state copy --to postgres://…`
    State {
        #[command(subcommand)]
        action: StateAction,
    },
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// (internal) execute runs handed over by another switchyard process
    #[command(hide = true)]
    Worker(WorkerArgs),
}

#[derive(Subcommand, Debug)]
pub enum NotifyAction {
    /// Send a test message to CHANNEL and say what it answered
    Test { channel: String },
}

#[derive(Subcommand, Debug)]
pub enum StateAction {
    /// Copy this workspace's store (runs, attempts, logs, journal, pools,
    /// backfills, alerts) into an empty one, e.g. the team's PostgreSQL
    Copy {
        /// The store to copy into: a postgres:// URL or an SQLite file path
        #[arg(long, value_name = "URL|PATH")]
        to: String,
    },
}

#[derive(Args, Debug)]
pub struct WorkerArgs {
    #[arg(long = "run", value_name = "ID")]
    pub runs: Vec<i64>,
    #[arg(long, default_value_t = 1)]
    pub max_active: usize,
}
