//! Driving the real binary in tmux: keys, text, mouse (as the SGR escape
//! sequences a terminal would send), and reading the screen.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use super::farm::Farm;

pub struct Tmux {
    pub socket: String,
    /// The session socket directory `wrapped` gave the program: the
    /// session servers started there are ended with this tmux server.
    runtime: Option<String>,
}

/// End every sshdeck session server whose socket directory is under
/// `runtime` (its XDG_RUNTIME_DIR): a test's sessions never outlive it.
pub fn end_session_servers(runtime: &str) {
    let want = format!("XDG_RUNTIME_DIR={runtime}");
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return;
    };
    for p in procs.flatten() {
        let pid = p.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let env = std::fs::read(p.path().join("environ")).unwrap_or_default();
        let cmdline = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
        let serves = cmdline
            .split(|b| *b == 0)
            .any(|a| a == b"--serve" || a == b"--serve-any");
        if serves && env.split(|b| *b == 0).any(|v| v == want.as_bytes()) {
            let _ = Command::new("kill").args(["-9", &pid]).status();
        }
    }
}

impl Tmux {
    pub fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }
    pub fn send(&self, keys: &[&str]) {
        let mut a = vec!["send-keys", "-t", "e2e"];
        a.extend_from_slice(keys);
        self.cmd(&a);
        // Separate keystrokes: ESC followed at once by a key reads as Alt-key.
        std::thread::sleep(Duration::from_millis(150));
    }
    pub fn type_text(&self, text: &str) {
        self.cmd(&["send-keys", "-t", "e2e", "-l", text]);
        std::thread::sleep(Duration::from_millis(150));
    }
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-t", "e2e", "-p"]).stdout).into_owned()
    }
    /// Wait for the wrapper shell to print the program's exit status on the
    /// normal screen (see `wrapped`), and return it.
    pub fn wait_exit(&self) -> String {
        let screen = self.wait_for("the program to exit", |s| s.contains("EXIT:"));
        let status = screen.split("EXIT:").nth(1).unwrap_or("");
        status.split_whitespace().next().unwrap_or("").to_string()
    }
    /// The pid of the program under the wrapper shell.
    pub fn program_pid(&self) -> String {
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
    pub fn display(&self, format: &str) -> String {
        let out = self.cmd(&["display", "-p", "-t", "e2e", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
    pub fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
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
        if let Some(runtime) = &self.runtime {
            end_session_servers(runtime);
        }
    }
}

/// Run `cmd` under a shell that prints its exit status afterwards and stays
/// alive, so the test can read both the status and the restored screen.
/// `cmd` in a shell that stays after it ends (so its exit can be read).
/// sshdeck's state (history, last run) goes to a scratch directory unless
/// `cmd` sets XDG_STATE_HOME itself: tests never touch the user's own.
pub fn wrapped(cmd: &str) -> String {
    // One directory per call, not per process: every test file's TUI runs
    // share this process, and one run's history must not show in another's.
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let state =
        std::env::temp_dir().join(format!("sshdeck-e2e-state-{}-{run}", std::process::id()));
    // Sessions, too: their servers end with the test's tmux (see Drop).
    format!(
        "sh -c 'export XDG_STATE_HOME={0}; export XDG_RUNTIME_DIR={0}/run; mkdir -p -m 700 {0}/run; {cmd}; echo EXIT:$?; sleep 60'",
        state.display()
    )
}

pub fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

impl Tmux {
    /// Start `cmd` in a detached `cols` x `rows` session on a private tmux
    /// server (`tag` and our pid name its socket).
    pub fn start(tag: &str, cmd: &str, cols: u16, rows: u16) -> Tmux {
        // One socket per start, not per tag: a test that starts the same tag
        // twice would otherwise reach the previous server while kill-server
        // is still taking it down ("server exited unexpectedly").
        static STARTS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // The first socket directory named is the one `wrapped` exported.
        let runtime = cmd.split_once("XDG_RUNTIME_DIR=").map(|(_, rest)| {
            rest.split([';', ' ', '\''])
                .next()
                .unwrap_or_default()
                .to_string()
        });
        let tmux = Tmux {
            socket: format!("sshdeck-{tag}-{}-{n}", std::process::id()),
            runtime,
        };
        let (x, y) = (cols.to_string(), rows.to_string());
        let out = tmux.cmd(&["new-session", "-d", "-s", "e2e", "-x", &x, "-y", &y, cmd]);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    /// A left-button drag from one cell to another (1-based, as terminals
    /// report them), with `mods` added to the button code (4: Shift).
    pub fn drag(&self, from: (u16, u16), to: (u16, u16), mods: u8) {
        let b = mods;
        self.type_text(&format!("\x1b[<{b};{};{}M", from.0, from.1));
        self.type_text(&format!("\x1b[<{};{};{}M", 32 + b, to.0, to.1));
        self.type_text(&format!("\x1b[<{b};{};{}m", to.0, to.1));
    }
}

/// A config.toml naming the farm's hosts node0, node1...
pub fn farm_config(farm: &Farm) -> std::path::PathBuf {
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
    std::fs::write(&cfg, text).expect("write config");
    cfg
}
