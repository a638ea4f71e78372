//! Connectors: sources, stores and warehouses, each behind a small trait.
//! No engine or UI code here.

pub mod notify;
mod open;
pub mod source;
pub mod sql;
pub mod sqlite_open;
pub mod store;
pub mod warehouse;

pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

pub use open::{OpenedSource, open_source, open_store, open_warehouse};

/// reqwest and rustls are built without a default crypto provider (so only
/// aws-lc-rs is compiled in); the process installs it once, before the first
/// HTTPS client.
pub fn install_crypto_provider() {
    // An error means one is installed already, which is just as good.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
