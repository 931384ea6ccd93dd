//! `sshdeck run`: fan one command out and report per host.

use crate::text::sanitize::clean;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use super::CliError;
use super::args::{GlobalArgs, RunArgs};
use super::gather::Gatherer;
use super::outcome::Ended;
use super::outdir::OutDir;
use super::progress::Progress;
use super::rerun::{self, FromLast};
use super::setup::{self, seconds};
use super::stream::{StreamFormat, StreamPrinter};
use crate::engine::commands::run_record::{self, RecordedHost, RecordedTarget, RunRecord};
use crate::engine::commands::stdin_feed::StdinFeed;
use crate::engine::{Engine, EventKind, ExecOptions, ExitStatus, HostId, HostOutcome};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Upper bound of events handled before output is flushed and progress
/// redrawn, so a flood cannot starve the progress line or Ctrl-C.
const DRAIN_BATCH: usize = 512;

pub async fn run(g: &GlobalArgs, a: &RunArgs) -> Result<ExitCode, CliError> {
    let mut setup = setup::prepare(g)?;
    let record_path = run_record::default_path();
    let targets = match a.hosts_from_last {
        Some(which) => {
            let path = record_path.as_deref().ok_or_else(|| {
                CliError::BadArg("--hosts-from-last: no home or state directory".into())
            })?;
            let last = rerun::load(path)?;
            let picked = last.pick(which.into());
            if picked.is_empty() {
                eprintln!(
                    "sshdeck: no host of the last run ({}) is {}: nothing to do",
                    clean(&last.command),
                    match which {
                        FromLast::Failed => "failed",
                        FromLast::Ok => "ok",
                        FromLast::Differs => "outside its largest group",
                        FromLast::All => "left",
                    }
                );
                return Ok(ExitCode::SUCCESS);
            }
            rerun::targets(&setup.inventory, &picked, path)?
        }
        None => setup::select(&setup.inventory, &a.hosts, None, false)?,
    };
    let timeout = match a.timeout {
        Some(t) => Some(seconds(t, "--timeout")?),
        None => setup.command_timeout,
    };
    let command = a.command.join(" ");
    if command.trim().is_empty() {
        return Err(CliError::BadArg("the command after `--` is empty".into()));
    }
    let labels: Vec<String> = targets.iter().map(|t| t.label.clone()).collect();
    // How each host was selected and where it ran, for the run record.
    let ran_on: Vec<(String, RecordedTarget)> = targets
        .iter()
        .map(|t| (t.select_as.clone(), RecordedTarget::of(t)))
        .collect();
    let mut outdir = match &a.out_dir {
        Some(dir) => Some(OutDir::create(dir, &labels)?),
        None => None,
    };

    let (mut engine, mut events) = Engine::new(setup.engine);
    setup::warn_bad_known_hosts(&engine);
    let ids: Vec<HostId> = targets.into_iter().map(|t| engine.add_host(t)).collect();
    let total = ids.len();

    let format = if a.json {
        StreamFormat::Json
    } else if a.gather {
        StreamFormat::Quiet
    } else {
        StreamFormat::Lines
    };
    let color = std::io::stdout().is_terminal();
    let mut printer = StreamPrinter::new(format, labels.clone(), color);
    let mut gatherer = a.gather.then(|| Gatherer::new(total));
    let prompting = Arc::new(AtomicBool::new(false));
    if let Some(rx) = setup.prompts.take() {
        super::prompt::spawn_answerer(rx, prompting.clone());
    }
    // While a question is on the terminal, output that would go to the
    // same terminal waits (the engine's queue holds it, then the hosts'
    // windows): it must not write over "Trust it?" or a passphrase prompt.
    let shares_tty = std::io::stdout().is_terminal() || std::io::stderr().is_terminal();
    let asking = prompting.clone();
    let holding = move || shares_tty && asking.load(std::sync::atomic::Ordering::SeqCst);
    let mut progress = Progress::new(total, !a.json && std::io::stderr().is_terminal(), prompting);
    let mut outcomes: Vec<Option<Ended>> = (0..total).map(|_| None).collect();
    // What each host printed, hashed as it arrives, so the next run can
    // pick the hosts that differed (--hosts-from-last differs).
    let mut digests: Vec<[Sha256; 2]> = (0..total).map(|_| Default::default()).collect();
    let mut finished = 0usize;

    let opts = ExecOptions {
        timeout,
        login: a.login,
        pty: a.pty,
        env: a.env.clone(),
        cwd: a.cwd.clone(),
        sudo: a.sudo,
        log_dir: a.log_dir.clone(),
        stdin: (!a.no_stdin).then(local_input).flatten(),
    };
    let job = engine.exec(&ids, &command, &opts);
    printer.set_job(job.0);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut interrupted = false;
    let mut signals = super::stop_signals::StopSignals::new();

    while finished < total {
        let first = tokio::select! {
            // Once stopping, the question is moot: the hosts' reports go on.
            ev = events.recv(), if interrupted || !holding() => ev,
            _ = tick.tick() => { progress.draw(); continue; }
            what = signals.recv() => {
                progress.clear();
                if interrupted {
                    // A second one: leave now, and say where the command
                    // was not seen to stop.
                    let left: Vec<&str> = (0..total)
                        .filter(|&h| outcomes[h].is_none())
                        .map(|h| labels[h].as_str())
                        .collect();
                    eprintln!(
                        "sshdeck: {what} again: not waiting; the command may still be running on {}",
                        left.join(", ")
                    );
                    break;
                }
                // The first stops the job on every host (TERM, then KILL);
                // hosts then report "cancelled", or that the command may
                // still run, and the summary is printed.
                interrupted = true;
                engine.cancel(job);
                let running = total - finished;
                eprintln!(
                    "sshdeck: {what}: stopping the command on {running} {} (TERM, then KILL); again to leave without waiting",
                    if running == 1 { "host" } else { "hosts" }
                );
                continue;
            }
        };
        let Some(first) = first else { break };
        progress.clear();
        let mut next = Some(first);
        let mut handled = 0;
        while let Some(ev) = next.take() {
            let host = ev.host.0;
            match ev.kind {
                EventKind::Connecting => printer.state(host, "connecting"),
                EventKind::Connected => printer.state(host, "connected"),
                EventKind::Disconnected => printer.state(host, "disconnected"),
                EventKind::Warning(w) => {
                    eprintln!("sshdeck: warning: {}: {w}", labels[host]);
                }
                EventKind::Stdout(data) => {
                    if let Some(d) = digests.get_mut(host) {
                        d[0].update(&data);
                    }
                    output(&mut printer, &mut gatherer, &mut outdir, host, false, &data)?
                }
                EventKind::Stderr(data) => {
                    if let Some(d) = digests.get_mut(host) {
                        d[1].update(&data);
                    }
                    output(&mut printer, &mut gatherer, &mut outdir, host, true, &data)?
                }
                EventKind::Exit { status, elapsed } => {
                    let o = Ended::new(HostOutcome::Exit(status), elapsed);
                    finished += finish(&mut printer, &mut progress, &mut outcomes, host, o);
                }
                EventKind::Failed { error, elapsed } => {
                    let o = Ended::new(HostOutcome::from(&error), elapsed);
                    finished += finish(&mut printer, &mut progress, &mut outcomes, host, o);
                }
            }
            handled += 1;
            if handled < DRAIN_BATCH && (interrupted || !holding()) {
                next = events.try_recv().ok();
            }
        }
        printer.flush();
        progress.draw();
    }
    progress.clear();
    if let Some(dir) = outdir.as_mut() {
        dir.flush()?;
    }
    // Every stream hashed once, as it arrived: gathering groups by these
    // and the run record keeps them.
    let digests: Vec<[[u8; 32]; 2]> = digests
        .into_iter()
        .map(|[o, e]| [o.finalize().into(), e.finalize().into()])
        .collect();
    if let Some(g) = &gatherer {
        g.print(&labels, &outcomes, &digests, color);
    }
    let failed = summarize(&mut printer, &labels, &outcomes, a.json);
    if let Some(path) = &record_path {
        let record = record(&command, &ran_on, &outcomes, &digests);
        if let Err(e) = record.save(path) {
            eprintln!(
                "sshdeck: warning: cannot keep this run's results in {}: {e}",
                path.display()
            );
        }
    }
    if interrupted {
        return Ok(ExitCode::from(super::EXIT_INTERRUPTED));
    }
    if a.max_exit {
        return Ok(ExitCode::from(max_exit(&outcomes)));
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// This run as `--hosts-from-last` reads it next time.
fn record(
    command: &str,
    ran_on: &[(String, RecordedTarget)],
    outcomes: &[Option<Ended>],
    digests: &[[[u8; 32]; 2]],
) -> RunRecord {
    let hosts = ran_on
        .iter()
        .zip(outcomes)
        .zip(digests)
        .map(|(((label, target), o), d)| {
            let outcome = o.as_ref().map(|e| &e.outcome);
            RecordedHost::new(label.clone(), target.clone(), outcome, *d)
        })
        .collect();
    RunRecord {
        // A command given with a leading space is kept nowhere, as in the
        // TUI (bash's ignorespace): only which hosts failed is recorded.
        command: if crate::engine::commands::command::is_private(command) {
            "(a command typed with a leading space)".to_string()
        } else {
            command.to_string()
        },
        hosts,
    }
}

/// `-S`: the largest exit status on any host; 255 (as ssh's own) where
/// the command could not run, died of a signal, or never reported.
fn max_exit(outcomes: &[Option<Ended>]) -> u8 {
    outcomes
        .iter()
        .map(|o| match o.as_ref().map(|e| &e.outcome) {
            Some(HostOutcome::Exit(ExitStatus::Code(c))) => u8::try_from(*c).unwrap_or(255),
            _ => 255,
        })
        .max()
        .unwrap_or(0)
}

/// This process's input, for every host: read once, shared. `None` (so
/// end-of-input at once) when it is a terminal, which nobody means to
/// type a fleet's input into, or when there is none.
fn local_input() -> Option<StdinFeed> {
    use std::io::Read;
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return None;
    }
    let feed = StdinFeed::default();
    let writer = feed.clone();
    // A plain thread: a pipe may stay open after every host has finished,
    // and a blocked read must not keep the runtime from shutting down.
    let spawned = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let mut input = stdin.lock();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match input.read(&mut buf) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    // A closed descriptor (`<&-`) reads as an error: no input.
                    Ok(0) | Err(_) => break,
                    Ok(n) => writer.push(bytes::Bytes::copy_from_slice(&buf[..n])),
                }
            }
            writer.finish();
        });
    spawned.is_ok().then_some(feed)
}

fn output(
    printer: &mut StreamPrinter,
    gatherer: &mut Option<Gatherer>,
    outdir: &mut Option<OutDir>,
    host: usize,
    stderr: bool,
    data: &[u8],
) -> Result<(), CliError> {
    printer.output(host, stderr, data);
    if let Some(g) = gatherer.as_mut() {
        g.output(host, stderr, data);
    }
    if let Some(d) = outdir.as_mut() {
        d.write(host, stderr, data)?;
    }
    Ok(())
}

fn finish(
    printer: &mut StreamPrinter,
    progress: &mut Progress,
    outcomes: &mut [Option<Ended>],
    host: usize,
    outcome: Ended,
) -> usize {
    let Some(slot) = outcomes.get_mut(host) else {
        return 0;
    };
    if slot.is_some() {
        return 0;
    }
    printer.end(host, &outcome);
    progress.done(outcome.outcome.ok());
    *slot = Some(outcome);
    1
}

/// Print the failure summary; returns how many hosts failed.
fn summarize(
    printer: &mut StreamPrinter,
    labels: &[String],
    outcomes: &[Option<Ended>],
    json: bool,
) -> usize {
    let failed: Vec<(usize, &HostOutcome)> = outcomes
        .iter()
        .enumerate()
        .filter_map(|(i, o)| o.as_ref().map(|o| (i, &o.outcome)))
        .filter(|(_, o)| !o.ok())
        .collect();
    let missing = outcomes.iter().filter(|o| o.is_none()).count();
    if json {
        printer.summary(outcomes.len(), failed.len() + missing);
        printer.flush();
        return failed.len() + missing;
    }
    let mut err = std::io::stderr().lock();
    if !failed.is_empty() || missing > 0 {
        let _ = writeln!(
            err,
            "sshdeck: {} of {} hosts failed:",
            failed.len() + missing,
            outcomes.len()
        );
        let width = failed
            .iter()
            .map(|(i, _)| labels[*i].len())
            .max()
            .unwrap_or(0);
        for (i, o) in &failed {
            let _ = writeln!(err, "  {:width$}  {}", labels[*i], o.describe());
        }
        if missing > 0 {
            let _ = writeln!(err, "  {missing} hosts never reported (engine stopped)");
        }
    }
    failed.len() + missing
}
