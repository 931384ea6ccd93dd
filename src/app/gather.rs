//! The gathered view's model: hosts grouped by outcome, then by identical
//! output, in `clush -b`'s order (the order `sshdeck run -b` prints); and
//! a line diff against the largest group.

use std::collections::HashMap;

use similar::{ChangeTag, TextDiff};

use super::msg::Effect;
use super::state::{AppState, Focus};
use crate::engine::HostOutcome;
use crate::engine::commands::outcome::{ResultRank, largest, sort_gathered};
use crate::inventory::nodeset::fold;
use crate::keymap::Action;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultGroup {
    /// Host indices.
    pub hosts: Vec<usize>,
    /// Their labels folded into a node set: `web[1-3]`.
    pub nodeset: String,
    /// "exit 0", "killed by SIGTERM", "timeout", "running".
    pub outcome: String,
    /// Where the outcome sorts (exit 0 first, as `clush -b`).
    pub rank: ResultRank,
    pub text: String,
    /// Lines of the output fell out of the scrollback: `text` is its end.
    pub partial: bool,
}

/// Hosts grouped by outcome and by a digest of everything they sent (not
/// the part of it their scrollback still holds), in the gathered order:
/// successes first, then the largest group (see [`sort_gathered`]). The text shown is the first
/// host's; one lookup per host, so 10,000 hosts group in one pass.
pub fn groups(s: &AppState) -> Vec<ResultGroup> {
    let Some(job) = &s.deck.job else {
        return Vec::new();
    };
    let mut out: Vec<ResultGroup> = Vec::new();
    let mut index: HashMap<(String, [[u8; 32]; 2]), usize> = HashMap::new();
    for &h in &job.targets {
        let ended = s.hosts[h].last.as_ref().and_then(|l| l.outcome.as_ref());
        let outcome = ended.map_or_else(|| "running".to_string(), HostOutcome::kind);
        let key = (outcome, s.outputs[h].digests());
        match index.get(&key) {
            Some(&g) => out[g].hosts.push(h),
            None => {
                index.insert(key.clone(), out.len());
                out.push(ResultGroup {
                    hosts: vec![h],
                    nodeset: String::new(),
                    outcome: key.0,
                    rank: ResultRank::of(ended),
                    text: s.outputs[h].plain_text(),
                    partial: s.outputs[h].dropped > 0,
                });
            }
        }
    }
    // Folded once all hosts are in: for the order, and for the header.
    for g in &mut out {
        let names: Vec<&str> = g.hosts.iter().map(|&h| s.hosts[h].label.as_str()).collect();
        g.nodeset = fold(&names);
    }
    sort_gathered(&mut out, |g| (&g.rank, g.hosts.len(), g.nodeset.as_str()));
    out
}

/// Keys in the gathered view: move between groups, diff, and act on a
/// group by selecting its hosts for the next command.
pub fn on_action(s: &mut AppState, a: Action) -> Option<Vec<Effect>> {
    let groups = groups(s);
    let cursor = s
        .deck
        .panes
        .gathered_cursor
        .min(groups.len().saturating_sub(1));
    match a {
        Action::Up => s.deck.panes.gathered_cursor = cursor.saturating_sub(1),
        Action::Down => {
            s.deck.panes.gathered_cursor = (cursor + 1).min(groups.len().saturating_sub(1))
        }
        Action::Diff => s.deck.panes.show_diff = !s.deck.panes.show_diff,
        Action::SelectResult => {
            let Some(g) = groups.get(cursor) else {
                s.status = Some("no results to select yet".into());
                return Some(Vec::new());
            };
            select_only(s, &g.hosts);
            s.status = Some(format!("the {} group is selected", g.outcome));
        }
        Action::SelectOutliers => {
            let main = largest_group(&groups);
            let others: Vec<usize> = groups
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != main)
                .flat_map(|(_, g)| g.hosts.iter().copied())
                .collect();
            if others.is_empty() {
                s.status = Some("every host has the same result".into());
                return Some(Vec::new());
            }
            select_only(s, &others);
            s.status = Some("the hosts outside the largest group are selected".into());
        }
        _ => return None,
    }
    Some(Vec::new())
}

/// The group the others are compared with (diff, "differs", outliers):
/// the largest, wherever the order puts it.
pub fn largest_group(groups: &[ResultGroup]) -> Option<usize> {
    largest(groups, |g| g.hosts.len())
}

/// Select exactly `hosts` and put the cursor in the command pane, so the
/// next command goes there.
fn select_only(s: &mut AppState, hosts: &[usize]) {
    let set: std::collections::HashSet<usize> = hosts.iter().copied().collect();
    for (i, h) in s.hosts.iter_mut().enumerate() {
        h.selected = set.contains(&i);
    }
    s.focus = Focus::Command;
}

/// Lines of `other` compared with `base`: ('-', line) only in base,
/// ('+', line) only in other, (' ', line) in both.
pub fn diff(base: &str, other: &str) -> Vec<(char, String)> {
    TextDiff::from_lines(base, other)
        .iter_all_changes()
        .map(|c| {
            let tag = match c.tag() {
                ChangeTag::Delete => '-',
                ChangeTag::Insert => '+',
                ChangeTag::Equal => ' ',
            };
            (tag, c.value().trim_end_matches('\n').to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_marks_changes() {
        let d = diff("a\nb\nc\n", "a\nB\nc\n");
        assert_eq!(
            d,
            vec![
                (' ', "a".into()),
                ('-', "b".into()),
                ('+', "B".into()),
                (' ', "c".into())
            ]
        );
    }
}
