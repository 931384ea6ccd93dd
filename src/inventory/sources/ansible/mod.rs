//! Ansible inventories, read natively as `ansible-inventory -i a -i b
//! --list` reads them: INI and YAML files, directories with
//! `group_vars/` and `host_vars/`, and executable dynamic inventories.
//!
//! What only Ansible can read (a plugin's configuration such as
//! `aws_ec2.yml`, a templated or vault-encrypted value sshdeck uses) is
//! asked of `ansible-inventory` when it is installed, for the whole
//! inventory, so nothing is half native and half Ansible's. Without it,
//! the error names the file, the line and the value. Nothing is guessed.

mod data;
mod dir;
mod fallback;
mod ini;
mod pattern;
mod run;
mod script;
mod value;
mod vars;
mod yaml;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Origin, SourceError, SourceGroup, SourceHost, SourceInventory, unsafe_char};
use crate::inventory::hostspec::HostSpec;
use crate::inventory::shell_safe::{check_host, check_spec, check_user};
use data::Data;
use vars::pick;

/// Whether `ansible-inventory` may be asked what sshdeck cannot read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fallback {
    /// Read natively only; what needs Ansible is an error.
    Never,
    /// Ask `ansible-inventory` when it is on PATH.
    Auto,
    /// Ask this `ansible-inventory`.
    Program(PathBuf),
}

/// Why the native reading stopped.
#[derive(Debug)]
pub(crate) enum Failure {
    Error(SourceError),
    /// Only Ansible can read this: what, and where.
    Oracle {
        origin: Origin,
        what: String,
    },
}

impl From<SourceError> for Failure {
    fn from(e: SourceError) -> Failure {
        Failure::Error(e)
    }
}

/// All `paths` as one Ansible inventory, `ansible-inventory` asked when
/// needed and installed.
pub fn load(paths: &[PathBuf]) -> Result<SourceInventory, SourceError> {
    load_with(paths, Fallback::Auto)
}

pub fn load_with(paths: &[PathBuf], fallback: Fallback) -> Result<SourceInventory, SourceError> {
    load_unsanitized(paths, fallback).map_err(visible)
}

/// Messages quote names and values from the files: shown with their
/// control characters escaped.
fn visible(e: SourceError) -> SourceError {
    match e {
        SourceError::Invalid { origin, msg } => SourceError::Invalid {
            origin,
            msg: crate::text::sanitize::visible_name(&msg),
        },
        other => other,
    }
}

fn load_unsanitized(paths: &[PathBuf], fallback: Fallback) -> Result<SourceInventory, SourceError> {
    let (origin, what) = match native(paths) {
        Ok(inv) => return Ok(inv),
        Err(Failure::Error(e)) => return Err(e),
        Err(Failure::Oracle { origin, what }) => (origin, what),
    };
    let program = match fallback {
        Fallback::Never => None,
        Fallback::Auto => fallback::program(),
        Fallback::Program(p) => Some(p),
    };
    let Some(program) = program else {
        return Err(SourceError::Invalid {
            origin,
            msg: format!(
                "{what}: only Ansible can resolve it, and ansible-inventory is not on PATH (install ansible-core)"
            ),
        });
    };
    match fallback::load(&program, paths) {
        Ok(inv) => Ok(inv),
        Err(Failure::Error(e)) => Err(e),
        // Still unresolved: the value found natively, with its line, is
        // the one to name.
        Err(Failure::Oracle { .. }) => Err(SourceError::Invalid {
            origin,
            msg: format!(
                "{what}, which ansible-inventory leaves unresolved too (Ansible renders it only when it connects)"
            ),
        }),
    }
}

/// How [`parse_text`] reads a file's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InventoryFormat {
    Ini,
    Yaml,
}

/// One inventory file's text read natively, as if it were the only
/// `-i` path and had no `group_vars/` (fuzzing and tests use it).
pub fn parse_text(
    path: &Path,
    text: &str,
    format: InventoryFormat,
) -> Result<SourceInventory, SourceError> {
    let read = |data: &mut Data| -> Result<(), Failure> {
        match format {
            InventoryFormat::Ini => ini::parse(path, text, data)?,
            InventoryFormat::Yaml => match yaml::shape(text) {
                yaml::Shape::Mapping(doc) => {
                    if let Some(line) = yaml::plugin_line(&doc) {
                        return Err(Failure::Oracle {
                            origin: Origin::new(path, line),
                            what: "an inventory plugin's configuration".into(),
                        });
                    }
                    yaml::parse_inventory(path, &doc, data)?
                }
                yaml::Shape::Other => {}
                yaml::Shape::Error(line, msg) => {
                    return Err(invalid(&Origin::new(path, line), format!("YAML: {msg}")));
                }
            },
        }
        Ok(())
    };
    let mut data = Data::new();
    let built = read(&mut data).and_then(|()| {
        data.reconcile();
        build(&data, &[], Some(path))
    });
    built.map_err(|f| match f {
        Failure::Error(e) => visible(e),
        Failure::Oracle { origin, what } => SourceError::Invalid {
            origin,
            msg: crate::text::sanitize::visible_name(&format!(
                "{what}: only Ansible can resolve it"
            )),
        },
    })
}

fn native(paths: &[PathBuf]) -> Result<SourceInventory, Failure> {
    let mut data = Data::new();
    for p in paths {
        dir::read_source(p, &mut data)?;
    }
    data.reconcile();
    let bases: Vec<PathBuf> = paths.iter().filter_map(|p| dir::vars_base(p)).collect();
    build(&data, &bases, paths.first().map(PathBuf::as_path))
}

/// Whether an `ansible_connection` plugin reaches the host over SSH, so
/// sshdeck can reach it too: Ansible's ssh and paramiko, and the network
/// plugins that run over SSH. `local`, `docker`, `winrm` and the rest
/// do not, and connecting to such a host by SSH would be a guess.
fn over_ssh(plugin: &str) -> bool {
    let short = plugin
        .strip_prefix("ansible.builtin.")
        .or_else(|| plugin.strip_prefix("ansible.netcommon."))
        .unwrap_or(plugin);
    matches!(
        short,
        "ssh" | "smart" | "paramiko" | "paramiko_ssh" | "network_cli" | "netconf" | "libssh"
    )
}

fn invalid(origin: &Origin, msg: String) -> Failure {
    Failure::Error(SourceError::Invalid {
        origin: origin.clone(),
        msg,
    })
}

/// The hosts with their connection settings, and the groups, checked.
fn build(data: &Data, bases: &[PathBuf], first: Option<&Path>) -> Result<SourceInventory, Failure> {
    let depths = data.depths();
    let mut files = dir::VarsFiles::default();
    let mut hosts = Vec::with_capacity(data.hosts.len());
    let mut notes = Vec::new();
    let mut left_out = std::collections::HashSet::new();
    for (h, host) in data.hosts.iter().enumerate() {
        let shown = crate::text::sanitize::visible_name(&host.name);
        check_host(&host.name, &format!("host {shown:?}"))
            .map_err(|e| invalid(&host.origin, e.to_string()))?;
        let used = vars::host_vars(data, &depths, h, &mut files, bases)?;
        let vars = HostVars {
            used: &used,
            shown: &shown,
        };
        if let Some(note) = vars.not_over_ssh()? {
            notes.push(note);
            left_out.insert(h);
            continue;
        }
        hosts.push(vars.source_host(&host.name, &host.origin)?);
    }
    let groups = groups(data, first, &left_out, &mut notes);
    Ok(SourceInventory {
        label: "Ansible inventory".into(),
        hosts,
        groups,
        notes,
    })
}

/// The groups `ansible-inventory --list` would show, without the hosts
/// left out; a group no `@name` can spell is left out with a note.
fn groups(
    data: &Data,
    first: Option<&Path>,
    left_out: &std::collections::HashSet<usize>,
    notes: &mut Vec<String>,
) -> BTreeMap<String, SourceGroup> {
    let nowhere = Origin::new(first.unwrap_or(Path::new("")), 0);
    let mut groups = BTreeMap::new();
    for (g, group) in data.groups.iter().enumerate() {
        // `ansible-inventory --list` leaves out a group with neither
        // hosts nor children.
        if group.hosts.is_empty() && group.children.is_empty() {
            continue;
        }
        let origin = group.origin.clone().unwrap_or_else(|| nowhere.clone());
        // Ansible warns about such names and keeps them; in a node set
        // `@a,b` or `@a:b` means something else, so no `@name` can reach it.
        if let Some(c) = group
            .name
            .chars()
            .find(|c| ":[]".contains(*c))
            .or_else(|| unsafe_char(&group.name))
        {
            notes.push(format!(
                "{origin}: group {:?} is left out: a node set cannot spell {:?} in @name",
                crate::text::sanitize::visible_name(&group.name),
                crate::text::sanitize::visible_name(&c.to_string())
            ));
            continue;
        }
        let members = data
            .members(g)
            .into_iter()
            .filter(|h| !left_out.contains(h))
            .map(|h| data.hosts[h].name.clone())
            .collect();
        groups.insert(group.name.clone(), SourceGroup { members, origin });
    }
    groups
}

/// One host's connection variables, with its name as errors show it.
struct HostVars<'a> {
    used: &'a vars::Used,
    shown: &'a str,
}

impl HostVars<'_> {
    /// The host as sshdeck connects to it, each value checked in turn.
    fn source_host(&self, name: &str, origin: &Origin) -> Result<SourceHost, Failure> {
        let address = self.address()?;
        let user = self.user()?;
        let port = self.port()?;
        let identity_file = self
            .text(&["ansible_private_key_file", "ansible_ssh_private_key_file"])?
            .filter(|(p, _)| !p.is_empty())
            .map(|(p, _)| PathBuf::from(p));
        let jump = self.jump()?;
        Ok(SourceHost {
            name: name.to_string(),
            address,
            port,
            user,
            identity_file,
            jump,
            origin: origin.clone(),
        })
    }

    /// A note when `ansible_connection` names a plugin that is not SSH:
    /// the host is then left out.
    fn not_over_ssh(&self) -> Result<Option<String>, Failure> {
        if let Some(var) = pick(self.used, &["ansible_connection"])?
            && let Some(plugin) = var.value.as_text()
            && !over_ssh(&plugin)
        {
            return Ok(Some(format!(
                "{}: host {:?} is left out: ansible_connection={} does not connect over SSH",
                var.origin,
                self.shown,
                crate::text::sanitize::visible_name(&plugin)
            )));
        }
        Ok(None)
    }

    /// The first of `names` that is set, which must be text, and where.
    fn text(&self, names: &[&str]) -> Result<Option<(String, Origin)>, Failure> {
        let Some(var) = pick(self.used, names)? else {
            return Ok(None);
        };
        match var.value.as_text() {
            Some(t) => Ok(Some((t, var.origin.clone()))),
            None => Err(invalid(
                &var.origin,
                format!("host {:?}: {} is not text", self.shown, names[0]),
            )),
        }
    }

    /// `ansible_host`, safe to hand to a shell.
    fn address(&self) -> Result<Option<String>, Failure> {
        let address = self.text(&["ansible_host", "ansible_ssh_host"])?;
        if let Some((a, at)) = &address {
            check_host(a, &format!("host {:?}, ansible_host", self.shown))
                .map_err(|e| invalid(at, e.to_string()))?;
        }
        Ok(address.map(|(a, _)| a))
    }

    /// `ansible_user`, safe to hand to a shell.
    fn user(&self) -> Result<Option<String>, Failure> {
        // Ansible's ssh connection passes no user and no key when the
        // value is empty: ssh's own default applies.
        let user = self
            .text(&["ansible_user", "ansible_ssh_user"])?
            .filter(|(u, _)| !u.is_empty());
        if let Some((u, at)) = &user {
            check_user(u, &format!("host {:?}, ansible_user", self.shown))
                .map_err(|e| invalid(at, e.to_string()))?;
        }
        Ok(user.map(|(u, _)| u))
    }

    /// `ansible_port`: an integer from 1 to 65535.
    fn port(&self) -> Result<Option<u16>, Failure> {
        let Some(var) = pick(self.used, &["ansible_port", "ansible_ssh_port"])? else {
            return Ok(None);
        };
        match var
            .value
            .as_int()
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p > 0)
        {
            Some(p) => Ok(Some(p)),
            None => Err(invalid(
                &var.origin,
                format!("host {:?}: ansible_port is not a port number", self.shown),
            )),
        }
    }

    /// The ProxyJump in the ssh arguments, each hop checked.
    fn jump(&self) -> Result<Option<String>, Failure> {
        let shown = self.shown;
        let mut jump = None;
        // In the order Ansible's ssh connection passes them to ssh,
        // which takes the first ProxyJump it is given.
        for name in [
            "ansible_ssh_args",
            "ansible_ssh_common_args",
            "ansible_ssh_extra_args",
        ] {
            if jump.is_some() {
                break;
            }
            if let Some((args, at)) = self.text(&[name])? {
                jump = vars::jump_in(&args)
                    .map_err(|e| invalid(&at, format!("host {shown:?}, {name}: {e}")))?;
                for hop in jump.iter().flat_map(|j| j.split(',')) {
                    let spec = HostSpec::parse(hop.trim())
                        .map_err(|e| invalid(&at, format!("host {shown:?}, jump host: {e}")))?;
                    check_spec(&spec, &format!("host {shown:?}, jump host"))
                        .map_err(|e| invalid(&at, e.to_string()))?;
                }
            }
        }
        Ok(jump)
    }
}
