//! The one boundary for file names: a name that a listing gives (a host's
//! or the local disk's) or that the user types becomes a [`Name`] here,
//! and paths are built only from names.
//!
//! A host's listing is untrusted. It may carry `../../x`, a name with `/`
//! or NUL in it, an empty name, the same name twice, or a million names.
//! Every path that handles what a host sends (a pane, a tree copy, a
//! fan-in, a move, a relay) used to repeat its own checks, and each new
//! path forgot one. So the checks live here alone: [`Name`] has a private
//! field and only [`Name::parse`] makes one, [`join`] and [`RelPath`] take
//! only names, and the compiler refuses a raw string where a path is built
//! from a host's word.

use std::fmt;

use crate::text::sanitize::visible_name;

/// Why a name from a listing (or typed by the user) cannot be a file name
/// on either side, or `Ok`.
pub fn check_name(name: &str) -> Result<(), &'static str> {
    match name {
        "" => Err("the name is empty"),
        "." | ".." => Err("the name is a path step (. or ..), not a file name"),
        _ if name.contains('/') => Err("the name contains '/'"),
        _ if name.contains('\0') => Err("the name contains a NUL byte"),
        _ if name.len() > MAX_NAME_BYTES => Err("the name is longer than 255 bytes"),
        _ => Ok(()),
    }
}

/// NAME_MAX on Linux and the BSDs: no file system here can hold a longer
/// name, so a longer one is a host making things up.
pub const MAX_NAME_BYTES: usize = 255;

/// A checked file name: not empty, not `.` or `..`, no `/`, no NUL, at
/// most 255 bytes. Its bytes are kept as given (a name with control
/// characters is a real name); [`fmt::Display`] shows them escaped.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

/// A name that was refused, shown escaped, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadName {
    /// The name as a terminal may show it.
    pub shown: String,
    pub why: &'static str,
}

impl fmt::Display for BadName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.shown, self.why)
    }
}

impl Name {
    pub fn parse(raw: &str) -> Result<Name, BadName> {
        match check_name(raw) {
            Ok(()) => Ok(Name(raw.to_string())),
            Err(why) => Err(BadName {
                shown: visible_name(raw),
                why,
            }),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// Looked up by text in sets and maps (Hash, Eq and Ord agree with the
/// inner string's).
impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// Shown escaped: a name is a host's word and may hold escape sequences.
impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&visible_name(&self.0))
    }
}

/// A listing after the boundary: the names that can be used, and the ones
/// refused (a name listed twice is ambiguous, so neither copy is kept).
#[derive(Debug)]
pub struct Sifted<T> {
    pub kept: Vec<(Name, T)>,
    pub refused: Vec<BadName>,
}

/// Check every name of a raw listing. `.` and `..` entries are what every
/// server lists for a directory and are dropped silently.
pub fn sift<T>(raw: Vec<(String, T)>) -> Sifted<T> {
    use std::collections::HashMap;
    let mut times: HashMap<&str, usize> = HashMap::with_capacity(raw.len());
    for (n, _) in &raw {
        *times.entry(n.as_str()).or_default() += 1;
    }
    let twice: std::collections::HashSet<String> = times
        .into_iter()
        .filter(|&(_, k)| k > 1)
        .map(|(n, _)| n.to_string())
        .collect();
    let mut out = Sifted {
        kept: Vec::with_capacity(raw.len()),
        refused: Vec::new(),
    };
    for (n, t) in raw {
        if n == "." || n == ".." {
            continue;
        }
        if twice.contains(&n) {
            if !out.refused.iter().any(|r| r.shown == visible_name(&n)) {
                out.refused.push(BadName {
                    shown: visible_name(&n),
                    why: "the name is listed twice",
                });
            }
            continue;
        }
        match Name::parse(&n) {
            Ok(name) => out.kept.push((name, t)),
            Err(bad) => out.refused.push(bad),
        }
    }
    out
}

/// `dir` + `/` + `name`, without doubling slashes. `dir` is a place the
/// user chose (typed, or browsed to through checked names).
pub fn join(dir: &str, name: &Name) -> String {
    if dir.is_empty() {
        name.0.clone()
    } else if dir.ends_with('/') {
        format!("{dir}{}", name.0)
    } else {
        format!("{dir}/{}", name.0)
    }
}

/// A path below a copied tree's parent, made of checked names joined by
/// `/`, the first being the copied source's own name (`proj/src/a.rs`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelPath(String);

impl RelPath {
    /// The copied source itself.
    pub fn top(name: &Name) -> RelPath {
        RelPath(name.0.clone())
    }

    pub fn child(&self, name: &Name) -> RelPath {
        RelPath(format!("{}/{}", self.0, name.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The names from the top down.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// How many names deep (the top is 1).
    pub fn len(&self) -> usize {
        self.0.matches('/').count() + 1
    }

    /// Never empty: a path always names at least its top.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// `(parent, name)`: `a/b/c` → `(a/b, c)`, `c` → `("", c)`.
    pub fn split_last(&self) -> (&str, &str) {
        self.0.rsplit_once('/').unwrap_or(("", &self.0))
    }

    /// The same path with its top renamed (the conflict dialog's answer).
    pub fn renamed(&self, top: Option<&Name>) -> RelPath {
        match (top, self.0.split_once('/')) {
            (None, _) => self.clone(),
            (Some(n), Some((_, rest))) => RelPath(format!("{}/{rest}", n.0)),
            (Some(n), None) => RelPath(n.0.clone()),
        }
    }

    /// `dir/rel` on a host; `/` stays absolute and `""` stays relative.
    pub fn under(&self, dir: &str) -> String {
        match dir.trim_end_matches('/') {
            "" if dir.starts_with('/') => format!("/{}", self.0),
            "" => self.0.clone(),
            p => format!("{p}/{}", self.0),
        }
    }
}

impl fmt::Debug for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&visible_name(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_paths_are_refused() {
        for bad in ["", ".", "..", "a/b", "../x", "a\0b", "/"] {
            assert!(Name::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Name::parse(&"x".repeat(256)).is_err());
        for good in [
            "a",
            ".hidden",
            "..x",
            "a b",
            "x..",
            "\u{202e}txt",
            "a\x1b[2Jb",
        ] {
            assert!(Name::parse(good).is_ok(), "{good:?}");
        }
        let shown = Name::parse("a\x1b[2Jb").unwrap().to_string();
        assert!(!shown.contains('\x1b'), "{shown:?}");
    }

    #[test]
    fn a_listing_keeps_good_names_and_says_why_it_refused_the_rest() {
        let raw = vec![
            (".".to_string(), 0),
            ("..".to_string(), 1),
            ("ok".to_string(), 2),
            ("../victim.txt".to_string(), 3),
            ("twice".to_string(), 4),
            ("twice".to_string(), 5),
            (String::new(), 6),
        ];
        let s = sift(raw);
        let kept: Vec<(&str, i32)> = s.kept.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        assert_eq!(kept, [("ok", 2)]);
        let why: Vec<&str> = s.refused.iter().map(|b| b.why).collect();
        assert_eq!(
            why,
            [
                "the name contains '/'",
                "the name is listed twice",
                "the name is empty"
            ]
        );
    }

    #[test]
    fn paths_are_built_from_names_only() {
        let n = |s: &str| Name::parse(s).unwrap();
        assert_eq!(join("/a", &n("b")), "/a/b");
        assert_eq!(join("/", &n("b")), "/b");
        assert_eq!(join("", &n("b")), "b");
        let r = RelPath::top(&n("proj")).child(&n("sub")).child(&n("b"));
        assert_eq!(r.as_str(), "proj/sub/b");
        assert_eq!(r.len(), 3);
        assert_eq!(r.split_last(), ("proj/sub", "b"));
        assert_eq!(r.renamed(Some(&n("proj.1"))).as_str(), "proj.1/sub/b");
        assert_eq!(RelPath::top(&n("p")).renamed(Some(&n("q"))).as_str(), "q");
        assert_eq!(r.under("/"), "/proj/sub/b");
        assert_eq!(r.under(""), "proj/sub/b");
        assert_eq!(r.under("/x/"), "/x/proj/sub/b");
    }
}
