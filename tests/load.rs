//! Load: hundreds of real sshd hosts on loopback. Ignored by default (they
//! need a few GiB and a minute or two); `scripts/load` runs them in release
//! mode and prints the figures recorded in BENCHMARKS.md.
//!
//! - 500 hosts connected at once in one engine; a broadcast gives every
//!   host its own output; resident memory per idle connected host.
//! - A 1,000-host inventory, some hosts down, some slow, through the real
//!   binary started with a 256 open-files soft limit; peak RSS and CPU.

use crate::support;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use sshdeck::engine::{Engine, ExecOptions, HostId};
use support::farm::{Farm, closed_port};
use support::fault::FaultProxy;
use support::{collect, cpu_secs, engine_config, farm_target, status_kib};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn expected_output(farm: &Farm, i: usize) -> Vec<u8> {
    format!("{}\n", farm.hosts[i].files().display()).into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test: run by scripts/load"]
async fn hundreds_of_hosts_connected_at_once_in_one_engine() {
    let n = env_usize("SSHDECK_LOAD_HOSTS", 500);
    let farm = Farm::start(n);
    let rss_before = status_kib("VmRSS:");
    let cpu_before = cpu_secs(libc::RUSAGE_SELF);
    let (mut engine, mut rx) = Engine::new(engine_config(
        std::slice::from_ref(&farm.known_hosts),
        &farm.client_key,
    ));
    let ids: Vec<HostId> = (0..n)
        .map(|i| engine.add_host(farm_target(&farm, i)))
        .collect();
    let t0 = Instant::now();
    engine.exec(&ids, "echo $SSHDECK_FILES", &ExecOptions::default());
    let runs = collect(&mut rx, &ids, Duration::from_secs(600)).await;
    let wall = t0.elapsed();
    let cpu = cpu_secs(libc::RUSAGE_SELF) - cpu_before;
    for (i, id) in ids.iter().enumerate() {
        let r = &runs[id];
        assert!(r.error.is_none(), "host {i}: {:?}", r.error);
        assert_eq!(r.stdout, expected_output(&farm, i), "host {i}");
    }
    drop(runs);
    // Idle: every connection open, nothing running.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_idle = status_kib("VmRSS:");
    let per_host = (rss_idle.saturating_sub(rss_before)) as f64 / n as f64;

    // A second broadcast reuses every connection.
    let t1 = Instant::now();
    engine.exec(&ids, "echo again", &ExecOptions::default());
    let runs = collect(&mut rx, &ids, Duration::from_secs(600)).await;
    let again = t1.elapsed();
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            runs[id].stdout, b"again\n",
            "host {i}: {:?}",
            runs[id].error
        );
        assert_eq!(runs[id].connects, 0, "host {i} reconnected");
    }
    println!(
        "LOAD engine hosts={n} connect+run={:.2}s cpu={:.2}s rerun={:.2}s \
         rss_before={}KiB rss_idle={}KiB per_idle_host={:.0}KiB peak={}KiB",
        wall.as_secs_f64(),
        cpu,
        again.as_secs_f64(),
        rss_before,
        rss_idle,
        per_host,
        status_kib("VmHWM:"),
    );
    assert!(
        per_host < 256.0,
        "{per_host:.0} KiB resident per idle connected host (target < 256)"
    );
}

#[test]
#[ignore = "load test: run by scripts/load"]
// The child is reaped by wait4 (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn a_thousand_host_inventory_with_down_and_slow_hosts() {
    let total = env_usize("SSHDECK_LOAD_INVENTORY", 1000);
    let down = total / 10;
    let slow = total / 10;
    let up = total - down - slow;
    let farm = Farm::start(up + slow);
    // Slow hosts: a relay at 4 KiB/s each way, so each handshake takes
    // about a second and a half.
    let proxies: Vec<FaultProxy> = (up..up + slow)
        .map(|i| {
            let p = FaultProxy::start(farm.hosts[i].port);
            p.throttle(4096);
            farm.trust_port(i, p.port);
            p
        })
        .collect();
    let mut cfg = format!(
        "[defaults]\nuser = \"{}\"\nidentity_files = [\"{}\"]\nknown_hosts = [\"{}\"]\n\
         host_key_policy = \"strict\"\nssh_config = \"none\"\nuse_agent = false\n",
        farm.user,
        farm.client_key.display(),
        farm.known_hosts.display()
    );
    let mut expect = std::collections::HashMap::new();
    for i in 0..total {
        let name = format!("n{i:04}");
        let port = if i < up + slow {
            expect.insert(name.clone(), farm.hosts[i].files().display().to_string());
            if i < up {
                farm.hosts[i].port
            } else {
                proxies[i - up].port
            }
        } else {
            closed_port()
        };
        cfg.push_str(&format!(
            "\n[[hosts]]\nname = \"{name}\"\naddress = \"127.0.0.1\"\nport = {port}\n"
        ));
    }
    let cfg_path = farm.root.join("load.toml");
    std::fs::write(&cfg_path, cfg).unwrap();

    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sshdeck"));
    cmd.env("HOME", &farm.root)
        .env("XDG_CONFIG_HOME", farm.root.join("xdg"))
        .env_remove("SSH_AUTH_SOCK")
        .args(["--batch", "-c"])
        .arg(&cfg_path)
        .args(["run", "-a", "--", "echo $SSHDECK_FILES"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A soft limit well under the host count (the common default is
    // 1,024): sshdeck must raise it itself or run out of sockets.
    // SAFETY: only setrlimit, async-signal-safe, between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let mut lim: libc::rlimit = std::mem::zeroed();
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
            lim.rlim_cur = 256;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            Ok(())
        });
    }
    let t0 = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let outs = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).unwrap();
        s
    });
    let errs = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).unwrap();
        s
    });
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid; the pid is our child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    assert_eq!(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }, pid);
    let wall = t0.elapsed();
    let stdout = outs.join().unwrap();
    let stderr = errs.join().unwrap();
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    let cpu = t(usage.ru_utime) + t(usage.ru_stime);

    assert_eq!(
        libc::WEXITSTATUS(status),
        1,
        "down hosts make it exit 1: {stderr}"
    );
    let mut seen = 0;
    for line in stdout.lines() {
        let (name, rest) = line.split_once(": ").unwrap_or_else(|| panic!("{line}"));
        assert_eq!(expect.get(name).map(String::as_str), Some(rest), "{line}");
        seen += 1;
    }
    assert_eq!(seen, up + slow, "every reachable host answered once");
    let refused = stderr.matches("connection refused").count();
    assert!(refused >= down, "{refused} refusals reported:\n{stderr}");
    println!(
        "LOAD inventory hosts={total} up={up} slow={slow} down={down} wall={:.2}s cpu={:.2}s peak_rss={}KiB",
        wall.as_secs_f64(),
        cpu,
        usage.ru_maxrss
    );
    drop(proxies);
}
