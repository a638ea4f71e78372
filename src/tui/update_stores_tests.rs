//! Key flows of the Stores screen and the load form (and read-only on the
//! browse screens), as unit tests of the pure `update` through the keymap.

use super::browse::{BrowseEffect, BrowseMsg};
use super::keymap::Keymap;
use super::state::{Effect, Modal, Msg, State};
use super::update::update;
use super::update_browse_tests::{browse, form, key, keys, on_users, setup};
use crate::connectors::store::ObjectInfo;

fn object(path: &str, size: u64) -> ObjectInfo {
    ObjectInfo {
        path: path.into(),
        size,
        modified: Some(1_714_533_245_000),
        is_prefix: path.ends_with('/'),
        partial: None,
    }
}

#[test]
fn read_only_refuses_export_load_and_delete_with_a_message() {
    let (mut s, k) = on_users();
    s.readonly = true;
    let refusal = |s: &State| s.flash.as_ref().map(|f| f.text.clone());
    assert!(key(&mut s, &k, "e").is_empty());
    assert!(s.modal.is_none());
    assert_eq!(
        refusal(&s),
        Some(crate::tui::action::read_only_refusal("export"))
    );
    key(&mut s, &k, "5");
    listed(&mut s, &k, "", vec![object("a.parquet", 10)]);
    for (x, what) in [("l", "load"), ("d", "delete")] {
        s.flash = None;
        assert!(key(&mut s, &k, x).is_empty());
        assert!(s.modal.is_none(), "{x}");
        assert_eq!(
            refusal(&s),
            Some(crate::tui::action::read_only_refusal(what)),
            "{x}"
        );
    }
    // Browsing still works.
    assert!(!key(&mut s, &k, "r").is_empty());
}

fn listed(s: &mut State, k: &Keymap, prefix: &str, list: Vec<ObjectInfo>) -> Vec<Effect> {
    browse(
        s,
        k,
        BrowseMsg::Listed {
            store: "lake".into(),
            prefix: prefix.into(),
            result: Ok(list),
        },
    )
}

fn list_of(prefix: &str) -> Effect {
    Effect::Browse(BrowseEffect::List {
        store: "lake".into(),
        prefix: prefix.into(),
    })
}

#[test]
fn stores_navigate_prefixes_like_folders() {
    let (mut s, k) = setup(false);
    // The one store is open at once.
    assert_eq!(key(&mut s, &k, "5"), vec![list_of("")]);
    assert!(s.browse.stores.listing.is_loading());
    listed(
        &mut s,
        &k,
        "",
        vec![object("raw/", 0), object("users/", 0), object("x.csv", 5)],
    );
    keys(&mut s, &k, &["down"]);
    assert_eq!(key(&mut s, &k, "enter"), vec![list_of("users/")]);
    // A late answer for the folder we left is dropped.
    listed(&mut s, &k, "", vec![object("zzz/", 0)]);
    assert!(s.browse.stores.listing.is_loading());
    listed(
        &mut s,
        &k,
        "users/",
        vec![object("users/2024/", 0), object("users/a.parquet", 99)],
    );
    key(&mut s, &k, "enter");
    listed(&mut s, &k, "users/2024/", vec![]);
    // Backspace (and h) go up; the cursor lands on the folder we left.
    assert_eq!(key(&mut s, &k, "backspace"), vec![list_of("users/")]);
    listed(
        &mut s,
        &k,
        "users/",
        vec![object("users/2024/", 0), object("users/a.parquet", 99)],
    );
    assert_eq!(s.browse.stores.cursor, 0);
    assert_eq!(key(&mut s, &k, "h"), vec![list_of("")]);
    listed(
        &mut s,
        &k,
        "",
        vec![object("raw/", 0), object("users/", 0), object("x.csv", 5)],
    );
    assert_eq!(
        s.browse.stores.selected().map(|o| o.path.as_str()),
        Some("users/")
    );
    // At the top of the only store, up goes nowhere.
    assert!(key(&mut s, &k, "backspace").is_empty());
}

#[test]
fn l_on_a_file_opens_a_load_form_named_after_it() {
    let (mut s, k) = setup(false);
    key(&mut s, &k, "5");
    listed(
        &mut s,
        &k,
        "",
        vec![
            object("main.users/", 0),
            object("main.users/2024-05-01.parquet", 9),
        ],
    );
    // On a folder: nothing to load.
    assert!(key(&mut s, &k, "l").is_empty());
    assert!(s.modal.is_none());
    key(&mut s, &k, "down");
    key(&mut s, &k, "l");
    let f = form(&s);
    assert_eq!(f.value("warehouse"), "wh");
    assert_eq!(f.value("table"), "users");
    assert_eq!(f.value("mode"), "replace");
    keys(
        &mut s,
        &k,
        &[
            "backspace",
            "backspace",
            "backspace",
            "backspace",
            "backspace",
        ],
    );
    let fx = key(&mut s, &k, "enter");
    assert!(fx.is_empty());
    assert!(form(&s).error.is_some(), "an empty table name is refused");
    for c in ["r", "a", "w"] {
        key(&mut s, &k, c);
    }
    keys(&mut s, &k, &["down", "right"]);
    let fx = key(&mut s, &k, "enter");
    let [Effect::Browse(BrowseEffect::Start { label, def })] = &fx[..] else {
        panic!("{fx:?}");
    };
    assert_eq!(label, "load wh.raw");
    assert_eq!(def.kind, crate::config::TaskKind::Load);
    assert_eq!(def.store.as_deref(), Some("lake"));
    assert_eq!(def.path.as_deref(), Some("main.users/2024-05-01.parquet"));
    assert_eq!(def.warehouse.as_deref(), Some("wh"));
    assert_eq!(def.table.as_deref(), Some("raw"));
    assert_eq!(def.mode.as_deref(), Some("append"));
}

#[test]
fn d_asks_before_deleting_a_file_and_lists_again_after() {
    let (mut s, k) = setup(false);
    key(&mut s, &k, "5");
    listed(
        &mut s,
        &k,
        "",
        vec![object("dir/", 0), object("a.parquet", 2048)],
    );
    // A folder is not deleted.
    assert!(key(&mut s, &k, "d").is_empty());
    assert!(s.modal.is_none());
    key(&mut s, &k, "down");
    assert!(key(&mut s, &k, "d").is_empty());
    let Some(Modal::Ask(a)) = &s.modal else {
        panic!("no question: {:?}", s.modal);
    };
    assert!(a.lines.iter().any(|l| l == "lake: a.parquet"), "{a:?}");
    assert!(a.lines.iter().any(|l| l.starts_with("2.00 KiB")), "{a:?}");
    // Esc: nothing deleted.
    assert!(key(&mut s, &k, "esc").is_empty());
    assert!(s.modal.is_none());
    key(&mut s, &k, "d");
    let fx = key(&mut s, &k, "enter");
    assert_eq!(
        fx,
        vec![Effect::Browse(BrowseEffect::Delete {
            store: "lake".into(),
            path: "a.parquet".into()
        })]
    );
    let fx = browse(
        &mut s,
        &k,
        BrowseMsg::Deleted {
            store: "lake".into(),
            path: "a.parquet".into(),
            result: Ok(()),
        },
    );
    assert_eq!(fx, vec![list_of("")]);
    assert!(s.flash.as_ref().is_some_and(|f| f.ok));
    // The old rows stay until the new listing comes.
    assert!(s.browse.stores.listing.ready().is_some());
}

#[test]
fn a_run_that_changes_refreshes_the_store_on_screen_quietly() {
    let (mut s, k) = setup(false);
    key(&mut s, &k, "5");
    listed(&mut s, &k, "", vec![object("a.parquet", 1)]);
    let fx = update(
        &mut s,
        Msg::Changed {
            runs: vec![],
            any_run: true,
            pools: false,
            journal: false,
            logs: vec![],
        },
        &k,
    );
    assert!(fx.contains(&list_of("")), "{fx:?}");
    assert!(s.browse.stores.listing.ready().is_some());
}

fn left_partial(path: &str, size: u64) -> ObjectInfo {
    ObjectInfo {
        partial: Some(crate::connectors::store::PartialFile {
            pid: Some(4242),
            host: None,
            writer: crate::connectors::store::Writer::Dead,
            object: Some("users.parquet".into()),
        }),
        ..object(path, size)
    }
}

#[test]
fn a_partial_file_is_not_loaded_but_can_be_deleted() {
    let (mut s, k) = setup(false);
    key(&mut s, &k, "5");
    listed(
        &mut s,
        &k,
        "",
        vec![left_partial("users.parquet.4242-0.partial", 25_700_000)],
    );
    assert!(key(&mut s, &k, "l").is_empty());
    assert!(s.modal.is_none(), "no load form for an unfinished file");
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("cannot be loaded")),
        "{:?}",
        s.flash
    );
    s.flash = None;
    key(&mut s, &k, "enter");
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains(".partial"))
    );
    key(&mut s, &k, "d");
    let fx = key(&mut s, &k, "enter");
    assert_eq!(
        fx,
        vec![Effect::Browse(BrowseEffect::Delete {
            store: "lake".into(),
            path: "users.parquet.4242-0.partial".into()
        })]
    );
}
