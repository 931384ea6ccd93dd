//! A measure for benchmarks: many nodes in upcall groups, resolved once
//! the upcalls' answers are cached. Tests print its figures; nothing
//! asserts them (speed belongs to benchmarks, not to pass/fail).

use std::path::Path;
use std::time::{Duration, Instant};

use super::{SourceGroups, load_from};
use crate::inventory::nodeset::expand;
use crate::inventory::sources::{Origin, SourceError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeedReport {
    pub nodes: usize,
    pub groups: usize,
    /// Loading groups.conf and resolving `@*` with every upcall run.
    pub first: Duration,
    /// Resolving `@*` again, every answer from the cache.
    pub cached: Duration,
}

/// Write a groups.conf in `dir` whose source answers `nodes` nodes in
/// groups of 100 from a file (map and list upcalls, no `all`, so `@*`
/// takes ClusterShell's list + map way), then time `@*` twice.
pub fn resolve_all(dir: &Path, nodes: usize) -> Result<SpeedReport, SourceError> {
    let io = |path: &Path, e: std::io::Error| SourceError::Io {
        path: path.to_path_buf(),
        cause: e.to_string(),
    };
    let groups = nodes.div_ceil(100);
    let mut table = String::new();
    for g in 0..groups {
        table.push_str(&format!("g{g}:"));
        for n in g * 100..((g + 1) * 100).min(nodes) {
            table.push_str(&format!(" node{n:05}"));
        }
        table.push('\n');
    }
    let data = dir.join("groups.txt");
    std::fs::write(&data, table).map_err(|e| io(&data, e))?;
    let conf = dir.join("groups.conf");
    let text = "[speed]\nmap = sed -n 's/^$GROUP: //p' $CFGDIR/groups.txt\nlist = cut -d: -f1 $CFGDIR/groups.txt\n";
    std::fs::write(&conf, text).map_err(|e| io(&conf, e))?;

    let start = Instant::now();
    let sources = load_from(std::slice::from_ref(&conf))?;
    let resolve = || {
        expand("@*", &SourceGroups(&sources)).map_err(|e| SourceError::Invalid {
            origin: Origin::new(&conf, 0),
            msg: e.to_string(),
        })
    };
    let got = resolve()?.len();
    let first = start.elapsed();
    let start = Instant::now();
    let again = resolve()?.len();
    let cached = start.elapsed();
    if got != nodes || again != nodes {
        return Err(SourceError::Invalid {
            origin: Origin::new(&conf, 0),
            msg: format!("@* gave {got} then {again} nodes, not {nodes}"),
        });
    }
    Ok(SpeedReport {
        nodes,
        groups,
        first,
        cached,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn ten_thousand_nodes_resolve_and_report_their_time() {
        let dir = tempfile::tempdir().unwrap();
        let r = super::resolve_all(dir.path(), 10_000).unwrap();
        assert_eq!((r.nodes, r.groups), (10_000, 100));
        eprintln!(
            "clustershell speed: {} nodes in {} upcall groups: first @* {:?}, cached @* {:?}",
            r.nodes, r.groups, r.first, r.cached
        );
    }
}
