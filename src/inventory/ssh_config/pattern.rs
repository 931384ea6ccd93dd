//! OpenSSH's pattern matching (`match.c`): `*` and `?` globs, and
//! comma-separated lists where a negated entry vetoes the whole list.

use crate::engine::connection::known_hosts::wildcard_match;

/// `match_pattern_list`: at least one positive entry matches and no
/// negated one does. With `lower`, the list is lowercased first (the
/// string is expected lowercase already).
pub fn list_matches(list: &str, s: &str, lower: bool) -> bool {
    let mut positive = false;
    for sub in list.split(',') {
        let (negated, p) = match sub.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, sub),
        };
        let p = if lower {
            p.to_ascii_lowercase()
        } else {
            p.to_string()
        };
        if wildcard_match(&p, s) {
            if negated {
                return false;
            }
            positive = true;
        }
    }
    positive
}

/// `match_hostname`: case-insensitive.
pub fn host_matches(list: &str, host: &str) -> bool {
    list_matches(list, &host.to_ascii_lowercase(), true)
}

/// A `Host` line: whitespace-separated patterns, case-sensitive; active
/// when a positive one matches and no negated one does.
pub fn host_line_matches(patterns: &[String], host: &str) -> bool {
    let mut active = false;
    for p in patterns {
        match p.strip_prefix('!') {
            Some(neg) if wildcard_match(neg, host) => return false,
            Some(_) => {}
            None if wildcard_match(p, host) => active = true,
            None => {}
        }
    }
    active
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_host_lines() {
        assert!(list_matches("a,h", "h", false));
        assert!(!list_matches("a,!h", "h", false));
        assert!(!list_matches("*,!h", "h", false));
        assert!(!list_matches("!x", "h", false));
        assert!(host_matches("WEB*", "web1"));
        assert!(!list_matches("ROOT", "root", false));
        let p = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert!(host_line_matches(&p("* !a"), "b"));
        assert!(!host_line_matches(&p("!a *"), "a"));
        assert!(!host_line_matches(&p("!a"), "b"));
        assert!(!host_line_matches(&p("a,b"), "a"));
        assert!(!host_line_matches(&p("foo"), "FOO"));
    }
}
