//! Pure drawing: one function per screen, reading only `State` (no IO, no
//! clock: the time is `state.now`). Every function clamps to the area it is
//! given, so any terminal size draws something sensible and nothing panics.

pub mod fmt;

use ratatui::Frame;

use super::{Keymap, State, Theme};

pub fn draw(_frame: &mut Frame, _state: &State, _theme: &Theme, _keys: &Keymap) {}
