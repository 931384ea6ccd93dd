//! The whole reader on files: what must be refused, and how.

use std::path::{Path, PathBuf};

use super::{Fallback, load_with};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

fn error_of(dir: &Path, paths: &[PathBuf]) -> String {
    let e = load_with(paths, Fallback::Never).unwrap_err().to_string();
    // Paths are shown as given: strip the temporary directory.
    e.replace(&format!("{}/", dir.display()), "")
}

#[test]
fn vaulted_values_name_their_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let inv = write(
        dir.path(),
        "hosts.yml",
        "web:\n  hosts:\n    w1:\n      ansible_user: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n        3132\n",
    );
    let e = error_of(dir.path(), &[inv]);
    assert!(
        e.starts_with("hosts.yml:4: ansible_user is vault-encrypted"),
        "{e}"
    );

    let dir = tempfile::tempdir().unwrap();
    let inv = write(dir.path(), "hosts", "[web]\nw1\n");
    write(
        dir.path(),
        "group_vars/web.yml",
        "$ANSIBLE_VAULT;1.1;AES256\n6162\n",
    );
    let e = error_of(dir.path(), &[inv]);
    assert!(e.starts_with("group_vars/web.yml:1: "), "{e}");
}

#[test]
fn templates_matter_only_in_values_sshdeck_uses() {
    let dir = tempfile::tempdir().unwrap();
    let inv = write(
        dir.path(),
        "hosts.ini",
        "[web]\nw1 motd='{{ x }}' ansible_user=u\n",
    );
    let got = load_with(&[inv], Fallback::Never).unwrap();
    assert_eq!(got.hosts[0].user.as_deref(), Some("u"));
    // Overridden by the host's own value: never used, so no error.
    let inv = write(
        dir.path(),
        "b.ini",
        "[web]\nw1 ansible_host=10.0.0.1\n[web:vars]\nansible_host={{ h }}\n",
    );
    let got = load_with(&[inv], Fallback::Never).unwrap();
    assert_eq!(got.hosts[0].address.as_deref(), Some("10.0.0.1"));
}

#[test]
fn unsafe_names_and_bad_ports_are_refused_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    for (text, line, says) in [
        ("[web]\nok\nbad$(x)\n", 3, "contains '$'"),
        ("[web]\nw1 ansible_host='a;b'\n", 2, "ansible_host"),
        (
            "[web]\nw1\n[web:vars]\nansible_user=\"x`y`\"\n",
            4,
            "ansible_user",
        ),
        ("[web]\nw1 ansible_port=70000\n", 2, "port"),
        ("[web]\nw1 ansible_port=ssh\n", 2, "port"),
        ("[web]\nw1 ansible_ssh_common_args='-J a;b'\n", 2, "jump"),
        (
            "[web]\nw1 ansible_ssh_common_args='-o ProxyJump'\n",
            2,
            "ProxyJump",
        ),
    ] {
        let inv = write(dir.path(), "h.ini", text);
        let e = error_of(dir.path(), &[inv]);
        assert!(e.starts_with(&format!("h.ini:{line}: ")), "{text:?}: {e}");
        assert!(e.contains(says), "{text:?}: {e}");
    }
}

#[test]
fn a_failing_script_reports_its_status_and_stderr() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let script = write(
        dir.path(),
        "inv.sh",
        "#!/bin/sh\necho 'cannot reach the API' >&2\nexit 7\n",
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let e = error_of(dir.path(), &[script]);
    assert!(
        e.contains("inv.sh --list: exit status 7: cannot reach the API"),
        "{e}"
    );
}

#[test]
fn missing_paths_and_plugins_without_ansible_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let e = error_of(dir.path(), &[dir.path().join("nope")]);
    assert!(e.starts_with("nope: cannot read"), "{e}");
    let inv = write(
        dir.path(),
        "aws_ec2.yml",
        "plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n",
    );
    let e = error_of(dir.path(), &[inv]);
    assert!(
        e.starts_with("aws_ec2.yml:1: an inventory plugin's configuration"),
        "{e}"
    );
    assert!(e.contains("ansible-inventory"), "{e}");
}

#[test]
fn ten_thousand_hosts_in_five_hundred_groups_load_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for g in 0..500 {
        text.push_str(&format!(
            "[g{g}]\nh{g}x[00:19] ansible_port=22{g:03}\n[g{g}:vars]\nansible_user=u{g}\n"
        ));
    }
    text.push_str("[all:children]\n");
    let inv = write(dir.path(), "big.ini", &text);
    let started = std::time::Instant::now();
    let got = load_with(&[inv], Fallback::Never).unwrap();
    assert_eq!(got.hosts.len(), 10_000);
    assert_eq!(got.groups.len(), 501);
    // Generous for a debug build; the release figure is far lower.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn control_characters_in_messages_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let inv = write(dir.path(), "h.ini", "[web]\nw1 \u{1b}[31mred\n");
    let e = error_of(dir.path(), &[inv]);
    assert!(!e.contains('\u{1b}'), "{e:?}");
    assert!(e.starts_with("h.ini:2: "), "{e}");
}

#[test]
fn a_symlink_loop_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "inv/hosts", "[web]\nw1\n");
    std::os::unix::fs::symlink("..", dir.path().join("inv/loop")).unwrap();
    let e = error_of(dir.path(), &[dir.path().join("inv")]);
    assert!(e.contains("symbolic link loop"), "{e}");
}

#[test]
fn group_vars_all_comes_after_the_groups_inventory_vars() {
    // Ansible's default precedence: inventory group vars, then
    // group_vars/all, then the other groups' group_vars files.
    let dir = tempfile::tempdir().unwrap();
    let inv = write(
        dir.path(),
        "hosts",
        "[web]\nw1\n[web:vars]\nansible_user=inv\nansible_port=1\n",
    );
    write(
        dir.path(),
        "group_vars/all.yml",
        "ansible_user: gv_all\nansible_port: 2\n",
    );
    write(dir.path(), "group_vars/web/port.yml", "ansible_port: 3\n");
    let got = load_with(&[inv], Fallback::Never).unwrap();
    assert_eq!(got.hosts[0].user.as_deref(), Some("gv_all"));
    assert_eq!(got.hosts[0].port, Some(3));
}

#[test]
fn hosts_reached_without_ssh_and_unspellable_groups_are_left_out_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let inv = write(
        dir.path(),
        "hosts.yml",
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n    \
         sw1:\n      ansible_connection: ansible.netcommon.network_cli\n    \
         w1:\n      ansible_connection: ssh\n  children:\n    web:\n      hosts:\n        \
         w1:\n        localhost:\n    'a,b':\n      hosts:\n        w1:\n    win:\n      \
         hosts:\n        pc1:\n      vars:\n        ansible_connection: winrm\n",
    );
    let got = load_with(&[inv], Fallback::Never).unwrap();
    let names: Vec<&str> = got.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["sw1", "w1"]);
    // A group keeps the hosts sshdeck can reach; one left empty stays
    // (`@win` is then no hosts, not an unknown group).
    assert_eq!(got.groups["web"].members, ["w1"]);
    assert!(got.groups["win"].members.is_empty());
    assert!(!got.groups.contains_key("a,b"));
    let notes: Vec<String> = got
        .notes
        .iter()
        .map(|n| n.replace(&format!("{}/", dir.path().display()), ""))
        .collect();
    assert_eq!(
        notes,
        [
            "hosts.yml:4: host \"localhost\" is left out: ansible_connection=local does not connect over SSH",
            "hosts.yml:21: host \"pc1\" is left out: ansible_connection=winrm does not connect over SSH",
            "hosts.yml:14: group \"a,b\" is left out: a node set cannot spell \",\" in @name",
        ]
    );
}
