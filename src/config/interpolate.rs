//! `${VAR}` in string values, replaced in place in the spanned tree so positions
//! survive; each value is then handed to `secrets` to register what it hides.

use std::borrow::Cow;
use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::report::Report;
use super::secrets::register_secrets;
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
    // A channel's kind decides which of its keys are secrets (a Slack URL is).
    let channel_kind = (path.len() == 2 && path[0] == "notify")
        .then(|| super::tree::get_str(table, "kind").map(|(k, _)| k.to_string()))
        .flatten();
    for (key, value) in table.iter_mut() {
        path.push(key.get_ref().to_string());
        let env_only =
            is_store_secret(path) || super::notify::env_only_key(path, channel_kind.as_deref());
        walk_value(value, path, env_only, env, r);
        path.pop();
    }
}

fn walk_value(
    node: &mut Node<'_>,
    path: &mut Vec<String>,
    env_only: bool,
    env: &dyn Fn(&str) -> Option<String>,
    r: &mut Report,
) {
    let at = node.span().start;
    match node.get_mut() {
        DeValue::String(s) => {
            if env_only && !s.contains("${") {
                r.at(at, literal_secret_message(path));
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
            for warning in register_secrets(path, &text, &vars) {
                r.warn(at, warning);
            }
            if env_only {
                super::redact::register_secret(&text);
            }
            if text != s.as_ref() {
                *s = Cow::Owned(text);
            }
        }
        DeValue::Array(items) => {
            for item in items.iter_mut() {
                walk_value(item, path, env_only, env, r);
            }
        }
        DeValue::Table(t) => walk_table(t, path, env, r),
        _ => {}
    }
}

/// One `${NAME}` replaced: the variable, and where its value sits in the result.
#[derive(Debug, PartialEq)]
pub(crate) struct Substitution {
    pub name: String,
    pub at: Range<usize>,
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

fn literal_secret_message(path: &[String]) -> String {
    if is_store_secret(path) {
        return "`secret_access_key` must come from the environment as ${VAR}, not be \
                written in the file (or leave it out: the AWS credential chain is used)"
            .into();
    }
    let key = path.last().map(String::as_str).unwrap_or_default();
    format!(
        "`{key}` is a secret: it must come from the environment as ${{VAR}}, not be written in the file"
    )
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
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
