//! Inventory from the command line: ssh_config-driven hosts, groups, jump
//! hosts and `sshdeck hosts`, with the real binary against real sshd.

use crate::support;

use std::path::Path;
use std::process::Output;

use support::farm::Farm;
use support::{sshdeck_cmd, sshdeck_farm};

fn sshdeck(farm: &Farm, args: &[&str]) -> Output {
    sshdeck_cmd(farm).args(args).output().expect("run sshdeck")
}

/// With the farm's known_hosts and key, as a user of that farm runs it.
fn farm_cmd(farm: &Farm, args: &[&str]) -> Output {
    sshdeck_farm(farm).args(args).output().expect("run sshdeck")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// An ssh_config naming farm hosts alpha and beta, as a user would write it.
fn write_ssh_config(farm: &Farm, path: &Path) {
    let mut s = String::from("# fleet\n");
    for (i, name) in ["alpha", "beta"].iter().enumerate() {
        s.push_str(&format!(
            "Host {name}\n  HostName 127.0.0.1\n  Port {}\n  User {}\n",
            farm.hosts[i].port, farm.user
        ));
    }
    s.push_str(&format!(
        "Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  StrictHostKeyChecking yes\n",
        farm.client_key.display(),
        farm.known_hosts.display()
    ));
    std::fs::write(path, s).unwrap();
}

#[test]
fn ssh_config_hosts_run_by_name() {
    let farm = Farm::start(2);
    let cfg = farm.root.join("ssh_config");
    write_ssh_config(&farm, &cfg);
    let out = sshdeck(
        &farm,
        &[
            "-F",
            cfg.to_str().unwrap(),
            "run",
            "-H",
            "alpha,beta",
            "--",
            "echo hi",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("alpha: hi\n") && s.contains("beta: hi\n"), "{s}");
}

/// `@web` names the same hosts on the command line as in the TUI's folder
/// and `g @web`: the group's, plus the hosts tagged like it.
#[test]
fn a_tag_named_like_a_group_adds_its_hosts_to_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        "[groups]\nweb = \"web[01-02]\"\n\n[[hosts]]\nname = \"web01\"\n\n[[hosts]]\nname = \"web02\"\n\n[[hosts]]\nname = \"x1\"\ntags = [\"web\"]\n\n[[hosts]]\nname = \"db1\"\ntags = [\"db\"]\n",
    )
    .unwrap();
    let out = std::process::Command::new(support::sshdeck_bin())
        .args(["-F", "none", "-c"])
        .arg(&cfg)
        .args(["hosts", "-H", "@web"])
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let names: Vec<String> = text(&out.stdout)
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    assert_eq!(names, ["web01", "web02", "x1"], "{}", text(&out.stdout));

    // `hosts --json` says which @names select each host.
    let out = std::process::Command::new(support::sshdeck_bin())
        .args(["-F", "none", "-c"])
        .arg(&cfg)
        .args(["hosts", "--json", "-H", "web01,x1,db1"])
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let groups = |i: usize| v[i]["groups"].clone();
    assert_eq!(groups(0), serde_json::json!(["web"]), "{v}");
    assert_eq!(groups(1), serde_json::json!(["web"]), "{v}");
    assert_eq!(groups(2), serde_json::json!(["db"]), "{v}");
}

#[test]
fn groups_and_tags_select_hosts() {
    let farm = Farm::start(3);
    let ssh_cfg = farm.root.join("ssh_config");
    write_ssh_config(&farm, &ssh_cfg);
    let cfg = farm.root.join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[defaults]\nssh_config = \"{}\"\n\n[groups]\npair = \"alpha,beta\"\n\n[[hosts]]\nname = \"gamma\"\naddress = \"127.0.0.1\"\nport = {}\ntags = [\"odd\"]\n",
            ssh_cfg.display(),
            farm.hosts[2].port
        ),
    )
    .unwrap();
    let out = sshdeck(
        &farm,
        &[
            "-c",
            cfg.to_str().unwrap(),
            // The support's `-F none` keeps the machine's ssh_config out;
            // here config.toml's must count, so it is named again.
            "-F",
            ssh_cfg.to_str().unwrap(),
            "run",
            "-H",
            "@pair!beta,@odd",
            "--",
            "echo sel",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.contains("alpha: sel") && s.contains("gamma: sel") && !s.contains("beta"),
        "{s}"
    );
}

#[test]
fn jump_flag_tunnels_through_a_host() {
    let farm = Farm::start(2);
    let before = farm.connections(0);
    let hop = farm.label(0);
    let out = sshdeck_farm(&farm)
        .args([
            "-J",
            &hop,
            "run",
            "-H",
            &farm.label(1),
            "--",
            "echo through",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).ends_with(": through\n"));
    assert_eq!(
        farm.connections(0) - before,
        1,
        "the jump host carried the connection"
    );
}

#[test]
fn hosts_lists_the_resolved_inventory() {
    let farm = Farm::start(0);
    let ssh_cfg = farm.root.join("ssh_config");
    std::fs::write(
        &ssh_cfg,
        "Host bastion\n  HostName 10.1.1.1\n  User jump\nHost web*\n  ProxyJump bastion\n",
    )
    .unwrap();
    let cfg = farm.root.join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[defaults]\nssh_config = \"{}\"\nuser = \"ops\"\n\n[[hosts]]\nname = \"web1\"\naddress = \"10.0.0.1\"\ntags = [\"prod\", \"web\"]\n",
            ssh_cfg.display()
        ),
    )
    .unwrap();
    let out = sshdeck(
        &farm,
        &[
            "-c",
            cfg.to_str().unwrap(),
            "-F",
            ssh_cfg.to_str().unwrap(),
            "hosts",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON array");
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 2);
    assert_eq!(arr[0]["name"], "web1");
    assert_eq!(arr[0]["address"], "10.0.0.1");
    assert_eq!(arr[0]["user"], "ops");
    assert_eq!(arr[0]["jump"], serde_json::json!(["bastion"]));
    assert_eq!(arr[0]["tags"], serde_json::json!(["prod", "web"]));
    assert_eq!(arr[0]["source"], "config");
    assert_eq!(arr[1]["name"], "bastion");
    assert_eq!(arr[1]["address"], "10.1.1.1");
    assert_eq!(arr[1]["user"], "jump");
    assert_eq!(arr[1]["source"], "ssh_config");

    let out = sshdeck(&farm, &["-c", cfg.to_str().unwrap(), "hosts", "web[1-2]"]);
    let table = text(&out.stdout);
    assert!(table.starts_with("NAME"), "{table}");
    assert!(table.contains("ops@web2:22"), "ad-hoc name listed: {table}");

    let out = sshdeck(&farm, &["-c", cfg.to_str().unwrap(), "hosts", "web[1-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("column 4"),
        "{}",
        text(&out.stderr)
    );
}

/// A pssh host file, as pssh users keep them: comments, blank lines,
/// indentation, `user@host:port` and pssh's older `host:port user`; each
/// line one host, run against real sshd. A bad line names file:line.
#[test]
fn a_pssh_hosts_file_selects_its_hosts() {
    let farm = Farm::start(3);
    let list = farm.root.join("hosts.txt");
    let h = &farm.hosts;
    std::fs::write(
        &list,
        format!(
            "# rack 1\n  {user}@127.0.0.1:{p0}  \n\n127.0.0.1:{p1} {user}\n#{user}@127.0.0.1:{p2}\n",
            user = farm.user,
            p0 = h[0].port,
            p1 = h[1].port,
            p2 = h[2].port
        ),
    )
    .unwrap();
    let out = farm_cmd(
        &farm,
        &[
            "run",
            "--hosts-file",
            list.to_str().unwrap(),
            "--",
            "echo from-file",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert_eq!(s.matches("from-file").count(), 2, "{s}");
    assert!(
        !s.contains(&format!(":{}:", h[2].port)),
        "a comment ran: {s}"
    );

    let bad = farm.root.join("bad.txt");
    std::fs::write(&bad, "web1\nweb2 ops extra\n").unwrap();
    let out = sshdeck(&farm, &["hosts", "--hosts-file", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(&format!("{}:2:", bad.display())),
        "{}",
        text(&out.stderr)
    );
}
