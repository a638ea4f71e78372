//! Secret redaction: every text that may reach a screen, a log or the state store
//! goes through `redact` so secrets from the workspace never appear in output.

use std::sync::{OnceLock, PoisonError, RwLock};

const MASK: &str = "***";

/// Query/conninfo parameter names whose values are masked.
const SECRET_PARAMS: &[&str] = &[
    "password",
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "access_key",
    "sslpassword",
];

/// Shorter values would mask innocent text everywhere.
const MIN_SECRET_LEN: usize = 4;

fn secrets() -> &'static RwLock<Vec<String>> {
    static SECRETS: OnceLock<RwLock<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| RwLock::new(Vec::new()))
}

/// Remembers `value` so that `redact` masks it anywhere. Values shorter than 4
/// characters are ignored.
pub fn register_secret(value: &str) {
    if value.chars().count() < MIN_SECRET_LEN || value == MASK {
        return;
    }
    // A poisoned lock still holds a usable list; losing a secret would be worse.
    let mut list = secrets().write().unwrap_or_else(PoisonError::into_inner);
    if !list.iter().any(|s| s == value) {
        list.push(value.to_string());
        // Longest first, so a secret containing another is masked whole.
        list.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Masks URL passwords (`scheme://user:***@host`), secret query parameters
/// (`?password=***`) and every registered secret value.
pub fn redact(text: &str) -> String {
    let mut out = {
        let list = secrets().read().unwrap_or_else(PoisonError::into_inner);
        let mut s = text.to_string();
        for secret in list.iter() {
            if s.contains(secret.as_str()) {
                s = s.replace(secret.as_str(), MASK);
            }
        }
        s
    };
    out = mask_ranges(&out, &url_password_ranges(&out));
    mask_ranges(&out, &param_value_ranges(&out))
}

/// Passwords written in URLs inside `text` (raw, and percent-decoded when that differs),
/// so the loader can register them as secrets.
pub(crate) fn url_passwords(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for r in url_password_ranges(text) {
        let raw = &text[r];
        let decoded = percent_decode(raw);
        if decoded != raw {
            found.push(decoded);
        }
        found.push(raw.to_string());
    }
    found
}

fn mask_ranges(text: &str, ranges: &[std::ops::Range<usize>]) -> String {
    if ranges.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for r in ranges {
        out.push_str(&text[at..r.start]);
        out.push_str(MASK);
        at = r.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Byte ranges of the password in every `scheme://user:password@host`.
fn url_password_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut search = 0;
    while let Some(found) = text[search..].find("://") {
        let auth_start = search + found + 3;
        search = auth_start;
        // The authority ends at the first path/query/fragment or whitespace; the
        // userinfo ends at its last '@' (an unencoded '@' in a password is common).
        let rest = &text[auth_start..];
        let auth_len = rest
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || is_quote(c))
            .unwrap_or(rest.len());
        let authority = &rest[..auth_len];
        let Some(at) = authority.rfind('@') else {
            continue;
        };
        let Some(colon) = authority[..at].find(':') else {
            continue;
        };
        let (start, end) = (auth_start + colon + 1, auth_start + at);
        if start < end && &text[start..end] != MASK {
            ranges.push(start..end);
        }
        search = auth_start + auth_len;
    }
    ranges
}

/// Byte ranges of the values of secret parameters: after `?` or `&` (URL query) or
/// at a word start (conninfo `password=… host=…`). Bare `key=` only counts in a query,
/// where it cannot be prose such as "duplicate key=5".
fn param_value_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut search = 0;
    while let Some(found) = lower[search..].find('=') {
        let eq = search + found;
        search = eq + 1;
        let name_len: usize = lower[..eq]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .count(); // ASCII only, so chars == bytes
        let name_start = eq - name_len;
        let name = &lower[name_start..eq];
        if !SECRET_PARAMS.contains(&name) {
            continue;
        }
        let before = name_start.checked_sub(1).map(|i| bytes[i]);
        let in_query = matches!(before, Some(b'?' | b'&'));
        let word_start = matches!(before, None | Some(b' ' | b'\t' | b'\n' | b';' | b'('));
        if !(in_query || (word_start && name != "key" && name != "pass")) {
            continue;
        }
        let value_start = eq + 1;
        let value_len = text[value_start..]
            .find(|c: char| {
                matches!(c, '&' | '#' | ';' | ')' | ',' | '>') || c.is_whitespace() || is_quote(c)
            })
            .unwrap_or(text.len() - value_start);
        let value_end = value_start + value_len;
        if value_len > 0 && &text[value_start..value_end] != MASK {
            ranges.push(value_start..value_end);
        }
        search = value_end;
    }
    ranges
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\'' | '`')
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_url_passwords() {
        assert_eq!(
            redact("connecting to postgres://app:s3cr3t@db.internal:5432/prod failed"),
            "connecting to postgres://app:***@db.internal:5432/prod failed"
        );
        // An unencoded '@' in the password, and a URL without a path.
        assert_eq!(redact("mysql://root:p@ss@host"), "mysql://root:***@host");
        // No password, or no userinfo: unchanged.
        for text in [
            "postgres://app@db/prod",
            "https://example.com/a:b@c",
            "sqlite://./x.db",
        ] {
            assert_eq!(redact(text), text);
        }
        assert_eq!(
            redact("'s3://k:v@b' and \"s3://k:w@b\""),
            "'s3://k:***@b' and \"s3://k:***@b\""
        );
    }

    #[test]
    fn masks_secret_query_params() {
        assert_eq!(
            redact("mysql://db/x?user=a&password=hunter22&ssl-mode=required"),
            "mysql://db/x?user=a&password=***&ssl-mode=required"
        );
        assert_eq!(
            redact("GET /o?é=1&key=AKIA99 done"),
            "GET /o?é=1&key=*** done"
        );
        assert_eq!(
            redact("https://h/?TOKEN=t0k3n&access_key=ak&sslpassword=z&pwd=q&secret=s&pass=p"),
            "https://h/?TOKEN=***&access_key=***&sslpassword=***&pwd=***&secret=***&pass=***"
        );
        assert_eq!(
            redact("host=db user=app password=hunter22 dbname=x"),
            "host=db user=app password=*** dbname=x"
        );
    }

    #[test]
    fn masks_registered_secret_inside_driver_error() {
        register_secret("Zq9-registered-secret-for-redact-test");
        let err = "error returned from database: password authentication failed for user \"app\" \
                   (password \"Zq9-registered-secret-for-redact-test\")";
        let out = redact(err);
        assert!(!out.contains("Zq9-registered"), "{out}");
        assert!(out.contains("(password \"***\")"), "{out}");
    }

    #[test]
    fn ignores_short_secrets_and_keeps_plain_text() {
        register_secret("abc");
        let plain = "table abc has 3 rows; duplicate key=5 in index users_pkey; pass=ok; \
                     ratio 1:2 @ 10:30 see http://example.com/path?page=2&sort=id";
        assert_eq!(redact(plain), plain);
    }

    #[test]
    fn longer_secret_wins_over_contained_one() {
        register_secret("wxyz-inner");
        register_secret("prefix-wxyz-inner-suffix");
        assert_eq!(redact("v=prefix-wxyz-inner-suffix;"), "v=***;");
    }

    #[test]
    fn finds_url_passwords_raw_and_decoded() {
        assert_eq!(
            url_passwords("a postgres://u:p%40ss%21@h/db and mysql://x:plain@y"),
            vec![
                "p@ss!".to_string(),
                "p%40ss%21".to_string(),
                "plain".to_string()
            ]
        );
        assert!(url_passwords("no urls here: a@b:c").is_empty());
    }
}
