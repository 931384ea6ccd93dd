//! `@name`: groups from every source, looked up in one place.
//!
//! A bare `@name` is looked up in merge order: config.toml's `[groups]`
//! (with its tags), then the Ansible inventory's groups, then the default
//! ClusterShell source. `@source:name` asks one source: `config`,
//! `ansible`, or a ClusterShell source by its name, as `nodeset` reads
//! `@source:group`. When a bare name is defined by more than one source,
//! the first wins and the clash is noted, naming both, for the caller to
//! report (README, "Where hosts come from").

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Mutex, OnceLock};

use super::nodeset::Groups;
use super::sources::{GroupSource, SourceInventory};

pub struct GroupTable {
    /// config.toml's groups, tags added (name → node set).
    config: BTreeMap<String, String>,
    /// The Ansible inventory's groups (name → members, comma-joined),
    /// each with where it is defined.
    ansible: BTreeMap<String, (String, String)>,
    /// ClusterShell's sources, the default one first.
    clush: Vec<Box<dyn GroupSource>>,
    /// Clashes met while looking up, each said once.
    notes: Mutex<BTreeSet<GroupClash>>,
    /// The default ClusterShell source's group names, listed once (None:
    /// it cannot list). Checking a config or Ansible group for a clash
    /// then costs no `map` upcall: 500 Ansible groups ran 500 of them.
    clush_names: OnceLock<Option<HashSet<String>>>,
}

/// A group name several sources define: `@group` takes the first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupClash {
    pub group: String,
    /// Each defining source, described, in lookup order.
    pub sources: Vec<String>,
}

impl std::fmt::Display for GroupClash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = &self.group;
        write!(
            f,
            "@{name} is defined by {}: @{name} means the first; write @SOURCE:{name} for another",
            self.sources.join(" and by ")
        )
    }
}

/// The source names `@source:group` gives sshdeck's own sources.
pub const CONFIG_SOURCE: &str = "config";
pub const ANSIBLE_SOURCE: &str = "ansible";

impl GroupTable {
    pub fn new(config: BTreeMap<String, String>) -> GroupTable {
        GroupTable {
            config,
            ansible: BTreeMap::new(),
            clush: Vec::new(),
            notes: Mutex::new(BTreeSet::new()),
            clush_names: OnceLock::new(),
        }
    }

    pub fn set_ansible(&mut self, inv: &SourceInventory) {
        self.ansible = inv
            .groups
            .iter()
            .map(|(name, g)| (name.clone(), (g.members.join(","), g.origin.to_string())))
            .collect();
    }

    pub fn set_clustershell(&mut self, sources: Vec<Box<dyn GroupSource>>) {
        self.clush = sources;
    }

    /// config.toml's groups (tags included), to add a tag's hosts to.
    pub fn config_mut(&mut self) -> &mut BTreeMap<String, String> {
        &mut self.config
    }

    /// Every `@name` a bare or qualified lookup can find: config and
    /// Ansible names bare, the default ClusterShell source's bare (unless
    /// an earlier source has the name), other sources as `source:name`.
    /// A source that cannot list its groups adds none.
    pub fn names(&self) -> Result<Vec<String>, String> {
        let mut out: BTreeSet<String> = self.config.keys().cloned().collect();
        out.extend(self.ansible.keys().cloned());
        for (i, src) in self.clush.iter().enumerate() {
            // A source whose `list` fails (a system groups.conf whose
            // upcall reads a file this machine lacks) lists nothing here;
            // naming one of its groups still reports why it fails.
            let names = src.group_names().ok().flatten();
            for n in names.unwrap_or_default() {
                if i == 0 && !out.contains(&n) {
                    out.insert(n);
                } else {
                    out.insert(format!("{}:{n}", src.name()));
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Whether only config.toml (its groups or tags) has the name.
    pub fn only_in_config(&self, name: &str) -> bool {
        self.config.contains_key(name)
            && !self.ansible.contains_key(name)
            && !(self.clush_may_have(name)
                && self
                    .clush
                    .first()
                    .is_some_and(|s| matches!(clush_lookup(s.as_ref(), name), Ok(Some(_)))))
    }

    /// The clashes met so far, each once, and forgets them.
    pub fn take_notes(&self) -> Vec<GroupClash> {
        match self.notes.lock() {
            Ok(mut n) => std::mem::take(&mut *n).into_iter().collect(),
            Err(_) => Vec::new(),
        }
    }

    fn note(&self, clash: GroupClash) {
        if let Ok(mut n) = self.notes.lock() {
            n.insert(clash);
        }
    }

    fn clush_source(&self, name: &str) -> Option<&dyn GroupSource> {
        self.clush
            .iter()
            .find(|s| s.name() == name)
            .map(|s| s.as_ref())
    }

    fn qualified(&self, source: &str, group: &str) -> Result<Option<String>, String> {
        match source {
            CONFIG_SOURCE => Ok(self.config.get(group).cloned()),
            ANSIBLE_SOURCE => Ok(self.ansible.get(group).map(|(m, _)| m.clone())),
            other => match self.clush_source(other) {
                Some(src) => clush_lookup(src, group),
                None => Err(format!(
                    "no group source named {:?} (sources: {})",
                    crate::text::sanitize::visible_name(other),
                    self.source_names().join(", ")
                )),
            },
        }
    }

    /// Whether the default ClusterShell source may define `name`: its
    /// listing has it, or it cannot list (then only asking tells).
    fn clush_may_have(&self, name: &str) -> bool {
        self.default_clush_names()
            .is_none_or(|names| names.contains(name))
    }

    fn default_clush_names(&self) -> Option<&HashSet<String>> {
        self.clush_names
            .get_or_init(|| {
                let src = self.clush.first()?;
                let names = src.group_names().ok().flatten()?;
                Some(names.into_iter().collect())
            })
            .as_ref()
    }

    fn source_names(&self) -> Vec<String> {
        let mut v = vec![CONFIG_SOURCE.to_string(), ANSIBLE_SOURCE.to_string()];
        v.extend(self.clush.iter().map(|s| s.name().to_string()));
        v
    }
}

/// One group of a ClusterShell source; `*` is every node, as ClusterShell's
/// `@*` and `@source:*` are.
fn clush_lookup(src: &dyn GroupSource, group: &str) -> Result<Option<String>, String> {
    let found = if group == "*" {
        src.all_nodes()
    } else {
        src.group(group).map(|d| d.map(|d| d.nodes))
    };
    // A `map` upcall answers nothing for a group it does not know (and
    // `nodeset` prints nothing): that is no group, not a clash with
    // another source's group of that name.
    Ok(found
        .map_err(|e| e.to_string())?
        .filter(|nodes| !nodes.trim().is_empty()))
}

impl Groups for GroupTable {
    fn group(&self, name: &str) -> Result<Option<String>, String> {
        if let Some((source, group)) = name.split_once(':') {
            return self.qualified(source, group);
        }
        // Every source that defines the name, in merge order.
        let mut found: Vec<(String, String)> = Vec::new();
        if let Some(v) = self.config.get(name) {
            found.push((v.clone(), format!("config.toml ({CONFIG_SOURCE})")));
        }
        if let Some((v, origin)) = self.ansible.get(name) {
            found.push((
                v.clone(),
                format!("the Ansible inventory at {origin} ({ANSIBLE_SOURCE})"),
            ));
        }
        // The default source is asked when no earlier source has the name,
        // or when its listing says it has it too (or it cannot list).
        if (found.is_empty() || self.clush_may_have(name))
            && let Some(src) = self.clush.first()
            && let Some(v) = clush_lookup(src.as_ref(), name)?
        {
            found.push((v, format!("{} ({})", src.describe(), src.name())));
        }
        if found.len() > 1 {
            self.note(GroupClash {
                group: name.to_string(),
                sources: found.iter().map(|(_, s)| s.clone()).collect(),
            });
        }
        Ok(found.into_iter().next().map(|(v, _)| v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::nodeset;
    use crate::inventory::sources::{GroupDef, Origin, SourceError, SourceGroup};

    /// A group source as a fixed table: what ClusterShell's YAML files give.
    struct Table(&'static str, Vec<(&'static str, &'static str)>);

    impl GroupSource for Table {
        fn name(&self) -> &str {
            self.0
        }
        fn describe(&self) -> String {
            format!("ClusterShell source {}", self.0)
        }
        fn group(&self, group: &str) -> Result<Option<GroupDef>, SourceError> {
            Ok(self
                .1
                .iter()
                .find(|(g, _)| *g == group)
                .map(|(_, n)| GroupDef {
                    nodes: n.to_string(),
                    origin: Origin::new("groups.yaml", 1),
                }))
        }
        fn group_names(&self) -> Result<Option<Vec<String>>, SourceError> {
            Ok(Some(self.1.iter().map(|(g, _)| g.to_string()).collect()))
        }
        fn all_nodes(&self) -> Result<Option<String>, SourceError> {
            Ok(None)
        }
    }

    fn table() -> GroupTable {
        let mut t = GroupTable::new([("web".to_string(), "w[1-2]".to_string())].into());
        let mut inv = SourceInventory::default();
        inv.groups.insert(
            "web".into(),
            SourceGroup {
                members: vec!["a1".into(), "a2".into()],
                origin: Origin::new("/inv/hosts", 3),
            },
        );
        t.set_ansible(&inv);
        t.set_clustershell(vec![
            Box::new(Table("local", vec![("rack1", "n[1-3]"), ("web", "c1")])),
            Box::new(Table("other", vec![("rack1", "m1")])),
        ]);
        t
    }

    fn names(t: &GroupTable, e: &str) -> Vec<String> {
        nodeset::expand(e, t).unwrap().into_vec()
    }

    #[test]
    fn merge_order_and_qualified_names() {
        let t = table();
        assert_eq!(names(&t, "@rack1"), ["n1", "n2", "n3"]);
        assert_eq!(names(&t, "@other:rack1"), ["m1"]);
        assert_eq!(names(&t, "@ansible:web"), ["a1", "a2"]);
        assert_eq!(names(&t, "@local:web"), ["c1"]);
        assert!(t.take_notes().is_empty());
        assert_eq!(names(&t, "@web"), ["w1", "w2"]);
        let notes = t.take_notes();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].to_string().contains("config.toml (config) and by the Ansible inventory at /inv/hosts:3 (ansible) and by ClusterShell source local (local)"),
            "{}",
            notes[0]
        );
        let e = nodeset::expand("@nope:x", &t).unwrap_err().to_string();
        assert!(
            e.contains("no group source named \"nope\" (sources: config, ansible, local, other)"),
            "{e}"
        );
        assert_eq!(
            t.names().unwrap(),
            ["local:web", "other:rack1", "rack1", "web"]
        );
    }
}
