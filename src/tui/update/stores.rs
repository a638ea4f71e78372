//! Keys and answers of the Stores screen: the stores, then the objects
//! under a prefix like files in folders; `l` loads a file (a form), `d`
//! deletes one (after a question). Listings are effects; an answer for a
//! folder already left is dropped.

use super::browse::PAGE;
use super::forms::open_load;
use super::*;
use crate::tui::browse::{BrowseEffect, BrowseMsg, Load};
use crate::tui::state::Ask;
use crate::tui::view::fmt;

pub(super) fn list(s: &mut State, quiet: bool, fx: &mut Vec<Effect>) {
    let v = &mut s.browse.stores;
    let Some(store) = v.store_name().map(String::from) else {
        return;
    };
    // A refresh keeps the rows on screen until the new ones arrive.
    if !(quiet && v.listing.ready().is_some()) {
        v.listing = Load::Loading { since: s.now };
    }
    fx.push(Effect::Browse(BrowseEffect::List {
        store,
        prefix: v.prefix.clone(),
    }));
}

pub(super) fn stores_act(s: &mut State, action: &Action, fx: &mut Vec<Effect>) -> bool {
    let v = &mut s.browse.stores;
    if v.store.is_none() {
        let n = v.stores.len();
        match action {
            Action::Up => v.store_cursor = v.store_cursor.saturating_sub(1),
            Action::Down => v.store_cursor = (v.store_cursor + 1).min(n.saturating_sub(1)),
            Action::Top => v.store_cursor = 0,
            Action::Bottom => v.store_cursor = n.saturating_sub(1),
            Action::Open if n > 0 => {
                v.store = Some(v.store_cursor.min(n - 1));
                v.prefix.clear();
                v.cursor = 0;
                list(s, false, fx);
            }
            Action::Open | Action::Parent | Action::Refresh => {}
            Action::Load | Action::Delete => flash(s, false, "open a store first (Enter)"),
            _ => return false,
        }
        return true;
    }
    let n = v.listing.ready().map_or(0, Vec::len);
    let step = |c: usize, d: isize| c.saturating_add_signed(d).min(n.saturating_sub(1));
    match action {
        Action::Up => v.cursor = step(v.cursor, -1),
        Action::Down => v.cursor = step(v.cursor, 1),
        Action::PageUp => v.cursor = step(v.cursor, -(PAGE as isize)),
        Action::PageDown => v.cursor = step(v.cursor, PAGE as isize),
        Action::Top => v.cursor = 0,
        Action::Bottom => v.cursor = n.saturating_sub(1),
        Action::Refresh => list(s, false, fx),
        Action::Open => match v.selected().cloned() {
            Some(o) if o.is_prefix => {
                v.prefix = o.path;
                v.cursor = 0;
                list(s, false, fx);
            }
            Some(o) if o.partial.is_some() => flash(
                s,
                false,
                "an unfinished .partial file: d deletes it (a dead writer's goes at the next write)",
            ),
            Some(_) => flash(
                s,
                false,
                "a file: l loads it into a warehouse, d deletes it",
            ),
            None => {}
        },
        Action::Parent => {
            if v.prefix.is_empty() {
                if v.stores.len() > 1 {
                    v.store_cursor = v.store.unwrap_or(0);
                    v.store = None;
                    v.listing = Load::Idle;
                }
            } else {
                let trimmed = v.prefix.trim_end_matches('/');
                let up = trimmed
                    .rfind('/')
                    .map_or("", |i| &trimmed[..=i])
                    .to_string();
                v.reselect = Some(std::mem::take(&mut v.prefix));
                v.prefix = up;
                v.cursor = 0;
                list(s, false, fx);
            }
        }
        Action::Load => {
            let Some(o) = v.selected().filter(|o| !o.is_prefix).cloned() else {
                return flash_true(s, "choose a file to load (Enter opens a folder)");
            };
            if o.partial.is_some() {
                return flash_true(s, "a .partial file is unfinished: it cannot be loaded");
            }
            let Some(store) = v.store_name().map(String::from) else {
                return true;
            };
            if s.browse.warehouses.roots.is_empty() {
                return flash_true(s, "the workspace has no warehouse to load into");
            }
            s.modal = Some(Modal::Form(open_load(&s.browse, &store, &o.path)));
        }
        Action::Delete => {
            let Some(o) = v.selected().cloned() else {
                return true;
            };
            if o.is_prefix {
                return flash_true(s, "only files are deleted here: open the folder (Enter)");
            }
            let Some(store) = v.store_name().map(String::from) else {
                return true;
            };
            let mut about = fmt::bytes(o.size);
            if let Some(m) = o.modified {
                about.push_str(&format!(", modified {}", fmt::datetime(m)));
            }
            s.modal = Some(Modal::Ask(Ask {
                title: "Delete a file".into(),
                lines: vec![
                    format!("{store}: {}", o.path),
                    about,
                    String::new(),
                    "It is removed from the store; this cannot be undone.".into(),
                ],
                effect: Effect::Browse(BrowseEffect::Delete {
                    store,
                    path: o.path,
                }),
            }));
        }
        _ => return false,
    }
    true
}

fn flash_true(s: &mut State, text: &str) -> bool {
    flash(s, false, text);
    true
}

pub(super) fn on_msg(s: &mut State, m: BrowseMsg, fx: &mut Vec<Effect>) {
    let b = &mut s.browse;
    match m {
        BrowseMsg::Listed {
            store,
            prefix,
            result,
        } => {
            let v = &mut b.stores;
            // An answer for a folder we already left is dropped.
            if v.store_name() != Some(store.as_str()) || v.prefix != prefix {
                return;
            }
            let keep = v.selected().map(|o| o.path.clone());
            v.listing = Load::from_result(result);
            let want = v.reselect.take().or(keep);
            if let Some(list) = v.listing.ready() {
                v.cursor = want
                    .and_then(|w| list.iter().position(|o| o.path == w))
                    .unwrap_or(v.cursor)
                    .min(list.len().saturating_sub(1));
            }
        }
        BrowseMsg::Deleted {
            store,
            path,
            result,
        } => {
            match result {
                Ok(()) => flash(s, true, format!("deleted {store}: {path}")),
                Err(e) => flash(s, false, e),
            }
            if s.browse.stores.store_name() == Some(store.as_str()) {
                list(s, true, fx);
            }
        }
        _ => {}
    }
}
