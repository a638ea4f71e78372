//! Themes: flat TOML files of semantic roles (`task_failed`, `selection`,
//! `border_focused`…), bundled from themes/ and overridable by files of the
//! same name in the user's themes directory. `NO_COLOR` keeps only weight
//! and reverse video, so every state stays distinguishable by glyph and style.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Result, anyhow};
use ratatui::style::{Color, Modifier, Style};

use crate::engine::state::TaskState;

pub const BUNDLED: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("solarized", include_str!("../../themes/solarized.toml")),
];

/// Every role a theme must define.
pub const ROLES: &[&str] = &[
    "text",
    "dim",
    "title",
    "border",
    "border_focused",
    "selection",
    "header",
    "key",
    "task_pending",
    "task_queued",
    "task_running",
    "task_retrying",
    "task_succeeded",
    "task_failed",
    "task_upstream_failed",
    "task_skipped",
    "task_cancelled",
    "task_interrupted",
    "gauge",
    "gauge_full",
    "error",
    "warning",
    "ok",
    "readonly",
    "md_heading",
    "md_code",
    "md_emphasis",
    "md_strong",
    "md_link",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    styles: HashMap<String, Style>,
}

impl Theme {
    pub fn parse(text: &str, no_color: bool) -> Result<Theme> {
        let table: toml::Table = toml::from_str(text)?;
        let name = table
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or("unnamed")
            .to_string();
        let mut styles = HashMap::new();
        for role in ROLES {
            let spec = table
                .get(*role)
                .and_then(|v| v.as_str())
                .ok_or_else(|| anyhow!("theme `{name}` does not define `{role}`"))?;
            let mut style =
                parse_style(spec).map_err(|e| anyhow!("theme `{name}`, `{role}`: {e}"))?;
            if no_color {
                style = Style::default().add_modifier(style.add_modifier);
                if *role == "selection" || *role == "readonly" {
                    style = style.add_modifier(Modifier::REVERSED);
                }
            }
            styles.insert(role.to_string(), style);
        }
        Ok(Theme { name, styles })
    }

    /// A bundled theme, or a user file `NAME.toml` in `user_dir` (which wins).
    pub fn load(name: &str, user_dir: Option<&Path>, no_color: bool) -> Result<Theme> {
        if let Some(path) = user_dir
            .map(|d| d.join(format!("{name}.toml")))
            .filter(|p| p.exists())
        {
            let text = std::fs::read_to_string(&path)?;
            return Theme::parse(&text, no_color).map_err(|e| anyhow!("{}: {e}", path.display()));
        }
        let (_, text) = BUNDLED.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            let names: Vec<&str> = BUNDLED.iter().map(|(n, _)| *n).collect();
            anyhow!("no theme `{name}` (themes: {})", names.join(", "))
        })?;
        Theme::parse(text, no_color)
    }

    pub fn fallback() -> Theme {
        Theme::parse(BUNDLED[0].1, std::env::var_os("NO_COLOR").is_some()).unwrap_or(Theme {
            name: "plain".into(),
            styles: HashMap::new(),
        })
    }

    pub fn get(&self, role: &str) -> Style {
        self.styles.get(role).copied().unwrap_or_default()
    }

    pub fn task(&self, s: TaskState) -> Style {
        self.get(&format!("task_{}", s.as_str()))
    }
}

fn parse_style(spec: &str) -> Result<Style, String> {
    let mut style = Style::default();
    let mut words = spec.split_whitespace().peekable();
    let mut fg_done = false;
    while let Some(w) = words.next() {
        match w {
            "on" => {
                let c = words.next().ok_or("`on` needs a colour")?;
                style = style.bg(parse_color(c)?);
            }
            "bold" => style = style.add_modifier(Modifier::BOLD),
            "dim" => style = style.add_modifier(Modifier::DIM),
            "italic" => style = style.add_modifier(Modifier::ITALIC),
            "reversed" => style = style.add_modifier(Modifier::REVERSED),
            "underlined" => style = style.add_modifier(Modifier::UNDERLINED),
            c if !fg_done => {
                style = style.fg(parse_color(c)?);
                fg_done = true;
            }
            other => return Err(format!("unexpected `{other}`")),
        }
    }
    Ok(style)
}

fn parse_color(c: &str) -> Result<Color, String> {
    if let Some(hex) = c.strip_prefix('#') {
        if hex.len() == 6
            && let Ok(v) = u32::from_str_radix(hex, 16)
        {
            return Ok(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
        }
        return Err(format!("bad colour `{c}`"));
    }
    c.parse::<Color>()
        .map_err(|_| format!("unknown colour `{c}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_theme_defines_every_role() {
        for (name, text) in BUNDLED {
            let t = Theme::parse(text, false).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&t.name, name);
            // Failed must never look like succeeded.
            assert_ne!(
                t.task(TaskState::Failed),
                t.task(TaskState::Succeeded),
                "{name}"
            );
        }
    }

    #[test]
    fn no_color_keeps_only_weight_and_reverse() {
        let t = Theme::parse(BUNDLED[0].1, true).unwrap();
        let sel = t.get("selection");
        assert_eq!(sel.fg, None);
        assert_eq!(sel.bg, None);
        assert!(sel.add_modifier.contains(Modifier::REVERSED));
        assert!(
            t.task(TaskState::Failed)
                .add_modifier
                .contains(Modifier::BOLD)
        );
    }

    #[test]
    fn styles_parse() {
        let s = parse_style("black on #2aa198 bold").unwrap();
        assert_eq!(s.fg, Some(Color::Black));
        assert_eq!(s.bg, Some(Color::Rgb(0x2a, 0xa1, 0x98)));
        assert!(parse_style("nocolour").is_err());
    }
}
