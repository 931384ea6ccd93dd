//! Host facts: small commands ("collectors") whose output is parsed into
//! `key = value` facts. Built-in and user-defined collectors implement one
//! trait and are found by name in a [`Registry`], so adding one needs no
//! change anywhere else (the CMDB-agent plugin shape, done with types).

mod builtin;
mod custom;
mod runner;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

pub use custom::{Custom, ParseKind};
pub use runner::{FactsReport, FactsRunner, Scheduled};

use super::HostError;
use super::link::HostLink;

/// One collector's facts: key (without the collector's prefix) → value.
pub type Facts = BTreeMap<String, String>;

/// What every collector is: a command for the host, and a parser for what
/// it prints. Parsing is pure, so each parser is unit-tested on text.
pub trait Collector: Send + Sync {
    /// Unique name; facts are shown as `name.key`.
    fn name(&self) -> &str;
    /// A POSIX `sh` command.
    fn command(&self) -> &str;
    /// Facts from the command's stdout, or why they could not be read.
    fn parse(&self, stdout: &str) -> Result<Facts, String>;
    /// Own schedule, when it differs from the configured default.
    fn interval(&self) -> Option<Duration> {
        None
    }
    fn timeout(&self) -> Option<Duration> {
        None
    }
}

/// Why a collector produced no facts on a host.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FactError {
    /// The host could not be reached (the cause is the connection's).
    #[error("{0}")]
    Host(String),
    #[error("timed out after {}s", .0.as_secs_f64())]
    Timeout(Duration),
    /// The command ran and failed: its exit and the last line of stderr.
    #[error("{status}{}", if detail.is_empty() { String::new() } else { format!(": {detail}") })]
    Failed { status: String, detail: String },
    #[error("cannot parse its output: {0}")]
    Parse(String),
}

/// Collectors by name: the built-ins, plus user-defined ones from config.
#[derive(Clone)]
pub struct Registry {
    by_name: BTreeMap<String, Arc<dyn Collector>>,
}

impl Registry {
    /// The built-in collectors: os, uptime, memory, disk, net, cpu.
    pub fn builtin() -> Self {
        let mut by_name = BTreeMap::new();
        for c in builtin::all() {
            by_name.insert(c.name().to_string(), c);
        }
        Registry { by_name }
    }

    /// Add a collector; a name already taken is refused.
    pub fn register(&mut self, c: Arc<dyn Collector>) -> Result<(), String> {
        let name = c.name().to_string();
        if self.by_name.contains_key(&name) {
            return Err(format!("a collector named {name:?} already exists"));
        }
        self.by_name.insert(name, c);
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn Collector>> {
        self.by_name.get(name).cloned()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    pub fn builtin_names() -> Vec<&'static str> {
        builtin::NAMES.to_vec()
    }
}

/// Run one collector once on a host, over its pooled connection.
pub async fn collect(
    link: &HostLink,
    c: &dyn Collector,
    timeout: Duration,
) -> Result<Facts, FactError> {
    let timeout = c.timeout().unwrap_or(timeout);
    let out = link
        .capture_for(c.command().to_string(), Some(timeout))
        .await
        .map_err(|e| match e {
            HostError::CommandTimeout { after } => FactError::Timeout(after),
            e => FactError::Host(e.to_string()),
        })?;
    if !out.success() {
        let status = match &out.status {
            Some(s) => s.to_string(),
            None => "ended without an exit status".into(),
        };
        return Err(FactError::Failed {
            status,
            detail: last_line(&out.stderr),
        });
    }
    c.parse(&String::from_utf8_lossy(&out.stdout))
        .map_err(FactError::Parse)
}

/// The last non-empty line of `bytes`, cleaned of control characters and
/// shortened: enough to say why, never a dump.
pub fn last_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let line = text
        .lines()
        .map(crate::text::sanitize::clean)
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or_default();
    shorten(line.trim(), 200)
}

pub use crate::text::shorten;

/// A fact's value as a number, for thresholds and sorting: `93%`, `1.5`,
/// `12 GiB` all read as their leading number.
pub fn numeric(v: &str) -> Option<f64> {
    let v = v.trim();
    let end = v
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+'))))
        .map_or(v.len(), |(i, _)| i);
    v[..end].parse().ok().filter(|x: &f64| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_from_the_front() {
        assert_eq!(numeric("93%"), Some(93.0));
        assert_eq!(numeric(" 1.5 "), Some(1.5));
        assert_eq!(numeric("-2"), Some(-2.0));
        assert_eq!(numeric("12 GiB"), Some(12.0));
        assert_eq!(numeric("Ubuntu"), None);
        assert_eq!(numeric(""), None);
    }

    #[test]
    fn registry_refuses_a_second_collector_with_the_same_name() {
        let mut r = Registry::builtin();
        assert_eq!(
            r.names().collect::<Vec<_>>(),
            ["cpu", "disk", "memory", "net", "os", "uptime"]
        );
        let c = Custom::new("disk", "true", ParseKind::Kv, None, None).unwrap();
        assert!(r.register(Arc::new(c)).unwrap_err().contains("\"disk\""));
    }

    #[test]
    fn errors_read_as_sentences() {
        let e = FactError::Failed {
            status: "exit 2".into(),
            detail: "df: cannot read table".into(),
        };
        assert_eq!(e.to_string(), "exit 2: df: cannot read table");
        assert_eq!(
            FactError::Timeout(Duration::from_millis(1500)).to_string(),
            "timed out after 1.5s"
        );
        assert_eq!(
            last_line(b"first\n\x1b[31mboom\x1b[0m\n\n"),
            "boom".to_string()
        );
    }
}
