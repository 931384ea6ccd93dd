//! Stopping a command stops it on the hosts (real sshd, running as the
//! current user; as root, OpenSSH ignores the SSH signal request, so the
//! process group kill is what does it): timeouts, Ctrl-C, SIGTERM and
//! SIGHUP to `sshdeck run`, with and without a PTY, and Ctrl-X and quitting
//! in the TUI. A command that leaves its process group is reported as
//! possibly still running, never as stopped.

use crate::support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use support::farm::Farm;
use support::sshdeck_farm;
use support::tmux::{Tmux, farm_config, tmux_available, wrapped};

/// A `sleep` argument no other test (or run of this one) uses, so pgrep
/// finds only this test's processes.
fn unique_sleep() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("{}{:03}", 50000 + std::process::id() % 40000, n)
}

/// The pids of processes whose command line is exactly `sleep SECS`.
fn sleeping(secs: &str) -> Vec<String> {
    let out = Command::new("pgrep")
        .args(["-x", "-f", &format!("sleep {secs}")])
        .output()
        .expect("pgrep (procps) is needed");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Wait until `n` hosts run the command (or panic at the deadline).
fn wait_started(secs: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while sleeping(secs).len() < n {
        assert!(
            Instant::now() < deadline,
            "the command never started on {n} hosts"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// No process of the command is left within five seconds of sshdeck's
/// answer: the held-out check's rule.
fn assert_gone(secs: &str, how: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = sleeping(secs);
        if left.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            // Leave no stray process for the next test.
            let _ = Command::new("pkill")
                .args(["-x", "-f", &format!("sleep {secs}")])
                .status();
            panic!("{how}: `sleep {secs}` still runs on the hosts: pids {left:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_timeout_stops_the_command_with_and_without_a_pty() {
    let farm = Farm::start(3);
    let hosts = farm.host_list();
    let cases = [
        ("plain", vec![], "sleep {s}"),
        (
            "a compound command",
            vec![],
            "echo started; sleep {s}; echo never",
        ),
        ("one that ignores TERM", vec![], "trap '' TERM; sleep {s}"),
        ("on a PTY", vec!["--pty"], "sleep {s}"),
        (
            "on a PTY, ignoring TERM and HUP",
            vec!["--pty"],
            "trap '' TERM HUP; sleep {s}",
        ),
    ];
    for (how, extra, cmd) in cases {
        let secs = unique_sleep();
        let cmd = cmd.replace("{s}", &secs);
        let mut args = vec!["run", "-t", "2", "-H", &hosts];
        args.extend(extra);
        args.extend(["--", &cmd]);
        let out = sshdeck_farm(&farm)
            .args(&args)
            .output()
            .expect("run sshdeck");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{how}: {stderr}");
        assert_eq!(
            stderr.matches("timed out after 2s").count(),
            3,
            "{how}: {stderr}"
        );
        assert!(!stderr.contains("may still be running"), "{how}: {stderr}");
        assert_gone(&secs, how);
    }
}

#[test]
fn interrupt_sigterm_and_sighup_to_run_stop_the_command_on_every_host() {
    let farm = Farm::start(3);
    let hosts = farm.host_list();
    for (sig, name) in [
        (libc::SIGINT, "interrupt"),
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGHUP, "SIGHUP"),
    ] {
        let secs = unique_sleep();
        let mut child = sshdeck_farm(&farm)
            .args(["run", "-H", &hosts, "--", &format!("sleep {secs}")])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sshdeck");
        wait_started(&secs, 3);
        // SAFETY: a signal to the child we started and have not reaped.
        unsafe {
            libc::kill(child.id() as i32, sig);
        }
        let stderr = child.stderr.take().expect("stderr");
        let lines: Vec<String> = BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect();
        let status = child.wait().expect("wait sshdeck");
        let all = lines.join("\n");
        assert_eq!(status.code(), Some(130), "{name}: {all}");
        assert!(
            all.contains(&format!("{name}: stopping the command on 3 hosts")),
            "{name}: {all}"
        );
        let cancelled = all.lines().filter(|l| l.contains("cancelled")).count();
        assert_eq!(cancelled, 3, "{name}: {all}");
        assert_gone(&secs, name);
    }
}

#[test]
fn a_command_that_leaves_its_group_is_said_to_maybe_still_run() {
    let farm = Farm::start(2);
    let secs = unique_sleep();
    // `setsid` takes the sleep out of the command's process group, and it
    // keeps the command's output open: the stop cannot be confirmed.
    let out = sshdeck_farm(&farm)
        .args([
            "run",
            "-t",
            "1",
            "-H",
            &farm.host_list(),
            "--",
            &format!("setsid sleep {secs} & sleep 600"),
        ])
        .output()
        .expect("run sshdeck");
    let _ = Command::new("pkill")
        .args(["-x", "-f", &format!("sleep {secs}")])
        .status();
    let stderr = text(&out.stderr);
    for i in 0..2 {
        let line = format!("may still be running on {}", farm.label(i));
        assert!(stderr.contains(&line), "{stderr}");
    }
    assert!(
        !stderr.contains("timeout: command timed out"),
        "a host was reported as stopped: {stderr}"
    );
}

#[test]
fn ctrl_x_and_quitting_in_the_tui_stop_the_command_on_the_hosts_in_tmux() {
    assert!(
        tmux_available(),
        "tmux is required (scripts/test installs it)"
    );
    let farm = Farm::start(3);
    let cfg = farm_config(&farm);
    let bin = env!("CARGO_BIN_EXE_sshdeck");
    let launch = wrapped(&format!("{bin} -c {} tui", cfg.display()));
    let tmux = Tmux::start("stop", &launch, 150, 40);
    tmux.wait_for("the host list", |s| {
        s.contains("node0") && s.contains("node2")
    });
    tmux.send(&["a"]);
    tmux.wait_for("selection", |s| s.contains("Hosts 3/3"));
    tmux.send(&["Tab"]);
    tmux.send(&["Tab"]);

    // Ctrl-X cancels the running command: it stops on every host.
    let secs = unique_sleep();
    tmux.type_text(&format!("sleep {secs}"));
    tmux.send(&["Enter"]);
    wait_started(&secs, 3);
    tmux.send(&["C-x"]);
    tmux.wait_for("three cancelled hosts", |s| {
        s.matches("cancelled").count() >= 3
    });
    assert_gone(&secs, "Ctrl-X");

    // Quitting with a command running stops it too, and says so first.
    let secs = unique_sleep();
    tmux.type_text(&format!("sleep {secs}"));
    tmux.send(&["Enter"]);
    wait_started(&secs, 3);
    tmux.send(&["Tab"]);
    tmux.send(&["q"]);
    tmux.wait_for("the quit dialog", |s| {
        s.contains("Quit anyway") && s.contains("(TERM, then KILL)")
    });
    tmux.send(&["y"]);
    assert_eq!(tmux.wait_exit(), "0");
    assert_gone(&secs, "quitting");
}

#[test]
fn an_interrupted_recipe_stops_its_running_step_on_the_hosts() {
    let farm = Farm::start(2);
    let cfg = farm_config(&farm);
    let secs = unique_sleep();
    // The second step would leave a mark; stopping the first must not
    // let the recipe go on to it.
    let mark = farm.root.join("second-step-ran");
    let mut conf = std::fs::read_to_string(&cfg).expect("config");
    conf.push_str(&format!(
        "\n[[recipes]]\nname = \"slow\"\n\n[[recipes.steps]]\nrun = \"sleep {secs}\"\n\n[[recipes.steps]]\nrun = \"touch {}\"\n",
        mark.display()
    ));
    std::fs::write(&cfg, conf).expect("write config");
    let child = Command::new(env!("CARGO_BIN_EXE_sshdeck"))
        .env("HOME", &farm.root)
        .env("XDG_CONFIG_HOME", farm.root.join("xdg"))
        .env_remove("SSH_AUTH_SOCK")
        .args(["--batch", "-c"])
        .arg(&cfg)
        .args(["recipe", "slow", "-a"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sshdeck");
    wait_started(&secs, 2);
    // SAFETY: a signal to the child we started and have not reaped.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = child.wait_with_output().expect("wait sshdeck");
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_ne!(out.status.code(), Some(0), "{all}");
    assert!(!mark.exists(), "the recipe went on after the stop: {all}");
    assert!(!all.contains("may still be running"), "{all}");
    assert_gone(&secs, "a cancelled recipe step");
}
