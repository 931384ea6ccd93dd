//! A recipe run in the TUI: which step each host is on, shown in the
//! output area. Started from the palette; events come from the runner.

use crate::keymap::{Action, Context};

pub mod state;

use super::msg::Effect;
use super::state::AppState;
use crate::engine::recipe::{RecipeEvent, StepState};
use crate::text::sanitize::clean;
use state::{Cell, RecipeRun};

/// Start recipe `name` on the selected hosts.
pub fn start(s: &mut AppState, name: &str) -> Vec<Effect> {
    let Some(r) = s.recipes.iter().find(|r| r.name == name) else {
        s.status = Some(format!("no recipe named {name:?}"));
        return Vec::new();
    };
    let hosts = s.selected();
    if hosts.is_empty() {
        let key = |a| super::help::key_name(s, Context::Hosts, a);
        s.status = Some(format!(
            "recipe {name}: no hosts selected ({} selects, {} selects all)",
            key(Action::Select),
            key(Action::SelectAll)
        ));
        return Vec::new();
    }
    if s.recipe.as_ref().is_some_and(|r| r.running() > 0) {
        s.status = Some(format!(
            "a recipe is still running: wait, or {} in its view to cancel",
            super::help::key_name(s, Context::Recipe, Action::CancelRecipe)
        ));
        return Vec::new();
    }
    let steps: Vec<(String, String)> = r
        .steps
        .iter()
        .map(|st| (st.kind().to_string(), st.describe()))
        .collect();
    s.recipe = Some(RecipeRun {
        name: name.to_string(),
        cells: vec![vec![Cell::Pending; steps.len()]; hosts.len()],
        steps,
        hosts: hosts.clone(),
        show: true,
        cursor: 0,
        cancelled: false,
    });
    s.status = Some(format!(
        "recipe {name} started on {}",
        crate::text::count(hosts.len(), "host", "hosts")
    ));
    vec![Effect::RunRecipe {
        name: name.to_string(),
        hosts,
    }]
}

pub fn on_event(s: &mut AppState, ev: RecipeEvent) {
    let Some(run) = s.recipe.as_mut() else {
        return;
    };
    let Some(row) = run.hosts.iter().position(|&h| h == ev.host.0) else {
        return;
    };
    let Some(cell) = run.cells[row].get_mut(ev.step) else {
        return;
    };
    *cell = match ev.state {
        StepState::Running { detail } => Cell::Running(clean(&detail)),
        StepState::Done { elapsed, .. } => Cell::Done(elapsed),
        StepState::Failed { elapsed, error, .. } => Cell::Failed(elapsed, clean(&error)),
        StepState::Skipped => Cell::Skipped,
    };
    if run.running() == 0 {
        let (n, failed) = (run.hosts.len(), run.failed());
        s.status = Some(if failed == 0 {
            format!(
                "recipe {} done on {}",
                run.name,
                crate::text::count(n, "host", "hosts")
            )
        } else {
            format!(
                "recipe {} failed on {failed} of {}",
                run.name,
                crate::text::count(n, "host", "hosts")
            )
        });
    }
}

/// Keys while the recipe view has the output area: move, cancel, hide.
/// None for actions it does not take (the Hosts tab's then apply).
pub fn on_action(s: &mut AppState, a: Action) -> Option<Vec<Effect>> {
    let run = s.recipe.as_mut().filter(|r| r.show)?;
    let n = run.hosts.len();
    match a {
        Action::Up => run.cursor = run.cursor.saturating_sub(1),
        Action::Down => run.cursor = (run.cursor + 1).min(n.saturating_sub(1)),
        Action::Top => run.cursor = 0,
        Action::Bottom => run.cursor = n.saturating_sub(1),
        Action::Back => run.show = false,
        Action::CancelRecipe if run.running() > 0 => {
            run.cancelled = true;
            s.status = Some(format!("cancelling recipe {}", run.name));
            return Some(vec![Effect::CancelRecipe]);
        }
        Action::CancelRecipe => s.status = Some(format!("recipe {} is not running", run.name)),
        _ => return None,
    }
    Some(Vec::new())
}
