//! What a value must be, wherever it comes from: the workspace file (checked
//! with positions in `validate.rs`/`tasks.rs`), the command line and the
//! console's forms. Each rule answers with the reason a value is refused,
//! worded to follow the name of what is refused.

use crate::text::one_line;

/// A name of a pipeline, source, store, warehouse or pool. Names end up in
/// labels, messages and file names, so they are one printable line with no
/// path in it.
pub fn name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("is empty".into());
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(format!(
            "`{}` has a control character (a line break, a tab, an escape)",
            one_line(name)
        ));
    }
    if name.contains(['/', '\\']) || only_dots(name) {
        return Err(format!(
            "`{name}` is not a name: no `/` or `\\`, and not `.` or `..`"
        ));
    }
    Ok(())
}

/// A task id: letters, digits, `_`, `.` and `-`, and more than dots (`.` and
/// `..` would be read as folders where an id goes into a path).
pub fn task_id(id: &str) -> Result<(), String> {
    if id.is_empty()
        || only_dots(id)
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        return Err(format!(
            "invalid task id `{}`: use only letters, digits, `_`, `.` and `-`, and not only dots",
            one_line(id)
        ));
    }
    Ok(())
}

fn only_dots(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c == '.')
}

/// The path of a file in a store (templates such as `{run_date}` allowed):
/// relative, no `..`, `.` or empty part, not a folder. Local and S3 stores
/// read `./a` and `a//b` differently, so neither is allowed.
pub fn file_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("the path is empty".into());
    }
    if path.ends_with('/') {
        return Err(format!(
            "`{}` names a folder; give the file's name (`{}data.parquet`)",
            one_line(path),
            one_line(path)
        ));
    }
    path_parts(path, path)
}

/// A prefix that file names are appended to (`raw/{run_date}/`): empty, or
/// what would make a valid file path with a name after it.
pub fn prefix(prefix: &str) -> Result<(), String> {
    if prefix.is_empty() {
        return Ok(());
    }
    path_parts(prefix.strip_suffix('/').unwrap_or(prefix), prefix)
}

/// Checks `path`; messages show `as_written`.
fn path_parts(path: &str, as_written: &str) -> Result<(), String> {
    let shown = one_line(as_written);
    if path.chars().any(char::is_control) {
        return Err(format!("`{shown}` has a control character"));
    }
    if path.starts_with('/') {
        return Err(format!(
            "`{shown}` is absolute; paths are relative to the store (no leading `/`)"
        ));
    }
    if path
        .split('/')
        .any(|p| p == ".." || p == "." || p.is_empty())
    {
        return Err(format!(
            "`{shown}` has a `..`, `.` or empty part; paths stay inside the store"
        ));
    }
    Ok(())
}

/// A glob of `include`/`exclude` (tables as `schema.table`) or of a
/// runbook's `task:`: `*` any run of characters, `?` one, `[a-z]` one of a
/// set, `{a,b}` either; `\` escapes. Parsed by `globset`, so what `check`
/// accepts is exactly what matches.
pub fn glob(glob: &str) -> Result<(), String> {
    if glob.is_empty() {
        return Err("an empty glob matches no table".into());
    }
    compile(glob).map(|_| ())
}

fn compile(glob: &str) -> Result<globset::Glob, String> {
    globset::GlobBuilder::new(glob)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("glob `{}`: {}", one_line(glob), e.kind()))
}

/// Matches any of several globs (one compiled set, however many names).
pub struct Globs(globset::GlobSet);

impl Globs {
    /// Globs that `check` refused match nothing, rather than everything.
    pub fn new<S: AsRef<str>>(globs: &[S]) -> Globs {
        let mut b = globset::GlobSetBuilder::new();
        for g in globs {
            if let Ok(g) = compile(g.as_ref()) {
                b.add(g);
            }
        }
        Globs(b.build().unwrap_or_else(|_| globset::GlobSet::empty()))
    }

    pub fn matches(&self, text: &str) -> bool {
        self.0.is_match(text)
    }
}

/// Whether one glob matches `text` (see `glob`).
pub fn glob_matches(glob: &str, text: &str) -> bool {
    compile(glob).is_ok_and(|g| g.compile_matcher().is_match(text))
}

/// The size of a pool: at least one slot (a pool of 0 would hold its tasks
/// queued forever).
pub fn pool_size(size: i64) -> Result<(), String> {
    at_least_one("size", size)
}

/// Partitions an export reads in parallel: at least one.
pub fn partitions(n: i64) -> Result<(), String> {
    at_least_one("`partitions`", n)
}

/// Backfill runs executing at once: at least one.
pub fn max_active(n: i64) -> Result<(), String> {
    at_least_one("`max_active`", n)
}

/// The default `upload_chunk_kib` of a BigQuery warehouse: 16 MiB.
pub const UPLOAD_CHUNK_KIB_DEFAULT: u32 = 16 * 1024;
/// The largest `upload_chunk_kib`: one chunk is held in memory per upload.
pub const UPLOAD_CHUNK_KIB_MAX: i64 = 1024 * 1024;

/// KiB per resumable upload chunk of a BigQuery warehouse: BigQuery takes
/// chunks in multiples of 256 KiB, and one chunk is held in memory.
pub fn upload_chunk_kib(n: i64) -> Result<(), String> {
    if !(256..=UPLOAD_CHUNK_KIB_MAX).contains(&n) || n % 256 != 0 {
        return Err(format!(
            "`upload_chunk_kib` must be a multiple of 256 from 256 to {UPLOAD_CHUNK_KIB_MAX} (1 GiB), not {n}"
        ));
    }
    Ok(())
}

fn at_least_one(what: &str, n: i64) -> Result<(), String> {
    if n < 1 {
        return Err(format!("{what} must be at least 1, not {n}"));
    }
    Ok(())
}

/// A reference to a defined thing (`source`, `store`…): the reason it is
/// refused, with a suggestion or the list of what exists.
pub fn reference(value: &str, what: &str, known: &[&str]) -> Result<(), String> {
    if known.contains(&value) {
        return Ok(());
    }
    let hint = super::suggest::did_you_mean(value, known.iter().copied());
    let hint = if hint.is_empty() && known.is_empty() {
        format!(" (no {what}s are defined)")
    } else if hint.is_empty() && known.len() <= 8 {
        format!(" (known: {})", known.join(", "))
    } else {
        hint
    };
    Err(format!("unknown {what} `{}`{hint}", one_line(value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_line_without_a_path() {
        for ok in ["nightly", "app-db", "Lake 2", "a.b"] {
            assert_eq!(name(ok), Ok(()), "{ok}");
        }
        for bad in ["", " ", "a/b", "..", ".", "a\\b", "a\nb", "x\u{1b}[2J"] {
            assert!(name(bad).is_err(), "{bad:?}");
        }
        assert!(name("a\nb").unwrap_err().contains(r"`a\nb`"));
    }

    #[test]
    fn file_paths_stay_inside_the_store_and_name_a_file() {
        for ok in ["x.parquet", "users/{run_date}.parquet", "a/b/c.csv"] {
            assert_eq!(file_path(ok), Ok(()), "{ok}");
        }
        for bad in [
            "", "/abs/x", "../x", "a/../x", "./x", "a//b", "dir/", "a\tb",
        ] {
            assert!(file_path(bad).is_err(), "{bad:?}");
        }
        for ok in ["", "raw/", "raw/{run_date}/", "dump_"] {
            assert_eq!(prefix(ok), Ok(()), "{ok}");
        }
        for bad in ["/abs/", "../", "a/../b/", "a//"] {
            assert!(prefix(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ids_globs_and_limits() {
        assert_eq!(task_id("dump.public.orders"), Ok(()));
        for bad in [".", "..", "...", "", "a b", "a/b"] {
            assert!(task_id(bad).is_err(), "{bad:?}");
        }
        for good in ["public.*_log?", "public.[ab]*", "{a,b}.t", "odd\\*name"] {
            assert_eq!(glob(good), Ok(()), "{good:?}");
        }
        for bad in ["", "[", "public.[ab", "{a,b", "a\\"] {
            assert!(glob(bad).is_err(), "{bad:?}");
        }
        assert_eq!(pool_size(1), Ok(()));
        for ok in [256, 512, 16 * 1024, 1024 * 1024] {
            assert_eq!(upload_chunk_kib(ok), Ok(()), "{ok}");
        }
        for bad in [0, 100, 255, 300, 1024 * 1024 + 256, -256] {
            assert!(upload_chunk_kib(bad).is_err(), "{bad}");
        }
        assert_eq!(pool_size(0).unwrap_err(), "size must be at least 1, not 0");
        assert!(partitions(0).is_err());
        assert!(max_active(-1).is_err());
    }
}
