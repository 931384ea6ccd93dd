//! Colours and glyphs shared by the panes, and the mapping from remote
//! output styles to ratatui's.

use ratatui::style::{Color, Modifier, Style};

use crate::text::ansi;

pub const ACCENT: Color = Color::Cyan;
pub const OK: Color = Color::Green;
pub const BAD: Color = Color::Red;
pub const WARN: Color = Color::Yellow;
pub const MUTED: Color = Color::DarkGray;
/// stderr lines are tinted so they stand apart from stdout.
pub const STDERR: Color = Color::LightRed;

pub fn border(focused: bool) -> Style {
    if focused {
        Style::new().fg(ACCENT)
    } else {
        Style::new().fg(MUTED)
    }
}

pub fn from_ansi(s: &ansi::Style, stderr: bool) -> Style {
    let mut st = Style::new();
    st = match s.fg {
        ansi::Color::Default if stderr => st.fg(STDERR),
        ansi::Color::Default => st,
        c => st.fg(color(c)),
    };
    if s.bg != ansi::Color::Default {
        st = st.bg(color(s.bg));
    }
    let mut m = Modifier::empty();
    for (on, bit) in [
        (s.bold, Modifier::BOLD),
        (s.dim, Modifier::DIM),
        (s.italic, Modifier::ITALIC),
        (s.underline, Modifier::UNDERLINED),
        (s.reversed, Modifier::REVERSED),
    ] {
        if on {
            m |= bit;
        }
    }
    st.add_modifier(m)
}

fn color(c: ansi::Color) -> Color {
    match c {
        ansi::Color::Default => Color::Reset,
        ansi::Color::Indexed(i) => Color::Indexed(i),
        ansi::Color::Rgb(r, g, b) => Color::Rgb(r, g, b),
    }
}
