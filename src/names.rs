//! The test that holds type names unique across src/: no two structs,
//! enums, type aliases or traits share a name, wherever they sit (a
//! function's local alias and a test module's helper count too). Why:
//! `Entry`, `Kind` or `Value` named three things in three modules, and a
//! reader (or a grep) had to work out which one a line meant; a name that
//! says what its type holds is found in one place. An impl's or a trait's
//! associated types (`type Error = …`, `type Output;`) are the trait's
//! names, not ours, and are left out.

use std::collections::BTreeMap;

/// A piece of Rust source the scan looks at: an identifier, or one
/// ASCII punctuation character. Comments and literals never become one,
/// so a brace or a `struct` inside a string cannot mislead the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Ident(&'a str),
    Punct(u8),
}

/// The keywords that define a type name.
const DEFINERS: [&str; 5] = ["struct", "enum", "type", "trait", "union"];

/// Words that may come before a definer in an item's header
/// (`pub(crate) unsafe trait`).
const MODIFIERS: [&str; 8] = [
    "pub", "crate", "super", "self", "in", "unsafe", "auto", "default",
];

/// The index just past a `"`-delimited string whose body starts at `i`,
/// counting the newlines it spans into `line`.
fn skip_quoted(b: &[u8], mut i: usize, line: &mut usize) -> usize {
    while i < b.len() && b[i] != b'"' {
        if b[i] == b'\\' {
            i += 1;
        }
        if b.get(i) == Some(&b'\n') {
            *line += 1;
        }
        i += 1;
    }
    i + 1
}

/// The index just past a raw string (`r#"…"#`) whose `#`s start at `i`,
/// or None when `i` does not start one (`r#type` is a raw identifier).
fn skip_raw(b: &[u8], i: usize, line: &mut usize) -> Option<usize> {
    let hashes = b[i..].iter().take_while(|&&c| c == b'#').count();
    if b.get(i + hashes) != Some(&b'"') {
        return None;
    }
    let close: Vec<u8> = std::iter::once(b'"')
        .chain(std::iter::repeat_n(b'#', hashes))
        .collect();
    let body = i + hashes + 1;
    let end = b[body..]
        .windows(close.len())
        .position(|w| w == close.as_slice())
        .map_or(b.len(), |p| body + p + close.len());
    *line += b[body..end.min(b.len())]
        .iter()
        .filter(|&&c| c == b'\n')
        .count();
    Some(end)
}

/// The index just past a block comment opened at `i`, nested ones
/// included, counting its newlines into `line`.
fn skip_block_comment(b: &[u8], mut i: usize, line: &mut usize) -> usize {
    let mut depth = 0;
    while i < b.len() {
        if b[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if b[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                break;
            }
        } else {
            if b[i] == b'\n' {
                *line += 1;
            }
            i += 1;
        }
    }
    i
}

/// The index just past a char literal whose opening `'` is at `i`, or
/// None when the `'` starts a lifetime (`'a`).
fn skip_char(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i + 1) == Some(&b'\\') {
        // The escaped character (even a quote) is at i + 2; the closing
        // quote comes after it, or after `{…}` / hex digits.
        let close = b.get(i + 3..)?.iter().position(|&c| c == b'\'')?;
        return Some(i + 3 + close + 1);
    }
    // One character, possibly several bytes of UTF-8, then the quote.
    let width = match b.get(i + 1)? {
        c if *c < 0x80 => 1,
        c if *c >= 0xf0 => 4,
        c if *c >= 0xe0 => 3,
        _ => 2,
    };
    (b.get(i + 1 + width) == Some(&b'\'')).then_some(i + 2 + width)
}

/// `source` as tokens, each with its 1-based line.
fn tokens(source: &str) -> Vec<(usize, Token<'_>)> {
    let b = source.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
            i += 1;
        } else if b[i..].starts_with(b"//") {
            i += b[i..]
                .iter()
                .position(|&c| c == b'\n')
                .unwrap_or(b.len() - i);
        } else if b[i..].starts_with(b"/*") {
            i = skip_block_comment(b, i, &mut line);
        } else if c == b'"' {
            i = skip_quoted(b, i + 1, &mut line);
        } else if c == b'\'' {
            i = skip_char(b, i).unwrap_or(i + 1);
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let len = b[i..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            let word = &source[i..i + len];
            let next = b.get(i + len).copied();
            i += len;
            match (word, next) {
                ("b", Some(b'"')) => i = skip_quoted(b, i + 1, &mut line),
                ("b", Some(b'\'')) => i = skip_char(b, i).unwrap_or(i + 1),
                ("r" | "br", Some(b'"' | b'#')) => match skip_raw(b, i, &mut line) {
                    Some(end) => i = end,
                    // `r#type`: the identifier after `r#` is read next.
                    None => i += 1,
                },
                _ => out.push((line, Token::Ident(word))),
            }
        } else {
            if c.is_ascii_punctuation() {
                out.push((line, Token::Punct(c)));
            }
            i += 1;
        }
    }
    out
}

/// The index just past the attribute (`#[…]`, `#![…]`) starting at `i`,
/// or None when `i` does not start one.
fn skip_attribute(toks: &[(usize, Token)], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if toks.get(j).map(|t| t.1) == Some(Token::Punct(b'!')) {
        j += 1;
    }
    if toks.get(j).map(|t| t.1) != Some(Token::Punct(b'[')) {
        return None;
    }
    let mut depth = 0;
    for (k, (_, t)) in toks.iter().enumerate().skip(j) {
        match t {
            Token::Punct(b'[') => depth += 1,
            Token::Punct(b']') => {
                depth -= 1;
                if depth == 0 {
                    return Some(k + 1);
                }
            }
            _ => {}
        }
    }
    Some(toks.len())
}

/// The type names `source` defines, each with its line: structs, enums,
/// unions, traits and type aliases, at any depth, but not the associated
/// types of an impl or a trait.
pub fn defined_types(source: &str) -> Vec<(String, usize)> {
    let toks = tokens(source);
    let mut out = Vec::new();
    // Per open brace: is it an impl's or a trait's body?
    let mut blocks: Vec<bool> = Vec::new();
    // The identifiers of the item read so far, since the last `;`, `{` or `}`.
    let mut header: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match toks[i].1 {
            Token::Punct(b'#') => {
                if let Some(end) = skip_attribute(&toks, i) {
                    i = end;
                    continue;
                }
            }
            Token::Punct(b'{') => {
                let first = header.iter().copied().find(|w| !MODIFIERS.contains(w));
                blocks.push(matches!(first, Some("impl" | "trait")));
                header.clear();
            }
            Token::Punct(b'}') => {
                blocks.pop();
                header.clear();
            }
            Token::Punct(b';') => header.clear(),
            Token::Punct(_) => {}
            Token::Ident(word) => {
                let starts_item = header.iter().all(|w| MODIFIERS.contains(w));
                let associated = word == "type" && blocks.last() == Some(&true);
                if starts_item
                    && DEFINERS.contains(&word)
                    && !associated
                    && let Some((_, Token::Ident(name))) = toks.get(i + 1)
                {
                    out.push((name.to_string(), toks[i].0));
                }
                header.push(word);
            }
        }
        i += 1;
    }
    out
}

/// Every type name defined more than once among `files` (path, source),
/// as `Name: place, place`, sorted by name.
pub fn duplicates(files: &[(String, String)]) -> Vec<String> {
    let mut places: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, source) in files {
        for (name, line) in defined_types(source) {
            places
                .entry(name)
                .or_default()
                .push(format!("{path}:{line}"));
        }
    }
    places
        .into_iter()
        .filter(|(_, at)| at.len() > 1)
        .map(|(name, at)| format!("{name}: {}", at.join(", ")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::rust_files;
    use std::path::Path;

    fn names(source: &str) -> Vec<String> {
        defined_types(source).into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn no_two_types_share_a_name() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut paths = Vec::new();
        rust_files(&root.join("src"), &mut paths);
        paths.sort();
        let files: Vec<(String, String)> = paths
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{e}"));
                let rel = p.strip_prefix(root).unwrap_or(p);
                (rel.display().to_string(), text)
            })
            .collect();
        let defined: usize = files.iter().map(|(_, s)| defined_types(s).len()).sum();
        // The scan reads the tree: a broken walk or scanner finding nothing
        // would pass vacuously.
        assert!(defined > 300, "only {defined} type names found under src/");
        let twice = duplicates(&files);
        assert!(
            twice.is_empty(),
            "type names defined more than once (give each a name that says what it holds):\n{}",
            twice.join("\n")
        );
    }

    #[test]
    fn a_name_defined_twice_is_reported_with_both_places() {
        let files = [
            (
                "src/a.rs".to_string(),
                "pub struct Entry;\nenum Kind { A }\n".to_string(),
            ),
            (
                "src/b.rs".to_string(),
                "\n\npub(crate) type Entry = u8;\n".to_string(),
            ),
        ];
        assert_eq!(duplicates(&files), ["Entry: src/a.rs:1, src/b.rs:3"]);
    }

    #[test]
    fn every_kind_of_definition_is_found() {
        let src = "pub struct A;\npub(crate) enum B {}\ntype C = u8;\npub trait D {}\nunion E { x: u8 }\npub(super) unsafe trait F {}\n";
        assert_eq!(names(src), ["A", "B", "C", "D", "E", "F"]);
    }

    #[test]
    fn associated_types_are_not_ours_but_local_aliases_are() {
        let src = "impl Deref for X {\n    type Target = str;\n    fn f() {\n        type Key = u8;\n    }\n}\ntrait T {\n    type Output;\n}\nimpl<T: Clone> Y<T> where T: Copy { type Error = E; }\n";
        assert_eq!(names(src), ["Key", "T"]);
    }

    #[test]
    fn comments_strings_and_attributes_hide_nothing_and_add_nothing() {
        let src = r####"
/// struct InDoc;
// enum InComment
/* struct InBlock; /* nested } */ */
#[derive(Debug)]
#[cfg_attr(test, doc = "struct InAttr { }")]
struct Real {
    brace: char,
}
fn f() -> impl Iterator<Item = u8> {
    let _ = ('{', b'}', '\'', "}", r#"struct InRaw {"#, br"}", "{\"}");
    let _: &'static str = "type InString = u8;";
    struct Local;
}
impl S { fn g(&self) -> r#type { } }
type After = Real;
"####;
        assert_eq!(names(src), ["Real", "Local", "After"]);
    }

    #[test]
    fn lines_are_counted_through_multi_line_literals_and_comments() {
        let src = "/*\n\n*/\nconst S: &str = \"a\nb\";\nconst R: &str = r\"\n\";\nstruct X;\n";
        assert_eq!(defined_types(src), [("X".to_string(), 8)]);
    }
}
