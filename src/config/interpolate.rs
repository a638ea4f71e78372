//! `${VAR}` in string values, replaced in place in the spanned tree so positions
//! survive, and registration of the secrets that interpolation brings in.

use std::borrow::Cow;
use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::redact::register_secret;
use super::report::Report;
use super::secret_spans::{url_password_ranges, url_passwords};
use super::tree::Node;

/// Replaces `${VAR}` in every string value (arrays and inline tables included),
/// reporting each missing or malformed variable at its string value.
pub(crate) fn interpolate(
    root: &mut DeTable<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    r: &mut Report,
) {
    let mut path = Vec::new();
    walk_table(root, &mut path, env, r);
}

fn walk_table(
    table: &mut DeTable<'_>,
    path: &mut Vec<String>,
    env: &dyn Fn(&str) -> Option<String>,
    r: &mut Report,
) {
    for (key, value) in table.iter_mut() {
        path.push(key.get_ref().to_string());
        walk_value(value, path, env, r);
        path.pop();
    }
}

fn walk_value(
    node: &mut Node<'_>,
    path: &mut Vec<String>,
    env: &dyn Fn(&str) -> Option<String>,
    r: &mut Report,
) {
    let at = node.span().start;
    match node.get_mut() {
        DeValue::String(s) => {
            if is_store_secret(path) && !s.contains("${") {
                r.at(
                    at,
                    "`secret_access_key` must come from the environment as ${VAR}, not be \
                     written in the file (or leave it out: the AWS credential chain is used)",
                );
            }
            let (text, vars) = match expand(s, env) {
                Ok(done) => done,
                Err(errors) => {
                    for e in errors {
                        r.at(at, e);
                    }
                    return;
                }
            };
            register_secrets(path, &text, &vars);
            if text != s.as_ref() {
                *s = Cow::Owned(text);
            }
        }
        DeValue::Array(items) => {
            for item in items.iter_mut() {
                walk_value(item, path, env, r);
            }
        }
        DeValue::Table(t) => walk_table(t, path, env, r),
        _ => {}
    }
}

/// One `${NAME}` replaced: the variable, and where its value sits in the result.
#[derive(Debug, PartialEq)]
struct Substitution {
    name: String,
    at: Range<usize>,
}

/// The expanded text and the substitutions made, or every error in the string.
fn expand(
    s: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, Vec<Substitution>), Vec<String>> {
    let mut out = String::with_capacity(s.len());
    let mut values = Vec::new();
    let mut errors = Vec::new();
    let mut rest = s;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let tail = &rest[dollar..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let Some(close) = after.find('}') else {
                errors.push("unterminated `${` (write `$${` for a literal `${`)".to_string());
                break;
            };
            let name = &after[..close];
            rest = &after[close + 1..];
            if !is_var_name(name) {
                errors.push(format!(
                    "invalid variable `${{{name}}}`: use ${{NAME}} with letters, digits and `_` \
                     (write `$${{` for a literal `${{`)"
                ));
                continue;
            }
            match env(name) {
                Some(v) => {
                    let start = out.len();
                    out.push_str(&v);
                    values.push(Substitution {
                        name: name.to_string(),
                        at: start..out.len(),
                    });
                }
                None => errors.push(format!("environment variable `{name}` is not set")),
            }
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    if errors.is_empty() {
        Ok((out, values))
    } else {
        Err(errors)
    }
}

/// `[stores.NAME] secret_access_key`: a credential that must not live in the file.
fn is_store_secret(path: &[String]) -> bool {
    matches!(path, [stores, _, key] if stores == "stores" && key == "secret_access_key")
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Registers what must never be printed: passwords in any URL (and each value
/// interpolated into one); the whole value of a key named like a secret; inline
/// JSON credentials. A host, port or database name is no secret: masking it would
/// eat it out of every log line that mentions it.
fn register_secrets(path: &[String], value: &str, interpolated: &[Substitution]) {
    let passwords = url_password_ranges(value);
    for p in url_passwords(value) {
        register_secret(&p);
    }
    // A password put together from several variables: each part is a secret too.
    // (A variable holding the whole URL is not: its password is registered above.)
    for sub in interpolated {
        if passwords.iter().any(|p| within(&sub.at, p)) {
            register_secret(&value[sub.at.clone()]);
        }
    }
    let Some(key) = path.last().map(|k| k.to_ascii_lowercase()) else {
        return;
    };
    if ["password", "secret", "token", "key"]
        .iter()
        .any(|w| key.contains(w))
    {
        register_secret(value);
    }
    if key == "credentials" && value.trim_start().starts_with('{') {
        register_secret(value);
        register_json_secrets(value);
    }
}

fn within(inner: &Range<usize>, outer: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// A service-account key's private parts may be echoed one by one by a client error.
fn register_json_secrets(json: &str) {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(json) else {
        return;
    };
    for (k, v) in map {
        let k = k.to_ascii_lowercase();
        if let serde_json::Value::String(s) = v
            && ["private_key", "secret", "token", "password"]
                .iter()
                .any(|w| k.contains(w))
        {
            register_secret(&s);
            // The PEM body also appears line by line in some messages.
            for line in s
                .lines()
                .filter(|l| l.len() >= 16 && !l.starts_with("-----"))
            {
                register_secret(line);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("db.internal".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn sub(name: &str, at: Range<usize>) -> Substitution {
        Substitution {
            name: name.into(),
            at,
        }
    }

    #[test]
    fn expands_variables_and_escapes() {
        assert_eq!(
            expand("postgres://${HOST}:5432/x", &env),
            Ok((
                "postgres://db.internal:5432/x".into(),
                vec![sub("HOST", 11..22)]
            ))
        );
        assert_eq!(
            expand("a${EMPTY}b", &env),
            Ok(("ab".into(), vec![sub("EMPTY", 1..1)]))
        );
        assert_eq!(
            expand("cost $5, $${HOST} $$", &env),
            Ok(("cost $5, ${HOST} $$".into(), vec![]))
        );
        assert_eq!(
            expand("trailing $", &env),
            Ok(("trailing $".into(), vec![]))
        );
    }

    #[test]
    fn reports_every_bad_variable() {
        let errors = expand("${NOPE} ${HOST} ${ALSO_NOPE} ${9x} ${unterminated", &env).unwrap_err();
        assert_eq!(
            errors,
            vec![
                "environment variable `NOPE` is not set".to_string(),
                "environment variable `ALSO_NOPE` is not set".into(),
                "invalid variable `${9x}`: use ${NAME} with letters, digits and `_` (write `$${` for a literal `${`)".into(),
                "unterminated `${` (write `$${` for a literal `${`)".into(),
            ]
        );
    }
}
