//! Headless jobs that outlive the shell, against the sshd farm: `run
//! --detach` prints an id and returns while the command still runs;
//! `jobs` lists it; `wait` prints what `run` prints (streamed, gathered)
//! and exits with its status, then the job is collected; piped input
//! reaches the hosts; the job's files are private; `kill-job` stops the
//! command on the hosts; a job whose process was killed is reported lost,
//! not waited on forever.

use crate::support;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::farm::Farm;
use support::sshdeck_farm;

fn sshdeck(farm: &Farm, args: &[&str]) -> Output {
    sshdeck_farm(farm)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run sshdeck")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `run --detach ARGS`: the job id it printed.
fn detach(farm: &Farm, args: &[&str]) -> String {
    let mut all = vec!["run", "--detach"];
    all.extend_from_slice(args);
    let out = sshdeck(farm, &all);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = text(&out.stdout).trim().to_string();
    assert!(
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()),
        "not an id: {id:?}"
    );
    id
}

fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn a_detached_job_returns_at_once_and_wait_prints_what_run_prints() {
    let farm = Farm::start(3);
    let hosts = farm.host_list();
    let command = "sleep 2; echo job-$((6*7)); echo warn >&2";
    let id = detach(&farm, &["-H", &hosts, "--", command]);
    // Back before the command could have finished: it is listed running.
    let listed = text(&sshdeck(&farm, &["jobs"]).stdout);
    let line = listed
        .lines()
        .find(|l| l.starts_with(&format!("{id} ")))
        .unwrap_or_else(|| panic!("job {id} not listed:\n{listed}"));
    assert!(
        line.contains("running") && line.contains("echo job-"),
        "{line}"
    );
    // The job's files are this user's only.
    let dir = farm.root.join("state/sshdeck/jobs").join(&id);
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("job")), 0o600);

    let waited = sshdeck(&farm, &["wait", &id]);
    let direct = sshdeck(&farm, &["run", "-H", &hosts, "--", command]);
    assert_eq!(waited.status.code(), Some(0), "{}", text(&waited.stderr));
    assert_eq!(waited.status.code(), direct.status.code());
    assert_eq!(
        sorted_lines(&text(&waited.stdout)),
        sorted_lines(&text(&direct.stdout))
    );
    assert_eq!(text(&waited.stdout).matches("job-42").count(), 3);
    assert_eq!(text(&waited.stderr).matches("warn").count(), 3);
    // Collected: gone from the list, and a second wait says so.
    assert!(!dir.exists());
    let again = sshdeck(&farm, &["wait", &id]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains(&format!("no job {id}")));
}

#[test]
fn wait_exits_with_the_jobs_status_and_keeps_the_gathered_form() {
    let farm = Farm::start(2);
    let hosts = farm.host_list();
    let args = ["-S", "-b", "-H", &hosts, "--", "echo same; exit 3"];
    let id = detach(&farm, &args);
    let waited = sshdeck(&farm, &["wait", "--keep", &id]);
    let mut run = vec!["run"];
    run.extend_from_slice(&args);
    let direct = sshdeck(&farm, &run);
    assert_eq!(waited.status.code(), Some(3), "{}", text(&waited.stderr));
    assert_eq!(text(&waited.stdout), text(&direct.stdout));
    // --keep: still there, finished, and waitable again.
    let listed = text(&sshdeck(&farm, &["jobs"]).stdout);
    assert!(listed.contains("exit 3"), "{listed}");
    assert_eq!(sshdeck(&farm, &["wait", &id]).status.code(), Some(3));
    assert!(text(&sshdeck(&farm, &["jobs"]).stdout).contains("no jobs"));
}

#[test]
fn input_piped_into_a_detached_run_reaches_every_host() {
    let farm = Farm::start(2);
    let hosts = farm.host_list();
    let mut child = sshdeck_farm(&farm)
        .args(["run", "--detach", "-H", &hosts, "--", "tr a-z A-Z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"piped words\n").expect("write");
    drop(stdin);
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = text(&out.stdout).trim().to_string();
    let waited = sshdeck(&farm, &["wait", &id]);
    assert_eq!(text(&waited.stdout).matches("PIPED WORDS").count(), 2);
}

#[test]
fn a_job_whose_process_died_is_lost_not_waited_on() {
    let farm = Farm::start(1);
    let hosts = farm.host_list();
    let id = detach(&farm, &["-H", &hosts, "--", "sleep 30"]);
    let dir = farm.root.join("state/sshdeck/jobs").join(&id);
    let deadline = Instant::now() + Duration::from_secs(10);
    let pid = loop {
        let pid = std::fs::read_to_string(dir.join("pid")).unwrap_or_default();
        if !pid.trim().is_empty() {
            break pid.trim().to_string();
        }
        assert!(Instant::now() < deadline, "no pid file");
        std::thread::sleep(Duration::from_millis(50));
    };
    // The supervisor leads a session of its own: the terminal's hangup
    // never reaches it.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("stat")
        .1
        .split_whitespace()
        .collect();
    assert_eq!(fields.get(3), Some(&pid.as_str()), "session id of {stat}");
    // Killed with its child: `wait` says so at once.
    let _ = Command::new("pkill").args(["-9", "-s", &pid]).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        assert!(Instant::now() < deadline, "supervisor still alive");
        std::thread::sleep(Duration::from_millis(50));
    }
    let listed = text(&sshdeck(&farm, &["jobs"]).stdout);
    assert!(listed.contains("lost"), "{listed}");
    let waited = sshdeck(&farm, &["wait", &id]);
    assert_eq!(waited.status.code(), Some(2));
    assert!(
        text(&waited.stderr).contains("ended without a status"),
        "{}",
        text(&waited.stderr)
    );
}

#[test]
fn what_a_detached_job_cannot_do_is_refused_before_it_starts() {
    let farm = Farm::start(1);
    let hosts = farm.host_list();
    let out = sshdeck(
        &farm,
        &["run", "--detach", "--sudo", "-H", &hosts, "--", "id"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("sudo password"),
        "{}",
        text(&out.stderr)
    );
    let out = sshdeck(&farm, &["wait", "../../etc"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not a job id"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&sshdeck(&farm, &["jobs"]).stdout).contains("no jobs"));
}

#[test]
fn kill_job_stops_the_command_on_the_hosts_and_wait_says_so() {
    let farm = Farm::start(2);
    let hosts = farm.host_list();
    // A sleep no other test runs, to look for on this machine (the farm's
    // hosts are local sshd processes).
    let nap = format!("59.{}", std::process::id());
    let command = format!("sleep {nap}");
    let started = Instant::now();
    let id = detach(&farm, &["-H", &hosts, "--", &command]);
    // Once its `run` is up (its pid is written), the job can be stopped.
    let dir = farm.root.join("state/sshdeck/jobs").join(&id);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dir.join("run.pid").exists() {
        assert!(Instant::now() < deadline, "the job's run never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    // It reaches the hosts, then is stopped.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !Command::new("pgrep")
        .args(["-f", &format!("sleep {nap}")])
        .output()
        .is_ok_and(|o| !o.stdout.is_empty())
    {
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = sshdeck(&farm, &["kill-job", &id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("stopping its command"));
    let waited = sshdeck(&farm, &["wait", &id]);
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "wait returned only when the command would have ended"
    );
    assert_ne!(waited.status.code(), Some(0), "{}", text(&waited.stderr));
    let running = || {
        Command::new("pgrep")
            .args(["-f", &format!("sleep {nap}")])
            .output()
            .is_ok_and(|o| !o.stdout.is_empty())
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while running() {
        let left = Command::new("pgrep")
            .args(["-af", &format!("sleep {nap}")])
            .output()
            .map(|o| text(&o.stdout))
            .unwrap_or_default();
        assert!(
            Instant::now() < deadline,
            "the command runs on after the stop:\n{left}\n{}",
            text(&waited.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // A job that was collected is no job to stop.
    let again = sshdeck(&farm, &["kill-job", &id]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stdout));
}
