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
pub mod keymap;
pub mod markdown;
pub mod state;
pub mod theme;
pub mod update;
pub mod view;

pub use keymap::{Keymap, Mode};
pub use state::{Effect, Msg, State};
pub use theme::Theme;
