//! Node sets in ClusterShell's notation.
//!
//! - ranges and steps in brackets: `web[01-20,30]`, `n[1-9/2]`; zero padding
//!   is kept per index (`[08-10]` gives 08 09 10);
//! - several brackets form a cartesian product: `rack[1-2]n[1-4]`; two
//!   brackets in a row (`n[1-2][3-4]`) are refused, as ClusterShell does;
//! - digits touching a bracket join its numbers, as ClusterShell reads
//!   them: `prod-2[10-12]` is prod-210..212, `n[1-3]0` is n10, n20, n30
//!   (see `ranges.rs`);
//! - `@name` is a group, looked up through [`Groups`];
//! - operators apply left to right: `,` union, `!` difference,
//!   `&` intersection, `^` symmetric difference.
//!
//! [`fold`] turns a list of names back into the compact form for display.

use std::collections::BTreeMap;

use thiserror::Error;

mod fold;
mod ranges;
mod set;

pub use fold::fold;
use set::Acc;
pub use set::NodeSet;

/// Expansion stops past this many names, so `n[1-999999999]` is an error,
/// not an out-of-memory.
pub const MAX_NODES: usize = 1_000_000;

/// Where `@group` names come from.
pub trait Groups {
    /// The node-set expression a group stands for, None if unknown, or
    /// why it cannot be known (a group source that failed, a name two
    /// sources define).
    fn group(&self, name: &str) -> Result<Option<String>, String>;
}

/// No groups at all.
pub struct NoGroups;

impl Groups for NoGroups {
    fn group(&self, _: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
}

impl<S: std::hash::BuildHasher> Groups for std::collections::HashMap<String, String, S> {
    fn group(&self, name: &str) -> Result<Option<String>, String> {
        Ok(self.get(name).cloned())
    }
}

impl Groups for BTreeMap<String, String> {
    fn group(&self, name: &str) -> Result<Option<String>, String> {
        Ok(self.get(name).cloned())
    }
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("node set {expr:?}, column {column}: {msg}")]
pub struct NodeSetError {
    pub expr: String,
    /// 1-based, in characters.
    pub column: usize,
    pub msg: String,
}

/// Expand `expr` into names. Brackets holding a `:` or `.` are addresses,
/// not ranges: `web1,[::1]:22,admin@[fe80::1%eth0]:2222` is three hosts.
pub fn expand(expr: &str, groups: &dyn Groups) -> Result<NodeSet, NodeSetError> {
    let mut stack = Vec::new();
    Parser {
        expr,
        groups,
        stack: &mut stack,
    }
    .parse()
}

struct Parser<'a> {
    expr: &'a str,
    groups: &'a dyn Groups,
    /// Groups being expanded, to catch `@a` → `@b` → `@a`.
    stack: &'a mut Vec<String>,
}

impl Parser<'_> {
    fn err(&self, byte_pos: usize, msg: impl Into<String>) -> NodeSetError {
        NodeSetError {
            expr: self.expr.to_string(),
            column: self.expr[..byte_pos.min(self.expr.len())].chars().count() + 1,
            msg: msg.into(),
        }
    }

    fn parse(&mut self) -> Result<NodeSet, NodeSetError> {
        let expr = self.expr;
        if expr.trim().is_empty() {
            return Err(self.err(0, "empty node set"));
        }
        let mut result = Acc::default();
        let mut op = ',';
        let mut term_start = 0;
        let mut depth = 0usize;
        for (i, c) in expr.char_indices().chain([(expr.len(), '\0')]) {
            match c {
                '[' => depth += 1,
                ']' if depth == 0 => return Err(self.err(i, "']' without a matching '['")),
                ']' => depth -= 1,
                ',' | '!' | '&' | '^' | '\0' if depth == 0 => {
                    // Blanks around a term are not part of it, as ClusterShell
                    // strips them (`a , b`).
                    let raw = &expr[term_start..i];
                    let lead = raw.len() - raw.trim_start().len();
                    let term = raw.trim();
                    let at = term_start + lead;
                    if term.is_empty() {
                        let what = if c == '\0' {
                            "end".to_string()
                        } else {
                            format!("'{c}'")
                        };
                        return Err(self.err(i, format!("missing host name before {what}")));
                    }
                    let set = self.term(term, at)?;
                    result.apply(op, set);
                    if result.names.len() > MAX_NODES {
                        return Err(self.err(at, format!("expands to more than {MAX_NODES} hosts")));
                    }
                    op = c;
                    term_start = i + c.len_utf8();
                }
                _ => {}
            }
        }
        if depth > 0 {
            let open = expr.rfind('[').unwrap_or(0);
            return Err(self.err(open, "'[' is never closed"));
        }
        Ok(NodeSet {
            names: result.names,
        })
    }

    /// A blank inside a name is refused: no host name holds one, where
    /// ClusterShell would keep `a b` as one node. Blanks inside brackets
    /// are the range parser's to judge (`n[1 - 3]` is fine, `n[1 2]` not).
    fn no_blank_in_names(&self, term: &str, at: usize) -> Result<(), NodeSetError> {
        let mut depth = 0usize;
        for (i, c) in term.char_indices() {
            match c {
                '[' => depth += 1,
                ']' => depth = depth.saturating_sub(1),
                c if c.is_whitespace() && depth == 0 => {
                    return Err(self.err(at + i, "unexpected whitespace in a host name"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn term(&mut self, term: &str, at: usize) -> Result<NodeSet, NodeSetError> {
        if let Some(name) = term.strip_prefix('@') {
            return self.group(name, at);
        }
        self.no_blank_in_names(term, at)?;
        // Split into literal pieces and bracket contents, then take the product.
        let mut parts: Vec<Vec<String>> = Vec::new();
        let mut rest = term;
        let mut offset = at;
        while let Some(open) = rest.find('[') {
            let close = rest[open..]
                .find(']')
                .map(|c| c + open)
                .ok_or_else(|| self.err(offset + open, "'[' is never closed"))?;
            let before = &rest[..open];
            let inside = &rest[open + 1..close];
            let mut after = &rest[close + 1..];
            if inside.contains([':', '.']) {
                // An address (`[::1]`, `[fe80::1%eth0]`, `[10.0.0.1]`), not
                // a range: kept with its brackets, as a host spec writes it.
                parts.push(vec![before.to_string()]);
                parts.push(vec![format!("[{inside}]")]);
            } else {
                let (lit, values) = self.bracket(before, inside, &mut after, offset, open)?;
                parts.push(vec![lit.to_string()]);
                parts.push(values);
            }
            offset += rest.len() - after.len();
            rest = after;
        }
        parts.push(vec![rest.to_string()]);
        let mut names = vec![String::new()];
        for part in parts {
            if names.len().saturating_mul(part.len()) > MAX_NODES {
                return Err(self.err(at, format!("expands to more than {MAX_NODES} hosts")));
            }
            names = names
                .iter()
                .flat_map(|n| part.iter().map(move |p| format!("{n}{p}")))
                .collect();
        }
        Ok(NodeSet::from_vec(names))
    }

    /// One bracket of a term: the literal before it (less any digits that
    /// join the range) and the values. Digits right after `]` are taken off
    /// `after`, as ClusterShell reads them: `prod-2[10-320]` is 210 to
    /// 2320, `n[1-3]0` is n10, n20, n30.
    fn bracket<'t>(
        &self,
        before: &'t str,
        inside: &str,
        after: &mut &str,
        offset: usize,
        open: usize,
    ) -> Result<(&'t str, Vec<String>), NodeSetError> {
        let bracket_err = |msg: String| self.err(offset + open, msg);
        let trailing = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let mut body = inside.to_string();
        if trailing > 0 {
            body = ranges::append_digits(&body, &after[..trailing]).map_err(bracket_err)?;
            *after = &after[trailing..];
        }
        if after.starts_with('[') {
            let msg = if trailing > 0 {
                "digits between two brackets are ambiguous (as in ClusterShell): put them inside a bracket"
            } else {
                "two brackets in a row are refused (as in ClusterShell): put a name part between them"
            };
            return Err(self.err(offset + (before.len() + inside.len() + 2 + trailing), msg));
        }
        let lit = before.trim_end_matches(|c: char| c.is_ascii_digit());
        let leading = &before[lit.len()..];
        if !leading.is_empty() {
            body = ranges::prepend_digits(&body, leading, MAX_NODES)
                .map_err(|e| bracket_err(e.msg))?;
        }
        let values = ranges::values(&body, MAX_NODES).map_err(|e| {
            if body == inside {
                self.err(offset + open + 1 + e.offset, e.msg)
            } else {
                // The text judged is not what was written: point at the bracket.
                bracket_err(e.msg)
            }
        })?;
        Ok((lit, values))
    }

    fn group(&mut self, name: &str, at: usize) -> Result<NodeSet, NodeSetError> {
        if name.is_empty() {
            return Err(self.err(at, "'@' needs a group name"));
        }
        if self.stack.iter().any(|g| g == name) {
            return Err(self.err(at, format!("group @{name} includes itself")));
        }
        let def = match self.groups.group(name) {
            Ok(Some(def)) => def,
            Ok(None) => return Err(self.err(at, format!("unknown group @{name}"))),
            Err(why) => return Err(self.err(at, format!("@{name}: {why}"))),
        };
        self.stack.push(name.to_string());
        let inner = Parser {
            expr: &def,
            groups: self.groups,
            stack: self.stack,
        }
        .parse();
        self.stack.pop();
        inner.map_err(|e| self.err(at, format!("in group @{name}: {}", e.msg_with_column())))
    }
}

impl NodeSetError {
    fn msg_with_column(&self) -> String {
        format!("{} (column {} of {:?})", self.msg, self.column, self.expr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(e: &str) -> Vec<String> {
        expand(e, &NoGroups)
            .unwrap_or_else(|e| panic!("{e}"))
            .into_vec()
    }

    fn err(e: &str) -> NodeSetError {
        expand(e, &NoGroups).expect_err("should fail")
    }

    #[test]
    fn ranges_lists_and_padding() {
        assert_eq!(ex("web[1-3]"), ["web1", "web2", "web3"]);
        assert_eq!(ex("web[08-10,30]"), ["web08", "web09", "web10", "web30"]);
        assert_eq!(ex("n[1-9/4]"), ["n1", "n5", "n9"]);
        assert_eq!(ex("n[001-002]x"), ["n001x", "n002x"]);
        assert_eq!(ex("plain"), ["plain"]);
        assert_eq!(ex("a[7]"), ["a7"]);
    }

    #[test]
    fn brackets_multiply() {
        assert_eq!(
            ex("rack[1-2]n[1-2]"),
            ["rack1n1", "rack1n2", "rack2n1", "rack2n2"]
        );
        assert_eq!(ex("r[1-2]-x").len(), 2);
        let e = err("r[1-2]-[a]");
        assert_eq!(e.column, 9, "{e}");
    }

    #[test]
    fn operators_apply_left_to_right() {
        assert_eq!(ex("n[1-5]!n[2-3]"), ["n1", "n4", "n5"]);
        assert_eq!(ex("n[1-5]&n[4-9]"), ["n4", "n5"]);
        assert_eq!(ex("n[1-3]^n[3-4]"), ["n1", "n2", "n4"]);
        assert_eq!(ex("n1,n2,n1"), ["n1", "n2"]);
        // (n[1-4] ! n2) , n2  — not n[1-4] ! (n2,n2)
        assert_eq!(ex("n[1-4]!n2,n2"), ["n1", "n3", "n4", "n2"]);
        // (n[1-4] & n[2-3]) ^ n[3-5]
        assert_eq!(ex("n[1-4]&n[2-3]^n[3-5]"), ["n2", "n4", "n5"]);
    }

    #[test]
    fn groups_expand_and_nest() {
        let mut g = BTreeMap::new();
        g.insert("web".to_string(), "web[1-3]".to_string());
        g.insert("all".to_string(), "@web,db1".to_string());
        g.insert("loop".to_string(), "@loop2".to_string());
        g.insert("loop2".to_string(), "@loop".to_string());
        g.insert("bad".to_string(), "x[".to_string());
        let e = |s: &str| expand(s, &g);
        assert_eq!(e("@all!web2").unwrap().into_vec(), ["web1", "web3", "db1"]);
        assert!(e("@loop").unwrap_err().msg.contains("includes itself"));
        let err = e("a,@nope").unwrap_err();
        assert_eq!((err.column, err.msg.as_str()), (3, "unknown group @nope"));
        let err = e("@bad").unwrap_err();
        assert!(err.msg.contains("in group @bad"), "{err}");
    }

    #[test]
    fn errors_name_their_column() {
        let cases = [
            ("web[1-3", 4, "never closed"),
            ("web]1", 4, "without a matching"),
            ("a,,b", 3, "missing host name"),
            ("a,", 3, "missing host name before end"),
            ("n[3-1]", 3, "backwards"),
            ("n[1-x]", 5, "not a number"),
            ("n[]", 3, "empty brackets"),
            ("n[1,,2]", 5, "empty range"),
            ("n[1-9/0]", 7, "bad step"),
            ("a b", 2, "whitespace"),
            ("@", 1, "needs a group name"),
            ("", 1, "empty node set"),
        ];
        for (expr, col, msg) in cases {
            let e = err(expr);
            assert_eq!(e.column, col, "{expr}: {e}");
            assert!(e.msg.contains(msg), "{expr}: {e}");
        }
    }

    #[test]
    fn digits_around_brackets_as_clustershell_reads_them() {
        // Before '[': they start each run of the range's numbers.
        assert_eq!(ex("prod-2[10-12]"), ["prod-210", "prod-211", "prod-212"]);
        assert_eq!(ex("n0[1-2]"), ["n01", "n02"]);
        assert_eq!(ex("n1[0-10/5]"), ["n10", "n15", "n110"]);
        assert!(err("0[7-9,10]").msg.contains("padding length mismatch"));
        // After ']': they end every bound, and the step grows with them.
        assert_eq!(ex("n[1-3]0"), ["n10", "n20", "n30"]);
        assert_eq!(ex("n[1,3]0x"), ["n10x", "n30x"]);
        assert!(err("[0-10]0").msg.contains("padding length mismatch"));
        let e = err("prod-0[1-7/2,9]0");
        assert!(e.msg.contains("with a step"), "{e}");
        assert_eq!(e.column, 7, "{e}");
    }

    #[test]
    fn two_brackets_in_a_row_are_refused() {
        let e = err("n6[1-4][3-4]");
        assert!(e.msg.contains("in a row"), "{e}");
        assert_eq!(e.column, 8, "{e}");
        let e = err("n[1-2]3[4-5]");
        assert!(e.msg.contains("digits between two brackets"), "{e}");
        assert_eq!(e.column, 8, "{e}");
        assert_eq!(ex("n[1-2]x3[4]"), ["n1x34", "n2x34"]);
    }

    #[test]
    fn blanks_inside_brackets_only_around_items() {
        assert_eq!(ex("n[ 1 - 2 , 4 ]"), ["n1", "n2", "n4"]);
        let e = err("n[1,10 0]");
        assert!(e.msg.contains("not a number"), "{e}");
        assert_eq!(e.column, 5, "{e}");
        assert!(err("n[1 ]0").msg.contains("not a number"));
    }

    #[test]
    fn lone_numbers_with_steps_and_negative_padding() {
        assert_eq!(ex("n[3/1]"), ["n3"]);
        assert_eq!(ex("n[-3/2]"), ["n-3"]);
        assert!(err("n[3/2]").msg.contains("a step needs a range"));
        assert!(err("n[-001]").msg.contains("negative"));
    }

    #[test]
    fn a_long_list_of_names_is_linear() {
        // 30,000 one-name terms: a duplicate check per union that rebuilt
        // its index would take about 450 million steps, and minutes here.
        let list: Vec<String> = (0..30_000).map(|i| format!("n{i}")).collect();
        let expr = format!("{},n7", list.join(","));
        let start = std::time::Instant::now();
        let set = expand(&expr, &NoGroups).unwrap_or_else(|e| panic!("{e}"));
        let took = start.elapsed();
        assert_eq!(set.len(), 30_000);
        assert_eq!(set.iter().nth(29_999), Some("n29999"));
        assert!(took < std::time::Duration::from_secs(3), "took {took:?}");
    }

    #[test]
    fn random_inputs_never_panic_and_fold_back() {
        // Short strings over the characters the parser cares about, from a
        // fixed-seed generator: any panic fails; any accepted set must fold
        // and expand back to itself.
        let alphabet: Vec<char> = "n0019[[]]--,,/!&^ é:".chars().collect();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut accepted = 0;
        for _ in 0..40_000 {
            let len = (next() % 10) as usize + 1;
            let expr: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let Ok(set) = expand(&expr, &NoGroups) else {
                continue;
            };
            let mut names = set.into_vec();
            if names.is_empty() {
                continue;
            }
            accepted += 1;
            let folded = fold(&names);
            let mut back = expand(&folded, &NoGroups)
                .unwrap_or_else(|e| panic!("{expr:?} folds to {folded:?}: {e}"))
                .into_vec();
            names.sort();
            back.sort();
            assert_eq!(names, back, "{expr:?} folds to {folded:?}");
        }
        assert!(accepted > 2_000, "only {accepted} inputs accepted");
    }

    #[test]
    fn huge_expansions_are_refused() {
        assert!(err("n[1-99999999]").msg.contains("more than"));
        assert!(err("a[1-1000]b[1-1000]c[1-1000]").msg.contains("more than"));
    }

    #[test]
    fn fold_then_expand_round_trips() {
        let names = ex("web[01-05,09],db[1-3]");
        let folded = fold(&names);
        let mut back = ex(&folded);
        let mut orig = names.clone();
        back.sort();
        orig.sort();
        assert_eq!(back, orig);
    }

    #[test]
    fn ipv6_addresses_in_brackets_are_hosts_not_ranges() {
        assert_eq!(ex("[::1]"), ["[::1]"]);
        assert_eq!(ex("web1,[::1]:22"), ["web1", "[::1]:22"]);
        assert_eq!(ex("[10.0.0.1]:2222"), ["[10.0.0.1]:2222"]);
        assert_eq!(
            ex("user@[fe80::1%eth0]:22,n[1-2]"),
            ["user@[fe80::1%eth0]:22", "n1", "n2"]
        );
        let folded = fold(&["u@[::1]:2201", "u@[::1]:2202"]);
        assert_eq!(ex(&folded), ["u@[::1]:2201", "u@[::1]:2202"]);
    }
}
