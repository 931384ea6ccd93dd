//! Start a farm of real sshd hosts on loopback and keep it up until SIGINT,
//! SIGTERM or SIGHUP. Used by the `scripts/bench*` scripts and handy for
//! trying sshdeck by hand:
//!
//!     cargo run --example farm -- 10 /tmp/farm &
//!     until [ -e /tmp/farm/ready ]; do sleep 1; done
//!     ...
//!     kill "$(cat /tmp/farm/ready)"
//!
//! It writes `/tmp/farm/hosts` (one `user@127.0.0.1:port` per line),
//! `/tmp/farm/known_hosts`, `/tmp/farm/client_ed25519` and, once every
//! host accepts connections, `/tmp/farm/ready` holding the farm's pid
//! (removed again when it stops). It never reads stdin: a farm started with
//! `&` in an interactive shell would be stopped by SIGTTIN, and one started
//! from a script (stdin /dev/null) would see end of file at once.

#[path = "../tests/support/farm.rs"]
mod farm;

use std::path::{Path, PathBuf};

use tokio::signal::unix::{SignalKind, signal};

fn main() {
    let positional: Vec<String> = std::env::args().skip(1).collect();
    if positional.iter().any(|a| a == "-h" || a == "--help") {
        println!(
            "usage: farm [HOSTS (10)] [DIR (/tmp/sshdeck-farm)]; stops on SIGINT, SIGTERM, SIGHUP"
        );
        return;
    }
    let n: usize = positional
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let root = PathBuf::from(
        positional
            .get(1)
            .cloned()
            .unwrap_or_else(|| "/tmp/sshdeck-farm".into()),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("tokio runtime");
    rt.block_on(run(n, &root));
}

async fn run(n: usize, root: &Path) {
    // Handlers first: a signal while the hosts start must still stop them
    // (the default action would kill us and leave the sshds behind).
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    let mut hup = signal(SignalKind::hangup()).expect("SIGHUP handler");
    let ready = root.join("ready");
    // A ready file left by a farm that was killed outright would make a
    // waiting script go ahead before these hosts are up.
    let _ = std::fs::remove_file(&ready);
    let farm = farm::Farm::start_in(root, n);
    let hosts: String = (0..n).map(|i| format!("{}\n", farm.label(i))).collect();
    std::fs::write(root.join("hosts"), hosts).expect("write hosts file");
    // Written whole under another name and renamed, so a reader never sees
    // an empty pid.
    let tmp = root.join("ready.tmp");
    std::fs::write(&tmp, format!("{}\n", std::process::id())).expect("write ready file");
    std::fs::rename(&tmp, &ready).expect("write ready file");
    println!("ready {n} hosts in {}", root.display());
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = hup.recv() => {}
    }
    let _ = std::fs::remove_file(&ready);
    // Dropping the farm kills every sshd and the sessions below them.
    drop(farm);
}
