//! Saving an output pane: `s` asks for a path (prefilled with a name
//! under the current directory), Enter hands the runner what to write.
//! The header and text are made here; the file is written by the runner
//! (`tui::save_pane`), which owns every filesystem call.

use super::list::open_input;
use crate::app::msg::Effect;
use crate::app::state::{AppState, LineInput};
use crate::engine::HostOutcome;
use crate::text::sanitize::visible_name;
use crate::text::utc_minute;

use crate::app::msg::SaveRequest;

/// `20261206-031005`: sorts by time and holds no `:` or space, which
/// some shells and file systems make awkward.
fn stamp(secs: u64) -> String {
    let minute: String = utc_minute(secs)
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect();
    format!("{minute}{:02}", secs % 60)
}

/// `./sshdeck-web01-20261206-031005.log`
pub fn default_path(label: &str, secs: u64) -> String {
    format!(
        "./sshdeck-{}-{}.log",
        crate::text::file_stem(label),
        stamp(secs)
    )
}

/// Open the path dialog for `host`'s pane.
pub fn open(s: &mut AppState, host: usize) {
    let Some(row) = s.hosts.get(host) else {
        return;
    };
    let path = default_path(&row.label, (s.clock)());
    open_input(s, LineInput::Save { host }, &path);
}

/// How the pane's command ended, for the header.
fn outcome(s: &AppState, host: usize) -> String {
    match s.hosts.get(host).and_then(|h| h.last.as_ref()) {
        Some(last) => match &last.outcome {
            None => "still running".into(),
            Some(HostOutcome::Exit(st)) => st.to_string(),
            Some(HostOutcome::Failed { kind, .. }) => format!("failed: {}", visible_name(kind)),
        },
        None => "no command run".into(),
    }
}

/// "# sshdeck · host web01 · command: uptime · 2026-12-06 03:10:05 UTC · exit 0"
pub fn header(s: &AppState, host: usize, secs: u64) -> String {
    let label = s.hosts.get(host).map_or("?", |h| h.label.as_str());
    // A command of several lines stays on the one header line.
    let command = s
        .deck
        .job
        .as_ref()
        .map_or_else(|| "(none)".to_string(), |j| visible_name(&j.command));
    format!(
        "# sshdeck · host {} · command: {command} · {}:{:02} UTC · {}",
        visible_name(label),
        utc_minute(secs),
        secs % 60,
        outcome(s, host)
    )
}

/// Enter in the dialog: ask the runner to write the pane to `path`.
pub fn confirm(s: &mut AppState, host: usize, path: &str) -> Vec<Effect> {
    let path = path.trim();
    if path.is_empty() {
        s.status = Some("not saved: no path given".into());
        return Vec::new();
    }
    let Some(out) = s.outputs.get(host) else {
        return Vec::new();
    };
    vec![Effect::Save(SaveRequest {
        path: path.to_string(),
        header: header(s, host, (s.clock)()),
        text: out.plain_text(),
    })]
}
