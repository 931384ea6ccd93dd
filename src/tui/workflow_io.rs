//! Facts collectors and recipe runs for the TUI: the effects that start
//! them, and the receivers their reports come back on.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::AppState;
use crate::engine::facts::{FactsReport, FactsRunner, Scheduled};
use crate::engine::recipe::{Recipe, RecipeEvent, Vars, run_on_host};
use crate::engine::{Engine, HostId};

pub struct WorkflowIo {
    facts: FactsRunner,
    pub reports: mpsc::UnboundedReceiver<FactsReport>,
    recipes: Vec<Recipe>,
    recipe_tx: mpsc::UnboundedSender<RecipeEvent>,
    pub recipe_events: mpsc::UnboundedReceiver<RecipeEvent>,
    recipe_cancel: CancellationToken,
}

impl WorkflowIo {
    pub fn new(collectors: Vec<Scheduled>, recipes: Vec<Recipe>) -> WorkflowIo {
        let (facts, reports) = FactsRunner::new(collectors);
        let (recipe_tx, recipe_events) = mpsc::unbounded_channel();
        WorkflowIo {
            facts,
            reports,
            recipes,
            recipe_tx,
            recipe_events,
            recipe_cancel: CancellationToken::new(),
        }
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

    pub fn run_recipe(
        &mut self,
        engine: &Engine,
        state: &mut AppState,
        name: &str,
        hosts: &[usize],
    ) {
        let Some(recipe) = self.recipes.iter().find(|r| r.name == name).cloned() else {
            state.status = Some(format!("no recipe named {name:?}"));
            return;
        };
        let recipe = Arc::new(recipe);
        self.recipe_cancel = CancellationToken::new();
        let date = Vars::today();
        for &h in hosts {
            let id = HostId(h);
            let Some(t) = engine.target(id) else { continue };
            let vars = Vars::new(&t.label, &t.user, &date);
            tokio::spawn(run_on_host(
                id,
                engine.link(id),
                recipe.clone(),
                vars,
                self.recipe_tx.clone(),
                self.recipe_cancel.clone(),
            ));
        }
    }

    pub fn cancel_recipe(&self) {
        self.recipe_cancel.cancel();
    }
}
