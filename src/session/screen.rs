//! One attached client's screen, rendered on the server: the shared app
//! state drawn at that client's size and turned into the terminal bytes
//! that bring its screen from what it last received to now. Each client
//! has its own size, so nobody is shrunk to the smallest (as tmux does).
//!
//! A client that is behind is simply not drawn for (see `server`): its
//! screen keeps the last frame it was sent, so the next frame it gets is
//! whole relative to what it shows, never a diff against a frame it
//! missed.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

use crate::app::AppState;

/// Where the backend writes a frame's bytes, for `frame` to take.
#[derive(Clone, Default)]
struct FrameBytes(Arc<Mutex<Vec<u8>>>);

impl Write for FrameBytes {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut v = self
            .0
            .lock()
            .map_err(|_| io::Error::other("frame buffer poisoned"))?;
        v.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl FrameBytes {
    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

pub struct ClientScreen {
    term: Terminal<CrosstermBackend<FrameBytes>>,
    out: FrameBytes,
    size: (u16, u16),
}

impl ClientScreen {
    /// A screen of `size` whose first frame paints everything.
    pub fn new(size: (u16, u16)) -> io::Result<ClientScreen> {
        let out = FrameBytes::default();
        let area = Rect::new(0, 0, size.0, size.1);
        let mut out_for_clear = out.clone();
        let term = Terminal::with_options(
            CrosstermBackend::new(out.clone()),
            TerminalOptions {
                viewport: Viewport::Fixed(area),
            },
        )?;
        // The first frame starts from a blank screen, as the renderer's
        // empty last buffer assumes. (`Terminal::clear` would ask the
        // backend for the cursor, which is the server's terminal, if any.)
        out_for_clear.write_all(b"\x1b[H\x1b[2J")?;
        Ok(ClientScreen { term, out, size })
    }

    pub fn size(&self) -> (u16, u16) {
        self.size
    }

    /// The client's terminal changed size: the next frame repaints it all.
    pub fn resize(&mut self, size: (u16, u16)) -> io::Result<()> {
        if size != self.size {
            *self = ClientScreen::new(size)?;
        }
        Ok(())
    }

    /// The client's screen was disturbed (suspended, or lent to an
    /// editor): the next frame paints it all.
    pub fn repaint(&mut self) -> io::Result<()> {
        *self = ClientScreen::new(self.size)?;
        Ok(())
    }

    /// The bytes that bring the client's screen to `state`.
    pub fn frame(&mut self, state: &AppState) -> io::Result<Vec<u8>> {
        self.term.draw(|f| crate::ui::render(f, state))?;
        Ok(self.out.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use std::collections::BTreeMap;

    fn state() -> AppState {
        let rows = ["web1", "web2", "db1"]
            .iter()
            .map(|n| (n.to_string(), Vec::new()))
            .collect();
        AppState::new(rows, BTreeMap::new(), 100)
    }

    /// What a terminal shows after these frames.
    fn shown(size: (u16, u16), frames: &[Vec<u8>]) -> String {
        let mut vt = vt100::Parser::new(size.1, size.0, 0);
        frames.iter().for_each(|f| vt.process(f));
        vt.screen().contents()
    }

    /// What ui::render draws at `size`, as text.
    fn expected(s: &AppState, size: (u16, u16)) -> String {
        let mut t =
            Terminal::new(TestBackend::new(size.0, size.1)).unwrap_or_else(|e| panic!("{e}"));
        t.draw(|f| crate::ui::render(f, s))
            .unwrap_or_else(|e| panic!("{e}"));
        let buf = t.backend().buffer();
        (0..size.1)
            .map(|y| {
                let line: String = (0..size.0)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect();
                line.trim_end().to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
            .trim_end()
            .to_string()
    }

    #[test]
    fn two_clients_of_different_sizes_each_see_the_whole_screen() {
        let mut s = state();
        for size in [(80, 24), (132, 40)] {
            s.size = size;
            let mut screen = ClientScreen::new(size).unwrap_or_else(|e| panic!("{e}"));
            let first = screen.frame(&s).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(shown(size, &[first]).trim_end(), expected(&s, size));
        }
    }

    #[test]
    fn later_frames_are_differences_that_add_up_to_the_screen() {
        let mut s = state();
        s.size = (80, 24);
        let mut screen = ClientScreen::new((80, 24)).unwrap_or_else(|e| panic!("{e}"));
        let first = screen.frame(&s).unwrap_or_else(|e| panic!("{e}"));
        s.hosts[1].selected = true;
        let second = screen.frame(&s).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            second.len() < first.len() / 2,
            "a change is sent, not a screen"
        );
        assert_eq!(
            shown((80, 24), &[first, second]).trim_end(),
            expected(&s, (80, 24))
        );
        // Nothing changed: nothing but the cursor's keeping to send.
        let idle = screen.frame(&s).unwrap_or_else(|e| panic!("{e}"));
        assert!(idle.len() < 64, "{} bytes for no change", idle.len());
    }
}
