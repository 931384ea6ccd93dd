//! Named hosts from every source, merged into one table.
//!
//! The merge order, highest first (README, "Where hosts come from"):
//! config.toml's `[[hosts]]`, then the Ansible inventory, then
//! ssh_config's concrete `Host` names. A host named by several sources
//! takes its settings from the first; the others are kept as `also`, so
//! `sshdeck hosts` and the host info can say which entries were not used.

use std::collections::HashMap;
use std::path::PathBuf;

use super::config::Config;
use super::resolve::Source;
use super::sources::SourceInventory;

/// One host a source names, with the settings it gives.
#[derive(Debug, Clone)]
pub struct NamedHost {
    pub name: String,
    pub address: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub identity_files: Vec<PathBuf>,
    pub jump: Option<String>,
    pub tags: Vec<String>,
    pub source: Source,
    /// Where the entry that gives the settings is written: "FILE:LINE".
    pub origin: String,
    /// Other places naming the same host, in merge order; their settings
    /// are not used.
    pub also: Vec<String>,
}

impl NamedHost {
    /// Ansible connects with `ssh ADDRESS`, so ssh_config's `Host` lines
    /// match the address, not the inventory name; config.toml hosts are
    /// looked up by name, as sshdeck always has.
    pub fn ssh_config_name(&self) -> Option<&str> {
        match self.source {
            Source::Ansible => self.address.as_deref(),
            _ => None,
        }
    }
}

/// Every named host, each once, in merge order.
#[derive(Debug, Default)]
pub struct NamedHosts {
    hosts: Vec<NamedHost>,
    index: HashMap<String, usize>,
}

impl NamedHosts {
    pub fn from_config(config: &Config) -> NamedHosts {
        let mut t = NamedHosts::default();
        for (i, h) in config.hosts.iter().enumerate() {
            t.add(NamedHost {
                name: h.name.get_ref().clone(),
                address: h.address.clone(),
                port: h.port,
                user: h.user.clone(),
                identity_files: h.identity_files.clone(),
                jump: h.jump.clone(),
                tags: h.tags.clone(),
                source: Source::Config,
                origin: config
                    .host_origins
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| "config.toml".into()),
                also: Vec::new(),
            });
        }
        t
    }

    /// Add the Ansible inventory's hosts after config.toml's.
    pub fn add_ansible(&mut self, inv: &SourceInventory) {
        for h in &inv.hosts {
            self.add(NamedHost {
                name: h.name.clone(),
                address: h.address.clone(),
                port: h.port,
                user: h.user.clone(),
                identity_files: h.identity_file.iter().cloned().collect(),
                jump: h.jump.clone(),
                tags: Vec::new(),
                source: Source::Ansible,
                origin: h.origin.to_string(),
                also: Vec::new(),
            });
        }
    }

    /// ssh_config names a host that an earlier source already has.
    pub fn also_in_ssh_config(&mut self, name: &str, origin: String) {
        if let Some(&i) = self.index.get(name) {
            self.hosts[i].also.push(origin);
        }
    }

    fn add(&mut self, h: NamedHost) {
        match self.index.get(&h.name) {
            Some(&i) => {
                let origin = h.origin;
                self.hosts[i].also.push(origin);
            }
            None => {
                self.index.insert(h.name.clone(), self.hosts.len());
                self.hosts.push(h);
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&NamedHost> {
        self.index.get(name).map(|&i| &self.hosts[i])
    }

    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &NamedHost> {
        self.hosts.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::sources::{Origin, SourceHost};
    use std::path::Path;

    #[test]
    fn config_wins_and_the_others_are_kept_as_also() {
        let cfg = Config::parse(
            Path::new("/c/config.toml"),
            "[[hosts]]\nname = \"web1\"\nport = 2200\n",
        )
        .unwrap();
        let mut t = NamedHosts::from_config(&cfg);
        let host = |name: &str, line| SourceHost {
            name: name.into(),
            address: Some("10.0.0.1".into()),
            port: Some(22),
            user: None,
            identity_file: None,
            jump: None,
            origin: Origin::new("/inv/hosts", line),
        };
        t.add_ansible(&SourceInventory {
            label: "Ansible inventory".into(),
            notes: Vec::new(),
            hosts: vec![host("web1", 3), host("db1", 4)],
            groups: Default::default(),
        });
        t.also_in_ssh_config("db1", "/h/.ssh/config:7".into());
        let web = t.get("web1").unwrap();
        assert_eq!(
            (web.port, web.origin.as_str()),
            (Some(2200), "/c/config.toml:2")
        );
        assert_eq!(web.also, ["/inv/hosts:3"]);
        let db = t.get("db1").unwrap();
        assert_eq!(
            (db.source, db.origin.as_str()),
            (Source::Ansible, "/inv/hosts:4")
        );
        assert_eq!(db.ssh_config_name(), Some("10.0.0.1"));
        assert_eq!(db.also, ["/h/.ssh/config:7"]);
        let names: Vec<&str> = t.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["web1", "db1"]);
    }
}
