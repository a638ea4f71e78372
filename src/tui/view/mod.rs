//! Pure drawing: one function per screen, reading only `State`.
pub mod palette;

use ratatui::Frame;

use super::{Keymap, State, Theme};

pub fn draw(_frame: &mut Frame, _state: &State, _theme: &Theme, _keys: &Keymap) {}
