//! The README's farm quick-start works literally: the farm example started
//! with stdin at /dev/null (as from a script, or `&` in a shell) stays up,
//! writes DIR/ready with its pid once every host answers, serves
//! `sshdeck run`, and on SIGTERM stops every sshd it started.

use crate::support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn alive(pid: u32) -> bool {
    // A zombie has exited; its /proc entry lingers until it is reaped.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().next().map(|st| st != "Z"))
        })
        .unwrap_or(false)
}

/// Processes whose parent is `pid` (the farm's sshds).
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(p);
        }
    }
    out
}

/// Stops the farm if the test fails before it does, so a failure leaves no
/// sshd behind.
struct StopOnDrop(u32);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the child this test started; harmless once it
        // has been reaped (the pid then names nothing this test owns only
        // in theory, and the test reaps it only on success, after which
        // the guard is forgotten).
        unsafe {
            libc::kill(self.0 as i32, libc::SIGTERM);
        }
    }
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn farm_example_runs_without_stdin_until_sigterm_and_stops_its_sshds() {
    let bin = support::farm_example();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("farm");
    let mut farm = Command::new(&bin)
        .arg("3")
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start the farm example");
    let pid = farm.id();
    let guard = StopOnDrop(pid);
    let ready = dir.join("ready");
    wait_for("DIR/ready", Duration::from_secs(60), || {
        assert!(
            farm.try_wait().expect("try_wait").is_none(),
            "the farm exited before it was ready (stdin at /dev/null)"
        );
        ready.exists()
    });
    let said = std::fs::read_to_string(&ready).expect("ready file");
    assert_eq!(
        said.trim(),
        pid.to_string(),
        "DIR/ready holds the farm's pid"
    );
    let sshds = children(pid);
    assert_eq!(sshds.len(), 3, "one sshd per host: {sshds:?}");

    let hosts = std::fs::read_to_string(dir.join("hosts")).expect("hosts file");
    let list = hosts.lines().collect::<Vec<_>>().join(",");
    let out = Command::new(env!("CARGO_BIN_EXE_sshdeck"))
        .env("HOME", tmp.path())
        .env("XDG_CONFIG_HOME", tmp.path().join("config"))
        .env("XDG_STATE_HOME", tmp.path().join("state"))
        .env_remove("SSH_AUTH_SOCK")
        .args(["--batch", "-F", "none", "--known-hosts"])
        .arg(dir.join("known_hosts"))
        .arg("-i")
        .arg(dir.join("client_ed25519"))
        .args(["run", "-H", &list, "--", "echo", "farm-ok"])
        .stdin(Stdio::null())
        .output()
        .expect("run sshdeck");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "sshdeck run failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches("farm-ok").count(), 3, "{stdout}");
    // The farm is still up after serving: nothing it reads has ended.
    assert!(farm.try_wait().expect("try_wait").is_none());

    // The guard's SIGTERM is the one the farm must obey.
    drop(guard);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = farm.try_wait().expect("try_wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "the farm ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "farm exit on SIGTERM: {status:?}");
    for p in &sshds {
        assert!(!alive(*p), "sshd {p} outlived the farm");
    }
    assert!(!ready.exists(), "a stopped farm leaves no ready file");
}
