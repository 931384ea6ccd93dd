//! The user's OpenSSH client config (`~/.ssh/config`, with `Include`), read
//! with the `ssh2-config` crate. sshdeck honours the directives that decide
//! where and how to connect, so a fleet already described there just works.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ssh2_config::{ParseRule, SshConfig};

use super::config::{ConfigError, expand_home};
use crate::engine::HostKeyPolicy;

/// What ssh_config says about one host alias.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SshParams {
    pub host_name: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_files: Vec<PathBuf>,
    pub identities_only: bool,
    /// ProxyJump hops as written; empty for none.
    pub proxy_jump: Vec<String>,
    pub connect_timeout: Option<Duration>,
    pub server_alive_interval: Option<Duration>,
    pub user_known_hosts: Vec<PathBuf>,
    pub policy: Option<HostKeyPolicy>,
}

pub struct SshConfigFile {
    pub path: PathBuf,
    cfg: SshConfig,
}

impl SshConfigFile {
    /// Read `path`. A missing default file is not an error; a missing file
    /// the user named is.
    pub fn load(path: &Path, required: bool) -> Result<Option<SshConfigFile>, ConfigError> {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(ConfigError::Io {
                    path: path.into(),
                    cause: e.to_string(),
                });
            }
        };
        let mut reader = std::io::BufReader::new(file);
        let mut cfg = SshConfig::default();
        if let Some(home) = crate::engine::target::home_dir() {
            cfg = cfg.home_dir(home);
        }
        // Directives this crate does not model (StrictHostKeyChecking, ...)
        // are kept as "unsupported fields" so we can read them ourselves.
        let rules = ParseRule::ALLOW_UNKNOWN_FIELDS | ParseRule::ALLOW_UNSUPPORTED_FIELDS;
        let cfg = cfg.parse(&mut reader, rules).map_err(|e| ConfigError::Io {
            path: path.into(),
            cause: format!("invalid ssh_config: {e}"),
        })?;
        Ok(Some(SshConfigFile {
            path: path.into(),
            cfg,
        }))
    }

    /// `Host` names without wildcards or negation: real machines the user
    /// named, shown in the inventory tagged `ssh_config`.
    pub fn concrete_hosts(&self) -> Vec<String> {
        let mut out = Vec::new();
        for h in self.cfg.get_hosts() {
            for clause in &h.pattern {
                let p = &clause.pattern;
                if !clause.negated && !p.contains(['*', '?', '!']) && !out.contains(p) {
                    out.push(p.clone());
                }
            }
        }
        out
    }

    pub fn resolve(&self, alias: &str) -> SshParams {
        let p = self.cfg.query(alias);
        let field = |name: &str| -> Option<Vec<String>> { p.unsupported_fields.get(name).cloned() };
        let first = |name: &str| field(name).and_then(|v| v.into_iter().next());
        let proxy_jump = match &p.proxy_jump {
            Some(v) if !(v.len() == 1 && v[0].eq_ignore_ascii_case("none")) => v.clone(),
            _ => Vec::new(),
        };
        SshParams {
            host_name: p.host_name.clone().map(|h| expand_tokens(&h, alias)),
            user: p.user.clone(),
            port: p.port,
            identity_files: p
                .identity_file
                .clone()
                .unwrap_or_default()
                .iter()
                .map(|f| expand_home(f))
                .collect(),
            identities_only: first("identitiesonly").is_some_and(|v| v.eq_ignore_ascii_case("yes")),
            proxy_jump,
            connect_timeout: p.connect_timeout,
            server_alive_interval: p.server_alive_interval.filter(|d| !d.is_zero()),
            user_known_hosts: field("userknownhostsfile")
                .unwrap_or_default()
                .iter()
                .flat_map(|v| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
                .map(|f| expand_home(Path::new(&f)))
                .collect(),
            policy: first("stricthostkeychecking").and_then(|v| {
                match v.to_ascii_lowercase().as_str() {
                    "yes" => Some(HostKeyPolicy::Strict),
                    "accept-new" => Some(HostKeyPolicy::AcceptNew),
                    // sshdeck never goes below accept-new: a changed key is
                    // always refused, whatever ssh_config says.
                    "no" | "off" => Some(HostKeyPolicy::AcceptNew),
                    "ask" => Some(HostKeyPolicy::Ask),
                    _ => None,
                }
            }),
        }
    }
}

/// `%h` in HostName is the alias (e.g. `HostName %h.example.com`).
fn expand_tokens(value: &str, alias: &str) -> String {
    value.replace("%h", alias).replace("%%", "%")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> SshConfigFile {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        std::fs::write(&p, text).unwrap();
        SshConfigFile::load(&p, true).unwrap().unwrap()
    }

    #[test]
    fn resolves_the_directives_we_honour() {
        let c = load(
            "Host web1\n  HostName 10.0.0.1\n  User deploy\n  Port 2222\n  IdentityFile /k/web\n  IdentitiesOnly yes\n  ProxyJump bastion,admin@gw:22\n  ConnectTimeout 7\n  ServerAliveInterval 15\n  UserKnownHostsFile /kh/a /kh/b\n  StrictHostKeyChecking accept-new\n\nHost *\n  User fallback\n  IdentityFile /k/all\n",
        );
        let p = c.resolve("web1");
        assert_eq!(p.host_name.as_deref(), Some("10.0.0.1"));
        assert_eq!(p.user.as_deref(), Some("deploy"));
        assert_eq!(p.port, Some(2222));
        assert_eq!(
            p.identity_files,
            [PathBuf::from("/k/web"), PathBuf::from("/k/all")]
        );
        assert!(p.identities_only);
        assert_eq!(p.proxy_jump, ["bastion", "admin@gw:22"]);
        assert_eq!(p.connect_timeout, Some(Duration::from_secs(7)));
        assert_eq!(p.server_alive_interval, Some(Duration::from_secs(15)));
        assert_eq!(
            p.user_known_hosts,
            [PathBuf::from("/kh/a"), PathBuf::from("/kh/b")]
        );
        assert_eq!(p.policy, Some(HostKeyPolicy::AcceptNew));
        let other = c.resolve("db9");
        assert_eq!(other.user.as_deref(), Some("fallback"));
        assert_eq!(other.host_name, None);
        assert_eq!(c.concrete_hosts(), ["web1"]);
    }

    #[test]
    fn include_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let inc = dir.path().join("extra.conf");
        std::fs::write(&inc, "Host db1\n  HostName 10.9.9.9\n").unwrap();
        let p = dir.path().join("config");
        std::fs::write(
            &p,
            format!("Include {}\n\nHost web1\n  HostName w\n", inc.display()),
        )
        .unwrap();
        let c = SshConfigFile::load(&p, true).unwrap().unwrap();
        assert_eq!(c.resolve("db1").host_name.as_deref(), Some("10.9.9.9"));
        assert!(c.concrete_hosts().contains(&"db1".to_string()));
    }

    #[test]
    fn strict_no_never_means_accept_anything() {
        let c = load("Host *\n  StrictHostKeyChecking no\n  ProxyJump none\n");
        let p = c.resolve("x");
        assert_eq!(p.policy, Some(HostKeyPolicy::AcceptNew));
        assert!(p.proxy_jump.is_empty());
    }

    #[test]
    fn missing_default_file_is_fine_but_named_file_is_not() {
        assert!(
            SshConfigFile::load(Path::new("/nonexistent/cfg"), false)
                .unwrap()
                .is_none()
        );
        assert!(SshConfigFile::load(Path::new("/nonexistent/cfg"), true).is_err());
    }
}
