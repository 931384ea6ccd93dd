//! The inventory: hosts from config.toml and ssh_config, groups and tags,
//! and turning a selector (a node-set expression) into engine targets.
//!
//! Precedence for each setting, highest first: command-line flags, the
//! host's `[[hosts]]` entry, ssh_config, `[defaults]`, OpenSSH's defaults.

use std::collections::BTreeMap;

use serde::Serialize;
use thiserror::Error;

use super::config::Config;
use super::hostspec::{HostSpec, HostSpecError};
use super::nodeset::{self, Groups, NodeSetError};
use super::ssh_config::{SshConfigFile, SshParams};
use crate::engine::{HostKeyPolicy, HostOptions, Target};

/// Command-line overrides that apply to every host.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub user: Option<String>,
    pub port: Option<u16>,
    /// `-J`: replaces every host's ProxyJump.
    pub jump: Option<String>,
    pub policy: Option<HostKeyPolicy>,
}

#[derive(Debug, Error)]
pub enum ResolveError {
    #[error("host {0}")]
    Spec(#[from] HostSpecError),
    #[error(transparent)]
    NodeSet(#[from] NodeSetError),
    #[error(
        "no hosts given: pass -H HOSTS (e.g. -H web[01-03],admin@db:2222) or --all for every configured host"
    )]
    NoHosts,
    #[error("{host}: jump host {hop:?}: {cause}")]
    Jump {
        host: String,
        hop: String,
        cause: HostSpecError,
    },
}

/// Where an inventory host was defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Config,
    SshConfig,
    AdHoc,
}

/// One row of `sshdeck hosts`.
#[derive(Debug, Clone, Serialize)]
pub struct HostInfo {
    pub name: String,
    pub address: String,
    pub port: u16,
    pub user: String,
    pub jump: Vec<String>,
    pub tags: Vec<String>,
    pub source: Source,
}

pub struct Inventory {
    config: Config,
    ssh: Option<SshConfigFile>,
    overrides: Overrides,
    groups: BTreeMap<String, String>,
}

/// `@name` looks up config groups first, then tags.
struct InventoryGroups<'a>(&'a Inventory);

impl Groups for InventoryGroups<'_> {
    fn group(&self, name: &str) -> Option<String> {
        self.0.groups.get(name).cloned()
    }
}

impl Inventory {
    pub fn new(config: Config, ssh: Option<SshConfigFile>, overrides: Overrides) -> Inventory {
        let mut inv = Inventory {
            groups: config.group_map(),
            config,
            ssh,
            overrides,
        };
        // Each tag becomes a group unless a real group has that name.
        let mut tags: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, host_tags) in inv.named_hosts() {
            for t in host_tags {
                tags.entry(t).or_default().push(name.clone());
            }
        }
        for (tag, names) in tags {
            inv.groups.entry(tag).or_insert_with(|| names.join(","));
        }
        inv
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Every named host with its tags: config.toml first, then ssh_config's
    /// concrete `Host` entries not already defined.
    fn named_hosts(&self) -> Vec<(String, Vec<String>)> {
        let mut v: Vec<(String, Vec<String>)> = self
            .config
            .hosts
            .iter()
            .map(|h| (h.name.get_ref().clone(), h.tags.clone()))
            .collect();
        if let Some(ssh) = &self.ssh {
            for name in ssh.concrete_hosts() {
                if !v.iter().any(|(n, _)| n == &name) {
                    v.push((name, vec!["ssh_config".to_string()]));
                }
            }
        }
        v
    }

    /// Expand a selector such as `web[01-04]!web03,@db,admin@10.0.0.9:2222`.
    pub fn select(&self, selector: &str) -> Result<Vec<Target>, ResolveError> {
        if selector.trim().is_empty() {
            return Err(ResolveError::NoHosts);
        }
        let names = match nodeset::expand(selector, &InventoryGroups(self)) {
            Ok(set) => set.into_vec(),
            // `[::1]:22` is valid as a host but not as a node set; accept a
            // plain list of such specs rather than reporting a bracket error.
            Err(e) => {
                let items: Vec<String> = selector.split(',').map(str::to_string).collect();
                if items
                    .iter()
                    .all(|i| i.contains("]:") && HostSpec::parse(i).is_ok())
                {
                    items
                } else {
                    return Err(e.into());
                }
            }
        };
        let mut out: Vec<Target> = Vec::new();
        for name in names {
            let t = self.target(&name)?;
            if !out.iter().any(|o| o.label == t.label) {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// Every named host (config.toml and ssh_config).
    pub fn all(&self) -> Result<Vec<Target>, ResolveError> {
        let names = self.named_hosts();
        if names.is_empty() {
            return Err(ResolveError::NoHosts);
        }
        names.iter().map(|(n, _)| self.target(n)).collect()
    }

    /// Rows for `sshdeck hosts`.
    pub fn describe(&self, targets: &[Target]) -> Vec<HostInfo> {
        targets
            .iter()
            .map(|t| {
                let entry = self.config.host(&t.label);
                let from_ssh = self
                    .ssh
                    .as_ref()
                    .is_some_and(|s| s.concrete_hosts().contains(&t.label));
                let (tags, source) = match (entry, from_ssh) {
                    (Some(e), _) => (e.tags.clone(), Source::Config),
                    (None, true) => (vec!["ssh_config".to_string()], Source::SshConfig),
                    (None, false) => (Vec::new(), Source::AdHoc),
                };
                HostInfo {
                    name: t.label.clone(),
                    address: t.host.clone(),
                    port: t.port,
                    user: t.user.clone(),
                    jump: t.opts.jump.iter().map(|j| j.label.clone()).collect(),
                    tags,
                    source,
                }
            })
            .collect()
    }

    /// Resolve one name or `[user@]host[:port]` into a target.
    pub fn target(&self, item: &str) -> Result<Target, ResolveError> {
        self.target_inner(item, true)
    }

    fn ssh_params(&self, alias: &str) -> SshParams {
        self.ssh
            .as_ref()
            .map(|s| s.resolve(alias))
            .unwrap_or_default()
    }

    fn target_inner(&self, item: &str, with_jump: bool) -> Result<Target, ResolveError> {
        let spec = HostSpec::parse(item)?;
        let entry = self.config.host(&spec.host);
        let ssh = self.ssh_params(&spec.host);
        let d = &self.config.defaults;
        let ov = &self.overrides;
        let host = entry
            .and_then(|e| e.address.clone())
            .or_else(|| ssh.host_name.clone())
            .unwrap_or_else(|| spec.host.clone());
        // An explicit user@ or :port in the item beats the global flags, the
        // way `ssh -l other user@host` keeps `user`.
        let port = spec
            .port
            .or(ov.port)
            .or(entry.and_then(|e| e.port))
            .or(ssh.port)
            .or(d.port)
            .unwrap_or(22);
        let user = spec
            .user
            .clone()
            .or_else(|| ov.user.clone())
            .or_else(|| entry.and_then(|e| e.user.clone()))
            .or_else(|| ssh.user.clone())
            .or_else(|| d.user.clone())
            .unwrap_or_else(crate::engine::target::local_user);
        let known_name = entry.is_some()
            || self
                .ssh
                .as_ref()
                .is_some_and(|s| s.concrete_hosts().iter().any(|h| h == &spec.host));
        let label = if known_name && spec.user.is_none() && spec.port.is_none() {
            spec.host.clone()
        } else {
            format!("{user}@{}", crate::engine::display_addr(&host, port))
        };
        let mut identity_files: Vec<_> =
            entry.map(|e| e.identity_files.clone()).unwrap_or_default();
        identity_files.extend(ssh.identity_files.iter().cloned());
        let jump_spec: Vec<String> = match ov.jump.as_ref().or(entry.and_then(|e| e.jump.as_ref()))
        {
            Some(j) => split_jumps(j),
            None => ssh.proxy_jump.clone(),
        };
        let mut jump = Vec::new();
        if with_jump {
            for hop in &jump_spec {
                let t = self.target_inner(hop, false).map_err(|e| match e {
                    ResolveError::Spec(cause) => ResolveError::Jump {
                        host: label.clone(),
                        hop: hop.clone(),
                        cause,
                    },
                    other => other,
                })?;
                jump.push(t);
            }
        }
        Ok(Target {
            label,
            host,
            port,
            user,
            opts: HostOptions {
                identity_files,
                identities_only: ssh.identities_only,
                jump,
                connect_timeout: ssh.connect_timeout,
                keepalive: ssh.server_alive_interval,
                known_hosts: ssh.user_known_hosts.clone(),
                // The command-line flag is applied engine-wide and wins.
                policy: if ov.policy.is_some() {
                    None
                } else {
                    ssh.policy
                },
            },
        })
    }
}

fn split_jumps(s: &str) -> Vec<String> {
    if s.trim().eq_ignore_ascii_case("none") {
        return Vec::new();
    }
    s.split(',')
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn cfg(text: &str) -> Config {
        Config::parse(Path::new("c"), text).unwrap()
    }

    fn inv(text: &str) -> Inventory {
        Inventory::new(cfg(text), None, Overrides::default())
    }

    const BASE: &str = "[defaults]\nuser = \"ops\"\n[groups]\nweb = \"web[1-3]\"\n[[hosts]]\nname = \"web1\"\naddress = \"10.0.0.1\"\nport = 2200\ntags = [\"prod\"]\n[[hosts]]\nname = \"web2\"\ntags = [\"prod\"]\njump = \"bastion:2022\"\n";

    #[test]
    fn config_names_and_specs_mix() {
        let t = inv(BASE).select("web1,admin@db:2222,db2").unwrap();
        assert_eq!(t[0].label, "web1");
        assert_eq!(
            (t[0].host.as_str(), t[0].port, t[0].user.as_str()),
            ("10.0.0.1", 2200, "ops")
        );
        assert_eq!(t[1].label, "admin@db:2222");
        assert_eq!(t[2].label, "ops@db2:22");
    }

    #[test]
    fn groups_tags_and_operators() {
        let i = inv(BASE);
        let labels = |s: &str| -> Vec<String> {
            i.select(s).unwrap().into_iter().map(|t| t.label).collect()
        };
        assert_eq!(labels("@web!web3"), ["web1", "web2"]);
        assert_eq!(labels("@prod"), ["web1", "web2"]);
        assert_eq!(labels("@web&@prod"), ["web1", "web2"]);
        assert!(
            i.select("@nothing")
                .unwrap_err()
                .to_string()
                .contains("unknown group @nothing")
        );
    }

    #[test]
    fn jumps_resolve_as_hosts() {
        let t = inv(BASE).select("web2").unwrap().remove(0);
        assert_eq!(t.opts.jump.len(), 1);
        assert_eq!(
            (t.opts.jump[0].host.as_str(), t.opts.jump[0].port),
            ("bastion", 2022)
        );
        let ov = Overrides {
            jump: Some("none".into()),
            ..Default::default()
        };
        let t = Inventory::new(cfg(BASE), None, ov)
            .select("web2")
            .unwrap()
            .remove(0);
        assert!(t.opts.jump.is_empty());
    }

    #[test]
    fn overrides_apply_but_spec_wins() {
        let ov = Overrides {
            user: Some("x".into()),
            port: Some(2022),
            ..Default::default()
        };
        let t = Inventory::new(cfg(BASE), None, ov)
            .select("a@h:1,h2,web1")
            .unwrap();
        assert_eq!(t[0].label, "a@h:1");
        assert_eq!(t[1].label, "x@h2:2022");
        assert_eq!((t[2].user.as_str(), t[2].port), ("x", 2022));
    }

    #[test]
    fn ipv6_lists_and_errors() {
        let t = inv("").select("[::1]:2222,u@[::1]:22").unwrap();
        assert_eq!(
            t[0].label,
            format!("{}@[::1]:2222", crate::engine::target::local_user())
        );
        assert_eq!(t[1].label, "u@[::1]:22");
        assert!(matches!(inv("").select(" "), Err(ResolveError::NoHosts)));
        let e = inv("").select("h:abc").unwrap_err();
        assert!(e.to_string().contains("bad port \"abc\""), "{e}");
        let e = inv("").select("web[1-").unwrap_err();
        assert!(e.to_string().contains("column 4"), "{e}");
    }

    #[test]
    fn all_and_describe() {
        let i = inv(BASE);
        let all = i.all().unwrap();
        assert_eq!(all.len(), 2);
        let rows = i.describe(&all);
        assert_eq!(rows[1].jump, ["ops@bastion:2022"]);
        assert_eq!(rows[0].tags, ["prod"]);
        assert_eq!(rows[0].source, Source::Config);
        assert!(matches!(inv("").all(), Err(ResolveError::NoHosts)));
    }
}
