//! The inventory as Ansible builds it while reading its sources: hosts
//! and groups in the order first named, group edges, and the variables
//! each source set on them. [`Data::reconcile`] then applies Ansible's
//! rules for `all` and `ungrouped`.

use std::collections::{BTreeMap, HashMap};

use super::value::{PyValue, Var};
use crate::inventory::sources::{Origin, SourceError};

pub(crate) type VarMap = BTreeMap<String, Var>;

#[derive(Debug)]
pub(crate) struct HostData {
    pub name: String,
    pub origin: Origin,
    pub vars: VarMap,
    /// Groups the host was put in directly.
    pub groups: Vec<usize>,
}

#[derive(Debug)]
pub(crate) struct GroupData {
    pub name: String,
    /// None until a source names the group (`all` and `ungrouped` exist
    /// before any does).
    pub origin: Option<Origin>,
    pub vars: VarMap,
    pub children: Vec<usize>,
    pub parents: Vec<usize>,
    pub hosts: Vec<usize>,
    /// `ansible_group_priority`, 1 unless set.
    pub priority: i64,
}

#[derive(Debug)]
pub(crate) struct Data {
    pub hosts: Vec<HostData>,
    pub groups: Vec<GroupData>,
    host_ix: HashMap<String, usize>,
    group_ix: HashMap<String, usize>,
}

pub(crate) const ALL: usize = 0;
pub(crate) const UNGROUPED: usize = 1;

fn invalid(origin: &Origin, msg: String) -> SourceError {
    SourceError::Invalid {
        origin: origin.clone(),
        msg,
    }
}

impl Data {
    pub fn new() -> Data {
        let mut d = Data {
            hosts: Vec::new(),
            groups: Vec::new(),
            host_ix: HashMap::new(),
            group_ix: HashMap::new(),
        };
        d.group_index("all", None);
        d.group_index("ungrouped", None);
        d.groups[ALL].children.push(UNGROUPED);
        d.groups[UNGROUPED].parents.push(ALL);
        d
    }

    fn group_index(&mut self, name: &str, origin: Option<&Origin>) -> usize {
        if let Some(&i) = self.group_ix.get(name) {
            if self.groups[i].origin.is_none() {
                self.groups[i].origin = origin.cloned();
            }
            return i;
        }
        let i = self.groups.len();
        self.groups.push(GroupData {
            name: name.to_string(),
            origin: origin.cloned(),
            vars: VarMap::new(),
            children: Vec::new(),
            parents: Vec::new(),
            hosts: Vec::new(),
            priority: 1,
        });
        self.group_ix.insert(name.to_string(), i);
        i
    }

    pub fn group(&self, name: &str) -> Option<usize> {
        self.group_ix.get(name).copied()
    }

    #[cfg(test)]
    pub fn host(&self, name: &str) -> Option<usize> {
        self.host_ix.get(name).copied()
    }

    pub fn add_group(&mut self, name: &str, origin: &Origin) -> usize {
        self.group_index(name, Some(origin))
    }

    /// Adds the host (once) and puts it in `group`. A port applies only
    /// when the host is new, as in Ansible.
    pub fn add_host(
        &mut self,
        name: &str,
        group: Option<usize>,
        port: Option<i64>,
        origin: &Origin,
    ) -> Result<usize, SourceError> {
        if name.is_empty() {
            return Err(invalid(origin, "an empty host name".into()));
        }
        let h = match self.host_ix.get(name) {
            Some(&h) => h,
            None => {
                let h = self.hosts.len();
                let mut vars = VarMap::new();
                if let Some(p) = port.filter(|p| *p != 0) {
                    let var = Var {
                        value: PyValue::Int(p),
                        origin: origin.clone(),
                    };
                    vars.insert("ansible_port".into(), var);
                }
                self.hosts.push(HostData {
                    name: name.to_string(),
                    origin: origin.clone(),
                    vars,
                    groups: Vec::new(),
                });
                self.host_ix.insert(name.to_string(), h);
                h
            }
        };
        // The host's own list is short, a group's may be long.
        if let Some(g) = group
            && !self.hosts[h].groups.contains(&g)
        {
            self.groups[g].hosts.push(h);
            self.hosts[h].groups.push(g);
        }
        Ok(h)
    }

    /// Makes `child` a child of `parent`, refusing an edge that would
    /// close a cycle.
    pub fn add_child(
        &mut self,
        parent: usize,
        child: usize,
        origin: &Origin,
    ) -> Result<(), SourceError> {
        if parent == child || self.descends_from(parent, child) {
            return Err(invalid(
                origin,
                format!(
                    "making group {:?} a child of {:?} creates a cycle",
                    self.groups[child].name, self.groups[parent].name
                ),
            ));
        }
        if !self.groups[parent].children.contains(&child) {
            self.groups[parent].children.push(child);
            self.groups[child].parents.push(parent);
        }
        Ok(())
    }

    /// Whether `g` is `ancestor` or one of its descendants.
    fn descends_from(&self, g: usize, ancestor: usize) -> bool {
        let mut stack = vec![ancestor];
        let mut seen = vec![false; self.groups.len()];
        while let Some(x) = stack.pop() {
            if x == g {
                return true;
            }
            if !std::mem::replace(&mut seen[x], true) {
                stack.extend(&self.groups[x].children);
            }
        }
        false
    }

    pub fn set_group_var(&mut self, g: usize, key: &str, var: Var) -> Result<(), SourceError> {
        // Ansible reads the priority when it is set, with int().
        if key == "ansible_group_priority" {
            let Some(p) = var.value.as_int() else {
                return Err(invalid(
                    &var.origin,
                    "ansible_group_priority must be a number".into(),
                ));
            };
            self.groups[g].priority = p;
        }
        self.groups[g].vars.insert(key.to_string(), var);
        Ok(())
    }

    pub fn set_host_var(&mut self, h: usize, key: &str, var: Var) {
        self.hosts[h].vars.insert(key.to_string(), var);
    }

    /// Ansible's rules once every source is read: a group without a
    /// parent is a child of `all`; a host in no group but `all` (or
    /// `ungrouped`) is in `ungrouped`, and only such hosts are.
    pub fn reconcile(&mut self) {
        for g in 0..self.groups.len() {
            if g != ALL && self.groups[g].parents.is_empty() {
                self.groups[ALL].children.push(g);
                self.groups[g].parents.push(ALL);
            }
        }
        for h in 0..self.hosts.len() {
            let elsewhere = self.hosts[h]
                .groups
                .iter()
                .any(|&g| g != ALL && g != UNGROUPED);
            let in_ungrouped = self.hosts[h].groups.contains(&UNGROUPED);
            if elsewhere && in_ungrouped {
                self.groups[UNGROUPED].hosts.retain(|&x| x != h);
                self.hosts[h].groups.retain(|&g| g != UNGROUPED);
            } else if !elsewhere && !in_ungrouped {
                self.groups[UNGROUPED].hosts.push(h);
                self.hosts[h].groups.push(UNGROUPED);
            }
        }
    }

    /// The groups a host is in, directly or through children, `all`
    /// included.
    pub fn host_groups(&self, h: usize) -> Vec<usize> {
        let mut seen = vec![false; self.groups.len()];
        let mut stack = self.hosts[h].groups.clone();
        let mut out = Vec::new();
        while let Some(g) = stack.pop() {
            if !std::mem::replace(&mut seen[g], true) {
                out.push(g);
                stack.extend(&self.groups[g].parents);
            }
        }
        out
    }

    /// Each group's depth, the longest path to it from `all`, as
    /// Ansible keeps it when it adds children.
    pub fn depths(&self) -> Vec<usize> {
        // Parents before children (the graph has no cycle), without
        // recursion: a chain of groups may be as long as the file.
        let mut depth = vec![0; self.groups.len()];
        let mut waiting: Vec<usize> = self.groups.iter().map(|g| g.parents.len()).collect();
        let mut ready: Vec<usize> = (0..self.groups.len())
            .filter(|&g| waiting[g] == 0)
            .collect();
        while let Some(g) = ready.pop() {
            for &c in &self.groups[g].children {
                depth[c] = depth[c].max(depth[g] + 1);
                waiting[c] -= 1;
                if waiting[c] == 0 {
                    ready.push(c);
                }
            }
        }
        depth
    }

    /// A group's hosts with its descendants' hosts, each once: the group
    /// itself first, then its children breadth first.
    pub fn members(&self, g: usize) -> Vec<usize> {
        let mut seen_g = vec![false; self.groups.len()];
        let mut seen_h = vec![false; self.hosts.len()];
        let mut queue = std::collections::VecDeque::from([g]);
        let mut out = Vec::new();
        while let Some(x) = queue.pop_front() {
            if std::mem::replace(&mut seen_g[x], true) {
                continue;
            }
            for &h in &self.groups[x].hosts {
                if !std::mem::replace(&mut seen_h[h], true) {
                    out.push(h);
                }
            }
            queue.extend(&self.groups[x].children);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize) -> Origin {
        Origin::new("/inv", line)
    }

    #[test]
    fn cycles_are_refused_with_the_line() {
        let mut d = Data::new();
        let a = d.add_group("a", &at(1));
        let b = d.add_group("b", &at(2));
        d.add_child(a, b, &at(3)).unwrap();
        let e = d.add_child(b, a, &at(4)).unwrap_err();
        assert!(e.to_string().starts_with("/inv:4: "), "{e}");
        assert!(d.add_child(a, a, &at(5)).is_err());
    }

    #[test]
    fn reconcile_puts_lone_hosts_in_ungrouped_only() {
        let mut d = Data::new();
        let web = d.add_group("web", &at(1));
        d.add_host("w", Some(web), None, &at(2)).unwrap();
        d.add_host("u", Some(UNGROUPED), None, &at(3)).unwrap();
        d.add_host("w", Some(UNGROUPED), None, &at(4)).unwrap();
        d.add_host("a", Some(ALL), None, &at(5)).unwrap();
        d.reconcile();
        let names = |g| -> Vec<String> {
            d.members(g)
                .iter()
                .map(|&h| d.hosts[h].name.clone())
                .collect()
        };
        assert_eq!(names(UNGROUPED), ["u", "a"]);
        assert_eq!(names(web), ["w"]);
        assert_eq!(names(ALL).len(), 3);
        assert_eq!(d.depths()[web], 1);
    }

    #[test]
    fn a_port_applies_when_the_host_is_new_only() {
        let mut d = Data::new();
        let h = d.add_host("h", None, Some(2222), &at(1)).unwrap();
        d.add_host("h", None, Some(3333), &at(2)).unwrap();
        assert_eq!(d.hosts[h].vars["ansible_port"].value, PyValue::Int(2222));
    }
}
