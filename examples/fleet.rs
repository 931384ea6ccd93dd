//! Serve a simulated fleet of N SSH hosts from this one process, until
//! stdin closes (or the process is killed). Used by `scripts/bench-fleet`,
//! which measures sshdeck in a process of its own:
//!
//!     cargo run --release --example fleet -- 1000 /tmp/fleet [--threads 1]
//!         [--first K] [--down EVERY] [--hang EVERY] [--slow EVERY:MS]
//!         [--flood EVERY:BYTES]
//!
//! `--first K` serves hosts K..K+N only (a shard: one process holds two
//! descriptors per host, so 10,000 hosts need two under a 20,000 limit);
//! shards started in one DIR, one after the other, share the client key
//! (each writes its own hosts and known_hosts, so give each its own DIR
//! holding a copy of the first one's client_ed25519).
//!
//! Host i listens on 127.0.(1 + i/250).(1 + i%250) on one port. It writes
//! DIR/hosts (`ADDR:PORT` per line), DIR/known_hosts and
//! DIR/client_ed25519, then prints `ready N hosts on port P`.

#[path = "../tests/support/fleet.rs"]
mod fleet;

use std::io::Read;
use std::time::Duration;

use fleet::{Fault, Faults, Fleet};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut n = 100;
    let mut root = std::path::PathBuf::from("/tmp/sshdeck-fleet");
    let mut threads = 1;
    let mut first = 0;
    let mut faults = Vec::new();
    let mut positional = 0;
    let mut it = args.iter();
    let every_and = |v: &str| -> (usize, u64) {
        let (e, x) = v.split_once(':').unwrap_or((v, "0"));
        (e.parse().unwrap_or(0), x.parse().unwrap_or(0))
    };
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().unwrap_or_default();
        match a.as_str() {
            "--threads" => threads = value().parse().unwrap_or(1),
            "--first" => first = value().parse().unwrap_or(0),
            "--down" => faults.push((every_and(&value()).0, Fault::Down)),
            "--hang" => faults.push((every_and(&value()).0, Fault::Hang)),
            "--slow" => {
                let (e, ms) = every_and(&value());
                faults.push((e, Fault::SlowHandshake(Duration::from_millis(ms))));
            }
            "--flood" => {
                let (e, bytes) = every_and(&value());
                faults.push((e, Fault::Flood(bytes)));
            }
            other if positional == 0 => {
                n = other.parse().unwrap_or(n);
                positional += 1;
            }
            other => {
                root = other.into();
                positional += 1;
            }
        }
    }
    // Take every descriptor the hard limit allows: two per host.
    raise_open_files();
    let fleet = match Fleet::start_shard(&root, first..first + n, Faults(faults), threads) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("fleet: cannot start {n} hosts in {}: {e}", root.display());
            std::process::exit(1);
        }
    };
    println!("ready {n} hosts on port {}", fleet.port);
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

fn raise_open_files() {
    // SAFETY: getrlimit/setrlimit on a zeroed struct we own.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
