//! The secrets audit: the real binary authenticates with a password and an
//! encrypted key's passphrase and answers a sudo prompt, all typed at its
//! prompts in a terminal (tmux), headless and in the TUI's dialogs, with
//! the debug log, per-host output logs and the command history on. Afterwards none of the three secrets may appear in any file it
//! could have written (log, output logs, config and state directories,
//! known_hosts, HOME) nor on the screen.

use crate::support;

use std::path::{Path, PathBuf};

use support::farm::{Farm, FarmOptions};
use support::tmux::{Tmux, tmux_available, wrapped};
use support::{fake_sudo, password_user};

const PASSPHRASE: &str = "kite-Quartz-9031";
const SUDO_SECRET: &str = "sudo-Walrus-7713";

/// Every regular file under `dir`, except `skip`.
fn files_under(dir: &Path, skip: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.starts_with(skip) {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => files_under(&p, skip, out),
            Ok(t) if t.is_file() => out.push(p),
            _ => {}
        }
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn passwords_passphrases_and_sudo_secrets_are_never_written_anywhere() {
    assert!(
        tmux_available(),
        "tmux is required (scripts/test installs it)"
    );
    let Some((pw_user, password)) = password_user() else {
        return;
    };
    let farm = Farm::start_with(
        2,
        FarmOptions {
            key_passphrase: Some(PASSPHRASE.into()),
            password_auth: true,
            ..Default::default()
        },
    );
    // The stand-in sudo holds its password: it is the one file skipped.
    farm.install_tool("sudo", &fake_sudo(SUDO_SECRET));
    let root = &farm.root;
    let audit = root.join("audit");
    std::fs::create_dir_all(&audit).unwrap();
    let log = audit.join("sshdeck.log");
    let outlogs = audit.join("out");
    let bin = env!("CARGO_BIN_EXE_sshdeck");
    // Only the farm's root is home: nothing may land outside what we scan.
    let env = format!(
        "env HOME={r} XDG_CONFIG_HOME={r}/xdg XDG_STATE_HOME={r}/state XDG_CACHE_HOME={r}/cache XDG_DATA_HOME={r}/data SSH_AUTH_SOCK=",
        r = root.display()
    );
    let common = format!(
        "{env} {bin} --known-hosts {} --log {} run --log-dir {}",
        farm.known_hosts.display(),
        log.display(),
        outlogs.display()
    );

    // 1. The encrypted key's passphrase, then sudo's password, on every host.
    let tmux = Tmux::start(
        "audit1",
        &wrapped(&format!(
            "{common} --sudo -H {} -i {} -- id -un",
            farm.host_list(),
            farm.client_key.display()
        )),
        160,
        40,
    );
    tmux.wait_for("passphrase prompt", |s| s.contains("assphrase"));
    tmux.type_text(PASSPHRASE);
    tmux.send(&["Enter"]);
    tmux.wait_for("sudo prompt", |s| s.to_lowercase().contains("sudo"));
    tmux.type_text(SUDO_SECRET);
    tmux.send(&["Enter"]);
    let screen1 = tmux.wait_for("first run ends", |s| s.contains("EXIT:"));
    assert!(screen1.contains("EXIT:0"), "{screen1}");
    assert_eq!(
        screen1.matches(&format!(": {}", farm.user)).count(),
        2,
        "both hosts ran under sudo: {screen1}"
    );

    // 2. A password, for an account without keys.
    let tmux2 = Tmux::start(
        "audit2",
        &wrapped(&format!(
            "{common} -H {pw_user}@127.0.0.1:{} -- echo password-ok",
            farm.hosts[0].port
        )),
        160,
        40,
    );
    tmux2.wait_for("password prompt", |s| s.contains("assword"));
    tmux2.type_text(&password);
    tmux2.send(&["Enter"]);
    let screen2 = tmux2.wait_for("second run ends", |s| s.contains("EXIT:"));
    assert!(
        screen2.contains("EXIT:0") && screen2.contains("password-ok"),
        "{screen2}"
    );

    // 3. The TUI: the key's passphrase and sudo's password typed in its
    // dialogs, the command typed in the command pane. The command lands in
    // the history file; what the dialogs took must not.
    let tui = format!(
        "{env} {bin} --known-hosts {} --log {} -i {} tui -H {}",
        farm.known_hosts.display(),
        log.display(),
        farm.client_key.display(),
        farm.host_list()
    );
    let tmux3 = Tmux::start("audit3", &wrapped(&tui), 160, 40);
    tmux3.wait_for("the host list", |s| s.contains("Hosts 2/2"));
    tmux3.send(&["Tab"]);
    tmux3.send(&["Tab"]);
    tmux3.send(&["C-o"]);
    tmux3.wait_for("options", |s| s.contains("Command options"));
    tmux3.send(&["Down"]);
    tmux3.send(&["Down"]);
    tmux3.send(&["Space"]);
    tmux3.send(&["Enter"]);
    tmux3.type_text("id -un; echo tui-$((6*7))");
    tmux3.send(&["Enter"]);
    tmux3.wait_for("passphrase dialog", |s| {
        s.contains("assphrase") && s.contains("Enter confirms")
    });
    tmux3.type_text(PASSPHRASE);
    tmux3.send(&["Enter"]);
    tmux3.wait_for("sudo dialog", |s| s.contains("Answer a prompt"));
    tmux3.type_text(SUDO_SECRET);
    tmux3.send(&["Enter"]);
    let screen3 = tmux3.wait_for("both hosts ran it", |s| s.matches("tui-42").count() >= 2);
    tmux3.send(&["Tab"]);
    tmux3.send(&["q"]);
    let end3 = tmux3.wait_for("the TUI ends", |s| s.contains("EXIT:"));
    assert!(end3.contains("EXIT:0"), "{end3}");
    let history = std::fs::read_to_string(root.join("state/sshdeck/history"))
        .expect("the TUI's history file");
    assert!(history.contains("echo tui-$((6*7))"), "{history}");

    // What was written is what we meant to write...
    let log_text = std::fs::read_to_string(&log).expect("the --log file");
    assert!(log_text.contains("answering prompt"), "{log_text}");
    assert!(
        std::fs::read_dir(&outlogs).unwrap().count() >= 2,
        "per-host output logs"
    );
    // ...and no secret is in any of it, nor on either screen.
    let mut files = Vec::new();
    files_under(root, &root.join("bin"), &mut files);
    assert!(files.len() > 5, "{files:?}");
    for secret in [PASSPHRASE, SUDO_SECRET, password.as_str()] {
        for f in &files {
            let bytes = std::fs::read(f).unwrap_or_default();
            assert!(!contains(&bytes, secret), "{} holds a secret", f.display());
        }
        for screen in [&screen1, &screen2, &screen3] {
            assert!(!screen.contains(secret), "a secret was echoed: {screen}");
        }
    }
}
