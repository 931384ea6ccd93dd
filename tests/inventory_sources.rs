//! Other tools' inventories, used as they are, with the real binary against
//! real sshd: an Ansible inventory's hosts connect with the address, port,
//! user and key it gives, and its groups select; a ClusterShell group
//! source's groups select, as `nodeset` expands them; where a host comes
//! from is shown; a clash of group names is said with both sources; a
//! broken source stops sshdeck before any host is contacted.

use crate::support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::farm::Farm;
use support::sshdeck_cmd;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// sshdeck trusting the farm's keys, with no key of its own: the
/// inventory must give it.
fn cmd(farm: &Farm) -> Command {
    let mut c = sshdeck_cmd(farm);
    c.arg("--known-hosts").arg(&farm.known_hosts);
    // No ClusterShell configuration but the test's own (or none).
    c.env("CLUSTERSHELL_CFGDIR", farm.root.join("no-clustershell"));
    c
}

/// An INI inventory naming the farm's three hosts, as an Ansible user
/// keeps it: two groups, a parent group, vars at every level.
fn write_ini(farm: &Farm, path: &Path) {
    let p = |i: usize| farm.hosts[i].port;
    let inv = format!(
        "# the farm\n\
         [web]\n\
         w1 ansible_host=127.0.0.1 ansible_port={}\n\
         w2 ansible_host=127.0.0.1 ansible_port={}\n\
         \n\
         [db]\n\
         d1 ansible_host=127.0.0.1 ansible_port={} ansible_user={}\n\
         \n\
         [prod:children]\n\
         web\n\
         db\n\
         \n\
         [db:vars]\n\
         ansible_user=not-this-one\n\
         \n\
         [all:vars]\n\
         ansible_user={}\n\
         ansible_ssh_private_key_file={}\n",
        p(0),
        p(1),
        p(2),
        farm.user,
        farm.user,
        farm.client_key.display()
    );
    std::fs::write(path, inv).expect("write inventory");
}

fn hosts_json(out: &Output) -> Vec<Value> {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice::<Value>(&out.stdout)
        .expect("hosts --json is JSON")
        .as_array()
        .expect("an array")
        .clone()
}

#[test]
fn an_ansible_inventory_connects_with_its_own_settings_and_groups_select() {
    let farm = Farm::start(3);
    let inv = farm.root.join("hosts.ini");
    write_ini(&farm, &inv);
    let out = cmd(&farm)
        .arg("--inventory")
        .arg(&inv)
        .args(["run", "-H", "@prod", "--", "echo ok"])
        .output()
        .expect("run sshdeck");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    for h in ["w1", "w2", "d1"] {
        assert!(s.contains(&format!("{h}: ok\n")), "{h} did not run: {s}");
    }

    let rows = hosts_json(
        &cmd(&farm)
            .arg("--inventory")
            .arg(&inv)
            .args(["hosts", "--json", "-H", "@all"])
            .output()
            .expect("run sshdeck"),
    );
    assert_eq!(rows.len(), 3, "{rows:?}");
    let inv_at = |line: usize| format!("{}:{line}", inv.display());
    for (row, (name, port, line)) in rows.iter().zip([
        ("w1", farm.hosts[0].port, 3),
        ("w2", farm.hosts[1].port, 4),
        ("d1", farm.hosts[2].port, 7),
    ]) {
        assert_eq!(row["name"], name, "{row}");
        assert_eq!(row["address"], "127.0.0.1", "{row}");
        assert_eq!(row["port"], port, "{row}");
        // The host's own ansible_user beats its group's, which beats all's.
        assert_eq!(row["user"], farm.user.as_str(), "{row}");
        assert_eq!(row["source"], "ansible", "{row}");
        assert_eq!(row["origin"], inv_at(line).as_str(), "{row}");
        let groups: Vec<&str> = row["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(groups.contains(&"prod") && groups.contains(&"all"), "{row}");
    }
}

#[test]
fn config_toml_wins_over_the_inventory_and_both_are_shown() {
    let farm = Farm::start(3);
    let inv = farm.root.join("hosts.ini");
    write_ini(&farm, &inv);
    let cfg = farm.root.join("config.toml");
    std::fs::write(
        &cfg,
        "[groups]\nweb = \"w1\"\n\n[[hosts]]\nname = \"w2\"\nport = 2\n",
    )
    .expect("write config");
    let out = cmd(&farm)
        .arg("-c")
        .arg(&cfg)
        .arg("--inventory")
        .arg(&inv)
        .args(["hosts", "-H", "w2,@web"])
        .output()
        .expect("run sshdeck");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.contains(&format!(
            "w2: settings from {}:5; also named in {}:4 (not used)",
            cfg.display(),
            inv.display()
        )),
        "{table}"
    );
    // config.toml's `web` is the one meant, and the clash is said with
    // both sources.
    let err = text(&out.stderr);
    assert!(
        err.contains("@web is defined by config.toml (config) and by the Ansible inventory at"),
        "{err}"
    );
    let rows = hosts_json(
        &cmd(&farm)
            .arg("-c")
            .arg(&cfg)
            .arg("--inventory")
            .arg(&inv)
            .args(["hosts", "--json", "-H", "@web,@ansible:web"])
            .output()
            .expect("run sshdeck"),
    );
    let names: Vec<&str> = rows.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names, ["w1", "w2"]);
    assert_eq!(rows[1]["port"], 2, "config.toml's port wins");
    assert_eq!(rows[1]["source"], "config");
}

#[test]
fn a_broken_inventory_stops_sshdeck_before_any_host_is_contacted() {
    let farm = Farm::start(3);
    // The farm's own start-up check has connected already.
    let before = farm.connections(0);
    let inv = farm.root.join("broken.yml");
    std::fs::write(&inv, "all:\n  hosts:\n    w1:\n      ansible_port: [1\n").expect("write");
    let out = cmd(&farm)
        .arg("--inventory")
        .arg(&inv)
        .args(["run", "-H", &farm.host_list(), "--", "echo ran"])
        .output()
        .expect("run sshdeck");
    assert!(!out.status.success());
    assert!(!text(&out.stdout).contains("ran"), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{}:", inv.display())), "{err}");
    assert_eq!(farm.connections(0), before, "a host was contacted: {err}");

    // A dynamic inventory that fails: its exit status and what it said.
    let script = farm.root.join("dynamic.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'cannot reach the CMDB' >&2\nexit 3\n",
    )
    .expect("write script");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let out = cmd(&farm)
        .arg("--inventory")
        .arg(&script)
        .args(["hosts"])
        .output()
        .expect("run sshdeck");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("dynamic.sh") && err.contains('3') && err.contains("cannot reach the CMDB"),
        "{err}"
    );
}

/// `nodeset` from ClusterShell, or a failure under CI.
fn nodeset_available() -> bool {
    let ok = Command::new("nodeset")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok || std::env::var("CI").as_deref() != Ok("true"),
        "nodeset (ClusterShell) is required under CI=true: scripts/test installs it"
    );
    ok
}

#[test]
fn clustershell_groups_select_as_nodeset_expands_them() {
    if !nodeset_available() {
        eprintln!("skipping: nodeset is not installed");
        return;
    }
    let farm = Farm::start(3);
    let cfgdir = farm.root.join("clustershell");
    std::fs::create_dir_all(cfgdir.join("groups.d")).expect("mkdir");
    std::fs::write(
        cfgdir.join("groups.conf"),
        "[Main]\ndefault: farm\nautodir: $CFGDIR/groups.d\n\n\
         [farm]\n\
         map: sed -n 's/^$GROUP:\\(.*\\)/\\1/p' $CFGDIR/farm.groups\n\
         list: sed -n 's/^\\([a-z0-9]*\\):.*/\\1/p' $CFGDIR/farm.groups\n",
    )
    .expect("groups.conf");
    std::fs::write(cfgdir.join("farm.groups"), "rack: node[1-2]\nlast: node3\n")
        .expect("farm.groups");
    std::fs::write(
        cfgdir.join("groups.d/extra.yaml"),
        "extra:\n  pair: 'node1,node3'\n",
    )
    .expect("extra.yaml");
    // The nodes are names ssh_config knows, as on a real cluster.
    let ssh = farm.root.join("ssh_config");
    let mut s = String::new();
    for i in 0..3 {
        s.push_str(&format!(
            "Host node{}\n  HostName 127.0.0.1\n  Port {}\n  User {}\n",
            i + 1,
            farm.hosts[i].port,
            farm.user
        ));
    }
    s.push_str(&format!(
        "Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n",
        farm.client_key.display()
    ));
    std::fs::write(&ssh, s).expect("ssh_config");
    let sshdeck = |args: &[&str]| -> Output {
        let mut c = sshdeck_cmd(&farm);
        c.arg("--known-hosts")
            .arg(&farm.known_hosts)
            .arg("-F")
            .arg(&ssh)
            .env("CLUSTERSHELL_CFGDIR", &cfgdir)
            .args(args)
            .output()
            .expect("run sshdeck")
    };
    let nodeset = |expr: &str| -> Vec<String> {
        let out = Command::new("nodeset")
            .args(["-e", "-S", "\n", expr])
            .env("CLUSTERSHELL_CFGDIR", &cfgdir)
            .output()
            .expect("run nodeset");
        assert!(
            out.status.success(),
            "nodeset {expr}: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    for expr in ["@rack", "@farm:last", "@extra:pair", "@rack!node2,@last"] {
        let rows = hosts_json(&sshdeck(&["hosts", "--json", "-H", expr]));
        let names: Vec<String> = rows
            .iter()
            .filter_map(|r| r["name"].as_str().map(str::to_string))
            .collect();
        assert_eq!(names, nodeset(expr), "{expr}");
    }
    let out = sshdeck(&["run", "-H", "@rack,@extra:pair", "--", "echo ok"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    for h in ["node1", "node2", "node3"] {
        assert!(s.contains(&format!("{h}: ok\n")), "{h} did not run: {s}");
    }
    // Membership, as the sources say it.
    let rows = hosts_json(&sshdeck(&["hosts", "--json", "-H", "node1"]));
    let groups: Vec<&str> = rows[0]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        groups.contains(&"rack") && groups.contains(&"extra:pair"),
        "{groups:?}"
    );
}
