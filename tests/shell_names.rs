//! Host and user names a shell would act on are refused before ssh_config
//! puts them into a ProxyCommand or a `Match exec` (issue 23, item 6).
//! Each case runs the real binary in a temporary HOME, from that
//! directory, so a name like `a$(>pwned)` that reached a shell would leave
//! the file `pwned` there.

use crate::support;

use std::path::Path;
use std::process::{Command, Output};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// sshdeck with `dir` as HOME and working directory, the given ssh_config,
/// and nothing of the developer's.
fn sshdeck(dir: &Path, ssh_config: &Path, args: &[&str]) -> Output {
    Command::new(support::sshdeck_bin())
        .current_dir(dir)
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("xdg"))
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("SHELL", "/bin/sh")
        .env_remove("SSH_AUTH_SOCK")
        .arg("--batch")
        .arg("-F")
        .arg(ssh_config)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run sshdeck: {e}"))
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
}

fn write(path: &Path, body: &str) {
    std::fs::write(path, body).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Files in `dir` other than the ones the test wrote.
fn strays(dir: &Path, ours: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !ours.contains(&n.as_str()))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

const PROXY: &str = "Host *\n  ProxyCommand echo %h %r >/dev/null; exec false\n";
const MATCH_EXEC: &str = "Match exec \"test %h = never\"\n  Port 2222\n";

/// A refused run: exit status 2, the message on stderr, no file made.
fn assert_refused(dir: &Path, out: &Output, want: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(want), "want {want:?} in: {err}");
    assert!(err.contains("refused"), "{err}");
    assert_eq!(
        strays(dir, &["ssh_config", "xdg", "state"]),
        Vec::<String>::new()
    );
}

#[test]
fn a_host_name_with_shell_words_never_reaches_proxy_command() {
    let dir = temp();
    let cfg = dir.path().join("ssh_config");
    write(&cfg, PROXY);
    let out = sshdeck(dir.path(), &cfg, &["run", "-H", "a$(>pwned)", "--", "true"]);
    assert_refused(
        dir.path(),
        &out,
        "-H: host name \"a$(>pwned)\" contains '$'",
    );
}

#[test]
fn a_user_part_or_login_flag_with_shell_words_is_refused() {
    let dir = temp();
    let cfg = dir.path().join("ssh_config");
    write(&cfg, PROXY);
    let out = sshdeck(
        dir.path(),
        &cfg,
        &["run", "-H", "u$(>x)@host", "--", "true"],
    );
    assert_refused(dir.path(), &out, "-H: user name \"u$(>x)\" contains '('");
    let out = sshdeck(
        dir.path(),
        &cfg,
        &["-l", "u;>y", "run", "-H", "host", "--", "true"],
    );
    assert_refused(dir.path(), &out, "-l: user name \"u;>y\" contains ';'");
}

#[test]
fn match_exec_never_sees_a_refused_name() {
    let dir = temp();
    let cfg = dir.path().join("ssh_config");
    write(&cfg, MATCH_EXEC);
    let out = sshdeck(dir.path(), &cfg, &["hosts", "-H", "a$(>pwned)"]);
    assert_refused(dir.path(), &out, "-H: host name");
    let out = sshdeck(dir.path(), &cfg, &["hosts", "-G", "-H", "b`>pwned`"]);
    assert_refused(dir.path(), &out, "-H: host name \"b`>pwned`\"");
    // A control character is shown escaped, never sent to the terminal.
    let out = sshdeck(dir.path(), &cfg, &["hosts", "-H", "c\u{1b}7x\u{7}"]);
    assert_refused(dir.path(), &out, "host name \"c\\e7x\\x07\"");
    assert!(!text(&out.stderr).contains('\u{1b}'));
}

#[test]
fn names_from_files_are_refused_with_their_file_and_line() {
    let dir = temp();
    let cfg = dir.path().join("ssh_config");
    write(
        &cfg,
        &format!("# fleet\nHost ok1 bad$(>pwned)\n{MATCH_EXEC}"),
    );
    let out = sshdeck(dir.path(), &cfg, &["hosts"]);
    assert_refused(
        dir.path(),
        &out,
        &format!("{}:2: host name \"bad$(>pwned)\"", cfg.display()),
    );

    let none = dir.path().join("ssh_config");
    write(&none, MATCH_EXEC);
    let toml = dir.path().join("xdg/sshdeck/config.toml");
    std::fs::create_dir_all(toml.parent().unwrap_or(dir.path())).unwrap_or_else(|e| panic!("{e}"));
    write(
        &toml,
        "[[hosts]]\nname = \"web1\"\n\n[[hosts]]\nname = \"x;>pwned\"\n",
    );
    let out = sshdeck(dir.path(), &none, &["hosts"]);
    assert_refused(dir.path(), &out, "config.toml:5:");
    assert!(text(&out.stderr).contains("host name \"x;>pwned\" contains ';'"));
}

#[test]
fn names_ssh_accepts_keep_working() {
    let dir = temp();
    let cfg = dir.path().join("ssh_config");
    write(&cfg, MATCH_EXEC);
    let out = sshdeck(
        dir.path(),
        &cfg,
        &[
            "hosts",
            "-H",
            "web-01.example.com,10.0.0.1,[::1]:2200,host_1,me@db",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.as_array().map(Vec::len), Some(5), "{rows}");
}
