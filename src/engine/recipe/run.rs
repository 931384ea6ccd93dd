//! Running a recipe on one host: steps in order, stopping at the first
//! failure, each step's state sent out as it changes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Recipe, Step, TemplateVars};
use crate::engine::HostId;
use crate::engine::facts::last_line;
use crate::engine::files::copy_job::{self, CopySpec, Direction, HostProgress};
use crate::engine::files::transfer::TransferOpts;
use crate::engine::files::tree::Ledger;
use crate::engine::link::HostLink;

#[derive(Debug, Clone, PartialEq)]
pub enum StepState {
    Running {
        detail: String,
    },
    Done {
        elapsed: Duration,
        detail: String,
        /// A run step's stdout (capped), for `--show-output` and the view.
        output: Vec<u8>,
    },
    Failed {
        elapsed: Duration,
        error: String,
        output: Vec<u8>,
    },
    /// Not run: an earlier step failed or the recipe was cancelled.
    Skipped,
}

#[derive(Debug, Clone)]
pub struct RecipeEvent {
    pub host: HostId,
    pub step: usize,
    pub state: StepState,
}

/// Run `recipe` on one host. Returns true when every step succeeded.
pub async fn run_on_host(
    host: HostId,
    link: HostLink,
    recipe: Arc<Recipe>,
    vars: TemplateVars,
    tx: mpsc::UnboundedSender<RecipeEvent>,
    cancel: CancellationToken,
) -> bool {
    let send = |step: usize, state: StepState| {
        let _ = tx.send(RecipeEvent { host, step, state });
    };
    let mut failed = false;
    for (i, step) in recipe.steps.iter().enumerate() {
        if failed || cancel.is_cancelled() {
            send(i, StepState::Skipped);
            failed = true;
            continue;
        }
        let started = Instant::now();
        // Hosts share the local side of a get: each writes into its own
        // directory unless the template already names one per host.
        let own_dir = matches!(step, Step::Get { dest, .. } if !dest.contains("{host}"));
        let step = match step.expand(&vars) {
            Ok(s) => s,
            Err(error) => {
                send(i, failure(started, error, Vec::new()));
                failed = true;
                continue;
            }
        };
        send(
            i,
            StepState::Running {
                detail: step.describe(),
            },
        );
        let progress = |detail| send(i, StepState::Running { detail });
        // Every step watches `cancel` itself, so a cancelled command is
        // stopped on the host and its step says whether it was.
        let result = run_step(&link, &step, own_dir, &cancel, &progress).await;
        match result {
            Ok((detail, output)) => send(
                i,
                StepState::Done {
                    elapsed: started.elapsed(),
                    detail,
                    output,
                },
            ),
            Err((error, output)) => {
                tracing::debug!(host = %link.label, step = i + 1, %error, "recipe step failed");
                send(i, failure(started, error, output));
                failed = true;
            }
        }
    }
    !failed
}

fn failure(started: Instant, error: String, output: Vec<u8>) -> StepState {
    StepState::Failed {
        elapsed: started.elapsed(),
        error,
        output,
    }
}

type StepResult = Result<(String, Vec<u8>), (String, Vec<u8>)>;

async fn run_step(
    link: &HostLink,
    step: &Step,
    own_dir: bool,
    cancel: &CancellationToken,
    progress: &(dyn Fn(String) + Sync),
) -> StepResult {
    match step {
        Step::Run { command, timeout } => {
            let out = link
                .capture_until(command.clone(), *timeout, cancel.clone())
                .await
                .map_err(|e| (e.to_string(), Vec::new()))?;
            if out.success() {
                Ok((String::new(), out.stdout))
            } else {
                let status = out
                    .status
                    .as_ref()
                    .map_or("ended without an exit status".into(), ToString::to_string);
                let why = last_line(&out.stderr);
                let error = if why.is_empty() {
                    status
                } else {
                    format!("{status}: {why}")
                };
                Err((error, out.stdout))
            }
        }
        Step::Wait {
            command,
            timeout,
            every,
        } => wait_until(link, command, *timeout, *every, cancel, progress).await,
        Step::Put { sources, dest } => {
            copy(link, Direction::Put, sources, dest, false, cancel).await
        }
        Step::Get { sources, dest } => {
            copy(link, Direction::Get, sources, dest, own_dir, cancel).await
        }
    }
}

async fn wait_until(
    link: &HostLink,
    command: &str,
    timeout: Duration,
    every: Duration,
    cancel: &CancellationToken,
    progress: &(dyn Fn(String) + Sync),
) -> StepResult {
    let started = Instant::now();
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let left = timeout.saturating_sub(started.elapsed());
        let last = match link
            .capture_until(command.to_string(), Some(left.max(every)), cancel.clone())
            .await
        {
            Ok(out) if out.success() => {
                return Ok((format!("after {attempt} attempt(s)"), out.stdout));
            }
            Ok(out) => last_line(&out.stderr),
            // A timeout of one attempt is just another "not yet".
            Err(crate::engine::HostError::CommandTimeout { .. }) => "attempt timed out".into(),
            Err(e) => return Err((e.to_string(), Vec::new())),
        };
        if started.elapsed() + every > timeout {
            let mut error = format!(
                "still failing after {:.0}s ({attempt} attempts)",
                timeout.as_secs_f64()
            );
            if !last.is_empty() {
                error.push_str(": ");
                error.push_str(&last);
            }
            return Err((error, Vec::new()));
        }
        progress(format!("waiting, attempt {attempt}"));
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = cancel.cancelled() => return Err(("cancelled".to_string(), Vec::new())),
        }
    }
}

async fn copy(
    link: &HostLink,
    dir: Direction,
    sources: &[String],
    dest: &str,
    per_host_dir: bool,
    cancel: &CancellationToken,
) -> StepResult {
    let spec = CopySpec {
        dir,
        sources: sources.to_vec(),
        dest: dest.to_string(),
        recursive: true,
        opts: TransferOpts::default(),
        unsafe_links: false,
        per_host_dir,
        renames: Default::default(),
        only_listed: false,
    };
    let scans = copy_job::prepare(&spec).map_err(|e| (e.to_string(), Vec::new()))?;
    let progress = HostProgress::default();
    let ledger = Ledger::default();
    let t = copy_job::host_copy(link, &spec, &scans, &progress, &ledger, cancel)
        .await
        .map_err(|e| (e.to_string(), Vec::new()))?;
    Ok((
        format!("{} file(s), {}", t.files, crate::text::human_bytes(t.bytes)),
        Vec::new(),
    ))
}
