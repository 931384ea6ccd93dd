//! `config.toml`: defaults and named hosts. Every error names file:line:col.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;
use toml::Spanned;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub defaults: Defaults,
    /// Group name → node set (e.g. `web = "web[01-20]"`), used as `@web`.
    #[serde(default)]
    pub groups: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub hosts: Vec<HostEntry>,
    /// Ansible inventories (files, directories, scripts), read after
    /// config.toml's own hosts, as `--inventory` names them.
    #[serde(default)]
    pub inventory: Vec<PathBuf>,
    /// Prompts answered with a named secret, asked once per session.
    #[serde(default)]
    pub expect: Vec<ExpectEntry>,
    /// User-defined facts collectors.
    #[serde(default)]
    pub facts: Vec<super::facts_config::FactsEntry>,
    /// Host-list columns showing facts.
    #[serde(default)]
    pub columns: Vec<super::facts_config::ColumnEntry>,
    /// Multi-step recipes (put, run, get, wait).
    #[serde(default)]
    pub recipes: Vec<super::recipes_config::RecipeEntry>,
    /// Saved commands for the command palette.
    #[serde(default)]
    pub commands: Vec<super::recipes_config::CommandEntry>,
    /// Key rebindings, per keymap context.
    #[serde(default)]
    pub keys: super::keys_config::KeysSection,
    /// Where each `[[hosts]]` entry's name is written ("FILE:LINE"), in
    /// the order of `hosts`: the host list's info says where a host
    /// comes from.
    #[serde(skip)]
    pub host_origins: Vec<String>,
}

/// `[[expect]] pattern = "\\[sudo\\] password for .*:" secret = "sudo"`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectEntry {
    /// A regular expression matched against the current output line.
    pub pattern: Spanned<String>,
    /// Name of the secret that answers it; rules may share one.
    pub secret: Spanned<String>,
    /// Text meaning the answer was refused: the secret is asked again.
    pub failure: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    pub user: Option<String>,
    pub port: Option<u16>,
    /// Seconds allowed for TCP connect, handshake and authentication.
    pub connect_timeout: Option<Spanned<f64>>,
    /// Seconds a command may run before it is stopped; unset = no limit.
    pub command_timeout: Option<Spanned<f64>>,
    /// Most connection attempts in flight at once.
    pub concurrency: Option<Spanned<usize>>,
    #[serde(default)]
    pub identity_files: Vec<PathBuf>,
    #[serde(default)]
    pub known_hosts: Vec<PathBuf>,
    /// "ask" (default), "accept-new" or "strict".
    pub host_key_policy: Option<Spanned<String>>,
    /// Lines of output kept per host in the TUI.
    pub scrollback: Option<Spanned<usize>>,
    /// Offer ssh-agent keys (default true).
    pub use_agent: Option<bool>,
    /// OpenSSH client config to read; default ~/.ssh/config. "none" disables.
    pub ssh_config: Option<PathBuf>,
    /// Record shells (asciicast) and command output (text logs) here.
    pub record_dir: Option<PathBuf>,
    /// Facts collectors to run, by name (default: all of them).
    pub facts: Option<Vec<Spanned<String>>>,
    /// Seconds between runs of a collector on a connected host.
    pub facts_interval: Option<Spanned<f64>>,
    /// Seconds a collector may run before it is stopped.
    pub facts_timeout: Option<Spanned<f64>>,
    /// Connect to every host when the TUI starts, to show their facts.
    pub facts_on_start: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostEntry {
    pub name: Spanned<String>,
    /// Defaults to `name`.
    pub address: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    #[serde(default)]
    pub identity_files: Vec<PathBuf>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// ProxyJump chain: `"bastion"` or `"a,user@b:2222"`.
    pub jump: Option<String>,
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{}: cannot read: {cause}", path.display())]
    Io { path: PathBuf, cause: String },
    #[error("{}:{line}:{col}: {msg}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        col: usize,
        msg: String,
    },
    #[error(transparent)]
    Unsafe(#[from] super::shell_safe::UnsafeName),
}

/// `$XDG_CONFIG_HOME/sshdeck/config.toml`, else `~/.config/sshdeck/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| crate::engine::target::home_dir().map(|h| h.join(".config")))?;
    Some(base.join("sshdeck").join("config.toml"))
}

impl Config {
    /// Load `path`. `required` is false for the default location, which may
    /// simply not exist yet.
    pub fn load(path: &Path, required: bool) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Config::default());
            }
            Err(e) => {
                return Err(ConfigError::Io {
                    path: path.into(),
                    cause: e.to_string(),
                });
            }
        };
        Config::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let invalid = |offset: usize, msg: String| {
            let (line, col) = line_col(text, offset);
            ConfigError::Invalid {
                path: path.into(),
                line,
                col,
                msg,
            }
        };
        let mut cfg: Config = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            invalid(offset, e.message().to_string())
        })?;
        if let Err(e) = cfg.keymap() {
            return Err(invalid(e.at, e.msg));
        }
        let mut seen = std::collections::HashMap::new();
        for h in &cfg.hosts {
            let name = h.name.get_ref();
            if name.trim().is_empty() {
                return Err(invalid(h.name.span().start, "host name is empty".into()));
            }
            if let Some(first) = seen.insert(name.clone(), h.name.span().start) {
                let (l, _) = line_col(text, first);
                return Err(invalid(
                    h.name.span().start,
                    format!("host {name:?} is defined twice (first at line {l})"),
                ));
            }
        }
        let d = &cfg.defaults;
        for t in [&d.connect_timeout, &d.command_timeout]
            .into_iter()
            .flatten()
        {
            if !(t.get_ref().is_finite() && *t.get_ref() > 0.0) {
                return Err(invalid(
                    t.span().start,
                    "timeout must be a positive number of seconds".into(),
                ));
            }
        }
        if let Some(c) = &d.concurrency
            && *c.get_ref() == 0
        {
            return Err(invalid(
                c.span().start,
                "concurrency must be at least 1".into(),
            ));
        }
        if let Some(p) = &d.host_key_policy
            && crate::engine::HostKeyPolicy::parse(p.get_ref()).is_none()
        {
            return Err(invalid(
                p.span().start,
                format!(
                    "host_key_policy {:?} is not one of ask, accept-new, strict",
                    p.get_ref()
                ),
            ));
        }
        if let Some(sb) = &d.scrollback
            && *sb.get_ref() == 0
        {
            return Err(invalid(
                sb.span().start,
                "scrollback must be at least 1 line".into(),
            ));
        }
        for (name, set) in &cfg.groups {
            if let Err(e) = crate::inventory::nodeset::expand(set.get_ref(), &cfg.group_map()) {
                return Err(invalid(
                    set.span().start + e.column,
                    format!("group {name:?}: {}", e.msg),
                ));
            }
        }
        for e in &cfg.expect {
            if e.secret.get_ref().trim().is_empty() {
                return Err(invalid(
                    e.secret.span().start,
                    "secret name is empty".into(),
                ));
            }
            for p in std::iter::once(&e.pattern).chain(&e.failure) {
                if p.get_ref().is_empty() {
                    return Err(invalid(p.span().start, "pattern is empty".into()));
                }
                if let Err(err) = regex::Regex::new(p.get_ref()) {
                    let msg = err.to_string();
                    // The regex crate's message spans several lines with a
                    // caret diagram; its last line says what is wrong.
                    let why = msg.lines().last().unwrap_or("invalid").trim();
                    return Err(invalid(
                        p.span().start,
                        format!("not a valid regular expression: {why}"),
                    ));
                }
            }
        }
        for h in &cfg.hosts {
            if let Some(j) = &h.jump
                && j.trim().is_empty()
            {
                return Err(invalid(
                    h.name.span().start,
                    format!("host {:?}: jump is empty", h.name.get_ref()),
                ));
            }
        }
        check_shell_safe(&cfg).map_err(|(at, msg)| invalid(at, msg))?;
        super::facts_config::validate(&cfg)
            .and_then(|()| super::recipes_config::validate(&cfg))
            .map_err(|(at, msg)| invalid(at, msg))?;
        cfg.host_origins = cfg
            .hosts
            .iter()
            .map(|h| {
                let (line, _) = line_col(text, h.name.span().start);
                format!("{}:{line}", path.display())
            })
            .collect();
        let Config {
            defaults,
            hosts,
            inventory,
            ..
        } = &mut cfg;
        // Relative inventory paths are read from config.toml's directory,
        // as ansible.cfg's `inventory` is.
        let base = path.parent().unwrap_or(Path::new(""));
        for p in inventory.iter_mut() {
            let full = expand_home(p);
            *p = if full.is_relative() {
                base.join(full)
            } else {
                full
            };
        }
        let host_files = hosts.iter_mut().flat_map(|h| h.identity_files.iter_mut());
        for p in defaults
            .identity_files
            .iter_mut()
            .chain(defaults.known_hosts.iter_mut())
            .chain(defaults.ssh_config.iter_mut())
            .chain(defaults.record_dir.iter_mut())
            .chain(host_files)
        {
            *p = expand_home(p);
        }
        Ok(cfg)
    }

    /// Groups as plain name → expression, for node-set expansion.
    /// The `[[expect]]` rules, compiled (they were checked when parsed).
    pub fn expect_rules(&self) -> Vec<crate::engine::ExpectRule> {
        self.expect
            .iter()
            .filter_map(|e| {
                Some(crate::engine::ExpectRule {
                    secret: e.secret.get_ref().clone(),
                    pattern: regex::Regex::new(e.pattern.get_ref()).ok()?,
                    failure: e
                        .failure
                        .as_ref()
                        .and_then(|f| regex::Regex::new(f.get_ref()).ok()),
                })
            })
            .collect()
    }

    pub fn group_map(&self) -> BTreeMap<String, String> {
        self.groups
            .iter()
            .map(|(k, v)| (k.clone(), v.get_ref().clone()))
            .collect()
    }
}

/// Every host and user name config.toml gives (hosts, their addresses,
/// users and jumps, `[defaults] user`, the names groups expand to) may
/// reach a shell through ssh_config's ProxyCommand or `Match exec`: they
/// are refused here, at load, with the line, rather than when a host is
/// picked. Errors are (byte offset, message).
fn check_shell_safe(cfg: &Config) -> Result<(), (usize, String)> {
    use super::hostspec::HostSpec;
    use super::shell_safe::{check_host, check_spec, check_user};
    let says = |e: super::shell_safe::UnsafeName| e.to_string();
    if let Some(u) = &cfg.defaults.user {
        check_user(u, "[defaults] user").map_err(|e| (0, says(e)))?;
    }
    for h in &cfg.hosts {
        let at = h.name.span().start;
        let shown = crate::text::sanitize::visible_name(h.name.get_ref());
        check_host(h.name.get_ref(), &format!("host {shown:?}, its name"))
            .map_err(|e| (at, says(e)))?;
        if let Some(a) = &h.address {
            check_host(a, &format!("host {shown:?}, address")).map_err(|e| (at, says(e)))?;
        }
        if let Some(u) = &h.user {
            check_user(u, &format!("host {shown:?}, user")).map_err(|e| (at, says(e)))?;
        }
        for hop in h.jump.iter().flat_map(|j| j.split(',')) {
            // A hop that does not parse is reported, with its reason, when
            // the host is resolved.
            if let Ok(spec) = HostSpec::parse(hop.trim()) {
                check_spec(&spec, &format!("host {shown:?}, jump")).map_err(|e| (at, says(e)))?;
            }
        }
    }
    let groups = cfg.group_map();
    for (name, set) in &cfg.groups {
        let Ok(names) = super::nodeset::expand(set.get_ref(), &groups) else {
            continue;
        };
        for item in names.iter() {
            if let Ok(spec) = HostSpec::parse(item) {
                check_spec(&spec, &format!("group {name:?}"))
                    .map_err(|e| (set.span().start, says(e)))?;
            }
        }
    }
    Ok(())
}

/// `~/x` → `$HOME/x`, as OpenSSH does for paths in its config.
pub fn expand_home(p: &Path) -> PathBuf {
    match (p.strip_prefix("~"), crate::engine::target::home_dir()) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => p.to_path_buf(),
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Config::parse(Path::new("/etc/x.toml"), text)
            .expect_err("should fail")
            .to_string()
    }

    #[test]
    fn parses_hosts_and_defaults() {
        let c = Config::parse(
            Path::new("c.toml"),
            "[defaults]\nuser = \"ops\"\nconnect_timeout = 2.5\n\n[[hosts]]\nname = \"web1\"\naddress = \"10.0.0.1\"\nport = 2222\n",
        )
        .unwrap();
        assert_eq!(c.defaults.user.as_deref(), Some("ops"));
        let web1 = c.hosts.iter().find(|h| h.name.get_ref() == "web1");
        assert_eq!(web1.and_then(|h| h.port), Some(2222));
    }

    #[test]
    fn tilde_paths_expand_to_home() {
        let c = Config::parse(
            Path::new("c"),
            "[defaults]\nidentity_files = [\"~/.ssh/k\", \"/abs\"]\n",
        )
        .unwrap();
        let home = crate::engine::target::home_dir().unwrap();
        assert_eq!(
            c.defaults.identity_files,
            vec![home.join(".ssh/k"), PathBuf::from("/abs")]
        );
    }

    #[test]
    fn example_config_is_valid() {
        let text = include_str!("../../config.example.toml");
        let c = Config::parse(Path::new("config.example.toml"), text).unwrap();
        assert_eq!(c.hosts.len(), 4);
        assert_eq!(c.group_map()["all"], "@web,db1");
    }

    #[test]
    fn syntax_error_names_file_line_col() {
        assert!(
            err("[defaults]\nuser = \n").starts_with("/etc/x.toml:2:"),
            "{}",
            err("[defaults]\nuser = \n")
        );
    }

    #[test]
    fn expect_rules_compile_and_bad_patterns_name_their_line() {
        let c = Config::parse(
            Path::new("c"),
            "[[expect]]\npattern = '\\[sudo\\] password for .*:'\nsecret = \"sudo\"\nfailure = \"Sorry\"\n",
        )
        .unwrap();
        let rules = c.expect_rules();
        assert_eq!(rules.len(), 1);
        assert!(rules[0].pattern.is_match("[sudo] password for bob:"));
        let e = err("\n[[expect]]\nsecret = \"x\"\npattern = \"(unclosed\"\n");
        assert!(
            e.starts_with("/etc/x.toml:4:11: not a valid regular expression"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
        let e = err("[[expect]]\nsecret = \" \"\npattern = \"x\"\n");
        assert!(
            e.starts_with("/etc/x.toml:2:10: secret name is empty"),
            "{e}"
        );
        let e = err("[[expect]]\nsecret = \"s\"\n");
        assert!(e.contains("missing field `pattern`"), "{e}");
    }

    #[test]
    fn unknown_key_names_its_position() {
        let e = err("[[hosts]]\nname = \"a\"\nadress = \"x\"\n");
        assert!(e.starts_with("/etc/x.toml:3:1:"), "{e}");
        assert!(e.contains("adress"), "{e}");
    }

    #[test]
    fn wrong_type_names_its_position() {
        let e = err("[[hosts]]\nname = \"a\"\nport = \"ssh\"\n");
        assert!(e.starts_with("/etc/x.toml:3:8:"), "{e}");
    }

    #[test]
    fn duplicate_host_points_at_second_definition() {
        let e = err("[[hosts]]\nname = \"a\"\n[[hosts]]\nname = \"a\"\n");
        assert!(e.starts_with("/etc/x.toml:4:8:"), "{e}");
        assert!(e.contains("first at line 2"), "{e}");
    }

    #[test]
    fn bad_policy_names_its_value() {
        let e = err("[defaults]\nhost_key_policy = \"yolo\"\n");
        assert!(
            e.starts_with("/etc/x.toml:2:19:") && e.contains("yolo"),
            "{e}"
        );
    }

    #[test]
    fn bad_group_expression_points_into_the_string() {
        let e = err("[groups]\nweb = \"web[1-\"\n");
        assert!(e.starts_with("/etc/x.toml:2:"), "{e}");
        assert!(e.contains("group \"web\""), "{e}");
    }

    #[test]
    fn unknown_group_reference_is_an_error() {
        let e = err("[groups]\nall = \"@nope\"\n");
        assert!(e.contains("unknown group @nope"), "{e}");
    }

    #[test]
    fn zero_scrollback_and_empty_jump_are_refused() {
        assert!(err("[defaults]\nscrollback = 0\n").starts_with("/etc/x.toml:2:14:"));
        let e = err("[[hosts]]\nname = \"a\"\njump = \" \"\n");
        assert!(e.contains("jump is empty"), "{e}");
    }

    #[test]
    fn groups_tags_and_jumps_parse() {
        let c = Config::parse(
            Path::new("c"),
            "[groups]\nweb = \"web[1-2]\"\n[[hosts]]\nname = \"web1\"\ntags = [\"prod\"]\njump = \"bastion\"\n",
        )
        .unwrap();
        assert_eq!(c.group_map()["web"], "web[1-2]");
        assert_eq!(c.hosts[0].tags, ["prod"]);
        assert_eq!(c.hosts[0].jump.as_deref(), Some("bastion"));
    }

    #[test]
    fn bad_numbers_are_refused() {
        assert!(err("[defaults]\nconcurrency = 0\n").starts_with("/etc/x.toml:2:15:"));
        assert!(err("[defaults]\ncommand_timeout = -1\n").starts_with("/etc/x.toml:2:19:"));
    }
}
