//! Entering and leaving the terminal: raw mode, the alternate screen and
//! mouse capture, restored on every exit path, panics included.

use std::io::{Stdout, stdout};

use anyhow::Result;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::cursor::Show;
use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Restores the terminal (the cursor too: frames hide it); safe to call
/// more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(stdout(), LeaveAlternateScreen, DisableMouseCapture, Show);
}

/// Takes over the terminal and makes sure a panic gives it back first.
///
/// A panic anywhere ends the console (status 101): tokio would otherwise
/// catch one in a background task and leave the console running headless
/// in a terminal already given back, keys echoed and nothing drawn. The
/// console runs no work, so ending it loses nothing.
pub fn enter() -> Result<Term> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
        std::process::exit(101);
    }));
    enable_raw_mode()?;
    execute!(stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    let mut t = Terminal::new(CrosstermBackend::new(stdout()))?;
    t.clear()?;
    Ok(t)
}

/// Gives the terminal back when the process is told to stop from outside
/// (`kill`, a closed SSH session, `tmux kill-pane`: SIGTERM, SIGHUP, SIGINT,
/// SIGQUIT; in raw mode Ctrl-C is a key, not a signal), then dies of that
/// signal as it would have without the console, so the exit status says why.
/// Without this the shell is left on the alternate screen, in raw mode, with
/// the mouse captured and the cursor hidden. Needs a tokio runtime.
pub fn restore_on_signals() {
    use tokio::signal::unix::{SignalKind, signal};
    for kind in [
        SignalKind::terminate(),
        SignalKind::hangup(),
        SignalKind::interrupt(),
        SignalKind::quit(),
    ] {
        let Ok(mut stream) = signal(kind) else {
            continue;
        };
        tokio::spawn(async move {
            if stream.recv().await.is_some() {
                restore();
                let sig = kind.as_raw_value();
                // SAFETY: plain syscalls; the default disposition ends the
                // process the way the signal would have in the first place.
                unsafe {
                    libc::signal(sig, libc::SIG_DFL);
                    libc::raise(sig);
                }
            }
        });
    }
}

/// Restores the terminal when dropped (early returns, errors).
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}
