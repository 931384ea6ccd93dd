//! `sshdeck recipe NAME [SELECTOR]`: run a recipe's steps on each host in
//! parallel (a host stops at its first failing step), print each step as
//! it ends and a summary. `--dry-run` shows the expanded steps instead.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::CliError;
use super::args::{GlobalArgs, RecipeArgs};
use super::progress::Progress;
use super::setup;
use crate::engine::recipe::{Recipe, RecipeEvent, StepState, TemplateVars, run_on_host};
use crate::engine::{HostId, Target};
use crate::text::fmt_secs;
use crate::text::sanitize::{clean, sanitize_line};

pub async fn recipe(g: &GlobalArgs, a: &RecipeArgs) -> Result<ExitCode, CliError> {
    let setup = setup::prepare(g)?;
    let recipes = setup.inventory.config().recipes();
    let Some(name) = &a.name else {
        list(&recipes);
        return Ok(ExitCode::SUCCESS);
    };
    let recipe = find_recipe(&recipes, name)?;
    let targets = setup::select(&setup.inventory, &a.hosts, a.selector.as_deref(), true)?;
    let date = TemplateVars::today();
    let vars = |t: &Target| TemplateVars::new(&t.label, &t.user, &date);
    if a.dry_run {
        dry_run(&recipe, &targets, vars)?;
        return Ok(ExitCode::SUCCESS);
    }
    let (mut engine, paused) = setup::headless_engine(setup);
    let recipe = Arc::new(recipe);
    let (tx, rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let labels: Vec<String> = targets.iter().map(|t| t.label.clone()).collect();
    for t in targets {
        let v = vars(&t);
        let id = engine.add_host(t);
        tokio::spawn(run_on_host(
            id,
            engine.link(id),
            recipe.clone(),
            v,
            tx.clone(),
            cancel.clone(),
        ));
    }
    drop(tx);
    let tty = std::io::stderr().is_terminal();
    let mut progress = Progress::new(labels.len(), tty, paused);
    let run = RunView {
        recipe: &recipe,
        labels: &labels,
        show_output: a.show_output,
    };
    let (tally, interrupted) = follow(&run, rx, &cancel, &mut progress).await;
    progress.clear();
    summary(&recipe, &labels, &tally);
    if interrupted {
        return Ok(ExitCode::from(super::EXIT_INTERRUPTED));
    }
    let failed = tally.failure.iter().filter(|f| f.is_some()).count();
    if failed > 0 {
        eprintln!(
            "sshdeck: recipe {:?} failed on {failed} of {} hosts",
            recipe.name,
            labels.len()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The recipe called `name`, or an error naming the ones there are.
fn find_recipe(recipes: &[Recipe], name: &str) -> Result<Recipe, CliError> {
    if let Some(recipe) = recipes.iter().find(|r| r.name == name) {
        return Ok(recipe.clone());
    }
    let known: Vec<&str> = recipes.iter().map(|r| r.name.as_str()).collect();
    Err(CliError::BadArg(if known.is_empty() {
        format!("no recipe named {name:?}: the config has no [[recipes]]")
    } else {
        format!("no recipe named {name:?} (known: {})", known.join(", "))
    }))
}

/// What printing the run needs: the recipe, the hosts' labels (by host
/// id) and whether step output is shown.
struct RunView<'a> {
    recipe: &'a Recipe,
    labels: &'a [String],
    show_output: bool,
}

/// Per host: steps done, the failure (step, error) if any, and the time
/// its steps took.
struct Tally {
    done: Vec<usize>,
    failure: Vec<Option<(usize, String)>>,
    elapsed: Vec<f64>,
}

/// Prints each step as it ends until every host is through; returns the
/// tally and whether a stop signal came.
async fn follow(
    run: &RunView<'_>,
    mut rx: mpsc::UnboundedReceiver<RecipeEvent>,
    cancel: &CancellationToken,
    progress: &mut Progress,
) -> (Tally, bool) {
    let hosts = run.labels.len();
    let mut tally = Tally {
        done: vec![0usize; hosts],
        failure: vec![None; hosts],
        elapsed: vec![0f64; hosts],
    };
    // Ctrl-C, SIGTERM and SIGHUP all stop the work on the hosts first.
    let mut signals = super::stop_signals::StopSignals::new();
    let mut interrupted = false;
    loop {
        let ev = tokio::select! {
            ev = rx.recv() => ev,
            _ = signals.recv(), if !interrupted => {
                interrupted = true;
                cancel.cancel();
                continue;
            }
        };
        let Some(ev) = ev else { break };
        if step_ended(run, ev, &mut tally, progress) {
            progress.draw();
        }
    }
    (tally, interrupted)
}

/// Prints a step that ended and counts it; false for events that end
/// nothing (a step starting, or skipped).
fn step_ended(run: &RunView, ev: RecipeEvent, tally: &mut Tally, progress: &mut Progress) -> bool {
    let steps = run.recipe.steps.len();
    let HostId(h) = ev.host;
    let label = &run.labels[h];
    let what = run.recipe.steps[ev.step].describe();
    let last = ev.step + 1 == steps;
    match ev.state {
        StepState::Running { .. } | StepState::Skipped => return false,
        StepState::Done {
            elapsed: e,
            detail,
            output,
        } => {
            progress.clear();
            tally.done[h] += 1;
            tally.elapsed[h] += e.as_secs_f64();
            let detail = if detail.is_empty() {
                String::new()
            } else {
                format!(", {}", clean(&detail))
            };
            println!(
                "{label}: step {}/{steps} {what}: ok ({}{detail})",
                ev.step + 1,
                fmt_secs(e.as_secs_f64())
            );
            if run.show_output {
                print_output(label, &output);
            }
            if last {
                progress.done(true);
            }
        }
        StepState::Failed {
            elapsed: e,
            error,
            output,
        } => {
            progress.clear();
            tally.elapsed[h] += e.as_secs_f64();
            eprintln!(
                "{label}: step {}/{steps} {what}: FAILED: {}",
                ev.step + 1,
                clean(&error)
            );
            if run.show_output {
                print_output(label, &output);
            }
            tally.failure[h] = Some((ev.step, clean(&error)));
            progress.done(false);
        }
    }
    true
}

fn print_output(label: &str, output: &[u8]) {
    let mut out = std::io::stdout().lock();
    for line in output.split(|&b| b == b'\n') {
        if !line.is_empty() {
            let _ = writeln!(out, "{label}|   {}", sanitize_line(line));
        }
    }
}

fn summary(recipe: &Recipe, labels: &[String], tally: &Tally) {
    let Tally {
        done,
        failure,
        elapsed,
    } = tally;
    let steps = recipe.steps.len();
    let w = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "\nrecipe {}: {} hosts", recipe.name, labels.len());
    for (i, label) in labels.iter().enumerate() {
        let result = match &failure[i] {
            None if done[i] == steps => format!("ok in {}", fmt_secs(elapsed[i])),
            None => "not finished".into(),
            Some((step, e)) => format!(
                "FAILED at step {} ({}): {}",
                step + 1,
                recipe.steps[*step].kind(),
                clean(e)
            ),
        };
        let _ = writeln!(out, "  {label:w$}  {}/{steps}  {result}", done[i]);
    }
}

fn dry_run(
    recipe: &Recipe,
    targets: &[Target],
    vars: impl Fn(&Target) -> TemplateVars,
) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "recipe {} on {} hosts (dry run: nothing is connected or changed)",
        recipe.name,
        targets.len()
    );
    for t in targets {
        let _ = writeln!(out, "{}", t.label);
        for (i, s) in recipe.steps.iter().enumerate() {
            let s = s
                .expand(&vars(t))
                .map_err(|e| CliError::BadArg(format!("{}: step {}: {e}", t.label, i + 1)))?;
            let _ = writeln!(out, "  {}. {}", i + 1, s.describe());
        }
    }
    Ok(())
}

fn list(recipes: &[Recipe]) {
    let mut out = std::io::stdout().lock();
    if recipes.is_empty() {
        let _ = writeln!(
            out,
            "No recipes. Add [[recipes]] to the config (see config.example.toml)."
        );
        return;
    }
    for r in recipes {
        let _ = writeln!(
            out,
            "{}  ({} steps)  {}",
            r.name,
            r.steps.len(),
            r.description
        );
    }
}
