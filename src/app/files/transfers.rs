//! The transfers panel's pure parts: which job it opens on, and how the
//! jobs are counted in titles and the status bar.

use super::state::FilesView;
use crate::app::state::AppState;
use crate::engine::files::queue::JobState;
use crate::text::count;

/// Focus the transfers panel on the job most likely to be acted on: the
/// running one (so cancel and pause reach it), else the newest.
pub fn open_panel(s: &mut AppState) {
    let f = &mut s.files;
    f.transfers_focused = true;
    f.transfer_cursor = f
        .transfers
        .iter()
        .position(|t| t.state == JobState::Running)
        .unwrap_or(f.transfers.len().saturating_sub(1));
}

/// The unfinished jobs in words: "1 transfer running", "2 transfers
/// queued", "3 transfers: 2 running, 1 queued". None when nothing is
/// left to do.
pub fn summary(f: &FilesView) -> Option<String> {
    let n = |st: JobState| f.transfers.iter().filter(|t| t.state == st).count();
    let parts: Vec<(usize, &str)> = [
        (n(JobState::Running), "running"),
        (n(JobState::Queued), "queued"),
        (n(JobState::Paused), "paused"),
    ]
    .into_iter()
    .filter(|(k, _)| *k > 0)
    .collect();
    match parts.as_slice() {
        [] => None,
        [(k, what)] => Some(format!("{} {what}", count(*k, "transfer", "transfers"))),
        _ => {
            let total = parts.iter().map(|(k, _)| k).sum();
            let each: Vec<String> = parts.iter().map(|(k, w)| format!("{k} {w}")).collect();
            Some(format!(
                "{}: {}",
                count(total, "transfer", "transfers"),
                each.join(", ")
            ))
        }
    }
}
