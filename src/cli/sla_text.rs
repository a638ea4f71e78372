//! The SLA report for people: a plain-text table (the default) or Markdown
//! for the weekly review (`--md`). Both are the same tables; only the
//! framing differs, so they never say different things.

use chrono::DateTime;
use chrono_tz::Tz;

use crate::config::duration::human;
use crate::engine::sla::{PipelineSla, Report, share_text, signed};

pub fn text(report: &Report, since: &str) -> String {
    render(report, since, false)
}

pub fn markdown(report: &Report, since: &str) -> String {
    render(report, since, true)
}

fn render(report: &Report, since: &str, md: bool) -> String {
    let mut out = String::new();
    let title = format!(
        "SLA over the last {since}: {} to {} (UTC)",
        utc(report.from),
        utc(report.to)
    );
    out.push_str(&if md {
        format!("# {title}\n\n")
    } else {
        format!("{title}\n\n")
    });
    if report.pipelines.is_empty() {
        out.push_str("no pipeline has a schedule, a deadline or a run in the window\n");
        return out;
    }
    out.push_str(&table(&SUMMARY, &summary_rows(report), md));
    for p in &report.pipelines {
        out.push('\n');
        pipeline(&mut out, p, md);
    }
    out
}

const SUMMARY: [&str; 10] = [
    "PIPELINE",
    "SLOTS",
    "ON TIME",
    "SHARE",
    "P50",
    "P90",
    "MISSED",
    "FAILED RUNS",
    "INCIDENTS",
    "RECOVERY P50",
];

fn summary_rows(report: &Report) -> Vec<Vec<String>> {
    report
        .pipelines
        .iter()
        .map(|p| {
            let (on_time, share, p50, p90, missed) = match &p.on_time {
                Some(t) => (
                    format!("{}/{}", t.on_time, t.decided),
                    share_text(t.share),
                    opt(t.p50_ms.map(signed)),
                    opt(t.p90_ms.map(signed)),
                    t.missed.to_string(),
                ),
                None => ("-".into(), "-".into(), "-".into(), "-".into(), "-".into()),
            };
            let r = &p.recovery;
            vec![
                p.pipeline.clone(),
                p.slots.total.to_string(),
                on_time,
                share,
                p50,
                p90,
                missed,
                p.failures.failed_runs.to_string(),
                format!("{} ({} open)", r.incidents.len(), r.open),
                opt(r.p50_ms.map(human)),
            ]
        })
        .collect()
}

fn pipeline(out: &mut String, p: &PipelineSla, md: bool) {
    let deadline = p
        .deadline
        .as_deref()
        .map_or(String::new(), |d| format!(", deadline {d}"));
    let head = format!("{} ({}{deadline})", p.pipeline, p.timezone.name());
    out.push_str(&if md {
        format!("## {head}\n\n")
    } else {
        format!("{head}\n")
    });
    let bullet = if md { "- " } else { "  " };
    let s = &p.slots;
    let mut facts = vec![format!(
        "slots: {} ({} started, {} refused, {} skipped)",
        s.total, s.started, s.refused, s.skipped
    )];
    match &p.on_time {
        Some(t) => facts.push(format!(
            "on time: {} of {} decided ({}), {} missed, {} pending; finish vs deadline p50 {}, p90 {}",
            t.on_time,
            t.decided,
            share_text(t.share),
            t.missed,
            t.pending,
            opt(t.p50_ms.map(signed)),
            opt(t.p90_ms.map(signed)),
        )),
        None => facts.push("on time: no deadline".into()),
    }
    let f = &p.failures;
    let kinds: Vec<String> = (f.alerts.iter()).map(|(k, n)| format!("{k} {n}")).collect();
    facts.push(format!(
        "failures: {} failed runs, {} failed tasks, {} interrupted; alerts: {}",
        f.failed_runs,
        f.failed_tasks,
        f.interrupted_tasks,
        if kinds.is_empty() {
            "none".into()
        } else {
            kinds.join(", ")
        }
    ));
    let r = &p.recovery;
    facts.push(format!(
        "recovery: {} incidents, {} recovered (p50 {}, p90 {}, max {}), {} open",
        r.incidents.len(),
        r.recovered,
        opt(r.p50_ms.map(human)),
        opt(r.p90_ms.map(human)),
        opt(r.max_ms.map(human)),
        r.open
    ));
    for fact in facts {
        out.push_str(&format!("{bullet}{fact}\n"));
    }
    let misses: Vec<Vec<String>> = p
        .misses()
        .map(|d| {
            vec![
                local(d.reference_at, p.timezone),
                opt(d.run_id.map(|r| r.to_string())),
                opt(d.deadline_at.map(|t| local(t, p.timezone))),
                d.miss_text(),
            ]
        })
        .collect();
    if !misses.is_empty() {
        out.push_str(if md {
            "\n### Misses\n\n"
        } else {
            "\n  misses\n"
        });
        out.push_str(&indent(
            &table(&["DUE", "RUN", "DEADLINE", "MISSED"], &misses, md),
            md,
        ));
    }
    let weeks: Vec<Vec<String>> = (p.weeks.iter())
        .map(|w| {
            vec![
                w.week.clone(),
                w.starts.clone(),
                w.dues.to_string(),
                w.on_time.to_string(),
                w.missed.to_string(),
                w.pending.to_string(),
                share_text(w.share),
                w.failed_runs.to_string(),
            ]
        })
        .collect();
    out.push_str(if md { "\n### Weeks\n\n" } else { "\n  weeks\n" });
    let heads = [
        "WEEK",
        "FROM",
        "DUE",
        "ON TIME",
        "MISSED",
        "PENDING",
        "SHARE",
        "FAILED RUNS",
    ];
    out.push_str(&indent(&table(&heads, &weeks, md), md));
}

fn indent(block: &str, md: bool) -> String {
    if md {
        return block.to_string();
    }
    block.lines().map(|l| format!("  {l}\n")).collect()
}

/// Columns padded to their widest cell (text), or a GitHub Markdown table.
fn table(heads: &[&str], rows: &[Vec<String>], md: bool) -> String {
    let mut out = String::new();
    if md {
        out.push_str(&format!("| {} |\n", heads.join(" | ")));
        out.push_str(&format!(
            "|{}\n",
            heads.iter().map(|_| "---|").collect::<String>()
        ));
        for r in rows {
            let cells: Vec<String> = r.iter().map(|c| c.replace('|', "\\|")).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        return out;
    }
    let widths: Vec<usize> = (0..heads.len())
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .chain([heads[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    out.push_str(&line(heads.to_vec()));
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

fn opt(s: Option<String>) -> String {
    s.unwrap_or_else(|| "-".into())
}

fn utc(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// A time in the pipeline's zone, as its schedule is written.
fn local(ms: i64, tz: Tz) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}
