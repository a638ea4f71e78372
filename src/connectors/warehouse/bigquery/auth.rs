//! Credentials: a service-account key (a file, or the key JSON itself when
//! `credentials` holds it, e.g. from `${SA_JSON}`), application default
//! credentials when `credentials` is absent, or a fixed token for an emulator.
//!
//! One token source serves both the crate's client and our own calls (load
//! jobs and uploads), so a token is fetched and refreshed in one place.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use gcp_bigquery_client::auth::Authenticator;
use gcp_bigquery_client::error::BQError;
use gcp_bigquery_client::yup_oauth2;

use crate::connectors::BoxFuture;

const SCOPES: &[&str] = &["https://www.googleapis.com/auth/bigquery"];

/// Where the credentials come from, as configured.
#[derive(Debug, Clone, PartialEq)]
pub enum Credentials {
    /// Application default credentials: GOOGLE_APPLICATION_CREDENTIALS, the
    /// gcloud ADC file, or the instance metadata server.
    Default,
    KeyFile(PathBuf),
    /// The key JSON itself (never printed).
    KeyJson(String),
    /// For emulators: every request carries this token.
    Fixed(String),
}

type TokenFn = dyn Fn() -> BoxFuture<'static, Result<String, BQError>> + Send + Sync;

/// A token source; clones share it.
#[derive(Clone)]
pub struct Auth {
    token: Arc<TokenFn>,
}

impl Auth {
    pub async fn new(creds: &Credentials) -> Result<Auth> {
        match creds {
            Credentials::Fixed(t) => {
                let t = t.clone();
                Ok(Auth {
                    token: Arc::new(move || {
                        let t = t.clone();
                        Box::pin(async move { Ok(t) })
                    }),
                })
            }
            Credentials::KeyFile(path) => {
                let text = tokio::fs::read_to_string(path).await.with_context(|| {
                    format!("cannot read the credentials file {}", path.display())
                })?;
                from_json(&text, &format!("the credentials file {}", path.display())).await
            }
            Credentials::KeyJson(text) => from_json(text, "`credentials`").await,
            Credentials::Default => application_default().await,
        }
    }

    pub async fn token(&self) -> Result<String> {
        (self.token)()
            .await
            .map_err(|e| anyhow!("cannot get a BigQuery access token: {e}"))
    }
}

impl Authenticator for Auth {
    // The trait is `#[async_trait]`: this is its expanded signature.
    fn access_token<'life0, 'async_trait>(
        &'life0 self,
    ) -> Pin<Box<dyn Future<Output = Result<String, BQError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        (self.token)()
    }
}

/// What kind of Google credentials JSON a text is, without keeping any of it.
#[derive(serde::Deserialize)]
struct KindOnly {
    #[serde(rename = "type")]
    kind: Option<String>,
}

async fn from_json(text: &str, what: &str) -> Result<Auth> {
    // serde's messages quote no input, so a broken key is not echoed.
    let kind: KindOnly =
        serde_json::from_str(text).map_err(|e| anyhow!("{what} is not valid JSON ({e})"))?;
    match kind.kind.as_deref() {
        Some("service_account") => {
            let key = yup_oauth2::parse_service_account_key(text)
                .map_err(|e| anyhow!("{what} is not a usable service-account key ({e})"))?;
            let a = yup_oauth2::ServiceAccountAuthenticator::builder(key)
                .build()
                .await
                .map_err(|e| anyhow!("{what}: {e}"))?;
            Ok(Auth {
                token: Arc::new(move || {
                    let a = a.clone();
                    Box::pin(async move { token_of(a.token(SCOPES).await) })
                }),
            })
        }
        Some("authorized_user") => {
            let secret: yup_oauth2::authorized_user::AuthorizedUserSecret =
                serde_json::from_str(text)
                    .map_err(|e| anyhow!("{what} is not a usable authorized-user file ({e})"))?;
            let a = yup_oauth2::AuthorizedUserAuthenticator::builder(secret)
                .build()
                .await
                .map_err(|e| anyhow!("{what}: {e}"))?;
            Ok(Auth {
                token: Arc::new(move || {
                    let a = a.clone();
                    Box::pin(async move { token_of(a.token(SCOPES).await) })
                }),
            })
        }
        Some(other) => bail!(
            "{what} holds `{other}` credentials; use a service-account key (or authorized_user from `gcloud auth application-default login`)"
        ),
        None => bail!("{what} has no `type`: it is not a Google credentials file"),
    }
}

fn token_of(r: Result<yup_oauth2::AccessToken, yup_oauth2::Error>) -> Result<String, BQError> {
    Ok(r?.token().ok_or(BQError::NoToken)?.to_string())
}

/// The ADC file: GOOGLE_APPLICATION_CREDENTIALS, else gcloud's well-known file.
fn adc_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS") {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME")?;
    let p = Path::new(&home).join(".config/gcloud/application_default_credentials.json");
    p.exists().then_some(p)
}

async fn application_default() -> Result<Auth> {
    if let Some(path) = adc_file() {
        let text = tokio::fs::read_to_string(&path).await.with_context(|| {
            format!(
                "cannot read application default credentials {}",
                path.display()
            )
        })?;
        return from_json(
            &text,
            &format!("application default credentials {}", path.display()),
        )
        .await;
    }
    // No file: the metadata server of the machine (GCE, GKE, Cloud Run).
    let opts = yup_oauth2::ApplicationDefaultCredentialsFlowOpts::default();
    let a = match yup_oauth2::ApplicationDefaultCredentialsAuthenticator::builder(opts).await {
        yup_oauth2::authenticator::ApplicationDefaultCredentialsTypes::InstanceMetadata(b) => {
            b.build().await
        }
        yup_oauth2::authenticator::ApplicationDefaultCredentialsTypes::ServiceAccount(b) => {
            b.build().await
        }
    }
    .map_err(|e| anyhow!("application default credentials: {e}"))?;
    Ok(Auth {
        token: Arc::new(move || {
            let a = a.clone();
            Box::pin(async move { token_of(a.token(SCOPES).await) })
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bad_keys_are_refused_without_echoing_them() {
        let secret = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-not-json";
        let e = Auth::new(&Credentials::KeyJson(secret.into()))
            .await
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(e.contains("not valid JSON"), "{e}");
        assert!(!e.contains("MIIE"), "{e}");

        let e = Auth::new(&Credentials::KeyJson(
            r#"{"type":"external_account"}"#.into(),
        ))
        .await
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
        assert!(e.contains("external_account"), "{e}");

        let e = Auth::new(&Credentials::KeyFile("/nonexistent/key.json".into()))
            .await
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(e.contains("/nonexistent/key.json"), "{e}");
    }

    #[tokio::test]
    async fn a_fixed_token_is_served_as_is() {
        let a = Auth::new(&Credentials::Fixed("emulator".into()))
            .await
            .expect("fixed");
        assert_eq!(a.token().await.expect("token"), "emulator");
        assert_eq!(a.access_token().await.expect("token"), "emulator");
    }
}
