//! The gathered view's model: hosts grouped by outcome, then by identical
//! output, largest group first; and a line diff against the largest group.

use std::collections::HashMap;

use similar::{ChangeTag, TextDiff};

use super::state::{AppState, RunResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Host indices.
    pub hosts: Vec<usize>,
    /// "exit 0", "killed by SIGTERM", "timeout", "running".
    pub outcome: String,
    pub text: String,
    /// Lines of the output fell out of the scrollback: `text` is its end.
    pub partial: bool,
}

/// Hosts grouped by outcome and by a digest of everything they sent (not
/// the part of it their scrollback still holds), largest group first. The
/// text shown is the first host's; one lookup per host, so 10,000 hosts
/// group in one pass.
pub fn groups(s: &AppState) -> Vec<Group> {
    let Some(job) = &s.job else {
        return Vec::new();
    };
    let mut out: Vec<Group> = Vec::new();
    let mut index: HashMap<(String, [[u8; 32]; 2]), usize> = HashMap::new();
    for &h in &job.targets {
        let outcome = match s.hosts[h].last.as_ref().map(|l| &l.result) {
            Some(RunResult::Exit(st)) => st.to_string(),
            Some(RunResult::Failed { kind, .. }) => kind.clone(),
            Some(RunResult::Running) | None => "running".to_string(),
        };
        let key = (outcome, s.outputs[h].digests());
        match index.get(&key) {
            Some(&g) => out[g].hosts.push(h),
            None => {
                index.insert(key.clone(), out.len());
                out.push(Group {
                    hosts: vec![h],
                    outcome: key.0,
                    text: s.outputs[h].plain_text(),
                    partial: s.outputs[h].dropped > 0,
                });
            }
        }
    }
    // Largest first; ties by outcome so the order is stable.
    out.sort_by(|a, b| {
        b.hosts
            .len()
            .cmp(&a.hosts.len())
            .then(a.outcome.cmp(&b.outcome))
    });
    out
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
