//! `-b/--gather`: group hosts by outcome and identical output, then print
//! each distinct result once under the folded list of its hosts (clush -b),
//! in the order the TUI's gathered view shows them too.

use std::collections::BTreeMap;
use std::io::Write;

use super::outcome::Ended;
use super::shared_output::{Finished, SharedOutputs};
use crate::engine::commands::outcome::{NO_RESULT, ResultRank, sort_gathered};
use crate::inventory::nodeset;
use crate::text::sanitize::sanitize_line;

/// Output kept of one distinct result per stream. Past this its hosts are
/// marked truncated (still grouped by a hash of everything they sent).
const CAP: usize = 8 * 1024 * 1024;
/// Output kept for all distinct results together, per stream: hosts that
/// agree share one copy, so this bounds only how many *different* outputs
/// can be shown. Past it a host is grouped by hash, its output not kept.
const BUDGET: usize = 64 * 1024 * 1024;

pub struct Gatherer {
    streams: [SharedOutputs; 2],
    hosts: usize,
}

/// One host's two streams, finished, with their digests.
struct HostStreams {
    streams: [Finished; 2],
    digests: [[u8; 32]; 2],
}

/// Hosts that ended the same way and sent the same bytes.
struct PrintedGroup {
    /// They exited 0.
    ok: bool,
    /// Where their result sorts (exit 0 first, as `clush -b`).
    rank: ResultRank,
    /// How they ended, as printed: "exit 0", "refused: …", "no result".
    what: String,
    /// Their labels folded into a node set: `web[01-03]`.
    nodeset: String,
    /// The first host's output, shown for all.
    captured: HostStreams,
    hosts: Vec<usize>,
}

impl Gatherer {
    pub fn new(n: usize) -> Self {
        Gatherer {
            streams: [
                SharedOutputs::new(n, CAP, BUDGET),
                SharedOutputs::new(n, CAP, BUDGET),
            ],
            hosts: n,
        }
    }

    pub fn output(&mut self, host: usize, stderr: bool, data: &[u8]) {
        self.streams[usize::from(stderr)].push(host, data);
    }

    /// Groups in the gathered order (`clush -b`'s: successes first, then
    /// the largest; see [`sort_gathered`]). Hosts group by outcome and by `digests`,
    /// the SHA-256 of all they sent on each stream (the caller hashes as
    /// output arrives).
    fn groups(
        &self,
        labels: &[String],
        outcomes: &[Option<Ended>],
        digests: &[[[u8; 32]; 2]],
    ) -> Vec<PrintedGroup> {
        // GroupKey: (ok?, outcome text, per stream: hash, length, truncated, dropped).
        type GroupKey = (bool, String, [([u8; 32], u64, bool, bool); 2]);
        let mut map: BTreeMap<GroupKey, Vec<usize>> = BTreeMap::new();
        for i in 0..self.hosts {
            let (ok, what) = match outcomes.get(i).and_then(Option::as_ref) {
                Some(e) => (e.outcome.ok(), e.outcome.describe()),
                None => (false, NO_RESULT.to_string()),
            };
            let key = |s: usize| {
                let f = self.streams[s].finish(i);
                let digest = digests.get(i).map_or([0; 32], |d| d[s]);
                (digest, f.len, f.truncated, f.dropped)
            };
            map.entry((ok, what, [key(0), key(1)])).or_default().push(i);
        }
        let mut groups: Vec<PrintedGroup> = map
            .into_iter()
            .map(|((ok, what, keys), hosts)| {
                let first = hosts[0];
                let captured = HostStreams {
                    streams: [self.streams[0].finish(first), self.streams[1].finish(first)],
                    digests: [keys[0].0, keys[1].0],
                };
                let ended = outcomes.get(first).and_then(Option::as_ref);
                PrintedGroup {
                    ok,
                    rank: ResultRank::of(ended.map(|e| &e.outcome)),
                    what,
                    nodeset: fold_hosts(labels, &hosts),
                    captured,
                    hosts,
                }
            })
            .collect();
        sort_gathered(&mut groups, |g| {
            (&g.rank, g.hosts.len(), g.nodeset.as_str())
        });
        groups
    }

    /// Bytes held for every host's output together.
    #[cfg(test)]
    pub fn stored_bytes(&self) -> usize {
        self.streams.iter().map(SharedOutputs::stored_bytes).sum()
    }

    pub fn print(
        &self,
        labels: &[String],
        outcomes: &[Option<Ended>],
        digests: &[[[u8; 32]; 2]],
        color: bool,
    ) {
        let mut out = std::io::stdout().lock();
        let (bold, red, reset) = if color {
            ("\x1b[1m", "\x1b[31m", "\x1b[0m")
        } else {
            ("", "", "")
        };
        for group in self.groups(labels, outcomes, digests) {
            let PrintedGroup {
                ok,
                what,
                nodeset,
                captured: cap,
                hosts,
                ..
            } = group;
            let tint = if ok { bold } else { red };
            let _ = writeln!(out, "{tint}---------------{reset}");
            let _ = writeln!(out, "{tint}{nodeset} ({}) {what}{reset}", hosts.len());
            let _ = writeln!(out, "{tint}---------------{reset}");
            for (s, f) in cap.streams.iter().enumerate() {
                if f.len == 0 {
                    continue;
                }
                if s == 1 {
                    let _ = writeln!(out, "{red}[stderr]{reset}");
                }
                if f.dropped {
                    // Too many different outputs to keep them all.
                    let _ = writeln!(
                        out,
                        "[{} of output not shown: the hosts sent more than {} MiB of \
                         differing output in all; these hosts sent identical bytes \
                         (SHA-256 {}…)]",
                        crate::text::human_bytes(f.len),
                        BUDGET >> 20,
                        &data_encoding::HEXLOWER.encode(&cap.digests[s])[..16]
                    );
                    continue;
                }
                print_lines(&mut out, self.streams[s].bytes(f));
                if f.truncated {
                    let _ = writeln!(
                        out,
                        "[output truncated: the first {} MiB of {} shown]",
                        CAP >> 20,
                        crate::text::human_bytes(f.len)
                    );
                }
            }
        }
        let _ = out.flush();
    }
}

/// `hosts` by their labels, folded into a node set: `web[01-03]`.
fn fold_hosts(labels: &[String], hosts: &[usize]) -> String {
    let names: Vec<&str> = hosts
        .iter()
        .filter_map(|&i| labels.get(i).map(String::as_str))
        .collect();
    nodeset::fold(&names)
}

fn print_lines(out: &mut impl Write, data: &[u8]) {
    let data = data.strip_suffix(b"\n").unwrap_or(data);
    if data.is_empty() {
        return;
    }
    for line in data.split(|&b| b == b'\n') {
        let _ = writeln!(out, "{}", sanitize_line(line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{ExitStatus, HostError, HostOutcome};
    use std::time::Duration;

    /// Output as `sshdeck run` hands it over: to the gatherer, and hashed
    /// per host and stream.
    struct Fed {
        g: Gatherer,
        hashes: Vec<[sha2::Sha256; 2]>,
    }

    impl Fed {
        fn new(n: usize) -> Fed {
            Fed {
                g: Gatherer::new(n),
                hashes: (0..n).map(|_| Default::default()).collect(),
            }
        }

        fn output(&mut self, h: usize, stderr: bool, data: &[u8]) {
            use sha2::Digest;
            self.hashes[h][usize::from(stderr)].update(data);
            self.g.output(h, stderr, data);
        }

        /// Grouped as `print` groups them, the hosts labelled `n0`, `n1`, …
        fn groups(&self, outcomes: &[Option<Ended>]) -> Vec<PrintedGroup> {
            use sha2::Digest;
            let digests: Vec<[[u8; 32]; 2]> = self
                .hashes
                .iter()
                .map(|[o, e]| [o.clone().finalize().into(), e.clone().finalize().into()])
                .collect();
            let labels: Vec<String> = (0..self.g.hosts).map(|h| format!("n{h}")).collect();
            self.g.groups(&labels, outcomes, &digests)
        }
    }

    fn ended(outcome: HostOutcome) -> Option<Ended> {
        Some(Ended::new(outcome, Duration::ZERO))
    }

    fn exit(c: u32) -> Option<Ended> {
        ended(HostOutcome::Exit(ExitStatus::Code(c)))
    }

    fn shape(groups: Vec<PrintedGroup>) -> Vec<(String, Vec<usize>)> {
        groups.into_iter().map(|g| (g.what, g.hosts)).collect()
    }

    #[test]
    fn groups_by_outcome_then_output() {
        let mut g = Fed::new(5);
        for h in 0..4 {
            g.output(h, false, if h == 2 { b"other\n" } else { b"same\n" });
        }
        let outcomes = vec![
            exit(0),
            exit(0),
            exit(0),
            exit(1),
            ended(HostOutcome::from(&HostError::Refused {
                addr: "x:22".into(),
            })),
        ];
        let shape = shape(g.groups(&outcomes));
        assert_eq!(shape.len(), 4);
        assert_eq!(shape[0], ("exit 0".to_string(), vec![0, 1]));
        // Then by result, as clush -b: exit codes from the lowest.
        assert_eq!(shape[1], ("exit 0".to_string(), vec![2]));
        assert_eq!(shape[2], ("exit 1".to_string(), vec![3]));
        assert!(shape[3].0.starts_with("refused"), "{:?}", shape[3]);
        assert_eq!(shape[3].1, vec![4]);
    }

    /// As `clush -b` and the TUI's gathered view: successes first even
    /// when a failure is larger, then lower exit codes, failures to run
    /// last.
    #[test]
    fn successes_lead_even_when_a_failure_is_larger() {
        let g = Fed::new(6);
        let cancelled = || ended(HostOutcome::from(&HostError::Cancelled));
        let outcomes = vec![
            exit(0),
            cancelled(),
            exit(0),
            cancelled(),
            cancelled(),
            exit(2),
        ];
        let shape = shape(g.groups(&outcomes));
        assert_eq!(shape[0], ("exit 0".to_string(), vec![0, 2]));
        assert_eq!(shape[1], ("exit 2".to_string(), vec![5]));
        assert!(shape[2].0.starts_with("cancelled"), "{:?}", shape[2]);
        assert_eq!(shape[2].1, vec![1, 3, 4]);
    }

    #[test]
    fn capture_is_capped_and_shared() {
        let mut g = Fed::new(3);
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..10 {
            for h in 0..3 {
                g.output(h, false, &chunk);
            }
        }
        // Three hosts, one copy, no more than the cap.
        assert_eq!(g.g.stored_bytes(), CAP);
        let groups = g.groups(&[exit(0), exit(0), exit(0)]);
        assert_eq!(groups.len(), 1);
        assert!(groups[0].captured.streams[0].truncated);
        assert_eq!(groups[0].captured.streams[0].len, 10 << 20);
    }

    /// Past the cap nothing more is kept, but hosts whose output differs
    /// there (same length) are still told apart, by the digest.
    #[test]
    fn outputs_that_differ_past_the_cap_are_apart() {
        let mut g = Fed::new(2);
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..9 {
            for h in 0..2 {
                g.output(h, false, &chunk);
            }
        }
        g.output(0, false, b"a");
        g.output(1, false, b"b");
        let groups = g.groups(&[exit(0), exit(0)]);
        assert_eq!(groups.len(), 2, "the same first 8 MiB, then different");
        assert!(groups.iter().all(|g| g.captured.streams[0].truncated));
    }
}
