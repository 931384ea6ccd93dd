//! A YAML document as a tree that keeps each node's line, built from
//! yaml-rust2's events (its own document type drops positions). Scalars
//! keep their style and tag so they can be typed as PyYAML types them.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::scalar::{PyValue, yaml_plain};

#[derive(Debug, Clone)]
pub(crate) enum NodeKind {
    Scalar {
        text: String,
        plain: bool,
        tag: Option<String>,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: NodeKind,
    /// 1-based.
    pub line: usize,
}

/// Aliases copy what they name; past this many nodes a document is a
/// "billion laughs" and refused.
const MAX_NODES: usize = 2_000_000;

/// Deeper than any inventory, and shallow enough for the recursive
/// readers of the tree.
const MAX_DEPTH: usize = 200;

impl Node {
    /// The value as Ansible would hold it.
    pub fn value(&self) -> PyValue {
        match &self.kind {
            NodeKind::Scalar { text, plain, tag } => match tag.as_deref() {
                Some("!vault") => PyValue::Vault,
                Some("!unsafe") => PyValue::Literal(text.clone()),
                Some("tag:yaml.org,2002:str") => PyValue::Str(text.clone()),
                Some("tag:yaml.org,2002:int") | Some("tag:yaml.org,2002:bool") => yaml_plain(text),
                _ if *plain => yaml_plain(text),
                _ => PyValue::Str(text.clone()),
            },
            _ => PyValue::Compound,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value(), PyValue::Null) && matches!(self.kind, NodeKind::Scalar { .. })
    }

    /// The text of a key that is a string in Python (a plain `22` or
    /// `yes` is not).
    pub fn key_text(&self) -> Option<String> {
        match self.value() {
            PyValue::Str(s) | PyValue::Literal(s) => Some(s),
            _ => None,
        }
    }

    /// A mapping's entries, each key once with its last value (as a
    /// Python dict keeps them), `<<` merges applied.
    pub fn entries(&self) -> Option<Vec<(&Node, &Node)>> {
        let NodeKind::Map(pairs) = &self.kind else {
            return None;
        };
        let mut out: Vec<(&Node, &Node)> = Vec::new();
        let mut at: HashMap<String, usize> = HashMap::new();
        let mut merged: Vec<(&Node, &Node)> = Vec::new();
        for (k, v) in pairs {
            if matches!(&k.kind, NodeKind::Scalar { text, plain: true, .. } if text == "<<") {
                let sources: Vec<&Node> = match &v.kind {
                    NodeKind::Seq(items) => items.iter().collect(),
                    _ => vec![v],
                };
                for s in sources {
                    merged.extend(s.entries().unwrap_or_default());
                }
                continue;
            }
            let key = key_id(k);
            match at.get(&key) {
                Some(&i) => out[i].1 = v,
                None => {
                    at.insert(key, out.len());
                    out.push((k, v));
                }
            }
        }
        for (k, v) in merged {
            let key = key_id(k);
            if let std::collections::hash_map::Entry::Vacant(e) = at.entry(key) {
                e.insert(out.len());
                out.push((k, v));
            }
        }
        Some(out)
    }
}

fn key_id(k: &Node) -> String {
    match &k.kind {
        NodeKind::Scalar { text, .. } => format!("{:?}", (k.value(), text)),
        _ => format!("{:p}", k),
    }
}

enum OpenCollection {
    Seq(Vec<Node>, usize, usize),
    Map(Vec<(Node, Node)>, Option<Node>, usize, usize),
}

#[derive(Default)]
struct Builder {
    stack: Vec<OpenCollection>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    nodes: usize,
    error: Option<(usize, String)>,
}

impl Builder {
    fn push(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            Some(OpenCollection::Seq(items, _, _)) => items.push(node),
            Some(OpenCollection::Map(pairs, key, _, _)) => match key.take() {
                Some(k) => pairs.push((k, node)),
                None => *key = Some(node),
            },
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
        }
    }
}

fn count(n: &Node) -> usize {
    match &n.kind {
        NodeKind::Scalar { .. } => 1,
        NodeKind::Seq(v) => 1 + v.iter().map(count).sum::<usize>(),
        NodeKind::Map(v) => 1 + v.iter().map(|(a, b)| count(a) + count(b)).sum::<usize>(),
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let line = mark.line().max(1);
        let tag_of = |t: Option<yaml_rust2::parser::Tag>| {
            t.map(|t| match t.handle.as_str() {
                "!" => format!("!{}", t.suffix),
                "!!" => format!("tag:yaml.org,2002:{}", t.suffix),
                h => format!("{h}{}", t.suffix),
            })
        };
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let plain = matches!(style, TScalarStyle::Plain);
                let tag = tag_of(tag);
                self.nodes += 1;
                self.push(
                    Node {
                        kind: NodeKind::Scalar { text, plain, tag },
                        line,
                    },
                    anchor,
                );
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if self.stack.len() >= MAX_DEPTH => {
                self.error = Some((line, format!("nested deeper than {MAX_DEPTH} levels")));
            }
            Event::SequenceStart(anchor, _) => {
                self.stack
                    .push(OpenCollection::Seq(Vec::new(), anchor, line))
            }
            Event::MappingStart(anchor, _) => {
                self.stack
                    .push(OpenCollection::Map(Vec::new(), None, anchor, line))
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(OpenCollection::Seq(items, a, l)) => (
                        Node {
                            kind: NodeKind::Seq(items),
                            line: l,
                        },
                        a,
                    ),
                    Some(OpenCollection::Map(pairs, _, a, l)) => (
                        Node {
                            kind: NodeKind::Map(pairs),
                            line: l,
                        },
                        a,
                    ),
                    None => return,
                };
                self.nodes += 1;
                self.push(node, anchor);
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(node) => {
                    self.nodes += count(&node);
                    if self.nodes > MAX_NODES {
                        self.error = Some((line, "the aliases expand to too many nodes".into()));
                        return;
                    }
                    self.push(node, 0);
                }
                None => self.error = Some((line, format!("alias to an unknown anchor ({id})"))),
            },
            _ => {}
        }
    }
}

/// The first document of `text`, None when it is empty. Errors are
/// (line, message).
pub(crate) fn parse(text: &str) -> Result<Option<Node>, (usize, String)> {
    let mut b = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser
        .load(&mut b, false)
        .map_err(|e| (e.marker().line().max(1), e.info().to_string()))?;
    if let Some(e) = b.error {
        return Err(e);
    }
    Ok(b.root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_tags_aliases_and_merges() {
        let doc = parse("a: &x\n  p: 22\nb:\n  <<: *x\n  q: !vault |\n    abc\nc: '22'\n")
            .unwrap()
            .unwrap();
        let top = doc.entries().unwrap();
        assert_eq!(top.len(), 3);
        assert_eq!(top[1].0.line, 3);
        let b = top[1].1.entries().unwrap();
        assert_eq!(b[0].0.key_text().as_deref(), Some("q"));
        assert_eq!(b[0].1.value(), PyValue::Vault);
        assert_eq!(b[1].1.value(), PyValue::Int(22));
        assert_eq!(top[2].1.value(), PyValue::Str("22".into()));
    }

    #[test]
    fn errors_have_lines_and_empty_is_none() {
        assert!(parse("").unwrap().is_none());
        let (line, _) = parse("a: 1\nb: [\n").unwrap_err();
        assert!((2..=3).contains(&line), "{line}");
    }
}
