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

/// Where a result sorts among others, as `clush -b` prints return codes:
/// exit codes from the lowest (0 first), then deaths by signal, then
/// failures to run (timeout, refused…), and hosts with no result last.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ResultRank(u8, u32, String);

impl ResultRank {
    pub fn of(outcome: Option<&HostOutcome>) -> ResultRank {
        match outcome {
            Some(HostOutcome::Exit(ExitStatus::Code(c))) => ResultRank(0, *c, String::new()),
            Some(HostOutcome::Exit(ExitStatus::Signal { name, .. })) => {
                ResultRank(1, 0, name.clone())
            }
            Some(HostOutcome::Failed { kind, .. }) => ResultRank(2, 0, kind.clone()),
            None => ResultRank(3, 0, String::new()),
        }
    }
}

/// Put groups of hosts with the same result in `clush -b`'s order, which
/// `sshdeck run -b` and the TUI's gathered view share: by result (see
/// [`ResultRank`]: successes first), then the largest group first, then
/// by the group's hosts as a folded node set (`web[01-03]`), so the order
/// never depends on which host answered first. (ClusterShell breaks the
/// last tie by the node set's first node; the folded text starts with it.)
///
/// `key` gives a group's rank, host count and node set already folded:
/// the folding is the inventory's (`inventory::nodeset::fold`), a layer
/// above the engine, so each caller folds (once per group, kept with it
/// for its header) and this stays the one place the order is decided.
pub fn sort_gathered<T>(groups: &mut [T], key: impl Fn(&T) -> (&ResultRank, usize, &str)) {
    // Stable: groups that tie on all three keep their order.
    groups.sort_by(|a, b| {
        let (a_rank, a_hosts, a_set) = key(a);
        let (b_rank, b_hosts, b_set) = key(b);
        a_rank
            .cmp(b_rank)
            .then(b_hosts.cmp(&a_hosts))
            .then_with(|| a_set.cmp(b_set))
    });
}

/// The largest group, which the others are compared with: the first of
/// the largest in the gathered order.
pub fn largest<T>(groups: &[T], hosts: impl Fn(&T) -> usize) -> Option<usize> {
    let most = groups.iter().map(&hosts).max()?;
    groups.iter().position(|g| hosts(g) == most)
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

    fn ordered(groups: &[(Option<HostOutcome>, usize, &str)]) -> Vec<String> {
        let mut g: Vec<(ResultRank, usize, &str)> = groups
            .iter()
            .map(|(o, n, set)| (ResultRank::of(o.as_ref()), *n, *set))
            .collect();
        sort_gathered(&mut g, |(r, n, set)| (r, *n, *set));
        g.into_iter().map(|(_, _, set)| set.to_string()).collect()
    }

    fn exit(c: u32) -> Option<HostOutcome> {
        Some(HostOutcome::Exit(ExitStatus::Code(c)))
    }

    #[test]
    fn results_in_clush_order_then_largest_first() {
        let timeout = Some(HostOutcome::from(&HostError::CommandTimeout {
            after: std::time::Duration::from_secs(1),
        }));
        // Three hosts timed out, two failed with exit 1, one succeeded:
        // clush -b prints return codes from the lowest, failures after.
        assert_eq!(
            ordered(&[
                (timeout, 3, "db[1-3]"),
                (exit(1), 2, "web[01-02]"),
                (None, 1, "cache2"),
                (exit(0), 1, "cache1"),
            ]),
            ["cache1", "web[01-02]", "db[1-3]", "cache2"]
        );
    }

    #[test]
    fn within_a_result_the_largest_first_then_by_node_set() {
        assert_eq!(
            ordered(&[
                (exit(0), 1, "web2"),
                (exit(0), 2, "db[2-3]"),
                (exit(0), 1, "app1"),
                (exit(0), 2, "db1,web1"),
            ]),
            ["db1,web1", "db[2-3]", "app1", "web2"]
        );
    }

    #[test]
    fn the_largest_is_found_wherever_it_sorts() {
        assert_eq!(largest(&[1usize, 3, 2, 3], |n| *n), Some(1));
        assert_eq!(largest::<usize>(&[], |n| *n), None);
    }
}
