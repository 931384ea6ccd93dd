//! The README, run: every command line in its `sh` code blocks is either
//! run here, as written (with the binary under test for `sshdeck` and
//! `cargo run --release --`, and a scratch directory for /tmp/farm), or
//! named in `NOT_RUN` with why. A new command line in the README fails
//! this test until it is one or the other. Every `--flag` the README names
//! is a flag of sshdeck (or listed as another tool's), and every flag of
//! sshdeck's `--help` appears in the README or the man page.

use crate::support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::tmux::{Tmux, tmux_available, wrapped};

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md")
}

/// Each `sh` block's command lines: comments cut, `\` continuations joined.
fn sh_blocks(text: &str) -> Vec<Vec<String>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    let mut pending = String::new();
    for line in text.lines() {
        if let Some(block) = current.as_mut() {
            if line.starts_with("```") {
                blocks.push(current.take().unwrap_or_default());
                continue;
            }
            let code = match line.find("  #") {
                Some(i) => &line[..i],
                None => line,
            };
            let code = code.trim_end();
            if let Some(head) = code.strip_suffix('\\') {
                pending.push_str(head);
                continue;
            }
            pending.push_str(code.trim_start_matches(' ').trim());
            let full = std::mem::take(&mut pending)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if !full.is_empty() {
                block.push(full);
            }
        } else if line == "```sh" {
            current = Some(Vec::new());
        }
    }
    blocks
}

/// Command lines not run here, each with the reason.
const NOT_RUN: &[(&str, &str)] = &[
    ("scripts/test", "the suite this test is part of"),
    (
        "cargo install --path .",
        "installs into ~/.cargo/bin; the binary under test stands in for it",
    ),
    ("cargo uninstall sshdeck", "the pair of the install above"),
    (
        "scripts/load",
        "a load run of minutes with 500 sshd hosts; tests/load.rs runs its engine",
    ),
    (
        "scripts/bench-fleet",
        "a benchmark of minutes; tests/fleet.rs runs the simulated fleet",
    ),
    (
        "scripts/fuzz 60",
        "needs cargo-fuzz and nightly; tests/fuzz_regressions.rs replays its seeds",
    ),
];

fn bin() -> PathBuf {
    support::sshdeck_bin()
}

/// PATH with the binary under test first, as `cargo install` would put it.
fn path_with_bin() -> String {
    let dir = bin().parent().map(Path::to_path_buf).unwrap_or_default();
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `cargo run --release -- ARGS` and `sshdeck ARGS` as the binary under test.
fn as_built(line: &str, farm_bin: &Path) -> String {
    let sshdeck = bin().display().to_string();
    line.replace(
        "cargo run --release --example farm --",
        &farm_bin.display().to_string(),
    )
    .replace("cargo run --release --", &sshdeck)
}

fn bash(script: &str, home: &Path, limit: Duration) -> (bool, String) {
    let mut child = Command::new("bash")
        .args(["--norc", "-c", script])
        .env("PATH", path_with_bin())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env("MANPAGER", "cat")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash");
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("bash output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `demo ARGS` in tmux: the host list shows (after the demo password when
/// asked), and `q` quits with status 0.
fn run_demo(args: &str) {
    assert!(
        tmux_available(),
        "tmux is required (scripts/test installs it)"
    );
    let launch = wrapped(&format!("{} {args}", bin().display()));
    let tmux = Tmux::start("readme", &launch, 120, 32);
    // Under --login password or keyboard-interactive the hosts ask first.
    let asks = args.contains("--login") && !args.contains("--login key ");
    if asks {
        tmux.wait_for("the demo password question", |s| s.contains("Password"));
        tmux.type_text("demo");
        tmux.send(&["Enter"]);
    } else {
        tmux.wait_for("the demo's host list", |s| s.contains("demo01"));
    }
    tmux.wait_for("every demo host connected", |s| {
        s.contains("● [x] demo") && !s.contains("◌") && !s.contains("Password")
    });
    tmux.send(&["q"]);
    assert_eq!(tmux.wait_exit(), "0", "`{args}` did not end with 0");
}

#[test]
fn every_command_line_of_the_readme_runs_or_says_why_not() {
    let home = tempfile::tempdir().expect("scratch home");
    let farm_bin = support::farm_example();
    let mut ran = Vec::new();
    for block in sh_blocks(&readme()) {
        let lines: Vec<String> = block.iter().map(|l| l.to_string()).collect();
        // The farm quick-start is one script: its lines depend on each other.
        if lines.iter().any(|l| l.contains("--example farm")) {
            let dir = home.path().join("farm");
            let script = lines
                .iter()
                .map(|l| as_built(l, &farm_bin).replace("/tmp/farm", &dir.display().to_string()))
                .collect::<Vec<_>>()
                .join("\n");
            let (ok, out) = bash(
                &format!("set -e\n{script}"),
                home.path(),
                Duration::from_secs(180),
            );
            assert!(ok, "the farm quick-start failed:\n{script}\n---\n{out}");
            assert!(out.contains("exit 0"), "no host answered:\n{out}");
            ran.extend(lines);
            continue;
        }
        for line in lines {
            if NOT_RUN.iter().any(|(l, _)| *l == line) {
                continue;
            }
            let built = as_built(&line, &farm_bin);
            let args = built
                .strip_prefix(&bin().display().to_string())
                .map(str::trim);
            match args {
                Some(a) if a.starts_with("demo") => run_demo(a),
                _ => {
                    let (ok, out) = bash(&built, home.path(), Duration::from_secs(60));
                    assert!(ok, "README line `{line}` failed:\n{out}");
                }
            }
            ran.push(line);
        }
    }
    for must in ["sshdeck --version", "sshdeck man | man -l -"] {
        assert!(
            ran.iter().any(|l| l == must),
            "`{must}` was not found and run"
        );
    }
    assert!(
        ran.iter().any(|l| l.contains("demo --login password")),
        "the password demo line was not run"
    );
}

/// Other tools' flags the README names (clush, cargo, rsync).
const FOREIGN: &[&str] = &[
    "--release",
    "--example",
    "--path",
    "--dest",
    "--rcopy",
    "--safe-links",
    "--test",
    "--ignored",
    "--check",
    // ansible-inventory's, and a dynamic inventory script's argument.
    "--list",
    "--host",
];

/// Every long flag of every subcommand, from `--help`.
fn sshdeck_flags() -> BTreeSet<String> {
    let mut flags = BTreeSet::new();
    for sub in [
        "",
        "run",
        "hosts",
        "put",
        "get",
        "tui",
        "demo",
        "facts",
        "recipe",
        "completions",
        "man",
        "attach",
        "ls",
        "kill-session",
        "jobs",
        "wait",
        "kill-job",
    ] {
        let mut c = Command::new(bin());
        if !sub.is_empty() {
            c.arg(sub);
        }
        let out = c.arg("--help").output().expect("sshdeck --help");
        for w in String::from_utf8_lossy(&out.stdout)
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        {
            if w.starts_with("--") && w.len() > 2 {
                flags.insert(w.to_string());
            }
        }
    }
    flags
}

fn long_flags(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2 && w.as_bytes()[2].is_ascii_alphabetic())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_flag_the_readme_names_exists_and_every_flag_is_documented() {
    let ours = sshdeck_flags();
    assert!(ours.contains("--hosts-from-last"), "{ours:?}");
    let text = readme();
    let named = long_flags(&text);
    let unknown: Vec<&String> = named
        .iter()
        .filter(|f| !ours.contains(*f) && !FOREIGN.contains(&f.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "the README names flags sshdeck does not have: {unknown:?}"
    );
    let man = Command::new(bin())
        .arg("man")
        .output()
        .expect("sshdeck man");
    let man = String::from_utf8_lossy(&man.stdout)
        .replace("\\-", "-")
        .replace("\\fB", " ")
        .replace("\\fI", " ")
        .replace("\\fR", " ");
    let documented: BTreeSet<String> = long_flags(&man).union(&named).cloned().collect();
    let missing: Vec<&String> = ours.iter().filter(|f| !documented.contains(*f)).collect();
    assert!(
        missing.is_empty(),
        "flags in --help but in neither the README nor the man page: {missing:?}"
    );
}
