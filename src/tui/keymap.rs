//! Key bindings as data: `{ on, run, desc }` per mode, from
//! assets/keymap.toml, overridden by the user's keymap.toml. The help screen
//! and the footer hints are generated from `desc`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use super::action::Action;

const DEFAULT: &str = include_str!("../../assets/keymap.toml");

/// Where a binding applies. `Global` bindings apply on every screen unless
/// the screen binds the same key itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    Global,
    Runs,
    Task,
    Pools,
    Journal,
    Sources,
    Stores,
    Warehouse,
    Graph,
    Backfill,
    Schedule,
    Sla,
    Timeline,
}

impl Mode {
    fn from_section(s: &str) -> Option<Mode> {
        Some(match s {
            "global" => Mode::Global,
            "runs" => Mode::Runs,
            "task" => Mode::Task,
            "pools" => Mode::Pools,
            "journal" => Mode::Journal,
            "sources" => Mode::Sources,
            "stores" => Mode::Stores,
            "warehouse" => Mode::Warehouse,
            "graph" => Mode::Graph,
            "backfill" => Mode::Backfill,
            "schedule" => Mode::Schedule,
            "sla" => Mode::Sla,
            "timeline" => Mode::Timeline,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub on: String,
    pub action: Action,
    pub desc: String,
    pub hint: bool,
}

#[derive(Debug, Deserialize)]
struct RawBinding {
    on: String,
    run: String,
    #[serde(default)]
    desc: String,
    #[serde(default)]
    hint: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Keymap {
    modes: BTreeMap<Mode, Vec<Binding>>,
}

impl Keymap {
    /// The built-in keymap.
    pub fn builtin() -> Keymap {
        // The bundled file is tested; a failure here is a build defect.
        Keymap::parse(DEFAULT).unwrap_or_default()
    }

    /// The built-in keymap with the user's file (if any) laid over it.
    pub fn load(user_file: Option<&Path>) -> Result<Keymap> {
        let mut map = Keymap::parse(DEFAULT)?;
        if let Some(path) = user_file.filter(|p| p.exists()) {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let user = Keymap::parse(&text).with_context(|| format!("in {}", path.display()))?;
            map.overlay(user);
        }
        Ok(map)
    }

    pub fn parse(text: &str) -> Result<Keymap> {
        let raw: BTreeMap<String, Vec<RawBinding>> = toml::from_str(text)?;
        let mut modes: BTreeMap<Mode, Vec<Binding>> = BTreeMap::new();
        for (section, list) in raw {
            let mode = Mode::from_section(&section)
                .ok_or_else(|| anyhow::anyhow!("unknown keymap section `[[{section}]]`"))?;
            for b in list {
                let action: Action = b
                    .run
                    .parse()
                    .map_err(|e: String| anyhow::anyhow!("key `{}`: {e}", b.on))?;
                modes.entry(mode).or_default().push(Binding {
                    on: normalize(&b.on),
                    action,
                    desc: b.desc,
                    hint: b.hint,
                });
            }
        }
        Ok(Keymap { modes })
    }

    /// A user's binding replaces the default one for the same key and mode.
    fn overlay(&mut self, user: Keymap) {
        for (mode, list) in user.modes {
            let mine = self.modes.entry(mode).or_default();
            for b in list {
                mine.retain(|m| m.on != b.on);
                mine.push(b);
            }
        }
    }

    /// The action of `key` in `mode`, falling back to the global bindings.
    pub fn lookup(&self, mode: Mode, key: &str) -> Option<&Action> {
        let find = |m: Mode| {
            self.modes
                .get(&m)
                .and_then(|l| l.iter().find(|b| b.on == key))
                .map(|b| &b.action)
        };
        find(mode).or_else(|| find(Mode::Global))
    }

    /// Every binding that applies in `mode` (its own first, then global ones
    /// it does not shadow): what the help screen lists.
    pub fn bindings(&self, mode: Mode) -> Vec<&Binding> {
        let own: Vec<&Binding> = self
            .modes
            .get(&mode)
            .map(|l| l.iter().collect())
            .unwrap_or_default();
        let mut out = own.clone();
        if mode != Mode::Global {
            for b in self.modes.get(&Mode::Global).into_iter().flatten() {
                if !own.iter().any(|o| o.on == b.on) {
                    out.push(b);
                }
            }
        }
        out
    }

    /// The few bindings worth the footer of `mode`.
    pub fn hints(&self, mode: Mode) -> Vec<&Binding> {
        self.bindings(mode).into_iter().filter(|b| b.hint).collect()
    }

    /// The first key bound to `action` in `mode` (for messages like "press R").
    pub fn key_for(&self, mode: Mode, action: &Action) -> Option<&str> {
        self.bindings(mode)
            .into_iter()
            .find(|b| &b.action == action)
            .map(|b| b.on.as_str())
    }
}

/// Key names as the runner spells them: `a`, `A`, `ctrl-c`, `enter`, `up`…
fn normalize(on: &str) -> String {
    let lower = on.to_ascii_lowercase();
    match lower.as_str() {
        "return" => "enter".into(),
        "escape" => "esc".into(),
        "pgup" => "pageup".into(),
        "pgdown" => "pagedown".into(),
        _ if on.chars().count() == 1 => on.to_string(),
        _ => lower,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_keymap_parses_and_every_screen_has_help_and_quit() {
        let k = Keymap::parse(DEFAULT).unwrap();
        for mode in [
            Mode::Runs,
            Mode::Task,
            Mode::Pools,
            Mode::Journal,
            Mode::Sources,
            Mode::Stores,
            Mode::Warehouse,
            Mode::Graph,
            Mode::Backfill,
            Mode::Schedule,
            Mode::Sla,
            Mode::Timeline,
        ] {
            assert_eq!(k.lookup(mode, "?"), Some(&Action::Help));
            assert_eq!(k.lookup(mode, "q"), Some(&Action::Quit));
            assert!(!k.hints(mode).is_empty(), "{mode:?} has no footer hints");
        }
        assert_eq!(k.lookup(Mode::Runs, "R"), Some(&Action::RerunDownstream));
        assert_eq!(k.lookup(Mode::Runs, "F"), Some(&Action::RerunFailed));
        assert_eq!(k.lookup(Mode::Pools, "+"), Some(&Action::PoolGrow));
        assert_eq!(k.lookup(Mode::Runs, "+"), None);
    }

    #[test]
    fn a_user_binding_replaces_the_default_for_its_key() {
        let mut k = Keymap::parse(DEFAULT).unwrap();
        k.overlay(
            Keymap::parse("[[runs]]\non = \"R\"\nrun = \"rerun_one\"\ndesc = \"mine\"\n").unwrap(),
        );
        assert_eq!(k.lookup(Mode::Runs, "R"), Some(&Action::RerunOne));
        assert_eq!(
            k.bindings(Mode::Runs)
                .iter()
                .filter(|b| b.on == "R")
                .count(),
            1
        );
    }

    #[test]
    fn unknown_actions_and_sections_are_errors() {
        assert!(Keymap::parse("[[runs]]\non = \"z\"\nrun = \"explode\"\n").is_err());
        assert!(Keymap::parse("[[nowhere]]\non = \"z\"\nrun = \"quit\"\n").is_err());
    }
}
