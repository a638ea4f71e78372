//! `--readonly` and `SWITCHYARD_READONLY=1` refuse every command that would
//! change anything (exit 2, a message saying "read-only"); reading still works.

mod common;

use common::Ws;

const WS: &str = r#"
[sources.app]
kind = "sqlite"
path = "app.db"

[stores.lake]
kind = "local"
path = "lake"

[warehouses.wh]
kind = "sqlite"
path = "wh.db"

[pools.replica]
size = 2

[pipelines.p]
[[pipelines.p.tasks]]
id = "a"
kind = "command"
command = "echo ran >> ran; echo hello from a; exit 1"

[[pipelines.p.tasks]]
id = "b"
kind = "command"
after = ["a"]
command = "echo b"
"#;

const CHANGERS: &[&[&str]] = &[
    &["run", "p"],
    &["run", "p", "--date", "2026-06-02", "--detach"],
    &[
        "backfill",
        "p",
        "--from",
        "2026-06-01",
        "--to",
        "2026-06-03",
    ],
    &["rerun", "latest", "a"],
    &["rerun", "latest", "a", "--downstream"],
    &["rerun", "latest", "--failed"],
    &["cancel", "latest"],
    &["cancel", "latest", "a"],
    &["mark", "latest", "a", "succeeded"],
    &["mark", "latest", "a", "skipped"],
    &["pool", "replica", "1"],
    &["export", "app", "users", "--store", "lake"],
    &[
        "load",
        "lake",
        "users.parquet",
        "--warehouse",
        "wh",
        "--table",
        "users",
    ],
    &["serve"],
    &["notify", "test", "oncall"],
    &["state", "copy", "--to", "copy.db"],
];

fn run_env(ws: &Ws, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut c = ws.cmd(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run switchyard");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ran_count(ws: &Ws) -> usize {
    std::fs::read_to_string(ws.path().join("ran"))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[test]
fn readonly_refuses_every_change_and_still_reads() {
    let ws = Ws::new(WS);
    let (code, _, err) = ws.run(&["run", "p", "--date", "2026-06-01"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(ran_count(&ws), 1);
    let before = ws.status(None);

    for args in CHANGERS {
        let mut flagged = vec!["--readonly"];
        flagged.extend_from_slice(args);
        let ways = [
            ("--readonly", run_env(&ws, &flagged, &[])),
            (
                "SWITCHYARD_READONLY=1",
                run_env(&ws, args, &[("SWITCHYARD_READONLY", "1")]),
            ),
            // The flag after the command works too (it is global).
            ("trailing --readonly", {
                let mut trailing = args.to_vec();
                trailing.push("--readonly");
                run_env(&ws, &trailing, &[])
            }),
        ];
        for (how, (code, out, err)) in ways {
            assert_eq!(code, 2, "{how} {args:?} must be refused:\n{out}\n{err}");
            assert!(
                err.contains("read-only"),
                "{how} {args:?}: the message says read-only:\n{err}"
            );
        }
    }
    // Nothing ran and nothing changed.
    assert_eq!(ran_count(&ws), 1, "a refused command ran a task");
    assert_eq!(ws.status(None), before);

    // Reading works in both forms.
    let (code, out, err) = run_env(&ws, &["--readonly", "status", "--json"], &[]);
    assert_eq!(code, 0, "{err}");
    let st: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(st, before);
    let (code, out, err) = run_env(&ws, &["status"], &[("SWITCHYARD_READONLY", "1")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2026-06-01"), "{out}");
    let (code, out, err) = run_env(
        &ws,
        &["status", "--run", "latest"],
        &[("SWITCHYARD_READONLY", "1")],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("failed"), "{out}");
    let (code, out, err) = run_env(&ws, &["--readonly", "logs", "latest", "a"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("hello from a"), "{out}");
    for args in [["--readonly", "schedule"], ["--readonly", "alerts"]] {
        let (code, _, err) = run_env(&ws, &args, &[]);
        assert_eq!(code, 0, "{args:?} reads: {err}");
    }
    let (code, _, err) = run_env(&ws, &["--readonly", "check"], &[]);
    assert_eq!(code, 0, "{err}");

    // SWITCHYARD_READONLY=0 is not read-only.
    let (code, out, err) = run_env(
        &ws,
        &["mark", "latest", "a", "skipped"],
        &[("SWITCHYARD_READONLY", "0")],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(ws.task_state("latest", "a"), "skipped");
}
