//! From flags and config files to an inventory and an engine configuration.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use tokio::sync::mpsc;

use super::CliError;
use super::args::{GlobalArgs, HostSelection};
use crate::engine::connection::auth::default_identity_paths;
use crate::engine::connection::target::home_dir;
use crate::engine::{EngineConfig, HostKeyPolicy, Prompt, Prompter};
use crate::inventory::config::{self, Config};
use crate::inventory::resolve::{ExtraSources, Inventory, Overrides};
use crate::inventory::ssh_config::SshConfig;

pub struct Setup {
    pub inventory: Inventory,
    pub engine: EngineConfig,
    pub command_timeout: Option<Duration>,
    /// Questions from the engine, when we can ask them on a terminal.
    pub prompts: Option<mpsc::Receiver<Prompt>>,
}

/// Load config.toml and ssh_config and build the inventory.
pub fn inventory(g: &GlobalArgs) -> Result<Inventory, CliError> {
    let config = match &g.config {
        Some(p) => Config::load(p, true)?,
        None => match config::default_path() {
            Some(p) => Config::load(&p, false)?,
            None => Config::default(),
        },
    };
    // Like `ssh -F`: a named file alone (or `none`); otherwise
    // ~/.ssh/config then /etc/ssh/ssh_config. ~ is $HOME here, so a test
    // or a sandbox can point sshdeck at its own.
    let explicit = g
        .ssh_config
        .as_ref()
        .or(config.defaults.ssh_config.as_ref());
    let user_default = home_dir().map(|h| h.join(".ssh/config"));
    let ssh = if explicit.is_some_and(|p| is_none(p)) {
        None
    } else {
        Some(SshConfig::load(
            explicit.map(|p| p.as_path()),
            user_default.as_deref(),
        )?)
    };
    let overrides = Overrides {
        user: g.user.clone(),
        port: g.port,
        jump: g.jump.clone(),
        policy: g.host_key_policy,
        known_hosts: !g.known_hosts.is_empty(),
        compression: g.compression,
    };
    let extra = other_sources(&config, g)?;
    Ok(Inventory::with_sources(config, ssh, overrides, extra))
}

/// The Ansible inventory (config.toml's `inventory`, then `--inventory`)
/// and ClusterShell's group sources, each read whole or not at all: an
/// error stops here, before any host is contacted or the TUI starts.
fn other_sources(config: &Config, g: &GlobalArgs) -> Result<ExtraSources, CliError> {
    use crate::inventory::sources::{ansible, clustershell};
    let paths: Vec<PathBuf> = config
        .inventory
        .iter()
        .chain(&g.inventory)
        .cloned()
        .collect();
    let ansible = if paths.is_empty() {
        None
    } else {
        Some(ansible::load(&paths)?)
    };
    // Said before any host is contacted, where errors go: a host or group
    // the inventory names that no command will reach.
    for note in ansible.iter().flat_map(|a| &a.notes) {
        eprintln!(
            "sshdeck: note: {}",
            crate::text::sanitize::visible_name(note)
        );
    }
    let clustershell = clustershell::load()?;
    Ok(ExtraSources {
        ansible,
        clustershell,
    })
}

/// The hosts a command was given: `-a`, `-H` (or the old positional node
/// set), else every named host when `all_by_default`, else an error that
/// says how to name them.
pub fn select(
    inv: &Inventory,
    sel: &HostSelection,
    positional: Option<&str>,
    all_by_default: bool,
) -> Result<Vec<crate::engine::Target>, CliError> {
    let picked = select_quietly(inv, sel, positional, all_by_default);
    // A group name two sources define was taken from the first: say so,
    // with both sources, where the user reads errors.
    for note in inv.take_notes() {
        eprintln!(
            "sshdeck: note: {}",
            crate::text::sanitize::visible_name(&note.to_string())
        );
    }
    picked
}

fn select_quietly(
    inv: &Inventory,
    sel: &HostSelection,
    positional: Option<&str>,
    all_by_default: bool,
) -> Result<Vec<crate::engine::Target>, CliError> {
    let given = sel.hosts.as_deref().or(positional);
    let origin = if sel.hosts.is_some() {
        "-H"
    } else {
        "the hosts argument"
    };
    if !sel.hosts_file.is_empty() {
        // The files' hosts, then -H's, each host once.
        let mut out = Vec::new();
        for f in &sel.hosts_file {
            out.extend(super::hosts_file::read(inv, f)?);
        }
        if let Some(s) = given {
            out.extend(inv.select_from(s, origin)?);
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|t: &crate::engine::Target| seen.insert(t.label.clone()));
        return Ok(out);
    }
    Ok(match (sel.all, given) {
        (true, _) => inv.all()?,
        (false, Some(s)) => inv.select_from(s, origin)?,
        // No host at all is an empty list here; any other error (a name
        // refused, a config host that does not resolve) is reported, not
        // hidden behind an empty list.
        (false, None) if all_by_default => match inv.all() {
            Err(crate::inventory::resolve::ResolveError::NoHosts) => Vec::new(),
            other => other?,
        },
        (false, None) => inv.select("")?,
    })
}

fn is_none(p: &Path) -> bool {
    p.as_os_str() == "none"
}

pub fn prepare(g: &GlobalArgs) -> Result<Setup, CliError> {
    let inventory = inventory(g)?;
    let d = &inventory.config().defaults;
    let home = home_dir();

    let known_hosts: Vec<PathBuf> = if !g.known_hosts.is_empty() {
        g.known_hosts.clone()
    } else if !d.known_hosts.is_empty() {
        d.known_hosts.clone()
    } else {
        // OpenSSH's defaults; the first one is where accepted keys are saved.
        let mut v = Vec::new();
        if let Some(h) = &home {
            v.push(h.join(".ssh/known_hosts"));
            v.push(h.join(".ssh/known_hosts2"));
        }
        v.push("/etc/ssh/ssh_known_hosts".into());
        v.push("/etc/ssh/ssh_known_hosts2".into());
        v
    };
    let identities = if !g.identity.is_empty() {
        check_exist(&g.identity, "-i")?;
        g.identity.clone()
    } else if !d.identity_files.is_empty() {
        d.identity_files.clone()
    } else {
        home.as_deref()
            .map(default_identity_paths)
            .unwrap_or_default()
    };

    let mut engine = EngineConfig::new(known_hosts, identities);
    engine.expect = inventory.config().expect_rules();
    engine.policy = match (g.host_key_policy, &d.host_key_policy) {
        (Some(p), _) => p,
        (None, Some(p)) => HostKeyPolicy::parse(p.get_ref()).unwrap_or_default(),
        (None, None) => HostKeyPolicy::Ask,
    };
    if g.no_agent || d.use_agent == Some(false) {
        engine.agent = None;
    }
    if let Some(t) = g
        .connect_timeout
        .or(d.connect_timeout.as_ref().map(|s| *s.get_ref()))
    {
        engine.connect_timeout = seconds(t, "--connect-timeout")?;
    }
    if let Some(n) = g
        .concurrency
        .or(d.concurrency.as_ref().map(|s| *s.get_ref()))
    {
        if n == 0 {
            return Err(CliError::BadArg("--concurrency must be at least 1".into()));
        }
        engine.max_connecting = n;
    }
    let prompts = if g.batch {
        None
    } else if !super::prompt::tty_available() {
        engine.prompter = Prompter::no_terminal();
        None
    } else {
        let (prompter, rx) = Prompter::channel();
        engine.prompter = prompter;
        Some(rx)
    };
    let command_timeout = d
        .command_timeout
        .as_ref()
        .map(|s| seconds(*s.get_ref(), "command_timeout"))
        .transpose()?;
    Ok(Setup {
        inventory,
        engine,
        command_timeout,
        prompts,
    })
}

/// The engine for a headless command that reports through its own
/// channels (copies, facts, recipes): questions are asked on the terminal,
/// connection events are drained. Returns the flag that is set while a
/// question is on screen, so progress lines stay off it.
pub fn headless_engine(setup: Setup) -> (crate::engine::Engine, Arc<AtomicBool>) {
    let asking = Arc::new(AtomicBool::new(false));
    if let Some(rx) = setup.prompts {
        super::prompt::spawn_answerer(rx, asking.clone());
    }
    let (engine, mut events) = crate::engine::Engine::new(setup.engine);
    warn_bad_known_hosts(&engine);
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    (engine, asking)
}

/// Report known_hosts lines that could not be read (they are skipped, as
/// OpenSSH skips them), each once. The parse is cached for the connections.
pub fn warn_bad_known_hosts(engine: &crate::engine::Engine) {
    let trust = engine.trust();
    for bad in trust.take_new_bad_lines(trust.default_files()) {
        eprintln!(
            "sshdeck: warning: {}:{}: {} (line ignored)",
            bad.file.display(),
            bad.line,
            bad.reason
        );
    }
}

fn check_exist(paths: &[PathBuf], flag: &str) -> Result<(), CliError> {
    for p in paths {
        if let Err(cause) = std::fs::metadata(p) {
            return Err(CliError::Io {
                what: format!("{flag} {}", p.display()),
                cause,
            });
        }
    }
    Ok(())
}

pub fn seconds(v: f64, what: &str) -> Result<Duration, CliError> {
    if v.is_finite() && v > 0.0 && v < 1e9 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(CliError::BadArg(format!(
            "{what} must be a positive number of seconds, not {v}"
        )))
    }
}
