//! `[[recipes]]` (ordered steps) and `[[commands]]` (saved commands), the
//! things the command palette and `sshdeck recipe` run by name.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::engine::recipe::{Recipe, Step, check_template};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeEntry {
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub steps: Vec<Spanned<StepEntry>>,
}

/// One of `put`, `run`, `get` or `wait`, with its options.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepEntry {
    pub put: Option<Paths>,
    pub run: Option<Spanned<String>>,
    pub get: Option<Paths>,
    pub wait: Option<Spanned<String>>,
    /// put: the remote directory; get: the local one.
    pub to: Option<Spanned<String>>,
    /// Seconds: run/wait give up after this long.
    pub timeout: Option<Spanned<f64>>,
    /// wait: seconds between attempts (default 2).
    pub every: Option<Spanned<f64>>,
}

/// One path or several.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Paths {
    One(String),
    Many(Vec<String>),
}

impl Paths {
    fn list(&self) -> Vec<String> {
        match self {
            Paths::One(p) => vec![p.clone()],
            Paths::Many(v) => v.clone(),
        }
    }
}

/// `[[commands]] name = "disk hogs" command = "du -xsh /var/* | sort -h"`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandEntry {
    pub name: Spanned<String>,
    pub command: Spanned<String>,
}

/// A wait step's default time between attempts.
const WAIT_EVERY: f64 = 2.0;
/// A wait step's default limit.
const WAIT_TIMEOUT: f64 = 300.0;

/// The recipes, converted (they were checked when parsed).
pub fn recipes(entries: &[RecipeEntry]) -> Vec<Recipe> {
    entries.iter().filter_map(|r| recipe(r).ok()).collect()
}

/// Saved commands: (name, command line).
pub fn saved_commands(entries: &[CommandEntry]) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|c| (c.name.get_ref().clone(), c.command.get_ref().clone()))
        .collect()
}

/// One recipe entry checked and converted; an error is (offset, why).
fn recipe(r: &RecipeEntry) -> Result<Recipe, (usize, String)> {
    let name = r.name.get_ref();
    if name.trim().is_empty() {
        return Err((r.name.span().start, "recipe name is empty".into()));
    }
    if r.steps.is_empty() {
        return Err((
            r.name.span().start,
            format!("recipe {name:?} has no steps (add [[recipes.steps]] tables)"),
        ));
    }
    let steps = r
        .steps
        .iter()
        .enumerate()
        .map(|(index, s)| {
            let at = StepAt {
                recipe: name,
                index,
                at: s.span().start,
            };
            at.step(s.get_ref())
        })
        .collect::<Result<_, _>>()?;
    Ok(Recipe {
        name: name.clone(),
        description: r.description.clone(),
        steps,
    })
}

/// Where a step is (its recipe, its 0-based index, its byte offset): every
/// error about it says "recipe NAME step N: ...".
struct StepAt<'a> {
    recipe: &'a str,
    index: usize,
    at: usize,
}

/// A step's `timeout` and `every`, checked.
struct Times {
    timeout: Option<Duration>,
    every: Option<Duration>,
}

impl StepAt<'_> {
    /// The message, prefixed with the recipe and step.
    fn says(&self, m: String) -> String {
        format!("recipe {:?} step {}: {m}", self.recipe, self.index + 1)
    }

    /// An error at the step's own offset.
    fn err(&self, m: String) -> (usize, String) {
        (self.at, self.says(m))
    }

    /// Check and convert one step, whichever its kind.
    fn step(&self, e: &StepEntry) -> Result<Step, (usize, String)> {
        let given = [
            e.put.is_some(),
            e.run.is_some(),
            e.get.is_some(),
            e.wait.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(self.err("needs exactly one of put, run, get, wait".into()));
        }
        let times = Times {
            timeout: self.secs(&e.timeout)?,
            every: self.secs(&e.every)?,
        };
        if let Some(p) = &e.put {
            self.put(p, e, &times)
        } else if let Some(p) = &e.get {
            self.get(p, e, &times)
        } else if let Some(c) = &e.run {
            self.run(c, e, &times)
        } else if let Some(c) = &e.wait {
            self.wait(c, e, &times)
        } else {
            unreachable!("exactly one kind was checked above")
        }
    }

    /// `put`: sources and the remote directory `to` (required).
    fn put(&self, p: &Paths, e: &StepEntry, t: &Times) -> Result<Step, (usize, String)> {
        self.only("timeout", t.timeout.is_none())?;
        self.only("every", t.every.is_none())?;
        let to =
            e.to.as_ref()
                .ok_or_else(|| self.err("put needs `to`, the remote directory".into()))?;
        self.template(to.get_ref(), to.span().start)?;
        Ok(Step::Put {
            sources: self.paths(p)?,
            dest: to.get_ref().clone(),
        })
    }

    /// `get`: sources and the local directory `to` (default ".").
    fn get(&self, p: &Paths, e: &StepEntry, t: &Times) -> Result<Step, (usize, String)> {
        self.only("timeout", t.timeout.is_none())?;
        self.only("every", t.every.is_none())?;
        let dest = match &e.to {
            Some(to) => {
                self.template(to.get_ref(), to.span().start)?;
                to.get_ref().clone()
            }
            None => ".".into(),
        };
        Ok(Step::Get {
            sources: self.paths(p)?,
            dest,
        })
    }

    /// `run`: a command, with an optional timeout.
    fn run(&self, c: &Spanned<String>, e: &StepEntry, t: &Times) -> Result<Step, (usize, String)> {
        self.only("to", e.to.is_none())?;
        self.only("every", t.every.is_none())?;
        self.command(c)?;
        Ok(Step::Run {
            command: c.get_ref().clone(),
            timeout: t.timeout,
        })
    }

    /// `wait`: a command retried every `every` until it succeeds or
    /// `timeout` passes.
    fn wait(&self, c: &Spanned<String>, e: &StepEntry, t: &Times) -> Result<Step, (usize, String)> {
        self.only("to", e.to.is_none())?;
        self.command(c)?;
        Ok(Step::Wait {
            command: c.get_ref().clone(),
            timeout: t.timeout.unwrap_or(Duration::from_secs_f64(WAIT_TIMEOUT)),
            every: t.every.unwrap_or(Duration::from_secs_f64(WAIT_EVERY)),
        })
    }

    /// A number of seconds, when given, must be positive and finite.
    fn secs(&self, v: &Option<Spanned<f64>>) -> Result<Option<Duration>, (usize, String)> {
        match v {
            None => Ok(None),
            Some(t) if t.get_ref().is_finite() && *t.get_ref() > 0.0 && *t.get_ref() < 1e9 => {
                Ok(Some(Duration::from_secs_f64(*t.get_ref())))
            }
            Some(t) => Err((
                t.span().start,
                self.says("must be a positive number of seconds".into()),
            )),
        }
    }

    /// A `{var}` template must be well formed.
    fn template(&self, t: &str, span: usize) -> Result<(), (usize, String)> {
        check_template(t).map_err(|m| (span, self.says(m)))
    }

    /// One path or several, none empty, each a valid template.
    fn paths(&self, p: &Paths) -> Result<Vec<String>, (usize, String)> {
        let list = p.list();
        if list.is_empty() || list.iter().any(|p| p.trim().is_empty()) {
            return Err(self.err("a path is empty".into()));
        }
        for p in &list {
            self.template(p, self.at)?;
        }
        Ok(list)
    }

    /// An option this kind of step does not use must be absent.
    fn only(&self, what: &str, ok: bool) -> Result<(), (usize, String)> {
        if ok {
            Ok(())
        } else {
            Err(self.err(format!("{what} is not used by this kind of step")))
        }
    }

    /// A run or wait command: not blank, a valid template.
    fn command(&self, c: &Spanned<String>) -> Result<(), (usize, String)> {
        if c.get_ref().trim().is_empty() {
            return Err((c.span().start, self.says("the command is empty".into())));
        }
        check_template(c.get_ref()).map_err(|m| (c.span().start, self.says(m)))
    }
}

/// Check `[[recipes]]` and `[[commands]]`: (offset, why).
pub(super) fn validate(
    recipes: &[RecipeEntry],
    commands: &[CommandEntry],
) -> Result<(), (usize, String)> {
    let mut names = std::collections::HashSet::new();
    for r in recipes {
        recipe(r)?;
        if !names.insert(r.name.get_ref().clone()) {
            return Err((
                r.name.span().start,
                format!("recipe {:?} is defined twice", r.name.get_ref()),
            ));
        }
    }
    names.clear();
    for c in commands {
        if c.name.get_ref().trim().is_empty() {
            return Err((c.name.span().start, "command name is empty".into()));
        }
        if c.command.get_ref().trim().is_empty() {
            return Err((
                c.command.span().start,
                format!("command {:?} is empty", c.name.get_ref()),
            ));
        }
        if !names.insert(c.name.get_ref().clone()) {
            return Err((
                c.name.span().start,
                format!("command {:?} is defined twice", c.name.get_ref()),
            ));
        }
    }
    Ok(())
}
