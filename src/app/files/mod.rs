//! The files view: pure update for two file panes, their dialogs, copies
//! and moves between them, and the transfers panel. IO is asked for with
//! effects (`List`, `FileOp`, `Transfer`...) and answered with messages.

pub mod copy;
pub mod dialogs;
pub mod keys;
pub mod mouse;
pub mod state;
pub mod transfers;

use super::msg::{Effect, Listing};
use super::state::AppState;
use crate::engine::files::fs::parent;
use crate::engine::files::name::Name;
use crate::engine::files::queue::JobView;
use state::Side;

/// The hosts behind a side (empty for local).
pub fn hosts_of(s: &AppState, side: Side) -> Vec<usize> {
    match side {
        Side::Local => Vec::new(),
        Side::Host(h) => vec![h],
        Side::Selected => s.selected(),
    }
}

/// A short name for a side, for titles and messages.
pub fn side_label(s: &AppState, side: Side) -> String {
    match side {
        Side::Local => "local".into(),
        Side::Host(h) => s
            .hosts
            .get(h)
            .map_or_else(|| format!("host #{h}"), |r| r.label.clone()),
        Side::Selected => {
            // "0 selected hosts" reads as a count of something there.
            match s.selected_count() {
                0 => "no hosts selected".into(),
                n => crate::text::count(n, "selected host", "selected hosts"),
            }
        }
    }
}

/// Ask for a listing of `dir` (None: the start directory) in `pane`.
pub fn list(s: &mut AppState, pane: usize, dir: Option<String>) -> Vec<Effect> {
    let side = s.files.panes[pane].side;
    let hosts = hosts_of(s, side);
    let switch = super::help::key_name(
        s,
        crate::keymap::Context::Global,
        crate::keymap::Action::ToggleFiles,
    );
    let p = &mut s.files.panes[pane];
    if side != Side::Local && hosts.is_empty() {
        p.entries.clear();
        p.loading = false;
        p.error = Some(format!(
            "no hosts selected: select hosts in the host list ({switch} switches)"
        ));
        return Vec::new();
    }
    p.request += 1;
    p.loading = true;
    vec![Effect::List {
        pane,
        side,
        hosts,
        dir,
        request: p.request,
    }]
}

/// List both panes again where they are (after a copy or an operation).
pub fn refresh_all(s: &mut AppState) -> Vec<Effect> {
    let mut out = Vec::new();
    for pane in 0..2 {
        let cwd = s.files.panes[pane].cwd.clone();
        out.extend(list(s, pane, (!cwd.is_empty()).then_some(cwd)));
    }
    out
}

/// Opening the view lists panes that have never been listed.
pub fn on_open(s: &mut AppState) -> Vec<Effect> {
    let mut out = Vec::new();
    for pane in 0..2 {
        let p = &s.files.panes[pane];
        if p.cwd.is_empty() && !p.loading {
            out.extend(list(s, pane, None));
        }
    }
    out
}

pub fn on_listed(s: &mut AppState, pane: usize, request: u64, result: Result<Listing, String>) {
    let Some(p) = s.files.panes.get_mut(pane) else {
        return;
    };
    if request != p.request {
        // An older listing answered after a newer one was asked for.
        return;
    }
    p.loading = false;
    match result {
        Ok(l) => {
            let moved = p.cwd != l.dir;
            if moved {
                // Coming back up: put the cursor on the directory we left.
                let came_from = p.cwd.clone();
                p.cwd = l.dir;
                p.entries = l.entries;
                p.marked.clear();
                p.cursor = 0;
                if parent(&came_from) == p.cwd {
                    let name = came_from.rsplit('/').next().unwrap_or("");
                    if let Some(i) = p.visible().iter().position(|e| e.name == name) {
                        p.cursor = i;
                    }
                }
                let cwd = p.cwd.clone();
                p.remember(&cwd);
            } else {
                p.entries = l.entries;
                let names: std::collections::BTreeSet<&Name> =
                    p.entries.iter().map(|e| &e.name).collect();
                p.marked.retain(|m| names.contains(m));
            }
            p.listed_from = l.from;
            p.refused = l.refused;
            if l.home.is_some() {
                p.home = l.home;
            }
            p.error = None;
            p.clamp_cursor();
        }
        Err(e) => p.error = Some(e),
    }
}

/// Keep the queue's view; when a job ends, list the panes again so new
/// files show up.
pub fn on_transfer(s: &mut AppState, v: JobView) -> Vec<Effect> {
    let finished = v.state.is_finished();
    let was_finished = s
        .files
        .transfers
        .iter()
        .any(|t| t.id == v.id && t.state.is_finished());
    if finished && !was_finished {
        let failed = v
            .hosts
            .iter()
            .filter(|h| matches!(h.result, Some(Err(_))))
            .count();
        // The verdict first: a long title is what gets cut in a narrow
        // status bar, never whether it worked.
        let hosts = crate::text::count(v.hosts.len(), "host", "hosts");
        s.status = Some(match (v.state, failed) {
            (crate::engine::files::queue::JobState::Cancelled, _) => {
                format!("cancelled: {}", v.title)
            }
            (_, 0) => format!("done on {hosts}: {}", v.title),
            (_, n) => format!(
                "failed on {n} of {hosts} ({} shows why): {}",
                s.keymap
                    .first_key(
                        crate::keymap::Context::Files,
                        crate::keymap::Action::Transfers
                    )
                    .unwrap_or_else(|| "the transfers panel".into()),
                v.title
            ),
        });
    }
    s.files.upsert(v);
    if finished && !was_finished {
        return refresh_all(s);
    }
    Vec::new()
}

/// A path the user typed, relative to a pane's directory. The user's own
/// words may hold `/` and `..`: they name a place, they are no host's.
pub fn typed_path(s: &AppState, pane: usize, typed: &str) -> String {
    let cwd = &s.files.panes[pane].cwd;
    match cwd.as_str() {
        "" => typed.to_string(),
        c if c.ends_with('/') => format!("{c}{typed}"),
        c => format!("{c}/{typed}"),
    }
}

/// A pane's directory as operations send it.
pub fn op_dir(s: &AppState, pane: usize) -> String {
    let p = &s.files.panes[pane];
    p.shared_path(&p.cwd)
}
