//! `sshdeck put` / `sshdeck get` against the real sshd farm: fan-out,
//! fan-in into per-host directories, recursive trees with symlinks and
//! permissions, and a failing host.

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use support::farm::{Farm, closed_port};
use support::sshdeck_farm;

fn sshdeck(farm: &Farm, args: &[&str]) -> Output {
    sshdeck_farm(farm).args(args).output().expect("run sshdeck")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Relative remote paths start in each host's own directory (the farm's
/// `internal-sftp -d`), as they would on separate machines.
#[test]
fn put_fans_out_to_ten_hosts() {
    let farm = Farm::start(10);
    let src = farm.root.join("payload.bin");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&src, &data).unwrap();
    let out = sshdeck(
        &farm,
        &[
            "put",
            "-H",
            &farm.host_list(),
            src.to_str().unwrap(),
            "incoming",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for (i, h) in farm.hosts.iter().enumerate() {
        assert!(
            stdout.contains(&format!("{}: 1 files, 2.9 MiB", farm.label(i))),
            "{stdout}"
        );
        assert_eq!(
            std::fs::read(h.files().join("incoming/payload.bin")).unwrap(),
            data,
            "host {i}"
        );
        assert!(
            !h.files()
                .join("incoming/.payload.bin.sshdeck-part")
                .exists()
        );
    }
}

#[test]
fn get_fans_in_from_ten_hosts_into_per_host_dirs() {
    let farm = Farm::start(10);
    for (i, h) in farm.hosts.iter().enumerate() {
        std::fs::write(
            h.files().join("report.txt"),
            format!("status of host {i}\n"),
        )
        .unwrap();
    }
    let dest = farm.root.join("collected");
    let out = sshdeck(
        &farm,
        &[
            "get",
            "-H",
            &farm.host_list(),
            "report.txt",
            dest.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    for i in 0..10 {
        let got = dest.join(farm.label(i)).join("report.txt");
        assert_eq!(
            std::fs::read_to_string(&got).unwrap(),
            format!("status of host {i}\n"),
            "{}",
            got.display()
        );
    }
}

fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("data/deep")).unwrap();
    std::fs::write(root.join("bin/run.sh"), "#!/bin/sh\necho run\n").unwrap();
    std::fs::set_permissions(
        root.join("bin/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::fs::write(root.join("data/deep/x.dat"), vec![7u8; 70_000]).unwrap();
    std::fs::write(root.join("secret.key"), "k").unwrap();
    std::fs::set_permissions(
        root.join("secret.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::os::unix::fs::symlink("bin/run.sh", root.join("start")).unwrap();
    std::fs::set_permissions(root.join("data"), std::fs::Permissions::from_mode(0o750)).unwrap();
}

fn check_tree(root: &Path) {
    let mode = |p: &str| {
        std::fs::metadata(root.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(
        std::fs::read_to_string(root.join("bin/run.sh")).unwrap(),
        "#!/bin/sh\necho run\n"
    );
    assert_eq!(mode("bin/run.sh"), 0o755);
    assert_eq!(mode("secret.key"), 0o600);
    assert_eq!(mode("data"), 0o750);
    assert_eq!(
        std::fs::read(root.join("data/deep/x.dat")).unwrap(),
        vec![7u8; 70_000]
    );
    assert_eq!(
        std::fs::read_link(root.join("start")).unwrap(),
        Path::new("bin/run.sh")
    );
}

#[test]
fn recursive_trees_keep_symlinks_and_permissions_both_ways() {
    let farm = Farm::start(1);
    let tree = farm.root.join("src/proj");
    make_tree(&tree);
    let remote = farm.root.join("remote");
    let out = sshdeck(
        &farm,
        &[
            "put",
            "-r",
            "-H",
            &farm.host_list(),
            tree.to_str().unwrap(),
            remote.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(": 3 files"),
        "{}",
        text(&out.stdout)
    );
    check_tree(&remote.join("proj"));

    let back = farm.root.join("back");
    let out = sshdeck(
        &farm,
        &[
            "get",
            "-r",
            "-H",
            &farm.host_list(),
            remote.join("proj").to_str().unwrap(),
            back.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    check_tree(&back.join(farm.label(0)).join("proj"));

    // Without -r a directory is refused before connecting, with a hint.
    let out = sshdeck(
        &farm,
        &[
            "put",
            "-H",
            &farm.host_list(),
            tree.to_str().unwrap(),
            remote.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("use -r"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_failing_host_is_reported_and_the_others_complete() {
    let farm = Farm::start(2);
    let src = farm.root.join("f.txt");
    std::fs::write(&src, "x").unwrap();
    let dead = format!("{}@127.0.0.1:{}", farm.user, closed_port());
    let hosts = format!("{},{dead}", farm.host_list());
    let out = sshdeck(&farm, &["put", "-H", &hosts, src.to_str().unwrap(), "d"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{dead}: FAILED: connection refused")),
        "{err}"
    );
    assert!(err.contains("1 of 3 hosts failed"), "{err}");
    for h in &farm.hosts {
        assert_eq!(
            std::fs::read_to_string(h.files().join("d/f.txt")).unwrap(),
            "x"
        );
    }
}
