//! Sessions that outlive the terminal, with the real binary in tmux
//! against the sshd farm: a command keeps running when its terminal is
//! killed and `attach` shows it finish; a watcher of another size sees the
//! session but cannot type into it; Ctrl-Z suspends a client and the
//! session runs on; F12 detaches; a client killed with
//! -9 leaves the session; `kill-session` ends it; a dead server leaves the
//! client's terminal restored with a clear message.

use crate::support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use sshdeck::session::protocol::ClientMsg;
use support::farm::Farm;
use support::tmux::{Tmux, end_session_servers, farm_config, tmux_available, wrapped};

/// A test's private socket directory: the session servers started in it
/// end with the test, passed or failed.
struct Runtime(tempfile::TempDir);

impl Runtime {
    fn new() -> Runtime {
        Runtime(tempfile::tempdir().expect("tempdir"))
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        end_session_servers(&self.0.path().display().to_string());
    }
}

/// What each test starts from: the farm, its config, and a private socket
/// directory whose session servers end with the test.
struct Setup {
    farm: Farm,
    cfg: std::path::PathBuf,
    runtime: Runtime,
    rt: String,
    bin: &'static str,
}

impl Setup {
    fn new(hosts: usize) -> Setup {
        assert!(
            tmux_available(),
            "tmux is required (scripts/test installs it)"
        );
        let farm = Farm::start(hosts);
        let cfg = farm_config(&farm);
        let runtime = Runtime::new();
        let rt = runtime.path().display().to_string();
        Setup {
            farm,
            cfg,
            runtime,
            rt,
            bin: env!("CARGO_BIN_EXE_sshdeck"),
        }
    }
}

/// `sshdeck` with the test's private socket directory.
fn sshdeck(runtime: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sshdeck"))
        .env("XDG_RUNTIME_DIR", runtime)
        .args(args)
        .output()
        .expect("sshdeck runs");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Send raw bytes to a session socket and read what comes back until
/// the server closes the connection (with a deadline).
fn raw_exchange(sock: &Path, bytes: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(sock).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    s.write_all(bytes).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

fn wait_until(what: &str, ok: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_session_outlives_its_terminal_and_ends_when_killed() {
    let Setup {
        farm: _farm,
        cfg,
        runtime,
        rt,
        bin,
    } = Setup::new(3);

    // Start session t1 and a command that takes a few seconds.
    let first = Tmux::start(
        "sess-a",
        &wrapped(&format!(
            "XDG_RUNTIME_DIR={rt} {bin} -c {} tui -s t1",
            cfg.display()
        )),
        150,
        40,
    );
    first.wait_for("the host list", |s| s.contains("node2"));
    first.send(&["a"]);
    first.wait_for("selection", |s| s.contains("Hosts 3/3"));
    first.send(&["Tab"]);
    first.send(&["Tab"]);
    first.type_text("for i in 1 2 3 4 5 6; do echo tick-$i; sleep 1; done");
    first.send(&["Enter"]);
    first.wait_for("output", |s| s.contains("tick-1"));
    // The terminal goes away (its client gets SIGHUP): the session stays.
    drop(first);
    let listed = sshdeck(runtime.path(), &["ls"]);
    assert!(listed.contains("t1: 3 hosts"), "{listed}");
    // Another protocol is refused with both versions; garbage and an
    // oversized message close that connection, never the server.
    let sock = runtime.path().join("sshdeck/t1.sock");
    let refused = raw_exchange(
        &sock,
        &ClientMsg::Hello {
            protocol: 999,
            version: "9.9.9".into(),
        }
        .encode(),
    );
    let refused = String::from_utf8_lossy(&refused).into_owned();
    assert!(
        refused.contains("protocol 999") && refused.contains("9.9.9"),
        "{refused}"
    );
    raw_exchange(&sock, b"\x00\x00\x00\x02\x63\x00garbage");
    raw_exchange(&sock, &u32::MAX.to_be_bytes());
    let listed = sshdeck(runtime.path(), &["ls"]);
    assert!(listed.contains("t1: 3 hosts"), "{listed}");

    // Attach from a new terminal: the command is still streaming, then ends.
    let second = Tmux::start(
        "sess-b",
        &wrapped(&format!("XDG_RUNTIME_DIR={rt} {bin} attach t1")),
        150,
        40,
    );
    let screen = second.wait_for("the command to finish on every host", |s| {
        s.matches("✓ 0").count() == 3
    });
    assert!(screen.contains("tick-6"), "{screen}");

    // A watcher of another size sees the session, and cannot type into it.
    let watcher = Tmux::start(
        "sess-c",
        &wrapped(&format!("XDG_RUNTIME_DIR={rt} {bin} attach --read-only t1")),
        100,
        30,
    );
    let seen = watcher.wait_for("the watcher's screen", |s| s.contains("Hosts 3/3"));
    assert!(
        seen.lines().all(|l| l.chars().count() <= 100),
        "drawn for the watcher's width: {seen}"
    );
    watcher.send(&["n"]);
    std::thread::sleep(Duration::from_millis(500));
    second.wait_for("the selection unchanged", |s| s.contains("Hosts 3/3"));
    let listed = sshdeck(runtime.path(), &["ls"]);
    assert!(listed.contains("1 attached, 1 watching"), "{listed}");

    // The watcher is killed with -9: the session runs on.
    let pid = watcher.program_pid();
    assert!(!pid.is_empty());
    let _ = Command::new("kill").args(["-9", &pid]).status();
    wait_until("the watcher to be gone", || {
        sshdeck(runtime.path(), &["ls"]).contains("1 attached\n")
    });

    // A watcher leaves with the detach key, as anyone does.
    let leaving = Tmux::start(
        "sess-d",
        &wrapped(&format!("XDG_RUNTIME_DIR={rt} {bin} attach --read-only t1")),
        100,
        30,
    );
    leaving.wait_for("the watcher's screen", |s| s.contains("Hosts 3/3"));
    leaving.send(&["F12"]);
    assert_eq!(leaving.wait_exit(), "0");
    assert!(
        leaving.screen().contains("stopped watching"),
        "{}",
        leaving.screen()
    );

    // Ctrl-Z suspends a client as it suspends any program (its terminal
    // given back to the shell), the session runs on, and `fg` brings the
    // client back with its screen painted whole.
    let shell = Tmux::start("sess-fg", "bash --norc --noprofile -i", 150, 40);
    shell.type_text(&format!("XDG_RUNTIME_DIR={rt} {bin} attach t1"));
    shell.send(&["Enter"]);
    shell.wait_for("the attached screen", |s| s.contains("Hosts 3/3"));
    shell.send(&["C-z"]);
    shell.wait_for("the shell's job control", |s| s.contains("Stopped"));
    assert_eq!(shell.display("#{alternate_on}"), "0");
    let listed = sshdeck(runtime.path(), &["ls"]);
    assert!(listed.contains("t1: 3 hosts"), "{listed}");
    shell.type_text("fg");
    shell.send(&["Enter"]);
    shell.wait_for("the screen painted again", |s| {
        s.contains("Hosts 3/3") && s.matches("✓ 0").count() == 3
    });
    shell.send(&["F12"]);
    shell.wait_for("the client detached", |s| s.contains("attach t1"));
    // F12 detaches the interactive client.
    second.send(&["F12"]);
    assert_eq!(second.wait_exit(), "0");
    assert!(second.screen().contains("attach t1"), "{}", second.screen());
    assert_eq!(second.display("#{alternate_on}"), "0");

    // kill-session ends it: no socket, no session.
    let ended = sshdeck(runtime.path(), &["kill-session", "t1"]);
    assert!(ended.contains("ended"), "{ended}");
    wait_until("the socket to go", || {
        !runtime.path().join("sshdeck/t1.sock").exists()
    });
    assert!(sshdeck(runtime.path(), &["ls"]).contains("no sessions"));
}

#[test]
fn a_dead_server_leaves_the_client_a_clear_message() {
    let Setup {
        farm: _farm,
        cfg,
        runtime,
        rt,
        bin,
    } = Setup::new(1);
    let tmux = Tmux::start(
        "sess-dead",
        &wrapped(&format!(
            "XDG_RUNTIME_DIR={rt} {bin} -c {} tui -s t2",
            cfg.display()
        )),
        120,
        30,
    );
    tmux.wait_for("the host list", |s| s.contains("node0"));
    // The server is the process holding t2.lock; pgrep by its arguments.
    let out = Command::new("pgrep")
        .args(["-f", "--", "--serve t2"])
        .output()
        .expect("pgrep");
    let pid = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    assert!(!pid.is_empty(), "no server process");
    let _ = Command::new("kill").args(["-9", &pid]).status();
    assert_eq!(tmux.wait_exit(), "2");
    let screen = tmux.screen();
    assert!(screen.contains("server went away"), "{screen}");
    assert_eq!(tmux.display("#{alternate_on}"), "0");
    // The stale socket is found and cleaned, never trusted.
    assert!(sshdeck(runtime.path(), &["ls"]).contains("no sessions"));
    assert!(!runtime.path().join("sshdeck/t2.sock").exists());
}

/// Shells live in the session: detached with Ctrl-] d in the shells tab,
/// reattached, each shell still shows its screen and takes typing.
#[test]
fn shells_survive_a_detach_with_their_screens() {
    let Setup {
        farm: _farm,
        cfg,
        runtime,
        rt,
        bin,
    } = Setup::new(2);
    let first = Tmux::start(
        "sess-sh-a",
        &wrapped(&format!(
            "XDG_RUNTIME_DIR={rt} {bin} -c {} tui -s t3",
            cfg.display()
        )),
        150,
        40,
    );
    first.wait_for("the host list", |s| s.contains("node1"));
    first.send(&["a"]);
    first.send(&["F3"]);
    first.wait_for("two shell prompts", |s| s.matches("# ").count() >= 2);
    first.type_text("echo \"KEPT-$((6*7))\"");
    first.send(&["Enter"]);
    first.wait_for("the output in both shells", |s| {
        s.matches("KEPT-42").count() == 2
    });
    // The prefix, then d: detach from inside the shells tab.
    first.send(&["C-]"]);
    first.send(&["d"]);
    assert_eq!(first.wait_exit(), "0");

    let second = Tmux::start(
        "sess-sh-b",
        &wrapped(&format!("XDG_RUNTIME_DIR={rt} {bin} attach t3")),
        150,
        40,
    );
    second.wait_for("both shells' screens back", |s| {
        s.matches("KEPT-42").count() == 2
    });
    second.type_text("echo \"AGAIN-$((7*7))\"");
    second.send(&["Enter"]);
    second.wait_for("the shells still take typing", |s| {
        s.matches("AGAIN-49").count() == 2
    });
    let ended = sshdeck(runtime.path(), &["kill-session", "--force", "t3"]);
    assert!(ended.contains("ended"), "{ended}");
    assert_eq!(second.wait_exit(), "0");
}

/// A copy started in the files tab keeps going while nobody is attached
/// (the terminal killed: SIGHUP to the client), ends byte-exact on every
/// host, and the next client sees it done.
#[test]
fn a_copy_keeps_going_while_detached_and_ends_byte_exact() {
    let Setup {
        farm,
        cfg,
        runtime,
        rt,
        bin,
    } = Setup::new(2);
    let local = farm.root.join("local");
    std::fs::create_dir_all(&local).expect("local dir");
    let src = local.join("big.img");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&src).expect("create");
        let mut block = vec![0u8; 1 << 20];
        for i in 0..256u32 {
            for (j, b) in block.iter_mut().enumerate() {
                *b = ((j as u32).wrapping_mul(31) ^ i.wrapping_mul(2_654_435_761)) as u8;
            }
            f.write_all(&block).expect("write");
        }
    }
    let size = std::fs::metadata(&src).expect("stat").len();
    let parts: Vec<_> = farm
        .hosts
        .iter()
        .map(|h| h.files().join(".big.img.sshdeck-part"))
        .collect();
    let dsts: Vec<_> = farm
        .hosts
        .iter()
        .map(|h| h.files().join("big.img"))
        .collect();
    let first = Tmux::start(
        "sess-copy-a",
        &wrapped(&format!(
            "cd {} && export HOME={r} XDG_CACHE_HOME={r}/cache; XDG_RUNTIME_DIR={rt} {bin} -c {} tui -s t4",
            local.display(),
            cfg.display(),
            r = farm.root.display()
        )),
        140,
        36,
    );
    first.wait_for("the host list", |s| s.contains("node1"));
    first.send(&["a"]);
    first.send(&["F2"]);
    first.wait_for("both panes listed", |s| {
        s.contains("big.img") && s.contains("2 selected hosts")
    });
    first.send(&["F5"]);
    let grown = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
    wait_until("the copy under way", || {
        parts.iter().any(|p| grown(p) > size / 20)
    });
    // The terminal goes away mid-copy.
    drop(first);
    let at_detach: u64 = parts.iter().map(|p| grown(p)).sum();
    // Nobody attached: the copy still moves, then ends whole on both hosts.
    let deadline = Instant::now() + Duration::from_secs(180);
    while !dsts.iter().all(|d| d.exists()) {
        assert!(Instant::now() < deadline, "the detached copy never ended");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        at_detach < 2 * size,
        "finished before the detach: make the file larger"
    );
    for d in &dsts {
        assert_eq!(
            support::sha256_of(d),
            support::sha256_of(&src),
            "{}",
            d.display()
        );
    }
    assert!(
        parts.iter().all(|p| !p.exists()),
        "part files became the files"
    );
    let second = Tmux::start(
        "sess-copy-b",
        &wrapped(&format!("XDG_RUNTIME_DIR={rt} {bin} attach t4")),
        140,
        36,
    );
    // The files tab, as it was left; its transfers panel shows the job done.
    second.wait_for("the files tab", |s| s.contains("big.img"));
    second.send(&["t"]);
    second.wait_for("the finished copy", |s| {
        s.contains("│done ") && s.contains("100%")
    });
    let ended = sshdeck(runtime.path(), &["kill-session", "--force", "t4"]);
    assert!(ended.contains("ended"), "{ended}");
    assert_eq!(second.wait_exit(), "0");
}

/// A terminal closed while a dialog waits leaves the dialog waiting for
/// the next client, which can answer it.
#[test]
fn a_dialog_left_open_waits_for_the_next_client() {
    let Setup {
        farm: _farm,
        cfg,
        runtime,
        rt,
        bin,
    } = Setup::new(1);
    let first = Tmux::start(
        "sess-dialog-a",
        &wrapped(&format!(
            "XDG_RUNTIME_DIR={rt} {bin} -c {} tui -s t5",
            cfg.display()
        )),
        120,
        32,
    );
    first.wait_for("the host list", |s| s.contains("node0"));
    first.send(&["a"]);
    first.send(&["Tab"]);
    first.send(&["Tab"]);
    first.type_text("sleep 30");
    first.send(&["Enter"]);
    first.wait_for("the command running", |s| {
        s.contains("1 running") || s.contains("0/1 done")
    });
    first.send(&["Tab"]);
    first.send(&["q"]);
    first.wait_for("the quit question", |s| {
        s.contains("still running a command")
    });
    drop(first);
    let second = Tmux::start(
        "sess-dialog-b",
        &wrapped(&format!("XDG_RUNTIME_DIR={rt} {bin} attach t5")),
        120,
        32,
    );
    second.wait_for("the same question, still open", |s| {
        s.contains("still running a command")
    });
    second.send(&["Escape"]);
    second.wait_for("the question answered", |s| {
        !s.contains("still running a command") && s.contains("node0")
    });
    let ended = sshdeck(runtime.path(), &["kill-session", "--force", "t5"]);
    assert!(ended.contains("ended"), "{ended}");
    assert_eq!(second.wait_exit(), "0");
}

/// The scenario at its scale: a long command on 20 hosts, the
/// terminal killed (SIGHUP to the client) while it runs, and `sshdeck
/// attach` from a new terminal shows output still arriving, then every
/// host's result.
#[test]
fn twenty_hosts_keep_streaming_through_a_lost_terminal() {
    let Setup {
        farm: _farm,
        cfg,
        runtime,
        rt,
        bin,
    } = Setup::new(20);
    // Plain `sshdeck`: a session is what it opens.
    let first = Tmux::start(
        "sess-20-a",
        &wrapped(&format!("XDG_RUNTIME_DIR={rt} {bin} -c {}", cfg.display())),
        160,
        48,
    );
    // The status bar names the session.
    first.wait_for("the host list", |s| {
        s.contains("node19") && s.contains("[0]")
    });
    first.send(&["a"]);
    first.wait_for("selection", |s| s.contains("Hosts 20/20"));
    first.send(&["Tab"]);
    first.send(&["Tab"]);
    first.type_text("for i in $(seq 1 20); do echo tick-$i; sleep 1; done");
    first.send(&["Enter"]);
    first.wait_for("output", |s| s.contains("tick-2"));
    drop(first);
    wait_until("the session listed, running, nobody attached", || {
        sshdeck(runtime.path(), &["ls"]).contains("0: 20 hosts · 20 running · 0 attached")
    });
    let second = Tmux::start(
        "sess-20-b",
        &wrapped(&format!("XDG_RUNTIME_DIR={rt} {bin} attach")),
        160,
        48,
    );
    // The tick on screen when we came back, then a later one: still live.
    let back = second.wait_for("the session's screen", |s| s.contains("tick-"));
    let tick = |s: &str| {
        s.split("tick-")
            .skip(1)
            .filter_map(|t| {
                t.split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse::<u32>()
                    .ok()
            })
            .max()
            .unwrap_or(0)
    };
    let seen = tick(&back);
    assert!(seen < 20, "already finished when attached: {back}");
    second.wait_for("output still arriving", |s| tick(s) > seen);
    let done = second.wait_for("every host's result", |s| s.contains("20/20 done"));
    assert!(done.contains("tick-20"), "{done}");
    second.send(&["Tab"]);
    second.send(&["q"]);
    assert_eq!(second.wait_exit(), "0");
    assert!(
        second.screen().contains("session 0 ended"),
        "{}",
        second.screen()
    );
}
