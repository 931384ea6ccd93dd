//! `sshdeck run` as a user runs it: the real binary against real sshd.

use crate::support;

use std::process::Output;

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use support::farm::{Farm, closed_port};
use support::pty::{Pty, output_within};
use support::{fake_sudo, sshdeck_cmd, sshdeck_farm};

fn sshdeck(farm: &Farm, args: &[&str]) -> Output {
    sshdeck_farm(farm).args(args).output().expect("run sshdeck")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn lines_are_prefixed_and_stderr_goes_to_stderr() {
    let farm = Farm::start(3);
    let hosts = farm.host_list();
    let out = sshdeck(
        &farm,
        &["run", "-H", &hosts, "--", "echo hello; echo oops >&2"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    for i in 0..3 {
        let label = farm.label(i);
        assert!(stdout.contains(&format!("{label}: hello\n")), "{stdout}");
        assert!(stderr.contains(&format!("{label}: oops\n")), "{stderr}");
        assert!(!stdout.contains(&format!("{label}: oops")));
    }
    assert_eq!(stdout.lines().count(), 3);
}

#[test]
fn json_mode_prints_one_object_per_event_line() {
    let farm = Farm::start(2);
    let out = sshdeck(
        &farm,
        &[
            "run",
            "--json",
            "-H",
            &farm.host_list(),
            "--",
            "echo a; echo b; exit 4",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let events: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON {l:?}: {e}")))
        .collect();
    for i in 0..2 {
        let label = farm.label(i);
        let mine: Vec<&serde_json::Value> = events
            .iter()
            .filter(|e| e["host"] == label.as_str())
            .collect();
        let lines: Vec<&str> = mine
            .iter()
            .filter(|e| e["event"] == "stdout")
            .filter_map(|e| e["line"].as_str())
            .collect();
        assert_eq!(lines, ["a", "b"]);
        let exit = mine
            .iter()
            .find(|e| e["event"] == "exit")
            .expect("exit event");
        assert_eq!(exit["code"], 4);
    }
    let summary = events.last().expect("summary");
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["failed"], 2);
}

#[test]
fn gather_groups_identical_output_under_folded_names() {
    let farm = Farm::start(4);
    let odd = farm.hosts[3].port;
    let cmd =
        format!("if [ ${{SSH_CONNECTION##* }} = {odd} ]; then echo different; else echo same; fi");
    let out = sshdeck(&farm, &["run", "-b", "-H", &farm.host_list(), "--", &cmd]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    // Three hosts share one block, printed once; the odd one has its own.
    assert_eq!(s.matches("same").count(), 1, "{s}");
    assert_eq!(s.matches("different").count(), 1, "{s}");
    assert!(s.contains(" (3) exit 0"), "{s}");
    assert!(s.contains(&format!("{} (1) exit 0", farm.label(3))), "{s}");
    // The three ports fold into a range or list in node-set form.
    assert!(s.contains(&format!("{}@127.0.0.1:[", farm.user)), "{s}");
    // The larger group first.
    assert!(s.find(" (3) exit 0") < s.find(" (1) exit 0"), "{s}");
}

/// `-b` prints the largest group first, as `clush -b` and the TUI's
/// gathered view do, even when that group failed: successes do not jump
/// the queue.
#[test]
fn gather_prints_successes_first_even_when_a_failure_is_larger() {
    let farm = Farm::start(3);
    let odd = farm.hosts[2].port;
    let cmd = format!(
        "if [ ${{SSH_CONNECTION##* }} = {odd} ]; then echo fine; else echo broken; exit 1; fi"
    );
    let out = sshdeck(&farm, &["run", "-b", "-H", &farm.host_list(), "--", &cmd]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let failed = s.find(" (2) exit 1");
    let ok = s.find(&format!("{} (1) exit 0", farm.label(2)));
    assert!(failed.is_some() && ok.is_some(), "{s}");
    assert!(ok < failed, "clush -b order: exit 0 first: {s}");
}

#[test]
fn failures_are_summarized_and_the_exit_status_is_nonzero() {
    let farm = Farm::start(2);
    let dead = format!("{}@127.0.0.1:{}", farm.user, closed_port());
    let hosts = format!("{},{dead}", farm.host_list());
    let cmd = format!(
        "if [ ${{SSH_CONNECTION##* }} = {} ]; then exit 3; fi",
        farm.hosts[1].port
    );
    let out = sshdeck(&farm, &["run", "-H", &hosts, "--", &cmd]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("2 of 3 hosts failed"), "{err}");
    assert!(err.contains(&dead) && err.contains("refused"), "{err}");
    let line = err
        .lines()
        .find(|l| l.contains(&farm.label(1)))
        .expect("host 1 listed");
    assert!(line.contains("exit 3"), "{err}");
    assert!(
        !err.contains(&format!("{} ", farm.label(0))),
        "host 0 succeeded: {err}"
    );
}

#[test]
fn terminal_escapes_from_hosts_never_reach_our_stdout() {
    let farm = Farm::start(1);
    let cmd = r"printf 'a\033[2Jb\033]52;c;ZXZpbA==\007c\033]0;pwned\033\\d\n'";
    let out = sshdeck(&farm, &["run", "-H", &farm.host_list(), "--", cmd]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !out.stdout.contains(&0x1b),
        "escape reached stdout: {:?}",
        text(&out.stdout)
    );
    assert!(!out.stdout.contains(&0x07));
    assert!(
        text(&out.stdout).ends_with(": abcd\n"),
        "{:?}",
        text(&out.stdout)
    );
}

#[test]
fn out_dir_keeps_raw_bytes_per_host() {
    let farm = Farm::start(2);
    let dir = farm.root.join("out");
    let out = sshdeck(
        &farm,
        &[
            "run",
            "--out-dir",
            dir.to_str().unwrap(),
            "-H",
            &farm.host_list(),
            "--",
            r"printf 'x\033[1my\000z'; echo e >&2",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    for i in 0..2 {
        let label = farm.label(i);
        assert_eq!(
            std::fs::read(dir.join(format!("{label}.stdout"))).unwrap(),
            b"x\x1b[1my\0z"
        );
        assert_eq!(
            std::fs::read(dir.join(format!("{label}.stderr"))).unwrap(),
            b"e\n"
        );
    }
}

#[test]
fn configured_names_label_their_output() {
    let farm = Farm::start(2);
    let cfg = farm.root.join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[defaults]\nuser = \"{}\"\n\n[[hosts]]\nname = \"alpha\"\naddress = \"127.0.0.1\"\nport = {}\n\n[[hosts]]\nname = \"beta\"\naddress = \"127.0.0.1\"\nport = {}\n",
            farm.user, farm.hosts[0].port, farm.hosts[1].port
        ),
    )
    .unwrap();
    let out = sshdeck(
        &farm,
        &["-c", cfg.to_str().unwrap(), "run", "--all", "--", "echo hi"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("alpha: hi\n") && s.contains("beta: hi\n"), "{s}");
}

#[test]
fn bad_config_and_bad_hosts_get_clear_errors() {
    let farm = Farm::start(1);
    let cfg = farm.root.join("bad.toml");
    std::fs::write(&cfg, "[[hosts]]\nname = \"a\"\nport = 70000\n").unwrap();
    let out = sshdeck(
        &farm,
        &["-c", cfg.to_str().unwrap(), "run", "-H", "a", "--", "true"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{}:3:8:", cfg.display())), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let out = sshdeck(&farm, &["run", "-H", "web1:http", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("bad port \"http\""),
        "{}",
        text(&out.stderr)
    );

    let out = sshdeck(&farm, &["run", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no hosts given"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn unknown_host_key_is_refused_not_added() {
    let farm = Farm::start(1);
    let empty = farm.root.join("kh_empty");
    std::fs::write(&empty, "").unwrap();
    let out = sshdeck_cmd(&farm)
        .args([
            "--known-hosts",
            empty.to_str().unwrap(),
            "-i",
            farm.client_key.to_str().unwrap(),
        ])
        .args(["run", "-H", &farm.host_list(), "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("host-key-unknown") && err.contains("SHA256:"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&empty).unwrap(),
        "",
        "the key was saved silently"
    );
}

#[test]
fn unreadable_known_hosts_lines_are_reported_with_file_and_line() {
    let farm = Farm::start(1);
    let kh = farm.root.join("kh_with_junk");
    let good = std::fs::read_to_string(&farm.known_hosts).unwrap();
    std::fs::write(&kh, format!("# ok\nbroken-line-without-key\n{good}")).unwrap();
    let out = sshdeck_cmd(&farm)
        .args([
            "--known-hosts",
            kh.to_str().unwrap(),
            "-i",
            farm.client_key.to_str().unwrap(),
        ])
        .args(["run", "-H", &farm.host_list(), "--", "echo fine"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}:2: missing key type (line ignored)",
            kh.display()
        )),
        "{err}"
    );
    assert_eq!(
        err.matches("line ignored").count(),
        1,
        "reported once: {err}"
    );
    assert!(text(&out.stdout).ends_with(": fine\n"));
}

const LIMIT: Duration = Duration::from_secs(60);

/// `sshdeck run` fed `input` through a pipe, as `… | sshdeck run` is.
fn run_with_input(farm: &Farm, args: &[&str], input: &[u8]) -> Output {
    let mut c = sshdeck_farm(farm);
    c.args(args).stdin(Stdio::piped());
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let deadline = std::time::Instant::now() + LIMIT;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("sshdeck run did not end");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    writer.join().unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_command_that_reads_input_never_waits_for_input_that_cannot_come() {
    let farm = Farm::start(2);
    let args = ["run", "-H", &farm.host_list(), "--", "cat; echo done"];
    // No input (closed, or /dev/null): end-of-input at once.
    let mut c = sshdeck_farm(&farm);
    c.args(args).stdin(Stdio::null());
    let out = output_within(c, LIMIT);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).matches(": done").count(), 2);
    // On a PTY, sshd does not pass end-of-input on: ^D says it.
    let mut c = sshdeck_farm(&farm);
    c.args([
        "run",
        "--pty",
        "-H",
        &farm.host_list(),
        "--",
        "cat; echo done",
    ])
    .stdin(Stdio::null());
    let out = output_within(c, LIMIT);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).matches(": done").count(), 2);
    // A terminal: nobody types a fleet's input there, so it is not read.
    let mut c = sshdeck_farm(&farm);
    c.args(args);
    let mut pty = Pty::spawn(c);
    assert_eq!(pty.wait(LIMIT), 0, "{}", pty.text());
    // The labels are coloured on a terminal; the progress line says "done," too.
    assert_eq!(pty.text().matches(" done\r\n").count(), 2, "{}", pty.text());
}

#[test]
fn piped_input_goes_to_every_host_then_end_of_input() {
    let farm = Farm::start(3);
    let hosts = farm.host_list();
    let script = b"echo from-script $((6*7))\necho \"port ${SSH_CONNECTION##* }\"\n";
    let out = run_with_input(&farm, &["run", "-H", &hosts, "--", "bash -s"], script);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for i in 0..3 {
        let label = farm.label(i);
        assert!(
            stdout.contains(&format!("{label}: from-script 42\n")),
            "{stdout}"
        );
        let port = farm.hosts[i].port;
        assert!(
            stdout.contains(&format!("{label}: port {port}\n")),
            "{stdout}"
        );
    }
    // Megabytes arrive whole on every host (read once, shared).
    let big: Vec<u8> = (0..3u32 << 20).map(|i| (i * 7 % 256) as u8).collect();
    let want = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(&big);
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let out = run_with_input(&farm, &["run", "-b", "-H", &hosts, "--", "sha256sum"], &big);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.matches(&want).count(),
        1,
        "one group of three: {stdout}"
    );
    assert!(
        stdout.contains("(3)") || stdout.contains("3 hosts"),
        "{stdout}"
    );
    // -n: the input is not sent.
    let out = run_with_input(
        &farm,
        &["run", "-n", "-H", &hosts, "--", "cat; echo done"],
        b"not for them\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("not for them"), "{stdout}");
    assert_eq!(stdout.matches(": done").count(), 3, "{stdout}");
}

#[test]
fn with_sudo_the_input_follows_the_password() {
    let farm = Farm::start(2);
    farm.install_tool("sudo", &fake_sudo("Sud0-pass"));
    let script = farm.root.join("script.sh");
    std::fs::write(&script, "echo script-ran $((2+3))\n").unwrap();
    // Not --batch: the sudo password is asked on the terminal.
    let mut c = std::process::Command::new(support::sshdeck_bin());
    c.env("XDG_CONFIG_HOME", farm.root.join("xdg"))
        .env("HOME", &farm.root)
        .env_remove("SSH_AUTH_SOCK")
        .args(["-F", "none", "--known-hosts"])
        .arg(&farm.known_hosts)
        .arg("-i")
        .arg(&farm.client_key)
        .args(["run", "--sudo", "-H", &farm.host_list(), "--", "bash -s"]);
    let input = std::fs::File::open(&script).unwrap();
    let mut pty = Pty::spawn_with_stdin(c, Some(Stdio::from(input)));
    pty.wait_for("Secret", LIMIT);
    pty.send("Sud0-pass\r");
    assert_eq!(pty.wait(LIMIT), 0, "{}", pty.text());
    assert_eq!(
        pty.text().matches("script-ran 5").count(),
        2,
        "{}",
        pty.text()
    );
    assert!(!pty.text().contains("Sud0-pass"));
}

/// `--hosts-from-last` reuses the last run's results: the failed hosts,
/// or the hosts outside the largest group of identical output.
#[test]
fn the_next_run_can_take_the_hosts_that_failed_or_differed() {
    let farm = Farm::start(5);
    let port = |i: usize| {
        farm.label(i)
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_string()
    };
    // Hosts 1 and 3 fail; host 2 prints something else. sshd tells the
    // command its own port in SSH_CONNECTION's fourth field.
    let check = format!(
        "set -- $SSH_CONNECTION; case $4 in {}|{}) echo broken; exit 2;; {}) echo odd;; *) echo fine;; esac",
        port(1),
        port(3),
        port(2)
    );
    let first = sshdeck(&farm, &["run", "-H", &farm.host_list(), "--", &check]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));

    let again = sshdeck(
        &farm,
        &["run", "--hosts-from-last", "failed", "--", "echo again"],
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    let out = text(&again.stdout);
    assert_eq!(out.lines().count(), 2, "{out}");
    for i in [1, 3] {
        assert!(out.contains(&format!("{}: again", farm.label(i))), "{out}");
    }
    // That run succeeded everywhere it ran, and is now the last run.
    let none = sshdeck(
        &farm,
        &["run", "--hosts-from-last", "failed", "--", "echo x"],
    );
    assert!(none.status.success());
    assert!(
        text(&none.stderr).contains("nothing to do"),
        "{}",
        text(&none.stderr)
    );
    assert!(text(&none.stdout).is_empty());

    let _ = sshdeck(&farm, &["run", "-H", &farm.host_list(), "--", &check]);
    let differs = sshdeck(
        &farm,
        &["run", "--hosts-from-last", "differs", "--", "echo d"],
    );
    let out = text(&differs.stdout);
    assert_eq!(out.lines().count(), 3, "{out}");
    // fine (0, 4) and broken (1, 3) are both two; the first seen is the
    // largest.
    for i in [0, 4] {
        assert!(
            !out.contains(&farm.label(i)),
            "host {i} is in the largest group: {out}"
        );
    }
    // A record from another user or a crash is refused with the file named.
    let record = farm.root.join("state/sshdeck/last-run.json");
    let mode = std::fs::metadata(&record).map(|m| {
        use std::os::unix::fs::PermissionsExt;
        m.permissions().mode() & 0o777
    });
    assert_eq!(mode.ok(), Some(0o600));
    std::fs::write(&record, "{ not json").unwrap();
    let bad = sshdeck(&farm, &["run", "--hosts-from-last", "all", "--", "true"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
    assert!(
        text(&bad.stderr).contains("last-run.json"),
        "{}",
        text(&bad.stderr)
    );
}

/// A rerun takes the hosts the record kept, not their names expanded
/// again: a config host literally named `zz[1-2]` is one host both times
/// (before, the rerun went to `zz1` and `zz2`).
#[test]
fn the_next_run_takes_the_recorded_targets_as_they_were() {
    let farm = Farm::start(1);
    let cfg = farm.root.join("xdg/sshdeck/config.toml");
    std::fs::create_dir_all(cfg.parent().unwrap_or(&farm.root)).unwrap();
    std::fs::write(
        &cfg,
        format!(
            "[[hosts]]\nname = \"zz[1-2]\"\naddress = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\n",
            farm.hosts[0].port, farm.user
        ),
    )
    .unwrap();
    let first = sshdeck(&farm, &["run", "-a", "--", "false"]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    let record =
        std::fs::read_to_string(farm.root.join("state/sshdeck/last-run.json")).unwrap_or_default();
    assert!(record.contains("\"address\":\"127.0.0.1\""), "{record}");

    let again = sshdeck(
        &farm,
        &["run", "--hosts-from-last", "failed", "--", "echo again"],
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout), "zz[1-2]: again\n");
}
