//! Keys and answers of the browse screens: Sources and Warehouse (trees of
//! tables), Stores (folders of files). Every catalog query, preview and
//! listing is an effect; its answer arrives as a `BrowseMsg`, and until then
//! the place it goes shows a spinner (or, after, the error).

use super::forms::open_export;
use super::stores::{list, stores_act};
use super::*;
use crate::tui::browse::{BrowseEffect, BrowseMsg, Leaf, Load, Tree, TreeRow};

/// Rows a preview asks for.
pub(super) const PREVIEW_ROWS: usize = 20;
/// Lines a page key scrolls the detail pane, or rows it moves a listing.
pub(super) const PAGE: usize = 10;

fn browsing(screen: Screen) -> bool {
    matches!(screen, Screen::Sources | Screen::Stores | Screen::Warehouse)
}

/// A screen was opened: fetch what it shows and has not got yet.
pub(super) fn entered(s: &mut State, fx: &mut Vec<Effect>) {
    let now = s.now;
    match s.screen {
        Screen::Sources => {
            load_roots(&mut s.browse.sources, now, tables_effect, fx);
            ensure_detail(s, fx);
        }
        Screen::Warehouse => load_roots(&mut s.browse.warehouses, now, warehouse_effect, fx),
        Screen::Stores
            if s.browse.stores.store.is_some() && matches!(s.browse.stores.listing, Load::Idle) =>
        {
            list(s, false, fx);
        }
        _ => {}
    }
}

fn tables_effect(source: String) -> Effect {
    Effect::Browse(BrowseEffect::Tables { source })
}

fn warehouse_effect(warehouse: String) -> Effect {
    Effect::Browse(BrowseEffect::WarehouseTables { warehouse })
}

/// Asks for the tables of every root not asked yet; a lone root starts open.
fn load_roots<T>(t: &mut Tree<T>, now: i64, effect: fn(String) -> Effect, fx: &mut Vec<Effect>) {
    if t.roots.len() == 1 {
        t.open.insert((0, None));
    }
    for r in 0..t.roots.len() {
        if matches!(t.tables[r], Load::Idle) {
            fx.push(load_root(t, r, now, effect));
        }
    }
}

fn load_root<T>(t: &mut Tree<T>, r: usize, now: i64, effect: fn(String) -> Effect) -> Effect {
    t.tables[r] = Load::Loading { since: now };
    effect(t.roots[r].name.clone())
}

/// Keys typed while a filter line is open. True when the key was taken.
pub(super) fn filter_key(s: &mut State, key: &str, fx: &mut Vec<Effect>) -> bool {
    let sources = s.screen == Screen::Sources;
    let t_editing = match s.screen {
        Screen::Sources => s.browse.sources.editing_filter,
        Screen::Warehouse => s.browse.warehouses.editing_filter,
        _ => false,
    };
    if !t_editing {
        return false;
    }
    let taken = if sources {
        edit_filter(&mut s.browse.sources, key)
    } else {
        edit_filter(&mut s.browse.warehouses, key)
    };
    if sources {
        ensure_detail(s, fx);
    }
    taken
}

fn edit_filter<T: Leaf + Clone>(t: &mut Tree<T>, key: &str) -> bool {
    match key {
        "esc" | "ctrl-c" => {
            t.filter.clear();
            t.editing_filter = false;
        }
        "enter" => t.editing_filter = false,
        "backspace" => {
            t.filter.pop();
        }
        k => match crate::tui::form::typed(k) {
            Some(c) => t.filter.push(c),
            // Arrows and the like leave the line and act on the list.
            None => {
                t.editing_filter = false;
                return false;
            }
        },
    }
    // The first match is where Enter, `p` and `e` act.
    let rows = t.rows();
    t.cursor = rows
        .iter()
        .position(|r| matches!(r, TreeRow::Leaf(..)))
        .unwrap_or(0);
    t.detail_scroll = 0;
    true
}

/// Actions on the browse screens; false leaves `action` to the common code.
pub(super) fn act(s: &mut State, action: &Action, fx: &mut Vec<Effect>) -> bool {
    if !browsing(s.screen) {
        return false;
    }
    let now = s.now;
    match s.screen {
        Screen::Sources => {
            let t = &mut s.browse.sources;
            if *action == Action::Back && !t.filter.is_empty() {
                t.filter.clear();
                return true;
            }
            match *action {
                Action::Preview => preview(s, fx),
                Action::Export => export(s),
                Action::Refresh => refresh_source(s, fx),
                _ => {
                    let Some(load) = tree_act(t, action) else {
                        return false;
                    };
                    for r in load {
                        fx.push(load_root(t, r, now, tables_effect));
                    }
                    ensure_detail(s, fx);
                }
            }
            true
        }
        Screen::Warehouse => {
            let t = &mut s.browse.warehouses;
            if *action == Action::Back && !t.filter.is_empty() {
                t.filter.clear();
                return true;
            }
            let mut load = match action {
                Action::Refresh => t.selected().map(|r| vec![r.root()]).unwrap_or_default(),
                _ => match tree_act(t, action) {
                    Some(l) => l,
                    None => return false,
                },
            };
            load.dedup();
            for r in load {
                fx.push(load_root(t, r, now, warehouse_effect));
            }
            true
        }
        _ => stores_act(s, action, fx),
    }
}

/// Moves, opens and closes in a tree. Returns the roots whose tables must
/// be fetched, or None when `action` is not one a tree handles.
fn tree_act<T: Leaf + Clone>(t: &mut Tree<T>, action: &Action) -> Option<Vec<usize>> {
    let rows = t.rows();
    let n = rows.len();
    let before = t.cursor;
    let mut load = Vec::new();
    let position = |row: &TreeRow| rows.iter().position(|r| r == row);
    match action {
        Action::Up => t.cursor = t.cursor.saturating_sub(1),
        Action::Down => t.cursor = (t.cursor + 1).min(n.saturating_sub(1)),
        Action::Top => t.cursor = 0,
        Action::Bottom => t.cursor = n.saturating_sub(1),
        Action::PageUp => t.detail_scroll = t.detail_scroll.saturating_sub(PAGE),
        Action::PageDown => t.detail_scroll += PAGE,
        Action::Open => match rows.get(t.cursor) {
            Some(TreeRow::Root(r)) => {
                let key = (*r, None);
                let failed = matches!(t.tables[*r], Load::Failed(_) | Load::Idle);
                if failed {
                    // Opening a root that failed asks again.
                    t.open.insert(key);
                    load.push(*r);
                } else if !t.open.remove(&key) {
                    t.open.insert(key);
                }
            }
            Some(TreeRow::Group(r, g)) => {
                let key = (*r, Some(g.clone()));
                if !t.open.remove(&key) {
                    t.open.insert(key);
                }
            }
            _ => {}
        },
        Action::Parent => match rows.get(t.cursor) {
            Some(TreeRow::Root(r)) => {
                t.open.remove(&(*r, None));
            }
            Some(TreeRow::Group(r, g)) => {
                // An open schema closes; a closed one sends the cursor up.
                let was_open = t.open.remove(&(*r, Some(g.clone())));
                if !was_open {
                    t.cursor = position(&TreeRow::Root(*r)).unwrap_or(t.cursor);
                }
            }
            Some(TreeRow::Leaf(r, i)) => {
                let group = t
                    .tables
                    .get(*r)
                    .and_then(Load::ready)
                    .and_then(|l| l.get(*i))
                    .map(|x| x.group().to_string());
                if let Some(g) = group {
                    t.cursor = position(&TreeRow::Group(*r, g)).unwrap_or(t.cursor);
                }
            }
            None => {}
        },
        Action::Filter => {
            t.editing_filter = true;
            // A filter searches every root: fetch the ones never asked.
            load.extend((0..t.roots.len()).filter(|&r| matches!(t.tables[r], Load::Idle)));
        }
        _ => return None,
    }
    t.cursor = t.cursor.min(t.rows().len().saturating_sub(1));
    if t.cursor != before {
        t.detail_scroll = 0;
    }
    Some(load)
}

/// The table under the cursor gets its columns fetched once.
fn ensure_detail(s: &mut State, fx: &mut Vec<Effect>) {
    let Some((r, t)) = s.browse.selected_table() else {
        return;
    };
    let key = (r, t.table.clone());
    if s.browse.details.contains_key(&key) {
        return;
    }
    let source = s.browse.sources.roots[r].name.clone();
    fx.push(Effect::Browse(BrowseEffect::Describe {
        source,
        table: key.1.clone(),
    }));
    s.browse.details.insert(key, Load::Loading { since: s.now });
}

fn preview(s: &mut State, fx: &mut Vec<Effect>) {
    let Some((r, t)) = s.browse.selected_table() else {
        return flash(s, false, "choose a table to preview (Enter opens a source)");
    };
    let table = t.table.clone();
    let source = s.browse.sources.roots[r].name.clone();
    s.browse
        .previews
        .insert((r, table.clone()), Load::Loading { since: s.now });
    fx.push(Effect::Browse(BrowseEffect::Preview {
        source,
        table,
        rows: PREVIEW_ROWS,
    }));
}

fn export(s: &mut State) {
    let Some((r, t)) = s.browse.selected_table() else {
        return flash(s, false, "choose a table to export (Enter opens a source)");
    };
    let (source, table) = (s.browse.sources.roots[r].name.clone(), t.table.clone());
    if s.browse.stores.stores.is_empty() {
        return flash(s, false, "the workspace has no store to export to");
    }
    let detail = s
        .browse
        .details
        .get(&(r, table.clone()))
        .and_then(Load::ready);
    let form = open_export(&s.browse, &source, &table, detail);
    s.modal = Some(Modal::Form(form));
}

/// `r`: the source's tables again, and the table's columns (and preview).
fn refresh_source(s: &mut State, fx: &mut Vec<Effect>) {
    let now = s.now;
    let Some(row) = s.browse.sources.selected() else {
        return;
    };
    if let Some((r, t)) = s.browse.selected_table() {
        let key = (r, t.table.clone());
        s.browse.details.remove(&key);
        if s.browse.previews.contains_key(&key) {
            preview(s, fx);
        }
        ensure_detail(s, fx);
    } else {
        let t = &mut s.browse.sources;
        fx.push(load_root(t, row.root(), now, tables_effect));
    }
}

/// Runs changed: a screen showing what runs write (files, tables) reads it
/// again, keeping what it shows until the answer.
pub(super) fn on_changed(s: &mut State, any_run: bool, fx: &mut Vec<Effect>) {
    if !any_run {
        return;
    }
    match s.screen {
        Screen::Stores if !s.browse.stores.listing.is_loading() => list(s, true, fx),
        Screen::Warehouse => {
            let t = &s.browse.warehouses;
            for r in 0..t.roots.len() {
                if t.open.contains(&(r, None)) && t.tables[r].ready().is_some() {
                    fx.push(warehouse_effect(t.roots[r].name.clone()));
                }
            }
        }
        _ => {}
    }
}

fn first_leaf<T: Leaf + Clone>(t: &mut Tree<T>) {
    if let Some(i) = t.rows().iter().position(|x| matches!(x, TreeRow::Leaf(..))) {
        t.cursor = i;
    }
}

pub(super) fn on_msg(s: &mut State, m: BrowseMsg, fx: &mut Vec<Effect>) {
    s.dirty = true;
    let b = &mut s.browse;
    match m {
        BrowseMsg::Tables { source, result } => {
            let Some(r) = b.sources.root_index(&source) else {
                return;
            };
            let first = b.sources.tables[r].ready().is_none_or(Vec::is_empty);
            b.sources.loaded(r, result);
            // The only source, its first tables: the cursor goes to the
            // first, whose columns show at once.
            if first && b.sources.roots.len() == 1 && b.sources.cursor == 0 {
                first_leaf(&mut b.sources);
            }
            if s.screen == Screen::Sources {
                ensure_detail(s, fx);
            }
        }
        BrowseMsg::Described {
            source,
            table,
            result,
        } => {
            if let Some(r) = b.sources.root_index(&source) {
                b.details.insert((r, table), Load::from_result(result));
            }
        }
        BrowseMsg::Previewed {
            source,
            table,
            result,
        } => {
            if let Some(r) = b.sources.root_index(&source) {
                b.previews.insert((r, table), Load::from_result(result));
            }
        }
        BrowseMsg::WarehouseTables { warehouse, result } => {
            if let Some(r) = b.warehouses.root_index(&warehouse) {
                let t = &mut b.warehouses;
                let first = t.tables[r].ready().is_none_or(Vec::is_empty);
                t.loaded(r, result);
                if first && t.roots.len() == 1 && t.cursor == 0 {
                    first_leaf(t);
                }
            }
        }
        m @ (BrowseMsg::Listed { .. } | BrowseMsg::Deleted { .. }) => stores::on_msg(s, m, fx),
        BrowseMsg::Started { label, result } => match result {
            Ok(id) => {
                flash(s, true, format!("run {id}: {label}, in a worker (1: Runs)"));
                // Runs shows it selected, whatever was selected before.
                if let Some(i) = s.runs.iter().position(|r| r.id == id) {
                    select_run(s, i, fx);
                }
            }
            Err(e) => flash(s, false, e),
        },
    }
}
