//! Ansible's INI inventory format: `[group]` sections of host lines
//! (`pattern[:port] key=value …`, split as a POSIX shell would with
//! `#` starting a comment), `[group:vars]` with `key = value` lines and
//! `[group:children]` naming groups, which may be defined further down.

use std::collections::BTreeMap;
use std::path::Path;

use super::data::{Data, UNGROUPED};
use super::pattern::expand_pattern;
use super::value::{Var, ini_value};
use crate::inventory::sources::{Origin, SourceError};

#[derive(PartialEq, Clone, Copy)]
enum SectionKind {
    Hosts,
    Vars,
    Children,
}

/// A `[x:children]` or `[x:vars]` naming a group not defined yet: Ansible
/// waits for the group's own section and refuses the file without one.
struct Pending {
    line: usize,
    state: SectionKind,
    parents: Vec<(usize, Origin)>,
}

fn err(origin: &Origin, msg: impl Into<String>) -> SourceError {
    SourceError::Invalid {
        origin: origin.clone(),
        msg: msg.into(),
    }
}

pub(crate) fn parse(path: &Path, text: &str, data: &mut Data) -> Result<(), SourceError> {
    let mut pending: BTreeMap<String, Pending> = BTreeMap::new();
    let mut group = UNGROUPED;
    let mut state = SectionKind::Hosts;
    for (i, raw) in text.lines().enumerate() {
        let origin = Origin::new(path, i + 1);
        let line = raw.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some((name, kind)) = section(line) {
            state = match kind {
                None | Some("hosts") => SectionKind::Hosts,
                Some("vars") => SectionKind::Vars,
                Some("children") => SectionKind::Children,
                Some(other) => {
                    return Err(err(
                        &origin,
                        format!("section [{name}:{other}] has an unknown type"),
                    ));
                }
            };
            let known = data.group(name).is_some();
            // A group a `[..:children]` section named first was named there.
            let first = match pending.get(name) {
                Some(p) if !known => Origin::new(path, p.line),
                _ => origin.clone(),
            };
            group = data.add_group(name, &first);
            if !known && state == SectionKind::Vars && !pending.contains_key(name) {
                pending.insert(
                    name.to_string(),
                    Pending {
                        line: i + 1,
                        state,
                        parents: Vec::new(),
                    },
                );
            }
            if state != SectionKind::Vars && pending.contains_key(name) {
                add_pending_children(name, &mut pending, data)?;
            }
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            return Err(err(
                &origin,
                "invalid section: no spaces are allowed in a section name, nor other characters after it",
            ));
        }
        match state {
            SectionKind::Hosts => host_line(line, group, &origin, data)?,
            SectionKind::Vars => {
                let Some((k, v)) = line.split_once('=') else {
                    return Err(err(&origin, "expected key=value"));
                };
                let var = Var {
                    value: ini_value(v.trim()),
                    origin: origin.clone(),
                };
                data.set_group_var(group, k.trim(), var)?;
            }
            SectionKind::Children => {
                let Some(child) = group_name(line) else {
                    return Err(err(&origin, "expected a group name"));
                };
                match data.group(child) {
                    Some(c) => {
                        data.add_child(group, c, &origin)?;
                    }
                    None => {
                        let p = pending.entry(child.to_string()).or_insert(Pending {
                            line: i + 1,
                            state: SectionKind::Children,
                            parents: Vec::new(),
                        });
                        p.parents.push((group, origin.clone()));
                    }
                }
            }
        }
    }
    if let Some((name, p)) = pending.into_iter().min_by_key(|(_, p)| p.line) {
        let origin = Origin::new(path, p.line);
        return Err(match p.state {
            SectionKind::Vars => err(
                &origin,
                format!("[{name}:vars] names a group that is not defined"),
            ),
            _ => err(
                &origin,
                format!("a [..:children] section names {name:?}, a group that is not defined"),
            ),
        });
    }
    Ok(())
}

fn add_pending_children(
    name: &str,
    pending: &mut BTreeMap<String, Pending>,
    data: &mut Data,
) -> Result<(), SourceError> {
    // A worklist, not recursion: a chain of pending groups may be as
    // long as the file.
    let mut work = vec![name.to_string()];
    while let Some(name) = work.pop() {
        let (Some(p), Some(child)) = (pending.remove(&name), data.group(&name)) else {
            continue;
        };
        for (parent, origin) in p.parents {
            data.add_child(parent, child, &origin)?;
            let parent_name = data.groups[parent].name.clone();
            if pending
                .get(&parent_name)
                .is_some_and(|q| q.state == SectionKind::Children)
            {
                work.push(parent_name);
            }
        }
    }
    Ok(())
}

/// `[name]` or `[name:kind]`, optionally followed by a comment.
fn section(line: &str) -> Option<(&str, Option<&str>)> {
    let rest = line.strip_prefix('[')?;
    let close = rest.find(']')?;
    let after = rest[close + 1..].trim_start();
    if !(after.is_empty() || after.starts_with('#')) {
        return None;
    }
    let inner = &rest[..close];
    let (name, kind) = match inner.split_once(':') {
        Some((n, k)) => (n, Some(k)),
        None => (inner, None),
    };
    let name_ok = !name.is_empty() && !name.contains(char::is_whitespace);
    let kind_ok =
        kind.is_none_or(|k| !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_'));
    (name_ok && kind_ok).then_some((name, kind))
}

/// A group name alone on a line, optionally followed by a comment.
fn group_name(line: &str) -> Option<&str> {
    let end = line
        .find(|c: char| c.is_whitespace() || c == '#')
        .unwrap_or(line.len());
    let (name, rest) = line.split_at(end);
    let rest = rest.trim_start();
    let ok = !name.is_empty()
        && !name.contains([':', ']'])
        && (rest.is_empty() || rest.starts_with('#'));
    ok.then_some(name)
}

fn host_line(
    line: &str,
    group: usize,
    origin: &Origin,
    data: &mut Data,
) -> Result<(), SourceError> {
    let tokens =
        shell_split(line).map_err(|e| err(origin, format!("cannot split the host line: {e}")))?;
    let Some((pattern, assignments)) = tokens.split_first() else {
        return Err(err(origin, "an empty host line"));
    };
    let (names, port) = expand_pattern(pattern).map_err(|e| err(origin, e))?;
    if pattern.trim().ends_with(':') && port.is_none() {
        return Err(err(
            origin,
            format!("host pattern {pattern:?} ends in ':', which is kept for a port"),
        ));
    }
    if names.iter().any(|n| n.trim() == "---") {
        return Err(err(
            origin,
            "host pattern '---': this looks like a YAML file",
        ));
    }
    let mut vars = Vec::new();
    for t in assignments {
        let Some((k, v)) = t.split_once('=') else {
            return Err(err(
                origin,
                format!("expected key=value after the host, got {t:?}"),
            ));
        };
        vars.push((k.to_string(), ini_value(v)));
    }
    for name in names {
        let h = data.add_host(&name, Some(group), port, origin)?;
        for (k, v) in &vars {
            let var = Var {
                value: v.clone(),
                origin: origin.clone(),
            };
            data.set_host_var(h, k, var);
        }
    }
    Ok(())
}

/// A line split into words as Python's `shlex.split(line, comments=True)`
/// splits it: quotes, backslash escapes, `#` starting a comment outside
/// quotes.
pub(crate) fn shell_split(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '#' => break,
            '\\' => {
                word.push(chars.next().ok_or("no character after '\\'")?);
                in_word = true;
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next().ok_or("no closing quotation")? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next().ok_or("no closing quotation")? {
                        '"' => break,
                        '\\' => match chars.next().ok_or("no closing quotation")? {
                            c @ ('"' | '\\') => word.push(c),
                            c => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        c => word.push(c),
                    }
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(word);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::value::PyValue;
    use super::*;

    fn read(text: &str) -> Result<Data, SourceError> {
        let mut d = Data::new();
        parse(Path::new("/i.ini"), text, &mut d)?;
        d.reconcile();
        Ok(d)
    }

    #[test]
    fn shell_split_follows_posix_shlex() {
        assert_eq!(
            shell_split(r#"h a="b c" d='e f'#x g"#).unwrap(),
            ["h", "a=b c", "d=e f"]
        );
        assert_eq!(shell_split(r#"a\ b "x\"y""#).unwrap(), ["a b", "x\"y"]);
        assert_eq!(shell_split("a ''").unwrap(), ["a", ""]);
        assert!(shell_split("a 'b").is_err());
    }

    #[test]
    fn hosts_vars_children_and_ports() {
        let d = read(
            "top1 ansible_host=10.0.0.1\n[web]\nw[1:2]:2222 ansible_user='bob'\n\
             [web:vars]\nansible_port = 22\n[prod:children]\nweb\ndb # later\n[db]\ndb1\n",
        )
        .unwrap();
        let web = d.group("web").unwrap();
        let prod = d.group("prod").unwrap();
        assert_eq!(d.members(web).len(), 2);
        assert_eq!(d.members(prod).len(), 3);
        let w1 = d.host("w1").unwrap();
        assert_eq!(d.hosts[w1].vars["ansible_port"].value, PyValue::Int(2222));
        assert_eq!(
            d.hosts[w1].vars["ansible_user"].value,
            PyValue::Str("bob".into())
        );
        assert_eq!(d.hosts[w1].origin.line, 3);
        assert_eq!(d.groups[web].vars["ansible_port"].origin.line, 5);
        // `db` is named first in prod's children, then defined.
        let db = d.group("db").unwrap();
        assert_eq!(d.groups[db].origin.as_ref().map(|o| o.line), Some(8));
    }

    #[test]
    fn errors_name_the_line() {
        for (text, line) in [
            ("a\n[web:vars]\nx=1\n", 2),
            ("[p:children]\nghost\n", 2),
            ("[web]\nh x\n", 2),
            ("[web]\n\nh:\n", 3),
            ("[we b]\n", 1),
            ("[web:other]\n", 1),
            ("[web]\n[web:vars]\nnokey\n", 3),
            ("[a:children]\nb\n[b:children]\na\n", 4),
        ] {
            let e = read(text).unwrap_err().to_string();
            assert!(e.starts_with(&format!("/i.ini:{line}: ")), "{text:?}: {e}");
        }
    }
}
