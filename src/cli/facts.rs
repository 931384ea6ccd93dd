//! `sshdeck facts [SELECTOR]`: run every collector once on each host and
//! print the facts (or `--json`). Exits 1 when any collector failed.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use serde::Serialize;
use tokio::sync::mpsc;

use super::CliError;
use super::args::{FactsArgs, GlobalArgs};
use super::progress::Progress;
use super::setup;
use crate::engine::HostId;
use crate::engine::facts::{FactsReport, FactsRunner, Scheduled};
use crate::inventory::config::Config;
use crate::text::sanitize::clean;

#[derive(Debug, Default, Serialize)]
struct HostFacts {
    host: String,
    facts: BTreeMap<String, String>,
    /// Collector → why it produced nothing.
    errors: BTreeMap<String, String>,
}

pub async fn facts(g: &GlobalArgs, a: &FactsArgs) -> Result<ExitCode, CliError> {
    let setup = setup::prepare(g)?;
    let scheduled = collectors(setup.inventory.config(), &a.only)?;
    let targets = setup::select(&setup.inventory, &a.hosts, a.selector.as_deref(), true)?;
    let (mut engine, paused) = setup::headless_engine(setup);
    let mut rows: Vec<HostFacts> = Vec::new();
    let (runner, reports) = FactsRunner::new(scheduled);
    let per_host = runner.names().len();
    for t in targets {
        rows.push(HostFacts {
            host: t.label.clone(),
            ..Default::default()
        });
        let id = engine.add_host(t);
        runner.once(id, engine.link(id));
    }
    let tty = std::io::stderr().is_terminal();
    let mut progress = Progress::new(rows.len(), tty, paused);
    let mut left: Vec<usize> = vec![per_host; rows.len()];
    let interrupted = gather_reports(reports, &mut rows, &mut left, &mut progress).await;
    progress.clear();
    drop(runner);
    // Collectors cut short by Ctrl-C count as failed.
    for (row, l) in rows.iter_mut().zip(&left) {
        if *l > 0 {
            row.errors.insert(
                "(interrupted)".into(),
                format!("{l} collector(s) did not finish"),
            );
        }
    }
    print(&rows, a.json)?;
    if interrupted {
        return Ok(ExitCode::from(super::EXIT_INTERRUPTED));
    }
    let failed: Vec<&HostFacts> = rows.iter().filter(|r| !r.errors.is_empty()).collect();
    if failed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let n: usize = failed.iter().map(|r| r.errors.len()).sum();
    eprintln!(
        "sshdeck: {n} collector run(s) failed on {} of {} hosts",
        failed.len(),
        rows.len()
    );
    Ok(ExitCode::from(1))
}

/// The collectors to run: those the config schedules, or the ones named
/// with `--only` (even when the config leaves them out).
fn collectors(config: &Config, only: &[String]) -> Result<Vec<Scheduled>, CliError> {
    if only.is_empty() {
        return Ok(config.scheduled_facts());
    }
    let reg = config.registry();
    if let Some(bad) = only.iter().find(|n| reg.get(n).is_none()) {
        let known: Vec<_> = reg.names().collect();
        return Err(CliError::BadArg(format!(
            "--only: no collector named {bad:?} (known: {})",
            known.join(", ")
        )));
    }
    Ok(config.scheduled_named(only))
}

/// Files each collector report under its host until every run is in
/// (`left` counts down per host) or a stop signal comes; true if one did.
async fn gather_reports(
    mut reports: mpsc::UnboundedReceiver<FactsReport>,
    rows: &mut [HostFacts],
    left: &mut [usize],
    progress: &mut Progress,
) -> bool {
    let expected: usize = left.iter().sum();
    let mut got = 0;
    // Ctrl-C, SIGTERM and SIGHUP all stop the work on the hosts first.
    let mut signals = super::stop_signals::StopSignals::new();
    while got < expected {
        let r = tokio::select! {
            r = reports.recv() => r,
            _ = signals.recv() => return true,
        };
        let Some(r) = r else { break };
        got += 1;
        let HostId(i) = r.host;
        let Some(row) = rows.get_mut(i) else { continue };
        match r.result {
            Ok(facts) => {
                for (name, value) in facts {
                    row.facts
                        .insert(format!("{}.{}", r.collector, clean(&name)), clean(&value));
                }
            }
            Err(e) => {
                row.errors.insert(r.collector, e.to_string());
            }
        }
        left[i] -= 1;
        if left[i] == 0 {
            progress.done(row.errors.is_empty());
            progress.draw();
        }
    }
    false
}

fn print(rows: &[HostFacts], json: bool) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    if json {
        let items: Vec<_> = rows
            .iter()
            .map(|host| super::json_out::FactsItem {
                schema_version: super::json_out::SCHEMA_VERSION,
                host,
            })
            .collect();
        let text = serde_json::to_string_pretty(&items)
            .map_err(|e| CliError::BadArg(format!("cannot encode facts as JSON: {e}")))?;
        let _ = writeln!(out, "{text}");
        return Ok(());
    }
    for r in rows {
        let _ = writeln!(out, "{}", r.host);
        let width = r
            .facts
            .keys()
            .chain(r.errors.keys())
            .map(|k| k.chars().count())
            .max()
            .unwrap_or(0);
        for (k, v) in &r.facts {
            let _ = writeln!(out, "  {k:width$}  {v}");
        }
        for (k, e) in &r.errors {
            let _ = writeln!(out, "  {k:width$}  FAILED: {}", clean(e));
        }
    }
    Ok(())
}
