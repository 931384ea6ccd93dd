//! `[[facts]]` collectors and `[[columns]]` of the host list, with the
//! `[defaults]` that schedule them. Checked when the config is loaded.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::engine::facts::{Custom, ParseKind, Registry, Scheduled};

/// `[[facts]] name command parse pattern interval timeout`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactsEntry {
    pub name: Spanned<String>,
    pub command: Spanned<String>,
    /// "regex", "json" or "kv".
    pub parse: Spanned<String>,
    /// For `parse = "regex"`: named groups become facts.
    pub pattern: Option<Spanned<String>>,
    /// Seconds between runs (default: `[defaults] facts_interval`).
    pub interval: Option<Spanned<f64>>,
    /// Seconds before the command is stopped (default: `facts_timeout`).
    pub timeout: Option<Spanned<f64>>,
}

/// `[[columns]] fact = "disk.max_used_pct" title = "disk%" warn = 80 crit = 90`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnEntry {
    /// `collector.key`.
    pub fact: Spanned<String>,
    pub title: Option<String>,
    /// Yellow at or above this value.
    pub warn: Option<f64>,
    /// Red at or above this value.
    pub crit: Option<f64>,
    /// For facts where small is bad (free space): colour at or below.
    #[serde(default)]
    pub lower_is_worse: bool,
}

/// A host-list column showing one fact, coloured by thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub title: String,
    pub fact: String,
    pub warn: Option<f64>,
    pub crit: Option<f64>,
    pub lower_is_worse: bool,
}

/// How a fact's value compares with its column's thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Normal,
    Warn,
    Crit,
}

impl Column {
    pub fn new(title: &str, fact: &str, warn: Option<f64>, crit: Option<f64>) -> Column {
        Column {
            title: title.into(),
            fact: fact.into(),
            warn,
            crit,
            lower_is_worse: false,
        }
    }

    pub fn level(&self, value: &str) -> Level {
        let Some(x) = crate::engine::facts::numeric(value) else {
            return Level::Normal;
        };
        let past =
            |t: Option<f64>| t.is_some_and(|t| if self.lower_is_worse { x <= t } else { x >= t });
        if past(self.crit) {
            Level::Crit
        } else if past(self.warn) {
            Level::Warn
        } else {
            Level::Normal
        }
    }

    /// Columns shown when the config names none.
    pub fn defaults() -> Vec<Column> {
        vec![
            Column::new("load", "uptime.load1", None, None),
            Column::new("mem%", "memory.used_pct", Some(80.0), Some(95.0)),
            Column::new("disk%", "disk.max_used_pct", Some(80.0), Some(90.0)),
        ]
    }
}

/// Default seconds between two runs of a collector on a host.
pub const DEFAULT_INTERVAL: f64 = 60.0;
/// Default seconds a collector may run.
pub const DEFAULT_TIMEOUT: f64 = 10.0;

/// What the facts code reads from config.toml: the `[[facts]]` and
/// `[[columns]]` entries and the `[defaults]` keys that schedule them.
/// Borrowed, so this file needs nothing from config.rs.
#[derive(Debug, Clone, Copy)]
pub struct FactsSection<'a> {
    pub entries: &'a [FactsEntry],
    pub columns: &'a [ColumnEntry],
    /// `[defaults] facts`: the collectors to run, by name.
    pub enabled: Option<&'a [Spanned<String>]>,
    /// `[defaults] facts_interval`.
    pub interval: Option<&'a Spanned<f64>>,
    /// `[defaults] facts_timeout`.
    pub timeout: Option<&'a Spanned<f64>>,
}

impl FactsSection<'_> {
    /// Every collector by name: the built-ins and the `[[facts]]` ones
    /// (all checked when the config was parsed).
    pub fn registry(&self) -> Registry {
        let mut r = Registry::builtin();
        for e in self.entries {
            if let Ok(c) = custom(e) {
                let _ = r.register(Arc::new(c));
            }
        }
        r
    }

    /// The collectors to run, in order, with their schedules.
    pub fn scheduled_facts(&self) -> Vec<Scheduled> {
        let names: Vec<String> = match self.enabled {
            Some(list) => list.iter().map(|n| n.get_ref().clone()).collect(),
            None => self.registry().names().map(str::to_string).collect(),
        };
        self.scheduled_named(&names)
    }

    /// The named collectors (unknown names skipped) with their schedules.
    pub fn scheduled_named(&self, names: &[String]) -> Vec<Scheduled> {
        let reg = self.registry();
        let secs = |v: Option<&Spanned<f64>>, default: f64| {
            Duration::from_secs_f64(v.map_or(default, |s| *s.get_ref()))
        };
        let interval = secs(self.interval, DEFAULT_INTERVAL);
        let timeout = secs(self.timeout, DEFAULT_TIMEOUT);
        names
            .iter()
            .filter_map(|n| reg.get(n))
            .map(|c| Scheduled::new(c, interval, timeout))
            .collect()
    }

    /// The host-list columns: the configured ones, else the defaults.
    pub fn columns(&self) -> Vec<Column> {
        if self.columns.is_empty() {
            return Column::defaults();
        }
        self.columns
            .iter()
            .map(|c| Column {
                title: c.title.clone().unwrap_or_else(|| c.fact.get_ref().clone()),
                fact: c.fact.get_ref().clone(),
                warn: c.warn,
                crit: c.crit,
                lower_is_worse: c.lower_is_worse,
            })
            .collect()
    }

    /// Check `[[facts]]`, `[[columns]]` and the facts defaults: (offset, why).
    pub(super) fn validate(&self) -> Result<(), (usize, String)> {
        for t in [self.interval, self.timeout].into_iter().flatten() {
            positive(t)?;
        }
        let mut reg = Registry::builtin();
        for e in self.entries {
            for t in [&e.interval, &e.timeout].into_iter().flatten() {
                positive(t)?;
            }
            let c = custom(e)?;
            reg.register(Arc::new(c))
                .map_err(|m| (e.name.span().start, m))?;
        }
        let known = || reg.names().collect::<Vec<_>>().join(", ");
        for n in self.enabled.into_iter().flatten() {
            if reg.get(n.get_ref()).is_none() {
                return Err((
                    n.span().start,
                    format!("no collector named {:?} (known: {})", n.get_ref(), known()),
                ));
            }
        }
        for c in self.columns {
            check_column(c, &reg, &known)?;
        }
        Ok(())
    }
}

/// A column's fact must be `collector.key` with a known collector.
fn check_column(
    c: &ColumnEntry,
    reg: &Registry,
    known: &dyn Fn() -> String,
) -> Result<(), (usize, String)> {
    let fact = c.fact.get_ref();
    let Some((collector, _)) = fact.split_once('.').filter(|(_, k)| !k.is_empty()) else {
        return Err((
            c.fact.span().start,
            format!("column fact {fact:?} must be collector.key, e.g. \"disk.max_used_pct\""),
        ));
    };
    if reg.get(collector).is_none() {
        return Err((
            c.fact.span().start,
            format!(
                "column fact {fact:?}: no collector named {collector:?} (known: {})",
                known()
            ),
        ));
    }
    Ok(())
}

fn custom(e: &FactsEntry) -> Result<Custom, (usize, String)> {
    let at = |s: &Spanned<String>| s.span().start;
    let kind = ParseKind::from_config(
        e.parse.get_ref(),
        e.pattern.as_ref().map(|p| p.get_ref().as_str()),
    )
    .map_err(|m| {
        let span = match (&e.pattern, m.starts_with("bad pattern")) {
            (Some(p), true) => at(p),
            _ => at(&e.parse),
        };
        // The regex crate's message ends with the line that says why.
        let m = m.lines().last().unwrap_or("").trim().to_string();
        (span, format!("facts {:?}: {m}", e.name.get_ref()))
    })?;
    let secs = |v: &Option<Spanned<f64>>| v.as_ref().map(|s| Duration::from_secs_f64(*s.get_ref()));
    Custom::new(
        e.name.get_ref(),
        e.command.get_ref(),
        kind,
        secs(&e.interval),
        secs(&e.timeout),
    )
    .map_err(|m| {
        let span = if m.contains("command") {
            at(&e.command)
        } else {
            at(&e.name)
        };
        (span, format!("facts {:?}: {m}", e.name.get_ref()))
    })
}

fn positive(t: &Spanned<f64>) -> Result<(), (usize, String)> {
    if t.get_ref().is_finite() && *t.get_ref() > 0.0 && *t.get_ref() < 1e9 {
        Ok(())
    } else {
        Err((
            t.span().start,
            "must be a positive number of seconds".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_colour_both_ways() {
        let mut c = Column::new("disk%", "disk.max_used_pct", Some(80.0), Some(90.0));
        assert_eq!(c.level("79"), Level::Normal);
        assert_eq!(c.level("80"), Level::Warn);
        assert_eq!(c.level("95%"), Level::Crit);
        assert_eq!(c.level("n/a"), Level::Normal);
        c.lower_is_worse = true;
        c.warn = Some(20.0);
        c.crit = Some(5.0);
        assert_eq!(c.level("3"), Level::Crit);
        assert_eq!(c.level("15"), Level::Warn);
        assert_eq!(c.level("50"), Level::Normal);
    }
}
