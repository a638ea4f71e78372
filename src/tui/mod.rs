//! The console: "Elm with effects as data".
//!
//! - `update(&mut State, Msg) -> Vec<Effect>` is pure: no IO, no clock.
//! - `view::draw(frame, &State, &Theme, &Keymap)` is pure; one small
//!   function per screen.
//! - The runner executes effects (reads the store, writes requests, spawns
//!   workers) and feeds results back as messages through one bounded
//!   channel, together with terminal input and the store's events.
//! - Frames are drawn only when the state is dirty, at most ~60 a second.
//!
//! The console executes no task itself.

pub mod action;
pub mod backfill;
mod backfill_io;
pub mod browse;
pub mod browse_io;
pub mod form;
pub mod graph;
pub mod keymap;
pub mod markdown;
pub mod runner;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod update;
pub mod view;

pub use keymap::{Keymap, Mode};
pub use state::{Effect, Msg, State};
pub use theme::Theme;

use std::path::PathBuf;
use std::sync::Arc;

/// The user's directory for keymap and theme overrides.
pub fn user_dir() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("SWITCHYARD_HOME") {
        return Some(PathBuf::from(h));
    }
    directories::ProjectDirs::from("", "", "switchyard").map(|d| d.config_dir().to_path_buf())
}

/// Opens the console on `engine` until the user quits. Work keeps going in
/// its workers: quitting never stops a run.
pub async fn run(
    engine: crate::engine::Engine,
    readonly: bool,
    theme: Option<&str>,
    start_at: Option<(i64, Option<String>)>,
) -> anyhow::Result<()> {
    let dir = user_dir();
    let keys = Keymap::load(dir.as_ref().map(|d| d.join("keymap.toml")).as_deref())?;
    let themes = dir.as_ref().map(|d| d.join("themes"));
    let no_color = std::env::var_os("NO_COLOR").is_some();
    let theme = Theme::load(theme.unwrap_or("default"), themes.as_deref(), no_color)?;
    let console = runner::Console {
        engine: Arc::new(engine),
        keys,
        theme,
        readonly,
        user_themes: themes,
        start_at,
    };
    let mut term = terminal::enter()?;
    let _guard = terminal::Guard;
    terminal::restore_on_signals();
    console.run(&mut term).await
}

#[cfg(test)]
mod update_browse_tests;
#[cfg(test)]
mod update_graph_tests;
#[cfg(test)]
mod update_schedule_tests;
#[cfg(test)]
mod update_sla_tests;
#[cfg(test)]
mod update_stores_tests;
#[cfg(test)]
mod update_tests;
#[cfg(test)]
mod update_timeline_tests;
