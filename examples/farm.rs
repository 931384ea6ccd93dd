//! Start a farm of real sshd hosts on loopback and keep it up until stdin
//! closes (or the process is killed). Used by `scripts/bench` and handy for
//! trying sshdeck by hand:
//!
//!     cargo run --example farm -- 10 /tmp/farm
//!
//! It writes `/tmp/farm/hosts` (one `user@127.0.0.1:port` per line),
//! `/tmp/farm/known_hosts` and `/tmp/farm/client_ed25519`.

#[path = "../tests/support/farm.rs"]
mod farm;

use std::io::Read;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let root = std::path::PathBuf::from(args.next().unwrap_or_else(|| "/tmp/sshdeck-farm".into()));
    let farm = farm::Farm::start_in(&root, n);
    let hosts: String = (0..n).map(|i| format!("{}\n", farm.label(i))).collect();
    std::fs::write(root.join("hosts"), hosts).expect("write hosts file");
    println!("ready {n} hosts in {}", root.display());
    // Block until our parent closes stdin; then Drop stops every sshd.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}
