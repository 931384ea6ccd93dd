//! The properties the fuzz targets check, shared with
//! tests/fuzz_regressions.rs (which checks them on the seeds and on every
//! crash found), so the two can never drift apart.

// Each fuzz target uses one of these.
#![allow(dead_code)]

use std::path::Path;

use sshdeck::engine::KnownHosts;
use sshdeck::engine::connection::known_hosts::wildcard_match;
use sshdeck::inventory::config::Config;
use sshdeck::inventory::nodeset::{NoGroups, expand, fold};
use sshdeck::inventory::shell_safe::{check_host, check_user};
use sshdeck::inventory::ssh_config::tokens::{Local, Tokens, tilde};
use sshdeck::inventory::ssh_config::{Query, SshConfig};
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

/// ssh_config: parsing never panics and its errors name the file; a
/// parsed config resolves any host without panicking; a host or user name
/// a shell would act on is refused before any `Match exec` could run.
/// Inputs that could read other files (`Include`) or run commands (`exec`)
/// are skipped: a fuzzer must never run what it invents, nor depend on
/// the machine's files.
pub fn ssh_config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lower = text.to_ascii_lowercase();
    if lower.contains("include") || lower.contains("exec") {
        return;
    }
    let cfg = match SshConfig::parse(Path::new("/fuzz/ssh_config"), text) {
        Ok(c) => c,
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("/fuzz/ssh_config"), "{msg}");
            return;
        }
    };
    let mut hosts: Vec<String> = cfg.concrete_hosts().iter().take(8).cloned().collect();
    hosts.extend(["web1", "10.0.0.1", "::1", "a$(touch x)", "-oProxyCommand=x"].map(String::from));
    let users = [None, Some("ops"), Some("u;x")];
    for (i, host) in hosts.iter().enumerate() {
        let user = users[i % users.len()];
        let q = Query {
            host: host.clone(),
            user: user.map(String::from),
            port: None,
            jump: None,
        };
        let r = cfg.resolve(&q);
        if check_host(host, "").is_err() || user.is_some_and(|u| check_user(u, "").is_err()) {
            assert!(r.is_err(), "{host:?} as {user:?} was resolved");
            continue;
        }
        if let Ok(r) = r {
            assert_eq!(r.host, *host);
            let _ = r.ssh_g();
            let _ = r.proxy_command_line();
            let _ = r.known_hosts_paths();
            for f in &r.identity_files {
                let _ = r.expand_path(f);
            }
        }
    }
}

/// `%` tokens: expansion never panics, is one left-to-right pass (a
/// value is never expanded again, whatever it holds), `%%` is always a
/// literal `%`, and text without `%` is left alone. The input is the
/// template, then the host, user and original name, a line each.
pub fn tokens(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let template = parts.next().unwrap_or("");
    let host = parts.next().unwrap_or("h");
    let user = parts.next().unwrap_or("u");
    let orig = parts.next().unwrap_or("o");
    let local = Local {
        user: "me".into(),
        home: "/home/me".into(),
        uid: 1000,
        hostname: "vm.example".into(),
    };
    let port = data.first().map_or(22, |&b| u16::from(b) + 1);
    let t = Tokens::new(&local, host, port, user, orig, None);
    let out = t.expand(template, false);
    if !template.contains('%') {
        assert_eq!(out.as_deref(), Ok(template));
    }
    let escaped = template.replace('%', "%%");
    assert_eq!(t.expand(&escaped, false).as_deref(), Ok(template));
    assert_eq!(t.expand("%h", false).as_deref(), Ok(host));
    assert_eq!(t.expand("[%r:%p]", false), Ok(format!("[{user}:{port}]")));
    // ProxyCommand's subset knows its tokens and no other.
    let proxy = t.only("hknpr");
    assert_eq!(proxy.expand("%n", false).as_deref(), Ok(orig));
    assert!(proxy.expand("%d", false).is_err());
    let _ = proxy.expand(template, false);
    let _ = Tokens::host_only(host).expand(template, false);
    let _ = t.expand(template, true);
    let _ = tilde(template, &local);
}

/// An Ansible inventory's error must name the fuzzed file and a line
/// within it (a YAML error at the end may name the line after the last).
fn ansible_error_in_file(text: &str, file: &str, e: &sshdeck::inventory::sources::SourceError) {
    let msg = e.to_string();
    let rest = msg
        .strip_prefix(file)
        .and_then(|r| r.strip_prefix(':'))
        .unwrap_or_else(|| panic!("the error does not name {file}: {msg}"));
    let line: usize = rest
        .split(':')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the error has no line: {msg}"));
    let lines = text.lines().count();
    assert!(
        (1..=lines + 1).contains(&line),
        "line {line} of {lines}: {msg}"
    );
}

pub fn ansible_ini(data: &[u8]) {
    use sshdeck::inventory::sources::ansible::{InventoryFormat, parse_text};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = "/fuzz/inventory.ini";
    if let Err(e) = parse_text(Path::new(file), text, InventoryFormat::Ini) {
        ansible_error_in_file(text, file, &e);
    }
}

pub fn ansible_yaml(data: &[u8]) {
    use sshdeck::inventory::sources::ansible::{InventoryFormat, parse_text};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = "/fuzz/inventory.yml";
    if let Err(e) = parse_text(Path::new(file), text, InventoryFormat::Yaml) {
        ansible_error_in_file(text, file, &e);
    }
}

/// ClusterShell's groups.conf and YAML group files: never a panic, every
/// error names the file, and what parses answers every lookup.
pub fn clustershell_groups(data: &[u8]) {
    use sshdeck::inventory::sources::GroupSource;
    use sshdeck::inventory::sources::clustershell::{config::Ini, yaml};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut ini = Ini::default();
    match ini.merge(Path::new("/fuzz/groups.conf"), text) {
        Ok(()) => {
            let names: Vec<(String, Vec<String>)> = ini
                .sections
                .iter()
                .map(|(s, b)| (s.clone(), b.options.keys().cloned().collect()))
                .collect();
            for (section, options) in names {
                for option in options {
                    if let Err(e) = ini.get(&section, &option) {
                        assert!(e.to_string().contains("/fuzz/groups.conf"), "{e}");
                    }
                }
            }
        }
        Err(e) => assert!(e.to_string().starts_with("/fuzz/groups.conf"), "{e}"),
    }
    match yaml::parse(Path::new("/fuzz/a.yaml"), text) {
        Ok(sources) => {
            for s in sources {
                let names = s.group_names().expect("a parsed file lists its groups");
                for g in names.unwrap_or_default() {
                    let _ = s.group(&g);
                }
                let _ = s.all_nodes();
            }
        }
        Err(e) => assert!(e.to_string().starts_with("/fuzz/a.yaml"), "{e}"),
    }
}

/// The session socket's decoder (issue 28): any bytes from a client
/// decode or fail cleanly, and what decodes encodes back the same.
pub fn session_protocol(data: &[u8]) -> usize {
    sshdeck::session::protocol::check_client_stream(data).unwrap_or(0)
}
