//! The real binary in tmux against the real sshd farm: select hosts, send a
//! command, read every pane; a hostile host cannot clear the screen or set
//! the clipboard; quitting restores the terminal.

mod support;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use support::farm::Farm;

struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }
    fn send(&self, keys: &[&str]) {
        let mut a = vec!["send-keys", "-t", "e2e"];
        a.extend_from_slice(keys);
        self.cmd(&a);
        // Separate keystrokes: ESC followed at once by a key reads as Alt-key.
        std::thread::sleep(Duration::from_millis(150));
    }
    fn type_text(&self, text: &str) {
        self.cmd(&["send-keys", "-t", "e2e", "-l", text]);
        std::thread::sleep(Duration::from_millis(150));
    }
    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-t", "e2e", "-p"]).stdout).into_owned()
    }
    /// Wait for the wrapper shell to print the program's exit status on the
    /// normal screen (see `wrapped`), and return it.
    fn wait_exit(&self) -> String {
        let screen = self.wait_for("the program to exit", |s| s.contains("EXIT:"));
        let status = screen.split("EXIT:").nth(1).unwrap_or("");
        status.split_whitespace().next().unwrap_or("").to_string()
    }
    /// The pid of the program under the wrapper shell.
    fn program_pid(&self) -> String {
        let sh = self.display("#{pane_pid}");
        let out = Command::new("pgrep")
            .args(["-P", &sh])
            .output()
            .expect("pgrep");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string()
    }
    fn display(&self, format: &str) -> String {
        let out = self.cmd(&["display", "-p", "-t", "e2e", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

/// Run `cmd` under a shell that prints its exit status afterwards and stays
/// alive, so the test can read both the status and the restored screen.
fn wrapped(cmd: &str) -> String {
    format!("sh -c '{cmd}; echo EXIT:$?; sleep 60'")
}

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn tui_runs_a_command_on_selected_hosts_in_tmux() {
    assert!(
        tmux_available(),
        "tmux is required (scripts/test installs it)"
    );
    let farm = Farm::start(3);
    let cfg = farm.root.join("config.toml");
    let mut text = format!(
        "[defaults]\nuser = \"{}\"\nidentity_files = [\"{}\"]\nknown_hosts = [\"{}\"]\nhost_key_policy = \"strict\"\nssh_config = \"none\"\nuse_agent = false\n",
        farm.user,
        farm.client_key.display(),
        farm.known_hosts.display()
    );
    for (i, h) in farm.hosts.iter().enumerate() {
        text.push_str(&format!(
            "\n[[hosts]]\nname = \"node{i}\"\naddress = \"127.0.0.1\"\nport = {}\n",
            h.port
        ));
    }
    std::fs::write(&cfg, text).unwrap();

    let tmux = Tmux {
        socket: format!("sshdeck-e2e-{}", std::process::id()),
    };
    let bin = env!("CARGO_BIN_EXE_sshdeck");
    let launch = wrapped(&format!("{bin} -c {} tui", cfg.display()));
    let out = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-x",
        "150",
        "-y",
        "40",
        &launch,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Let OSC 52 reach tmux's buffers if it ever got through.
    tmux.cmd(&["set", "-g", "set-clipboard", "on"]);
    tmux.wait_for("the host list", |s| {
        s.contains("node0") && s.contains("node2")
    });

    tmux.send(&["a"]);
    tmux.wait_for("selection", |s| s.contains("Hosts 3/3"));
    tmux.send(&["Tab"]);
    tmux.send(&["Tab"]);
    let hostile = farm.hosts[2].port;
    tmux.type_text(&format!(
        "p=${{SSH_CONNECTION##* }}; if [ $p = {hostile} ]; then printf 'evil\\033[2J\\033]52;c;ZXZpbC1jbGlw\\007done\\n'; else echo out-$p; fi"
    ));
    tmux.send(&["Enter"]);
    let screen = tmux.wait_for("three exit badges", |s| s.matches("✓ 0").count() == 3);
    for h in &farm.hosts[..2] {
        assert!(screen.contains(&format!("out-{}", h.port)), "{screen}");
    }
    assert!(screen.contains("evildone"), "{screen}");
    // The screen was not cleared by the hostile host: the chrome is intact.
    assert!(
        screen.contains("Hosts 3/3") && screen.contains("Command"),
        "{screen}"
    );
    let buffers = tmux.cmd(&["list-buffers"]);
    assert!(
        String::from_utf8_lossy(&buffers.stdout).trim().is_empty(),
        "a clipboard write reached the terminal: {}",
        String::from_utf8_lossy(&buffers.stdout)
    );

    // Quit: Tab back to the host list, then q.
    tmux.send(&["Tab"]);
    tmux.send(&["q"]);
    assert_eq!(tmux.wait_exit(), "0");
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "0",
        "alternate screen left on"
    );
}

#[test]
fn sigterm_restores_the_terminal() {
    assert!(
        tmux_available(),
        "tmux is required (scripts/test installs it)"
    );
    let tmux = Tmux {
        socket: format!("sshdeck-e2e-term-{}", std::process::id()),
    };
    let bin = env!("CARGO_BIN_EXE_sshdeck");
    let out = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-x",
        "100",
        "-y",
        "30",
        &wrapped(&format!("{bin} demo --hosts 2")),
    ]);
    assert!(out.status.success());
    tmux.wait_for("the demo hosts", |s| s.contains("demo02"));
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "1",
        "TUI should use the alternate screen"
    );
    let pid = tmux.program_pid();
    assert!(!pid.is_empty(), "sshdeck's pid not found");
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(tmux.wait_exit(), "0", "SIGTERM should end sshdeck cleanly");
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "0",
        "alternate screen left on after SIGTERM"
    );
}
