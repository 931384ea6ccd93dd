//! Reading ssh_config files into a tree of Host/Match blocks, Includes and
//! settings. Every line is checked here, whichever host it is for, as
//! OpenSSH checks lines in blocks that do not apply too: a mistake is
//! reported once, at start, with its file and line.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::lex::{self, Known};
use crate::inventory::config::ConfigError;

/// Where a setting was written, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    pub file: Arc<PathBuf>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strict {
    Yes,
    No,
    Ask,
    AcceptNew,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Canon {
    No,
    Yes,
    Always,
}

/// One setting sshdeck resolves, its value already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    HostName(String),
    User(String),
    Port(u16),
    IdentityFile(String),
    CertificateFile(String),
    IdentitiesOnly(bool),
    /// `none`, or the hops as written (checked).
    ProxyJump(String),
    /// The raw command, or `none`.
    ProxyCommand(String),
    UserKnownHostsFile(Vec<String>),
    GlobalKnownHostsFile(Vec<String>),
    StrictHostKeyChecking(Strict),
    Compression(bool),
    HostKeyAlias(String),
    IdentityAgent(String),
    /// Seconds; `None` for `none` (leaves it unset).
    ServerAliveInterval(Option<u64>),
    ServerAliveCountMax(u32),
    ConnectionAttempts(u32),
    PreferredAuthentications(String),
    BatchMode(bool),
    HashKnownHosts(bool),
    ConnectTimeout(Option<u64>),
    CanonicalizeHostname(Canon),
    IgnoreUnknown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Criterion {
    All,
    Canonical,
    Final,
    Host(String),
    OriginalHost(String),
    User(String),
    LocalUser(String),
    Exec(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Host(Vec<String>),
    /// Criteria with their negation.
    Match(Vec<(bool, Criterion)>),
    Include(Vec<Parsed>),
    Set(Setting, Loc),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    pub items: Vec<Item>,
}

/// A user config (`~/.ssh/config`, `-F`) or the system one: relative
/// Includes resolve under `~/.ssh` or `/etc/ssh`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigScope {
    User,
    System,
}

/// OpenSSH's limit on nested Includes.
const MAX_DEPTH: usize = 16;

pub struct Reader {
    kind: ConfigScope,
    /// Set by any `Match final` anywhere: a second pass is then made.
    pub wants_final: bool,
    /// Patterns of every IgnoreUnknown line met so far.
    ignore_unknown: Vec<String>,
    /// Concrete `Host` names, in order: the hosts a user named.
    pub host_names: Vec<String>,
    /// Where each of `host_names` was first written (same order).
    pub host_locs: Vec<Loc>,
}

/// A keyword that takes one value, with that value checked.
fn one_value_setting(kw: &str, a: String, loc: &Loc) -> Result<Setting, ConfigError> {
    let flag = |what| yes_no(&a, what, loc);
    let time = |a: &str| seconds(a).ok_or_else(|| err(loc, format!("invalid time value {a:?}")));
    Ok(match kw {
        "hostname" => Setting::HostName(a),
        "user" => Setting::User(a),
        "port" => Setting::Port(port(&a).ok_or_else(|| err(loc, format!("Bad port {a:?}")))?),
        "identityfile" | "identityfile2" => Setting::IdentityFile(a),
        "certificatefile" => Setting::CertificateFile(a),
        "identitiesonly" => Setting::IdentitiesOnly(flag("IdentitiesOnly")?),
        "batchmode" => Setting::BatchMode(flag("BatchMode")?),
        "hashknownhosts" => Setting::HashKnownHosts(flag("HashKnownHosts")?),
        "compression" => Setting::Compression(compression(&a, loc)?),
        "stricthostkeychecking" => Setting::StrictHostKeyChecking(strict(&a, loc)?),
        "hostkeyalias" => Setting::HostKeyAlias(a),
        "identityagent" => Setting::IdentityAgent(a),
        "preferredauthentications" => Setting::PreferredAuthentications(a),
        "serveraliveinterval" | "protocolkeepalives" | "setuptimeout" => {
            Setting::ServerAliveInterval(time(&a)?)
        }
        "connecttimeout" => Setting::ConnectTimeout(time(&a)?),
        "serveralivecountmax" | "connectionattempts" => count(kw, &a, loc)?,
        "canonicalizehostname" => Setting::CanonicalizeHostname(canon(&a, loc)?),
        other => return Err(err(loc, format!("Bad configuration option: {other}"))),
    })
}

/// `UserKnownHostsFile` / `GlobalKnownHostsFile`: files, or "none" alone.
fn known_hosts_files(kw: &str, args: Vec<String>, loc: &Loc) -> Result<Setting, ConfigError> {
    if args.len() > 1 && args.iter().any(|f| f.eq_ignore_ascii_case("none")) {
        return Err(err(loc, format!("{kw}: \"none\" must stand alone")));
    }
    Ok(if kw == "userknownhostsfile" {
        Setting::UserKnownHostsFile(args)
    } else {
        Setting::GlobalKnownHostsFile(args)
    })
}

/// `Compression`: only yes or no.
fn compression(a: &str, loc: &Loc) -> Result<bool, ConfigError> {
    match a.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(err(
            loc,
            format!("Compression: expected yes or no, not {a:?}"),
        )),
    }
}

/// `StrictHostKeyChecking`, with OpenSSH's synonyms.
fn strict(a: &str, loc: &Loc) -> Result<Strict, ConfigError> {
    match a.to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(Strict::Yes),
        "no" | "false" | "off" => Ok(Strict::No),
        "ask" => Ok(Strict::Ask),
        "accept-new" => Ok(Strict::AcceptNew),
        _ => Err(err(
            loc,
            format!("StrictHostKeyChecking: yes, no, ask or accept-new, not {a:?}"),
        )),
    }
}

/// `ServerAliveCountMax` or `ConnectionAttempts` (at least 1).
fn count(kw: &str, a: &str, loc: &Loc) -> Result<Setting, ConfigError> {
    let n: u32 = a
        .parse()
        .map_err(|_| err(loc, format!("{kw}: {a:?} is not a number")))?;
    if kw == "connectionattempts" {
        if n == 0 {
            return Err(err(loc, "ConnectionAttempts must be at least 1"));
        }
        Ok(Setting::ConnectionAttempts(n))
    } else {
        Ok(Setting::ServerAliveCountMax(n))
    }
}

/// `CanonicalizeHostname`: yes, no or always.
fn canon(a: &str, loc: &Loc) -> Result<Canon, ConfigError> {
    match a.to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(Canon::Yes),
        "no" | "false" => Ok(Canon::No),
        "always" => Ok(Canon::Always),
        _ => Err(err(loc, format!("CanonicalizeHostname: {a:?}"))),
    }
}

fn err(loc: &Loc, msg: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        path: loc.file.to_path_buf(),
        line: loc.line,
        col: 1,
        msg: msg.into(),
    }
}

fn yes_no(v: &str, what: &str, loc: &Loc) -> Result<bool, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err(err(loc, format!("{what}: expected yes or no, not {v:?}"))),
    }
}

/// `convtime`: `90`, `1m30s`, `2h`, units s/m/h/d/w; `none` is unset.
pub fn seconds(v: &str) -> Option<Option<u64>> {
    if v.eq_ignore_ascii_case("none") {
        return Some(None);
    }
    if v.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    for c in v.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    if !num.is_empty() {
        total = total.checked_add(num.parse().ok()?)?;
    } else if v.chars().last().is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    i32::try_from(total).ok().map(|_| Some(total))
}

/// A port number or a service name (`ssh` is 22).
pub fn port(v: &str) -> Option<u16> {
    if let Ok(n) = v.parse::<u32>() {
        return u16::try_from(n).ok().filter(|&p| p > 0);
    }
    let name = std::ffi::CString::new(v).ok()?;
    let proto = c"tcp";
    // SAFETY: valid NUL-terminated strings; the result points into static
    // storage and is read at once.
    let se = unsafe { libc::getservbyname(name.as_ptr(), proto.as_ptr()) };
    if se.is_null() {
        return None;
    }
    // SAFETY: non-null pointer from getservbyname.
    let p = u16::from_be(unsafe { (*se).s_port } as u16);
    (p > 0).then_some(p)
}

/// A ProxyJump value's hops, checked (`[user@]host[:port]` or
/// `ssh://[user@]host[:port]`, comma-separated).
pub fn check_jump(spec: &str) -> Result<(), String> {
    for hop in spec.split(',') {
        let hop = hop.strip_prefix("ssh://").unwrap_or(hop);
        let hop = hop.trim_end_matches('/');
        if hop.is_empty() {
            return Err("Invalid ProxyJump: an empty hop".into());
        }
        let host_port = match hop.rsplit_once('@') {
            Some(("", _)) => return Err(format!("Invalid ProxyJump {hop:?}: empty user")),
            Some((_, hp)) => hp,
            None => hop,
        };
        let port_part = if let Some(rest) = host_port.strip_prefix('[') {
            let (_, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("Invalid ProxyJump {hop:?}: unclosed ["))?;
            after.strip_prefix(':')
        } else {
            host_port.split_once(':').map(|(_, p)| p)
        };
        if let Some(p) = port_part
            && port(p).is_none()
        {
            return Err(format!("Invalid ProxyJump {hop:?}: bad port {p:?}"));
        }
    }
    Ok(())
}

impl Reader {
    pub fn new(kind: ConfigScope) -> Reader {
        Reader {
            kind,
            wants_final: false,
            ignore_unknown: Vec::new(),
            host_names: Vec::new(),
            host_locs: Vec::new(),
        }
    }

    /// Read `path` (and what it includes).
    pub fn read(&mut self, path: &Path) -> Result<Parsed, ConfigError> {
        self.read_depth(path, 0)
    }

    fn read_depth(&mut self, path: &Path, depth: usize) -> Result<Parsed, ConfigError> {
        let text = std::fs::read(path).map_err(|e| ConfigError::Io {
            path: path.into(),
            cause: e.to_string(),
        })?;
        let text = String::from_utf8_lossy(&text);
        self.parse_text(path, &text, depth)
    }

    /// Parse `text` as if read from `path`.
    pub fn parse_text(
        &mut self,
        path: &Path,
        text: &str,
        depth: usize,
    ) -> Result<Parsed, ConfigError> {
        let file = Arc::new(path.to_path_buf());
        let mut items = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let loc = Loc {
                file: file.clone(),
                line: i + 1,
            };
            let Some(line) = lex::split_line(raw) else {
                continue;
            };
            if line.rest.is_empty() {
                return Err(err(
                    &loc,
                    format!("no argument after keyword {:?}", line.keyword),
                ));
            }
            if let Some(item) = self.item(&line, &loc, depth)? {
                items.push(item);
            }
        }
        Ok(Parsed { items })
    }

    /// One directive line as an item: `None` for keywords that are
    /// ignored (by us, or by `IgnoreUnknown`).
    fn item(
        &mut self,
        line: &lex::Line<'_>,
        loc: &Loc,
        depth: usize,
    ) -> Result<Option<Item>, ConfigError> {
        let kw = line.keyword.as_str();
        match lex::known(kw) {
            Known::Ignored => return Ok(None),
            Known::Unknown => return self.unknown(kw, loc),
            Known::Used => {}
        }
        if let Some(item) = self.raw_line_item(kw, line.rest, loc)? {
            return Ok(Some(item));
        }
        let args = lex::argv_split(line.rest).map_err(|e| err(loc, e))?;
        if args.is_empty() {
            return Err(err(loc, format!("no argument after keyword {kw:?}")));
        }
        match kw {
            "host" => self.host(args, loc).map(Some),
            "include" => self
                .include(&args, loc, depth)
                .map(|p| Some(Item::Include(p))),
            _ => self
                .setting(kw, args, loc)
                .map(|s| Some(Item::Set(s, loc.clone()))),
        }
    }

    /// A keyword OpenSSH does not know: an error unless `IgnoreUnknown`
    /// names it.
    fn unknown(&self, kw: &str, loc: &Loc) -> Result<Option<Item>, ConfigError> {
        let ignored = self
            .ignore_unknown
            .iter()
            .any(|p| super::pattern::list_matches(p, kw, true));
        if ignored {
            Ok(None)
        } else {
            Err(err(loc, format!("Bad configuration option: {kw}")))
        }
    }

    /// The directives read from the raw rest of the line rather than its
    /// words: ProxyCommand, ProxyJump and Match.
    fn raw_line_item(
        &mut self,
        kw: &str,
        rest: &str,
        loc: &Loc,
    ) -> Result<Option<Item>, ConfigError> {
        // The directives that take a command keep the raw rest of the line
        // (it must still split, as OpenSSH checks).
        if matches!(kw, "proxycommand" | "proxyjump") {
            lex::argv_split(rest).map_err(|e| err(loc, e))?;
        }
        match kw {
            "proxycommand" => Ok(Some(Item::Set(
                Setting::ProxyCommand(rest.to_string()),
                loc.clone(),
            ))),
            "proxyjump" => {
                // Cut at a comment; OpenSSH then uses the first word.
                let v = rest.split('#').next().unwrap_or("").trim();
                let v = v.split_whitespace().next().unwrap_or("");
                if !v.eq_ignore_ascii_case("none") {
                    check_jump(v).map_err(|e| err(loc, e))?;
                }
                Ok(Some(Item::Set(
                    Setting::ProxyJump(v.to_string()),
                    loc.clone(),
                )))
            }
            "match" => self.criteria(rest, loc).map(|c| Some(Item::Match(c))),
            _ => Ok(None),
        }
    }

    /// `Host` patterns; the plain names among them are remembered, with
    /// where they are written, as hosts this file defines.
    fn host(&mut self, args: Vec<String>, loc: &Loc) -> Result<Item, ConfigError> {
        if args.iter().any(String::is_empty) {
            return Err(err(loc, "Host: empty argument"));
        }
        for p in &args {
            if !p.contains(['*', '?', '!']) && !self.host_names.contains(p) {
                self.host_names.push(p.clone());
                self.host_locs.push(loc.clone());
            }
        }
        Ok(Item::Host(args))
    }

    /// A setting from its words: the list-valued keywords take them all,
    /// the others exactly one.
    fn setting(&mut self, kw: &str, args: Vec<String>, loc: &Loc) -> Result<Setting, ConfigError> {
        let lists = matches!(
            kw,
            "userknownhostsfile" | "globalknownhostsfile" | "ignoreunknown"
        );
        if !lists && args.len() > 1 {
            return Err(err(
                loc,
                format!("keyword {kw} extra arguments at end of line"),
            ));
        }
        match kw {
            "userknownhostsfile" | "globalknownhostsfile" => known_hosts_files(kw, args, loc),
            "ignoreunknown" => {
                let p = args.join(",");
                self.ignore_unknown.push(p.to_ascii_lowercase());
                Ok(Setting::IgnoreUnknown(p))
            }
            _ => one_value_setting(kw, args[0].clone(), loc),
        }
    }

    fn criteria(&mut self, rest: &str, loc: &Loc) -> Result<Vec<(bool, Criterion)>, ConfigError> {
        let words = lex::match_words(rest).map_err(|e| err(loc, e))?;
        let mut out = Vec::new();
        let mut it = words.into_iter().peekable();
        while let Some(w) = it.next() {
            let (negated, name) = match w.strip_prefix('!') {
                Some(n) => (true, n.to_ascii_lowercase()),
                None => (false, w.to_ascii_lowercase()),
            };
            let mut arg = |what: &str| {
                it.next()
                    .filter(|a| !a.is_empty())
                    .ok_or_else(|| err(loc, format!("Match {what}: missing argument")))
            };
            let c = match name.as_str() {
                "all" => {
                    // `all` stands alone or after one criterion.
                    if out.len() > 1 || it.peek().is_some() {
                        return Err(err(loc, "Match all must be used alone or last"));
                    }
                    Criterion::All
                }
                "canonical" => Criterion::Canonical,
                "final" => {
                    self.wants_final = true;
                    Criterion::Final
                }
                "host" => Criterion::Host(arg("host")?),
                "originalhost" => Criterion::OriginalHost(arg("originalhost")?),
                "user" => Criterion::User(arg("user")?),
                "localuser" => Criterion::LocalUser(arg("localuser")?),
                "exec" => Criterion::Exec(arg("exec")?),
                other => return Err(err(loc, format!("Unsupported Match attribute {other}"))),
            };
            out.push((negated, c));
        }
        if out.is_empty() {
            return Err(err(loc, "Match: missing criteria"));
        }
        Ok(out)
    }

    fn include(
        &mut self,
        args: &[String],
        loc: &Loc,
        depth: usize,
    ) -> Result<Vec<Parsed>, ConfigError> {
        if depth >= MAX_DEPTH {
            return Err(err(loc, "Too many recursive configuration includes"));
        }
        let mut out = Vec::new();
        for a in args {
            let pattern = if let Some(rest) = a.strip_prefix('~') {
                if self.kind == ConfigScope::System {
                    return Err(err(loc, format!("bad include path {a:?}")));
                }
                // As glob(3) does, `~` here is $HOME.
                let home = std::env::var("HOME").unwrap_or_default();
                format!("{home}{rest}")
            } else if a.starts_with('/') {
                a.clone()
            } else {
                match self.kind {
                    ConfigScope::User => {
                        let home = std::env::var("HOME").unwrap_or_default();
                        format!("{home}/.ssh/{a}")
                    }
                    ConfigScope::System => format!("/etc/ssh/{a}"),
                }
            };
            for path in glob(&pattern) {
                out.push(self.read_depth(&path, depth + 1).map_err(|e| match e {
                    ConfigError::Io { path, cause } => {
                        err(loc, format!("Include {}: {cause}", path.display()))
                    }
                    other => other,
                })?);
            }
        }
        Ok(out)
    }
}

/// Files matching a glob, sorted bytewise; none is not an error. `*` and
/// `?` do not match a leading dot, as in glob(3).
fn glob(pattern: &str) -> Vec<PathBuf> {
    use crate::engine::connection::known_hosts::wildcard_match;
    let mut found: Vec<PathBuf> = vec![PathBuf::from(if pattern.starts_with('/') {
        "/"
    } else {
        "."
    })];
    for part in pattern.split('/').filter(|p| !p.is_empty()) {
        let mut next = Vec::new();
        for dir in &found {
            if !part.contains(['*', '?', '[']) {
                let p = dir.join(part);
                if p.symlink_metadata().is_ok() {
                    next.push(p);
                }
                continue;
            }
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.') || part.starts_with('.'))
                .filter(|n| wildcard_match(part, n))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|n| dir.join(n)));
        }
        found = next;
    }
    found.retain(|p| p.is_file());
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Parsed, ConfigError> {
        Reader::new(ConfigScope::User).parse_text(Path::new("/cfg"), text, 0)
    }

    #[test]
    fn values_are_checked_on_every_line() {
        for (text, want) in [
            (
                "Host nomatch\n  Port notanumber\n",
                "/cfg:2:1: Bad port \"notanumber\"",
            ),
            ("Port 2008 2009\n", "extra arguments"),
            ("Compression true\n", "Compression"),
            ("Bogus x\n", "Bad configuration option: bogus"),
            ("User\n", "no argument after keyword \"user\""),
            ("Match tagged x\n", "Unsupported Match attribute tagged"),
            ("Match all host x\n", "Match all"),
            ("ProxyJump a,,b\n", "empty hop"),
            ("User \"open\n", "invalid quotes"),
            ("ConnectTimeout -5\n", "invalid time value"),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
        assert!(parse("IgnoreUnknown bog*\nBogus x\n").is_ok());
        assert!(parse("ForwardAgent whatever\nCiphers x\n").is_ok());
        assert!(parse("Match host h all\n").is_ok());
    }

    #[test]
    fn times_and_ports() {
        assert_eq!(seconds("90"), Some(Some(90)));
        assert_eq!(seconds("1m30s"), Some(Some(90)));
        assert_eq!(seconds("2H"), Some(Some(7200)));
        assert_eq!(seconds("none"), Some(None));
        assert_eq!(seconds("1x"), None);
        assert_eq!(port("ssh"), Some(22));
        assert_eq!(port("0"), None);
        assert_eq!(port("65536"), None);
    }
}
