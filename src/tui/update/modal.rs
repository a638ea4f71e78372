//! Keys while a question, a text box or the command palette is open.

use super::*;
use crate::tui::form::typed;

pub(super) fn modal_key(s: &mut State, key: &str, fx: &mut Vec<Effect>) {
    let Some(modal) = s.modal.take() else {
        return;
    };
    // Ctrl-C closes any question unanswered (a second one quits).
    let key = if key == "ctrl-c" { "esc" } else { key };
    match modal {
        Modal::Help => {}
        Modal::Palette {
            mut input,
            mut selected,
        } => match key {
            "esc" => {}
            "enter" => {
                let options = crate::tui::view::palette::palette_completions(s, &input);
                // A whole command runs as typed: `:pool db 1` must not become
                // the listed `pool db 10`. Else the highlighted completion runs.
                let chosen = options
                    .get(selected)
                    .filter(|o| o.split_whitespace().count() >= input.split_whitespace().count());
                let cmd = match chosen {
                    Some(o) if selected > 0 || !whole_command(&options, &input) => o.clone(),
                    _ => input,
                };
                palette_command(s, cmd.trim(), fx);
            }
            "tab" => {
                if let Some(o) =
                    crate::tui::view::palette::palette_completions(s, &input).get(selected)
                {
                    input = o.clone();
                }
                s.modal = Some(Modal::Palette { input, selected: 0 });
            }
            "up" => {
                s.modal = Some(Modal::Palette {
                    input,
                    selected: selected.saturating_sub(1),
                })
            }
            "down" => {
                let n = crate::tui::view::palette::palette_completions(s, &input).len();
                selected = (selected + 1).min(n.saturating_sub(1));
                s.modal = Some(Modal::Palette { input, selected });
            }
            "backspace" => {
                input.pop();
                s.modal = Some(Modal::Palette { input, selected: 0 });
            }
            k => {
                if let Some(c) = typed(k) {
                    input.push(c);
                }
                s.modal = Some(Modal::Palette { input, selected: 0 });
            }
        },
        Modal::Input { purpose, mut text } => match key {
            "esc" => {}
            "enter" => match purpose {
                InputPurpose::Note => {
                    if let Some(r) = s.selected_run()
                        && !text.trim().is_empty()
                    {
                        fx.push(Effect::AddNote {
                            run_id: r.id,
                            text: text.trim().to_string(),
                        });
                    }
                }
                InputPurpose::Search => {
                    if let Some(d) = s.detail.as_mut() {
                        d.search = Some(text);
                    }
                    search_next(s, false);
                }
            },
            "backspace" => {
                text.pop();
                s.modal = Some(Modal::Input { purpose, text });
            }
            k => {
                if let Some(c) = typed(k) {
                    text.push(c);
                }
                s.modal = Some(Modal::Input { purpose, text });
            }
        },
        Modal::Confirm(mut c) => match key {
            "enter" | "y" => fx.push(c.effect),
            "up" | "k" => {
                c.scroll = c.scroll.saturating_sub(1);
                s.modal = Some(Modal::Confirm(c));
            }
            "down" | "j" => {
                c.scroll = (c.scroll + 1).min(c.tasks.len().saturating_sub(1));
                s.modal = Some(Modal::Confirm(c));
            }
            "esc" | "n" | "q" => {}
            _ => s.modal = Some(Modal::Confirm(c)),
        },
        Modal::Form(f) => super::forms::form_key(s, f, key, fx),
        Modal::Ask(a) => match key {
            "enter" | "y" => fx.push(a.effect),
            "esc" | "n" | "q" => {}
            _ => s.modal = Some(Modal::Ask(a)),
        },
        Modal::MarkChoice { run_id, task_id } => match key {
            "s" => fx.push(Effect::Request {
                run_id,
                request: mark_request(&task_id, MarkAs::Succeeded),
            }),
            "k" => fx.push(Effect::Request {
                run_id,
                request: mark_request(&task_id, MarkAs::Skipped),
            }),
            "esc" | "q" => {}
            _ => s.modal = Some(Modal::MarkChoice { run_id, task_id }),
        },
    }
}

/// Whether `input` is a command in full rather than the start of one: one
/// of the completions exactly, or a pool resize with its number.
fn whole_command(options: &[String], input: &str) -> bool {
    let words: Vec<&str> = input.split_whitespace().collect();
    options
        .iter()
        .any(|o| o.split_whitespace().eq(words.iter().copied()))
        || matches!(words.as_slice(), ["pool", _, n] if n.parse::<i64>().is_ok())
}

fn palette_command(s: &mut State, cmd: &str, fx: &mut Vec<Effect>) {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    match words.as_slice() {
        ["q"] | ["quit"] => {
            s.quit = true;
            fx.push(Effect::Quit);
        }
        ["runs"] => go(s, Screen::Runs, fx),
        ["pools"] => go(s, Screen::Pools, fx),
        ["journal"] => go(s, Screen::Journal, fx),
        ["sources"] => go(s, Screen::Sources, fx),
        ["stores"] => go(s, Screen::Stores, fx),
        ["warehouse"] => go(s, Screen::Warehouse, fx),
        ["graph"] => go(s, Screen::Graph, fx),
        ["backfills"] => go(s, Screen::Backfill, fx),
        ["schedule"] => go(s, Screen::Schedule, fx),
        ["sla"] => go(s, Screen::Sla, fx),
        ["theme", name] => {
            // The runner answers with `Msg::Theme` once the theme loaded.
            fx.push(Effect::SetTheme(name.to_string()));
        }
        ["pool", name, size] => {
            if s.readonly {
                let refusal = crate::tui::action::read_only_refusal("resize a pool");
                return flash(s, false, refusal);
            }
            match size.parse::<i64>() {
                Ok(n) if crate::config::rules::pool_size(n).is_ok() => {
                    if let Some(p) = s.pools.iter_mut().find(|p| p.name == *name) {
                        p.size = n;
                    }
                    fx.push(Effect::ResizePool {
                        name: name.to_string(),
                        size: n,
                    });
                }
                _ => flash(s, false, format!("`{size}` is not a pool size (1 or more)")),
            }
        }
        [] => {}
        _ => flash(s, false, format!("unknown command `:{cmd}`")),
    }
}
