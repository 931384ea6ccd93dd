//! The simulated fleet (`tests/support/fleet.rs`): many SSH hosts from one
//! process. At 200 hosts in every CI run, so it keeps working; the scale
//! runs (1,000 to 10,000 hosts, the fleet in a process of its own so only
//! sshdeck is measured) are ignored here and run by `scripts/bench-fleet`.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sshdeck::engine::{Engine, ExecOptions, ExitStatus, HostId, Target};
use support::fleet::{Fault, Faults, Fleet, name_of};
use support::{collect, cpu_secs, engine_config, status_kib};

fn target(fleet: &Fleet, i: usize) -> Target {
    Target::new(
        fleet.label(i),
        fleet.addrs[i].to_string(),
        fleet.port,
        "fleet",
    )
}

/// Connecting 200 hosts may wait on a busy machine: the fleet's tests
/// measure answers, not handshake speed, so the connect timeout is long.
fn paced(mut cfg: sshdeck::engine::EngineConfig) -> sshdeck::engine::EngineConfig {
    cfg.connect_timeout = Duration::from_secs(120);
    cfg
}

fn start(n: usize, faults: Faults) -> (tempfile::TempDir, Fleet) {
    let dir = tempfile::tempdir().unwrap();
    let fleet = Fleet::start(dir.path(), n, faults, 1).expect("fleet starts");
    (dir, fleet)
}

/// The real binary, kept away from the developer's own config, keys and
/// agent, trusting the fleet's keys: `sshdeck BEFORE -H <every host> AFTER`.
fn sshdeck_on(
    dir: &tempfile::TempDir,
    fleet: &Fleet,
    before: &[&str],
    after: &[&str],
) -> std::process::Command {
    let hosts: Vec<String> = (0..fleet.addrs.len())
        .map(|i| format!("fleet@{}", fleet.label(i)))
        .collect();
    let mut c = std::process::Command::new(support::sshdeck_bin());
    c.env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
        .env_remove("SSH_AUTH_SOCK")
        // Hundreds of handshakes on a machine that may be busy with other
        // tests (or a build): connecting is paced, not timed, here.
        .args([
            "--batch",
            "-F",
            "none",
            "--connect-timeout",
            "120",
            "--known-hosts",
        ])
        .arg(fleet.known_hosts())
        .arg("-i")
        .arg(fleet.client_key())
        .args(before)
        .args(["-H", &hosts.join(",")])
        .args(after)
        .stdin(std::process::Stdio::null());
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_simulated_hosts_answer_as_themselves_and_stay_connected() {
    let n = 200;
    // Every 50th host is down, every 40th (that is not) hangs.
    let faults = Faults(vec![(50, Fault::Down), (40, Fault::Hang)]);
    let (_dir, fleet) = start(n, faults.clone());
    let (mut engine, mut rx) = Engine::new(paced(engine_config(
        &[fleet.known_hosts()],
        &fleet.client_key(),
    )));
    let ids: Vec<HostId> = (0..n).map(|i| engine.add_host(target(&fleet, i))).collect();
    let down = |i: usize| (i + 1).is_multiple_of(50);
    let hangs = |i: usize| !down(i) && (i + 1).is_multiple_of(40);
    let opts = ExecOptions {
        timeout: Some(Duration::from_secs(3)),
        ..Default::default()
    };
    engine.exec(&ids, "hostname", &opts);
    let runs = collect(&mut rx, &ids, Duration::from_secs(120)).await;
    for (i, id) in ids.iter().enumerate() {
        let r = &runs[id];
        if down(i) {
            assert!(r.error.is_some(), "host {i} is down but answered");
        } else if hangs(i) {
            assert!(r.exit.is_none() && r.stdout.is_empty(), "host {i}: {r:?}");
        } else {
            assert_eq!(
                r.stdout,
                format!("{}\n", name_of(i)).into_bytes(),
                "host {i}"
            );
            assert_eq!(r.exit, Some(ExitStatus::Code(0)), "host {i}");
        }
    }

    // A second command over the same connections: no host reconnects,
    // and the fleet's hosts differ as a real fleet's do.
    engine.exec(&ids, "check", &opts);
    let runs = collect(&mut rx, &ids, Duration::from_secs(120)).await;
    let failing = ids
        .iter()
        .filter(|id| runs[id].exit == Some(ExitStatus::Code(2)))
        .count();
    // Every 7th host fails its check, unless it is down or hung.
    let want = (0..n)
        .filter(|&i| (i + 1).is_multiple_of(7) && !down(i) && !hangs(i))
        .count();
    assert_eq!(failing, want, "failing checks");
    let up: Vec<HostId> = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| !down(*i) && !hangs(*i))
        .map(|(_, id)| *id)
        .collect();
    engine.exec(&up, "uname -r", &ExecOptions::default());
    let runs = collect(&mut rx, &up, Duration::from_secs(60)).await;
    let mut kernels: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    for id in &up {
        assert_eq!(runs[id].connects, 0, "{id:?} reconnected");
        *kernels.entry(runs[id].stdout.clone()).or_default() += 1;
    }
    assert_eq!(kernels.len(), 3, "{kernels:?}");
}

#[test]
fn a_simulated_fleet_through_the_real_binary() {
    let n = 200;
    let (dir, fleet) = start(n, Faults(vec![(100, Fault::Down)]));
    let t0 = Instant::now();
    let out = sshdeck_on(&dir, &fleet, &["run", "-b"], &["--", "check"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // 2 hosts down, 28 failing their check (every 7th), 170 fine.
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("ok"), "{stdout}");
    assert!(
        stdout.contains("disk 93% full") || stderr.contains("disk 93% full"),
        "{stdout}\n{stderr}"
    );
    let refused = format!("{stdout}{stderr}").matches("refused").count();
    assert!(
        refused >= 2,
        "the two down hosts are not reported:\n{stdout}\n{stderr}"
    );
    assert!(t0.elapsed() < Duration::from_secs(120));
}

/// A timeout stops the command on every host (the simulated hosts answer
/// the SSH signal request as OpenSSH does, and `kill` of the group), and
/// no host is left running it.
#[test]
fn a_timeout_stops_the_command_on_two_hundred_simulated_hosts() {
    let n = 200;
    let (dir, fleet) = start(n, Faults(Vec::new()));
    let out = sshdeck_on(&dir, &fleet, &["run", "-t", "2"], &["--", "sleep 600"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.matches("command timed out after 2s").count(),
        n,
        "{stderr}"
    );
    assert!(!stderr.contains("may still be running"), "{stderr}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while fleet.commands.now() > 0 {
        assert!(
            Instant::now() < deadline,
            "{} hosts still run the command",
            fleet.commands.now()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
// The child is reaped by wait4 (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn gathering_two_hundred_hosts_printing_the_same_mebibyte() {
    let n = 200;
    let (dir, fleet) = start(n, Faults::default());
    let mut c = sshdeck_on(&dir, &fleet, &["run", "-b"], &["--", "cat /var/log/big"]);
    c.stdout(std::process::Stdio::piped());
    let child = c.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut s).unwrap();
        s
    });
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid; the pid is our child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }, pid);
    let out = reader.join().unwrap();
    assert_eq!(status, 0);
    // One group of all 200 hosts, the log printed once, whole.
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("(200) exit 0"),
        "{}",
        &text[..text.len().min(500)]
    );
    let log = String::from_utf8(support::fleet::big_log()).unwrap();
    assert_eq!(text.matches(log.lines().last().unwrap()).count(), 1);
    assert!(text.contains(log.trim_end()));
    // Held once: 200 MiB of output would show here.
    let peak_mib = usage.ru_maxrss / 1024;
    assert!(peak_mib < 120, "peak RSS {peak_mib} MiB");
}

/// Facts on 200 hosts whose commands each take a second: 200 hosts x 3
/// collectors at once would be 600 channels; the runner paces them. (A
/// second is long enough for every host to connect meanwhile, even on a
/// loaded machine, so the commands do overlap.)
#[test]
fn facts_collectors_are_paced_across_hosts() {
    let n = 200;
    let slow = Faults(vec![(1, Fault::SlowCommands(Duration::from_secs(1)))]);
    let (dir, fleet) = start(n, slow);
    let facts = ["--concurrency", "1000", "facts", "--json"];
    let out = sshdeck_on(&dir, &fleet, &facts, &[]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Every host reported (the fleet fails the collectors' commands).
    assert_eq!(stdout.matches("\"host\"").count(), n, "{stdout}");
    let most = fleet.commands.most();
    eprintln!("{most} collector commands at most at once");
    assert!(most <= 256, "{most} collector commands ran at once");
    assert!(most >= 100, "only {most} at once: not run in parallel");
}

/// Hosts for the scale run, from `SSHDECK_FLEET_HOSTS` (default 10,000).
fn scale_hosts() -> usize {
    std::env::var("SSHDECK_FLEET_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// The fleet in processes of its own (so this process's CPU and memory
/// are the engine's alone), 5,000 hosts each: a process holds two
/// descriptors per host.
struct FleetProcs {
    children: Vec<std::process::Child>,
    labels: Vec<(String, String, u16)>,
    known_hosts: std::path::PathBuf,
    key: std::path::PathBuf,
}

impl FleetProcs {
    fn start(root: &std::path::Path, n: usize) -> FleetProcs {
        use std::io::BufRead;
        let bin = std::env::var_os("SSHDECK_FLEET_BIN")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("target/release/examples/fleet")
            });
        assert!(
            bin.exists(),
            "{} missing: cargo build --release --example fleet",
            bin.display()
        );
        let (mut children, mut labels, mut known) = (Vec::new(), Vec::new(), String::new());
        for (s, first) in (0..n).step_by(5000).enumerate() {
            let dir = root.join(format!("shard{s}"));
            std::fs::create_dir_all(&dir).unwrap();
            if s > 0 {
                std::fs::copy(
                    root.join("shard0/client_ed25519"),
                    dir.join("client_ed25519"),
                )
                .unwrap();
            }
            let mut c = std::process::Command::new(&bin)
                .arg((n - first).min(5000).to_string())
                .arg(&dir)
                .args(["--first", &first.to_string()])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let mut line = String::new();
            std::io::BufReader::new(c.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            assert!(line.starts_with("ready"), "shard {s}: {line:?}");
            children.push(c);
            for l in std::fs::read_to_string(dir.join("hosts")).unwrap().lines() {
                let (addr, port) = l.rsplit_once(':').unwrap();
                labels.push((l.to_string(), addr.to_string(), port.parse().unwrap()));
            }
            known.push_str(&std::fs::read_to_string(dir.join("known_hosts")).unwrap());
        }
        let known_hosts = root.join("known_hosts");
        std::fs::write(&known_hosts, known).unwrap();
        FleetProcs {
            children,
            labels,
            known_hosts,
            key: root.join("shard0/client_ed25519"),
        }
    }
}

impl Drop for FleetProcs {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "scale run: scripts/bench-fleet"]
async fn the_engine_at_fleet_scale() {
    let n = scale_hosts();
    // SAFETY: raising our own soft limit to the hard one.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
    let dir = tempfile::tempdir_in("/dev/shm").unwrap_or_else(|_| tempfile::tempdir().unwrap());
    let fleet = FleetProcs::start(dir.path(), n);
    let rss_before = status_kib("VmRSS:");
    let cpu_before = cpu_secs(libc::RUSAGE_SELF);
    let (mut engine, mut rx) = Engine::new(engine_config(
        std::slice::from_ref(&fleet.known_hosts),
        &fleet.key,
    ));
    let ids: Vec<HostId> = fleet
        .labels
        .iter()
        .map(|(label, addr, port)| {
            engine.add_host(Target::new(label.clone(), addr.clone(), *port, "fleet"))
        })
        .collect();
    let t0 = Instant::now();
    engine.exec(&ids, "hostname", &ExecOptions::default());
    let runs = collect(&mut rx, &ids, Duration::from_secs(600)).await;
    let wall = t0.elapsed();
    let cpu = cpu_secs(libc::RUSAGE_SELF) - cpu_before;
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            runs[id].stdout,
            format!("{}\n", name_of(i)).into_bytes(),
            "host {i}: {:?}",
            runs[id].error
        );
    }
    drop(runs);
    // Idle: every connection open, nothing running.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_idle = status_kib("VmRSS:");
    let per_host = rss_idle.saturating_sub(rss_before) as f64 / n as f64;
    let cpu_again = cpu_secs(libc::RUSAGE_SELF);
    let t1 = Instant::now();
    engine.exec(&ids, "true", &ExecOptions::default());
    let runs = collect(&mut rx, &ids, Duration::from_secs(600)).await;
    let again = t1.elapsed();
    let cpu_again = cpu_secs(libc::RUSAGE_SELF) - cpu_again;
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            runs[id].exit,
            Some(ExitStatus::Code(0)),
            "host {i}: {:?}",
            runs[id].error
        );
        assert_eq!(runs[id].connects, 0, "host {i} reconnected");
    }
    println!(
        "FLEET engine hosts={n} connect+run={:.2}s cpu={:.2}s cpu_per_host={:.3}ms \
         rerun={:.2}s rerun_cpu={:.2}s rss_before={rss_before}KiB rss_idle={rss_idle}KiB \
         per_idle_host={per_host:.0}KiB peak={}KiB",
        wall.as_secs_f64(),
        cpu,
        cpu / n as f64 * 1000.0,
        again.as_secs_f64(),
        cpu_again,
        status_kib("VmHWM:"),
    );
}
