//! Our Ansible inventory reader against Ansible's own answer:
//! `ansible-inventory -i … --list` on the corpus under tests/ansible/,
//! host by host (address, port, user, identity file) and group by group
//! (members). ansible-core is installed in a virtualenv by scripts/test
//! (`$SSHDECK_ANSIBLE_VENV`, by default target/ansible-venv); under
//! CI=true a missing ansible-inventory is a failure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;
use sshdeck::inventory::sources::SourceInventory;
use sshdeck::inventory::sources::ansible::{Fallback, load_with};

#[path = "support/ansible_generate.rs"]
mod ansible_generate;
use ansible_generate::generate;

#[derive(Debug, PartialEq, Eq, Clone)]
struct Conn {
    address: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    identity_file: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
struct View {
    hosts: BTreeMap<String, Conn>,
    groups: BTreeMap<String, BTreeSet<String>>,
}

fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/ansible")
        .join(rel)
}

fn program() -> Option<PathBuf> {
    let venv = std::env::var_os("SSHDECK_ANSIBLE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ansible-venv"));
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([venv.join("bin")])
        .map(|d| d.join("ansible-inventory"))
        .find(|p| p.is_file())
}

/// The oracle, or None when it is missing outside CI.
fn oracle() -> Option<PathBuf> {
    let found = program();
    if found.is_none() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "ansible-inventory is missing under CI; scripts/test installs ansible-core in target/ansible-venv"
        );
        eprintln!("skipping: ansible-inventory is not installed (set SSHDECK_ANSIBLE_VENV)");
    }
    found
}

/// `ansible-inventory --list`, in an empty directory (so no playbook
/// group_vars apply), failing on any source it cannot read.
fn theirs(program: &Path, paths: &[PathBuf]) -> View {
    let empty = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(program);
    for p in paths {
        cmd.arg("-i").arg(p);
    }
    let out = cmd
        .arg("--list")
        .current_dir(empty.path())
        .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
        .env("ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED", "true")
        .output()
        .expect("run ansible-inventory");
    // stderr holds warnings (a CryptographyDeprecationWarning): only the
    // status and stdout count.
    assert!(
        out.status.success(),
        "ansible-inventory {paths:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Json = serde_json::from_slice(&out.stdout).expect("JSON from ansible-inventory");
    let hostvars = doc["_meta"]["hostvars"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut groups = BTreeMap::new();
    for name in doc.as_object().unwrap().keys().filter(|k| *k != "_meta") {
        groups.insert(name.clone(), flatten(&doc, name));
    }
    let mut hosts = BTreeMap::new();
    for h in groups.get("all").cloned().unwrap_or_default() {
        hosts.insert(h.clone(), conn_of(hostvars.get(&h)));
    }
    View { hosts, groups }
}

fn flatten(doc: &Json, group: &str) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = doc[group]["hosts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h.as_str().map(str::to_string))
        .collect();
    for child in doc[group]["children"].as_array().into_iter().flatten() {
        out.extend(flatten(doc, child.as_str().unwrap()));
    }
    out
}

/// What Ansible's ssh connection takes from the host's variables: of
/// each pair, the `ansible_ssh_*` spelling when both are set.
fn conn_of(vars: Option<&Json>) -> Conn {
    let empty = Json::Object(Default::default());
    let vars = vars.unwrap_or(&empty);
    let text = |names: [&str; 2]| -> Option<String> {
        names.iter().rev().find_map(|n| match &vars[*n] {
            Json::String(s) => Some(s.clone()),
            Json::Number(n) => Some(n.to_string()),
            Json::Object(o) => o["__ansible_unsafe"].as_str().map(str::to_string),
            _ => None,
        })
    };
    Conn {
        address: text(["ansible_host", "ansible_ssh_host"]),
        port: text(["ansible_port", "ansible_ssh_port"]).map(|p| p.trim().parse().expect("a port")),
        // The ssh connection passes no user and no key when it is empty.
        user: text(["ansible_user", "ansible_ssh_user"]).filter(|u| !u.is_empty()),
        identity_file: text(["ansible_private_key_file", "ansible_ssh_private_key_file"])
            .filter(|k| !k.is_empty()),
    }
}

fn view_of(inv: &SourceInventory) -> View {
    let hosts = inv
        .hosts
        .iter()
        .map(|h| {
            let conn = Conn {
                address: h.address.clone(),
                port: h.port,
                user: h.user.clone(),
                identity_file: h.identity_file.as_ref().map(|p| p.display().to_string()),
            };
            (h.name.clone(), conn)
        })
        .collect();
    let groups = inv
        .groups
        .iter()
        .map(|(name, g)| (name.clone(), g.members.iter().cloned().collect()))
        .collect();
    View { hosts, groups }
}

fn paths(rels: &[&str]) -> Vec<PathBuf> {
    rels.iter().map(|r| corpus(r)).collect()
}

fn assert_same(program: &Path, rels: &[&str]) -> SourceInventory {
    let paths = paths(rels);
    let ours = load_with(&paths, Fallback::Never).unwrap_or_else(|e| panic!("{rels:?}: {e}"));
    let theirs = theirs(program, &paths);
    let mine = view_of(&ours);
    assert_eq!(mine.groups, theirs.groups, "{rels:?}: groups");
    for (name, conn) in &theirs.hosts {
        assert_eq!(mine.hosts.get(name), Some(conn), "{rels:?}: host {name}");
    }
    assert_eq!(mine.hosts.len(), theirs.hosts.len(), "{rels:?}: hosts");
    assert!(
        !mine.hosts.is_empty(),
        "{rels:?}: an empty inventory tests nothing"
    );
    ours
}

#[test]
fn static_inventories_match_ansible() {
    let Some(program) = oracle() else { return };
    for case in [
        &["ini/hosts.ini"][..],
        &["yaml/inventory.yml"],
        &["dir"],
        &["precedence"],
        &["precedence/hosts.ini"],
        &["multi/one/hosts.ini", "multi/two/hosts.yml"],
        &["multi/two/hosts.yml", "multi/one/hosts.ini"],
        &["ini/hosts.ini", "yaml/inventory.yml", "dir"],
        // Edges: empty values, sections met twice, IPv6, letter ranges
        // across cases, JSON, anchors and duplicate keys, group_vars
        // directories, a priority given as text, a YAML file with no
        // extension.
        &["ini/edges.ini"],
        &["ini/patterns.ini"],
        &["yaml/strings.yaml"],
        &["json/inv.json"],
        &["anchors/dup.yml"],
        &["vars_dirs"],
        &["vars_dirs", "vars_dirs/a.ini"],
        &["priority/hosts"],
        &["script/nometa.sh"],
    ] {
        assert_same(&program, case);
    }
}

#[test]
fn a_dynamic_script_matches_ansible() {
    let Some(program) = oracle() else { return };
    let inv = assert_same(&program, &["script/inventory.sh"]);
    let s3 = inv.hosts.iter().find(|h| h.name == "s3").unwrap();
    assert_eq!(s3.jump.as_deref(), Some("jump@bastion:2200"));
    assert_eq!(s3.origin.line, 0);
}

#[test]
fn jumps_come_from_the_ssh_arguments_ansible_passes() {
    let Some(program) = oracle() else { return };
    let inv = assert_same(&program, &["args/hosts.ini"]);
    let jump = |n: &str| inv.hosts.iter().find(|h| h.name == n).unwrap().jump.clone();
    assert_eq!(jump("j1").as_deref(), Some("bastion.example.com"));
    assert_eq!(jump("j2").as_deref(), Some("admin@gw:2222"));
    // ssh takes the first ProxyJump: the common arguments come first.
    assert_eq!(jump("j3").as_deref(), Some("group-bastion"));
    assert_eq!(jump("j4").as_deref(), Some("group-bastion"));
    assert_eq!(jump("j5").as_deref(), Some("hop9"));
    // ansible_ssh_args come before the common arguments.
    assert_eq!(jump("j6").as_deref(), Some("from-ssh-args"));
}

#[test]
fn a_host_list_matches_ansible() {
    let Some(program) = oracle() else { return };
    let list = PathBuf::from("hl1,hl2:2202,");
    let ours = view_of(&load_with(std::slice::from_ref(&list), Fallback::Never).unwrap());
    assert_eq!(ours, theirs(&program, &[list]));
}

#[test]
fn what_only_ansible_reads_is_asked_of_it() {
    let Some(program) = oracle() else { return };
    let paths = paths(&["plugin"]);
    let e = load_with(&paths, Fallback::Never).unwrap_err().to_string();
    assert!(e.contains("zz-constructed.yml:2: "), "{e}");
    // With the oracle, the whole inventory is Ansible's answer.
    let ours = load_with(&paths, Fallback::Program(program.clone())).unwrap();
    assert_eq!(view_of(&ours), theirs(&program, &paths));
    assert!(ours.groups.contains_key("role_web"));
}

#[test]
fn a_template_sshdeck_uses_is_refused_with_its_line() {
    let paths = paths(&["templated/hosts.ini"]);
    let e = load_with(&paths, Fallback::Never).unwrap_err().to_string();
    assert!(e.contains("templated/hosts.ini:3: "), "{e}");
    assert!(e.contains("{{ inventory_hostname }}.example.com"), "{e}");
    // ansible-inventory repeats the template: still refused.
    if let Some(program) = oracle() {
        let e = load_with(&paths, Fallback::Program(program))
            .unwrap_err()
            .to_string();
        assert!(e.contains("templated/hosts.ini:3: "), "{e}");
        assert!(e.contains("inventory_hostname"), "{e}");
        assert!(e.contains("ansible-inventory leaves unresolved"), "{e}");
    }
}

/// Small random inventories (groups nested at random, variables set at
/// every level, priorities, group_vars and host_vars files), each
/// compared with Ansible's answer: precedence cases nobody wrote down.
#[test]
fn generated_inventories_match_ansible() {
    let Some(program) = oracle() else { return };
    let rounds: u64 = std::env::var("SSHDECK_ANSIBLE_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    for seed in 1..=rounds {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), seed);
        assert_same_at(&program, &[dir.path().to_path_buf()], seed);
    }
}

fn assert_same_at(program: &Path, paths: &[PathBuf], seed: u64) {
    let ours = load_with(paths, Fallback::Never).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    assert_eq!(view_of(&ours), theirs(program, paths), "seed {seed}");
}
