//! Recipes: ordered steps (put, run, get, wait) run on each host in
//! parallel, each host stopping at its first failing step. The HPC
//! routine "upload the inputs, run the job, download the results" is one.

mod run;
mod template;

use std::time::Duration;

pub use run::{RecipeEvent, StepState, run_on_host};
pub use template::{TemplateVars, check_template, expand};

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Copy local `sources` (files or directories) into the remote `dest`
    /// directory (created when missing).
    Put { sources: Vec<String>, dest: String },
    /// Run a command; a non-zero exit fails the step.
    Run {
        command: String,
        timeout: Option<Duration>,
    },
    /// Copy remote `sources` into the local `dest` directory. Without
    /// `{host}` in `dest`, each host writes under `dest/<host>/`.
    Get { sources: Vec<String>, dest: String },
    /// Run `command` every `every` until it succeeds; fail after `timeout`.
    Wait {
        command: String,
        timeout: Duration,
        every: Duration,
    },
}

impl Step {
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Put { .. } => "put",
            Step::Run { .. } => "run",
            Step::Get { .. } => "get",
            Step::Wait { .. } => "wait",
        }
    }

    /// One line for progress views and dry runs.
    pub fn describe(&self) -> String {
        match self {
            Step::Put { sources, dest } => format!("put {} → {dest}", sources.join(" ")),
            Step::Run { command, .. } => format!("run {command}"),
            Step::Get { sources, dest } => format!("get {} → {dest}", sources.join(" ")),
            Step::Wait {
                command, timeout, ..
            } => format!("wait for {command} (up to {}s)", timeout.as_secs_f64()),
        }
    }

    /// The step with its placeholders filled in for one host. Values
    /// going into commands are shell-quoted; into local paths, made safe
    /// as file names.
    pub fn expand(&self, v: &TemplateVars) -> Result<Step, String> {
        let cmd = |t: &str| expand(t, &v.quoted());
        let remote = |t: &str| expand(t, v);
        let local = |t: &str| expand(t, &v.file_safe());
        Ok(match self {
            Step::Put { sources, dest } => Step::Put {
                sources: sources.iter().map(|s| local(s)).collect::<Result<_, _>>()?,
                dest: remote(dest)?,
            },
            Step::Run { command, timeout } => Step::Run {
                command: cmd(command)?,
                timeout: *timeout,
            },
            Step::Get { sources, dest } => Step::Get {
                sources: sources
                    .iter()
                    .map(|s| remote(s))
                    .collect::<Result<_, _>>()?,
                dest: local(dest)?,
            },
            Step::Wait {
                command,
                timeout,
                every,
            } => Step::Wait {
                command: cmd(command)?,
                timeout: *timeout,
                every: *every,
            },
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    pub name: String,
    pub description: String,
    pub steps: Vec<Step>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_expand_per_host_with_quoting_where_it_matters() {
        let v = TemplateVars::new("web 1/x", "ops", "2026-11-21");
        let run = Step::Run {
            command: "mkdir -p out/{host} && echo {user} {date}".into(),
            timeout: None,
        };
        assert_eq!(
            run.expand(&v).unwrap(),
            Step::Run {
                command: "mkdir -p out/'web 1/x' && echo ops 2026-11-21".into(),
                timeout: None
            }
        );
        let get = Step::Get {
            sources: vec!["jobs/{host}/out".into()],
            dest: "results/{host}".into(),
        };
        assert_eq!(
            get.expand(&v).unwrap(),
            Step::Get {
                sources: vec!["jobs/web 1/x/out".into()],
                dest: "results/web 1_x".into()
            }
        );
        assert_eq!(get.describe(), "get jobs/{host}/out → results/{host}");
    }
}
