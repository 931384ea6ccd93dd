//! sshdeck's ssh_config resolution against OpenSSH's own: every config in
//! `tests/ssh_config/` is resolved for each host its `# query:` line names,
//! by `ssh -G` and by `sshdeck hosts -G`, and every directive sshdeck
//! resolves must come out the same. A config with `# error:` must be
//! refused by both.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use support::sshdeck_bin;

/// Values per keyword, in order (identityfile and certificatefile repeat).
type Dump = BTreeMap<String, Vec<String>>;

fn parse_dump(text: &str) -> Dump {
    let mut d = Dump::new();
    for line in text.lines() {
        let (k, v) = line.split_once(' ').unwrap_or((line, ""));
        d.entry(k.to_string()).or_default().push(v.to_string());
    }
    d
}

/// ssh's default UserKnownHostsFile is under the password database's home;
/// sshdeck's is under `$HOME` (the files it really checks), which this test
/// sets to `dir`. Only that default is rewritten: a UserKnownHostsFile the
/// config sets must match as ssh prints it.
fn default_known_hosts_under_home(v: String, dir: &Path) -> String {
    // SAFETY: getpwuid's result is copied out at once.
    let pw_home = unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if pw.is_null() || (*pw).pw_dir.is_null() {
            return v;
        }
        std::ffi::CStr::from_ptr((*pw).pw_dir)
            .to_string_lossy()
            .into_owned()
    };
    let default = |h: &str| format!("{h}/.ssh/known_hosts {h}/.ssh/known_hosts2");
    if v == default(&pw_home) {
        default(&dir.display().to_string())
    } else {
        v
    }
}

fn have_ssh() -> bool {
    Command::new("ssh").arg("-V").output().is_ok()
}

/// Files the corpus includes: absolute globs and `~/.ssh`-relative ones.
fn write_includes(dir: &Path) {
    let files = [
        (
            "abs/10-first.conf",
            "Host inc1\n  User abs-first\nHost inc*\n  Port 3001\n",
        ),
        (
            "abs/20-second.conf",
            "Host inc1\n  User abs-second\n  Port 3002\nHost zzz\n",
        ),
        ("abs/.hidden.conf", "Host *\n  User hidden\n"),
        (
            ".ssh/inc/a.conf",
            "Host inc2\n  User rel-a\nHost zzz-no-match\n",
        ),
        (".ssh/inc/b.conf", "Host inc2\n  User rel-b\n  Port 3003\n"),
        (
            ".ssh/never/never.conf",
            "Host *\n  User never-applies\n  Port 1\n",
        ),
    ];
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn user() -> String {
    String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn sshdeck_resolves_ssh_config_as_ssh_g_does() {
    if !have_ssh() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the OpenSSH client (ssh) is needed; scripts/test installs it"
        );
        eprintln!("skipping: no ssh client to compare with");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_includes(dir);
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ssh_config");
    let mut names: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    names.sort();
    assert!(names.len() >= 7, "the corpus is missing");
    let mut compared = 0;
    for src in names {
        let text = std::fs::read_to_string(&src)
            .unwrap()
            .replace("@DIR@", &dir.display().to_string())
            .replace("@USER@", &user());
        let conf = dir.join(src.file_name().unwrap());
        std::fs::write(&conf, &text).unwrap();
        let first = text.lines().next().unwrap_or("");
        let env = |c: &mut Command| {
            c.env("HOME", dir)
                .env("OTHER_HOME", "/other")
                .env_remove("SSH_AUTH_SOCK");
        };
        if let Some(want) = first.strip_prefix("# error: ") {
            let mut ssh = Command::new("ssh");
            env(&mut ssh);
            let ssh = ssh.arg("-F").arg(&conf).args(["-G", "x"]).output().unwrap();
            let mut deck = Command::new(sshdeck_bin());
            env(&mut deck);
            let deck = deck
                .arg("-F")
                .arg(&conf)
                .args(["hosts", "-G", "x"])
                .output()
                .unwrap();
            assert!(!ssh.status.success(), "{}: ssh accepted it", src.display());
            let err = String::from_utf8_lossy(&deck.stderr);
            assert_eq!(deck.status.code(), Some(2), "{}: {err}", src.display());
            assert!(err.contains(want), "{}: {err}", src.display());
            assert!(
                err.contains(&format!("{}:4", conf.display())),
                "file:line: {err}"
            );
            continue;
        }
        let queries = first
            .strip_prefix("# query: ")
            .unwrap_or_else(|| panic!("{}: no `# query:` line", src.display()));
        // `# expect: QUERY KEY VALUE`: what the case is there to show, so
        // a corpus that stopped exercising it fails too.
        let expects: Vec<(String, String, String)> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .map(|l| {
                let mut w = l.splitn(3, ' ');
                let mut next = || w.next().unwrap_or_default().to_string();
                (next(), next(), next())
            })
            .collect();
        for q in queries.split_whitespace() {
            let mut ssh = Command::new("ssh");
            env(&mut ssh);
            let ssh = ssh.arg("-F").arg(&conf).arg("-G").arg(q).output().unwrap();
            assert!(
                ssh.status.success(),
                "{} {q}: ssh -G failed: {}",
                src.display(),
                String::from_utf8_lossy(&ssh.stderr)
            );
            let mut deck = Command::new(sshdeck_bin());
            env(&mut deck);
            let deck = deck
                .arg("-F")
                .arg(&conf)
                .args(["hosts", "-G", q])
                .output()
                .unwrap();
            assert!(
                deck.status.success(),
                "{} {q}: sshdeck failed: {}",
                src.display(),
                String::from_utf8_lossy(&deck.stderr)
            );
            let want = parse_dump(&String::from_utf8_lossy(&ssh.stdout));
            let got = parse_dump(&String::from_utf8_lossy(&deck.stdout));
            for (k, v) in &got {
                if k == "host" {
                    continue;
                }
                let mut expected = want.get(k).cloned().unwrap_or_default();
                if k == "userknownhostsfile" {
                    expected = expected
                        .into_iter()
                        .map(|v| default_known_hosts_under_home(v, dir))
                        .collect();
                }
                assert_eq!(v, &expected, "{} {q}: {k}", src.display());
                compared += 1;
            }
            for (eq, ek, ev) in expects.iter().filter(|e| e.0 == q) {
                let got_v = got.get(ek).map(|v| v.join(" ")).unwrap_or_default();
                assert_eq!(&got_v, ev, "{} {eq}: expected {ek} {ev}", src.display());
            }
            // What ssh prints for the directives sshdeck resolves, sshdeck
            // prints too.
            for k in [
                "proxyjump",
                "proxycommand",
                "hostkeyalias",
                "identityagent",
                "certificatefile",
                "preferredauthentications",
            ] {
                assert_eq!(
                    got.contains_key(k),
                    want.contains_key(k),
                    "{} {q}: {k} present in only one",
                    src.display()
                );
            }
        }
    }
    assert!(compared > 500, "only {compared} values compared");
}
