//! Secret redaction: every text that may reach a screen, a log or the state store
//! goes through `redact` so secrets from the workspace never appear in output.

use std::sync::{OnceLock, PoisonError, RwLock};

use super::secret_spans::{param_value_ranges, url_password_ranges};

pub(crate) const MASK: &str = "***";

/// A secret shorter than this cannot be masked reliably: it is masked where it
/// stands alone, but may also stand alone in innocent text, and may go unmasked
/// glued to other text. `check` warns about one.
pub(crate) const RELIABLE_SECRET_LEN: usize = 4;

fn secrets() -> &'static RwLock<Vec<String>> {
    static SECRETS: OnceLock<RwLock<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| RwLock::new(Vec::new()))
}

/// Remembers `value` so that `redact` masks it wherever it occurs whole (see
/// `MASK_INSIDE_WORDS_LEN`), however short.
pub fn register_secret(value: &str) {
    if value.is_empty() || value == MASK {
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

/// Secrets this long are masked wherever they occur, even inside a longer token
/// (`password%3D<secret>` in an encoded URL is still the secret): by chance a
/// string this long is not part of innocent text. Shorter ones are masked only
/// where they occur whole, so that a secret `4321` leaves `154321 rows` intact.
const MASK_INSIDE_WORDS_LEN: usize = 8;

/// Masks URL passwords (`scheme://user:***@host`), secret query parameters
/// (`?password=***`) and every registered secret value.
pub fn redact(text: &str) -> String {
    let mut out = {
        let list = secrets().read().unwrap_or_else(PoisonError::into_inner);
        let mut s = text.to_string();
        for secret in list.iter() {
            if s.contains(secret.as_str()) {
                s = mask_secret(&s, secret);
            }
        }
        s
    };
    out = mask_ranges(&out, &url_password_ranges(&out));
    mask_ranges(&out, &param_value_ranges(&out))
}

/// The password of a value that is one URL (`postgres://user:pw@host/db`),
/// for registering it as a secret before the URL is used.
pub fn url_password(url: &str) -> Option<&str> {
    super::secret_spans::whole_url_password(url).map(|r| &url[r])
}

/// `text` with each occurrence of `secret` masked: every one for a long secret,
/// only those not inside a longer word for a short one.
fn mask_secret(text: &str, secret: &str) -> String {
    let inside_words_too = secret.chars().count() >= MASK_INSIDE_WORDS_LEN;
    let ranges: Vec<_> = text
        .match_indices(secret)
        .map(|(at, _)| at..at + secret.len())
        .filter(|r| inside_words_too || stands_alone(text, r.clone()))
        .collect();
    mask_ranges(text, &ranges)
}

/// Whether `text[r]` is not glued to a letter, digit or `_` on a side where it
/// starts or ends with one itself: `4321` stands alone in `password 4321.` but
/// not in `154321`.
fn stands_alone(text: &str, r: std::ops::Range<usize>) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let inner = &text[r.clone()];
    let glued_before = inner.chars().next().is_some_and(word)
        && text[..r.start].chars().next_back().is_some_and(word);
    let glued_after = inner.chars().next_back().is_some_and(word)
        && text[r.end..].chars().next().is_some_and(word);
    !glued_before && !glued_after
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
    fn keeps_plain_text() {
        let plain = "table abc has 3 rows; duplicate key=5 in index users_pkey; pass=ok; \
                     ratio 1:2 @ 10:30 see http://example.com/path?page=2&sort=id";
        assert_eq!(redact(plain), plain);
    }

    #[test]
    fn short_secrets_are_masked_only_where_they_occur_whole() {
        register_secret("7g3k");
        register_secret("q9");
        assert_eq!(
            redact("pw 7g3k. (7g3k) '7g3k' x=7g3k; q9 said 'q9'"),
            "pw ***. (***) '***' x=***; *** said '***'"
        );
        for text in [
            "47g3k1 rows",
            "a7g3k",
            "7g3k_b",
            "ключ7g3k",
            "2.7g3ks",
            "aq9 q99",
        ] {
            assert_eq!(redact(text), text);
        }
        // A long one is the secret even glued to other text (an encoded URL).
        register_secret("Glued-long-secret-81");
        assert_eq!(
            redact("body=password%3DGlued-long-secret-81x"),
            "body=password%3D***x"
        );
    }

    #[test]
    fn longer_secret_wins_over_contained_one() {
        register_secret("wxyz-inner");
        register_secret("prefix-wxyz-inner-suffix");
        assert_eq!(redact("v=prefix-wxyz-inner-suffix;"), "v=***;");
    }
}
