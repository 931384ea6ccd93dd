//! A question waits for its answer: the connect timeout does not run while
//! the user is asked, output does not write over the question, and the
//! terminal gets its echo back on every way out, so nothing typed for a
//! prompt can reach the shell. Real binary on a terminal of its own, real
//! sshd.

use crate::support;

use std::process::Command;
use std::time::Duration;

use support::farm::{Farm, FarmOptions};
use support::pty::Pty;

const LIMIT: Duration = Duration::from_secs(60);

/// Longer than the `--connect-timeout 2` the tests set: an answer this
/// late used to find its host already failed.
const LATE: Duration = Duration::from_secs(4);

fn sshdeck(farm: &Farm, known_hosts: &std::path::Path) -> Command {
    let mut c = Command::new(support::sshdeck_bin());
    c.env("XDG_CONFIG_HOME", farm.root.join("xdg"))
        .env("HOME", &farm.root)
        .env_remove("SSH_AUTH_SOCK")
        .args(["-F", "none", "--connect-timeout", "2", "--known-hosts"])
        .arg(known_hosts)
        .arg("-i")
        .arg(&farm.client_key);
    c
}

fn passphrase_farm(n: usize) -> Farm {
    Farm::start_with(
        n,
        FarmOptions {
            key_passphrase: Some("late but right".into()),
            ..Default::default()
        },
    )
}

#[test]
fn a_late_passphrase_still_works_and_echo_comes_back() {
    let farm = passphrase_farm(2);
    let mut c = sshdeck(&farm, &farm.known_hosts);
    c.args([
        "run",
        "-H",
        &farm.host_list(),
        "--",
        "echo reached-$((40+2))",
    ]);
    let mut pty = Pty::spawn(c);
    pty.wait_for("Passphrase for", LIMIT);
    assert!(!pty.echoes(), "a passphrase is read with echo off");
    std::thread::sleep(LATE);
    pty.send("late but right\r");
    assert_eq!(pty.wait(LIMIT), 0, "{}", pty.text());
    let text = pty.text();
    assert_eq!(text.matches("reached-42").count(), 2, "{text}");
    assert!(!text.contains("late but right"), "the passphrase was shown");
    assert!(!text.contains("timed out"), "{text}");
    assert!(pty.echoes(), "echo was left off");
}

#[test]
fn interrupted_at_the_passphrase_the_terminal_gets_its_echo_back() {
    let farm = passphrase_farm(1);
    let mut c = sshdeck(&farm, &farm.known_hosts);
    c.args(["run", "-H", &farm.host_list(), "--", "echo never"]);
    let mut pty = Pty::spawn(c);
    pty.wait_for("Passphrase for", LIMIT);
    std::thread::sleep(LATE);
    // Ctrl-C on the terminal: sshdeck stops, and nothing is left waiting.
    pty.send("\x03");
    assert_eq!(pty.wait(LIMIT), 130, "{}", pty.text());
    assert!(
        pty.echoes(),
        "echo was left off: the next line typed would go to the shell unseen"
    );
    assert!(!pty.text().contains("never"));
}

#[test]
fn a_passphrase_typed_after_the_host_has_gone_goes_to_sshdeck_not_the_shell() {
    let mut farm = passphrase_farm(1);
    let mut c = sshdeck(&farm, &farm.known_hosts);
    c.args(["run", "-H", &farm.host_list(), "--", "echo never"]);
    let mut pty = Pty::spawn(c);
    pty.wait_for("Passphrase for", LIMIT);
    farm.kill(0);
    std::thread::sleep(LATE);
    pty.send("late but right\r");
    // The answer was read by sshdeck (the host then fails), not left for
    // whatever reads the terminal next.
    assert_eq!(pty.wait(LIMIT), 1, "{}", pty.text());
    let text = pty.text();
    assert!(
        text.contains("1 of 1 hosts failed") || text.contains("failed"),
        "{text}"
    );
    assert!(!text.contains("late but right"), "{text}");
    assert!(pty.echoes(), "echo was left off");
}

#[test]
fn a_late_host_key_answer_works_and_output_never_writes_over_the_question() {
    let farm = Farm::start(2);
    // Only host 0 is known: host 1 asks, host 0 prints at once.
    let port0 = farm.hosts[0].port;
    let known: String = std::fs::read_to_string(&farm.known_hosts)
        .expect("known_hosts")
        .lines()
        .filter(|l| l.starts_with(&format!("[127.0.0.1]:{port0} ")))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(!known.is_empty());
    let partial = farm.root.join("known_hosts.partial");
    std::fs::write(&partial, known).expect("write known_hosts");
    let mut c = sshdeck(&farm, &partial);
    c.args([
        "run",
        "-H",
        &farm.host_list(),
        "--",
        "echo printed-$((6*7))",
    ]);
    let mut pty = Pty::spawn(c);
    pty.wait_for("Trust it?", LIMIT);
    std::thread::sleep(LATE);
    let asked = pty.text();
    let question = asked.rfind("Trust it?").expect("the question");
    assert!(
        !asked[question..].contains("printed-42"),
        "output was written over the question: {asked:?}"
    );
    pty.send("o\r");
    assert_eq!(pty.wait(LIMIT), 0, "{}", pty.text());
    let text = pty.text();
    assert_eq!(text.matches("printed-42").count(), 2, "{text}");
    assert!(!text.contains("timed out"), "{text}");
}
