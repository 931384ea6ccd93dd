//! A host's variables as Ansible combines them (its documented
//! precedence and its default `precedence` setting, lowest first): the
//! inventory's `all` vars, then every other group's inventory vars, then
//! `group_vars/all`, then the other groups' `group_vars/` files, groups
//! ordered by depth (parents before children), then
//! `ansible_group_priority`, then name; then the host's inventory vars
//! and its `host_vars/` files. Later inventory paths win over earlier
//! ones within each step.

use std::collections::HashMap;
use std::path::PathBuf;

use super::Failure;
use super::data::{ALL, Data};
use super::dir::VarsFiles;
use super::value::{PyValue, Var};
use super::yaml::VarsFile;
use crate::inventory::sources::{Origin, SourceError};

/// The variables sshdeck reads; the rest never need resolving.
pub(crate) const USED: &[&str] = &[
    "ansible_host",
    "ansible_ssh_host",
    "ansible_port",
    "ansible_ssh_port",
    "ansible_user",
    "ansible_ssh_user",
    "ansible_private_key_file",
    "ansible_ssh_private_key_file",
    "ansible_ssh_args",
    "ansible_ssh_common_args",
    "ansible_ssh_extra_args",
    "ansible_connection",
];

pub(crate) type Used = HashMap<&'static str, Var>;

fn layer(used: &mut Used, key: &str, var: &Var) {
    if let Some(k) = USED.iter().find(|k| **k == key) {
        used.insert(k, var.clone());
    }
}

fn layer_files(
    used: &mut Used,
    files: &mut VarsFiles,
    bases: &[PathBuf],
    subdir: &str,
    name: &str,
) -> Result<(), SourceError> {
    for base in bases {
        for path in files.find(base, subdir, name)? {
            match files.load(&path)? {
                VarsFile::Vars(vars) => {
                    for (k, v) in vars {
                        layer(used, k, v);
                    }
                }
                // Whatever it sets is unknown: each variable sshdeck uses
                // is, from here on, a value only Ansible can read.
                VarsFile::Vaulted => {
                    for k in USED {
                        let var = Var {
                            value: PyValue::Vault,
                            origin: Origin::new(&path, 1),
                        };
                        used.insert(k, var);
                    }
                }
            }
        }
    }
    Ok(())
}

/// The used variables of host `h`, each with where its value was set.
pub(crate) fn host_vars(
    data: &Data,
    depths: &[usize],
    h: usize,
    files: &mut VarsFiles,
    bases: &[PathBuf],
) -> Result<Used, SourceError> {
    let mut used = Used::new();
    for (k, v) in &data.groups[ALL].vars {
        layer(&mut used, k, v);
    }
    let mut groups: Vec<usize> = data
        .host_groups(h)
        .into_iter()
        .filter(|&g| g != ALL)
        .collect();
    groups.sort_by(|&a, &b| {
        let (ga, gb) = (&data.groups[a], &data.groups[b]);
        (depths[a], ga.priority, &ga.name).cmp(&(depths[b], gb.priority, &gb.name))
    });
    for &g in &groups {
        for (k, v) in &data.groups[g].vars {
            layer(&mut used, k, v);
        }
    }
    layer_files(&mut used, files, bases, "group_vars", "all")?;
    for base in bases {
        for &g in &groups {
            layer_files(
                &mut used,
                files,
                std::slice::from_ref(base),
                "group_vars",
                &data.groups[g].name,
            )?;
        }
    }
    for (k, v) in &data.hosts[h].vars {
        layer(&mut used, k, v);
    }
    layer_files(&mut used, files, bases, "host_vars", &data.hosts[h].name)?;
    Ok(used)
}

/// The value of the first of `names` set, the later names winning (as
/// Ansible's ssh connection reads `ansible_ssh_host` over
/// `ansible_host`). A value Ansible would still template or decrypt is a
/// [`Failure::Oracle`].
pub(crate) fn pick<'a>(used: &'a Used, names: &[&str]) -> Result<Option<&'a Var>, Failure> {
    let Some(name) = names.iter().rev().find(|n| used.contains_key(**n)) else {
        return Ok(None);
    };
    let Some(var) = used.get(*name) else {
        return Ok(None);
    };
    match &var.value {
        PyValue::Vault => Err(Failure::Oracle {
            origin: var.origin.clone(),
            what: format!("{name} is vault-encrypted"),
        }),
        v if v.is_templated() => Err(Failure::Oracle {
            origin: var.origin.clone(),
            what: format!(
                "{name} is the template {:?}",
                crate::text::sanitize::visible_name(&v.as_text().unwrap_or_default())
            ),
        }),
        PyValue::Null => Ok(None),
        _ => Ok(Some(var)),
    }
}

/// The ProxyJump chain in ssh arguments: `-J x`, `-Jx`, `-o ProxyJump=x`,
/// `-o ProxyJump x`, `-oProxyJump=x`. The first one wins, as in ssh.
pub(crate) fn jump_in(args: &str) -> Result<Option<String>, String> {
    let words = super::ini::shell_split(args)?;
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        let option = if w == "-J" {
            i += 1;
            return Ok(words
                .get(i)
                .cloned()
                .filter(|j| !j.eq_ignore_ascii_case("none")));
        } else if let Some(rest) = w.strip_prefix("-J") {
            return Ok(Some(rest.to_string()).filter(|j| !j.eq_ignore_ascii_case("none")));
        } else if w == "-o" {
            i += 1;
            words.get(i).cloned()
        } else {
            w.strip_prefix("-o").map(str::to_string)
        };
        i += 1;
        let Some(opt) = option else { continue };
        let opt = opt.trim_start();
        let key_len = opt
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(opt.len());
        if !opt[..key_len].eq_ignore_ascii_case("proxyjump") {
            continue;
        }
        let mut value = opt[key_len..].trim_start();
        value = value.strip_prefix('=').unwrap_or(value).trim();
        let value = if value.is_empty() {
            // `-o ProxyJump x`: the chain is the next word.
            words.get(i).cloned().unwrap_or_default()
        } else {
            value.to_string()
        };
        if value.is_empty() {
            return Err("ProxyJump without a value".into());
        }
        return Ok(Some(value).filter(|j| !j.eq_ignore_ascii_case("none")));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jumps_in_every_spelling() {
        for args in [
            "-J bastion",
            "-Jbastion",
            "-o ProxyJump=bastion",
            "-oProxyJump=bastion",
            "-o 'ProxyJump bastion'",
            "-o ProxyJump bastion",
            "-o StrictHostKeyChecking=no -o proxyjump=bastion -J other",
        ] {
            assert_eq!(jump_in(args).unwrap().as_deref(), Some("bastion"), "{args}");
        }
        assert_eq!(jump_in("-o ProxyCommand='ssh -W %h:%p x'").unwrap(), None);
        assert_eq!(jump_in("-J none").unwrap(), None);
        assert_eq!(
            jump_in("-J u@a:2222,b").unwrap().as_deref(),
            Some("u@a:2222,b")
        );
        assert!(jump_in("-o ProxyJump").is_err());
    }

    #[test]
    fn precedence_depth_priority_name_then_host() {
        let o = |l| Origin::new("/i", l);
        let var = |s: &str, l| Var {
            value: PyValue::Str(s.into()),
            origin: o(l),
        };
        let mut d = Data::new();
        let parent = d.add_group("parent", &o(1));
        let child = d.add_group("child", &o(2));
        let a = d.add_group("a", &o(3));
        let b = d.add_group("b", &o(4));
        d.add_child(parent, child, &o(5)).unwrap();
        for g in [child, a, b] {
            d.add_host("h", Some(g), None, &o(6)).unwrap();
        }
        d.add_host("g", Some(a), None, &o(7)).unwrap();
        d.set_group_var(ALL, "ansible_user", var("all", 8)).unwrap();
        d.set_group_var(parent, "ansible_user", var("parent", 9))
            .unwrap();
        d.set_group_var(child, "ansible_user", var("child", 10))
            .unwrap();
        // Same depth: the name orders them, unless a priority does.
        d.set_group_var(a, "ansible_host", var("a", 11)).unwrap();
        d.set_group_var(b, "ansible_host", var("b", 12)).unwrap();
        d.reconcile();
        let depths = d.depths();
        let mut files = VarsFiles::default();
        let h = d.host("h").unwrap();
        let used = host_vars(&d, &depths, h, &mut files, &[]).unwrap();
        assert_eq!(used["ansible_user"].value, PyValue::Str("child".into()));
        assert_eq!(used["ansible_host"].value, PyValue::Str("b".into()));
        let g = d.host("g").unwrap();
        let used = host_vars(&d, &depths, g, &mut files, &[]).unwrap();
        assert_eq!(used["ansible_user"].value, PyValue::Str("all".into()));
        d.set_group_var(
            b,
            "ansible_group_priority",
            Var {
                value: PyValue::Int(0),
                origin: o(13),
            },
        )
        .unwrap();
        let used = host_vars(&d, &depths, h, &mut files, &[]).unwrap();
        assert_eq!(used["ansible_host"].value, PyValue::Str("a".into()));
    }
}
