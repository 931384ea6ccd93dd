//! The inventory: hosts from config.toml and ssh_config, groups and tags,
//! and turning a selector (a node-set expression) into engine targets.
//!
//! Precedence for each setting, highest first: command-line flags, the
//! host's `[[hosts]]` entry, ssh_config, `[defaults]`, OpenSSH's defaults.

use std::collections::BTreeMap;

use serde::Serialize;
use thiserror::Error;

use super::config::Config;
use super::config::ConfigError;
use super::group_table::{GroupClash, GroupTable};
use super::hostspec::{HostSpec, HostSpecError};
use super::named::NamedHosts;
use super::nodeset::{self, NodeSetError};
use super::shell_safe::{self, UnsafeName};
use super::sources::{GroupSource, SourceInventory};
use super::ssh_config::{Query, Resolved, SshConfig, Strict};
use crate::engine::{AgentChoice, HostKeyPolicy, HostOptions, Target};

/// Command-line overrides that apply to every host.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub user: Option<String>,
    pub port: Option<u16>,
    /// `-J`: replaces every host's ProxyJump.
    pub jump: Option<String>,
    pub policy: Option<HostKeyPolicy>,
    /// `--known-hosts` was given: it wins over ssh_config's files.
    pub known_hosts: bool,
    /// `-C`: compress every connection.
    pub compression: bool,
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
    #[error(transparent)]
    SshConfig(#[from] ConfigError),
    #[error(transparent)]
    Unsafe(#[from] UnsafeName),
}

/// Where an inventory host was defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Config,
    Ansible,
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
    /// Where the host's settings come from: "FILE:LINE" (none for a
    /// name given on the command line).
    pub origin: Option<String>,
    /// Other entries naming the same host, in merge order, whose
    /// settings are not used.
    pub also: Vec<String>,
    /// Every `@name` that selects this host (groups, and tags as groups),
    /// in name order: where `-H @name` would find it.
    pub groups: Vec<String>,
}

pub struct Inventory {
    config: Config,
    ssh: Option<SshConfig>,
    /// ssh_config's concrete host names, for quick lookups.
    ssh_names: std::collections::HashSet<String>,
    overrides: Overrides,
    groups: GroupTable,
    /// Hosts config.toml and the Ansible inventory name, by name: looked
    /// up once per selected host, so 10,000 hosts stay linear.
    named: NamedHosts,
    /// Hosts and groups another tool's inventory names that sshdeck left
    /// out, each with why.
    left_out: Vec<String>,
}

/// Hosts and groups from other tools' inventories.
#[derive(Default)]
pub struct ExtraSources {
    pub ansible: Option<SourceInventory>,
    /// ClusterShell's group sources, the default first.
    pub clustershell: Vec<Box<dyn GroupSource>>,
}

impl Inventory {
    pub fn new(config: Config, ssh: Option<SshConfig>, overrides: Overrides) -> Inventory {
        Inventory::with_sources(config, ssh, overrides, ExtraSources::default())
    }

    /// The inventory from every source, merged in the order README's
    /// "Where hosts come from" gives: config.toml, the Ansible inventory,
    /// ssh_config.
    pub fn with_sources(
        config: Config,
        ssh: Option<SshConfig>,
        overrides: Overrides,
        extra: ExtraSources,
    ) -> Inventory {
        let ssh_names = ssh
            .as_ref()
            .map(|s| s.concrete_hosts().iter().cloned().collect())
            .unwrap_or_default();
        let mut named = NamedHosts::from_config(&config);
        let mut groups = GroupTable::new(config.group_map());
        if let Some(a) = &extra.ansible {
            named.add_ansible(a);
            groups.set_ansible(a);
        }
        groups.set_clustershell(extra.clustershell);
        if let Some(s) = &ssh {
            for name in s.concrete_hosts() {
                let origin = s.host_origin(name).unwrap_or_else(|| "ssh_config".into());
                named.also_in_ssh_config(name, origin);
            }
        }
        let mut inv = Inventory {
            groups,
            named,
            config,
            ssh,
            ssh_names,
            overrides,
            left_out: extra
                .ansible
                .as_ref()
                .map(|a| a.notes.clone())
                .unwrap_or_default(),
        };
        // Each tag is a group of its hosts; a tag named like a group adds
        // its hosts to that group, as the TUI's folders and `g @name` do,
        // so `@name` means the same hosts on the command line and on screen.
        let mut tags: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, host_tags) in inv.named_hosts() {
            for t in host_tags {
                tags.entry(t).or_default().push(name.clone());
            }
        }
        for (tag, names) in tags {
            let members = inv.groups.config_mut().entry(tag).or_default();
            for n in names {
                if !members.is_empty() {
                    members.push(',');
                }
                members.push_str(&n);
            }
        }
        inv
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Every host name and `@group` (tags included), for completion.
    /// A group source that cannot list its groups adds none here.
    pub fn names_and_groups(&self) -> Vec<String> {
        let mut v: Vec<String> = self.named_hosts().into_iter().map(|(n, _)| n).collect();
        v.extend(
            self.groups
                .names()
                .unwrap_or_default()
                .into_iter()
                .map(|g| format!("@{g}")),
        );
        v
    }

    /// Every group, name → its hosts (comma-separated), for the host
    /// list's folders: config groups and tags, Ansible's groups, and
    /// ClusterShell's (other sources' as `source:name`). A source that
    /// fails is an error, before the TUI starts.
    pub fn group_exprs(&self) -> Result<BTreeMap<String, String>, ResolveError> {
        let names = self.groups.names().map_err(|msg| NodeSetError {
            expr: "@*".into(),
            column: 1,
            msg,
        })?;
        let mut out = BTreeMap::new();
        for name in names {
            // A tag alone is no group: the host list files a host under
            // its first tag only when it is in no group.
            let tag_only = !name.contains(':')
                && !self.config.groups.contains_key(&name)
                && self.groups.only_in_config(&name);
            if tag_only {
                continue;
            }
            let set = nodeset::expand(&format!("@{name}"), &self.groups)?;
            out.insert(name, set.into_vec().join(","));
        }
        Ok(out)
    }

    /// Every group name two sources define, said with both sources, as
    /// [`Inventory::take_notes`] says them.
    pub fn group_clashes(&self) -> Vec<GroupClash> {
        self.groups.take_notes();
        for name in self.groups.names().unwrap_or_default() {
            if !name.contains(':') {
                let _ = nodeset::Groups::group(&self.groups, &name);
            }
        }
        self.groups.take_notes()
    }

    /// What other tools' inventories name that sshdeck left out, and why
    /// (a host Ansible reaches without SSH, a group `@name` cannot spell).
    pub fn left_out(&self) -> &[String] {
        &self.left_out
    }

    /// Group name clashes met while selecting (see [`GroupTable`]), each
    /// once: the caller says them where the user will read them.
    pub fn take_notes(&self) -> Vec<GroupClash> {
        self.groups.take_notes()
    }

    /// Every named host (config.toml, then ssh_config's concrete `Host`
    /// entries), in that order.
    pub fn host_names(&self) -> Vec<String> {
        self.named_hosts().into_iter().map(|(n, _)| n).collect()
    }

    /// The ssh_config files as read (none with `-F none`).
    pub fn ssh_config(&self) -> Option<&SshConfig> {
        self.ssh.as_ref()
    }

    /// Every named host with its tags: config.toml first, then the
    /// Ansible inventory, then ssh_config's concrete `Host` entries not
    /// already defined.
    fn named_hosts(&self) -> Vec<(String, Vec<String>)> {
        let mut v: Vec<(String, Vec<String>)> = self
            .named
            .iter()
            .map(|h| (h.name.clone(), h.tags.clone()))
            .collect();
        if let Some(ssh) = &self.ssh {
            let mut seen: std::collections::HashSet<String> =
                v.iter().map(|(n, _)| n.clone()).collect();
            for name in ssh.concrete_hosts() {
                if seen.insert(name.clone()) {
                    v.push((name.clone(), vec!["ssh_config".to_string()]));
                }
            }
        }
        v
    }

    /// Expand a selector such as `web[01-04]!web03,@db,admin@10.0.0.9:2222`
    /// given with `-H`.
    pub fn select(&self, selector: &str) -> Result<Vec<Target>, ResolveError> {
        self.select_from(selector, "-H")
    }

    /// [`Inventory::select`] for a selector that came from `origin` (a
    /// flag, a file), which a refused name's message names.
    pub fn select_from(&self, selector: &str, origin: &str) -> Result<Vec<Target>, ResolveError> {
        if selector.trim().is_empty() {
            return Err(ResolveError::NoHosts);
        }
        let names = nodeset::expand(selector, &self.groups)?.into_vec();
        let mut out: Vec<Target> = Vec::with_capacity(names.len());
        // Two names can resolve to one label (`web1` and `root@web1:22`):
        // a set keeps that check linear, so 100,000 names stay fast.
        let mut seen = std::collections::HashSet::with_capacity(names.len());
        for name in names {
            let t = self.target_inner(&name, origin, true)?;
            if seen.insert(t.label.clone()) {
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
        names
            .iter()
            .map(|(n, _)| {
                // Where the name was written is looked up only for a
                // refusal: it is a scan, and there may be 10,000 names.
                if let Err(mut e) = shell_safe::check_host(n, "") {
                    e.origin = self.origin_of(n);
                    return Err(e.into());
                }
                self.target_inner(n, "the inventory", true)
            })
            .collect()
    }

    /// Where a named host is defined, for messages: config.toml, or the
    /// ssh_config file and line of its `Host` line.
    fn origin_of(&self, name: &str) -> String {
        if let Some(h) = self.named.get(name) {
            return h.origin.clone();
        }
        self.ssh
            .as_ref()
            .and_then(|s| s.host_origin(name))
            .unwrap_or_else(|| "ssh_config".into())
    }

    /// Rows for `sshdeck hosts`.
    pub fn describe(&self, targets: &[Target]) -> Vec<HostInfo> {
        let member_of = self.memberships();
        targets
            .iter()
            .map(|t| {
                let entry = self.named.get(&t.label);
                let from_ssh = self.ssh_names.contains(&t.label);
                let (tags, source, origin, also) = match (entry, from_ssh) {
                    (Some(e), _) => (
                        e.tags.clone(),
                        e.source,
                        Some(e.origin.clone()),
                        e.also.clone(),
                    ),
                    (None, true) => (
                        vec!["ssh_config".to_string()],
                        Source::SshConfig,
                        self.ssh.as_ref().and_then(|s| s.host_origin(&t.label)),
                        Vec::new(),
                    ),
                    (None, false) => (Vec::new(), Source::AdHoc, None, Vec::new()),
                };
                HostInfo {
                    name: t.label.clone(),
                    address: t.host.clone(),
                    port: t.port,
                    user: t.user.clone(),
                    jump: t.opts.jump.iter().map(|j| j.label.clone()).collect(),
                    tags,
                    source,
                    origin,
                    also,
                    groups: member_of.get(&t.label).cloned().unwrap_or_default(),
                }
            })
            .collect()
    }

    /// Host name → the `@names` that select it. Each group is expanded
    /// once (not once per host); a group that does not expand is left
    /// out here, as selecting it reports why.
    fn memberships(&self) -> std::collections::HashMap<String, Vec<String>> {
        let mut out: std::collections::HashMap<String, Vec<String>> =
            std::collections::HashMap::new();
        for name in self.groups.names().unwrap_or_default() {
            let Ok(set) = nodeset::expand(&format!("@{name}"), &self.groups) else {
                continue;
            };
            for host in set.into_vec() {
                out.entry(host).or_default().push(name.clone());
            }
        }
        // Looking every group up is not the user naming one: a clash is
        // said when a selection meets it.
        self.groups.take_notes();
        out
    }

    /// Resolve one name or `[user@]host[:port]` into a target, as given
    /// on the command line (no node-set expansion).
    pub fn target(&self, item: &str) -> Result<Target, ResolveError> {
        self.target_inner(item, "-H", true)
    }

    /// [`Inventory::target`] for a name that came from `origin`.
    pub fn target_from(&self, item: &str, origin: &str) -> Result<Target, ResolveError> {
        self.target_inner(item, origin, true)
    }

    /// Resolve one name or `[user@]host[:port]` that came from `origin`,
    /// taken whole (no node-set expansion), with `user` and `port` fixed:
    /// how a recorded run is selected again, exactly as it ran.
    pub fn target_pinned(
        &self,
        item: &str,
        user: &str,
        port: u16,
        origin: &str,
    ) -> Result<Target, ResolveError> {
        let given = HostSpec::parse(item)?;
        let named = given.user.is_none()
            && given.port.is_none()
            && (self.named.contains(&given.host) || self.ssh_names.contains(&given.host));
        let mut spec = given.clone();
        spec.user = Some(user.to_string());
        spec.port = Some(port);
        let mut t = self.target_spec(spec, origin, true)?;
        // Named as it was when selected: a config name stays its label
        // though its user and port are now given.
        if named {
            t.label = given.host;
        }
        t.select_as = item.to_string();
        Ok(t)
    }

    /// What ssh_config says, asked as `ssh` would be: with what the command
    /// line (and sshdeck's own settings, which rank above ssh_config)
    /// already decided.
    fn ssh_resolve(&self, q: &Query) -> Result<Option<Resolved>, ResolveError> {
        match &self.ssh {
            Some(s) => Ok(Some(s.resolve(q)?)),
            None => Ok(None),
        }
    }

    fn target_inner(
        &self,
        item: &str,
        origin: &str,
        with_jump: bool,
    ) -> Result<Target, ResolveError> {
        let spec = HostSpec::parse(item)?;
        self.target_spec(spec, origin, with_jump)
    }

    fn target_spec(
        &self,
        spec: HostSpec,
        origin: &str,
        with_jump: bool,
    ) -> Result<Target, ResolveError> {
        // Before anything reads ssh_config: `Match exec` runs while it is
        // read, with these names in its `%h` and `%r`.
        shell_safe::check_spec(&spec, origin)?;
        if let Some(u) = &self.overrides.user {
            shell_safe::check_user(u, "-l")?;
        }
        let entry = self.named.get(&spec.host);
        let d = &self.config.defaults;
        let ov = &self.overrides;
        let jump_flag = ov
            .jump
            .clone()
            .or_else(|| entry.and_then(|e| e.jump.clone()));
        let query = Query {
            host: entry
                .and_then(|e| e.ssh_config_name())
                .unwrap_or(&spec.host)
                .to_string(),
            user: spec.user.clone().or_else(|| ov.user.clone()),
            port: spec.port.or(ov.port),
            jump: jump_flag.clone(),
        };
        let ssh = self.ssh_resolve(&query)?;
        let ssh = ssh.as_ref();
        let host = entry
            .and_then(|e| e.address.clone())
            .or_else(|| ssh.map(|s| s.hostname.clone()))
            .unwrap_or_else(|| spec.host.clone());
        // An explicit user@ or :port in the item beats the global flags, the
        // way `ssh -l other user@host` keeps `user`.
        let port = spec
            .port
            .or(ov.port)
            .or(entry.and_then(|e| e.port))
            .or(ssh.and_then(|s| s.port))
            .or(d.port)
            .unwrap_or(22);
        let user = spec
            .user
            .clone()
            .or_else(|| ov.user.clone())
            .or_else(|| entry.and_then(|e| e.user.clone()))
            .or_else(|| ssh.and_then(|s| s.user.clone()))
            .or_else(|| d.user.clone())
            .unwrap_or_else(crate::engine::connection::target::local_user);
        let known_name = entry.is_some() || self.ssh_names.contains(&spec.host);
        let label = if known_name && spec.user.is_none() && spec.port.is_none() {
            spec.host.clone()
        } else {
            format!("{user}@{}", crate::engine::display_addr(&host, port))
        };
        let mut opts = match ssh {
            Some(s) => host_options(s, ov).map_err(|e| {
                ResolveError::SshConfig(ConfigError::Io {
                    path: "ssh_config".into(),
                    cause: format!("{}: {e}", spec.host),
                })
            })?,
            None => HostOptions::default(),
        };
        let mut identity_files: Vec<_> =
            entry.map(|e| e.identity_files.clone()).unwrap_or_default();
        identity_files.append(&mut opts.identity_files);
        opts.identity_files = identity_files;
        opts.compression |= ov.compression;
        let jump_spec: Vec<String> = match jump_flag {
            Some(j) => split_jumps(&j),
            None => ssh
                .and_then(|s| s.proxy_jump.as_deref())
                .map(split_jumps)
                .unwrap_or_default(),
        };
        if with_jump {
            let hop_origin = if ov.jump.is_some() {
                "-J".to_string()
            } else if let Some(e) = entry.filter(|e| e.jump.is_some()) {
                format!("{}, jump of {}", e.origin, spec.host)
            } else {
                format!("ProxyJump of {} in ssh_config", spec.host)
            };
            for hop in &jump_spec {
                let t = self
                    .target_inner(hop, &hop_origin, false)
                    .map_err(|e| match e {
                        ResolveError::Spec(cause) => ResolveError::Jump {
                            host: label.clone(),
                            hop: hop.clone(),
                            cause,
                        },
                        other => other,
                    })?;
                opts.jump.push(t);
            }
        }
        // A named host keeps its name, so selecting it again finds its
        // config entry (identity files, jump) as well as the user and port.
        let select_as = if known_name {
            let at = match spec.port {
                Some(p) => crate::engine::display_addr(&spec.host, p),
                None => spec.host.clone(),
            };
            match &spec.user {
                Some(u) => format!("{u}@{at}"),
                None => at,
            }
        } else {
            label.clone()
        };
        Ok(Target {
            label,
            select_as,
            host,
            port,
            user,
            opts,
        })
    }
}

/// The engine's per-host settings from what ssh_config resolved.
fn host_options(s: &Resolved, ov: &Overrides) -> Result<HostOptions, String> {
    let paths = |files: &[String]| -> Result<Vec<std::path::PathBuf>, String> {
        files.iter().map(|f| s.expand_path(f)).collect()
    };
    let secs = |n: u64| (n > 0).then(|| std::time::Duration::from_secs(n));
    Ok(HostOptions {
        identity_files: paths(&s.identity_files)?,
        identities_only: s.identities_only,
        certificate_files: paths(&s.certificate_files)?,
        jump: Vec::new(),
        proxy_command: s.proxy_command_line().transpose()?,
        connect_timeout: s.connect_timeout.and_then(secs),
        keepalive: secs(s.server_alive_interval),
        keepalive_max: Some(s.server_alive_count_max),
        connection_attempts: Some(s.connection_attempts),
        // `--known-hosts` on the command line wins, as `-o` would in ssh.
        known_hosts: if ov.known_hosts {
            Vec::new()
        } else {
            s.known_hosts_paths().unwrap_or_default()
        },
        host_key_alias: s.host_key_alias.clone(),
        // The command-line flag is applied engine-wide and wins.
        policy: if ov.policy.is_some() {
            None
        } else {
            match s.strict {
                Strict::Yes => Some(HostKeyPolicy::Strict),
                Strict::AcceptNew => Some(HostKeyPolicy::AcceptNew),
                // sshdeck never goes below accept-new: a changed key is
                // always refused, whatever ssh_config says.
                Strict::No => Some(HostKeyPolicy::AcceptNew),
                Strict::Ask => None,
            }
        },
        compression: s.compression,
        agent: s.identity_agent.as_deref().map(|a| match a {
            "none" => AgentChoice::Off,
            "SSH_AUTH_SOCK" | "$SSH_AUTH_SOCK" => std::env::var_os("SSH_AUTH_SOCK")
                .map(|p| AgentChoice::Socket(p.into()))
                .unwrap_or(AgentChoice::Off),
            path => AgentChoice::Socket(path.into()),
        }),
        preferred_auth: s
            .preferred_authentications
            .as_deref()
            .map(|p| p.split(',').map(|m| m.trim().to_string()).collect())
            .unwrap_or_default(),
        batch: s.batch_mode,
        hash_known_hosts: s.hash_known_hosts,
    })
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
        // Selected again the way it was named: a config host given with a
        // user keeps its entry (its address, port and options).
        let again = inv(BASE).select("admin@web1").unwrap().remove(0);
        assert_eq!(again.label, "admin@10.0.0.1:2200");
        assert_eq!(again.select_as, "admin@web1");
        let back = inv(BASE).select(&again.select_as).unwrap().remove(0);
        assert_eq!(
            (back.host.as_str(), back.port, back.user.as_str()),
            ("10.0.0.1", 2200, "admin")
        );
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
            format!(
                "{}@[::1]:2222",
                crate::engine::connection::target::local_user()
            )
        );
        assert_eq!(t[1].label, "u@[::1]:22");
        assert!(matches!(inv("").select(" "), Err(ResolveError::NoHosts)));
        let e = inv("").select("h:abc").unwrap_err();
        assert!(e.to_string().contains("bad port \"abc\""), "{e}");
        let e = inv("").select("web[1-").unwrap_err();
        assert!(e.to_string().contains("column 4"), "{e}");
    }

    #[test]
    fn names_a_shell_would_act_on_are_refused_with_their_origin() {
        let e = inv(BASE).select("web1,a;b").unwrap_err().to_string();
        assert!(e.starts_with("-H: host name \"a;b\" contains ';'"), "{e}");
        let e = inv(BASE)
            .select_from("x`id`@h", "the hosts argument")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("the hosts argument: user name \"x`id`\""),
            "{e}"
        );
        let ov = Overrides {
            jump: Some("j$(x)".into()),
            ..Default::default()
        };
        let e = Inventory::new(cfg(BASE), None, ov)
            .select("web1")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("-J: host name \"j$(x)\""), "{e}");
        let ov = Overrides {
            user: Some("-oX".into()),
            ..Default::default()
        };
        let e = Inventory::new(cfg(BASE), None, ov)
            .select("web1")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("-l: user name \"-oX\" starts with '-'"),
            "{e}"
        );
        let e = Config::parse(Path::new("c"), "[groups]\ng = \"a,b$c\"\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with("c:2:") && e.contains("group \"g\": host name \"b$c\""),
            "{e}"
        );
        let e = Config::parse(
            Path::new("c"),
            "[[hosts]]\nname = \"w\"\njump = \"ok,u|x@b\"\n",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("host \"w\", jump: user name \"u|x\""), "{e}");
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
