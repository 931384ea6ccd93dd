//! Remote output → styled text for the output panes. Colours and text
//! attributes (SGR, `ESC [ ... m`) are kept; every other escape or control
//! sequence is dropped, so a host can tint its text but never move the
//! cursor, clear the screen, retitle the window or write the clipboard.
//!
//! The parser is stateful across chunks: a sequence split between two reads
//! is still recognised. Styles are our own small type so this module stays
//! free of any UI library.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Color {
    #[default]
    Default,
    /// 0-255; 0-15 are the classic and bright colours.
    Indexed(u8),
    Rgb(u8, u8, u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    pub fg: Color,
    pub bg: Color,
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
    pub reversed: bool,
}

/// A run of text in one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StyledSpan {
    pub text: String,
    pub style: Style,
}

/// One finished line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StyledLine {
    pub spans: Vec<StyledSpan>,
}

impl StyledLine {
    pub fn plain(&self) -> String {
        self.spans.iter().map(|s| s.text.as_str()).collect()
    }
    pub fn len_chars(&self) -> usize {
        self.spans.iter().map(|s| s.text.chars().count()).sum()
    }
    fn push(&mut self, c: char, style: Style) {
        match self.spans.last_mut() {
            Some(last) if last.style == style => last.text.push(c),
            _ => self.spans.push(StyledSpan {
                text: c.to_string(),
                style,
            }),
        }
    }
    /// Approximate heap use, for the scrollback's byte budget.
    pub fn weight(&self) -> usize {
        self.spans
            .iter()
            .map(|s| s.text.len() + std::mem::size_of::<StyledSpan>())
            .sum::<usize>()
            + std::mem::size_of::<StyledLine>()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EscapeState {
    Text,
    Esc,
    /// ESC + intermediates, waiting for the final byte.
    EscInter,
    Csi,
    /// OSC/DCS/SOS/PM/APC body, until BEL or ST.
    Str,
    StrEsc,
}

/// Streaming parser: feed bytes, get complete lines.
#[derive(Debug)]
pub struct AnsiParser {
    state: EscapeState,
    params: String,
    style: Style,
    line: StyledLine,
    line_chars: usize,
    max_line: usize,
    /// Bytes of an incomplete UTF-8 character carried to the next chunk.
    utf8_tail: Vec<u8>,
}

impl AnsiParser {
    /// `max_line`: characters after which a line is cut (long lines are
    /// wrapped on screen, but must not grow without bound in memory).
    pub fn new(max_line: usize) -> Self {
        AnsiParser {
            state: EscapeState::Text,
            params: String::new(),
            style: Style::default(),
            line: StyledLine::default(),
            line_chars: 0,
            max_line: max_line.max(1),
            utf8_tail: Vec::new(),
        }
    }

    /// Feed a chunk; complete lines are passed to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut impl FnMut(StyledLine)) {
        let mut buf;
        let bytes: &[u8] = if self.utf8_tail.is_empty() {
            chunk
        } else {
            buf = std::mem::take(&mut self.utf8_tail);
            buf.extend_from_slice(chunk);
            &buf
        };
        let (text, tail) = split_utf8(bytes);
        self.utf8_tail = tail.to_vec();
        // Fast path: runs of printable ASCII in the Text state are appended
        // whole; everything else goes through the state machine. Floods are
        // mostly plain text, so this is where the time goes.
        let mut rest = text;
        while !rest.is_empty() {
            if self.state == EscapeState::Text {
                let run = rest
                    .iter()
                    .position(|&b| !(0x20..0x7f).contains(&b))
                    .unwrap_or(rest.len());
                if run > 0 {
                    let chunk = std::str::from_utf8(&rest[..run]).unwrap_or_default();
                    self.text_run(chunk, out);
                    rest = &rest[run..];
                    continue;
                }
            }
            // Up to the next printable ASCII byte (or the end), decoded lossily:
            // invalid bytes become U+FFFD and are shown as such.
            let stop = rest
                .iter()
                .skip(1)
                .position(|&b| (0x20..0x7f).contains(&b))
                .map_or(rest.len(), |p| p + 1);
            for c in String::from_utf8_lossy(&rest[..stop]).chars() {
                self.char(c, out);
            }
            rest = &rest[stop..];
        }
    }

    /// Append printable ASCII, cutting lines at `max_line`.
    fn text_run(&mut self, mut chunk: &str, out: &mut impl FnMut(StyledLine)) {
        while !chunk.is_empty() {
            if self.line_chars >= self.max_line {
                self.emit(out);
            }
            let room = self.max_line - self.line_chars;
            let (now, later) = chunk.split_at(room.min(chunk.len()));
            match self.line.spans.last_mut() {
                Some(last) if last.style == self.style => last.text.push_str(now),
                _ => self.line.spans.push(StyledSpan {
                    text: now.to_string(),
                    style: self.style,
                }),
            }
            self.line_chars += now.len();
            chunk = later;
        }
    }

    /// The current unfinished line, if any (for showing a prompt-like tail).
    pub fn pending(&self) -> Option<&StyledLine> {
        (!self.line.spans.is_empty()).then_some(&self.line)
    }

    /// End of stream: flush a last line without newline.
    pub fn finish(&mut self, out: &mut impl FnMut(StyledLine)) {
        if !self.utf8_tail.is_empty() {
            let tail = std::mem::take(&mut self.utf8_tail);
            for c in String::from_utf8_lossy(&tail).chars() {
                self.char(c, out);
            }
        }
        if !self.line.spans.is_empty() {
            self.emit(out);
        }
        self.state = EscapeState::Text;
    }

    fn emit(&mut self, out: &mut impl FnMut(StyledLine)) {
        out(std::mem::take(&mut self.line));
        self.line_chars = 0;
    }

    fn char(&mut self, c: char, out: &mut impl FnMut(StyledLine)) {
        match self.state {
            EscapeState::Text => match c {
                '\n' => self.emit(out),
                '\x1b' => self.state = EscapeState::Esc,
                '\u{9b}' => self.begin_csi(),
                '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => {
                    self.state = EscapeState::Str
                }
                '\t' => {
                    // Expand tabs to the next multiple of 8 so panes align.
                    let n = 8 - self.line_chars % 8;
                    for _ in 0..n {
                        self.text(' ', out);
                    }
                }
                c if c.is_control() => {}
                // Shown as `\u{202e}`, not obeyed (see text::sanitize).
                c if super::sanitize::is_bidi_control(c) => {
                    for e in format!("\\u{{{:x}}}", c as u32).chars() {
                        self.text(e, out);
                    }
                }
                c => self.text(c, out),
            },
            EscapeState::Esc => match c {
                '[' => self.begin_csi(),
                ']' | 'P' | 'X' | '^' | '_' => self.state = EscapeState::Str,
                c if ('\x20'..='\x2f').contains(&c) => self.state = EscapeState::EscInter,
                _ => self.state = EscapeState::Text,
            },
            EscapeState::EscInter => {
                if !('\x20'..='\x2f').contains(&c) {
                    self.state = EscapeState::Text;
                }
            }
            EscapeState::Csi => {
                if ('\x40'..='\x7e').contains(&c) {
                    if c == 'm' {
                        self.apply_sgr();
                    }
                    self.state = EscapeState::Text;
                } else if c.is_control() || self.params.len() > 64 {
                    // Aborted or absurd sequence: drop it.
                    self.state = EscapeState::Text;
                } else {
                    self.params.push(c);
                }
            }
            EscapeState::Str => match c {
                '\x07' | '\u{9c}' => self.state = EscapeState::Text,
                '\x1b' => self.state = EscapeState::StrEsc,
                _ => {}
            },
            EscapeState::StrEsc => {
                self.state = if c == '\\' {
                    EscapeState::Text
                } else {
                    EscapeState::Str
                };
            }
        }
    }

    fn text(&mut self, c: char, out: &mut impl FnMut(StyledLine)) {
        if self.line_chars >= self.max_line {
            self.emit(out);
        }
        self.line.push(c, self.style);
        self.line_chars += 1;
    }

    fn begin_csi(&mut self) {
        self.params.clear();
        self.state = EscapeState::Csi;
    }

    fn apply_sgr(&mut self) {
        // Private or intermediate forms (`ESC [ ? ... m`, `ESC [ > ... m`) are not SGR.
        if self.params.starts_with(['?', '>', '<', '=']) {
            return;
        }
        let params: Vec<u16> = if self.params.is_empty() {
            vec![0]
        } else {
            self.params
                .split([';', ':'])
                .map(|p| p.parse::<u16>().unwrap_or(0))
                .collect()
        };
        let s = &mut self.style;
        let mut i = 0;
        while i < params.len() {
            match params[i] {
                0 => *s = Style::default(),
                1 => s.bold = true,
                2 => s.dim = true,
                3 => s.italic = true,
                4 => s.underline = true,
                7 => s.reversed = true,
                22 => {
                    s.bold = false;
                    s.dim = false;
                }
                23 => s.italic = false,
                24 => s.underline = false,
                27 => s.reversed = false,
                n @ 30..=37 => s.fg = Color::Indexed((n - 30) as u8),
                39 => s.fg = Color::Default,
                n @ 40..=47 => s.bg = Color::Indexed((n - 40) as u8),
                49 => s.bg = Color::Default,
                n @ 90..=97 => s.fg = Color::Indexed((n - 90 + 8) as u8),
                n @ 100..=107 => s.bg = Color::Indexed((n - 100 + 8) as u8),
                n @ (38 | 48) => {
                    let color = match params.get(i + 1) {
                        Some(5) => {
                            i += 2;
                            params.get(i).map(|&v| Color::Indexed(v.min(255) as u8))
                        }
                        Some(2) => {
                            i += 4;
                            match (params.get(i - 2), params.get(i - 1), params.get(i)) {
                                (Some(&r), Some(&g), Some(&b)) => Some(Color::Rgb(
                                    r.min(255) as u8,
                                    g.min(255) as u8,
                                    b.min(255) as u8,
                                )),
                                _ => None,
                            }
                        }
                        _ => None,
                    };
                    if let Some(color) = color {
                        if n == 38 {
                            s.fg = color;
                        } else {
                            s.bg = color;
                        }
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
}

/// Split off an incomplete UTF-8 sequence at the end, to finish it with the
/// next chunk. Invalid bytes are not held back (they decode as U+FFFD).
pub fn split_utf8(b: &[u8]) -> (&[u8], &[u8]) {
    let n = b.len();
    for back in 1..=3.min(n) {
        let byte = b[n - back];
        if byte & 0xC0 == 0x80 {
            continue; // continuation byte, keep looking for the lead
        }
        let need = match byte {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => return (b, &[]),
        };
        return if need > back {
            b.split_at(n - back)
        } else {
            (b, &[])
        };
    }
    (b, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(chunks: &[&[u8]]) -> Vec<StyledLine> {
        let mut p = AnsiParser::new(1000);
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c, &mut |l| out.push(l));
        }
        p.finish(&mut |l| out.push(l));
        out
    }

    fn plain(chunks: &[&[u8]]) -> Vec<String> {
        parse(chunks).iter().map(StyledLine::plain).collect()
    }

    #[test]
    fn keeps_sgr_colours() {
        let l = parse(&[b"a\x1b[1;31mred\x1b[0m b\n"]);
        assert_eq!(l[0].spans.len(), 3);
        assert_eq!(l[0].spans[1].text, "red");
        assert_eq!(l[0].spans[1].style.fg, Color::Indexed(1));
        assert!(l[0].spans[1].style.bold);
        assert_eq!(l[0].spans[2].style, Style::default());
        let l = parse(&[b"\x1b[38;5;208mx\x1b[48;2;1;2;3my\n"]);
        assert_eq!(l[0].spans[0].style.fg, Color::Indexed(208));
        assert_eq!(l[0].spans[1].style.bg, Color::Rgb(1, 2, 3));
    }

    #[test]
    fn drops_every_other_sequence() {
        assert_eq!(
            plain(&[b"a\x1b[2Jb\x1b[Hc\x1b]52;c;ZXZpbA==\x07d\x1b]0;t\x1b\\e\x1bPq\x1b\\f\x1b_x\x1b\\g\x1b(Bh\x1bci\n"]),
            ["abcdefghi"]
        );
        assert_eq!(
            plain(&["a\u{9b}2Jb\u{9d}52;c;x\u{9c}c\u{85}d\n".as_bytes()]),
            ["abcd"]
        );
        assert_eq!(plain(&[b"a\rb\x08c\x00d\x7f\n"]), ["abcd"]);
    }

    #[test]
    fn sequences_split_across_chunks_are_still_caught() {
        assert_eq!(plain(&[b"a\x1b", b"]52;c;", b"QUFB", b"\x07b\n"]), ["ab"]);
        assert_eq!(plain(&[b"a\x1b[3", b"1mb\n"]), ["ab"]);
        let l = parse(&[b"a\x1b[3", b"1mb\n"]);
        assert_eq!(l[0].spans[1].style.fg, Color::Indexed(1));
    }

    #[test]
    fn utf8_split_across_chunks_and_invalid_bytes() {
        let s = "é✓".as_bytes();
        assert_eq!(plain(&[&s[..1], &s[1..3], &s[3..], b"\n"]), ["é✓"]);
        assert_eq!(plain(&[b"a\xffb\n"]), ["a\u{fffd}b"]);
    }

    #[test]
    fn long_lines_are_cut_and_tabs_expand() {
        let mut p = AnsiParser::new(4);
        let mut out = Vec::new();
        p.feed(b"abcdefghij\n", &mut |l| out.push(l.plain()));
        assert_eq!(out, ["abcd", "efgh", "ij"]);
        assert_eq!(plain(&[b"a\tb\n"]), ["a       b"]);
    }

    #[test]
    fn bidi_overrides_are_shown_not_obeyed() {
        assert_eq!(plain(&["a\u{202e}b".as_bytes()]), ["a\\u{202e}b"]);
    }

    #[test]
    fn private_csi_m_is_not_sgr() {
        let l = parse(&[b"\x1b[>4;2mx\n"]);
        assert_eq!(l[0].spans[0].style, Style::default());
    }
}
