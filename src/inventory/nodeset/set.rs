//! The set a node-set expression stands for: names in the order written,
//! no duplicates, and the operators between terms.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};

/// An ordered set of names: insertion order, no duplicates.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct NodeSet {
    pub(super) names: Vec<String>,
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
    pub(super) fn from_vec(v: Vec<String>) -> Self {
        // Marks first, then filter: no name is copied, as sets run to a
        // million names.
        let keep: Vec<bool> = {
            let mut seen = HashSet::with_capacity(v.len());
            v.iter().map(|n| seen.insert(n.as_str())).collect()
        };
        if keep.iter().all(|&k| k) {
            return NodeSet { names: v };
        }
        let names = v
            .into_iter()
            .zip(keep)
            .filter_map(|(n, k)| k.then_some(n))
            .collect();
        NodeSet { names }
    }
    /// `!`, `&` or `^`; unions are [`Acc`]'s.
    fn apply(self, op: char, rhs: NodeSet) -> NodeSet {
        let rset: HashSet<&String> = rhs.names.iter().collect();
        match op {
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

/// The set being built, left to right. A union (by far the most common
/// operator: `a1,a2,...`) adds to it in place through a lasting index, so
/// a list of n names costs O(n), not O(n²). The index holds positions,
/// not copies of the names, as sets run to a million: one hash → the
/// latest position with it, `chain` → the one before, and so on.
#[derive(Default)]
pub(super) struct Acc {
    pub(super) names: Vec<String>,
    index: HashMap<u64, usize>,
    chain: Vec<usize>,
    hasher: RandomState,
}

const NONE: usize = usize::MAX;

impl Acc {
    fn contains(&self, name: &str) -> bool {
        let mut at = self
            .index
            .get(&self.hasher.hash_one(name))
            .copied()
            .unwrap_or(NONE);
        while at != NONE {
            if self.names[at] == name {
                return true;
            }
            at = self.chain[at];
        }
        false
    }

    /// Indexes the names not indexed yet: done only when a union needs it,
    /// so a lone term (`n[1-1000000]`) is never indexed.
    fn catch_up(&mut self) {
        for i in self.chain.len()..self.names.len() {
            let h = self.hasher.hash_one(self.names[i].as_str());
            self.chain.push(self.index.insert(h, i).unwrap_or(NONE));
        }
    }

    pub(super) fn apply(&mut self, op: char, rhs: NodeSet) {
        if op == ',' && self.names.is_empty() {
            // Terms hold no duplicates already.
            self.names = rhs.names;
        } else if op == ',' {
            self.catch_up();
            for name in rhs.names {
                if !self.contains(&name) {
                    self.names.push(name);
                    self.catch_up();
                }
            }
        } else {
            let lhs = NodeSet {
                names: std::mem::take(&mut self.names),
            };
            self.index.clear();
            self.chain.clear();
            self.names = lhs.apply(op, rhs).names;
        }
    }
}
