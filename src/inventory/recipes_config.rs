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

fn recipe(r: &RecipeEntry) -> Result<Recipe, (usize, String)> {
    let name = r.name.get_ref();
    let ctx = |i: usize, m: String| format!("recipe {name:?} step {}: {m}", i + 1);
    if name.trim().is_empty() {
        return Err((r.name.span().start, "recipe name is empty".into()));
    }
    if r.steps.is_empty() {
        return Err((
            r.name.span().start,
            format!("recipe {name:?} has no steps (add [[recipes.steps]] tables)"),
        ));
    }
    let mut steps = Vec::new();
    for (i, s) in r.steps.iter().enumerate() {
        let at = s.span().start;
        let e = s.get_ref();
        let given = [
            e.put.is_some(),
            e.run.is_some(),
            e.get.is_some(),
            e.wait.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err((
                at,
                ctx(i, "needs exactly one of put, run, get, wait".into()),
            ));
        }
        let secs = |v: &Option<Spanned<f64>>| -> Result<Option<Duration>, (usize, String)> {
            match v {
                None => Ok(None),
                Some(t) if t.get_ref().is_finite() && *t.get_ref() > 0.0 && *t.get_ref() < 1e9 => {
                    Ok(Some(Duration::from_secs_f64(*t.get_ref())))
                }
                Some(t) => Err((
                    t.span().start,
                    ctx(i, "must be a positive number of seconds".into()),
                )),
            }
        };
        let timeout = secs(&e.timeout)?;
        let every = secs(&e.every)?;
        let template = |t: &str, span: usize| check_template(t).map_err(|m| (span, ctx(i, m)));
        let paths = |p: &Paths| -> Result<Vec<String>, (usize, String)> {
            let list = p.list();
            if list.is_empty() || list.iter().any(|p| p.trim().is_empty()) {
                return Err((at, ctx(i, "a path is empty".into())));
            }
            for p in &list {
                template(p, at)?;
            }
            Ok(list)
        };
        let only = |what: &str, ok: bool| {
            if ok {
                Ok(())
            } else {
                Err((
                    at,
                    ctx(i, format!("{what} is not used by this kind of step")),
                ))
            }
        };
        let step = if let Some(p) = &e.put {
            only("timeout", timeout.is_none())?;
            only("every", every.is_none())?;
            let to =
                e.to.as_ref()
                    .ok_or((at, ctx(i, "put needs `to`, the remote directory".into())))?;
            template(to.get_ref(), to.span().start)?;
            Step::Put {
                sources: paths(p)?,
                dest: to.get_ref().clone(),
            }
        } else if let Some(p) = &e.get {
            only("timeout", timeout.is_none())?;
            only("every", every.is_none())?;
            let dest = match &e.to {
                Some(to) => {
                    template(to.get_ref(), to.span().start)?;
                    to.get_ref().clone()
                }
                None => ".".into(),
            };
            Step::Get {
                sources: paths(p)?,
                dest,
            }
        } else if let Some(c) = &e.run {
            only("to", e.to.is_none())?;
            only("every", every.is_none())?;
            command(c, &ctx, i)?;
            Step::Run {
                command: c.get_ref().clone(),
                timeout,
            }
        } else if let Some(c) = &e.wait {
            only("to", e.to.is_none())?;
            command(c, &ctx, i)?;
            Step::Wait {
                command: c.get_ref().clone(),
                timeout: timeout.unwrap_or(Duration::from_secs_f64(WAIT_TIMEOUT)),
                every: every.unwrap_or(Duration::from_secs_f64(WAIT_EVERY)),
            }
        } else {
            unreachable!("exactly one kind was checked above")
        };
        steps.push(step);
    }
    Ok(Recipe {
        name: name.clone(),
        description: r.description.clone(),
        steps,
    })
}

fn command(
    c: &Spanned<String>,
    ctx: &dyn Fn(usize, String) -> String,
    i: usize,
) -> Result<(), (usize, String)> {
    if c.get_ref().trim().is_empty() {
        return Err((c.span().start, ctx(i, "the command is empty".into())));
    }
    check_template(c.get_ref()).map_err(|m| (c.span().start, ctx(i, m)))
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
