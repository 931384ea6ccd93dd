//! Config and inventory text shown on a terminal is made safe, as server
//! text is (issue 23, item 8): `sshdeck hosts`, `hosts -G` and the shell
//! completions never send a config's escape sequences to the terminal.
//! `hosts -G` into a pipe stays exactly what ssh_config says, for scripts.

use crate::support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use support::pty::Pty;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// An ssh_config whose values carry a title change (OSC) and a screen
/// clear (CSI), and a config.toml with a tag and a group name that do.
fn write_configs(dir: &Path) {
    let ssh = dir.join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        ssh.join("config"),
        "Host evil\n  HostName x\u{1b}]0;owned\u{7}y\n  IdentityFile /k\u{1b}[2J\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let xdg = dir.join("xdg/sshdeck");
    std::fs::create_dir_all(&xdg).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        xdg.join("config.toml"),
        "[groups]\n\"g\\u001b[31m\" = \"web1\"\n[[hosts]]\nname = \"web1\"\ntags = [\"t\\u001b[5m\"]\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

fn sshdeck(dir: &Path) -> Command {
    let mut c = Command::new(support::sshdeck_bin());
    c.env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("xdg"))
        .env("XDG_STATE_HOME", dir.join("state"))
        .env_remove("SSH_AUTH_SOCK")
        .arg("--batch");
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    sshdeck(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run sshdeck: {e}"))
}

fn has_esc(s: &str) -> bool {
    s.contains('\u{1b}') || s.contains('\u{7}')
}

#[test]
fn the_hosts_table_and_json_show_config_text_escaped() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write_configs(dir.path());
    let out = run(dir.path(), &["hosts", "-H", "evil,web1"]);
    let table = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!has_esc(&table), "{table:?}");
    assert!(table.contains("x\\e]0;owned\\x07y"), "{table}");
    assert!(table.contains("t\\e[5m"), "{table}");

    let out = run(dir.path(), &["hosts", "-H", "evil", "--json"]);
    let json = text(&out.stdout);
    assert!(!has_esc(&json), "{json:?}");
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    assert_eq!(rows[0]["address"], "x\u{1b}]0;owned\u{7}y", "{json}");
}

#[test]
fn ssh_g_is_raw_into_a_pipe_and_escaped_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write_configs(dir.path());
    let piped = text(&run(dir.path(), &["hosts", "-G", "-H", "evil"]).stdout);
    assert!(
        piped.contains("hostname x\u{1b}]0;owned\u{7}y\n"),
        "{piped:?}"
    );
    let mut cmd = sshdeck(dir.path());
    cmd.args(["hosts", "-G", "-H", "evil"]);
    let mut pty = Pty::spawn(cmd);
    assert_eq!(pty.wait(Duration::from_secs(20)), 0, "{}", pty.text());
    let shown = pty.text();
    assert!(!has_esc(&shown), "{shown:?}");
    assert!(shown.contains("hostname x\\e]0;owned\\x07y"), "{shown}");
    assert!(shown.contains("identityfile /k\\e[2J"), "{shown}");
}

#[test]
fn completions_never_offer_control_characters() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write_configs(dir.path());
    let complete = |word: &str| {
        let out = sshdeck(dir.path())
            .env("SSHDECK_COMPLETE", "bash")
            .env("_CLAP_COMPLETE_INDEX", "3")
            .env("_CLAP_IFS", "\n")
            .args(["--", "sshdeck", "run", "-H", word])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        text(&out.stdout)
    };
    let groups = complete("@");
    assert!(!has_esc(&groups), "{groups:?}");
    // The clean names are still offered.
    assert!(complete("w").lines().any(|l| l == "web1"));
    assert!(complete("e").lines().any(|l| l == "evil"));
}
