//! "did you mean `x`?" for misspelled keys and names.

/// The closest candidate: edit distance ≤ 2 (≤ 1 for two-letter words, so `id` does
/// not suggest everything short), or one being a prefix of the other (≥ 3 letters).
pub(crate) fn closest<'c, I>(given: &str, candidates: I) -> Option<&'c str>
where
    I: IntoIterator<Item = &'c str>,
{
    let g = given.to_lowercase();
    let g_len = g.chars().count();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let cl = c.to_lowercase();
        let d = distance(&g, &cl);
        let close = d <= 2 && d < g_len;
        let prefix =
            g_len.min(cl.chars().count()) >= 3 && (cl.starts_with(&g) || g.starts_with(&cl));
        if !(close || prefix) || (d == 0 && c == given) {
            continue;
        }
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// `"; did you mean `x`?"`, or nothing.
pub(crate) fn did_you_mean<'c, I>(given: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'c str>,
{
    closest(given, candidates).map_or_else(String::new, |c| format!("; did you mean `{c}`?"))
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_or_prefix_matches() {
        let keys = ["retries", "retry_delay", "runbook", "id", "kind"];
        assert_eq!(closest("retires", keys), Some("retries"));
        assert_eq!(closest("retry_delya", keys), Some("retry_delay"));
        assert_eq!(closest("runbooks", keys), Some("runbook"));
        assert_eq!(closest("Kind", keys), Some("kind"));
        assert_eq!(closest("retry", keys), Some("retry_delay"));
        assert_eq!(closest("xyz", keys), None);
        assert_eq!(closest("ab", keys), None);
        assert_eq!(closest("ix", keys), Some("id"));
        assert_eq!(did_you_mean("knd", keys), "; did you mean `kind`?");
        assert_eq!(did_you_mean("zzzz", keys), "");
    }

    #[test]
    fn levenshtein() {
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("same", "same"), 0);
    }
}
