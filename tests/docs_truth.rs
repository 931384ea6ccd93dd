//! What `--help`, config.example.toml and the README promise is what the
//! program does (issue 25): `-l`/`-p` override the config, `hosts -G`
//! with no names shows every host, its known_hosts default is the file
//! really checked, the known_hosts defaults read the same everywhere, and a
//! refusal without a terminal does not blame a `--batch` nobody gave.

use crate::support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use support::farm::{Farm, FarmOptions};
use support::sshdeck_bin;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// sshdeck with its own HOME and config dirs, no agent, stdin /dev/null
/// (no terminal) and no `--batch`.
fn sshdeck(home: &Path) -> Command {
    let mut c = Command::new(sshdeck_bin());
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("xdg"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null());
    c
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "sshdeck failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[test]
fn user_and_port_flags_override_the_config_as_help_says() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg = tmp.path().join("config.toml");
    std::fs::write(
        &cfg,
        "[[hosts]]\nname = \"web1\"\naddress = \"10.0.0.1\"\nuser = \"alice\"\nport = 2200\n",
    )
    .expect("config");
    let ssh = tmp.path().join("ssh_config");
    std::fs::write(&ssh, "Host db1\n  User carol\n  Port 2300\n").expect("ssh_config");
    let out = sshdeck(tmp.path())
        .arg("-c")
        .arg(&cfg)
        .arg("-F")
        .arg(&ssh)
        .args([
            "-l", "bob", "-p", "2222", "hosts", "--json", "-H", "web1,db1",
        ])
        .output()
        .expect("run sshdeck");
    let rows: serde_json::Value = serde_json::from_str(&ok(&out)).expect("json");
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), 2, "{rows:?}");
    for r in rows {
        assert_eq!(r["user"], "bob", "-l wins over the config: {r}");
        assert_eq!(r["port"], 2222, "-p wins over the config: {r}");
    }
    // And the help says so, not "for hosts that do not name one".
    let help = ok(&sshdeck(tmp.path())
        .args(["run", "--help"])
        .output()
        .expect("help"));
    assert!(!help.contains("do not name one"), "{help}");
    assert!(
        help.contains("Remote user for every host, over the config"),
        "{help}"
    );
    assert!(
        help.contains("Port for every host, over the config"),
        "{help}"
    );
}

#[test]
fn hosts_g_without_names_shows_every_host_with_the_known_hosts_really_checked() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ssh = tmp.path().join("ssh_config");
    std::fs::write(
        &ssh,
        "Host alpha\n  HostName 10.0.0.1\nHost beta\n  HostName 10.0.0.2\nHost *\n  User ops\n",
    )
    .expect("ssh_config");
    let out = sshdeck(tmp.path())
        .arg("-F")
        .arg(&ssh)
        .args(["hosts", "-G"])
        .output()
        .expect("run sshdeck");
    let s = ok(&out);
    assert!(
        s.contains("host alpha\n") && s.contains("hostname 10.0.0.1\n"),
        "{s}"
    );
    assert!(
        s.contains("host beta\n") && s.contains("hostname 10.0.0.2\n"),
        "{s}"
    );
    // HOME is this test's directory, not the password database's home:
    // the default UserKnownHostsFile is the one sshdeck really reads.
    let home = tmp.path().display();
    let want = format!("userknownhostsfile {home}/.ssh/known_hosts {home}/.ssh/known_hosts2\n");
    assert_eq!(s.matches(&want).count(), 2, "{s}");
}

/// The text after `Default:`/`[default:` up to its end, with line breaks
/// and comment marks folded away.
fn default_list(text: &str, start: &str, end: char) -> String {
    let at = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in {text}"));
    let rest = &text[at + start.len()..];
    let stop = rest.find(end).unwrap_or(rest.len());
    rest[..stop]
        .replace('#', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The README says to copy config.example.toml: as shipped it loads for a
/// user with no ~/.ssh/config at all (it names no file that must exist).
#[test]
fn the_example_config_loads_in_an_empty_home() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let out = ok(&sshdeck(tmp.path())
        .arg("-c")
        .arg(&example)
        .arg("hosts")
        .output()
        .expect("hosts"));
    assert!(out.contains("web1") && out.contains("bastion"), "{out}");
}

#[test]
fn known_hosts_defaults_read_the_same_in_help_and_config_example() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let help = ok(&sshdeck(tmp.path()).arg("--help").output().expect("help"));
    let flag = &help[help.find("--known-hosts").expect("--known-hosts in help")..];
    let in_help = default_list(flag, "[default: ", ']');
    let example =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml"))
            .expect("config.example.toml");
    let kh = &example[example
        .find("# known_hosts files")
        .expect("known_hosts comment")..];
    // The example's sentence runs over two comment lines, to its period.
    let in_example = default_list(kh, "Default: ", '=')
        .split(". ")
        .next()
        .unwrap_or_default()
        .to_string();
    assert_eq!(in_help, in_example);
    assert_eq!(
        in_help,
        "~/.ssh/known_hosts, ~/.ssh/known_hosts2, /etc/ssh/ssh_known_hosts, /etc/ssh/ssh_known_hosts2"
    );
}

#[test]
fn without_a_terminal_a_refusal_says_so_and_not_batch_mode() {
    let farm = Farm::start_with(
        1,
        FarmOptions {
            key_passphrase: Some("sesame".into()),
            ..FarmOptions::default()
        },
    );
    let empty = farm.root.join("empty_known_hosts");
    std::fs::write(&empty, "").expect("known_hosts");
    let run = |known: &Path, batch: bool| -> String {
        let mut c = sshdeck(&farm.root);
        if batch {
            c.arg("--batch");
        }
        let out = c
            .args(["-F", "none", "--known-hosts"])
            .arg(known)
            .arg("-i")
            .arg(&farm.client_key)
            .args(["run", "-H", &farm.label(0), "--", "true"])
            .output()
            .expect("run sshdeck");
        assert!(!out.status.success(), "it must be refused");
        text(&out.stdout) + &text(&out.stderr)
    };
    // An unknown host key: nobody to ask.
    let s = run(&empty, false);
    assert!(
        s.contains("no terminal to ask on (stdin is not a terminal)"),
        "{s}"
    );
    assert!(!s.contains("batch mode"), "no --batch was given: {s}");
    let s = run(&empty, true);
    assert!(s.contains("cannot ask in batch mode"), "{s}");
    // A passphrase-protected key: nobody to ask for the passphrase.
    let s = run(&farm.known_hosts, false);
    assert!(
        s.contains("passphrase-protected and no terminal to ask on"),
        "{s}"
    );
    assert!(!s.contains("batch mode"), "no --batch was given: {s}");
}
