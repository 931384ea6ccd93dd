//! Recordings hold every byte of output sshdeck received, whatever way it
//! ends, and never what was typed: a shells-tab recording ended by SIGTERM
//! with the shells open keeps the last command's output; a command given
//! with a leading space leaves its text in no file (per-host log, run
//! record), though its output is logged.

use crate::support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::farm::Farm;
use support::sshdeck_farm;
use support::tmux::{Tmux, farm_config, tmux_available, wrapped};

/// Every file under `dir`, with its text.
fn files_under(dir: &Path) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap_or_default()).into_owned();
            out.push((p, text));
        }
    }
    out
}

#[test]
fn a_shell_recording_ended_by_sigterm_keeps_the_last_output() {
    shell_recording_survives("TERM");
}

/// Even a death nothing can catch: every byte received was written as it
/// came, so it is in the file.
#[test]
fn a_shell_recording_ended_by_sigkill_keeps_the_last_output() {
    shell_recording_survives("KILL");
}

fn shell_recording_survives(signal: &str) {
    assert!(
        tmux_available(),
        "tmux is required (scripts/test installs it)"
    );
    let farm = Farm::start(2);
    let cfg = farm_config(&farm);
    let bin = support::sshdeck_bin();
    let bin = bin.display();
    let rec = farm.root.join("rec");
    let launch = wrapped(&format!(
        "{bin} -c {} tui --record {}",
        cfg.display(),
        rec.display()
    ));
    let tmux = Tmux::start(&format!("rec-{signal}"), &launch, 150, 40);
    tmux.wait_for("the host list", |s| s.contains("node1"));
    tmux.send(&["a"]);
    tmux.send(&["F3"]);
    tmux.wait_for("two shell prompts", |s| s.matches("# ").count() >= 2);
    // The output differs from the typed text, so finding it in the
    // recording proves the output, not the echo, was written.
    tmux.type_text("echo \"LAST-$((6*7))-OUT\"");
    tmux.send(&["Enter"]);
    tmux.wait_for("the output in both shells", |s| {
        s.matches("LAST-42-OUT").count() == 2
    });
    let pid = tmux.program_pid();
    assert!(!pid.is_empty(), "sshdeck's pid");
    let killed = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let proc_dir = Path::new("/proc").join(&pid);
    let deadline = Instant::now() + Duration::from_secs(20);
    while proc_dir.exists() {
        assert!(Instant::now() < deadline, "sshdeck outlived SIG{signal}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let casts: Vec<_> = files_under(&rec)
        .into_iter()
        .filter(|(p, _)| p.extension().is_some_and(|x| x == "cast"))
        .collect();
    assert_eq!(casts.len(), 2, "one recording per shell");
    for (path, text) in casts {
        assert!(
            text.contains("LAST-42-OUT"),
            "{}: the last output is missing: {text}",
            path.display()
        );
        // Output and resizes only: no input event, ever.
        for line in text.lines().skip(1) {
            let ev: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}: {e}: {line}", path.display()));
            let code = ev[1].as_str().unwrap_or_default();
            assert!(code == "o" || code == "r", "{}: {line}", path.display());
        }
    }
}

#[test]
fn a_leading_space_command_leaves_its_text_in_no_file() {
    let farm = Farm::start(1);
    let logs = farm.root.join("logs");
    let out = sshdeck_farm(&farm)
        .args(["run", "--log-dir"])
        .arg(&logs)
        .args(["-H", &farm.label(0), "--", " echo", "private-$((40+2))"])
        .output()
        .expect("run sshdeck");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("private-42"));
    let log = files_under(&logs);
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].1.contains("private-42\n"), "the output is logged");
    // Every file sshdeck writes lives under the farm root (HOME, XDG dirs).
    for (path, text) in files_under(&farm.root) {
        assert!(
            !text.contains("private-$((40+2))"),
            "{} holds the private command: {text}",
            path.display()
        );
    }
    let record = std::fs::read_to_string(farm.root.join("state/sshdeck/last-run.json"))
        .expect("the run record");
    assert!(record.contains("leading space"), "{record}");
}
