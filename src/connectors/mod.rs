//! Connectors: sources, stores and warehouses, each behind a small trait.
//! No engine or UI code here.

mod open;
pub mod source;
pub mod sql;
pub mod store;
pub mod warehouse;

pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

pub use open::{OpenedSource, open_source, open_store, open_warehouse};
