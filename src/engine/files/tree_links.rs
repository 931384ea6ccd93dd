//! Where a symlink in a copied tree leads, judged by resolving it against
//! the tree being written, the tree's own links included: the one rule
//! for put, get, fan-in and host-to-host copies.
//!
//! Judging a link by its text alone is not enough. `d1/d2/up -> ../..`
//! stays inside, and so does `esc -> d1/d2/up/../..` read as text; but
//! resolved, `esc` is the tree's parent. So a target is walked one name at
//! a time: a name that is a link of the tree is followed (its target
//! walked from its own directory), and `..` may only step out of a name
//! that is known to be a directory of the tree. Out of anything else (a
//! name the tree does not have, which may be a link already standing at
//! the destination) the walk gives up and the link is left out.

use std::collections::{HashMap, HashSet};

use crate::engine::files::name::RelPath;

/// Links followed while resolving one target; past this it is a loop
/// (Linux's own limit is 40).
const MAX_HOPS: u32 = 40;

/// The directories and links of a tree being written, by their path.
#[derive(Debug, Default)]
pub struct TreeShape<'a> {
    dirs: HashSet<&'a str>,
    links: HashMap<&'a str, &'a str>,
}

impl<'a> TreeShape<'a> {
    pub fn new() -> Self {
        TreeShape::default()
    }

    pub fn add_dir(&mut self, rel: &'a RelPath) {
        self.dirs.insert(rel.as_str());
    }

    pub fn add_link(&mut self, rel: &'a RelPath, target: &'a str) {
        self.links.insert(rel.as_str(), target);
    }

    /// Whether the link at `rel` resolves to somewhere inside the tree
    /// (the tree's top and below).
    pub fn stays_inside(&self, rel: &RelPath) -> bool {
        let Some(target) = self.links.get(rel.as_str()) else {
            return false;
        };
        let (parent, _) = rel.split_last();
        let at: Vec<&str> = if parent.is_empty() {
            Vec::new()
        } else {
            parent.split('/').collect()
        };
        let mut hops = 0;
        self.walk(at, target, &mut hops).is_some()
    }

    /// Resolve `target` from the directory `at` (names from the top);
    /// `None` when it leaves the tree or cannot be proven not to.
    fn walk<'b>(
        &'b self,
        mut at: Vec<&'b str>,
        target: &'b str,
        hops: &mut u32,
    ) -> Option<Vec<&'b str>>
    where
        'a: 'b,
    {
        if target.is_empty() || target.starts_with('/') {
            return None;
        }
        for part in target.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    // Only out of a directory this tree makes: anything
                    // else may be a link that the destination already has.
                    if !self.dirs.contains(at.join("/").as_str()) || at.len() < 2 {
                        return None;
                    }
                    at.pop();
                }
                name => {
                    at.push(name);
                    let here = at.join("/");
                    if let Some(next) = self.links.get(here.as_str()) {
                        *hops += 1;
                        if *hops > MAX_HOPS {
                            return None;
                        }
                        at.pop();
                        at = self.walk(at, next, hops)?;
                    }
                }
            }
        }
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::files::name::Name;

    fn rel(p: &str) -> RelPath {
        let mut names = p.split('/');
        let top = Name::parse(names.next().unwrap()).unwrap();
        names.fold(RelPath::top(&top), |r, n| r.child(&Name::parse(n).unwrap()))
    }

    fn judge(dirs: &[&str], links: &[(&str, &str)], which: &str) -> bool {
        let dirs: Vec<RelPath> = dirs.iter().map(|d| rel(d)).collect();
        let links: Vec<(RelPath, String)> =
            links.iter().map(|(l, t)| (rel(l), t.to_string())).collect();
        let mut shape = TreeShape::new();
        for d in &dirs {
            shape.add_dir(d);
        }
        for (l, t) in &links {
            shape.add_link(l, t);
        }
        shape.stays_inside(&rel(which))
    }

    #[test]
    fn plain_links_inside_the_tree_are_kept() {
        let dirs = ["T", "T/a", "T/a/b"];
        assert!(judge(&dirs, &[("T/l", "a/b/f")], "T/l"));
        assert!(judge(&dirs, &[("T/a/l", "../x")], "T/a/l"));
        assert!(judge(&dirs, &[("T/a/b/l", "../../a")], "T/a/b/l"));
        assert!(judge(&dirs, &[("T/l", "./a/./b")], "T/l"));
    }

    #[test]
    fn links_that_climb_out_or_are_absolute_are_refused() {
        let dirs = ["T", "T/a"];
        assert!(!judge(&dirs, &[("T/l", "../x")], "T/l"));
        assert!(!judge(&dirs, &[("T/a/l", "../../x")], "T/a/l"));
        assert!(!judge(&dirs, &[("T/l", "/etc/passwd")], "T/l"));
        assert!(!judge(&dirs, &[("T/l", "")], "T/l"));
    }

    #[test]
    fn a_chain_of_links_is_judged_where_it_resolves() {
        // Each passes a text-only test; resolved, `esc` is T's parent.
        let dirs = ["T", "T/d1", "T/d1/d2"];
        let links = [("T/d1/d2/up", "../.."), ("T/esc", "d1/d2/up/../..")];
        assert!(judge(&dirs, &links, "T/d1/d2/up"));
        assert!(!judge(&dirs, &links, "T/esc"));
        // Through a link to an absolute place.
        let links = [("T/abs", "/"), ("T/via", "abs/etc")];
        assert!(!judge(&dirs, &links, "T/via"));
    }

    #[test]
    fn stepping_out_of_a_name_the_tree_does_not_make_is_refused() {
        // `up` may already stand at the destination as a link.
        let dirs = ["T", "T/d1", "T/d1/d2"];
        assert!(!judge(&dirs, &[("T/esc", "d1/d2/up/../..")], "T/esc"));
    }

    #[test]
    fn loops_are_refused_not_followed_forever() {
        let dirs = ["T"];
        let links = [("T/a", "b"), ("T/b", "a"), ("T/c", "a/x")];
        assert!(!judge(&dirs, &links, "T/c"));
        assert!(!judge(&dirs, &[("T/s", "s/x")], "T/s"));
    }
}
