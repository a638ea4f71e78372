//! Switchyard: a terminal console and headless engine for the engineer on
//! call for a data platform. Layers, each depending only on those above it:
//! `config` → `connectors` → `format` → `engine` → `cli` (and `tui`);
//! `text` (what is safe to print on a terminal) and `human` (numbers and
//! durations for people) serve them all.

pub mod cli;
pub mod config;
pub mod connectors;
pub mod engine;
pub mod format;
/// This host's name and its processes: used by several layers.
pub mod host;
pub mod human;
pub mod text;
pub mod tui;
