//! Order statistics shared by the history, the forecast and the SLA report.

/// The nearest-rank percentile `p` (0–100) of `sorted` (ascending): the
/// smallest value with at least p % of the values at or below it. Nearest
/// rank, not interpolation, so the answer is always a value that happened.
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p.clamp(0.0, 100.0) / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// `values` sorted, for `percentile`.
pub fn sorted(mut values: Vec<i64>) -> Vec<i64> {
    values.sort_unstable();
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v = sorted(vec![50, 10, 40, 20, 30]);
        assert_eq!(percentile(&v, 50.0), Some(30));
        assert_eq!(percentile(&v, 90.0), Some(50));
        assert_eq!(percentile(&v, 20.0), Some(10));
        assert_eq!(percentile(&v, 21.0), Some(20));
        assert_eq!(percentile(&v, 0.0), Some(10));
        assert_eq!(percentile(&v, 100.0), Some(50));
        assert_eq!(percentile(&[], 50.0), None);
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&ten, 90.0), Some(9));
        assert_eq!(percentile(&ten, 50.0), Some(5));
    }
}
