//! Small formatting helpers shared by the screens: numbers, durations,
//! clock times, text bars, widths and wrapping. All pure.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

pub use crate::human::{count, duration, rate};

/// Display width of one character (wide CJK/emoji count 2, controls 0).
pub fn char_width(c: char) -> usize {
    let mut b = [0u8; 4];
    Span::raw(&*c.encode_utf8(&mut b)).width()
}

pub fn width(s: &str) -> usize {
    Span::raw(s).width()
}

/// `s` cut to `max` columns, with "…" when something was cut.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = char_width(c);
        if w + cw + 1 > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    if max > 0 {
        out.push('…');
    }
    out
}

/// `text` word-wrapped to `max` columns (a word longer than a row is cut
/// across rows); at least one row.
pub fn word_wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut rows = Vec::new();
    let mut row = String::new();
    let mut used = 0;
    for word in text.split_whitespace() {
        let w = width(word);
        if used > 0 && used + 1 + w <= max {
            row.push(' ');
            row.push_str(word);
            used += 1 + w;
            continue;
        }
        if used > 0 {
            rows.push(std::mem::take(&mut row));
            used = 0;
        }
        for c in word.chars() {
            let cw = char_width(c);
            if used + cw > max && used > 0 {
                rows.push(std::mem::take(&mut row));
                used = 0;
            }
            row.push(c);
            used += cw;
        }
    }
    rows.push(row);
    rows
}

/// Seconds as a duration ("3m12s"), for ETAs.
pub fn seconds(s: f64) -> String {
    if !s.is_finite() {
        return String::new();
    }
    duration((s * 1000.0).clamp(0.0, i64::MAX as f64 / 2.0) as i64)
}

/// Wall-clock HH:MM:SS of a time in ms. Local time on screen; tests use UTC
/// so snapshots do not depend on the machine's zone.
pub fn hms(ms: i64) -> String {
    let Some(t) = chrono::DateTime::from_timestamp_millis(ms) else {
        return String::new();
    };
    #[cfg(not(test))]
    let t = t.with_timezone(&chrono::Local);
    t.format("%H:%M:%S").to_string()
}

/// Date and minute of a time in ms ("2024-05-01 03:12"), local like `hms`.
pub fn datetime(ms: i64) -> String {
    let Some(t) = chrono::DateTime::from_timestamp_millis(ms) else {
        return String::new();
    };
    #[cfg(not(test))]
    let t = t.with_timezone(&chrono::Local);
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// A size in bytes: "812 B", "12.3 KiB", "1.20 MiB", "3.4 GiB".
pub fn bytes(n: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    match u {
        0 => format!("{n} B"),
        _ if v < 10.0 => format!("{v:.2} {}", units[u]),
        _ if v < 100.0 => format!("{v:.1} {}", units[u]),
        _ => format!("{v:.0} {}", units[u]),
    }
}

/// A text progress bar `width` cells wide, with eighth blocks for the edge.
pub fn bar(done: i64, total: i64, width: usize) -> (String, String) {
    const EIGHTHS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    let frac = if total > 0 {
        (done.max(0) as f64 / total as f64).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let eighths = (frac * width as f64 * 8.0).round() as usize;
    let full = (eighths / 8).min(width);
    let part = if full < width { eighths % 8 } else { 0 };
    let mut filled = "█".repeat(full);
    filled.push_str(EIGHTHS.get(part).copied().unwrap_or(""));
    let used = full + usize::from(part > 0);
    (filled, "░".repeat(width.saturating_sub(used)))
}

/// Splits `spans` into rows of at most `width` columns, breaking anywhere
/// (log lines are not prose). Always returns at least one row.
pub fn hard_wrap(spans: Vec<Span<'static>>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut rows: Vec<Line<'static>> = Vec::new();
    let mut row: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for span in spans {
        let style = span.style;
        let mut piece = String::new();
        for c in span.content.chars() {
            let cw = char_width(c);
            if used + cw > width && used > 0 {
                if !piece.is_empty() {
                    row.push(Span::styled(std::mem::take(&mut piece), style));
                }
                rows.push(Line::from(std::mem::take(&mut row)));
                used = 0;
            }
            piece.push(c);
            used += cw;
        }
        if !piece.is_empty() {
            row.push(Span::styled(piece, style));
        }
    }
    rows.push(Line::from(row));
    rows
}

/// `text` as spans, with every case-insensitive occurrence of `needle` in `hl`.
pub fn highlight(text: &str, needle: Option<&str>, base: Style, hl: Style) -> Vec<Span<'static>> {
    let Some(needle) = needle.filter(|n| !n.is_empty()) else {
        return vec![Span::styled(text.to_string(), base)];
    };
    // Lower-casing can change byte lengths; search only when it does not.
    let lower = text.to_lowercase();
    let pat = needle.to_lowercase();
    if lower.len() != text.len() {
        return vec![Span::styled(text.to_string(), base)];
    }
    let mut spans = Vec::new();
    let mut at: usize = 0;
    for (i, _) in lower.match_indices(&pat) {
        if i < at {
            continue;
        }
        let (Some(before), Some(hit)) = (text.get(at..i), text.get(i..i + pat.len())) else {
            continue;
        };
        if !before.is_empty() {
            spans.push(Span::styled(before.to_string(), base));
        }
        spans.push(Span::styled(hit.to_string(), hl));
        at = i + pat.len();
    }
    if let Some(rest) = text.get(at..).filter(|r| !r.is_empty()) {
        spans.push(Span::styled(rest.to_string(), base));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_wrap_keeps_words_whole_and_cuts_only_overlong_ones() {
        assert_eq!(
            word_wrap("replica lag 25 min", 11),
            ["replica lag", "25 min"]
        );
        assert_eq!(word_wrap("abcdefgh ij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(word_wrap("", 5), [""]);
        assert_eq!(word_wrap("a  b\nc", 80), ["a b c"]);
    }

    #[test]
    fn numbers_durations_and_bars() {
        assert_eq!(count(950), "950");
        assert_eq!(count(12_345), "12.3k");
        assert_eq!(count(1_200_000), "1.20M");
        assert_eq!(rate(12_345.0), "12.3k/s");
        assert_eq!(rate(2.5), "2.5/s");
        assert_eq!(duration(45_000), "45s");
        assert_eq!(duration(192_000), "3m12s");
        assert_eq!(duration(3_720_000), "1h02m");
        assert_eq!(bar(1, 2, 4), ("██".to_string(), "░░".to_string()));
        assert_eq!(bar(5, 0, 3).1, "░░░");
        assert_eq!(bar(9, 4, 3).0, "███");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 0), "");
    }

    #[test]
    fn logs_are_wrapped_and_highlighted() {
        let rows = hard_wrap(vec![Span::raw("abcdefg")], 3);
        assert_eq!(rows.len(), 3);
        let spans = highlight(
            "Error: ERROR here",
            Some("error"),
            Style::new(),
            Style::new(),
        );
        assert_eq!(spans.len(), 4);
    }
}
