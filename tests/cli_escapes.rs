//! Text that comes from outside (a database's error, a table name) is printed
//! with its control characters escaped: it cannot clear the screen, move the
//! cursor or forge a line of `status`.

mod common;

use common::Ws;

/// The error of `poison` names a table whose name holds an escape sequence
/// that clears the screen and a newline followed by what looks like a row.
const WS: &str = r#"
[warehouses.wh]
kind = "sqlite"
path = "./wh.db"

[pipelines.p]
[[pipelines.p.tasks]]
id = "poison"
kind = "sql"
target = "wh"
sql = "select * from \"\u001b[2Jgone\n    99  forged     2026-01-01  succeeded\""
"#;

fn assert_escaped(what: &str, text: &str) {
    assert!(
        !text.contains('\x1b'),
        "{what} printed a raw escape:\n{text:?}"
    );
    assert!(
        text.contains(r"\u{1b}[2Jgone\n    99  forged"),
        "{what} does not show the escaped name:\n{text}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("    99  forged")),
        "{what} printed a forged line:\n{text}"
    );
}

#[test]
fn errors_from_outside_are_escaped_in_every_listing() {
    let ws = Ws::new(WS);
    let (code, _, err) = ws.run(&["run", "p", "--date", "2026-01-01"]);
    assert_eq!(code, 1, "{err}");
    assert_escaped("run (its plain progress lines)", &err);

    let (code, out, err) = ws.run(&["status", "--run", "latest"]);
    assert_eq!(code, 0, "{err}");
    assert_escaped("status --run", &out);

    // JSON carries the text exactly, escaped the JSON way.
    let v = ws.status(Some("latest"));
    let error = v["runs"][0]["tasks"][0]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(error.contains("\x1b[2Jgone\n    99"), "{v}");
}
