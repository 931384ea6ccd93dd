//! Folders of the host list: config `[groups]` and tags.
//!
//! The rule, as README's host list section states it:
//! - every `[groups]` group is a folder listing each host of the list it
//!   names, so a host in several groups shows in each (as ClusterShell's
//!   `cluset -LL` lists a node under every group); the row is the same
//!   host, so selecting it in one folder selects it in all;
//! - the group `all` makes no folder: it would hold every host (as
//!   ClusterShell's `@all`, it is there to select, with `g @all`);
//! - a tag named like a group adds its hosts to the group (as `g @name`
//!   selects them); a host in no group goes under its first tag, as
//!   before groups were folders;
//! - hosts with neither go last, under "(ungrouped)", or, when there are
//!   no folders at all, the list is flat.

use std::collections::{BTreeMap, HashMap};

use crate::inventory::nodeset;

/// Folder key of the hosts that are in no group and have no tag.
pub const UNGROUPED: &str = "";

/// What the `(ungrouped)` folder is called on screen.
pub const UNGROUPED_TITLE: &str = "(ungrouped)";

/// The group that names every host is for selecting, not a folder.
const ALL: &str = "all";

/// Folders in display order (by name, `(ungrouped)` last), each with its
/// hosts in inventory order. Empty when no host has a group or a tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folders(pub Vec<(String, Vec<usize>)>);

impl Folders {
    /// `hosts` are (label, tags) in inventory order; `groups` are the
    /// config's `[groups]`, name → node set.
    pub fn new<'a>(
        hosts: impl IntoIterator<Item = (&'a str, &'a [String])>,
        groups: &BTreeMap<String, String>,
    ) -> Folders {
        let hosts: Vec<(&str, &[String])> = hosts.into_iter().collect();
        let mut by_label: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, (label, _)) in hosts.iter().enumerate() {
            by_label.entry(label).or_default().push(i);
        }
        let lookup = nodeset_groups(hosts.iter().copied(), groups);
        let mut folders: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut in_group = vec![false; hosts.len()];
        for name in groups.keys().filter(|n| n.as_str() != ALL) {
            // The config checked every group when it was read; one that
            // still fails to expand simply makes no folder.
            let Ok(set) = nodeset::expand(&format!("@{name}"), &lookup) else {
                continue;
            };
            let mut members: Vec<usize> = set
                .iter()
                .filter_map(|n| by_label.get(n))
                .flatten()
                .copied()
                .collect();
            if members.is_empty() {
                continue;
            }
            members.sort_unstable();
            members.dedup();
            for &h in &members {
                in_group[h] = true;
            }
            folders.insert(name.clone(), members);
        }
        let mut ungrouped = Vec::new();
        for (i, (_, tags)) in hosts.iter().enumerate() {
            if in_group[i] {
                continue;
            }
            match tags.first() {
                Some(t) => folders.entry(t.clone()).or_default().push(i),
                None => ungrouped.push(i),
            }
        }
        let mut out: Vec<(String, Vec<usize>)> = folders.into_iter().collect();
        // Tag hosts may have joined a group's folder: inventory order.
        for (_, members) in &mut out {
            members.sort_unstable();
        }
        if !out.is_empty() && !ungrouped.is_empty() {
            out.push((UNGROUPED.to_string(), ungrouped));
        }
        Folders(out)
    }

    /// The hosts of the folder called `name`.
    pub fn members(&self, name: &str) -> &[usize] {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[], |(_, m)| m.as_slice())
    }
}

/// The config's groups plus every tag as a group of its hosts, as `g`
/// reads `@name`: a tag named like a group adds its hosts to the group.
pub fn nodeset_groups<'a>(
    hosts: impl IntoIterator<Item = (&'a str, &'a [String])>,
    groups: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut tags: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (label, host_tags) in hosts {
        for t in host_tags {
            tags.entry(t.clone()).or_default().push(label);
        }
    }
    let mut all = groups.clone();
    for (t, mut names) in tags {
        names.dedup();
        let e = all.entry(t).or_default();
        for n in names {
            if !e.is_empty() {
                e.push(',');
            }
            e.push_str(n);
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folders(hosts: &[(&str, &[&str])], groups: &[(&str, &str)]) -> Vec<(String, Vec<usize>)> {
        let hosts: Vec<(String, Vec<String>)> = hosts
            .iter()
            .map(|(l, t)| (l.to_string(), t.iter().map(|t| t.to_string()).collect()))
            .collect();
        let groups = groups
            .iter()
            .map(|(n, e)| (n.to_string(), e.to_string()))
            .collect();
        Folders::new(
            hosts.iter().map(|(l, t)| (l.as_str(), t.as_slice())),
            &groups,
        )
        .0
    }

    fn f(name: &str, hosts: &[usize]) -> (String, Vec<usize>) {
        (name.to_string(), hosts.to_vec())
    }

    #[test]
    fn a_host_shows_under_each_of_its_groups() {
        let got = folders(
            &[("web1", &[]), ("web2", &[]), ("db1", &[]), ("lone", &[])],
            &[
                ("web", "web[1-2]"),
                ("edge", "web2,db1"),
                ("all", "@web,db1"),
            ],
        );
        assert_eq!(
            got,
            vec![f("edge", &[1, 2]), f("web", &[0, 1]), f(UNGROUPED, &[3])]
        );
    }

    #[test]
    fn hosts_in_no_group_go_under_their_first_tag() {
        let got = folders(
            &[
                ("web1", &["prod"]),
                ("db1", &["prod", "db"]),
                ("x", &["web"]),
                ("y", &[]),
            ],
            &[("web", "web1")],
        );
        // x's tag is named like the group: it joins that folder.
        assert_eq!(
            got,
            vec![f("prod", &[1]), f("web", &[0, 2]), f(UNGROUPED, &[3])]
        );
    }

    #[test]
    fn groups_may_name_tags_and_hosts_outside_the_list() {
        let got = folders(
            &[("a", &["rack1"]), ("b", &["rack1"]), ("c", &[])],
            &[("hot", "@rack1!b,zz9")],
        );
        assert_eq!(
            got,
            vec![f("hot", &[0]), f("rack1", &[1]), f(UNGROUPED, &[2])]
        );
    }

    #[test]
    fn no_groups_or_tags_no_folders() {
        assert!(folders(&[("a", &[]), ("b", &[])], &[("all", "a,b")]).is_empty());
    }
}
