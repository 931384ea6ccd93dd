//! The user's OpenSSH client config, resolved exactly as `ssh -G` resolves
//! it, for the directives sshdeck uses: `~/.ssh/config` then
//! `/etc/ssh/ssh_config` (or `-F FILE` alone), `Include` with globs,
//! `Host` and `Match` (`all`, `host`, `originalhost`, `user`, `localuser`,
//! `exec`, `canonical`, `final`, negated), first value wins across files,
//! `%` tokens, `~` and `${VAR}` where OpenSSH expands them.
//!
//! Files are read and checked once, at start; each host is then resolved
//! in a walk over the parsed lines, so a 1,000-host config costs
//! milliseconds. `tests/ssh_config_oracle.rs` compares the result with
//! `ssh -G` on a corpus of tricky configs.
//!
//! CanonicalizeHostname's DNS search is not done (the host name is kept);
//! its second pass is, so `Match canonical` and `Host` lines behave as in
//! OpenSSH whenever no search domain would have changed the name.

mod eval;
mod lex;
mod parse;
mod pattern;
pub mod tokens;

use std::path::{Path, PathBuf};

pub use eval::Query;
use eval::{Class, ExecCache, Opts, Pass, final_host};
pub use parse::Strict;
use parse::{Canon, ConfigScope, Parsed, Reader};
use tokens::{Local, Tokens};

use super::config::ConfigError;

/// OpenSSH's system-wide client config.
pub const SYSTEM_CONFIG: &str = "/etc/ssh/ssh_config";

/// The files as read, ready to resolve hosts.
pub struct SshConfig {
    /// (class, parsed file); the user file first.
    files: Vec<(Class, Parsed)>,
    wants_final: bool,
    host_names: Vec<String>,
    /// Where each of `host_names` was written: the file and line a
    /// refused name's message points at.
    host_locs: Vec<parse::Loc>,
    local: Local,
    exec: ExecCache,
    pub paths: Vec<PathBuf>,
}

/// What ssh_config says about one host, defaults filled in. Lists and
/// paths are kept as `ssh -G` prints them; [`Resolved::expand_path`]
/// gives the file to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The name as typed.
    pub host: String,
    /// Where to connect: HostName (with `%h`) or the name, lowercased, or
    /// an address in its numeric form.
    pub hostname: String,
    /// `None` when neither the query nor the files set it (`ssh -G` then
    /// shows the local user, and port 22).
    pub user: Option<String>,
    pub port: Option<u16>,
    /// As written; empty when none was configured (`ssh -G` then lists
    /// OpenSSH's defaults).
    pub identity_files: Vec<String>,
    pub certificate_files: Vec<String>,
    pub identities_only: bool,
    /// As written; `None` when unset or `none`.
    pub proxy_jump: Option<String>,
    pub proxy_command: Option<String>,
    /// Expanded (`~`, tokens, `${VAR}`); `None` when not configured.
    pub user_known_hosts: Option<Vec<String>>,
    /// As written (`~` is expanded when opened); `None` when not configured.
    pub global_known_hosts: Option<Vec<String>>,
    pub strict: Strict,
    pub compression: bool,
    /// Lowercased.
    pub host_key_alias: Option<String>,
    /// Expanded, or `none`, or `SSH_AUTH_SOCK`.
    pub identity_agent: Option<String>,
    /// Seconds; 0 is off.
    pub server_alive_interval: u64,
    pub server_alive_count_max: u32,
    pub connection_attempts: u32,
    pub preferred_authentications: Option<String>,
    pub batch_mode: bool,
    pub hash_known_hosts: bool,
    pub connect_timeout: Option<u64>,
    tokens: Tokens,
    local: Local,
}

/// OpenSSH's default identity files, in its order (`ssh -G` lists them
/// when none is configured).
pub const DEFAULT_IDENTITIES: &[&str] = &[
    "~/.ssh/id_rsa",
    "~/.ssh/id_ecdsa",
    "~/.ssh/id_ecdsa_sk",
    "~/.ssh/id_ed25519",
    "~/.ssh/id_ed25519_sk",
    "~/.ssh/id_xmss",
    "~/.ssh/id_dsa",
];

/// UserKnownHostsFile when ssh_config sets none: under `$HOME`, the files
/// sshdeck checks without ssh_config (cli::setup), so `hosts -G` prints
/// what is really read. OpenSSH takes the password database's home here;
/// the two differ only when `$HOME` was changed.
fn default_user_known_hosts() -> Vec<String> {
    let home = crate::engine::connection::target::home_dir()
        .map(|h| h.display().to_string())
        .unwrap_or_else(|| "~".into());
    vec![
        format!("{home}/.ssh/known_hosts"),
        format!("{home}/.ssh/known_hosts2"),
    ]
}

fn default_global() -> Vec<String> {
    vec![
        "/etc/ssh/ssh_known_hosts".into(),
        "/etc/ssh/ssh_known_hosts2".into(),
    ]
}

fn resolve_err(host: &str, msg: impl std::fmt::Display) -> ConfigError {
    ConfigError::Io {
        path: PathBuf::from("ssh_config"),
        cause: format!("{host}: {msg}"),
    }
}

impl SshConfig {
    /// Read the user's config (and the system one after it). With `-F`,
    /// `explicit` is that file alone and must exist; `none` reads nothing.
    pub fn load(
        explicit: Option<&Path>,
        user_default: Option<&Path>,
    ) -> Result<SshConfig, ConfigError> {
        let mut files = Vec::new();
        let mut paths = Vec::new();
        let mut wants_final = false;
        let mut host_names = Vec::new();
        let mut host_locs = Vec::new();
        let mut read =
            |path: &Path, kind: ConfigScope, required: bool| -> Result<(), ConfigError> {
                if !required && !path.exists() {
                    return Ok(());
                }
                check_permissions(path)?;
                let mut r = Reader::new(kind);
                let parsed = r.read(path)?;
                wants_final |= r.wants_final;
                for (h, loc) in r.host_names.into_iter().zip(r.host_locs) {
                    if !host_names.contains(&h) {
                        host_names.push(h);
                        host_locs.push(loc);
                    }
                }
                let class = if kind == ConfigScope::User {
                    Class::User
                } else {
                    Class::System
                };
                files.push((class, parsed));
                paths.push(path.to_path_buf());
                Ok(())
            };
        match explicit {
            Some(p) if p.as_os_str() == "none" => {}
            Some(p) => read(p, ConfigScope::User, true)?,
            None => {
                if let Some(p) = user_default {
                    read(p, ConfigScope::User, false)?;
                }
                read(Path::new(SYSTEM_CONFIG), ConfigScope::System, false)?;
            }
        }
        Ok(SshConfig {
            files,
            wants_final,
            host_names,
            host_locs,
            local: Local::read(),
            exec: ExecCache::default(),
            paths,
        })
    }

    /// Parse `text` as a user config at `path` (tests, fuzzing).
    pub fn parse(path: &Path, text: &str) -> Result<SshConfig, ConfigError> {
        let mut r = Reader::new(ConfigScope::User);
        let parsed = r.parse_text(path, text, 0)?;
        Ok(SshConfig {
            files: vec![(Class::User, parsed)],
            wants_final: r.wants_final,
            host_names: r.host_names,
            host_locs: r.host_locs,
            local: Local::read(),
            exec: ExecCache::default(),
            paths: vec![path.to_path_buf()],
        })
    }

    /// `Host` names without wildcards or negation: the machines the user
    /// named, shown in the inventory tagged `ssh_config`.
    pub fn concrete_hosts(&self) -> &[String] {
        &self.host_names
    }

    /// `FILE:LINE` of the `Host` line that named `name`, if one did.
    pub fn host_origin(&self, name: &str) -> Option<String> {
        let i = self.host_names.iter().position(|h| h == name)?;
        let loc = self.host_locs.get(i)?;
        Some(format!("{}:{}", loc.file.display(), loc.line))
    }

    /// Resolve one host.
    pub fn resolve(&self, q: &Query) -> Result<Resolved, ConfigError> {
        // The last line of defence: `Match exec` below runs the shell with
        // these names in it. Callers check first, naming where the name
        // came from; this catches a path that did not.
        crate::inventory::shell_safe::check_host(&q.host, "ssh_config query")?;
        if let Some(u) = &q.user {
            crate::inventory::shell_safe::check_user(u, "ssh_config query")?;
        }
        let mut o = Opts {
            user: q.user.clone(),
            port: q.port,
            ..Opts::default()
        };
        if let Some(j) = &q.jump {
            o.proxy_jump = Some(j.clone());
            if !j.eq_ignore_ascii_case("none") {
                o.proxy_command = Some("none".into());
            }
        }
        let mut pass = Pass {
            query: q,
            local: &self.local,
            is_final: false,
            exec: &self.exec,
            error: None,
        };
        for (class, f) in &self.files {
            pass.walk(f, true, false, *class, &mut o);
        }
        let typed = match &o.hostname {
            Some(h) => Tokens::host_only(&q.host)
                .expand(h, false)
                .map_err(|e| resolve_err(&q.host, format!("HostName {h:?}: {e}")))?,
            None => q.host.clone(),
        };
        let host = final_host(&typed);
        o.hostname = Some(host.clone());
        let canon = o.canonicalize.unwrap_or(Canon::No);
        if self.wants_final || canon != Canon::No {
            pass.is_final = true;
            for (class, f) in &self.files {
                pass.walk(f, true, false, *class, &mut o);
            }
        }
        if let Some(e) = pass.error {
            return Err(resolve_err(&q.host, e));
        }
        self.finish(q, host, o)
    }

    /// Defaults, then the expansions `ssh -G` shows.
    fn finish(&self, q: &Query, host: String, o: Opts) -> Result<Resolved, ConfigError> {
        let user = o.user.clone().unwrap_or_else(|| self.local.user.clone());
        let port = o.port.unwrap_or(22);
        let alias = o.host_key_alias.map(|a| a.to_ascii_lowercase());
        let tokens = Tokens::new(&self.local, &host, port, &user, &q.host, alias.as_deref());
        let expand = |what: &str, v: &str| -> Result<String, ConfigError> {
            let v = tokens::tilde(v, &self.local).map_err(|e| resolve_err(&q.host, e))?;
            tokens
                .expand(&v, true)
                .map_err(|e| resolve_err(&q.host, format!("{what} {v:?}: {e}")))
        };
        let user_known_hosts = match o.user_known_hosts {
            Some(files) => Some(
                files
                    .iter()
                    .map(|f| {
                        if f == "none" {
                            Ok(f.clone())
                        } else {
                            expand("UserKnownHostsFile", f)
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        let identity_agent = match o.identity_agent {
            Some(a) if a == "none" || a == "SSH_AUTH_SOCK" || a == "$SSH_AUTH_SOCK" => Some(a),
            Some(a) => Some(expand("IdentityAgent", &a)?),
            None => None,
        };
        let batch_mode = o.batch_mode.unwrap_or(false);
        let none = |v: Option<String>| v.filter(|s| !s.eq_ignore_ascii_case("none"));
        Ok(Resolved {
            host: q.host.clone(),
            hostname: host,
            user: o.user,
            port: o.port,
            identity_files: o.identity_files.into_iter().map(|(p, _)| p).collect(),
            certificate_files: o.certificate_files.into_iter().map(|(p, _)| p).collect(),
            identities_only: o.identities_only.unwrap_or(false),
            proxy_jump: none(o.proxy_jump),
            proxy_command: none(o.proxy_command),
            user_known_hosts,
            global_known_hosts: o.global_known_hosts,
            strict: o.strict.unwrap_or(Strict::Ask),
            compression: o.compression.unwrap_or(false),
            host_key_alias: alias,
            identity_agent,
            // Debian's OpenSSH keeps batch connections alive by default.
            server_alive_interval: o.server_alive_interval.unwrap_or(if batch_mode {
                300
            } else {
                0
            }),
            server_alive_count_max: o.server_alive_count_max.unwrap_or(3),
            connection_attempts: o.connection_attempts.unwrap_or(1),
            preferred_authentications: o.preferred_authentications,
            batch_mode,
            hash_known_hosts: o.hash_known_hosts.unwrap_or(false),
            connect_timeout: o.connect_timeout,
            tokens,
            local: self.local.clone(),
        })
    }
}

impl Resolved {
    /// An IdentityFile or CertificateFile as the file to open: `~`, `%`
    /// tokens and `${VAR}`, as OpenSSH expands them when connecting.
    pub fn expand_path(&self, v: &str) -> Result<PathBuf, String> {
        let v = tokens::tilde(v, &self.local)?;
        self.tokens.expand(&v, true).map(PathBuf::from)
    }

    /// The known_hosts files to check, when ssh_config names any:
    /// UserKnownHostsFile (the first one is where new keys are saved),
    /// then GlobalKnownHostsFile (only `~` is expanded there). `None`
    /// leaves sshdeck's own list.
    pub fn known_hosts_paths(&self) -> Option<Vec<PathBuf>> {
        if self.user_known_hosts.is_none() && self.global_known_hosts.is_none() {
            return None;
        }
        let user = self
            .user_known_hosts
            .clone()
            .unwrap_or_else(default_user_known_hosts);
        let global = self
            .global_known_hosts
            .clone()
            .unwrap_or_else(default_global);
        let global = global
            .into_iter()
            .map(|f| tokens::tilde(&f, &self.local).unwrap_or(f));
        Some(
            user.into_iter()
                .chain(global)
                .filter(|f| f != "none")
                .map(PathBuf::from)
                .collect(),
        )
    }

    /// The ProxyCommand with its tokens (`%h %k %n %p %r %%`), ready for
    /// the shell.
    pub fn proxy_command_line(&self) -> Option<Result<String, String>> {
        let cmd = self.proxy_command.as_ref()?;
        Some(self.tokens.only("hknpr").expand(cmd, false))
    }

    /// What `ssh -G` prints for the directives sshdeck resolves, keyword
    /// and value per line, in its spelling (for the oracle test and
    /// `sshdeck hosts --ssh-config`).
    pub fn ssh_g(&self) -> Vec<(&'static str, String)> {
        let yn = |b: bool| if b { "yes" } else { "no" }.to_string();
        let mut v = vec![
            ("hostname", self.hostname.clone()),
            (
                "user",
                self.user.clone().unwrap_or_else(|| self.local.user.clone()),
            ),
            ("port", self.port.unwrap_or(22).to_string()),
            ("batchmode", yn(self.batch_mode)),
            ("compression", yn(self.compression)),
            ("hashknownhosts", yn(self.hash_known_hosts)),
            ("identitiesonly", yn(self.identities_only)),
            (
                "stricthostkeychecking",
                match self.strict {
                    Strict::Yes => "true",
                    Strict::No => "false",
                    Strict::Ask => "ask",
                    Strict::AcceptNew => "accept-new",
                }
                .to_string(),
            ),
            ("connectionattempts", self.connection_attempts.to_string()),
            (
                "serveralivecountmax",
                self.server_alive_count_max.to_string(),
            ),
            (
                "serveraliveinterval",
                self.server_alive_interval.to_string(),
            ),
        ];
        if let Some(a) = &self.host_key_alias {
            v.push(("hostkeyalias", a.clone()));
        }
        if let Some(a) = &self.identity_agent {
            v.push(("identityagent", a.clone()));
        }
        if let Some(p) = &self.preferred_authentications {
            v.push(("preferredauthentications", p.clone()));
        }
        let ids: Vec<String> = if self.identity_files.is_empty() {
            DEFAULT_IDENTITIES.iter().map(|s| s.to_string()).collect()
        } else {
            self.identity_files.clone()
        };
        v.extend(ids.into_iter().map(|f| ("identityfile", f)));
        v.extend(
            self.certificate_files
                .iter()
                .map(|f| ("certificatefile", f.clone())),
        );
        let global = self
            .global_known_hosts
            .clone()
            .unwrap_or_else(default_global);
        v.push(("globalknownhostsfile", global.join(" ")));
        let user = self
            .user_known_hosts
            .clone()
            .unwrap_or_else(default_user_known_hosts);
        v.push(("userknownhostsfile", user.join(" ")));
        v.push((
            "connecttimeout",
            self.connect_timeout
                .map_or_else(|| "none".to_string(), |t| t.to_string()),
        ));
        if let Some(j) = &self.proxy_jump {
            v.push(("proxyjump", jump_display(j)));
        } else if let Some(c) = &self.proxy_command {
            v.push(("proxycommand", c.clone()));
        }
        v
    }
}

/// A ProxyJump as `ssh -G` prints it: the hops before the last as written,
/// the last one rebuilt (`ssh://` dropped, an address in brackets, the
/// port only when given).
fn jump_display(spec: &str) -> String {
    let (extra, last) = match spec.rsplit_once(',') {
        Some((e, l)) => (Some(e), l),
        None => (None, spec),
    };
    let last = last
        .strip_prefix("ssh://")
        .unwrap_or(last)
        .trim_end_matches('/');
    let (user, host_port) = match last.rsplit_once('@') {
        Some((u, hp)) => (Some(u), hp),
        None => (None, last),
    };
    let (host, port) = if let Some(rest) = host_port.strip_prefix('[') {
        let (h, after) = rest.split_once(']').unwrap_or((rest, ""));
        (h, after.strip_prefix(':'))
    } else {
        match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    let host = if host.contains(':') || host.chars().all(|c| c.is_ascii_digit() || c == '.') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let mut out = String::new();
    if let Some(e) = extra {
        out.push_str(e);
        out.push(',');
    }
    if let Some(u) = user {
        out.push_str(u);
        out.push('@');
    }
    out.push_str(&host);
    if let Some(p) = port.and_then(parse::port) {
        out.push_str(&format!(":{p}"));
    }
    out
}

/// OpenSSH refuses a config others can write to.
fn check_permissions(path: &Path) -> Result<(), ConfigError> {
    use std::os::unix::fs::MetadataExt;
    let Ok(m) = std::fs::metadata(path) else {
        return Ok(());
    };
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    if (m.uid() != 0 && m.uid() != uid) || m.mode() & 0o002 != 0 {
        return Err(ConfigError::Io {
            path: path.into(),
            cause:
                "bad owner or permissions (it must be yours or root's, and not writable by others)"
                    .into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
