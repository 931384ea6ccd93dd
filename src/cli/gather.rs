//! `-b/--gather`: group hosts by outcome and identical output, then print
//! each distinct result once under the folded list of its hosts (clush -b).

use std::collections::BTreeMap;
use std::io::Write;

use super::run::Outcome;
use crate::inventory::nodeset;
use crate::text::sanitize::sanitize_line;

/// Output kept per stream per host. Past this the host is marked truncated:
/// gathering must not let one chatty host eat the machine's memory.
const CAP: usize = 8 * 1024 * 1024;

#[derive(Default)]
struct Captured {
    streams: [Vec<u8>; 2],
    truncated: bool,
}

pub struct Gatherer {
    hosts: Vec<Captured>,
}

impl Gatherer {
    pub fn new(n: usize) -> Self {
        Gatherer {
            hosts: (0..n).map(|_| Captured::default()).collect(),
        }
    }

    pub fn output(&mut self, host: usize, stderr: bool, data: &[u8]) {
        let c = &mut self.hosts[host];
        let buf = &mut c.streams[usize::from(stderr)];
        let room = CAP.saturating_sub(buf.len());
        buf.extend_from_slice(&data[..data.len().min(room)]);
        if data.len() > room {
            c.truncated = true;
        }
    }

    /// Groups in a stable order: successes first, then by outcome text, then
    /// larger groups first.
    fn groups<'a>(
        &'a self,
        outcomes: &'a [Option<Outcome>],
    ) -> Vec<(String, &'a Captured, Vec<usize>)> {
        // Key: (failed?, outcome text, stdout, stderr, truncated).
        type Key<'k> = (bool, String, &'k [u8], &'k [u8], bool);
        let mut map: BTreeMap<Key<'a>, Vec<usize>> = BTreeMap::new();
        for (i, c) in self.hosts.iter().enumerate() {
            let (ok, what) = match outcomes.get(i).and_then(Option::as_ref) {
                Some(o) => (o.ok(), o.describe()),
                None => (false, "no result".to_string()),
            };
            map.entry((!ok, what, &c.streams[0], &c.streams[1], c.truncated))
                .or_default()
                .push(i);
        }
        let mut groups: Vec<_> = map
            .into_iter()
            .map(|((_, what, ..), hosts)| {
                let c = &self.hosts[hosts[0]];
                (what, c, hosts)
            })
            .collect();
        groups.sort_by(|a, b| {
            let ok_a = a.0.starts_with("exit 0");
            let ok_b = b.0.starts_with("exit 0");
            ok_b.cmp(&ok_a)
                .then(b.2.len().cmp(&a.2.len()))
                .then(a.0.cmp(&b.0))
        });
        groups
    }

    pub fn print(&self, labels: &[String], outcomes: &[Option<Outcome>], color: bool) {
        let mut out = std::io::stdout().lock();
        let (bold, red, reset) = if color {
            ("\x1b[1m", "\x1b[31m", "\x1b[0m")
        } else {
            ("", "", "")
        };
        for (what, cap, hosts) in self.groups(outcomes) {
            let names: Vec<&str> = hosts.iter().map(|&i| labels[i].as_str()).collect();
            let tint = if what.starts_with("exit 0") {
                bold
            } else {
                red
            };
            let _ = writeln!(out, "{tint}---------------{reset}");
            let _ = writeln!(
                out,
                "{tint}{} ({}) {what}{reset}",
                nodeset::fold(&names),
                hosts.len()
            );
            let _ = writeln!(out, "{tint}---------------{reset}");
            print_lines(&mut out, &cap.streams[0]);
            if !cap.streams[1].is_empty() {
                let _ = writeln!(out, "{red}[stderr]{reset}");
                print_lines(&mut out, &cap.streams[1]);
            }
            if cap.truncated {
                let _ = writeln!(out, "[output truncated at {} MiB per stream]", CAP >> 20);
            }
        }
        let _ = out.flush();
    }
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
    use crate::engine::{ExitStatus, HostError};
    use std::time::Duration;

    fn exit(c: u32) -> Option<Outcome> {
        Some(Outcome::Exit {
            status: ExitStatus::Code(c),
            elapsed: Duration::ZERO,
        })
    }

    #[test]
    fn groups_by_outcome_then_output() {
        let mut g = Gatherer::new(5);
        for h in 0..4 {
            g.output(h, false, if h == 2 { b"other\n" } else { b"same\n" });
        }
        let outcomes = vec![
            exit(0),
            exit(0),
            exit(0),
            exit(1),
            Some(Outcome::Failed {
                error: HostError::Refused {
                    addr: "x:22".into(),
                },
                elapsed: Duration::ZERO,
            }),
        ];
        let groups = g.groups(&outcomes);
        let shape: Vec<(String, Vec<usize>)> = groups.into_iter().map(|(w, _, h)| (w, h)).collect();
        assert_eq!(shape[0], ("exit 0".to_string(), vec![0, 1]));
        assert_eq!(shape[1], ("exit 0".to_string(), vec![2]));
        assert_eq!(shape.len(), 4);
        assert!(shape.iter().any(|(w, h)| w == "exit 1" && h == &vec![3]));
        assert!(
            shape
                .iter()
                .any(|(w, h)| w.starts_with("refused") && h == &vec![4])
        );
    }

    #[test]
    fn capture_is_capped() {
        let mut g = Gatherer::new(1);
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..10 {
            g.output(0, false, &chunk);
        }
        assert_eq!(g.hosts[0].streams[0].len(), CAP);
        assert!(g.hosts[0].truncated);
    }
}
