//! The real binary in tmux against the real sshd farm: select hosts, send a
//! command, read every pane; a hostile host cannot clear the screen or set
//! the clipboard; quitting restores the terminal.

use crate::support;

use std::process::Command;

use support::farm::Farm;
use support::tmux::{Tmux, farm_config, tmux_available, wrapped};

#[test]
fn tui_runs_a_command_on_selected_hosts_in_tmux() {
    assert!(
        tmux_available(),
        "tmux is required (scripts/test installs it)"
    );
    let farm = Farm::start(3);
    let cfg = farm_config(&farm);

    let bin = env!("CARGO_BIN_EXE_sshdeck");
    let launch = wrapped(&format!("{bin} -c {} tui", cfg.display()));
    let tmux = Tmux::start("e2e", &launch, 150, 40);
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
    let bin = env!("CARGO_BIN_EXE_sshdeck");
    let tmux = Tmux::start(
        "e2e-term",
        &wrapped(&format!("{bin} demo --hosts 2")),
        100,
        30,
    );
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

#[test]
fn files_tab_copies_by_key_and_by_mouse_drag_in_tmux() {
    assert!(
        tmux_available(),
        "tmux is required (scripts/test installs it)"
    );
    let farm = Farm::start(2);
    let cfg = farm_config(&farm);
    let local = farm.root.join("local");
    std::fs::create_dir_all(local.join("gamma")).unwrap();
    std::fs::write(local.join("alpha.txt"), b"alpha by key\n").unwrap();
    std::fs::write(local.join("beta.txt"), b"beta by drag\n").unwrap();
    std::fs::write(local.join("gamma/g"), b"g").unwrap();

    let bin = env!("CARGO_BIN_EXE_sshdeck");
    // The local pane starts in the working directory.
    // An "editor" that edits alpha, and for beta also changes the host's
    // copy meanwhile (the farm's hosts share this disk).
    let editor = farm.root.join("editor.sh");
    let remote_beta = farm.hosts[0].files().join("beta.txt");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\nif grep -q alpha \"$1\"; then sed -i s/alpha/EDITED/ \"$1\"; fi\nif grep -q beta \"$1\"; then echo changed-remotely >> {}; echo mine >> \"$1\"; fi\n",
            remote_beta.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let launch = wrapped(&format!(
        "cd {} && EDITOR={} {bin} -c {} tui",
        local.display(),
        editor.display(),
        cfg.display()
    ));
    let tmux = Tmux::start("e2e-files", &launch, 140, 36);
    tmux.wait_for("the host list", |s| s.contains("node1"));
    tmux.send(&["a"]);
    tmux.send(&["F2"]);
    tmux.wait_for("both panes listed", |s| {
        s.contains("alpha.txt") && s.contains("2 selected hosts (listing node0)")
    });

    // By key: the cursor starts on gamma/ (directories first); Down, F5.
    tmux.send(&["Down"]);
    tmux.send(&["F5"]);
    tmux.wait_for("the put by key", |s| {
        status_says(s, "put 2 selected hosts: alpha.txt")
    });
    for h in &farm.hosts {
        assert_eq!(
            std::fs::read(h.files().join("alpha.txt")).unwrap(),
            b"alpha by key\n"
        );
    }

    // By mouse: drag beta.txt (third entry: screen row 5, 1-based) onto
    // the right pane.
    tmux.drag((6, 5), (100, 12), 0);
    tmux.wait_for("the put by drag", |s| {
        status_says(s, "put 2 selected hosts: beta.txt")
    });
    for h in &farm.hosts {
        assert_eq!(
            std::fs::read(h.files().join("beta.txt")).unwrap(),
            b"beta by drag\n"
        );
    }

    // Fan-in by key: from the right pane, alpha.txt comes back from both
    // hosts into one directory per host.
    tmux.send(&["Tab"]);
    tmux.wait_for("the right pane relisted", |s| {
        s.matches("beta.txt").count() >= 3
    });
    tmux.send(&["Home"]);
    tmux.send(&["F5"]);
    tmux.wait_for("the get", |s| {
        status_says(s, "get 2 selected hosts: alpha.txt")
    });
    for i in 0..2 {
        let got = local.join(format!("node{i}")).join("alpha.txt");
        assert_eq!(
            std::fs::read(&got).unwrap(),
            b"alpha by key\n",
            "{}",
            got.display()
        );
    }

    tmux.send(&["q"]);
    assert_eq!(tmux.wait_exit(), "0");
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "0",
        "alternate screen left on"
    );
}

/// The status bar (last line) reports `job` as done on both hosts.
fn status_says(screen: &str, job: &str) -> bool {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.contains(job) && l.contains("done on 2 hosts"))
}

#[test]
fn shells_tab_types_into_three_shells_at_once_in_tmux() {
    assert!(
        tmux_available(),
        "tmux is required (scripts/test installs it)"
    );
    let farm = Farm::start(3);
    let cfg = farm_config(&farm);
    let bin = env!("CARGO_BIN_EXE_sshdeck");
    let rec = farm.root.join("rec");
    let launch = wrapped(&format!(
        "{bin} -c {} tui --record {}",
        cfg.display(),
        rec.display()
    ));
    let tmux = Tmux::start("e2e-shells", &launch, 150, 40);
    tmux.wait_for("the host list", |s| s.contains("node2"));
    tmux.send(&["a"]);
    tmux.send(&["F3"]);
    tmux.wait_for("three shell prompts", |s| s.matches("# ").count() >= 3);
    // Typed once: each host computes its own answer, so each pane shows
    // its own proof of having received the keystrokes.
    tmux.type_text("echo \"got-$((6*7))-$(basename $SSHDECK_FILES)\" | tr a-z A-Z");
    tmux.send(&["Enter"]);
    let screen = tmux.wait_for("the command's output in all three", |s| {
        s.matches("GOT-42-FILES").count() == 3
    });
    // Arrow keys reach the shells' line editors: Up recalls the command
    // in every pane, C-u clears it there.
    tmux.send(&["Up"]);
    tmux.wait_for("history recalled everywhere", |s| {
        s.matches("| tr a-z A-Z").count() >= 6
    });
    tmux.send(&["C-u"]);
    assert!(screen.contains("⌨ on"), "{screen}");
    // Back to the hosts tab and quit: the shells are open, so it asks.
    tmux.send(&["F3"]);
    tmux.wait_for("the hosts tab", |s| s.contains("Hosts 3/3"));
    tmux.send(&["q"]);
    tmux.wait_for("the quit question", |s| s.contains("Quit anyway?"));
    tmux.send(&["y"]);
    assert_eq!(tmux.wait_exit(), "0");
    let casts: Vec<_> = std::fs::read_dir(&rec).unwrap().flatten().collect();
    assert_eq!(casts.len(), 3, "one recording per shell");
    for c in casts {
        let text = std::fs::read_to_string(c.path()).unwrap();
        assert!(
            text.contains("GOT-42-FILES"),
            "{}: {text}",
            c.path().display()
        );
        // The shell's closing output made it to disk before sshdeck exited.
        assert!(text.trim_end().ends_with(']'), "{text}");
    }
}

#[test]
fn facts_columns_fill_in_and_a_recipe_runs_from_the_palette_in_tmux() {
    assert!(
        tmux_available(),
        "tmux is required (scripts/test installs it)"
    );
    let farm = Farm::start(3);
    let cfg = farm_config(&farm);
    let input = farm.root.join("in.txt");
    std::fs::write(&input, "1\n2\n3\n4\n").unwrap();
    let results = farm.root.join("results");
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "[defaults]\n",
        "[defaults]\nfacts_on_start = true\nfacts = [\"uptime\", \"disk\", \"rack\"]\n",
    ) + &format!(
        r#"
[[facts]]
name = "rack"
command = "echo \"rack=r${{SSH_CONNECTION##* }}\""
parse = "kv"

[[columns]]
fact = "rack.rack"
title = "rack"

[[columns]]
fact = "disk.max_used_pct"
title = "disk%"

[[recipes]]
name = "count-lines"
[[recipes.steps]]
put = "{input}"
to = "job"
[[recipes.steps]]
run = "cd \"$SSHDECK_FILES/job\" && wc -l < in.txt > out.txt"
[[recipes.steps]]
get = "job/out.txt"
to = "{results}/{{host}}"
"#,
        input = input.display(),
        results = results.display()
    );
    std::fs::write(&cfg, text).unwrap();

    let bin = env!("CARGO_BIN_EXE_sshdeck");
    let tmux = Tmux::start(
        "e2e-facts",
        &wrapped(&format!("{bin} -c {} tui", cfg.display())),
        150,
        40,
    );
    // Every host connects at start and its facts fill the columns.
    let ports: Vec<u16> = farm.hosts.iter().map(|h| h.port).collect();
    let screen = tmux.wait_for("facts columns", |s| {
        s.contains("rack") && ports.iter().all(|p| s.contains(&format!("r{p}")))
    });
    assert!(screen.contains("disk%"), "{screen}");

    tmux.send(&["a"]);
    tmux.send(&["C-p"]);
    tmux.wait_for("the palette", |s| s.contains("Palette"));
    tmux.type_text("count");
    tmux.send(&["Enter"]);
    let screen = tmux.wait_for("the recipe on every host", |s| s.contains("3/3 hosts done"));
    assert!(screen.contains("Recipe count-lines"), "{screen}");
    for i in 0..3 {
        let out = results.join(format!("node{i}")).join("out.txt");
        assert_eq!(
            std::fs::read_to_string(&out).unwrap_or_default().trim(),
            "4",
            "{}\n{screen}",
            out.display()
        );
    }
    tmux.send(&["q"]);
    assert_eq!(tmux.wait_exit(), "0");
}

/// `[keys]` in the config rebinds keys in the running binary, and the
/// command history survives a restart (a leading space keeps a command out).
#[test]
fn a_rebound_key_works_and_history_lasts_across_two_runs_in_tmux() {
    assert!(
        tmux_available(),
        "tmux is required (scripts/test installs it)"
    );
    let farm = Farm::start(2);
    let cfg = farm_config(&farm);
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("\n[keys.hosts]\nselect_all = \"A\"\n\n[keys.main]\ngather = [\"G\"]\n");
    std::fs::write(&cfg, text).unwrap();
    let state = farm.root.join("state");
    let bin = env!("CARGO_BIN_EXE_sshdeck");
    let launch = wrapped(&format!(
        "export XDG_STATE_HOME={}; {bin} -c {} tui",
        state.display(),
        cfg.display()
    ));

    // First run: `a` no longer selects all; `A` does.
    let tmux = Tmux::start("e2e-keys1", &launch, 140, 36);
    tmux.wait_for("the host list", |s| s.contains("node1"));
    tmux.send(&["a"]);
    tmux.send(&["A"]);
    let screen = tmux.wait_for("A selects all", |s| s.contains("Hosts 2/2"));
    assert!(
        screen.contains("A all"),
        "the hint shows the new key: {screen}"
    );
    // The help shows the rebound key too.
    tmux.send(&["?"]);
    tmux.type_text("gathered");
    let help = tmux.wait_for("help filtered", |s| s.contains("filter: gathered"));
    assert!(help.contains("  G "), "{help}");
    tmux.send(&["Escape"]);
    tmux.send(&["Escape"]);
    tmux.send(&["Tab"]);
    tmux.send(&["Tab"]);
    tmux.type_text("echo remembered-$((40+2))");
    tmux.send(&["Enter"]);
    tmux.wait_for("both hosts ran it", |s| {
        s.matches("remembered-42").count() >= 2
    });
    tmux.type_text(" echo not-kept-7");
    tmux.send(&["Enter"]);
    tmux.wait_for("the second command ran", |s| {
        s.matches("not-kept-7").count() >= 2
    });
    tmux.send(&["Tab"]);
    tmux.send(&["G"]);
    tmux.wait_for("G opens the gathered view", |s| {
        s.contains("Gathered: 1 group")
    });
    tmux.send(&["q"]);
    assert_eq!(tmux.wait_exit(), "0");

    // The TUI's last run is kept for `sshdeck run --hosts-from-last`,
    // by the hosts' names.
    let record =
        std::fs::read_to_string(state.join("sshdeck/last-run.json")).expect("the TUI's run record");
    assert!(
        record.contains("\"node0\"") && record.contains("leading space"),
        "{record}"
    );
    assert!(
        !record.contains("not-kept"),
        "a leading-space command's text was kept: {record}"
    );
    let history = state.join("sshdeck/history");
    let saved = std::fs::read_to_string(&history).expect("the history file");
    assert!(saved.contains("echo remembered-$((40+2))"), "{saved}");
    assert!(!saved.contains("not-kept"), "{saved}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&history).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // Second run: Up in the command pane brings the command back.
    let tmux = Tmux::start("e2e-keys2", &launch, 140, 36);
    tmux.wait_for("the host list", |s| s.contains("node1"));
    tmux.send(&["A"]);
    tmux.send(&["Tab"]);
    tmux.send(&["Tab"]);
    tmux.send(&["Up"]);
    tmux.wait_for("history recalled", |s| {
        s.contains("echo remembered-$((40+2))")
    });
    tmux.send(&["Enter"]);
    tmux.wait_for("it runs again", |s| s.matches("remembered-42").count() >= 2);
    tmux.send(&["Tab"]);
    tmux.send(&["q"]);
    assert_eq!(tmux.wait_exit(), "0");
}

/// Point the files tab's left pane at node0 and the right pane at node1,
/// keep only `name` in view on the left, and copy it across (F5).
fn copy_node0_to_node1(tmux: &Tmux, name: &str) {
    tmux.wait_for("the host list", |s| s.contains("node1"));
    tmux.send(&["a"]);
    tmux.send(&["F2"]);
    tmux.wait_for("the files tab", |s| s.contains("2 selected hosts"));
    // Rows of the side picker: local, the selected hosts, node0, node1.
    tmux.send(&["o"]);
    tmux.wait_for("the side picker", |s| s.contains("Show in this pane"));
    tmux.send(&["Down", "Down", "Enter"]);
    tmux.wait_for("node0 on the left", |s| s.contains(name));
    tmux.send(&["Tab", "o"]);
    tmux.wait_for("the side picker", |s| s.contains("Show in this pane"));
    tmux.send(&["Down", "Down", "Down", "Enter"]);
    tmux.send(&["Tab", "/"]);
    tmux.type_text(name);
    tmux.send(&["Enter"]);
    tmux.send(&["F5"]);
}

/// Host to host in the files tab, killed mid-copy: the destination never
/// has a partial file under its real name, and the next copy resumes and
/// ends byte-exact.
#[test]
fn a_host_to_host_copy_killed_midway_leaves_no_partial_file_and_resumes_in_tmux() {
    assert!(
        tmux_available(),
        "tmux is required (scripts/test installs it)"
    );
    let farm = Farm::start(2);
    let cfg = farm_config(&farm);
    let src = farm.hosts[0].files().join("disk.img");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&src).unwrap();
        let mut block = vec![0u8; 1 << 20];
        for i in 0..384u32 {
            for (j, b) in block.iter_mut().enumerate() {
                *b = ((j as u32).wrapping_mul(31) ^ i.wrapping_mul(2_654_435_761)) as u8;
            }
            f.write_all(&block).unwrap();
        }
    }
    let dst = farm.hosts[1].files().join("disk.img");
    let part = farm.hosts[1].files().join(".disk.img.sshdeck-part");
    let bin = env!("CARGO_BIN_EXE_sshdeck");
    let launch = wrapped(&format!(
        "export HOME={r} XDG_CACHE_HOME={r}/cache; {bin} -c {} tui",
        cfg.display(),
        r = farm.root.display()
    ));

    let tmux = Tmux::start("e2e-relay1", &launch, 140, 36);
    copy_node0_to_node1(&tmux, "disk.img");
    // Kill sshdeck outright once the destination's part file is growing.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while std::fs::metadata(&part).map_or(0, |m| m.len()) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the copy never reached node1: {}",
            tmux.screen()
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let pid = tmux.program_pid();
    // Memory stays bounded: the 384 MiB file is streamed through, never
    // held (the peak so far covers the whole fetch and part of the put).
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    eprintln!("sshdeck's peak RSS while relaying 384 MiB: {peak_kib} KiB");
    assert!(
        peak_kib > 0 && peak_kib < 200 * 1024,
        "peak RSS {peak_kib} KiB while relaying 384 MiB"
    );
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success()
    );
    tmux.wait_for("sshdeck is gone", |s| s.contains("EXIT:"));
    let kept = std::fs::metadata(&part).map_or(0, |m| m.len());
    assert!(!dst.exists(), "a partial file under the real name");
    assert!(
        kept > 0 && kept < std::fs::metadata(&src).unwrap().len(),
        "killed after the copy finished ({kept} bytes): make the file larger"
    );

    // Again: the part file is proven a prefix and resumed.
    let tmux = Tmux::start("e2e-relay2", &launch, 140, 36);
    copy_node0_to_node1(&tmux, "disk.img");
    let screen = tmux.wait_for("the copy done", |s| s.contains("done on 1 host"));
    assert!(!screen.contains("started over"), "not resumed: {screen}");
    assert_eq!(
        support::sha256_of(&dst),
        support::sha256_of(&src),
        "node1's copy differs"
    );
    assert!(!part.exists());
    let spool = farm.root.join("cache/sshdeck/relay");
    let left: Vec<_> = std::fs::read_dir(&spool)
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "the spool is removed: {left:?}");
    tmux.send(&["q"]);
    assert_eq!(tmux.wait_exit(), "0");
}
