//! Keys and pastes as the bytes an xterm would send, so every program on
//! the remote side (shells, vim, less, top, readline) understands them.
//!
//! Two screen modes change the encoding, and each pane has its own: the
//! cursor keys' "application" mode (vim and less switch it on) and
//! bracketed paste (shells switch it on at their prompt).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// xterm's modifier parameter: 1 + shift + 2·alt + 4·ctrl.
fn modifier_param(m: KeyModifiers) -> u8 {
    1 + u8::from(m.contains(KeyModifiers::SHIFT))
        + 2 * u8::from(m.contains(KeyModifiers::ALT))
        + 4 * u8::from(m.contains(KeyModifiers::CONTROL))
}

/// `CSI 1;m X` with modifiers, else `CSI X` (or `SS3 X` in application mode).
fn cursor_key(letter: char, m: KeyModifiers, app: bool) -> Vec<u8> {
    let p = modifier_param(m);
    if p > 1 {
        format!("\x1b[1;{p}{letter}").into_bytes()
    } else if app {
        format!("\x1bO{letter}").into_bytes()
    } else {
        format!("\x1b[{letter}").into_bytes()
    }
}

/// `CSI n ~`, or `CSI n;m ~` with modifiers.
fn tilde_key(n: u8, m: KeyModifiers) -> Vec<u8> {
    let p = modifier_param(m);
    if p > 1 {
        format!("\x1b[{n};{p}~").into_bytes()
    } else {
        format!("\x1b[{n}~").into_bytes()
    }
}

fn function_key(n: u8, m: KeyModifiers) -> Option<Vec<u8>> {
    Some(match n {
        // F1-F4 are SS3 P..S, or CSI 1;m P..S with modifiers.
        1..=4 => {
            let letter = char::from(b'P' + (n - 1));
            let p = modifier_param(m);
            if p > 1 {
                format!("\x1b[1;{p}{letter}").into_bytes()
            } else {
                format!("\x1bO{letter}").into_bytes()
            }
        }
        5 => tilde_key(15, m),
        6..=10 => tilde_key(n + 11, m),
        11 | 12 => tilde_key(n + 12, m),
        _ => return None,
    })
}

/// Control-key byte for `c`, as a terminal sends it.
fn ctrl_byte(c: char) -> Option<u8> {
    match c {
        'a'..='z' => Some(c as u8 - b'a' + 1),
        'A'..='Z' => Some(c as u8 - b'A' + 1),
        '@' | ' ' | '2' => Some(0),
        '[' | '3' => Some(0x1b),
        '\\' | '4' => Some(0x1c),
        ']' | '5' => Some(0x1d),
        '^' | '6' => Some(0x1e),
        '_' | '-' | '7' => Some(0x1f),
        '?' | '8' => Some(0x7f),
        _ => None,
    }
}

/// The bytes for a key press; `None` for keys a terminal sends nothing for.
pub fn key_bytes(k: &KeyEvent, app_cursor: bool) -> Option<Vec<u8>> {
    let m = k.modifiers;
    let alt = m.contains(KeyModifiers::ALT);
    let ctrl = m.contains(KeyModifiers::CONTROL);
    let mut out = match k.code {
        KeyCode::Char(c) => {
            let mut b = Vec::new();
            if alt {
                b.push(0x1b);
            }
            match (ctrl, ctrl_byte(c)) {
                (true, Some(byte)) => b.push(byte),
                _ => {
                    let mut buf = [0u8; 4];
                    b.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
            return Some(b);
        }
        KeyCode::Enter => b"\r".to_vec(),
        KeyCode::Tab => b"\t".to_vec(),
        KeyCode::BackTab => return Some(b"\x1b[Z".to_vec()),
        KeyCode::Backspace if ctrl => vec![0x08],
        KeyCode::Backspace => vec![0x7f],
        KeyCode::Esc => vec![0x1b],
        KeyCode::Up => return Some(cursor_key('A', m, app_cursor)),
        KeyCode::Down => return Some(cursor_key('B', m, app_cursor)),
        KeyCode::Right => return Some(cursor_key('C', m, app_cursor)),
        KeyCode::Left => return Some(cursor_key('D', m, app_cursor)),
        KeyCode::Home => return Some(cursor_key('H', m, app_cursor)),
        KeyCode::End => return Some(cursor_key('F', m, app_cursor)),
        KeyCode::Insert => return Some(tilde_key(2, m)),
        KeyCode::Delete => return Some(tilde_key(3, m)),
        KeyCode::PageUp => return Some(tilde_key(5, m)),
        KeyCode::PageDown => return Some(tilde_key(6, m)),
        KeyCode::F(n) => return function_key(n, m),
        _ => return None,
    };
    // Alt+Enter, Alt+Backspace...: ESC prefix, as xterm's metaSendsEscape.
    if alt {
        out.insert(0, 0x1b);
    }
    Some(out)
}

/// Pasted text as a terminal sends it: line ends become CR (what the Enter
/// key sends), wrapped in bracket markers when the program asked for them.
/// An end marker inside the text is removed, so pasted text can never end
/// the paste early and have the rest run as typed commands.
pub fn paste_bytes(text: &str, bracketed: bool) -> Vec<u8> {
    let body = text
        .replace("\r\n", "\r")
        .replace('\n', "\r")
        .replace("\x1b[201~", "");
    if bracketed {
        format!("\x1b[200~{body}\x1b[201~").into_bytes()
    } else {
        body.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode, m: KeyModifiers) -> Vec<u8> {
        key_bytes(&KeyEvent::new(code, m), false).unwrap()
    }

    #[test]
    fn characters_and_control_keys() {
        let none = KeyModifiers::NONE;
        assert_eq!(k(KeyCode::Char('a'), none), b"a");
        assert_eq!(k(KeyCode::Char('é'), none), "é".as_bytes());
        assert_eq!(k(KeyCode::Char('c'), KeyModifiers::CONTROL), [3]);
        assert_eq!(k(KeyCode::Char('d'), KeyModifiers::CONTROL), [4]);
        assert_eq!(k(KeyCode::Char(']'), KeyModifiers::CONTROL), [0x1d]);
        assert_eq!(k(KeyCode::Char(' '), KeyModifiers::CONTROL), [0]);
        assert_eq!(k(KeyCode::Char('b'), KeyModifiers::ALT), b"\x1bb");
        assert_eq!(
            k(
                KeyCode::Char('x'),
                KeyModifiers::ALT | KeyModifiers::CONTROL
            ),
            [0x1b, 0x18]
        );
        assert_eq!(k(KeyCode::Enter, none), b"\r");
        assert_eq!(k(KeyCode::Backspace, none), [0x7f]);
        assert_eq!(k(KeyCode::Backspace, KeyModifiers::ALT), [0x1b, 0x7f]);
        assert_eq!(k(KeyCode::Tab, none), b"\t");
        assert_eq!(k(KeyCode::BackTab, KeyModifiers::SHIFT), b"\x1b[Z");
        assert_eq!(k(KeyCode::Esc, none), b"\x1b");
    }

    #[test]
    fn cursor_and_editing_keys_follow_xterm() {
        let none = KeyModifiers::NONE;
        assert_eq!(k(KeyCode::Up, none), b"\x1b[A");
        assert_eq!(
            key_bytes(&KeyEvent::new(KeyCode::Up, none), true).unwrap(),
            b"\x1bOA"
        );
        assert_eq!(k(KeyCode::Left, KeyModifiers::CONTROL), b"\x1b[1;5D");
        assert_eq!(k(KeyCode::Right, KeyModifiers::SHIFT), b"\x1b[1;2C");
        assert_eq!(k(KeyCode::Home, none), b"\x1b[H");
        assert_eq!(k(KeyCode::End, none), b"\x1b[F");
        assert_eq!(k(KeyCode::Delete, none), b"\x1b[3~");
        assert_eq!(k(KeyCode::PageUp, KeyModifiers::ALT), b"\x1b[5;3~");
        assert_eq!(k(KeyCode::F(1), none), b"\x1bOP");
        assert_eq!(k(KeyCode::F(4), KeyModifiers::SHIFT), b"\x1b[1;2S");
        assert_eq!(k(KeyCode::F(5), none), b"\x1b[15~");
        assert_eq!(k(KeyCode::F(10), none), b"\x1b[21~");
        assert_eq!(k(KeyCode::F(12), KeyModifiers::CONTROL), b"\x1b[24;5~");
        assert!(key_bytes(&KeyEvent::new(KeyCode::F(20), none), false).is_none());
    }

    #[test]
    fn pastes_use_cr_and_brackets_that_cannot_be_closed_early() {
        assert_eq!(paste_bytes("a\nb\r\nc", false), b"a\rb\rc");
        assert_eq!(
            paste_bytes("x\x1b[201~rm -rf /\n", true),
            b"\x1b[200~xrm -rf /\r\x1b[201~"
        );
    }
}
