#![allow(dead_code)]

pub mod farm;
pub mod fault;
pub mod fleet;
pub mod hostile;
pub mod hostile_cli;
pub mod pty;
mod snapshots;
pub mod tmux;

// Unused by the test binaries that take no snapshots (fleet, hostile).
#[allow(unused_imports)]
pub(crate) use snapshots::assert_snapshot;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sshdeck::engine::{
    Engine, EngineConfig, Event, EventKind, ExitStatus, HostError, HostId, HostKeyPolicy, Target,
};
use tokio::sync::mpsc::Receiver;

use farm::{Farm, is_root};

/// What one host produced for one job.
#[derive(Debug, Default)]
pub struct HostRun {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit: Option<ExitStatus>,
    pub error: Option<HostError>,
    pub connects: usize,
    pub warnings: Vec<String>,
}

/// Strict trust, only the given key, no agent, nobody to ask: tests must
/// never depend on the developer's own ~/.ssh or agent.
pub fn engine_config(known_hosts: &[PathBuf], key: &Path) -> EngineConfig {
    let mut cfg = EngineConfig::new(known_hosts.to_vec(), vec![key.to_path_buf()]);
    cfg.connect_timeout = Duration::from_secs(10);
    cfg.policy = HostKeyPolicy::Strict;
    cfg.agent = None;
    cfg
}

pub fn farm_engine(farm: &Farm) -> (Engine, Receiver<Event>, Vec<HostId>) {
    let (mut engine, rx) = Engine::new(engine_config(
        std::slice::from_ref(&farm.known_hosts),
        &farm.client_key,
    ));
    let ids = (0..farm.hosts.len())
        .map(|i| engine.add_host(farm_target(farm, i)))
        .collect();
    (engine, rx, ids)
}

/// Keep reading engine events so producers never wait on a full queue,
/// for tests that do not look at them.
pub fn drain(mut rx: Receiver<Event>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move { while rx.recv().await.is_some() {} })
}

/// [`farm_engine`] for tests that need no events (they are drained).
pub fn farm_engine_drained(farm: &Farm) -> (Engine, Vec<HostId>) {
    let (e, rx, ids) = farm_engine(farm);
    drain(rx);
    (e, ids)
}

pub fn farm_target(farm: &Farm, i: usize) -> Target {
    Target::new(
        farm.label(i),
        "127.0.0.1",
        farm.hosts[i].port,
        farm.user.clone(),
    )
}

/// Read events until every host in `hosts` has a terminal event for the job
/// they belong to. Fails the test if that takes longer than `limit`.
pub async fn collect(
    rx: &mut Receiver<Event>,
    hosts: &[HostId],
    limit: Duration,
) -> HashMap<HostId, HostRun> {
    let mut runs: HashMap<HostId, HostRun> = HashMap::new();
    let mut done = 0;
    let deadline = tokio::time::Instant::now() + limit;
    while done < hosts.len() {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("hosts did not finish in time")
            .expect("engine closed its event channel");
        let terminal = ev.is_terminal();
        let run = runs.entry(ev.host).or_default();
        match ev.kind {
            EventKind::Connecting => run.connects += 1,
            EventKind::Connected | EventKind::Disconnected => {}
            EventKind::Warning(w) => run.warnings.push(w),
            EventKind::Stdout(d) => run.stdout.extend_from_slice(&d),
            EventKind::Stderr(d) => run.stderr.extend_from_slice(&d),
            EventKind::Exit { status, .. } => run.exit = Some(status),
            EventKind::Failed { error, .. } => run.error = Some(error),
        }
        if terminal {
            done += 1;
        }
    }
    runs
}

/// The binary under test: this build's, or `$SSHDECK_BIN` (to show that a
/// test fails on an older build).
pub fn sshdeck_bin() -> std::path::PathBuf {
    std::env::var_os("SSHDECK_BIN")
        .map(Into::into)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_sshdeck").into())
}

/// The real sshdeck binary, kept away from the developer's own config,
/// ssh_config (the machine's /etc/ssh/ssh_config too: `-F none`, which a
/// test's own `-F FILE` overrides), keys and agent, and never prompting on
/// their terminal.
pub fn sshdeck_cmd(farm: &Farm) -> Command {
    let mut c = Command::new(sshdeck_bin());
    c.env("XDG_CONFIG_HOME", farm.root.join("xdg"))
        .env("XDG_STATE_HOME", farm.root.join("state"))
        .env("HOME", &farm.root)
        .env_remove("SSH_AUTH_SOCK")
        .args(["--batch", "-F", "none"]);
    c
}

/// `sshdeck_cmd` trusting the farm's host keys and using its client key.
pub fn sshdeck_farm(farm: &Farm) -> Command {
    let mut c = sshdeck_cmd(farm);
    c.arg("--known-hosts")
        .arg(&farm.known_hosts)
        .arg("-i")
        .arg(&farm.client_key);
    c
}

/// Creates (once) a local account with a known password. Needs root, as
/// sshd checks passwords against /etc/shadow.
pub fn password_user() -> Option<(String, String)> {
    const USER: &str = "sshdeck-pw";
    const PASS: &str = "Correct-Horse-42";
    if !is_root() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "password auth test needs root under CI"
        );
        eprintln!("skipping password auth test: needs root to create a test account");
        return None;
    }
    // Tests of several files share this account and now one process: one at
    // a time checks for it and creates it, or a second `useradd` would fail
    // on the account the first has just made.
    static CREATING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = CREATING.lock().unwrap_or_else(|e| e.into_inner());
    let exists = Command::new("id")
        .arg(USER)
        .output()
        .is_ok_and(|o| o.status.success());
    if !exists {
        let ok = Command::new("useradd")
            .args(["-M", "-s", "/bin/sh", USER])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "useradd {USER} failed");
    }
    let mut chpasswd = Command::new("chpasswd")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("chpasswd");
    use std::io::Write;
    chpasswd
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{USER}:{PASS}\n").as_bytes())
        .unwrap();
    assert!(chpasswd.wait().unwrap().success());
    Some((USER.into(), PASS.into()))
}

/// A stand-in for sudo that prompts like the real one (on stderr, with
/// `-p`'s %u expanded), reads the password from stdin (`-S`), says "Sorry,
/// try again." when it is wrong, and then runs the command.
pub fn fake_sudo(secret: &str) -> String {
    format!(
        r#"#!/bin/sh
prompt='[sudo] password for %u: '
while [ $# -gt 0 ]; do
  case "$1" in -S) shift;; -p) prompt=$2; shift 2;; --) shift; break;; *) break;; esac
done
tries=0
while :; do
  printf '%s' "$prompt" | sed "s/%u/$(id -un)/" >&2
  [ -t 0 ] && stty -echo
  IFS= read -r pw || {{ echo "sudo: no password was provided" >&2; exit 1; }}
  [ -t 0 ] && {{ stty echo; echo >&2; }}
  if [ "$pw" = '{secret}' ]; then exec "$@"; fi
  tries=$((tries+1)); echo "Sorry, try again." >&2
  [ $tries -ge 3 ] && {{ echo "sudo: 3 incorrect password attempts" >&2; exit 1; }}
done
"#
    )
}

/// A field of /proc/self/status in KiB (`VmRSS:`, `VmHWM:`), 0 if absent.
pub fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// User plus system CPU seconds of `who` (`libc::RUSAGE_SELF`, ...).
pub fn cpu_secs(who: i32) -> f64 {
    // SAFETY: a zeroed rusage is valid for getrusage to fill.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut u) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// The farm example built by the same cargo as this test. `cargo test
/// --all-targets` has built it already; a run of this test alone has
/// not, so build it (a no-op when it is up to date).
pub fn farm_example() -> PathBuf {
    use std::path::Path;
    let exe = std::env::current_exe().expect("test exe");
    // target/<profile>/deps/farm_example-HASH
    let profile = exe.parent().and_then(Path::parent).expect("profile dir");
    let target = profile.parent().expect("target dir");
    let mut build =
        std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    build
        .args(["build", "--quiet", "--example", "farm", "--manifest-path"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target);
    if profile.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    let status = build.status().expect("run cargo build --example farm");
    assert!(status.success(), "cargo build --example farm failed");
    let bin = profile.join("examples/farm");
    assert!(bin.exists(), "{} missing after the build", bin.display());
    bin
}

/// SHA-256 of a local file, read in 1 MiB pieces (copies of hundreds of MiB).
pub fn sha256_of(path: &std::path::Path) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    h.finalize().to_vec()
}
