//! Where secrets sit in text by their syntax: the password of a URL, the value
//! of a `password=` (or `token=`, `key=`…) parameter. `redact` masks these in any
//! text; the loader registers those it finds in the workspace's values.

use std::ops::Range;

use super::redact::MASK;

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

/// Byte ranges of the password in every `scheme://user:password@host`.
pub(crate) fn url_password_ranges(text: &str) -> Vec<Range<usize>> {
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
pub(crate) fn param_value_ranges(text: &str) -> Vec<Range<usize>> {
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

/// In a workspace value that is one URL, its password as the driver reads it:
/// the whole value is the URL, so a password written there may hold characters
/// (` `, `"`, `#`, `?`, `/`) that end a URL's authority in free text; it runs to
/// the last `@`. For when `url_password_ranges` finds none.
pub(crate) fn whole_url_password(value: &str) -> Option<Range<usize>> {
    let auth_start = one_url_authority(value)?;
    let at = auth_start + value[auth_start..].rfind('@')?;
    let userinfo = &value[auth_start..at];
    let colon = userinfo.find(':')?;
    let user = &userinfo[..colon];
    if user
        .contains(|c: char| matches!(c, '/' | '?' | '#' | '@') || c.is_whitespace() || is_quote(c))
    {
        return None;
    }
    let password = auth_start + colon + 1..at;
    (!password.is_empty()).then_some(password)
}

/// In a workspace value that is one URL, the values of its secret parameters
/// (`?password=…`): as `param_value_ranges` reads them, and, where that stops
/// at a character other than `&`, also up to the next `&` (a literal password
/// may hold `#`, `;` or `,`).
pub(crate) fn whole_url_param_values(value: &str) -> Vec<Range<usize>> {
    if one_url_authority(value).is_none() {
        return Vec::new();
    }
    let mut ranges = Vec::new();
    for r in param_value_ranges(value) {
        let to_amp = value[r.start..]
            .find('&')
            .map_or(value.len(), |i| r.start + i);
        if to_amp > r.end {
            ranges.push(r.start..to_amp);
        }
        ranges.push(r);
    }
    ranges
}

/// Where the authority starts in a value that is one `scheme://…` URL.
fn one_url_authority(value: &str) -> Option<usize> {
    let sep = value.find("://")?;
    let scheme = &value[..sep];
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    is_scheme.then_some(sep + 3)
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\'' | '`')
}

pub(crate) fn percent_decode(s: &str) -> String {
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
    fn reads_a_whole_url_value_as_the_driver_does() {
        let pw = |v: &'static str| whole_url_password(v).map(|r| &v[r]);
        assert_eq!(
            pw("postgres://app:pa ss#w?d/x\"y@h:1/db"),
            Some("pa ss#w?d/x\"y")
        );
        assert_eq!(pw("postgres://app:Sla/sh@h/db"), Some("Sla/sh"));
        assert_eq!(pw("https://example.com/a:b@c"), None);
        assert_eq!(pw("postgres://app@h/db"), None);
        assert_eq!(pw("echo postgres://u:p w@h"), None);
        let v = "mysql://h/db?user=a&password=p#w;x&ssl=1";
        let params: Vec<&str> = whole_url_param_values(v)
            .into_iter()
            .map(|r| &v[r])
            .collect();
        assert_eq!(params, ["p#w;x", "p"]);
        assert!(whole_url_param_values("select 1 where password=x").is_empty());
    }

    #[test]
    fn finds_url_passwords() {
        let text = "a postgres://u:p%40ss%21@h/db and mysql://x:plain@y";
        let found: Vec<&str> = url_password_ranges(text)
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(found, ["p%40ss%21", "plain"]);
        assert_eq!(percent_decode("p%40ss%21%zz"), "p@ss!%zz");
        assert!(url_password_ranges("no urls here: a@b:c").is_empty());
    }
}
