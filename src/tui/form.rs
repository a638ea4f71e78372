//! A small form: labelled fields (free text or a choice among options), one
//! focused at a time, an error line, submit and cancel. Pure data and key
//! handling; `view/form.rs` draws it, and the screen that opened a form
//! turns its values into an effect on submit (`FormPurpose`).
//!
//! Keys: Tab/↓ next field, Shift-Tab/↑ previous, ←/→ (or space) change a
//! choice, typing and Backspace edit text, Enter submits, Esc cancels.

use crate::connectors::source::TableName;

#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    Text(String),
    /// Options and the chosen one.
    Choice(Vec<String>, usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Stable name the submit code reads (`store`, `path`…).
    pub name: &'static str,
    pub label: String,
    pub kind: FieldKind,
    /// A line under the form when this field is focused.
    pub help: String,
    /// The user typed in it: a default derived from other fields no longer
    /// overwrites it.
    pub edited: bool,
}

impl Field {
    pub fn text(name: &'static str, label: &str, value: &str, help: &str) -> Field {
        Field {
            name,
            label: label.into(),
            kind: FieldKind::Text(value.into()),
            help: help.into(),
            edited: false,
        }
    }

    pub fn choice(
        name: &'static str,
        label: &str,
        options: Vec<String>,
        chosen: usize,
        help: &str,
    ) -> Field {
        let chosen = chosen.min(options.len().saturating_sub(1));
        Field {
            name,
            label: label.into(),
            kind: FieldKind::Choice(options, chosen),
            help: help.into(),
            edited: false,
        }
    }

    /// The text, or the chosen option ("" for a choice without options).
    pub fn value(&self) -> &str {
        match &self.kind {
            FieldKind::Text(t) => t,
            FieldKind::Choice(o, i) => o.get(*i).map_or("", String::as_str),
        }
    }
}

/// What submitting a form starts. Each screen adds the purposes it opens.
#[derive(Debug, Clone, PartialEq)]
pub enum FormPurpose {
    /// Export one table of a source (Sources screen, `e`).
    Export { source: String, table: TableName },
    /// Load one file of a store into a warehouse (Stores screen, `l`).
    Load { store: String, path: String },
    /// Backfill a pipeline over a range of dates (Backfill screen, `n`):
    /// the workspace's pipelines with their own `max_active`.
    Backfill {
        pipelines: Vec<(String, Option<u32>)>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub title: String,
    pub purpose: FormPurpose,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// Why the last submit was refused; cleared by the next edit.
    pub error: Option<String>,
    /// What Enter starts, when the fields say so (shown when there is no error).
    pub note: Option<String>,
}

/// What a key did to the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKey {
    /// Still editing.
    Editing,
    /// Enter: the caller validates and either starts the work or sets `error`.
    Submit,
    Cancel,
}

impl Form {
    pub fn new(title: impl Into<String>, purpose: FormPurpose, fields: Vec<Field>) -> Form {
        Form {
            title: title.into(),
            purpose,
            fields,
            focus: 0,
            error: None,
            note: None,
        }
    }

    /// The value of the field called `name` ("" when there is none).
    pub fn value(&self, name: &str) -> &str {
        self.field(name).map_or("", Field::value)
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Moves the focus to the field called `name` (a refused submit points
    /// at the field at fault).
    pub fn focus_on(&mut self, name: &str) {
        if let Some(i) = self.fields.iter().position(|f| f.name == name) {
            self.focus = i;
        }
    }

    /// Sets a text field's value unless the user edited it.
    pub fn set_default(&mut self, name: &str, value: &str) {
        if let Some(f) = self.fields.iter_mut().find(|f| f.name == name)
            && !f.edited
            && let FieldKind::Text(t) = &mut f.kind
        {
            *t = value.to_string();
        }
    }

    pub fn key(&mut self, key: &str) -> FormKey {
        let n = self.fields.len();
        match key {
            "esc" | "ctrl-c" => return FormKey::Cancel,
            "enter" => return FormKey::Submit,
            "tab" | "down" => self.focus = (self.focus + 1) % n.max(1),
            "backtab" | "up" => self.focus = (self.focus + n.max(1) - 1) % n.max(1),
            _ => {
                let Some(f) = self.fields.get_mut(self.focus) else {
                    return FormKey::Editing;
                };
                match &mut f.kind {
                    FieldKind::Choice(options, i) => {
                        let len = options.len().max(1);
                        match key {
                            "right" | "space" | "l" => *i = (*i + 1) % len,
                            "left" | "h" => *i = (*i + len - 1) % len,
                            _ => return FormKey::Editing,
                        }
                        f.edited = true;
                    }
                    FieldKind::Text(t) => {
                        match key {
                            "backspace" => {
                                t.pop();
                            }
                            "ctrl-u" => t.clear(),
                            k => match typed(k) {
                                Some(c) => t.push(c),
                                None => return FormKey::Editing,
                            },
                        }
                        f.edited = true;
                    }
                }
                self.error = None;
            }
        }
        FormKey::Editing
    }
}

/// A printable key as a character (`space` is a space).
pub fn typed(key: &str) -> Option<char> {
    if key == "space" {
        return Some(' ');
    }
    let mut chars = key.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if !c.is_control() => Some(c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> Form {
        Form::new(
            "Export",
            FormPurpose::Load {
                store: "lake".into(),
                path: "a.parquet".into(),
            },
            vec![
                Field::choice(
                    "mode",
                    "Mode",
                    vec!["replace".into(), "append".into()],
                    0,
                    "",
                ),
                Field::text("table", "Table", "users", ""),
            ],
        )
    }

    #[test]
    fn keys_move_between_fields_edit_text_and_cycle_choices() {
        let mut f = form();
        assert_eq!(f.key("right"), FormKey::Editing);
        assert_eq!(f.value("mode"), "append");
        f.key("right");
        assert_eq!(f.value("mode"), "replace", "choices wrap around");
        f.key("left");
        assert_eq!(f.value("mode"), "append");
        f.key("tab");
        assert_eq!(f.focus, 1);
        f.key("backspace");
        f.key("z");
        assert_eq!(f.value("table"), "userz");
        f.key("tab");
        assert_eq!(f.focus, 0, "tab wraps to the first field");
        f.key("backtab");
        assert_eq!(f.focus, 1);
        assert_eq!(f.key("enter"), FormKey::Submit);
        assert_eq!(f.key("esc"), FormKey::Cancel);
    }

    #[test]
    fn an_edited_field_keeps_its_value_when_defaults_change() {
        let mut f = form();
        f.set_default("table", "orders");
        assert_eq!(f.value("table"), "orders");
        f.focus = 1;
        f.key("s");
        f.set_default("table", "items");
        assert_eq!(f.value("table"), "orderss");
    }

    #[test]
    fn an_edit_clears_the_error() {
        let mut f = form();
        f.error = Some("bad".into());
        f.key("tab");
        assert!(f.error.is_some(), "moving does not clear it");
        f.key("x");
        assert_eq!(f.error, None);
    }
}
