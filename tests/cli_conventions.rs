//! The conventions users of other fleet tools expect, through the real
//! binary: completions (host names from the inventory), a man page, one
//! way to name hosts in every subcommand, `--json` for copies, exit codes
//! in `--help`, `-S` as clush's, Ctrl-C ending with 130.

use crate::support;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::farm::Farm;
use support::pty::output_within;
use support::{sshdeck_bin, sshdeck_farm};

const LIMIT: Duration = Duration::from_secs(60);

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn plain(args: &[&str]) -> Output {
    Command::new(sshdeck_bin()).args(args).output().unwrap()
}

#[test]
fn completion_scripts_man_page_and_exit_codes_in_help() {
    for shell in ["bash", "zsh", "fish"] {
        let out = plain(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("SSHDECK_COMPLETE"), "{shell}");
    }
    let bash = plain(&["completions", "bash"]).stdout;
    let check = Command::new("bash")
        .args(["-n", "-c", &text(&bash)])
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", text(&check.stderr));
    let man = text(&plain(&["man"]).stdout);
    assert!(
        man.contains(".TH sshdeck 1") && man.contains("EXIT STATUS"),
        "{man}"
    );
    for cmd in [&["--help"][..], &["run", "--help"], &["put", "--help"]] {
        let help = text(&plain(cmd).stdout);
        assert!(
            help.contains("130") && help.contains("-S"),
            "{cmd:?}: {help}"
        );
    }
    assert_eq!(plain(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn host_names_and_groups_complete_from_the_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let xdg = dir.path().join("xdg/sshdeck");
    std::fs::create_dir_all(&xdg).unwrap();
    std::fs::write(
        xdg.join("config.toml"),
        "[groups]\nweb = \"web[1-2]\"\n[[hosts]]\nname = \"web1\"\n[[hosts]]\nname = \"web2\"\n[[hosts]]\nname = \"db1\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join(".ssh")).unwrap();
    std::fs::write(
        dir.path().join(".ssh/config"),
        "Host bastion\n  HostName 10.0.0.1\n",
    )
    .unwrap();
    let complete = |words: &[&str]| {
        let out = Command::new(sshdeck_bin())
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
            .env("SSHDECK_COMPLETE", "bash")
            .env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string())
            .env("_CLAP_IFS", "\n")
            .arg("--")
            .args(words)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let mut v: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
        v.sort();
        v
    };
    assert_eq!(complete(&["sshdeck", "run", "-H", "w"]), ["web1", "web2"]);
    assert_eq!(
        complete(&["sshdeck", "facts", "-H", "db1,b"]),
        ["db1,bastion"]
    );
    assert!(complete(&["sshdeck", "put", "-H", "@"]).contains(&"@web".to_string()));
}

#[test]
fn every_subcommand_takes_hosts_with_dash_h() {
    let farm = Farm::start(2);
    let hosts = farm.host_list();
    for args in [
        vec!["facts", "-H", &hosts, "--only", "os"],
        vec!["facts", "--only", "os", &hosts],
        vec!["hosts", "-H", &hosts],
        vec!["run", "-H", &hosts, "--", "true"],
    ] {
        let out = output_within(
            {
                let mut c = sshdeck_farm(&farm);
                c.args(&args);
                c
            },
            LIMIT,
        );
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    }
    // recipe: a config with one, the hosts by -H.
    let cfg = farm.root.join("recipes.toml");
    std::fs::write(
        &cfg,
        "[[recipes]]\nname = \"hello\"\n[[recipes.steps]]\nrun = \"echo hello\"\n",
    )
    .unwrap();
    let mut c = sshdeck_farm(&farm);
    c.arg("-c")
        .arg(&cfg)
        .args(["recipe", "hello", "-H", &hosts]);
    let out = output_within(c, LIMIT);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn put_and_get_speak_json_too() {
    let farm = Farm::start(2);
    let src = farm.root.join("payload.txt");
    std::fs::write(&src, "payload\n").unwrap();
    let mut c = sshdeck_farm(&farm);
    c.args(["put", "--json", "-H", &farm.host_list()])
        .arg(&src)
        .arg(".");
    let out = output_within(c, LIMIT);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    for l in &lines[..2] {
        assert_eq!(
            (l["ok"].as_bool(), l["files"].as_u64(), l["bytes"].as_u64()),
            (Some(true), Some(1), Some(8))
        );
    }
    assert_eq!(
        (lines[2]["event"].as_str(), lines[2]["failed"].as_u64()),
        (Some("summary"), Some(0))
    );
    let dest = farm.root.join("back");
    let mut c = sshdeck_farm(&farm);
    c.args(["get", "--json", "-H", &farm.host_list(), "missing.txt"])
        .arg(&dest);
    let out = output_within(c, LIMIT);
    assert_eq!(out.status.code(), Some(1));
    let first: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(first["ok"], false);
    assert!(
        first["error"].as_str().unwrap().contains("no such file"),
        "{first}"
    );
}

#[test]
fn dash_s_returns_the_largest_exit_status_and_ctrl_c_exits_130() {
    let farm = Farm::start(3);
    let cmd = format!(
        "case ${{SSH_CONNECTION##* }} in {}) exit 3;; {}) exit 7;; *) exit 0;; esac",
        farm.hosts[1].port, farm.hosts[2].port
    );
    let run = |extra: &[&str]| {
        let mut c = sshdeck_farm(&farm);
        c.args(["run", "-H", &farm.host_list()])
            .args(extra)
            .args(["--", &cmd]);
        output_within(c, LIMIT)
    };
    assert_eq!(run(&[]).status.code(), Some(1));
    assert_eq!(run(&["-S"]).status.code(), Some(7));
    // A host that cannot run it counts as 255, as with ssh.
    let mut c = sshdeck_farm(&farm);
    c.args(["run", "-S", "-H"])
        .arg(format!(
            "{},{}@127.0.0.1:{}",
            farm.host_list(),
            farm.user,
            support::farm::closed_port()
        ))
        .args(["--", "true"]);
    assert_eq!(output_within(c, LIMIT).status.code(), Some(255));

    let mut c = sshdeck_farm(&farm);
    c.args([
        "run",
        "-H",
        &farm.host_list(),
        "--",
        "echo started; sleep 30",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: a plain kill(2) on our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let t0 = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(t0.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
}

/// Bash splits words at `@` (COMP_WORDBREAKS), so `-H @w<Tab>` used to
/// reach sshdeck as `@` and `w` and complete nothing. The real script,
/// sourced in bash, with sshdeck on PATH as the README says to install it.
#[test]
fn bash_completes_groups_after_an_at_sign() {
    let dir = tempfile::tempdir().unwrap();
    let xdg = dir.path().join("xdg/sshdeck");
    std::fs::create_dir_all(&xdg).unwrap();
    std::fs::write(
        xdg.join("config.toml"),
        "[groups]\nweb = \"web[1-2]\"\n[[hosts]]\nname = \"web1\"\n[[hosts]]\nname = \"web2\"\n[[hosts]]\nname = \"db1\"\n",
    )
    .unwrap();
    let script = text(&plain(&["completions", "bash"]).stdout);
    let bin_dir = sshdeck_bin()
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Bash calls the function with the command, its own current word and
    // the word before; `@` is a word of its own there.
    let complete = |line: &str, word: &str, before: &str| {
        let probe = format!(
            "{script}\nCOMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; COMP_TYPE=9\n\
             _sshdeck_complete sshdeck '{word}' '{before}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        let out = Command::new("bash")
            .args(["--norc", "-c", &probe])
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let mut v: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
        v.sort();
        v
    };
    assert_eq!(complete("sshdeck run -H @w", "w", "@"), ["web"]);
    assert_eq!(complete("sshdeck run -H db1,@w", "w", "@"), ["web"]);
    assert_eq!(complete("sshdeck run -H we", "we", "-H"), ["web1", "web2"]);
}
