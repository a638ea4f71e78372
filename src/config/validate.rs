//! Checks the (interpolated) spanned tree before serde sees it, so that every problem
//! is reported at once with the position of the key or value it is about. Tasks and
//! pipelines are checked in `tasks.rs`.

use toml::Spanned;
use toml::de::DeTable;

use super::model::{keys, kinds};
use super::report::Report;
use super::suggest::did_you_mean;
use super::tree::{Ty, check_table, get, get_str, integer, named_tables, names};
use super::{rules, tasks};

/// Everything a reference may point at.
pub(crate) struct Names<'a> {
    pub sources: Vec<&'a str>,
    pub stores: Vec<&'a str>,
    pub warehouses: Vec<&'a str>,
    pub pools: Vec<&'a str>,
    pub channels: Vec<&'a str>,
}

pub(crate) fn validate(root: &Spanned<DeTable<'_>>, r: &mut Report) {
    let root = root.get_ref();
    let top_types: Vec<(&str, Ty)> = keys::TOP.iter().map(|k| (*k, Ty::Table)).collect();
    check_table(r, root, keys::TOP, &top_types, "at the top level");

    if let Some(ws) = super::tree::get_table(root, "workspace") {
        check_table(
            r,
            ws,
            keys::WORKSPACE,
            &[("max_parallel", Ty::UInt)],
            "in [workspace]",
        );
        at_least_one(r, ws, "max_parallel");
        timing_values(r, ws);
        lease_times(r, ws);
        not_empty(r, ws, "state", "[workspace]");
    }
    for (name, header, t) in named_tables(r, root, "sources") {
        source(r, name, header, t);
    }
    for (name, header, t) in named_tables(r, root, "stores") {
        store(r, name, header, t);
    }
    for (name, header, t) in named_tables(r, root, "warehouses") {
        warehouse(r, name, header, t);
    }
    for (name, header, t) in named_tables(r, root, "pools") {
        check_table(
            r,
            t,
            keys::POOL,
            &[("size", Ty::Int)],
            &format!("in [pools.{name}]"),
        );
        match get(t, "size") {
            None => r.at(header, format!("pool `{name}` has no `size`")),
            Some(node) => {
                if let Some(n) = integer(node.get_ref()).and_then(|n| i64::try_from(n).ok())
                    && let Err(e) = rules::pool_size(n)
                {
                    r.at(node.span().start, format!("pool `{name}` {e}"));
                }
            }
        }
    }

    let names = Names {
        sources: names(root, "sources"),
        stores: names(root, "stores"),
        warehouses: names(root, "warehouses"),
        pools: names(root, "pools"),
        channels: names(root, "notify"),
    };
    for (name, header, t) in named_tables(r, root, "notify") {
        super::notify::channel(r, name, header, t);
    }
    for (name, _, t) in named_tables(r, root, "pipelines") {
        check_table(
            r,
            t,
            keys::PIPELINE,
            &[
                ("max_active", Ty::UInt),
                ("notify", Ty::StrList),
                ("tasks", Ty::TableList),
            ],
            &format!("in [pipelines.{name}]"),
        );
        super::notify::references(r, t, &names.channels);
        timing_values(r, t);
        at_least_one(r, t, "max_active");
        tasks::validate_pipeline(r, name, t, &names);
    }
}

fn source(r: &mut Report, name: &str, header: usize, t: &DeTable<'_>) {
    check_table(r, t, keys::SOURCE, &[], &format!("in [sources.{name}]"));
    let Some(kind) = kind_of(
        r,
        t,
        header,
        &format!("source `{name}`"),
        kinds::SOURCE,
        None,
    ) else {
        return;
    };
    not_empty(r, t, "url", &format!("source `{name}`"));
    not_empty(r, t, "path", &format!("source `{name}`"));
    // Never echo the URL: it may hold a password. One still holding `${`
    // was not expanded, and that is reported already.
    let schemes: &[&str] = match kind {
        "postgres" => &["postgres://", "postgresql://"],
        "mysql" => &["mysql://", "mariadb://"],
        _ => &[],
    };
    if let Some((url, at)) = get_str(t, "url")
        && !url.trim().is_empty()
        && !url.contains("${")
        && !schemes.is_empty()
        && !schemes.iter().any(|s| url.starts_with(s))
    {
        r.at(
            at,
            format!(
                "source `{name}` ({kind}): `url` must start with {}",
                schemes.join(" or ")
            ),
        );
    }
    let has = |k| get(t, k).is_some();
    match kind {
        "sqlite" if !has("url") && !has("path") => r.at(
            header,
            format!("source `{name}` (sqlite) needs `url` or `path`"),
        ),
        "postgres" | "mysql" if !has("url") => {
            r.at(header, format!("source `{name}` ({kind}) needs `url`"))
        }
        _ => {}
    }
}

fn store(r: &mut Report, name: &str, header: usize, t: &DeTable<'_>) {
    check_table(
        r,
        t,
        keys::STORE,
        &[("path_style", Ty::Bool)],
        &format!("in [stores.{name}]"),
    );
    let kind = kind_of(
        r,
        t,
        header,
        &format!("store `{name}`"),
        kinds::STORE,
        Some("local"),
    );
    let needed = match kind {
        Some("local") => "path",
        Some("s3") => "bucket",
        _ => return,
    };
    if get(t, needed).is_none() {
        let kind = kind.unwrap_or_default();
        r.at(header, format!("store `{name}` ({kind}) needs `{needed}`"));
    }
    if kind == Some("local") {
        not_empty(r, t, "path", &format!("store `{name}`"));
    }
    if let Some((uri, at)) = get_str(t, "bigquery_uri") {
        let bucket = uri.strip_prefix("gs://").map(|rest| rest.split('/').next());
        if !matches!(bucket, Some(Some(b)) if !b.is_empty()) {
            r.at(
                at,
                format!(
                    "`bigquery_uri` of store `{name}` must be gs://BUCKET[/PREFIX], not `{uri}`"
                ),
            );
        }
    }
    if kind == Some("s3") {
        s3_store(r, name, header, t);
    }
}

/// The keys of an s3 store. Messages never repeat `endpoint`: it is the one
/// value that could hide a credential.
fn s3_store(r: &mut Report, name: &str, header: usize, t: &DeTable<'_>) {
    if let Some((bucket, at)) = get_str(t, "bucket")
        && (bucket.is_empty() || bucket.contains('/') || bucket.contains(char::is_whitespace))
    {
        r.at(
            at,
            format!(
                "store `{name}`: `bucket` is a bucket name alone (no `/` or spaces); folders go in `prefix`"
            ),
        );
    }
    if let Some((prefix, at)) = get_str(t, "prefix")
        && prefix.split('/').any(|seg| seg == "..")
    {
        r.at(
            at,
            format!("store `{name}`: `prefix` must not contain `..`"),
        );
    }
    if let Some((region, at)) = get_str(t, "region")
        && (region.is_empty() || region.contains(char::is_whitespace))
    {
        r.at(
            at,
            format!("store `{name}`: `region` must be a region name such as `us-east-1`"),
        );
    }
    if let Some((endpoint, at)) = get_str(t, "endpoint") {
        match endpoint.split_once("://") {
            Some(("http" | "https", rest)) => {
                let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
                if authority.contains('@') {
                    r.at(
                        at,
                        format!(
                            "store `{name}`: `endpoint` must not carry credentials (user:password@); \
                             they come from the AWS credential chain, or from \
                             `access_key_id`/`secret_access_key` given as ${{VAR}}"
                        ),
                    );
                } else if authority.is_empty() {
                    r.at(at, format!("store `{name}`: `endpoint` has no host"));
                }
            }
            _ => r.at(
                at,
                format!("store `{name}`: `endpoint` must be an http:// or https:// URL"),
            ),
        }
    }
    let has = |k| get(t, k).is_some();
    if has("access_key_id") != has("secret_access_key") {
        r.at(
            header,
            format!(
                "store `{name}`: give both `access_key_id` and `secret_access_key`, or neither \
                 to use the AWS credential chain"
            ),
        );
    }
    if let Some(node) = get(t, "path") {
        r.at(
            node.span().start,
            format!(
                "store `{name}`: `path` is for local stores; an s3 store uses `bucket` and `prefix`"
            ),
        );
    }
}

fn warehouse(r: &mut Report, name: &str, header: usize, t: &DeTable<'_>) {
    check_table(
        r,
        t,
        keys::WAREHOUSE,
        &[("upload_chunk_kib", Ty::UInt)],
        &format!("in [warehouses.{name}]"),
    );
    let kind = kind_of(
        r,
        t,
        header,
        &format!("warehouse `{name}`"),
        kinds::WAREHOUSE,
        Some("sqlite"),
    );
    let needed: &[&str] = match kind {
        Some("sqlite") => &["path"],
        Some("bigquery") => &["project", "dataset"],
        _ => return,
    };
    let missing: Vec<String> = needed
        .iter()
        .filter(|k| get(t, k).is_none())
        .map(|k| format!("`{k}`"))
        .collect();
    if !missing.is_empty() {
        let kind = kind.unwrap_or_default();
        r.at(
            header,
            format!(
                "warehouse `{name}` ({kind}) needs {}",
                missing.join(" and ")
            ),
        );
    }
    if kind == Some("bigquery") {
        bigquery(r, name, t);
    } else {
        not_empty(r, t, "path", &format!("warehouse `{name}`"));
        if let Some(node) = get(t, "upload_chunk_kib") {
            r.at(
                node.span().start,
                format!("warehouse `{name}`: `upload_chunk_kib` is for bigquery warehouses"),
            );
        }
    }
}

/// BigQuery names: what Google would refuse later is refused here, with a position.
fn bigquery(r: &mut Report, name: &str, t: &DeTable<'_>) {
    let mut check = |key: &str, ok: &dyn Fn(&str) -> bool, rule: &str| {
        if let Some((v, at)) = get_str(t, key)
            && !ok(v)
        {
            r.at(
                at,
                format!("`{key}` of warehouse `{name}` {rule}, not `{v}`"),
            );
        }
    };
    check(
        "project",
        &|v| {
            !v.is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
        },
        "must be a project id (letters, digits, `-`, `.`, `:`)",
    );
    check(
        "dataset",
        &|v| {
            !v.is_empty()
                && v.len() <= 1024
                && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        },
        "must be a dataset id (letters, digits and `_`)",
    );
    check(
        "location",
        &|v| !v.trim().is_empty(),
        "must name a location (`US`, `EU`, `europe-west1`…)",
    );
    check(
        "endpoint",
        &|v| v.starts_with("http://") || v.starts_with("https://"),
        "must be an http:// or https:// URL",
    );
    // A wrong type is reported by `check_table`.
    if let Some(node) = get(t, "upload_chunk_kib")
        && let Some(n) = integer(node.get_ref())
        && let Err(e) = rules::upload_chunk_kib(i64::try_from(n).unwrap_or(i64::MAX))
    {
        r.at(node.span().start, format!("warehouse `{name}`: {e}"));
    }
    // Never echo it: `credentials` may hold a key.
    if let Some((v, at)) = get_str(t, "credentials")
        && v.trim().is_empty()
    {
        r.at(
            at,
            format!("`credentials` of warehouse `{name}` is empty (leave it out for application default credentials)"),
        );
    }
}

/// The `kind` of a table if it is one of `allowed` (or `default` when absent);
/// reports a missing or unknown kind at `anchor` / the value.
pub(crate) fn kind_of<'a>(
    r: &mut Report,
    t: &'a DeTable<'_>,
    anchor: usize,
    what: &str,
    allowed: &[&'static str],
    default: Option<&'static str>,
) -> Option<&'a str> {
    if get(t, "kind").is_none() {
        if default.is_none() {
            r.at(
                anchor,
                format!("{what} has no `kind` ({})", allowed.join(" | ")),
            );
        }
        return default;
    }
    // A `kind` that is not a string is reported by `check_table`.
    let (kind, at) = get_str(t, "kind")?;
    one_of(r, kind, at, "kind", allowed).then_some(kind)
}

/// Checks that `value` is one of `allowed`, reporting at `at` otherwise.
pub(crate) fn one_of(r: &mut Report, value: &str, at: usize, what: &str, allowed: &[&str]) -> bool {
    if allowed.contains(&value) {
        return true;
    }
    let hint = did_you_mean(value, allowed.iter().copied());
    r.at(
        at,
        format!("unknown {what} `{value}` ({}){hint}", allowed.join(" | ")),
    );
    false
}

/// Reports a present integer below 1 (a zero limit would stall everything).
pub(crate) fn at_least_one(r: &mut Report, t: &DeTable<'_>, key: &str) {
    if let Some(node) = get(t, key)
        && integer(node.get_ref()) == Some(0)
    {
        r.at(node.span().start, format!("`{key}` must be at least 1"));
    }
}

/// Checks that a name refers to a defined thing (`pool`, `source`…).
pub(crate) fn reference(r: &mut Report, value: &str, at: usize, what: &str, known: &[&str]) {
    if let Err(e) = rules::reference(value, what, known) {
        r.at(at, e);
    }
}

/// Reports a present string that is blank (an empty path or URL would only
/// fail once something runs).
fn not_empty(r: &mut Report, t: &DeTable<'_>, key: &str, what: &str) {
    if let Some((v, at)) = get_str(t, key)
        && v.trim().is_empty()
    {
        r.at(at, format!("{what}: `{key}` is empty"));
    }
}

/// `schedule`, `timezone`, `catchup`, `deadline` and `at_risk_margin`,
/// wherever they appear.
pub(crate) fn timing_values(r: &mut Report, t: &DeTable<'_>) {
    use super::schedule::{Catchup, Deadline, Schedule, parse_timezone};
    type Check = fn(&str) -> Result<(), String>;
    let checks: [(&str, Check); 5] = [
        ("schedule", |v| Schedule::parse(v).map(|_| ())),
        ("timezone", |v| parse_timezone(v).map(|_| ())),
        ("catchup", |v| Catchup::parse(v).map(|_| ())),
        ("deadline", |v| Deadline::parse(v).map(|_| ())),
        ("at_risk_margin", |v| {
            super::duration::parse_duration(v).map(|_| ())
        }),
    ];
    for (key, check) in checks {
        if let Some((v, at)) = get_str(t, key)
            && let Err(e) = check(v)
        {
            r.at(at, format!("`{key}`: {e}"));
        }
    }
}

/// `lease_stale_after` and `lease_give_up_after`: durations, the give-up
/// shorter than the stale timeout (else a cut-off owner could still be
/// running its tasks when another host takes them over).
fn lease_times(r: &mut Report, ws: &DeTable<'_>) {
    use super::duration::parse_duration;
    let defaults = super::LeaseTimes::default();
    let mut read = |key: &str, or: std::time::Duration| match get_str(ws, key) {
        None => Some((or, None)),
        Some((v, at)) => match parse_duration(v) {
            Ok(d) if d < std::time::Duration::from_secs(2) => {
                r.at(
                    at,
                    format!("`{key}` must be at least 2s (heartbeats are 1s apart)"),
                );
                None
            }
            Ok(d) => Some((d, Some(at))),
            Err(e) => {
                r.at(at, format!("`{key}`: {e}"));
                None
            }
        },
    };
    let stale = read("lease_stale_after", defaults.stale_after);
    let give_up = read("lease_give_up_after", defaults.give_up_after);
    if let (Some((stale, stale_at)), Some((give_up, give_up_at))) = (stale, give_up)
        && give_up >= stale
    {
        let fmt = super::duration::format_duration;
        r.at(
            give_up_at.or(stale_at).unwrap_or(0),
            format!(
                "`lease_give_up_after` ({}) must be shorter than `lease_stale_after` ({}): \
                 an owner cut off from the store must stop its tasks before another host may take them over",
                fmt(give_up),
                fmt(stale)
            ),
        );
    }
}
