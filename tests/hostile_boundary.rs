//! What a host sends is checked once, at one boundary: names, links and
//! sizes. Each attack of issue 23 is served by the hostile host (or by
//! real sshd where files are enough) and met through the real binary.

use crate::support;

use std::path::Path;
use std::process::Command;

use support::hostile::{Behaviour, Tree};
use support::hostile_cli::{LIMIT, Setup, hostile, text, walk};
use support::pty::output_within;

impl Setup {
    /// `sshdeck put [-r] ARGS… REMOTE_DIR` to the hostile host.
    fn put(&self, args: &[&str], remote_dir: &str) -> std::process::Output {
        let mut c = self.batch();
        c.args(["put", "-H", &self.label()])
            .args(args)
            .arg(remote_dir);
        output_within(c, LIMIT)
    }
}

#[test]
fn a_chain_of_links_that_resolves_outside_is_left_out_of_a_get() {
    let mut tree = Tree::default();
    // Each link stays inside when read as text; resolved, `esc` is the
    // tree's parent, and `via` leads to `/` through `abs`.
    tree.dir("t", 0o755)
        .dir("t/d1", 0o755)
        .dir("t/d1/d2", 0o755)
        .file("t/d1/f.txt", b"fine", 0o644)
        .link("t/d1/d2/up", "../..")
        .link("t/esc", "d1/d2/up/../..")
        .link("t/abs", "/")
        .link("t/via", "abs/etc");
    let s = hostile(tree, Behaviour::default());
    let dest = s.root().join("dest");
    let out = s.get(&["-r", "t"], &dest);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let mine = s.host_dir(&dest).join("t");
    assert_eq!(
        std::fs::read_link(mine.join("d1/d2/up")).unwrap(),
        Path::new("../..")
    );
    for gone in ["esc", "abs", "via"] {
        assert!(
            mine.join(gone).symlink_metadata().is_err(),
            "{gone} was created: it resolves outside the tree"
        );
        assert!(err.contains(&format!("t/{gone}: symlink to")), "{err}");
    }
    assert!(err.contains("resolves outside the copied tree"), "{err}");
}

#[test]
fn put_r_leaves_out_links_that_resolve_outside_unless_asked() {
    let s = hostile(Tree::default(), Behaviour::default());
    let src = s.root().join("src");
    std::fs::create_dir_all(src.join("d1/d2")).unwrap();
    std::fs::write(src.join("ok.txt"), b"ok").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", src.join("badlink")).unwrap();
    std::os::unix::fs::symlink("../../outside", src.join("climb")).unwrap();
    std::os::unix::fs::symlink("../..", src.join("d1/d2/up")).unwrap();
    std::os::unix::fs::symlink("d1/d2/up/..", src.join("esc")).unwrap();
    std::os::unix::fs::symlink("ok.txt", src.join("rel")).unwrap();
    let out = s.put(&["-r", src.to_str().unwrap()], "up");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    s.host.with(|t, _| {
        assert_eq!(t.data("up/src/ok.txt").as_deref(), Some(&b"ok"[..]));
        assert!(t.entry("up/src/rel").is_some(), "a safe link is made");
        assert!(t.entry("up/src/d1/d2/up").is_some(), "a safe link is made");
        for gone in ["badlink", "climb", "esc"] {
            assert!(
                t.entry(&format!("up/src/{gone}")).is_none(),
                "{gone} was made"
            );
        }
    });
    for gone in ["badlink", "climb", "esc"] {
        assert!(err.contains(&format!("src/{gone}: symlink to")), "{err}");
    }
    // Asked for, such links are made, as links.
    let out = s.put(&["-r", "--unsafe-links", src.to_str().unwrap()], "up");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    s.host.with(|t, _| {
        for made in ["badlink", "climb", "esc"] {
            assert!(t.entry(&format!("up/src/{made}")).is_some(), "{made}");
        }
    });
}

#[test]
fn put_r_never_writes_through_a_link_standing_on_the_host() {
    let mut tree = Tree::default();
    // An earlier copy (or anyone on the host) left `up/src/sub` as a link
    // to the host's home; the new copy has `sub/` as a directory.
    tree.dir("up", 0o755)
        .dir("up/src", 0o755)
        .link("up/src/sub", "..");
    let s = hostile(tree, Behaviour::default());
    let src = s.root().join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("sub/PWNED.txt"), b"x").unwrap();
    std::fs::write(src.join("top.txt"), b"t").unwrap();
    let out = s.put(&["-r", src.to_str().unwrap()], "up");
    let err = text(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    s.host.with(|t, _| {
        assert!(
            t.entry("up/PWNED.txt").is_none(),
            "written through the link"
        );
        assert!(t.entry("PWNED.txt").is_none());
        assert_eq!(t.data("up/src/top.txt").as_deref(), Some(&b"t"[..]));
    });
}

#[test]
fn an_endless_listing_stops_with_a_message_naming_the_host() {
    let mut tree = Tree::default();
    tree.dir("d", 0o755).dir("d/flood", 0o755);
    let s = hostile(
        tree,
        Behaviour {
            endless_listing: Some("d/flood".into()),
            ..Behaviour::default()
        },
    );
    let dest = s.root().join("dest");
    let out = s.get(&["-r", "d"], &dest);
    let err = text(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("more than 250,000 names"), "{err}");
    assert!(err.contains("127.0.0.1"), "the host is named: {err}");
}

#[test]
fn a_tree_deeper_than_the_bound_stops_with_a_message() {
    let mut tree = Tree::default();
    let mut path = "d".to_string();
    tree.dir(&path, 0o755);
    for _ in 0..300 {
        path.push_str("/a");
        tree.dir(&path, 0o755);
    }
    let s = hostile(tree, Behaviour::default());
    let dest = s.root().join("dest");
    let out = s.get(&["-r", "d"], &dest);
    let err = text(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("directories deep"), "{err}");
}

#[test]
fn many_directories_need_few_descriptors() {
    // 600 directories under a limit of 64 open files: a copy that kept
    // one descriptor per directory made fails with "Too many open files".
    let mut tree = Tree::default();
    tree.dir("d", 0o755);
    for i in 0..600 {
        tree.dir(&format!("d/s{i:03}"), 0o755)
            .file(&format!("d/s{i:03}/f"), b"x", 0o644);
    }
    let s = hostile(tree, Behaviour::default());
    let dest = s.root().join("dest");
    let inner = s.batch();
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("ulimit -n 64 && exec \"$@\"")
        .arg("sh")
        .arg(inner.get_program());
    c.args(inner.get_args());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.args(["get", "-r", "-H", &s.label(), "d"]).arg(&dest);
    let out = output_within(c, LIMIT);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let got = walk(&s.host_dir(&dest));
    assert_eq!(got.len(), 600, "every file arrived");
}
