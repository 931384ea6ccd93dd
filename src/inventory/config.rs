//! `config.toml`: defaults and named hosts. Every error names file:line:col.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;
use toml::Spanned;

use super::facts_config::FactsSection;

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
        .or_else(|| crate::engine::connection::target::home_dir().map(|h| h.join(".config")))?;
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

    /// Read config.toml's text: check every section, note where each host
    /// is written, and expand `~` and relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let invalid = |(offset, msg): (usize, String)| {
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
            invalid((offset, e.message().to_string()))
        })?;
        cfg.check(text).map_err(invalid)?;
        cfg.host_origins = host_origins(&cfg.hosts, path, text);
        cfg.expand_paths(path);
        Ok(cfg)
    }

    /// Every check a parsed config must pass, in the order their errors
    /// are reported: (byte offset, why).
    fn check(&self, text: &str) -> Result<(), (usize, String)> {
        if let Err(e) = self.keymap() {
            return Err((e.at, e.msg));
        }
        check_host_names(&self.hosts, text)?;
        check_defaults(&self.defaults)?;
        self.check_groups()?;
        check_expect(&self.expect)?;
        check_jumps(&self.hosts)?;
        check_shell_safe(self)?;
        self.facts_section().validate()?;
        super::recipes_config::validate(&self.recipes, &self.commands)
    }

    /// Each `[groups]` expression must expand (known groups, valid ranges).
    fn check_groups(&self) -> Result<(), (usize, String)> {
        for (name, set) in &self.groups {
            if let Err(e) = crate::inventory::nodeset::expand(set.get_ref(), &self.group_map()) {
                return Err((
                    set.span().start + e.column,
                    format!("group {name:?}: {}", e.msg),
                ));
            }
        }
        Ok(())
    }

    /// `~` and, for inventories, relative paths made absolute.
    fn expand_paths(&mut self, path: &Path) {
        let Config {
            defaults,
            hosts,
            inventory,
            ..
        } = self;
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
    }

    /// The keymap with this config's rebindings; an error carries the byte
    /// offset of the entry at fault.
    pub fn keymap(&self) -> super::keys_config::KeymapResult {
        super::keys_config::keymap(&self.keys)
    }

    /// The recipes, converted (they were checked when parsed).
    pub fn recipes(&self) -> Vec<crate::engine::recipe::Recipe> {
        super::recipes_config::recipes(&self.recipes)
    }

    /// Saved commands: (name, command line).
    pub fn saved_commands(&self) -> Vec<(String, String)> {
        super::recipes_config::saved_commands(&self.commands)
    }

    /// The facts entries, columns and scheduling defaults, together.
    pub fn facts_section(&self) -> FactsSection<'_> {
        let d = &self.defaults;
        FactsSection {
            entries: &self.facts,
            columns: &self.columns,
            enabled: d.facts.as_deref(),
            interval: d.facts_interval.as_ref(),
            timeout: d.facts_timeout.as_ref(),
        }
    }

    /// Every collector by name: the built-ins and the `[[facts]]` ones.
    pub fn registry(&self) -> crate::engine::facts::Registry {
        self.facts_section().registry()
    }

    /// The collectors to run, in order, with their schedules.
    pub fn scheduled_facts(&self) -> Vec<crate::engine::facts::Scheduled> {
        self.facts_section().scheduled_facts()
    }

    /// The named collectors (unknown names skipped) with their schedules.
    pub fn scheduled_named(&self, names: &[String]) -> Vec<crate::engine::facts::Scheduled> {
        self.facts_section().scheduled_named(names)
    }

    /// The host-list columns: the configured ones, else the defaults.
    pub fn columns(&self) -> Vec<super::facts_config::Column> {
        self.facts_section().columns()
    }

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

    /// Groups as plain name → expression, for node-set expansion.
    pub fn group_map(&self) -> BTreeMap<String, String> {
        self.groups
            .iter()
            .map(|(k, v)| (k.clone(), v.get_ref().clone()))
            .collect()
    }
}

/// Host names must be non-empty and unique; a duplicate names the line
/// of the first.
fn check_host_names(hosts: &[HostEntry], text: &str) -> Result<(), (usize, String)> {
    let mut seen = std::collections::HashMap::new();
    for h in hosts {
        let name = h.name.get_ref();
        if name.trim().is_empty() {
            return Err((h.name.span().start, "host name is empty".into()));
        }
        if let Some(first) = seen.insert(name.clone(), h.name.span().start) {
            let (l, _) = line_col(text, first);
            return Err((
                h.name.span().start,
                format!("host {name:?} is defined twice (first at line {l})"),
            ));
        }
    }
    Ok(())
}

/// `[defaults]` numbers in range and a known host-key policy.
fn check_defaults(d: &Defaults) -> Result<(), (usize, String)> {
    for t in [&d.connect_timeout, &d.command_timeout]
        .into_iter()
        .flatten()
    {
        if !(t.get_ref().is_finite() && *t.get_ref() > 0.0) {
            return Err((
                t.span().start,
                "timeout must be a positive number of seconds".into(),
            ));
        }
    }
    if let Some(c) = &d.concurrency
        && *c.get_ref() == 0
    {
        return Err((c.span().start, "concurrency must be at least 1".into()));
    }
    if let Some(p) = &d.host_key_policy
        && crate::engine::HostKeyPolicy::parse(p.get_ref()).is_none()
    {
        return Err((
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
        return Err((sb.span().start, "scrollback must be at least 1 line".into()));
    }
    Ok(())
}

/// `[[expect]]` rules: a secret name, and patterns that compile.
fn check_expect(rules: &[ExpectEntry]) -> Result<(), (usize, String)> {
    for e in rules {
        if e.secret.get_ref().trim().is_empty() {
            return Err((e.secret.span().start, "secret name is empty".into()));
        }
        for p in std::iter::once(&e.pattern).chain(&e.failure) {
            if p.get_ref().is_empty() {
                return Err((p.span().start, "pattern is empty".into()));
            }
            if let Err(err) = regex::Regex::new(p.get_ref()) {
                let msg = err.to_string();
                // The regex crate's message spans several lines with a
                // caret diagram; its last line says what is wrong.
                let why = msg.lines().last().unwrap_or("invalid").trim();
                return Err((
                    p.span().start,
                    format!("not a valid regular expression: {why}"),
                ));
            }
        }
    }
    Ok(())
}

/// A host's `jump`, when given, is not blank.
fn check_jumps(hosts: &[HostEntry]) -> Result<(), (usize, String)> {
    for h in hosts {
        if let Some(j) = &h.jump
            && j.trim().is_empty()
        {
            return Err((
                h.name.span().start,
                format!("host {:?}: jump is empty", h.name.get_ref()),
            ));
        }
    }
    Ok(())
}

/// "FILE:LINE" of each `[[hosts]]` entry's name, in order.
fn host_origins(hosts: &[HostEntry], path: &Path, text: &str) -> Vec<String> {
    hosts
        .iter()
        .map(|h| {
            let (line, _) = line_col(text, h.name.span().start);
            format!("{}:{line}", path.display())
        })
        .collect()
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
    match (
        p.strip_prefix("~"),
        crate::engine::connection::target::home_dir(),
    ) {
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
#[path = "config_tests.rs"]
mod tests;
