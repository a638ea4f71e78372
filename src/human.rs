//! Numbers and durations as people read them ("12.3k", "3m12s"): one home
//! for the CLI and the console.

/// 950, 12.3k, 1.20M, 3.4G: fits in 5 columns.
pub fn count(n: i64) -> String {
    let a = n.unsigned_abs() as f64;
    let sign = if n < 0 { "-" } else { "" };
    let (v, unit) = match a {
        x if x < 1_000.0 => return n.to_string(),
        x if x < 1_000_000.0 => (x / 1e3, "k"),
        x if x < 1_000_000_000.0 => (x / 1e6, "M"),
        x => (x / 1e9, "G"),
    };
    if v < 10.0 {
        format!("{sign}{v:.2}{unit}")
    } else if v < 100.0 {
        format!("{sign}{v:.1}{unit}")
    } else {
        format!("{sign}{v:.0}{unit}")
    }
}

/// Rows per second, e.g. "12.3k/s".
pub fn rate(per_s: f64) -> String {
    if !per_s.is_finite() || per_s < 0.0 {
        return String::new();
    }
    if per_s < 10.0 {
        return format!("{per_s:.1}/s");
    }
    format!("{}/s", count(per_s.round() as i64))
}

/// A duration in two units at most: "45s", "3m12s", "1h02m", "2d03h".
pub fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86400, (s % 86400) / 3600),
    }
}

/// A measured duration: tenths of a second under ten seconds ("0.7s",
/// "4.2s"), else as `duration`. For history, where sub-second tasks are
/// common and "0s" would say nothing.
pub fn duration_measured(ms: i64) -> String {
    if (0..10_000).contains(&ms) {
        return format!("{:.1}s", ms as f64 / 1000.0);
    }
    duration(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_for_people() {
        assert_eq!(duration(45_000), "45s");
        assert_eq!(duration(192_000), "3m12s");
        assert_eq!(duration_measured(744), "0.7s");
        assert_eq!(duration_measured(9_949), "9.9s");
        assert_eq!(duration_measured(12_000), "12s");
        assert_eq!(count(12_345), "12.3k");
        assert_eq!(rate(4.25), "4.2/s");
    }
}
