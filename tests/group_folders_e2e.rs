//! The real binary in tmux: config.toml's `[groups]` show as folders of
//! the host list, a folder selects its hosts and folds. No host is
//! contacted (the TUI connects on first use), so no sshd is needed.

use crate::support;

use support::tmux::{Tmux, tmux_available, wrapped};

#[test]
fn config_groups_are_folders_of_the_host_list_in_tmux() {
    assert!(
        tmux_available(),
        "tmux is required (scripts/test installs it)"
    );
    let dir = tempfile::tempdir().expect("scratch directory");
    let cfg = dir.path().join("config.toml");
    let known = dir.path().join("known_hosts");
    std::fs::write(
        &cfg,
        format!(
            "[defaults]\nssh_config = \"none\"\nuse_agent = false\nknown_hosts = [\"{}\"]\n\
             [groups]\nweb = \"web[1-2]\"\nedge = \"web2,db1\"\nall = \"@web,@edge,lone\"\n\
             [[hosts]]\nname = \"web1\"\naddress = \"127.0.0.1\"\n\
             [[hosts]]\nname = \"web2\"\naddress = \"127.0.0.1\"\n\
             [[hosts]]\nname = \"db1\"\naddress = \"127.0.0.1\"\ntags = [\"db\"]\n\
             [[hosts]]\nname = \"lone\"\naddress = \"127.0.0.1\"\n",
            known.display()
        ),
    )
    .expect("write config");

    let bin = env!("CARGO_BIN_EXE_sshdeck");
    let launch = wrapped(&format!("{bin} -c {} tui", cfg.display()));
    let tmux = Tmux::start("e2e-groups", &launch, 100, 24);
    // edge and web are folders (web2 in both); db1 is in a group, so no
    // `db` tag folder; `all` is no folder; lone is in no other group.
    let screen = tmux.wait_for("the group folders", |s| {
        s.contains("▾ edge (2)") && s.contains("▾ web (2)") && s.contains("(ungrouped) (1)")
    });
    assert!(!screen.contains("db (1)"), "{screen}");
    assert!(!screen.contains("all ("), "{screen}");
    assert_eq!(screen.matches("web2").count(), 2, "{screen}");

    // The cursor starts on the first folder, edge: Space selects its two
    // hosts, Enter folds it.
    tmux.send(&["Space"]);
    tmux.wait_for("the folder's hosts selected", |s| s.contains("Hosts 2/4"));
    tmux.send(&["Enter"]);
    tmux.wait_for("the folder folded", |s| s.contains("▸ edge (2)"));

    tmux.send(&["q"]);
    assert_eq!(tmux.wait_exit(), "0");
}

/// An Ansible inventory's groups are folders too, and the host info says
/// which file and line named the host.
#[test]
fn ansible_groups_are_folders_and_host_info_names_the_file_in_tmux() {
    assert!(
        tmux_available(),
        "tmux is required (scripts/test installs it)"
    );
    let dir = tempfile::tempdir().expect("scratch directory");
    let cfg = dir.path().join("config.toml");
    let inv = dir.path().join("hosts.ini");
    std::fs::write(
        &cfg,
        format!(
            "[defaults]\nssh_config = \"none\"\nuse_agent = false\nknown_hosts = [\"{}\"]\n",
            dir.path().join("known_hosts").display()
        ),
    )
    .expect("write config");
    std::fs::write(
        &inv,
        "[web]\nw1 ansible_host=127.0.0.1\nw2 ansible_host=127.0.0.1\n\n[db]\nd1 ansible_host=127.0.0.1 ansible_port=2222\n",
    )
    .expect("write inventory");
    let bin = env!("CARGO_BIN_EXE_sshdeck");
    let launch = wrapped(&format!(
        "CLUSTERSHELL_CFGDIR={} {bin} -c {} tui --inventory {}",
        dir.path().join("no-clustershell").display(),
        cfg.display(),
        inv.display()
    ));
    let tmux = Tmux::start("e2e-ansible-groups", &launch, 110, 24);
    tmux.wait_for("the inventory's groups as folders", |s| {
        s.contains("▾ db (1)") && s.contains("▾ web (2)")
    });
    // The cursor starts on the first folder, db; its host is next.
    tmux.send(&["Down", "i"]);
    let want = format!("defined in  {}:6 (ansible)", inv.display());
    tmux.wait_for("the host info with the inventory's file and line", |s| {
        s.contains(&want)
    });
    // Esc and q apart: together a terminal reads them as Alt-q.
    tmux.send(&["Escape"]);
    tmux.wait_for("the host info closed", |s| !s.contains("defined in"));
    tmux.send(&["q"]);
    assert_eq!(tmux.wait_exit(), "0");
}
