use ratatui::style::Modifier;

use super::*;
use crate::tui::theme::BUNDLED;
use crate::tui::view::fmt::width as str_width;

fn theme() -> Theme {
    Theme::parse(BUNDLED[0].1, false).expect("bundled theme")
}

fn plain(lines: &[Line<'_>]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect()
}

/// The style of the span holding `needle`.
fn style_of(lines: &[Line<'_>], needle: &str) -> Style {
    lines
        .iter()
        .flat_map(|l| l.spans.iter())
        .find(|s| s.content.contains(needle))
        .map(|s| s.style)
        .unwrap_or_else(|| panic!("no span with {needle:?}"))
}

#[test]
fn front_matter_is_stripped() {
    let t = theme();
    let md = "---\ntask: export_*\nerror: timeout\n---\n# Export timed out\n";
    assert_eq!(plain(&render(md, &t, 40)), ["Export timed out"]);
    // Not closed: not front matter, shown as written.
    let open = "---\nhello";
    assert_eq!(
        plain(&render(open, &t, 40)),
        ["─".repeat(40), "hello".into()]
    );
}

#[test]
fn headings_use_the_heading_role() {
    let t = theme();
    let lines = render("# Title\n\n### Step one\ntext", &t, 40);
    assert_eq!(plain(&lines), ["Title", "", "› Step one", "text"]);
    assert_eq!(style_of(&lines, "Title"), t.get("md_heading"));
    assert_eq!(style_of(&lines, "Step"), t.get("md_heading"));
}

#[test]
fn bullet_and_numbered_lists_hang_their_continuations() {
    let t = theme();
    let md = "- check the replica lag\n* second\n  - nested\n1. first step is long enough to wrap\n2) two";
    assert_eq!(
        plain(&render(md, &t, 24)),
        [
            "• check the replica lag",
            "• second",
            "  • nested",
            "1. first step is long",
            "   enough to wrap",
            "2. two",
        ]
    );
}

#[test]
fn emphasis_strong_and_inline_code() {
    let t = theme();
    let lines = render("a *soft* and **hard** `ls -l` run_date_x", &t, 80);
    assert_eq!(plain(&lines), ["a soft and hard ls -l run_date_x"]);
    assert!(
        style_of(&lines, "soft")
            .add_modifier
            .contains(Modifier::ITALIC)
    );
    assert!(
        style_of(&lines, "hard")
            .add_modifier
            .contains(Modifier::BOLD)
    );
    assert_eq!(
        style_of(&lines, "ls"),
        t.get("text").patch(t.get("md_code"))
    );
    // snake_case is not emphasis; unmatched stars stay literal.
    assert_eq!(style_of(&lines, "run_date_x"), t.get("text"));
    assert_eq!(plain(&render("2 * 3 = *6", &t, 80)), ["2 * 3 = *6"]);
    assert_eq!(plain(&render(r"\*not\*", &t, 80)), ["*not*"]);
}

#[test]
fn fenced_code_is_verbatim() {
    let t = theme();
    let md = "Run:\n```sh\nswitchyard rerun 42 --failed   # long line that is not wrapped\n  indented\n```\nafter";
    let lines = render(md, &t, 20);
    assert_eq!(
        plain(&lines),
        [
            "Run:",
            "  switchyard rerun 42 --failed   # long line that is not wrapped",
            "    indented",
            "after",
        ]
    );
    assert_eq!(style_of(&lines, "indented"), t.get("md_code"));
}

#[test]
fn links_show_their_address() {
    let t = theme();
    let lines = render("See [the dashboard](https://grafana/d/x) now", &t, 80);
    assert_eq!(
        plain(&lines),
        ["See the dashboard <https://grafana/d/x> now"]
    );
    assert_eq!(
        style_of(&lines, "dashboard"),
        t.get("text").patch(t.get("md_link"))
    );
}

#[test]
fn paragraphs_wrap_to_the_width() {
    let t = theme();
    let md =
        "The export reads the replica;\nwhen it lags, wait or point it at the primary with care.";
    let lines = render(md, &t, 20);
    for l in plain(&lines) {
        assert!(str_width(&l) <= 20, "{l:?}");
    }
    assert_eq!(
        plain(&lines).join(" "),
        "The export reads the replica; when it lags, wait or point it at the primary with care."
    );
    // A word longer than the row is split, never lost.
    let long = plain(&render("aaaaaaaaaaaaaaaaaaaaaaaaa", &t, 10));
    assert_eq!(long, ["aaaaaaaaaa", "aaaaaaaaaa", "aaaaa"]);
    // Width 0 or 1 must not loop or panic.
    assert!(!render("- some words here", &t, 0).is_empty());
}

#[test]
fn quotes_and_rules() {
    let t = theme();
    let lines = render("> careful:\n> it pages\n\n---\nx", &t, 10);
    assert_eq!(
        plain(&lines),
        ["│ careful:", "│ it pages", "", "─".repeat(10).as_str(), "x"]
    );
}

#[test]
fn nested_lists_hang_under_their_parent() {
    let t = theme();
    let md = "- top\n  1. first nested item wraps here\n  2. second\n     - deep\n- next";
    assert_eq!(
        plain(&render(md, &t, 20)),
        [
            "• top",
            "  1. first nested",
            "     item wraps here",
            "  2. second",
            "     • deep",
            "• next",
        ]
    );
    // A loose list keeps its blank lines; an empty item shows its marker.
    assert_eq!(
        plain(&render("- a\n\n- b\n-\n", &t, 20)),
        ["• a", "", "• b", "• "]
    );
}

#[test]
fn hash_lines_in_fenced_code_are_not_headings() {
    let t = theme();
    let md = "```sh\n# not a heading\n## nor this\n```\n# Real";
    let lines = render(md, &t, 40);
    assert_eq!(
        plain(&lines),
        ["  # not a heading", "  ## nor this", "Real"]
    );
    assert_eq!(style_of(&lines, "not a heading"), t.get("md_code"));
    assert_eq!(style_of(&lines, "Real"), t.get("md_heading"));
    // A longer fence is closed only by one as long: ``` inside is code.
    let md = "````\n```\n# x\n````\nafter";
    assert_eq!(plain(&render(md, &t, 40)), ["  ```", "  # x", "after"]);
}

#[test]
fn stars_in_inline_code_are_not_emphasis() {
    let t = theme();
    let lines = render("run `ls *.csv` then `a*b*c` and *done*", &t, 80);
    assert_eq!(plain(&lines), ["run ls *.csv then a*b*c and done"]);
    let code = t.get("text").patch(t.get("md_code"));
    assert_eq!(style_of(&lines, "*.csv"), code);
    assert_eq!(style_of(&lines, "a*b*c"), code);
    assert!(
        style_of(&lines, "done")
            .add_modifier
            .contains(Modifier::ITALIC)
    );
}

#[test]
fn every_kind_of_link_shows_its_address_once() {
    let t = theme();
    let md = "[**the** dash][d] or <https://x.y/z>\n\n[d]: https://g/d";
    let lines = render(md, &t, 80);
    assert_eq!(plain(&lines), ["the dash <https://g/d> or https://x.y/z"]);
    assert_eq!(style_of(&lines, "<https://g/d>"), t.get("dim"));
    assert_eq!(
        style_of(&lines, "x.y"),
        t.get("text").patch(t.get("md_link"))
    );
}

#[test]
fn tables_line_up_their_columns() {
    let t = theme();
    let md =
        "Steps:\n\n| step | command |\n|---|---:|\n| lag | `select 1` |\n| rerun | R |\n\nafter";
    let lines = render(md, &t, 40);
    assert_eq!(
        plain(&lines),
        [
            "Steps:",
            "",
            "step  │  command",
            "──────┼─────────",
            "lag   │ select 1",
            "rerun │        R",
            "",
            "after",
        ]
    );
    assert!(
        style_of(&lines, "step")
            .add_modifier
            .contains(Modifier::BOLD)
    );
    assert_eq!(
        style_of(&lines, "select"),
        t.get("text").patch(t.get("md_code"))
    );
    // Too wide for the pane: cells wrap inside their columns, nothing is lost.
    let narrow = plain(&render(md, &t, 12));
    for l in &narrow {
        assert!(str_width(l) <= 12, "{l:?}");
    }
    assert!(narrow.iter().all(|l| l == l.trim_end()), "{narrow:?}");
    let all = narrow.join(" ");
    for w in ["step", "lag", "R", "after"] {
        assert!(all.contains(w), "{w} in {narrow:?}");
    }
}

#[test]
fn hard_breaks_and_blank_lines_in_quotes() {
    let t = theme();
    assert_eq!(
        plain(&render("one  \ntwo\\\nthree", &t, 40)),
        ["one", "two", "three"]
    );
    assert_eq!(plain(&render("> a\n>\n> b", &t, 40)), ["│ a", "│", "│ b"]);
    // CRLF runbooks render like LF ones.
    assert_eq!(
        plain(&render(
            "---\r\ntask: x\r\n---\r\n# T\r\n\r\n- a\r\n- b\r\n",
            &t,
            40
        )),
        ["T", "", "• a", "• b"]
    );
}
