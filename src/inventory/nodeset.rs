//! Node sets in ClusterShell's notation.
//!
//! - ranges and steps in brackets: `web[01-20,30]`, `n[1-9/2]`; zero padding
//!   is kept per index (`[08-10]` gives 08 09 10);
//! - several brackets form a cartesian product: `rack[1-2]n[1-4]`;
//! - `@name` is a group, looked up through [`Groups`];
//! - operators apply left to right: `,` union, `!` difference,
//!   `&` intersection, `^` symmetric difference.
//!
//! [`fold`] turns a list of names back into the compact form for display.

use std::collections::{BTreeMap, HashSet};

use thiserror::Error;

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

/// An ordered set of names: insertion order, no duplicates.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct NodeSet {
    names: Vec<String>,
}

impl NodeSet {
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }
    pub fn len(&self) -> usize {
        self.names.len()
    }
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
    pub fn into_vec(self) -> Vec<String> {
        self.names
    }
    fn from_vec(v: Vec<String>) -> Self {
        let mut seen = HashSet::with_capacity(v.len());
        let names = v.into_iter().filter(|n| seen.insert(n.clone())).collect();
        NodeSet { names }
    }
    fn apply(self, op: char, rhs: NodeSet) -> NodeSet {
        let rset: HashSet<&String> = rhs.names.iter().collect();
        match op {
            ',' => {
                let mut v = self.names;
                v.extend(rhs.names);
                NodeSet::from_vec(v)
            }
            '!' => NodeSet {
                names: self
                    .names
                    .into_iter()
                    .filter(|n| !rset.contains(n))
                    .collect(),
            },
            '&' => NodeSet {
                names: self
                    .names
                    .into_iter()
                    .filter(|n| rset.contains(n))
                    .collect(),
            },
            _ => {
                // '^': in exactly one of the two.
                let lset: HashSet<String> = self.names.iter().cloned().collect();
                let mut v: Vec<String> = self
                    .names
                    .into_iter()
                    .filter(|n| !rset.contains(n))
                    .collect();
                v.extend(rhs.names.into_iter().filter(|n| !lset.contains(n)));
                NodeSet { names: v }
            }
        }
    }
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
        let mut result = NodeSet::default();
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
                    // strips them (`a , b`); blanks inside brackets go too.
                    let raw = &expr[term_start..i];
                    let lead = raw.len() - raw.trim_start().len();
                    let term: String = raw.trim().to_string();
                    let at = term_start + lead;
                    if term.is_empty() {
                        let what = if c == '\0' {
                            "end".to_string()
                        } else {
                            format!("'{c}'")
                        };
                        return Err(self.err(i, format!("missing host name before {what}")));
                    }
                    let term = self.unblank_brackets(&term, at)?;
                    let set = self.term(&term, at)?;
                    result = result.apply(op, set);
                    if result.len() > MAX_NODES {
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
        Ok(result)
    }

    /// Blanks inside brackets dropped (`n[1 - 3]`, as ClusterShell);
    /// a blank inside a name is refused: no host name holds one, where
    /// ClusterShell would keep `a b` as one node.
    fn unblank_brackets(&self, term: &str, at: usize) -> Result<String, NodeSetError> {
        let mut out = String::with_capacity(term.len());
        let mut depth = 0usize;
        for (i, c) in term.char_indices() {
            match c {
                '[' => depth += 1,
                ']' => depth = depth.saturating_sub(1),
                c if c.is_whitespace() && depth > 0 => continue,
                c if c.is_whitespace() => {
                    return Err(self.err(at + i, "unexpected whitespace in a host name"));
                }
                _ => {}
            }
            out.push(c);
        }
        Ok(out)
    }

    fn term(&mut self, term: &str, at: usize) -> Result<NodeSet, NodeSetError> {
        if let Some(name) = term.strip_prefix('@') {
            return self.group(name, at);
        }
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
            if inside.contains([':', '.']) {
                // An address (`[::1]`, `[fe80::1%eth0]`, `[10.0.0.1]`), not
                // a range: kept with its brackets, as a host spec writes it.
                parts.push(vec![before.to_string()]);
                parts.push(vec![format!("[{inside}]")]);
            } else {
                // Digits just before '[' are the start of the range's
                // numbers, as ClusterShell reads them: `prod-2[10-320]`
                // is 210 to 2320.
                let lit = before.trim_end_matches(|c: char| c.is_ascii_digit());
                let digits = &before[lit.len()..];
                if !parts.is_empty() && lit.is_empty() && !digits.is_empty() {
                    return Err(self.err(
                        offset + open,
                        "digits between two brackets are ambiguous (as in ClusterShell): put them inside a bracket",
                    ));
                }
                parts.push(vec![lit.to_string()]);
                parts.push(self.ranges(inside, digits, offset + open + 1)?);
            }
            offset += close + 1;
            rest = &rest[close + 1..];
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

    /// `01-20,30,1-9/2` → the numbers as written (padding kept), each
    /// with `digits` (the digits before '[') in front.
    fn ranges(&self, body: &str, digits: &str, at: usize) -> Result<Vec<String>, NodeSetError> {
        if body.is_empty() {
            return Err(self.err(at, "empty brackets"));
        }
        let mut out = Vec::new();
        let mut pos = at;
        for item in body.split(',') {
            if item.is_empty() {
                return Err(self.err(pos, "empty range"));
            }
            let (span, step) = match item.split_once('/') {
                Some((s, st)) => {
                    let step: u64 = st.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                        self.err(
                            pos + s.len() + 1,
                            format!("bad step {st:?}: expected a positive number"),
                        )
                    })?;
                    (s, Some(step))
                }
                None => (item, None),
            };
            // A '-' after the first character splits the bounds; a first
            // '-' is a sign (`[-5]`, `[-5-3]`).
            let (lo, hi) = match span.get(1..).and_then(|r| r.find('-')) {
                Some(d) => (&span[..d + 1], &span[d + 2..]),
                None => (span, span),
            };
            let single = lo.len() == span.len();
            if single && step.is_some() {
                return Err(self.err(pos, format!("a step needs a range: {item:?}")));
            }
            // ClusterShell puts the digits before '[' into a range's
            // bounds, but not into a stepped one's values.
            let merge = step.is_none() && !lo.starts_with('-');
            let (lo, hi) = if merge {
                (format!("{digits}{lo}"), format!("{digits}{hi}"))
            } else {
                (lo.to_string(), hi.to_string())
            };
            let prefix = if merge { "" } else { digits };
            let num = |s: &str, p: usize| -> Result<i64, NodeSetError> {
                let d = s.strip_prefix('-').unwrap_or(s);
                if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(self.err(p, format!("{s:?} is not a number")));
                }
                s.parse()
                    .map_err(|_| self.err(p, format!("{s:?} is too large")))
            };
            let a = num(&lo, pos)?;
            let b = num(&hi, pos + lo.len() + 1)?;
            if b < a {
                return Err(self.err(pos, format!("range {lo}-{hi} goes backwards")));
            }
            let padded = |s: &str| s.len() > 1 && s.starts_with('0');
            if !single && (padded(&lo) || padded(&hi)) && lo.len() != hi.len() {
                return Err(self.err(
                    pos,
                    format!("padding length mismatch: {lo}-{hi} (both bounds need the same width)"),
                ));
            }
            let step = step.unwrap_or(1);
            if (b - a).unsigned_abs() / step >= MAX_NODES as u64 {
                return Err(self.err(
                    pos,
                    format!("range {span} has more than {MAX_NODES} values"),
                ));
            }
            // Padding comes from the start bound, as in ClusterShell: [08-10] → 08 09 10.
            let width = if padded(&lo) { lo.len() } else { 0 };
            let mut v = a;
            while v <= b {
                out.push(format!("{prefix}{v:0width$}"));
                v = v.saturating_add(i64::try_from(step).unwrap_or(i64::MAX));
            }
            pos += item.len() + 1;
        }
        Ok(out)
    }
}

impl NodeSetError {
    fn msg_with_column(&self) -> String {
        format!("{} (column {} of {:?})", self.msg, self.column, self.expr)
    }
}

/// A number as written: (value, digit count, original digits).
type Num = (u64, usize, String);

/// Fold names into ClusterShell-style ranges on their last run of digits:
/// `web01 web02 web03 db1` → `db1,web[01-03]`. Zero-padding is kept: numbers
/// only join a range when written with the same width (or both unpadded).
pub fn fold<S: AsRef<str>>(names: &[S]) -> String {
    let mut groups: BTreeMap<(String, String), Vec<Num>> = BTreeMap::new();
    let mut plain: Vec<String> = Vec::new();
    for name in names {
        let name = name.as_ref();
        match split_last_number(name) {
            Some((prefix, digits, suffix)) => match digits.parse::<u64>() {
                Ok(v) => groups
                    .entry((prefix.to_string(), suffix.to_string()))
                    .or_default()
                    .push((v, digits.len(), digits.to_string())),
                Err(_) => plain.push(name.to_string()),
            },
            None => plain.push(name.to_string()),
        }
    }
    let mut parts: Vec<String> = plain;
    for ((prefix, suffix), mut nums) in groups {
        nums.sort();
        nums.dedup();
        if nums.len() == 1 {
            parts.push(format!("{prefix}{}{suffix}", nums[0].2));
            continue;
        }
        let ranges = ranges(&nums);
        parts.push(format!("{prefix}[{}]{suffix}", ranges.join(",")));
    }
    parts.sort();
    parts.dedup();
    parts.join(",")
}

fn ranges(nums: &[Num]) -> Vec<String> {
    // Width matters only for padded numbers ("007" vs "7").
    let padded = |n: &Num| n.2.starts_with('0') && n.2.len() > 1;
    let same_form = |a: &Num, b: &Num| padded(a) == padded(b) && (!padded(a) || a.1 == b.1);
    let mut out = Vec::new();
    let mut i = 0;
    while i < nums.len() {
        let mut j = i;
        while j + 1 < nums.len()
            && nums[j + 1].0 == nums[j].0 + 1
            && same_form(&nums[j + 1], &nums[i])
        {
            j += 1;
        }
        if j == i {
            out.push(nums[i].2.clone());
        } else {
            out.push(format!("{}-{}", nums[i].2, nums[j].2));
        }
        i = j + 1;
    }
    out
}

fn split_last_number(name: &str) -> Option<(&str, &str, &str)> {
    let bytes = name.as_bytes();
    let end = bytes.iter().rposition(u8::is_ascii_digit)? + 1;
    let start = bytes[..end]
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |p| p + 1);
    Some((&name[..start], &name[start..end], &name[end..]))
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
    fn huge_expansions_are_refused() {
        assert!(err("n[1-99999999]").msg.contains("more than"));
        assert!(err("a[1-1000]b[1-1000]c[1-1000]").msg.contains("more than"));
    }

    #[test]
    fn folds_consecutive_and_keeps_padding() {
        assert_eq!(fold(&["web01", "web02", "web03", "web07"]), "web[01-03,07]");
        assert_eq!(fold(&["n9", "n10", "n11"]), "n[9-11]");
        assert_eq!(fold(&["web1", "web01"]), "web[1,01]");
    }

    #[test]
    fn folds_on_last_number_and_keeps_strangers() {
        assert_eq!(
            fold(&["root@127.0.0.1:2202", "root@127.0.0.1:2201", "db"]),
            "db,root@127.0.0.1:[2201-2202]"
        );
        assert_eq!(fold(&["rack1-n4.dc"]), "rack1-n4.dc");
        assert_eq!(fold(&["a", "a"]), "a");
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
