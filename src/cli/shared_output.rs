//! Many hosts' outputs in the memory of their distinct ones.
//!
//! Gathering used to keep every host's output whole, so 10,000 hosts
//! printing the same 1 MiB held 10 GiB. Here each host *follows* a stored
//! output while its bytes agree with it, and stores nothing of its own. The
//! first host past the end of a stored output extends it; a host whose
//! bytes differ forks a new one at the first differing byte (hosts with the
//! same output fork at the same byte, and find each other's fork there).
//! Hosts are grouped by a hash of their full output, which the caller
//! keeps (`sshdeck run` hashes every stream once, for gathering and for
//! its run record alike), so a host is grouped by all it sent even past
//! what is kept here.
//!
//! What is stored is bounded: one output stops growing at `cap` (its hosts
//! are then "truncated"), and all outputs together at `budget`; a host that
//! would need more is only counted, and its group says its output was not
//! kept.

use std::collections::HashMap;

/// Where one host stands.
#[derive(Clone)]
struct Follow {
    /// The stored output it agrees with so far.
    rep: usize,
    /// Bytes of it matched so far.
    at: usize,
    /// Bytes it has sent in all.
    len: u64,
    /// Its output went past what a stored output may hold.
    truncated: bool,
    /// Nothing of it is stored any more (the budget ran out).
    dropped: bool,
}

/// One host's output once it is done: what to show of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub len: u64,
    pub truncated: bool,
    pub dropped: bool,
    rep: usize,
    shown: usize,
}

pub struct SharedOutputs {
    reps: Vec<Vec<u8>>,
    /// Forks by (stored output, offset): the outputs that begin as that
    /// one's first `offset` bytes and then differ from it.
    forks: HashMap<(usize, usize), Vec<usize>>,
    hosts: Vec<Follow>,
    stored: usize,
    cap: usize,
    budget: usize,
}

impl SharedOutputs {
    pub fn new(hosts: usize, cap: usize, budget: usize) -> Self {
        let start = Follow {
            rep: 0,
            at: 0,
            len: 0,
            truncated: false,
            dropped: false,
        };
        SharedOutputs {
            reps: vec![Vec::new()],
            forks: HashMap::new(),
            hosts: vec![start; hosts],
            stored: 0,
            cap,
            budget,
        }
    }

    /// Bytes held for every host together.
    #[cfg(test)]
    pub fn stored_bytes(&self) -> usize {
        self.stored
    }

    pub fn push(&mut self, host: usize, mut data: &[u8]) {
        let Some(f) = self.hosts.get_mut(host) else {
            return;
        };
        f.len += data.len() as u64;
        if f.dropped || f.truncated {
            return;
        }
        while !data.is_empty() {
            let f = &mut self.hosts[host];
            let rep = &self.reps[f.rep];
            // Agree with what is stored, as far as it goes.
            let there = &rep[f.at..];
            let n = there.len().min(data.len());
            // Agreement is the common case: one memcmp, then find the byte.
            let same = if there[..n] == data[..n] {
                n
            } else {
                there
                    .iter()
                    .zip(data)
                    .position(|(a, b)| a != b)
                    .unwrap_or(n)
            };
            f.at += same;
            data = &data[same..];
            if data.is_empty() {
                return;
            }
            if same < there.len() {
                // Differs at `f.at`: join the fork made there, or make it.
                let key = (f.rep, f.at);
                let next = self.forks.get(&key).and_then(|kids| {
                    kids.iter()
                        .copied()
                        .find(|&k| self.reps[k].get(key.1) == data.first())
                });
                let f = &mut self.hosts[host];
                match next {
                    Some(k) => f.rep = k,
                    None => {
                        let copy = key.1;
                        if self.stored + copy > self.budget {
                            f.dropped = true;
                            return;
                        }
                        let prefix = self.reps[key.0][..copy].to_vec();
                        self.stored += copy;
                        self.reps.push(prefix);
                        let k = self.reps.len() - 1;
                        self.forks.entry(key).or_default().push(k);
                        self.hosts[host].rep = k;
                    }
                }
                continue;
            }
            // At the end of the stored output: extend it, within limits.
            let room = self.cap.saturating_sub(f.at).min(data.len());
            if room == 0 {
                f.truncated = true;
                return;
            }
            if self.stored + room > self.budget {
                self.hosts[host].dropped = true;
                return;
            }
            let f = &mut self.hosts[host];
            self.reps[f.rep].extend_from_slice(&data[..room]);
            self.stored += room;
            f.at += room;
            if room < data.len() {
                f.truncated = true;
                return;
            }
            data = &[];
        }
    }

    pub fn finish(&self, host: usize) -> Finished {
        let f = &self.hosts[host];
        Finished {
            len: f.len,
            truncated: f.truncated,
            dropped: f.dropped,
            rep: f.rep,
            shown: if f.dropped { 0 } else { f.at },
        }
    }

    /// What can be shown of a finished output.
    pub fn bytes(&self, f: &Finished) -> &[u8] {
        self.reps
            .get(f.rep)
            .and_then(|r| r.get(..f.shown))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed `outputs[h]` to host h in chunks of `chunk` bytes, hosts taking
    /// turns, as a network interleaves them.
    fn feed(s: &mut SharedOutputs, outputs: &[Vec<u8>], chunk: usize) {
        let mut at = vec![0; outputs.len()];
        loop {
            let mut any = false;
            for (h, out) in outputs.iter().enumerate() {
                if at[h] < out.len() {
                    let end = (at[h] + chunk + h % 3).min(out.len());
                    s.push(h, &out[at[h]..end]);
                    at[h] = end;
                    any = true;
                }
            }
            if !any {
                break;
            }
        }
    }

    #[test]
    fn a_thousand_hosts_printing_the_same_mebibyte_store_it_once() {
        let one: Vec<u8> = (0..1 << 20).map(|i| (i * 7 % 251) as u8).collect();
        let outputs = vec![one.clone(); 1000];
        let mut s = SharedOutputs::new(1000, 8 << 20, 64 << 20);
        feed(&mut s, &outputs, 4096);
        assert_eq!(s.stored_bytes(), 1 << 20);
        let f0 = s.finish(0);
        assert!((1..1000).all(|h| s.finish(h) == f0));
        assert_eq!(s.bytes(&f0), &one[..]);
    }

    #[test]
    fn outputs_that_differ_are_told_apart_and_kept_whole() {
        let base: Vec<u8> = (0..100_000).map(|i| (i % 241) as u8).collect();
        let mut other = base.clone();
        other[50_000] ^= 1;
        let shorter = base[..70_000].to_vec();
        let longer = [&base[..], b"tail"].concat();
        let outputs = vec![
            base.clone(),
            other.clone(),
            base.clone(),
            other.clone(),
            shorter.clone(),
            longer.clone(),
            Vec::new(),
        ];
        let mut s = SharedOutputs::new(outputs.len(), 8 << 20, 64 << 20);
        feed(&mut s, &outputs, 1000);
        for (h, want) in outputs.iter().enumerate() {
            let f = s.finish(h);
            assert_eq!(s.bytes(&f), &want[..], "host {h}");
            assert_eq!(f.len, want.len() as u64, "host {h}");
        }
        assert_eq!(s.finish(0), s.finish(2));
        assert_eq!(s.finish(1), s.finish(3));
        assert_ne!(s.finish(0), s.finish(1));
        // The two hosts printing `other` share one fork of 50,000 shared
        // bytes: the base, its tail, the fork.
        assert!(
            s.stored_bytes() <= 100_004 + 100_000,
            "{}",
            s.stored_bytes()
        );
    }

    #[test]
    fn past_the_budget_hosts_are_grouped_by_hash_and_say_so() {
        let outputs: Vec<Vec<u8>> = (0..10u8).map(|h| vec![h; 10_000]).collect();
        let mut s = SharedOutputs::new(10, 8 << 20, 35_000);
        feed(&mut s, &outputs, 500);
        assert!(s.stored_bytes() <= 35_000);
        let dropped: Vec<usize> = (0..10).filter(|&h| s.finish(h).dropped).collect();
        assert!(!dropped.is_empty());
        for (h, out) in outputs.iter().enumerate() {
            let f = s.finish(h);
            assert_eq!(f.len, 10_000);
            if !f.dropped {
                assert_eq!(s.bytes(&f), &out[..]);
            }
        }
    }

    #[test]
    fn an_output_stops_growing_at_the_cap_but_is_counted_whole() {
        let big = vec![b'x'; 10_000];
        let mut s = SharedOutputs::new(2, 4096, 1 << 20);
        feed(&mut s, &[big.clone(), big[..5000].to_vec()], 700);
        let (a, b) = (s.finish(0), s.finish(1));
        assert!(a.truncated && b.truncated);
        assert_eq!(s.bytes(&a).len(), 4096);
        assert_eq!((a.len, b.len), (10_000, 5000), "counted past the cap");
        assert_eq!(s.stored_bytes(), 4096);
    }
}
