//! The fuzz targets' properties (fuzz/fuzz_targets/), checked on their
//! seeds and on every input the fuzzer ever crashed on, so a fixed crash
//! stays fixed without nightly Rust. Add each new crash from
//! `fuzz/artifacts/<target>/` to the list of its target below.

use std::path::Path;

use sshdeck::engine::KnownHosts;
use sshdeck::inventory::config::Config;
use sshdeck::inventory::nodeset::{NoGroups, expand, fold};
use sshdeck::text::ansi::AnsiParser;
use sshdeck::text::sanitize::{sanitize_line, visible_name};

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBzKlgxw1sPiVO6iRrzoak+RVc3/9g2/TLJtEiMV2TUd";

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

fn nodeset(data: &[u8]) {
    let Ok(expr) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(set) = expand(expr, &NoGroups) {
        let names = set.into_vec();
        // An empty set (`!a`) is a fine result, but "" is not an
        // expression: nothing to round-trip.
        if !names.is_empty() && names.len() <= 10_000 {
            let folded = fold(&names);
            let again = expand(&folded, &NoGroups)
                .unwrap_or_else(|e| panic!("fold gave {folded:?}, which fails: {e}"));
            let mut a = names.clone();
            let mut b = again.into_vec();
            a.sort();
            b.sort();
            assert_eq!(a, b, "fold({expr:?}) = {folded:?}");
        }
    }
}

fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = Config::parse(Path::new("/fuzz/config.toml"), text) {
        let msg = e.to_string();
        assert!(msg.contains("/fuzz/config.toml"), "{msg}");
    }
}

fn known_hosts(data: &[u8]) -> usize {
    let text = String::from_utf8_lossy(data);
    let kh = KnownHosts::parse(Path::new("/fuzz/known_hosts"), &text);
    let key = russh::keys::PublicKey::from_openssh(KEY).unwrap();
    for (host, port) in [("example.com", 22), ("127.0.0.1", 2222), ("web01", 22)] {
        let _ = kh.check(host, port, &key);
    }
    kh.entries().len()
}

fn sanitize(data: &[u8]) {
    let ok = |s: &str| s.chars().all(|c| c == '\t' || !c.is_control());
    let line = sanitize_line(data);
    assert!(ok(&line), "{line:?}");
    let name = visible_name(&String::from_utf8_lossy(data));
    assert!(name.chars().all(|c| !c.is_control()), "{name:?}");
    let cut = data.first().map_or(0, |&b| b as usize % (data.len() + 1));
    let mut p = AnsiParser::new(256);
    let mut lines = Vec::new();
    p.feed(&data[..cut], &mut |l| lines.push(l));
    p.feed(&data[cut..], &mut |l| lines.push(l));
    p.finish(&mut |l| lines.push(l));
    for l in lines {
        for s in &l.spans {
            assert!(ok(&s.text), "{:?}", s.text);
            assert!(s.text.chars().count() <= 256);
        }
    }
}

#[test]
fn nodeset_seeds_and_past_crashes() {
    for s in seeds("nodeset") {
        nodeset(&s);
    }
    for case in NODESET_CRASHES {
        nodeset(case);
    }
    let empty = expand("!:mwb", &NoGroups).expect("subtracting from nothing is no error");
    assert!(empty.is_empty());
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
fn known_hosts_seeds_and_past_crashes() {
    let parsed: usize = seeds("known_hosts").iter().map(|s| known_hosts(s)).sum();
    assert!(parsed >= 4, "the seed's entries were not read ({parsed})");
    for case in KNOWN_HOSTS_CRASHES {
        known_hosts(case);
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

// Inputs the fuzzer crashed on (scripts/fuzz), each fixed since.
const NODESET_CRASHES: &[&[u8]] = &[
    // An empty result folded to "", which is not an expression (the
    // property was wrong: `!a` is an empty set, as in ClusterShell).
    b"!:mwb",
];
const CONFIG_CRASHES: &[&[u8]] = &[];
const KNOWN_HOSTS_CRASHES: &[&[u8]] = &[];
const SANITIZE_CRASHES: &[&[u8]] = &[];
