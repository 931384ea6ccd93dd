//! known_hosts: any bytes parse (bad lines are reported, not fatal), and
//! checking a key against the result never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sshdeck::engine::KnownHosts;
use sshdeck::engine::known_hosts::wildcard_match;

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBzKlgxw1sPiVO6iRrzoak+RVc3/9g2/TLJtEiMV2TUd";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let kh = KnownHosts::parse(std::path::Path::new("/fuzz/known_hosts"), &text);
    let key = russh::keys::PublicKey::from_openssh(KEY).expect("a valid key");
    for (host, port) in [("example.com", 22), ("127.0.0.1", 2222), ("web01", 22)] {
        let _ = kh.check(host, port, &key);
    }
    // Patterns are user text too: `*`/`?` matching must stay linear-ish
    // and never panic on any UTF-8.
    if let Some((pat, name)) = text.split_once('\n') {
        let _ = wildcard_match(pat, name);
    }
});
