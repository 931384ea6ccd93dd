//! The fuzz targets' properties (fuzz/props.rs), checked on their seeds
//! and on every input the fuzzer ever crashed on, so a fixed crash stays
//! fixed without nightly Rust. Add each new crash from
//! `fuzz/artifacts/<target>/` to the list of its target below.

use std::path::Path;

use sshdeck::inventory::nodeset::{NoGroups, expand};

#[path = "../fuzz/props.rs"]
mod props;
use props::{
    ansible_ini, ansible_yaml, clustershell_groups, config, known_hosts, nodeset, sanitize,
    session_protocol, ssh_config, tokens,
};

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out.sort();
    out
}

#[test]
fn nodeset_seeds_and_past_crashes() {
    for s in seeds("nodeset") {
        nodeset(&s);
    }
    for case in NODESET_CRASHES {
        nodeset(case);
    }
    // A leading '!' subtracts from nothing: refused, as ClusterShell
    // refuses it (this input once crashed the parser).
    assert!(expand("!:mwb", &NoGroups).is_err());
}

#[test]
fn config_seeds_and_past_crashes() {
    for s in seeds("config") {
        config(&s);
    }
    for case in CONFIG_CRASHES {
        config(case);
    }
}

#[test]
fn clustershell_groups_seeds_and_past_crashes() {
    use sshdeck::inventory::sources::clustershell::{config::Ini, yaml};
    let (mut confs, mut yamls) = (0, 0);
    for s in seeds("clustershell_groups") {
        clustershell_groups(&s);
        let text = String::from_utf8_lossy(&s);
        confs += usize::from(Ini::default().merge(Path::new("/s"), &text).is_ok());
        yamls += usize::from(yaml::parse(Path::new("/s"), &text).is_ok());
    }
    // A seed neither parser reads would test only their errors.
    assert!(
        confs >= 1 && yamls >= 1,
        "{confs} groups.conf, {yamls} YAML seeds parse"
    );
    for case in CLUSTERSHELL_GROUPS_CRASHES {
        clustershell_groups(case);
    }
}

#[test]
fn known_hosts_seeds_and_past_crashes() {
    let parsed: usize = seeds("known_hosts").iter().map(|s| known_hosts(s)).sum();
    assert!(parsed >= 4, "the seed's entries were not read ({parsed})");
    for case in KNOWN_HOSTS_CRASHES {
        known_hosts(case);
    }
}

#[test]
fn session_protocol_seeds() {
    let decoded: usize = seeds("session_protocol")
        .iter()
        .map(|s| session_protocol(s))
        .sum();
    // Every seed message decodes: the seeds exercise every event kind.
    assert!(
        decoded >= 9,
        "only {decoded} messages decoded from the seeds"
    );
    // Cut anywhere, a stream fails cleanly or waits for more.
    for s in seeds("session_protocol") {
        for cut in 0..s.len() {
            session_protocol(&s[..cut]);
        }
    }
}

#[test]
fn sanitize_seeds_and_past_crashes() {
    for s in seeds("sanitize") {
        sanitize(&s);
    }
    for case in SANITIZE_CRASHES {
        sanitize(case);
    }
}

#[test]
fn ssh_config_seeds_and_past_crashes() {
    for s in seeds("ssh_config") {
        // A seed the property skips would test nothing.
        let text = String::from_utf8_lossy(&s).to_ascii_lowercase();
        assert!(!text.contains("include") && !text.contains("exec"));
        let parsed = sshdeck::inventory::ssh_config::SshConfig::parse(
            Path::new("/seed"),
            &String::from_utf8_lossy(&s),
        );
        assert!(parsed.is_ok(), "a seed should parse: {:?}", parsed.err());
        ssh_config(&s);
    }
    for case in SSH_CONFIG_CRASHES {
        ssh_config(case);
    }
}

#[test]
fn tokens_seeds_and_past_crashes() {
    for s in seeds("tokens") {
        tokens(&s);
    }
    for case in TOKENS_CRASHES {
        tokens(case);
    }
}

/// One Ansible format's seeds and past crashes through its property. The
/// seeds hold both good inventories and errors: each kind must reach the
/// property, or it checks less than it seems.
fn ansible_replay(
    target: &str,
    file: &str,
    format: sshdeck::inventory::sources::ansible::InventoryFormat,
    property: fn(&[u8]),
    crashes: &[&[u8]],
) {
    use sshdeck::inventory::sources::ansible::parse_text;
    let seeds = seeds(target);
    let ok = seeds
        .iter()
        .filter(|s| parse_text(Path::new(file), &String::from_utf8_lossy(s), format).is_ok())
        .count();
    assert!(
        ok >= 2 && ok < seeds.len(),
        "{target}: {ok} of {} seeds parse",
        seeds.len()
    );
    for s in seeds {
        property(&s);
    }
    for case in crashes {
        property(case);
    }
}

#[test]
fn ansible_ini_seeds_and_past_crashes() {
    use sshdeck::inventory::sources::ansible::InventoryFormat;
    ansible_replay(
        "ansible_ini",
        "/s.ini",
        InventoryFormat::Ini,
        ansible_ini,
        ANSIBLE_INI_CRASHES,
    );
}

#[test]
fn ansible_yaml_seeds_and_past_crashes() {
    use sshdeck::inventory::sources::ansible::InventoryFormat;
    ansible_replay(
        "ansible_yaml",
        "/s.yml",
        InventoryFormat::Yaml,
        ansible_yaml,
        ANSIBLE_YAML_CRASHES,
    );
}

// Inputs the fuzzer crashed on (scripts/fuzz), each fixed since.
const NODESET_CRASHES: &[&[u8]] = &[
    // An empty result folded to "", which is not an expression (the
    // property was wrong: `!a` is an empty set, as in ClusterShell).
    b"!:mwb",
];
const CONFIG_CRASHES: &[&[u8]] = &[];
const CLUSTERSHELL_GROUPS_CRASHES: &[&[u8]] = &[];
const KNOWN_HOSTS_CRASHES: &[&[u8]] = &[];
const SANITIZE_CRASHES: &[&[u8]] = &[];
const SSH_CONFIG_CRASHES: &[&[u8]] = &[];
const TOKENS_CRASHES: &[&[u8]] = &[
    // Not crashes: edges worth keeping. A lone `%` at the end, a token in
    // a value, and no lines at all.
    b"100%\nh%r\n",
    b"%h\n%h%%\n",
    b"",
];
// Not crashes: edges worth keeping (an empty file, a lone range, a
// vars section for a group never defined, a long chain of pending
// children).
const ANSIBLE_INI_CRASHES: &[&[u8]] = &[
    b"",
    b"[",
    b"a[1:",
    b"[x:vars]\n",
    b"[a:children]\nb\n[b:children]\nc\n[c]\n",
];
const ANSIBLE_YAML_CRASHES: &[&[u8]] = &[
    b"",
    b"a:",
    b"*x",
    b"a: &x [*x]",
    b"all:\n  hosts:\n    '[':\n",
];
