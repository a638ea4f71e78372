//! Which values of the workspace are secrets: each is registered with `redact`
//! as the file is loaded, so that it is masked in every output from then on.

use std::ops::Range;

use super::interpolate::Substitution;
use super::redact::{RELIABLE_SECRET_LEN, register_secret};
use super::secret_spans::{
    percent_decode, url_password_ranges, whole_url_param_values, whole_url_password,
};

/// A secret found in a value, and how to name it without showing it.
struct Found {
    secret: String,
    what: String,
}

/// Registers what must never be printed: passwords in any URL (and each value
/// interpolated into one); the whole value of a key named like a secret; inline
/// JSON credentials. A host, port or database name is no secret: masking it would
/// eat it out of every log line that mentions it. Returns a warning for each
/// secret too short to be masked reliably.
pub(crate) fn register_secrets(
    path: &[String],
    value: &str,
    interpolated: &[Substitution],
) -> Vec<String> {
    let mut found = Vec::new();
    let mut passwords = url_password_ranges(value);
    if passwords.is_empty() {
        passwords.extend(whole_url_password(value));
    }
    for r in whole_url_param_values(value) {
        push_raw_and_decoded(&mut found, &value[r], "a secret parameter of this URL");
    }
    for p in passwords {
        let what = format!("the password in this URL{}", from_vars(&p, interpolated));
        push_raw_and_decoded(&mut found, &value[p.clone()], &what);
        // A password put together from several variables: each part is a secret
        // too, unless too short to mean anything alone. (A variable holding the
        // whole URL is not a secret: its password is registered here.)
        for sub in interpolated.iter().filter(|s| within(&s.at, &p)) {
            let part = &value[sub.at.clone()];
            if part.chars().count() >= RELIABLE_SECRET_LEN {
                found.push(Found {
                    secret: part.to_string(),
                    what: format!("`${{{}}}`", sub.name),
                });
            }
        }
    }
    // A variable named like a secret, wherever it is used: a token in a `command`
    // or `sql` text is as secret as one in a URL.
    for sub in interpolated.iter().filter(|s| is_secret_name(&s.name)) {
        found.push(Found {
            secret: value[sub.at.clone()].to_string(),
            what: format!("`${{{}}}`", sub.name),
        });
    }
    if let Some(key) = path.last().map(|k| k.to_ascii_lowercase()) {
        if is_secret_name(&key) {
            let all = 0..value.len();
            found.push(Found {
                secret: value.to_string(),
                what: format!("the value of `{key}`{}", from_vars(&all, interpolated)),
            });
        }
        if key == "credentials" && value.trim_start().starts_with('{') {
            register_secret(value);
            register_json_secrets(value);
        }
    }
    let mut warnings = Vec::new();
    for f in found {
        register_secret(&f.secret);
        let n = f.secret.chars().count();
        if (1..RELIABLE_SECRET_LEN).contains(&n) {
            let w = format!(
                "{} has only {n} character{}: too short to be masked reliably (it is masked \
                 only where it stands alone in output); use a longer one",
                f.what,
                if n == 1 { "" } else { "s" }
            );
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
    }
    warnings
}

/// Whether a variable or key name marks its value secret: `*PASSWORD*`,
/// `*SECRET*`, `*_TOKEN`, `*_KEY`, `*_PASS`, `*_PWD`, `*ACCESS_KEY*` (any case).
/// Not `key` alone (a load's merge key names columns) nor `PWD` alone (the
/// shell's working directory).
pub(crate) fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper.split(['_', '-']).collect();
    let last = words.last().copied().unwrap_or_default();
    let compound = words.len() > 1;
    ["PASSWORD", "PASSWD", "SECRET", "ACCESS_KEY"]
        .iter()
        .any(|w| upper.contains(w))
        || last == "TOKEN"
        || (compound && matches!(last, "KEY" | "PASS" | "PWD"))
}

/// A URL's password as written and, when that differs, percent-decoded (as the
/// driver sends it and a server may echo it).
fn push_raw_and_decoded(found: &mut Vec<Found>, raw: &str, what: &str) {
    let decoded = percent_decode(raw);
    if decoded != raw {
        found.push(Found {
            secret: decoded,
            what: what.to_string(),
        });
    }
    found.push(Found {
        secret: raw.to_string(),
        what: what.to_string(),
    });
}

/// ` (from `${A}`)`: the variables whose values make up `span`, if any.
fn from_vars(span: &Range<usize>, interpolated: &[Substitution]) -> String {
    let names: Vec<String> = interpolated
        .iter()
        .filter(|s| within(&s.at, span) && !s.at.is_empty())
        .map(|s| format!("`${{{}}}`", s.name))
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" (from {})", names.join(", "))
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

    #[test]
    fn names_that_mark_a_secret() {
        for name in [
            "API_TOKEN",
            "token",
            "SHOP_API_KEY",
            "routing_key",
            "secret_access_key",
            "access_key_id",
            "DB_PASSWORD",
            "PGPASSWORD",
            "client_secret",
            "secret",
            "DB_PASS",
            "MYSQL_PWD",
            "password",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "key",
            "PWD",
            "DB_HOST",
            "DB_PORT",
            "DB_NAME",
            "TOKEN_URL",
            "KEYRING",
            "url",
            "PATH",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }
}
