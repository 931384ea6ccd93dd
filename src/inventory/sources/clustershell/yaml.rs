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

use serde_yaml::Value;

use super::config::visible;
use super::names;
use super::upcall::{compact, words_to_nodes};
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
    let doc: Value = serde_yaml::from_str(text).map_err(|e| {
        let line = e.location().map_or(0, |l| l.line());
        invalid(path, line, format!("not YAML: {}", visible(&e.to_string())))
    })?;
    let Value::Mapping(sources) = doc else {
        return Err(invalid(path, 1, "invalid content (base is not a dict)"));
    };
    let mut out = Vec::new();
    let mut after = 0;
    for (key, groups) in sources {
        let Value::String(name) = key else {
            return Err(invalid(
                path,
                0,
                format!("group source {} is not a string (add quotes?)", show(&key)),
            ));
        };
        let src_line = line_of(text, &name, 0, after);
        after = src_line;
        let Value::Mapping(groups) = groups else {
            return Err(invalid(
                path,
                src_line,
                format!(
                    "invalid content (group source '{}' is not a dict)",
                    visible(&name)
                ),
            ));
        };
        let mut source = YamlSource {
            name: name.clone(),
            file: path.to_path_buf(),
            origin: Origin::new(path, src_line),
            groups: Vec::new(),
            index: HashMap::new(),
        };
        let mut grp_after = src_line;
        for (gkey, nodes) in groups {
            let Value::String(group) = gkey else {
                return Err(invalid(
                    path,
                    src_line,
                    format!(
                        "{}: group name {} is not a string (add quotes?)",
                        visible(&name),
                        show(&gkey)
                    ),
                ));
            };
            let line = line_of(text, &group, 1, grp_after);
            grp_after = line.max(grp_after);
            let at = Origin::new(path, line);
            names::checked(std::iter::once(group.as_str()), &at)?;
            let nodes = match nodes {
                Value::String(s) => words_to_nodes(&s),
                Value::Sequence(items) => {
                    let mut words = Vec::new();
                    for item in items {
                        let Value::String(s) = item else {
                            return Err(invalid(
                                path,
                                line,
                                format!(
                                    "{}: group {}: a node list holds {}, not text",
                                    visible(&name),
                                    visible(&group),
                                    show(&item)
                                ),
                            ));
                        };
                        words.push(s);
                    }
                    words_to_nodes(&words.join(","))
                }
                other => {
                    return Err(invalid(
                        path,
                        line,
                        format!(
                            "{}: group {}: nodes must be text or a list of text, not {}",
                            visible(&name),
                            visible(&group),
                            show(&other)
                        ),
                    ));
                }
            };
            source.index.insert(group.clone(), source.groups.len());
            source.groups.push((group, nodes, line));
        }
        out.push(source);
    }
    Ok(out)
}

/// A YAML value as a message shows it.
fn show(v: &Value) -> String {
    match v {
        Value::Null => "nothing".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{:?}", visible(s)),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a mapping".into(),
        Value::Tagged(t) => format!("a value tagged {}", t.tag),
    }
}

/// The line (1-based) where `key:` is written, at top level or indented,
/// after line `after`; 0 when it cannot be found (a flow mapping, an
/// escaped key). Lines are for messages only, never for meaning.
fn line_of(text: &str, key: &str, indent: usize, after: usize) -> usize {
    let forms = [
        format!("{key}:"),
        format!("\"{key}\":"),
        format!("'{key}':"),
    ];
    text.lines()
        .enumerate()
        .skip(after)
        .find(|(_, l)| {
            let t = l.trim_start();
            let lead = l.len() - t.len();
            (lead == 0) == (indent == 0) && forms.iter().any(|f| t.starts_with(f.as_str()))
        })
        .map_or(0, |(i, _)| i + 1)
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
        ] {
            let e = one(text).expect_err(text).to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }
}
