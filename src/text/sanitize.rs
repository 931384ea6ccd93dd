//! Making remote output safe to show on the user's terminal.
//!
//! A hostile or broken host can print escape sequences that move the cursor,
//! clear the screen, retitle the window or write the clipboard (OSC 52).
//! Everything that is not printable text or a tab is removed here, so only
//! what we choose to draw ever reaches the terminal. Bidirectional
//! overrides and isolates (U+202A-U+202E, U+2066-U+2069), which reorder
//! what is drawn after them ("Trojan Source"), are shown escaped as
//! `\u{202e}`.

/// A character that reorders the text after it when drawn.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_bidi_escaped(out: &mut String, c: char) {
    out.push_str(&format!("\\u{{{:x}}}", c as u32));
}

/// [`sanitize_line`] for text that is already a string (remote file
/// names, error messages quoting them).
pub fn clean(text: &str) -> String {
    sanitize_line(text.as_bytes())
}

/// Longest server-chosen text shown: enough for any real message, too
/// short to flood a terminal.
pub const MAX_SERVER_TEXT: usize = 200;

/// Text a server chose (an error message, a signal name, a prompt), made
/// safe to show: no control or escape sequence, bidi overrides visible,
/// and short.
pub fn server_text(s: &str) -> String {
    let cleaned = clean(s);
    match cleaned.char_indices().nth(MAX_SERVER_TEXT) {
        Some((at, _)) => format!("{}…", &cleaned[..at]),
        None => cleaned,
    }
}

/// A file name as `ls -b` would show it: controls become visible escapes
/// (`\n`, `\e`, `\x07`), so a name with a newline or an escape sequence
/// is both harmless and tellable apart from its neighbours.
pub fn visible_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x1b' => out.push_str("\\e"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if is_bidi_control(c) => push_bidi_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// A name that was not valid UTF-8 where it lives: SFTP (through
/// russh-sftp) and the local listing both hand it over with U+FFFD in
/// place of the bad bytes, so it cannot be addressed by that name.
pub fn is_mangled_name(name: &str) -> bool {
    name.contains('\u{fffd}')
}

/// Strip every control and escape sequence from one line of remote output.
/// Invalid UTF-8 is replaced (U+FFFD), never passed through.
pub fn sanitize_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\t' => out.push('\t'),
            '\x1b' => match chars.next() {
                Some('[') => skip_csi(&mut chars),
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut chars),
                // ESC + intermediates + final (e.g. charset selection `ESC ( B`).
                Some(c) if ('\x20'..='\x2f').contains(&c) => {
                    for n in chars.by_ref() {
                        if !('\x20'..='\x2f').contains(&n) {
                            break;
                        }
                    }
                }
                // Any other two-character escape (ESC c, ESC 7, ...).
                _ => {}
            },
            // C1 forms of CSI, and of the string controls DCS/SOS/OSC/PM/APC.
            '\u{9b}' => skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            c if c.is_control() => {}
            c if is_bidi_control(c) => push_bidi_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// CSI: parameter and intermediate bytes, then one final byte in 0x40..=0x7e.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\x40'..='\x7e').contains(&c) {
            return;
        }
        // A control inside a CSI aborts it in real terminals; stop here too.
        if c.is_control() {
            return;
        }
    }
}

/// OSC/DCS/SOS/PM/APC run until BEL, ESC \ or the C1 string terminator.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\x07' | '\u{9c}' => return,
            '\x1b' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_plain_text_and_tabs() {
        assert_eq!(sanitize_line(b"hello\tworld"), "hello\tworld");
        assert_eq!(sanitize_line("héllo ✓".as_bytes()), "héllo ✓");
    }

    #[test]
    fn strips_csi_including_screen_clear_and_colors() {
        assert_eq!(sanitize_line(b"a\x1b[2Jb\x1b[1;31mc\x1b[0m"), "abc");
        assert_eq!(sanitize_line(b"\x1b[?1049h\x1b[Hx"), "x");
    }

    #[test]
    fn strips_osc52_clipboard_and_title_writes() {
        assert_eq!(sanitize_line(b"a\x1b]52;c;ZXZpbA==\x07b"), "ab");
        assert_eq!(sanitize_line(b"a\x1b]0;title\x1b\\b"), "ab");
    }

    #[test]
    fn strips_dcs_apc_and_c1_forms() {
        assert_eq!(sanitize_line(b"a\x1bPq#0;1\x1b\\b"), "ab");
        assert_eq!(sanitize_line(b"a\x1b_apc\x1b\\b"), "ab");
        assert_eq!(
            sanitize_line("a\u{9b}2Jb\u{9d}52;c;x\u{9c}c".as_bytes()),
            "abc"
        );
        assert_eq!(sanitize_line("a\u{85}b".as_bytes()), "ab");
    }

    #[test]
    fn strips_c0_controls_and_charset_escapes() {
        assert_eq!(sanitize_line(b"a\rb\x08c\x07d\x00e\x7f"), "abcde");
        assert_eq!(sanitize_line(b"\x1b(Bx\x1bcy"), "xy");
    }

    #[test]
    fn invalid_utf8_is_replaced_not_passed() {
        assert_eq!(sanitize_line(b"a\xffb"), "a\u{fffd}b");
        // A raw 0x9b byte is invalid UTF-8, so it cannot act as a C1 CSI.
        assert_eq!(sanitize_line(b"a\x9b2Jb"), "a\u{fffd}2Jb");
    }

    #[test]
    fn names_show_their_controls_visibly() {
        assert_eq!(visible_name("a\nb"), "a\\nb");
        assert_eq!(visible_name("\x1b[31mred"), "\\e[31mred");
        assert_eq!(visible_name("bell\x07\u{9b}"), "bell\\x07\\x9b");
        assert_eq!(visible_name("plain ✓.txt"), "plain ✓.txt");
        assert_eq!(visible_name("a\u{202e}txt.exe"), "a\\u{202e}txt.exe");
        assert_eq!(
            sanitize_line("x\u{2066}y\u{2069}".as_bytes()),
            "x\\u{2066}y\\u{2069}"
        );
        assert!(is_mangled_name("caf\u{fffd}"));
        assert!(!is_mangled_name("café"));
    }

    #[test]
    fn unterminated_sequences_swallow_the_rest_safely() {
        assert_eq!(sanitize_line(b"ok\x1b]52;c;AAAA"), "ok");
        assert_eq!(sanitize_line(b"ok\x1b["), "ok");
        assert_eq!(sanitize_line(b"ok\x1b"), "ok");
    }

    #[test]
    fn server_text_is_clean_short_and_shows_bidi_overrides() {
        let t = server_text("bad\x1b[2J\x1b]52;c;eA==\x07 \u{202e}txt.exe");
        assert!(!t.contains('\x1b') && !t.contains('\u{202e}'), "{t:?}");
        assert!(t.contains("\\u{202e}"), "{t:?}");
        let long = "x".repeat(5000);
        assert!(server_text(&long).chars().count() <= MAX_SERVER_TEXT + 1);
    }
}
