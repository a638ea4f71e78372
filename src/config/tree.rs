//! Reading toml's spanned tree: typed lookups that keep byte offsets, and the
//! generic "unknown key / wrong type" check every table gets.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::report::Report;
use super::suggest::did_you_mean;

pub(crate) type Node<'i> = Spanned<DeValue<'i>>;

/// The value type a known key must have. Keys not listed as special are strings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Ty {
    Str,
    /// Non-negative, fits `u32`.
    UInt,
    /// Fits `i64`.
    Int,
    Bool,
    /// A string, or a whole number that fits `i64` (`lookback`, `initial`).
    StrOrInt,
    StrList,
    /// A string, or a list of strings.
    StrOrList,
    Table,
    TableList,
}

impl Ty {
    fn describe(self) -> &'static str {
        match self {
            Ty::Str => "a string",
            Ty::UInt => "a non-negative whole number",
            Ty::Int => "a whole number",
            Ty::Bool => "true or false",
            Ty::StrOrInt => "a string or a whole number",
            Ty::StrList => "a list of strings",
            Ty::StrOrList => "a string or a list of strings",
            Ty::Table => "a table",
            Ty::TableList => "a list of tables",
        }
    }
}

/// Reports unknown keys (with "did you mean") and values of the wrong type.
/// `special` gives the type of every known key that is not a string.
pub(crate) fn check_table(
    r: &mut Report,
    table: &DeTable<'_>,
    known: &[&str],
    special: &[(&str, Ty)],
    place: &str,
) {
    for (key, value) in table.iter() {
        let name = key.get_ref().as_ref();
        if !known.contains(&name) {
            let hint = did_you_mean(name, known.iter().copied());
            r.at(
                key.span().start,
                format!("unknown key `{name}` {place}{hint}"),
            );
            continue;
        }
        let ty = special
            .iter()
            .find(|(k, _)| *k == name)
            .map_or(Ty::Str, |(_, t)| *t);
        check_type(r, name, value, ty);
    }
}

fn check_type(r: &mut Report, name: &str, node: &Node<'_>, ty: Ty) {
    let wrong = |r: &mut Report, at: &Node<'_>| {
        r.at(
            at.span().start,
            format!(
                "`{name}` must be {}, not {}",
                ty.describe(),
                describe_value(at.get_ref())
            ),
        );
    };
    let value = node.get_ref();
    match ty {
        Ty::Str if !matches!(value, DeValue::String(_)) => wrong(r, node),
        Ty::Bool if !matches!(value, DeValue::Boolean(_)) => wrong(r, node),
        Ty::Table if !matches!(value, DeValue::Table(_)) => wrong(r, node),
        Ty::StrOrInt => match value {
            DeValue::String(_) => {}
            _ => match integer(value) {
                Some(n) if i64::try_from(n).is_ok() => {}
                _ => wrong(r, node),
            },
        },
        Ty::UInt | Ty::Int => match integer(value) {
            None => wrong(r, node),
            Some(n) => {
                let (lo, hi) = if ty == Ty::UInt {
                    (0, i128::from(u32::MAX))
                } else {
                    (i128::from(i64::MIN), i128::from(i64::MAX))
                };
                if n < lo || n > hi {
                    r.at(
                        node.span().start,
                        format!("`{name}` must be {}, not {n}", ty.describe()),
                    );
                }
            }
        },
        Ty::StrOrList if matches!(value, DeValue::String(_)) => {}
        Ty::StrList | Ty::StrOrList | Ty::TableList => match value {
            DeValue::Array(items) => {
                let item_ok = |v: &DeValue<'_>| match ty {
                    Ty::StrList | Ty::StrOrList => matches!(v, DeValue::String(_)),
                    _ => matches!(v, DeValue::Table(_)),
                };
                if let Some(bad) = items.iter().find(|i| !item_ok(i.get_ref())) {
                    wrong(r, bad);
                }
            }
            _ => wrong(r, node),
        },
        _ => {}
    }
}

fn describe_value(v: &DeValue<'_>) -> String {
    match v {
        DeValue::String(_) => "a string".into(),
        DeValue::Integer(_) => "a number".into(),
        DeValue::Float(_) => "a decimal number".into(),
        DeValue::Boolean(b) => format!("`{b}`"),
        DeValue::Datetime(_) => "a date/time".into(),
        DeValue::Array(_) => "a list".into(),
        DeValue::Table(_) => "a table".into(),
    }
}

pub(crate) fn integer(v: &DeValue<'_>) -> Option<i128> {
    match v {
        DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix()).ok(),
        _ => None,
    }
}

pub(crate) fn get<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a Node<'i>> {
    table.get(key)
}

/// A string value and the byte offset of the value; `None` when absent or not a string
/// (a wrong type is reported by `check_table`).
pub(crate) fn get_str<'a>(table: &'a DeTable<'_>, key: &str) -> Option<(&'a str, usize)> {
    match table.get(key) {
        Some(node) => match node.get_ref() {
            DeValue::String(s) => Some((s.as_ref(), node.span().start)),
            _ => None,
        },
        None => None,
    }
}

/// String items of a list, each with its offset.
pub(crate) fn get_str_list<'a>(table: &'a DeTable<'_>, key: &str) -> Vec<(&'a str, usize)> {
    match table.get(key).map(|n| n.get_ref()) {
        Some(DeValue::Array(items)) => items
            .iter()
            .filter_map(|i| match i.get_ref() {
                DeValue::String(s) => Some((s.as_ref(), i.span().start)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn get_table<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a DeTable<'i>> {
    match table.get(key).map(|n| n.get_ref()) {
        Some(DeValue::Table(t)) => Some(t),
        _ => None,
    }
}

/// Tables under `section` (`[sources.NAME]`…) as `(name, header offset, table)`,
/// in file order. Entries that are not tables are reported.
pub(crate) fn named_tables<'a>(
    r: &mut Report,
    root: &'a DeTable<'_>,
    section: &str,
) -> Vec<(&'a str, usize, &'a DeTable<'a>)> {
    let Some(DeValue::Table(t)) = root.get(section).map(|n| n.get_ref()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let what = section.strip_suffix('s').unwrap_or(section);
    for (key, value) in t.iter() {
        let name = key.get_ref().as_ref();
        if let Err(e) = super::rules::name(name) {
            r.at(key.span().start, format!("{what} name {e}"));
        }
        match value.get_ref() {
            DeValue::Table(inner) => out.push((name, value.span().start, inner)),
            _ => r.at(
                value.span().start,
                format!("`{section}.{name}` must be a table, e.g. [{section}.{name}]"),
            ),
        }
    }
    out.sort_by_key(|(_, at, _)| *at);
    out
}

/// Names defined under `section`, whatever their shape, for reference checks.
pub(crate) fn names<'a>(root: &'a DeTable<'_>, section: &str) -> Vec<&'a str> {
    match root.get(section).map(|n| n.get_ref()) {
        Some(DeValue::Table(t)) => t.keys().map(|k| k.get_ref().as_ref()).collect(),
        _ => Vec::new(),
    }
}
