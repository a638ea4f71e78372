//! Connectors: sources, stores and warehouses, each behind a small trait.
//! No engine or UI code here.

pub mod source;
pub mod sql;
pub mod store;
pub mod warehouse;

pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
