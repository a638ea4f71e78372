//! Placeholders in the workspace's own strings: `{run_date}`, `{run_id}`,
//! `{task_id}`, `{attempt}`, and an export_all fan-out's `{schema}` and
//! `{table}`.
//!
//! Expansion is one pass over the template: a value put in is never read
//! again, so a catalog name that looks like a placeholder (a table named
//! `{run_date}`) stays what it is. Values from a catalog are therefore only
//! ever placeholder values, never part of the template.

/// `template` with each `{name}` that `value` knows replaced by its value;
/// unknown placeholders and lone braces stay as written.
pub fn expand(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let known = after
            .find('}')
            .map(|close| &after[..close])
            .filter(|name| name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .and_then(|name| value(name).map(|v| (v, name.len())));
        match known {
            Some((v, len)) => {
                out.push_str(&v);
                rest = &after[len + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "run_date" => Some("2026-01-05".into()),
            "table" => Some("{run_date}".into()),
            "schema" => Some("{table}".into()),
            _ => None,
        }
    }

    #[test]
    fn values_are_not_expanded_again() {
        assert_eq!(
            expand("raw/{run_date}/{schema}.{table}.parquet", vars),
            "raw/2026-01-05/{table}.{run_date}.parquet"
        );
    }

    #[test]
    fn unknown_placeholders_and_lone_braces_stay() {
        assert_eq!(expand("{nope}-{run_date", vars), "{nope}-{run_date");
        assert_eq!(expand("{{run_date}}", vars), "{2026-01-05}");
        assert_eq!(expand("a}b{", vars), "a}b{");
        assert_eq!(expand("{Run_Date}", vars), "{Run_Date}");
        assert_eq!(expand("", vars), "");
    }
}
