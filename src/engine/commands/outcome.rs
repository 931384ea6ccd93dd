//! How one host's command ended, as every front end reports it: the
//! headless run, its gathered (`-b`) and streaming printers, the TUI's
//! host list, panes and gathered view, and the run record. One type, so
//! "did it fail" and "what to call it" are worked out in one place.
//!
//! Also the order gathered results are shown in, which `sshdeck run -b`
//! and the TUI's gathered view share.

use crate::engine::{ExitStatus, HostError};
use crate::text::sanitize::clean;

/// What the run record and `sshdeck run -b` call a host that never
/// reported how its command ended (the run was left early).
pub const NO_RESULT: &str = "no result";

/// How one host's command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostOutcome {
    /// The command exited, or a signal ended it.
    Exit(ExitStatus),
    /// It could not run or was stopped: the short kind ("timeout",
    /// "refused", "cancelled") and the whole error. `cause` is the error
    /// as the engine words it and may quote what a host said: clean it
    /// (as [`HostOutcome::describe`] does) before drawing it.
    Failed { kind: String, cause: String },
}

impl From<&HostError> for HostOutcome {
    fn from(error: &HostError) -> Self {
        HostOutcome::Failed {
            kind: error.kind().to_string(),
            cause: error.to_string(),
        }
    }
}

impl HostOutcome {
    /// The command ran and exited 0.
    pub fn ok(&self) -> bool {
        matches!(self, HostOutcome::Exit(status) if status.success())
    }

    /// Short: "exit 3", "killed by SIGTERM", "timeout". What the run
    /// record keeps, and what the TUI groups and lists by.
    pub fn kind(&self) -> String {
        match self {
            HostOutcome::Exit(status) => status.to_string(),
            HostOutcome::Failed { kind, .. } => kind.clone(),
        }
    }

    /// Whole and safe to print: "exit 3", "killed by SIGTERM", or
    /// "refused: connection refused by …". What `sshdeck run` prints.
    pub fn describe(&self) -> String {
        match self {
            HostOutcome::Exit(status) => clean(&status.to_string()),
            HostOutcome::Failed { kind, cause } => clean(&format!("{kind}: {cause}")),
        }
    }
}

/// Put groups of hosts with the same result in the order both gathered
/// views show them: the largest group first, ties by the group's hosts as
/// a folded node set (`web[01-03]`), so the order never depends on which
/// host answered first. This is `clush -b`'s order among the groups of
/// one exit code (ClusterShell sorts by `-len(nodeset)`, then the node
/// set); clush also puts lower exit codes first, which we do not, so the
/// first group is always the majority the others are compared with.
///
/// `key` gives a group's host count and its node set already folded: the
/// folding is the inventory's (`inventory::nodeset::fold`), a layer above
/// the engine, so each caller folds (once per group, kept with it for its
/// header) and this stays the one place the order is decided.
pub fn sort_gathered<T>(groups: &mut [T], key: impl Fn(&T) -> (usize, &str)) {
    // Stable: groups that tie on both (a host listed twice) keep their order.
    groups.sort_by(|a, b| {
        let (a_hosts, a_set) = key(a);
        let (b_hosts, b_set) = key(b);
        b_hosts.cmp(&a_hosts).then_with(|| a_set.cmp(b_set))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ok_only_for_exit_zero() {
        assert!(HostOutcome::Exit(ExitStatus::Code(0)).ok());
        assert!(!HostOutcome::Exit(ExitStatus::Code(3)).ok());
        let killed = HostOutcome::Exit(ExitStatus::Signal {
            name: "TERM".into(),
            core_dumped: false,
        });
        assert!(!killed.ok());
        assert_eq!(killed.kind(), "killed by SIGTERM");
        assert!(!HostOutcome::from(&HostError::Cancelled).ok());
    }

    #[test]
    fn kind_is_short_and_describe_is_whole_and_clean() {
        let refused = HostOutcome::from(&HostError::Refused {
            addr: "x\x1b[2J:22".into(),
        });
        assert_eq!(refused.kind(), "refused");
        let said = refused.describe();
        assert!(said.starts_with("refused: "), "{said}");
        assert!(!said.contains('\x1b'), "{said}");
        assert_eq!(HostOutcome::Exit(ExitStatus::Code(3)).kind(), "exit 3");
        assert_eq!(HostOutcome::Exit(ExitStatus::Code(3)).describe(), "exit 3");
    }

    fn ordered(groups: &[(usize, &str)]) -> Vec<String> {
        let mut g = groups.to_vec();
        sort_gathered(&mut g, |(n, set)| (*n, *set));
        g.into_iter().map(|(_, set)| set.to_string()).collect()
    }

    #[test]
    fn largest_group_first_even_when_it_failed() {
        // Three hosts timed out, two succeeded: the failure leads.
        assert_eq!(
            ordered(&[(2, "web[01-02]"), (3, "db[1-3]"), (1, "cache1")]),
            ["db[1-3]", "web[01-02]", "cache1"]
        );
    }

    #[test]
    fn ties_go_by_node_set() {
        assert_eq!(
            ordered(&[(1, "web2"), (2, "db[2-3]"), (1, "app1"), (2, "db1,web1")]),
            ["db1,web1", "db[2-3]", "app1", "web2"]
        );
    }
}
