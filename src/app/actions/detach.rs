//! Detaching from a session: a leaf both the global keys and the shells
//! tab's use, so neither imports the other.

use crate::app::msg::Effect;
use crate::app::state::AppState;

/// Detach from the session; outside one, say how to start one.
pub fn detach(s: &mut AppState) -> Vec<Effect> {
    if s.session.is_some() {
        return vec![Effect::Detach];
    }
    s.status = Some("not a session (started with --no-session), nothing to detach from".into());
    Vec::new()
}
