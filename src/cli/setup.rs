//! From flags and config to a ready engine configuration.

use std::path::PathBuf;
use std::time::Duration;

use super::CliError;
use super::args::GlobalArgs;
use crate::engine::auth::default_identity_paths;
use crate::engine::target::home_dir;
use crate::engine::{EngineConfig, Identities, KnownHosts};
use crate::inventory::config::{self, Config};
use crate::inventory::resolve::Overrides;

pub struct Setup {
    pub config: Config,
    pub engine: EngineConfig,
    pub overrides: Overrides,
    pub command_timeout: Option<Duration>,
}

pub fn prepare(g: &GlobalArgs) -> Result<Setup, CliError> {
    let config = match &g.config {
        Some(p) => Config::load(p, true)?,
        None => match config::default_path() {
            Some(p) => Config::load(&p, false)?,
            None => Config::default(),
        },
    };
    let d = &config.defaults;
    let home = home_dir();

    let kh_paths: Vec<PathBuf> = if !g.known_hosts.is_empty() {
        g.known_hosts.clone()
    } else if !d.known_hosts.is_empty() {
        d.known_hosts.clone()
    } else {
        let mut v = Vec::new();
        if let Some(h) = &home {
            v.push(h.join(".ssh/known_hosts"));
            v.push(h.join(".ssh/known_hosts2"));
        }
        v.push("/etc/ssh/ssh_known_hosts".into());
        v.push("/etc/ssh/ssh_known_hosts2".into());
        v
    };
    let known_hosts = KnownHosts::load(&kh_paths).map_err(CliError::KnownHosts)?;
    for bad in &known_hosts.bad_lines {
        eprintln!(
            "sshdeck: warning: {}:{}: {} (line ignored)",
            bad.file.display(),
            bad.line,
            bad.reason
        );
    }

    let (id_paths, explicit) = if !g.identity.is_empty() {
        (g.identity.clone(), true)
    } else if !d.identity_files.is_empty() {
        (d.identity_files.clone(), true)
    } else {
        (
            home.as_deref()
                .map(default_identity_paths)
                .unwrap_or_default(),
            false,
        )
    };
    let identities = Identities::load(&id_paths, explicit)?;

    let mut engine = EngineConfig::new(known_hosts, identities);
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
    let command_timeout = d
        .command_timeout
        .as_ref()
        .map(|s| seconds(*s.get_ref(), "command_timeout"))
        .transpose()?;
    Ok(Setup {
        overrides: Overrides {
            user: g.user.clone(),
            port: g.port,
        },
        config,
        engine,
        command_timeout,
    })
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
