//! What `check` points out without failing: the workspace works, but not as
//! written (a partitioned export in a pool too small for its partitions).

use std::collections::HashMap;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::Problem;
use super::report::Report;
use super::tree::{get, get_str, integer, named_tables};

/// Warnings for the workspace file at `file` (already loaded without errors).
pub fn warnings(file: &Path) -> Vec<Problem> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Vec::new();
    };
    let mut r = Report::new(file, &text);
    let (mut root, syntax_errors) = DeTable::parse_recoverable(&text);
    if !syntax_errors.is_empty() {
        return Vec::new();
    }
    super::interpolate::interpolate(root.get_mut(), &|name| std::env::var(name).ok(), &mut r);
    if r.has_problems() {
        return Vec::new();
    }
    partitions_beyond_pool(&mut r, root.get_ref());
    r.into_error().problems
}

/// A task reads at most as many partitions at once as it holds pool slots,
/// and it never holds more than its pool's size.
fn partitions_beyond_pool(r: &mut Report, root: &DeTable<'_>) {
    let mut scratch = Report::new(Path::new(""), "");
    let sizes: HashMap<&str, i128> = named_tables(&mut scratch, root, "pools")
        .into_iter()
        .filter_map(|(name, _, t)| Some((name, integer(get(t, "size")?.get_ref())?)))
        .collect();
    for (_, _, pipeline) in named_tables(&mut scratch, root, "pipelines") {
        let Some(DeValue::Array(tasks)) = get(pipeline, "tasks").map(|n| n.get_ref()) else {
            continue;
        };
        for task in tasks {
            let DeValue::Table(t) = task.get_ref() else {
                continue;
            };
            let (Some((pool, _)), Some(node)) = (get_str(t, "pool"), get(t, "partitions")) else {
                continue;
            };
            let (Some(partitions), Some(&size)) = (integer(node.get_ref()), sizes.get(pool)) else {
                continue;
            };
            if partitions > size && size >= 1 {
                r.at(
                    node.span().start,
                    format!(
                        "`partitions = {partitions}` is more than pool `{pool}` holds (size {size}): \
                         the export is read as {size} partitions, one connection per slot"
                    ),
                );
            }
        }
    }
}
