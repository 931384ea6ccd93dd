//! Ansible's YAML inventory format (JSON too): top-level keys are groups
//! (`all` among them), each with `hosts:` (host patterns, each with its
//! variables), `vars:` and `children:` (groups, nested the same way).
//! Also the variable files of `group_vars/` and `host_vars/`.

use std::path::Path;

use super::data::Data;
use super::pattern::expand_pattern;
use super::value::{PyValue, Var};
use crate::inventory::sources::pyyaml::{Node, NodeKind, parse as parse_tree};
use crate::inventory::sources::{Origin, SourceError};

fn err(path: &Path, line: usize, msg: impl Into<String>) -> SourceError {
    SourceError::Invalid {
        origin: Origin::new(path, line),
        msg: msg.into(),
    }
}

/// What a YAML file holds, for deciding how to read it.
pub(crate) enum Shape {
    /// A mapping: an inventory (or a plugin's configuration).
    Mapping(Node),
    /// Anything else (INI text often reads as a YAML scalar).
    Other,
    Error(usize, String),
}

pub(crate) fn shape(text: &str) -> Shape {
    match parse_tree(text) {
        Ok(Some(node)) if matches!(node.kind, NodeKind::Map(ref m) if !m.is_empty()) => {
            Shape::Mapping(node)
        }
        Ok(_) => Shape::Other,
        Err((line, msg)) => Shape::Error(line, msg),
    }
}

/// `plugin: aws_ec2` at the top: a plugin's configuration, which only
/// Ansible can run. Returns the line.
pub(crate) fn plugin_line(doc: &Node) -> Option<usize> {
    doc.entries()?.into_iter().find_map(|(k, v)| {
        let truthy = !matches!(v.value(), PyValue::Null | PyValue::Bool(false))
            && !matches!(&v.kind, NodeKind::Scalar { text, .. } if text.is_empty());
        (k.key_text().as_deref() == Some("plugin") && truthy).then_some(k.line)
    })
}

/// Reads a YAML inventory (already parsed into `doc`).
pub(crate) fn parse_inventory(path: &Path, doc: &Node, data: &mut Data) -> Result<(), SourceError> {
    let Some(entries) = doc.entries() else {
        return Err(err(
            path,
            doc.line,
            "a YAML inventory must be a mapping of groups",
        ));
    };
    for (k, v) in entries {
        group(path, k, v, data)?;
    }
    Ok(())
}

fn name_of(path: &Path, key: &Node, what: &str) -> Result<String, SourceError> {
    key.key_text().ok_or_else(|| {
        err(
            path,
            key.line,
            format!("{what} must be a string; enclose numbers and booleans in quotes"),
        )
    })
}

/// One group's definition; returns the group, or None when Ansible
/// skips the entry (it is neither a mapping nor empty).
fn group(
    path: &Path,
    key: &Node,
    body: &Node,
    data: &mut Data,
) -> Result<Option<usize>, SourceError> {
    let name = name_of(path, key, "a group name")?;
    if !(body.is_null() || matches!(body.kind, NodeKind::Map(_))) {
        // Ansible skips the definition but still names the group, which
        // is fine when it is defined elsewhere.
        return Ok(data.group(&name));
    }
    let g = data.add_group(&name, &Origin::new(path, key.line));
    let Some(sections) = body.entries() else {
        return Ok(Some(g));
    };
    for (skey, sval) in sections {
        let Some(section) = skey.key_text() else {
            continue;
        };
        if !matches!(section.as_str(), "vars" | "children" | "hosts") {
            continue;
        }
        // A lone string stands for a mapping with that one key.
        let single = match &sval.kind {
            NodeKind::Scalar { .. }
                if !sval.is_null() && matches!(sval.value(), PyValue::Str(_)) =>
            {
                Some(sval)
            }
            _ => None,
        };
        if !(single.is_some() || sval.is_null() || matches!(sval.kind, NodeKind::Map(_))) {
            return Err(err(
                path,
                sval.line,
                format!("the {section:?} entry of group {name:?} must be a mapping"),
            ));
        }
        let null = Node {
            kind: NodeKind::Scalar {
                text: String::new(),
                plain: true,
                tag: None,
            },
            line: sval.line,
        };
        let pairs: Vec<(&Node, &Node)> = match single {
            Some(s) => vec![(s, &null)],
            None => sval.entries().unwrap_or_default(),
        };
        for (k, v) in pairs {
            match section.as_str() {
                "vars" => {
                    let Some(var) = k.key_text() else { continue };
                    let value = Var {
                        value: v.value(),
                        origin: Origin::new(path, k.line),
                    };
                    data.set_group_var(g, &var, value)?;
                }
                "children" => match group(path, k, v, data)? {
                    Some(child) => data.add_child(g, child, &Origin::new(path, k.line))?,
                    None => {
                        return Err(err(
                            path,
                            v.line,
                            "a child group must be a mapping or empty, or a group defined before",
                        ));
                    }
                },
                _ => hosts(path, g, k, v, data)?,
            }
        }
    }
    Ok(Some(g))
}

fn hosts(
    path: &Path,
    g: usize,
    key: &Node,
    vars: &Node,
    data: &mut Data,
) -> Result<(), SourceError> {
    let pattern = name_of(path, key, "a host pattern")?;
    let origin = Origin::new(path, key.line);
    let (names, port) = expand_pattern(&pattern).map_err(|e| err(path, key.line, e))?;
    let entries = match &vars.kind {
        _ if vars.is_null() => Vec::new(),
        NodeKind::Map(_) => vars.entries().unwrap_or_default(),
        _ => {
            return Err(err(
                path,
                vars.line,
                format!("host {pattern:?}: its variables must be a mapping"),
            ));
        }
    };
    for name in names {
        let h = data.add_host(&name, Some(g), port, &origin)?;
        for (k, v) in &entries {
            if let Some(var) = k.key_text() {
                let value = Var {
                    value: v.value(),
                    origin: Origin::new(path, k.line),
                };
                data.set_host_var(h, &var, value);
            }
        }
    }
    Ok(())
}

/// A `group_vars/` or `host_vars/` file: its variables, in order, or
/// [`VarsFile::Vaulted`] for a vault-encrypted file, whose variables
/// only Ansible (with the vault password) can know.
pub(crate) enum VarsFile {
    Vars(Vec<(String, Var)>),
    Vaulted,
}

pub(crate) fn parse_vars_file(path: &Path, text: &str) -> Result<VarsFile, SourceError> {
    if text.trim_start().starts_with("$ANSIBLE_VAULT") {
        return Ok(VarsFile::Vaulted);
    }
    let doc = parse_tree(text).map_err(|(line, msg)| err(path, line, msg))?;
    let Some(doc) = doc.filter(|d| !d.is_null()) else {
        return Ok(VarsFile::Vars(Vec::new()));
    };
    let Some(entries) = doc.entries() else {
        return Err(err(path, doc.line, "a variables file must be a mapping"));
    };
    let vars = entries
        .into_iter()
        .filter_map(|(k, v)| {
            let var = Var {
                value: v.value(),
                origin: Origin::new(path, k.line),
            };
            k.key_text().map(|name| (name, var))
        })
        .collect();
    Ok(VarsFile::Vars(vars))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Data, SourceError> {
        let mut d = Data::new();
        let Shape::Mapping(doc) = shape(text) else {
            panic!("not a mapping: {text}");
        };
        parse_inventory(Path::new("/i.yml"), &doc, &mut d)?;
        d.reconcile();
        Ok(d)
    }

    #[test]
    fn groups_children_hosts_and_vars() {
        let d = read(
            "all:\n  vars:\n    ansible_user: root\n  children:\n    web:\n      hosts:\n        \
             w[1:3]:\n          ansible_port: 2222\n    prod:\n      children:\n        web:\n\
             \x20 hosts:\n    lone:\n",
        )
        .unwrap();
        let web = d.group("web").unwrap();
        let prod = d.group("prod").unwrap();
        assert_eq!(d.members(web).len(), 3);
        assert_eq!(d.members(prod).len(), 3);
        let w2 = d.host("w2").unwrap();
        assert_eq!(d.hosts[w2].vars["ansible_port"].value, PyValue::Int(2222));
        assert_eq!(d.hosts[w2].origin.line, 7);
        assert_eq!(d.host("lone").map(|h| d.hosts[h].origin.line), Some(13));
    }

    #[test]
    fn errors_name_the_line() {
        for (text, line) in [
            ("all:\n  hosts:\n    22:\n", 3),
            ("web:\n  hosts: [a, b]\n", 2),
            ("web:\n  hosts:\n    h: 5\n", 3),
            ("web:\n  hosts:\n    n[01:1]:\n", 3),
            ("a:\n  children:\n    b:\n      children:\n        a:\n", 3),
        ] {
            let e = read(text).unwrap_err().to_string();
            assert!(e.starts_with(&format!("/i.yml:{line}: ")), "{text:?}: {e}");
        }
    }

    #[test]
    fn plugin_configurations_are_recognised() {
        let Shape::Mapping(doc) = shape("---\nplugin: amazon.aws.aws_ec2\nregions: [x]\n") else {
            panic!()
        };
        assert_eq!(plugin_line(&doc), Some(2));
    }
}
