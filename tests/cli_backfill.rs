//! `backfill` creates one run per date and runs at most --max-active of them at once.

mod common;

use std::collections::BTreeSet;

use common::Ws;

/// One task per run, so concurrent tasks are concurrent runs. Each records its
/// run date and the number of runs in flight (a counter under flock). The first
/// date waits (up to 20 s) until a second run is in flight, so "reached 2"
/// does not depend on timing; the others hold their place for a second.
const WS: &str = r#"
[pipelines.p]
[[pipelines.p.tasks]]
id = "t"
kind = "command"
command = """
echo "$SWITCHYARD_RUN_DATE" >> dates
flock lock sh -c 'n=$(cat cur 2>/dev/null || echo 0); n=$((n+1)); echo $n > cur; echo $n >> seen'
if [ "$SWITCHYARD_RUN_DATE" = 2026-01-01 ]; then
  i=0
  while [ "$i" -lt 200 ] && ! grep -q '^2$' seen; do sleep 0.1; i=$((i+1)); done
else
  sleep 1
fi
flock lock sh -c 'n=$(cat cur); echo $((n-1)) > cur'
"""
"#;

#[test]
fn backfill_runs_every_date_at_most_max_active_at_once() {
    let ws = Ws::new(WS);
    let (code, _out, err) = ws.run(&[
        "backfill",
        "p",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-05",
        "--max-active",
        "2",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("5 runs of p, 2 at once"), "{err}");

    let dates: Vec<String> = std::fs::read_to_string(ws.path().join("dates"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let want: BTreeSet<String> = (1..=5).map(|d| format!("2026-01-0{d}")).collect();
    assert_eq!(dates.len(), 5, "one task per date: {dates:?}");
    assert_eq!(dates.iter().cloned().collect::<BTreeSet<_>>(), want);

    let seen: Vec<u32> = std::fs::read_to_string(ws.path().join("seen"))
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    let max = seen.iter().copied().max().unwrap_or(0);
    assert!(max <= 2, "more than 2 runs at once: {seen:?}");
    assert_eq!(max, 2, "two runs were never in flight together: {seen:?}");
    assert_eq!(
        std::fs::read_to_string(ws.path().join("cur"))
            .unwrap()
            .trim(),
        "0"
    );

    let st = ws.status(None);
    let runs = st["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 5, "{st}");
    let run_dates: BTreeSet<String> = runs
        .iter()
        .map(|r| r["run_date"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(run_dates, want, "{st}");
    let backfill = &runs[0]["backfill_id"];
    assert!(backfill.is_i64(), "{st}");
    for r in runs {
        assert_eq!(r["pipeline"], "p", "{r}");
        assert_eq!(r["state"], "succeeded", "{r}");
        assert_eq!(&r["backfill_id"], backfill, "one backfill: {r}");
        assert_eq!(r["tasks"][0]["state"], "succeeded", "{r}");
        assert_eq!(r["tasks"][0]["attempt"], 1, "{r}");
    }
}

#[test]
fn backfill_refuses_a_reversed_range() {
    let ws = Ws::new(WS);
    let (code, _, err) = ws.run(&[
        "backfill",
        "p",
        "--from",
        "2026-01-05",
        "--to",
        "2026-01-01",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--to is before --from"), "{err}");
    let (code, _, err) = ws.run(&[
        "backfill",
        "p",
        "--from",
        "2026-13-01",
        "--to",
        "2026-01-01",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("2026-13-01"), "{err}");
    assert!(ws.status(None)["runs"].as_array().unwrap().is_empty());
}
