//! One key as the keymap names it: a code and Ctrl/Alt/Shift. Parsed from
//! config text ("Ctrl-R", "Shift-Tab", "PgDn", "?") and shown the same way
//! in help and hints, so what the user writes is what they read.

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

const NAMED: &[(&str, KeyCode)] = &[
    ("Enter", KeyCode::Enter),
    ("Esc", KeyCode::Esc),
    ("Tab", KeyCode::Tab),
    ("Backspace", KeyCode::Backspace),
    ("Delete", KeyCode::Delete),
    ("Insert", KeyCode::Insert),
    ("Home", KeyCode::Home),
    ("End", KeyCode::End),
    ("PgUp", KeyCode::PageUp),
    ("PgDn", KeyCode::PageDown),
    ("Up", KeyCode::Up),
    ("Down", KeyCode::Down),
    ("Left", KeyCode::Left),
    ("Right", KeyCode::Right),
    ("Space", KeyCode::Char(' ')),
];

/// Other spellings people write in configs (helix, yazi, vim).
const ALIASES: &[(&str, &str)] = &[
    ("return", "Enter"),
    ("ret", "Enter"),
    ("cr", "Enter"),
    ("escape", "Esc"),
    ("del", "Delete"),
    ("ins", "Insert"),
    ("pageup", "PgUp"),
    ("pagedown", "PgDn"),
    ("bs", "Backspace"),
];

impl Key {
    pub const fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        Key { code, mods }
    }

    /// A key that types a character (no Ctrl or Alt).
    pub fn is_text(&self) -> bool {
        matches!(self.code, KeyCode::Char(_))
            && !self
                .mods
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    }

    /// The key as pressed, in the same normal form `parse` gives: Shift
    /// is part of a character ('O', '?'), Ctrl letters are lower case, and
    /// Shift-Tab is BackTab whatever the terminal reported with it.
    pub fn from_event(k: &KeyEvent) -> Key {
        let mut mods =
            k.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match k.code {
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                if mods.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, mods }
    }

    /// "Ctrl-R", "Alt-Enter", "Shift-Tab", "F5", "PgDn", "Space", "?".
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err("an empty key name".into());
        }
        let mut mods = KeyModifiers::NONE;
        while let Some((head, tail)) = rest.split_once('-') {
            if tail.is_empty() {
                break; // "-" itself, or "Ctrl--"
            }
            let m = match head.to_ascii_lowercase().as_str() {
                "ctrl" | "c" => KeyModifiers::CONTROL,
                "alt" | "a" | "m" | "meta" => KeyModifiers::ALT,
                "shift" | "s" => KeyModifiers::SHIFT,
                _ => break,
            };
            mods |= m;
            rest = tail;
        }
        let lower = rest.to_ascii_lowercase();
        let name = ALIASES
            .iter()
            .find(|(a, _)| *a == lower)
            .map_or(rest, |(_, n)| *n);
        let mut chars = name.chars();
        let code = if let (Some(c), None) = (chars.next(), chars.next()) {
            KeyCode::Char(c)
        } else if let Some((_, code)) = NAMED.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            *code
        } else if let Some(n) = lower
            .strip_prefix('f')
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| (1..=12).contains(n))
        {
            KeyCode::F(n)
        } else {
            return Err(format!(
                "{text:?} is not a key: write one character, or F1-F12, {}, with Ctrl-, Alt- or Shift- before it",
                NAMED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ));
        };
        // Shift-Tab is BackTab and Shift-a is 'A', as terminals send them.
        let code = match code {
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::Char(c)
                if mods.contains(KeyModifiers::SHIFT) && !c.is_ascii_alphabetic() && c != ' ' =>
            {
                return Err(format!(
                    "{text:?}: Shift with {c:?} is another character on each keyboard; write that character itself"
                ));
            }
            KeyCode::Char(c) if mods.contains(KeyModifiers::SHIFT) && c.is_ascii_alphabetic() => {
                mods.remove(KeyModifiers::SHIFT);
                if mods.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c.to_ascii_uppercase())
                }
            }
            other => other,
        };
        Ok(Key::from_event(&KeyEvent::new(code, mods)))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::F(n) => write!(f, "F{n}"),
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) if self.mods.contains(KeyModifiers::CONTROL) => {
                write!(f, "{}", c.to_ascii_uppercase())
            }
            code => match NAMED.iter().find(|(_, c)| *c == code) {
                Some((name, _)) => f.write_str(name),
                None => match code {
                    KeyCode::Char(c) => write!(f, "{c}"),
                    other => write!(f, "{other:?}"),
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode, mods: KeyModifiers) -> Key {
        Key::new(code, mods)
    }

    #[test]
    fn parses_what_people_write() {
        let ctrl = KeyModifiers::CONTROL;
        let none = KeyModifiers::NONE;
        assert_eq!(Key::parse("Ctrl-R"), Ok(k(KeyCode::Char('r'), ctrl)));
        assert_eq!(Key::parse("ctrl-r"), Ok(k(KeyCode::Char('r'), ctrl)));
        assert_eq!(Key::parse("C-r"), Ok(k(KeyCode::Char('r'), ctrl)));
        assert_eq!(Key::parse("Shift-Tab"), Ok(k(KeyCode::BackTab, none)));
        assert_eq!(Key::parse("S-a"), Ok(k(KeyCode::Char('A'), none)));
        assert_eq!(Key::parse("?"), Ok(k(KeyCode::Char('?'), none)));
        assert_eq!(Key::parse("-"), Ok(k(KeyCode::Char('-'), none)));
        assert_eq!(
            Key::parse("Alt--"),
            Ok(k(KeyCode::Char('-'), KeyModifiers::ALT))
        );
        assert_eq!(Key::parse("pagedown"), Ok(k(KeyCode::PageDown, none)));
        assert_eq!(Key::parse("F5"), Ok(k(KeyCode::F(5), none)));
        assert_eq!(Key::parse("space"), Ok(k(KeyCode::Char(' '), none)));
        assert_eq!(
            Key::parse("Alt-Enter"),
            Ok(k(KeyCode::Enter, KeyModifiers::ALT))
        );
        assert!(Key::parse("F13").is_err());
        assert!(Key::parse("Shift-1").is_err(), "terminals send '!' for it");
        assert_eq!(
            Key::parse("Ctrl-Space").map(|k| k.to_string()),
            Ok("Ctrl-Space".to_string())
        );
        assert!(Key::parse("Hyper-x").unwrap_err().contains("not a key"));
        assert!(Key::parse("").is_err());
    }

    #[test]
    fn shows_keys_the_way_they_are_written() {
        for text in [
            "Ctrl-R",
            "Shift-Tab",
            "PgDn",
            "F5",
            "Space",
            "?",
            "O",
            "Alt-Enter",
            "Esc",
        ] {
            let key = Key::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(key.to_string(), text);
        }
    }

    /// Terminals report Shift with capitals and with BackTab; the map must
    /// not care.
    #[test]
    fn events_normalise_like_parsed_keys() {
        let shift = KeyModifiers::SHIFT;
        assert_eq!(
            Key::from_event(&KeyEvent::new(KeyCode::Char('O'), shift)),
            Key::parse("O").unwrap_or_else(|e| panic!("{e}"))
        );
        assert_eq!(
            Key::from_event(&KeyEvent::new(KeyCode::BackTab, shift)),
            Key::parse("Shift-Tab").unwrap_or_else(|e| panic!("{e}"))
        );
        assert_eq!(
            Key::from_event(&KeyEvent::new(
                KeyCode::Char('R'),
                KeyModifiers::CONTROL | shift
            )),
            Key::parse("Ctrl-r").unwrap_or_else(|e| panic!("{e}"))
        );
    }
}
