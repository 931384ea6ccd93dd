//! The properties the fuzz targets check, shared with
//! tests/fuzz_regressions.rs (which checks them on the seeds and on every
//! crash found), so the two can never drift apart.

// Each fuzz target uses one of these.
#![allow(dead_code)]

use std::path::Path;

use sshdeck::engine::KnownHosts;
use sshdeck::engine::known_hosts::wildcard_match;
use sshdeck::inventory::config::Config;
use sshdeck::inventory::nodeset::{NoGroups, expand, fold};
use sshdeck::text::ansi::AnsiParser;
use sshdeck::text::sanitize::{sanitize_line, visible_name};

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBzKlgxw1sPiVO6iRrzoak+RVc3/9g2/TLJtEiMV2TUd";

pub fn nodeset(data: &[u8]) {
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

pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = Config::parse(Path::new("/fuzz/config.toml"), text) {
        let msg = e.to_string();
        assert!(msg.contains("/fuzz/config.toml"), "{msg}");
    }
}

pub fn known_hosts(data: &[u8]) -> usize {
    let text = String::from_utf8_lossy(data);
    let kh = KnownHosts::parse(Path::new("/fuzz/known_hosts"), &text);
    let key = russh::keys::PublicKey::from_openssh(KEY).unwrap();
    for (host, port) in [("example.com", 22), ("127.0.0.1", 2222), ("web01", 22)] {
        let _ = kh.check(host, port, &key);
    }
    // Patterns are user text too.
    if let Some((pat, name)) = text.split_once('\n') {
        let _ = wildcard_match(pat, name);
    }
    kh.entries().len()
}

pub fn sanitize(data: &[u8]) {
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
