//! Putting the terminal into TUI mode and, whatever happens, back again:
//! on return, on SIGTERM (the loop exits normally), on panic (the hook
//! restores first, then chains the previous hook), and around Ctrl-Z.

use std::io::{Stdout, Write, stdout};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Restores the terminal when dropped.
pub struct TerminalGuard {
    pub term: Term,
}

/// Raw mode, the alternate screen, mouse and bracketed paste.
pub fn enter() -> std::io::Result<()> {
    enable_raw_mode()?;
    execute!(
        stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste
    )
}

/// Undo `enter`. Safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let mut out = stdout();
    let _ = execute!(
        out,
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = out.flush();
}

impl TerminalGuard {
    pub fn new() -> std::io::Result<TerminalGuard> {
        install_panic_hook();
        enter()?;
        let term = match Terminal::new(CrosstermBackend::new(stdout())) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e);
            }
        };
        Ok(TerminalGuard { term })
    }

    /// Ctrl-Z: give the shell a normal terminal, stop, and take it back
    /// when resumed (`fg`).
    pub fn suspend(&mut self) -> std::io::Result<()> {
        restore();
        // SAFETY: raise(2) on our own process; SIGTSTP's default action
        // stops us, and execution continues here after SIGCONT.
        unsafe {
            libc::raise(libc::SIGTSTP);
        }
        enter()?;
        self.term.clear()
    }
}

impl TerminalGuard {
    /// Give the terminal back for `f` (an editor), then take it again.
    pub fn outside<T>(&mut self, f: impl FnOnce() -> T) -> std::io::Result<T> {
        restore();
        let r = f();
        enter()?;
        self.term.clear()?;
        Ok(r)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Restore first, so the message lands on a sane screen.
            restore();
            previous(info);
        }));
    });
}
