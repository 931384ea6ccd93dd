//! Facts collectors and recipe runs for the TUI: the effects that start
//! them, and the receivers their reports come back on.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::Msg;
use crate::engine::facts::{FactsReport, FactsRunner, Scheduled};
use crate::engine::recipe::{Recipe, RecipeEvent, TemplateVars, run_on_host};
use crate::engine::{Engine, HostId};

pub struct WorkflowIo {
    facts: FactsRunner,
    recipes: Vec<Recipe>,
    recipe_tx: mpsc::UnboundedSender<RecipeEvent>,
    recipe_cancel: CancellationToken,
}

impl WorkflowIo {
    /// The runner, with the receivers its facts reports and recipe events
    /// come back on.
    pub fn new(
        collectors: Vec<Scheduled>,
        recipes: Vec<Recipe>,
    ) -> (
        WorkflowIo,
        mpsc::UnboundedReceiver<FactsReport>,
        mpsc::UnboundedReceiver<RecipeEvent>,
    ) {
        let (facts, reports) = FactsRunner::new(collectors);
        let (recipe_tx, recipe_events) = mpsc::unbounded_channel();
        let io = WorkflowIo {
            facts,
            recipes,
            recipe_tx,
            recipe_cancel: CancellationToken::new(),
        };
        (io, reports, recipe_events)
    }

    pub fn has_collectors(&self) -> bool {
        !self.facts.is_empty()
    }

    /// Collect on `hosts` now; hosts not yet watched are from now on.
    pub fn watch(&mut self, engine: &Engine, hosts: &[usize]) {
        for &h in hosts {
            let id = HostId(h);
            if self.facts.is_watching(id) {
                self.facts.once(id, engine.link(id));
            } else {
                self.facts.watch(id, engine.link(id));
            }
        }
    }

    pub fn run_recipe(&mut self, engine: &Engine, name: &str, hosts: &[usize]) -> Option<Msg> {
        let Some(recipe) = self.recipes.iter().find(|r| r.name == name).cloned() else {
            return Some(Msg::Status(format!("no recipe named {name:?}")));
        };
        let recipe = Arc::new(recipe);
        self.recipe_cancel = CancellationToken::new();
        let date = TemplateVars::today();
        for &h in hosts {
            let id = HostId(h);
            let Some(t) = engine.target(id) else { continue };
            let vars = TemplateVars::new(&t.label, &t.user, &date);
            tokio::spawn(run_on_host(
                id,
                engine.link(id),
                recipe.clone(),
                vars,
                self.recipe_tx.clone(),
                self.recipe_cancel.clone(),
            ));
        }
        None
    }

    pub fn cancel_recipe(&self) {
        self.recipe_cancel.cancel();
    }
}
