// STUB: replaced by the views branch.
use crate::tui::State;
pub fn palette_completions(_s: &State, _input: &str) -> Vec<String> {
    Vec::new()
}
