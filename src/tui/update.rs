//! `update`: the only function that changes the console's state.
use super::state::{Effect, Msg, State};

pub fn update(_state: &mut State, _msg: Msg, _keys: &super::Keymap) -> Vec<Effect> {
    Vec::new()
}
