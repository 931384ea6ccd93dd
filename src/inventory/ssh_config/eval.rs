//! Resolving one host against the parsed files, as `ssh -G` does: the
//! command line first, then the files in order, first value wins (lists
//! add up), `Host` and `Match` blocks deciding what applies, and a second
//! ("final") pass when a `Match final` exists or CanonicalizeHostname is
//! on.

use std::collections::HashMap;
use std::sync::Mutex;

use super::parse::{Canon, Criterion, Item, Parsed, Setting, Strict};
use super::pattern::{host_line_matches, host_matches, list_matches};
use super::tokens::{Local, Tokens};

/// What the command line (or sshdeck's own flags and config, which rank
/// above ssh_config) already decided: it comes first, so it wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// The host as typed (`ORIG`).
    pub host: String,
    pub user: Option<String>,
    pub port: Option<u16>,
    /// `-J` (or `none`).
    pub jump: Option<String>,
}

/// Which file a list entry came from: IdentityFile duplicates are dropped
/// only within one class, as in OpenSSH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    User,
    System,
}

/// Options as they stand during the walk; `None` is unset.
#[derive(Debug, Clone, Default)]
pub struct Opts {
    pub hostname: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_files: Vec<(String, Class)>,
    pub certificate_files: Vec<(String, Class)>,
    pub identities_only: Option<bool>,
    pub proxy_jump: Option<String>,
    pub proxy_command: Option<String>,
    pub user_known_hosts: Option<Vec<String>>,
    pub global_known_hosts: Option<Vec<String>>,
    pub strict: Option<Strict>,
    pub compression: Option<bool>,
    pub host_key_alias: Option<String>,
    pub identity_agent: Option<String>,
    pub server_alive_interval: Option<u64>,
    pub server_alive_count_max: Option<u32>,
    pub connection_attempts: Option<u32>,
    pub preferred_authentications: Option<String>,
    pub batch_mode: Option<bool>,
    pub hash_known_hosts: Option<bool>,
    pub connect_timeout: Option<u64>,
    pub canonicalize: Option<Canon>,
}

fn first<T>(slot: &mut Option<T>, v: T) {
    if slot.is_none() {
        *slot = Some(v);
    }
}

fn add(list: &mut Vec<(String, Class)>, v: &str, class: Class) {
    if !list.iter().any(|(p, c)| p == v && *c == class) {
        list.push((v.to_string(), class));
    }
}

impl Opts {
    fn apply(&mut self, s: &Setting, class: Class) {
        use Setting as S;
        match s {
            S::HostName(v) => first(&mut self.hostname, v.clone()),
            S::User(v) => first(&mut self.user, v.clone()),
            S::Port(v) => first(&mut self.port, *v),
            S::IdentityFile(v) => add(&mut self.identity_files, v, class),
            S::CertificateFile(v) => add(&mut self.certificate_files, v, class),
            S::IdentitiesOnly(v) => first(&mut self.identities_only, *v),
            // ProxyJump and ProxyCommand exclude each other: the first set
            // wins. A jump blocks later commands; `ProxyJump none` does not
            // (Debian's OpenSSH 9.2, the oracle here).
            S::ProxyJump(v) => {
                if self.proxy_jump.is_none() && self.proxy_command.is_none() {
                    if !v.eq_ignore_ascii_case("none") {
                        self.proxy_command = Some("none".into());
                    }
                    self.proxy_jump = Some(v.clone());
                }
            }
            S::ProxyCommand(v) => first(&mut self.proxy_command, v.clone()),
            S::UserKnownHostsFile(v) => first(&mut self.user_known_hosts, v.clone()),
            S::GlobalKnownHostsFile(v) => first(&mut self.global_known_hosts, v.clone()),
            S::StrictHostKeyChecking(v) => first(&mut self.strict, v.clone()),
            S::Compression(v) => first(&mut self.compression, *v),
            S::HostKeyAlias(v) => first(&mut self.host_key_alias, v.clone()),
            S::IdentityAgent(v) => first(&mut self.identity_agent, v.clone()),
            // `none` leaves these unset, so a later line may still set them.
            S::ServerAliveInterval(v) => {
                if let Some(v) = v {
                    first(&mut self.server_alive_interval, *v)
                }
            }
            S::ConnectTimeout(v) => {
                if let Some(v) = v {
                    first(&mut self.connect_timeout, *v)
                }
            }
            S::ServerAliveCountMax(v) => first(&mut self.server_alive_count_max, *v),
            S::ConnectionAttempts(v) => first(&mut self.connection_attempts, *v),
            S::PreferredAuthentications(v) => first(&mut self.preferred_authentications, v.clone()),
            S::BatchMode(v) => first(&mut self.batch_mode, *v),
            S::HashKnownHosts(v) => first(&mut self.hash_known_hosts, *v),
            S::CanonicalizeHostname(v) => first(&mut self.canonicalize, *v),
            S::IgnoreUnknown(_) => {}
        }
    }
}

/// Results of `Match exec` commands, by the command as expanded: a
/// thousand hosts with the same test run it once.
#[derive(Default)]
pub struct ExecCache(Mutex<HashMap<String, bool>>);

impl ExecCache {
    fn run(&self, command: &str) -> bool {
        if let Some(&r) = self
            .0
            .lock()
            .ok()
            .and_then(|m| m.get(command).copied())
            .as_ref()
        {
            return r;
        }
        let shell = std::env::var("SHELL")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "/bin/sh".into());
        let ok = std::process::Command::new(shell)
            .arg("-c")
            .arg(command)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if let Ok(mut m) = self.0.lock() {
            m.insert(command.to_string(), ok);
        }
        ok
    }
}

/// One pass over the files for one host.
pub struct Pass<'a> {
    pub query: &'a Query,
    pub local: &'a Local,
    /// The final pass: `Match final`/`canonical` hold and `Host` lines see
    /// the final host name.
    pub is_final: bool,
    pub exec: &'a ExecCache,
    /// The first error met while evaluating (a bad token in `Match exec`).
    pub error: Option<String>,
}

impl Pass<'_> {
    /// The name `Host` lines are matched against.
    fn host_for_host_lines(&self, o: &Opts) -> String {
        match (&o.hostname, self.is_final) {
            (Some(h), true) => h.clone(),
            _ => self.query.host.clone(),
        }
    }

    /// The host `Match host` and `%h` see now: HostName so far (with `%h`),
    /// or the name as typed.
    fn current_host(&self, o: &Opts) -> String {
        match &o.hostname {
            Some(h) if self.is_final => h.clone(),
            Some(h) => Tokens::host_only(&self.query.host)
                .expand(h, false)
                .unwrap_or_else(|_| h.clone()),
            None => self.query.host.clone(),
        }
    }

    pub fn walk(
        &mut self,
        parsed: &Parsed,
        mut active: bool,
        never: bool,
        class: Class,
        o: &mut Opts,
    ) {
        for item in &parsed.items {
            match item {
                Item::Host(patterns) => {
                    active = !never && host_line_matches(patterns, &self.host_for_host_lines(o));
                }
                Item::Match(criteria) => {
                    let m = self.criteria(criteria, o);
                    active = !never && m;
                }
                Item::Include(files) => {
                    for f in files {
                        // The file starts with this block's state, and what
                        // it leaves does not leak back here.
                        self.walk(f, active, never || !active, class, o);
                    }
                }
                Item::Set(s, _) if active => o.apply(s, class),
                Item::Set(..) => {}
            }
        }
    }

    fn criteria(&mut self, criteria: &[(bool, Criterion)], o: &Opts) -> bool {
        let mut result = true;
        for (negated, c) in criteria {
            let hit = match c {
                Criterion::All => true,
                Criterion::Canonical | Criterion::Final => self.is_final,
                Criterion::Host(list) => host_matches(list, &self.current_host(o)),
                Criterion::OriginalHost(list) => host_matches(list, &self.query.host),
                Criterion::User(list) => {
                    let ruser = o.user.clone().unwrap_or_else(|| self.local.user.clone());
                    list_matches(list, &ruser, false)
                }
                Criterion::LocalUser(list) => list_matches(list, &self.local.user, false),
                Criterion::Exec(cmd) => {
                    // Not run once the line has already failed.
                    if !result {
                        continue;
                    }
                    let host = self.current_host(o);
                    let ruser = o.user.clone().unwrap_or_else(|| self.local.user.clone());
                    let t = Tokens::new(
                        self.local,
                        &host,
                        o.port.unwrap_or(22),
                        &ruser,
                        &self.query.host,
                        o.host_key_alias.as_deref(),
                    );
                    match t.expand(cmd, false) {
                        Ok(cmd) => self.exec.run(&cmd),
                        Err(e) => {
                            self.error.get_or_insert(format!("Match exec {cmd:?}: {e}"));
                            false
                        }
                    }
                }
            };
            // `!all` never matches.
            let hit = if *negated && !matches!(c, Criterion::All) {
                !hit
            } else {
                hit && !*negated
            };
            if !hit {
                result = false;
            }
        }
        result
    }
}

/// Whether `host` is an address (not a name to lowercase): it has `:` or
/// `%`, is all digits and dots, or parses as one.
pub fn is_addr(host: &str) -> bool {
    host.contains([':', '%'])
        || host.chars().all(|c| c.is_ascii_digit() || c == '.')
        || numeric_form(host).is_some()
}

/// An address in the form getnameinfo(NI_NUMERICHOST) gives it (`127.1`
/// is `127.0.0.1`, `0:0::1` is `::1`); `None` if it is not one.
pub fn numeric_form(host: &str) -> Option<String> {
    let c = std::ffi::CString::new(host).ok()?;
    // SAFETY: plain getaddrinfo/getnameinfo on a NUL-terminated string;
    // the list is freed before returning.
    unsafe {
        let mut hints: libc::addrinfo = std::mem::zeroed();
        hints.ai_flags = libc::AI_NUMERICHOST;
        hints.ai_family = libc::AF_UNSPEC;
        let mut res: *mut libc::addrinfo = std::ptr::null_mut();
        if libc::getaddrinfo(c.as_ptr(), std::ptr::null(), &hints, &mut res) != 0 || res.is_null() {
            return None;
        }
        let mut buf = [0 as libc::c_char; 1025];
        let r = libc::getnameinfo(
            (*res).ai_addr,
            (*res).ai_addrlen,
            buf.as_mut_ptr(),
            buf.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NUMERICHOST,
        );
        libc::freeaddrinfo(res);
        if r != 0 {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr(buf.as_ptr())
                .to_string_lossy()
                .into_owned(),
        )
    }
}

/// The host to connect to after HostName: addresses in their numeric form,
/// names lowercased.
pub fn final_host(host: &str) -> String {
    if is_addr(host) {
        match numeric_form(host) {
            Some(n) if !n.eq_ignore_ascii_case(host) => n,
            _ => host.to_string(),
        }
    } else {
        host.to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised_and_names_lowercased() {
        assert_eq!(final_host("127.1"), "127.0.0.1");
        assert_eq!(final_host("0:0::1"), "::1");
        assert_eq!(final_host("FE80::1"), "FE80::1");
        assert_eq!(final_host("MiXeD.Example.COM"), "mixed.example.com");
        assert_eq!(final_host("010.1.1.1"), "8.1.1.1");
        assert!(is_addr("::1") && is_addr("10.0.0.1") && !is_addr("web1"));
    }
}
