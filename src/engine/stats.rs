//! Small statistics shared by the reports (the SLA report's finish-vs-deadline
//! and recovery times, task durations). A leaf module: no engine types.

/// The nearest-rank percentile of an ascending slice: the smallest value
/// with at least `p` percent of the values at or below it. `p` is clamped
/// to 0..=100 (0 gives the minimum). None for an empty slice.
///
/// Nearest-rank rather than interpolation: every answer is a value that
/// happened (a real finish time, a real duration), which is what on call
/// reads in a report, and it needs no float arithmetic on the values.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 100.0) };
    let n = sorted.len();
    // rank = ceil(p/100 × n), 1-based; 0 only for p = 0, which is the minimum.
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// `percentile` of values in any order (sorts a copy).
pub fn percentile_of<T: Copy + Ord>(values: &[T], p: f64) -> Option<T> {
    let mut v = values.to_vec();
    v.sort_unstable();
    percentile(&v, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_on_the_textbook_example() {
        // The usual worked example: 15, 20, 35, 40, 50.
        let v = [15, 20, 35, 40, 50];
        assert_eq!(percentile(&v, 5.0), Some(15));
        assert_eq!(percentile(&v, 30.0), Some(20));
        assert_eq!(percentile(&v, 40.0), Some(20));
        assert_eq!(percentile(&v, 50.0), Some(35));
        assert_eq!(percentile(&v, 90.0), Some(50));
        assert_eq!(percentile(&v, 100.0), Some(50));
    }

    #[test]
    fn edges_empty_single_and_out_of_range() {
        assert_eq!(percentile::<i64>(&[], 50.0), None);
        assert_eq!(percentile(&[7_i64], 0.0), Some(7));
        assert_eq!(percentile(&[7_i64], 99.0), Some(7));
        assert_eq!(percentile(&[1, 2, 3], 0.0), Some(1));
        assert_eq!(percentile(&[1, 2, 3], -5.0), Some(1));
        assert_eq!(percentile(&[1, 2, 3], 250.0), Some(3));
        assert_eq!(percentile(&[1, 2, 3], f64::NAN), Some(1));
    }

    #[test]
    fn p50_of_an_even_count_is_the_lower_middle() {
        assert_eq!(percentile(&[10, 20, 30, 40], 50.0), Some(20));
        assert_eq!(percentile(&[10, 20, 30, 40], 51.0), Some(30));
        // p90 of ten values is the ninth.
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&ten, 90.0), Some(9));
    }

    #[test]
    fn negative_values_and_unsorted_input() {
        assert_eq!(percentile_of(&[-35, 12, -5, 0], 50.0), Some(-5));
        assert_eq!(percentile_of(&[-35, 12, -5, 0], 90.0), Some(12));
        assert_eq!(percentile_of(&[3_u32, 1, 2], 50.0), Some(2));
    }
}
