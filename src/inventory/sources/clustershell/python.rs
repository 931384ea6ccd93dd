//! Python's own readings of text that groups.conf relies on, so paths
//! and commands come out as ClusterShell makes them: `string.Template`
//! substitution, `os.path.normpath` and `shlex.split`.

use std::path::PathBuf;

use crate::inventory::sources::{Origin, SourceError};

/// Python's `string.Template.safe_substitute`: `$name` and `${name}`
/// replaced when `vars` has the name, left as written otherwise; `$$`
/// is `$`.
pub fn substitute(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
            continue;
        }
        let (name, braced) = match after.strip_prefix('{') {
            Some(r) => match r.find('}') {
                Some(end) => (&r[..end], true),
                None => ("", true),
            },
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], false)
            }
        };
        let is_ident = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        match vars.iter().find(|(k, _)| *k == name) {
            Some((_, v)) if is_ident => {
                out.push_str(v);
                rest = &after[name.len() + if braced { 2 } else { 0 }..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Python's `os.path.normpath` for the directories groups.conf names.
pub fn normpath(path: &str) -> PathBuf {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => PathBuf::from(format!("/{joined}")),
        (false, true) => PathBuf::from("."),
        (false, false) => PathBuf::from(joined),
    }
}

/// Python's `shlex.split` (POSIX mode, no comments) for the directory
/// lists of `[Main]`.
pub fn shell_words(s: &str, origin: &Origin) -> Result<Vec<String>, SourceError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(unclosed(origin)),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(unclosed(origin)),
                        },
                        Some(c) => word.push(c),
                        None => return Err(unclosed(origin)),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err(unclosed(origin)),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

fn unclosed(origin: &Origin) -> SourceError {
    SourceError::Invalid {
        origin: origin.clone(),
        msg: "an unclosed quote or a trailing '\\'".into(),
    }
}
