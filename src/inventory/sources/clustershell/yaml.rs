//! Group files in an `autodir` (`groups.d/*.yaml`): a mapping of source
//! names to mappings of group names to nodes, as ClusterShell's
//! YAMLGroupLoader reads them. A group's nodes are a string or a list of
//! strings; its `all` group answers `@source:*`.
//!
//! ClusterShell reports a group whose nodes are not text only when that
//! group is asked for; we refuse the file as it is read, so no source is
//! half-loaded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::config::visible;
use super::names;
use super::upcall::{compact, words_to_nodes};
use crate::inventory::sources::pyyaml::{self, Node, NodeKind, PyValue};
use crate::inventory::sources::{GroupDef, GroupSource, Origin, SourceError};

/// One source of a YAML group file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlSource {
    pub name: String,
    pub file: PathBuf,
    /// Where the source's key is written.
    pub origin: Origin,
    /// Group name, its nodes (`a,b,c`) and line, in the file's order.
    pub groups: Vec<(String, String, usize)>,
    index: HashMap<String, usize>,
}

fn invalid(path: &Path, line: usize, msg: impl Into<String>) -> SourceError {
    SourceError::Invalid {
        origin: Origin::new(path, line),
        msg: msg.into(),
    }
}

/// Parse one YAML group file's text into its sources, in order.
pub fn parse(path: &Path, text: &str) -> Result<Vec<YamlSource>, SourceError> {
    let doc = pyyaml::parse(text)
        .map_err(|(line, msg)| invalid(path, line, format!("not YAML: {}", visible(&msg))))?;
    let Some(sources) = doc.as_ref().and_then(Node::entries) else {
        return Err(invalid(path, 1, "invalid content (base is not a dict)"));
    };
    let mut out = Vec::new();
    for (key, groups) in sources {
        let Some(name) = key.key_text() else {
            return Err(invalid(
                path,
                key.line,
                format!("group source {} is not a string (add quotes?)", show(key)),
            ));
        };
        let Some(groups) = groups.entries() else {
            return Err(invalid(
                path,
                key.line,
                format!(
                    "invalid content (group source '{}' is not a dict)",
                    visible(&name)
                ),
            ));
        };
        let mut source = YamlSource {
            name: name.clone(),
            file: path.to_path_buf(),
            origin: Origin::new(path, key.line),
            groups: Vec::new(),
            index: HashMap::new(),
        };
        for (gkey, nodes) in groups {
            let Some(group) = gkey.key_text() else {
                return Err(invalid(
                    path,
                    gkey.line,
                    format!(
                        "{}: group name {} is not a string (add quotes?)",
                        visible(&name),
                        show(gkey)
                    ),
                ));
            };
            let at = Origin::new(path, gkey.line);
            names::checked(std::iter::once(group.as_str()), &at)?;
            let nodes = node_list(nodes).map_err(|what| {
                invalid(
                    path,
                    gkey.line,
                    format!("{}: group {}: {what}", visible(&name), visible(&group)),
                )
            })?;
            source.index.insert(group.clone(), source.groups.len());
            source.groups.push((group, nodes, gkey.line));
        }
        out.push(source);
    }
    Ok(out)
}

/// A group's nodes: one text, or a list of texts (each may hold several
/// names); the error says what was found instead.
fn node_list(nodes: &Node) -> Result<String, String> {
    let text = |n: &Node| match n.value() {
        PyValue::Str(s) => Some(s),
        _ => None,
    };
    match &nodes.kind {
        NodeKind::Seq(items) => {
            let mut words = Vec::new();
            for item in items {
                let Some(s) = text(item) else {
                    return Err(format!("a node list holds {}, not text", show(item)));
                };
                words.push(s);
            }
            Ok(words_to_nodes(&words.join(",")))
        }
        _ => text(nodes)
            .map(|s| words_to_nodes(&s))
            .ok_or_else(|| format!("nodes must be text or a list of text, not {}", show(nodes))),
    }
}

/// A YAML node as a message shows it: what it is, as PyYAML reads it.
fn show(n: &Node) -> String {
    match (&n.kind, n.value()) {
        (NodeKind::Seq(_), _) => "a list".into(),
        (NodeKind::Map(_), _) => "a mapping".into(),
        (_, PyValue::Null) => "nothing".into(),
        (NodeKind::Scalar { text, .. }, PyValue::Bool(_)) => {
            format!("{} (a boolean)", visible(text))
        }
        (NodeKind::Scalar { text, .. }, PyValue::Int(_) | PyValue::Float(_)) => visible(text),
        (NodeKind::Scalar { text, .. }, PyValue::Str(_)) => format!("{:?}", visible(text)),
        (NodeKind::Scalar { text, tag, .. }, _) => format!(
            "{} (tagged {})",
            visible(text),
            visible(tag.as_deref().unwrap_or("?"))
        ),
    }
}

impl GroupSource for YamlSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn describe(&self) -> String {
        format!(
            "ClusterShell source {} ({})",
            visible(&self.name),
            self.origin
        )
    }

    fn group(&self, group: &str) -> Result<Option<GroupDef>, SourceError> {
        Ok(self.index.get(group).map(|&i| {
            let (_, nodes, line) = &self.groups[i];
            GroupDef {
                nodes: nodes.clone(),
                origin: Origin::new(&self.file, *line),
            }
        }))
    }

    fn group_names(&self) -> Result<Option<Vec<String>>, SourceError> {
        let listed = self.groups.iter().map(|(g, _, _)| g.as_str());
        names::checked(listed, &self.origin).map(Some)
    }

    fn all_nodes(&self) -> Result<Option<String>, SourceError> {
        if let Some(all) = self.group("all")? {
            return Ok(Some(all.nodes));
        }
        // ClusterShell's fallback: every group's nodes.
        Ok(Some(compact(
            self.groups.iter().map(|(_, n, _)| n.as_str()),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Result<Vec<YamlSource>, SourceError> {
        parse(Path::new("/d/a.yaml"), text)
    }

    #[test]
    fn sources_groups_and_lines() {
        let got = one(
            "roles:\n  web: 'web[1-2]'\n  db:\n    - db1\n    - db2 db3\nracks:\n  all: n[1-4]\n",
        )
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].name, "roles");
        let web = got[0].group("web").unwrap().unwrap();
        assert_eq!(web.nodes, "web[1-2]");
        assert_eq!(web.origin, Origin::new("/d/a.yaml", 2));
        assert_eq!(got[0].group("db").unwrap().unwrap().nodes, "db[1-3]");
        assert_eq!(got[0].group("nope").unwrap(), None);
        assert_eq!(got[0].all_nodes().unwrap().unwrap(), "db[1-3],web[1-2]");
        assert_eq!(got[1].all_nodes().unwrap().unwrap(), "n[1-4]");
        assert_eq!(got[1].origin, Origin::new("/d/a.yaml", 6));
        assert_eq!(got[0].group_names().unwrap().unwrap(), ["web", "db"]);
    }

    #[test]
    fn bad_content_is_refused_with_its_place() {
        for (text, want) in [
            ("- a\n", "base is not a dict"),
            ("", "base is not a dict"),
            ("s: [a]\n", "is not a dict"),
            ("s:\n  1: a\n", "not a string"),
            (
                "s:\n  g: 5\n",
                "/d/a.yaml:2: s: group g: nodes must be text",
            ),
            ("s:\n  g:\n", "not nothing"),
            ("s:\n  g: [a, 1]\n", "holds 1"),
            ("s:\n  'a,b': x\n", "/d/a.yaml:2: group name"),
            ("s: {a: [\n", "/d/a.yaml:"),
            // YAML 1.1, as PyYAML reads it: a bare `no` is false, not text.
            ("s:\n  no: a\n", "/d/a.yaml:2: s: group name no (a boolean)"),
            ("s:\n  g: yes\n", "not yes (a boolean)"),
            ("s:\n  g: 0x1F\n", "not 0x1F"),
            ("s:\n  g: !vault x\n", "tagged !vault"),
        ] {
            let e = one(text).expect_err(text).to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn lines_come_from_the_parser_and_last_duplicate_wins() {
        let got = one("# c\nr: {web: 'w1', db: d1}\nq:\n  g: a\n  g: b\n").unwrap();
        assert_eq!(got[0].origin, Origin::new("/d/a.yaml", 2));
        assert_eq!(got[0].group("db").unwrap().unwrap().origin.line, 2);
        // A Python dict keeps the last value of a repeated key.
        assert_eq!(got[1].group("g").unwrap().unwrap().nodes, "b");
        assert_eq!(got[1].groups.len(), 1);
        // Quoted, `no` is text.
        assert!(
            one("s:\n  'no': a\n").unwrap()[0]
                .group("no")
                .unwrap()
                .is_some()
        );
    }
}
