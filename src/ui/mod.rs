//! Drawing: a pure function of [`AppState`], one file per pane. Nothing
//! here changes state, so a frame can be snapshot-tested.

mod command;
mod dialog;
mod files;
mod files_dialog;
mod fit;
mod gathered;
mod help;
mod host_info;
mod hosts;
mod options;
mod output;
mod palette;
mod recipe;
mod save_dialog;
mod shells;
mod status;
mod style;
mod transfers;

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::app::AppState;
use crate::app::layout::{files_layout, layout};
use crate::app::state::{Overlay, View};

pub fn render(f: &mut Frame, s: &AppState) {
    let area = f.area();
    if s.view == View::Shells {
        shells::render(f, s);
        status::render(
            f,
            s,
            Rect::new(
                0,
                area.height.saturating_sub(1),
                area.width,
                1.min(area.height),
            ),
        );
        overlays(f, s, area);
        return;
    }
    if s.view == View::Files {
        let lay = files_layout(s, area);
        files::render(f, s, 0, lay.panes[0]);
        files::render(f, s, 1, lay.panes[1]);
        transfers::render(f, s, lay.transfers);
        status::render(f, s, lay.status);
        files_dialog::render(f, s, area);
        overlays(f, s, area);
        return;
    }
    let lay = layout(s, area);
    // Zoomed, the host list and command pane have no room and are not
    // drawn.
    if !lay.hosts.is_empty() {
        hosts::render(f, s, lay.hosts);
    }
    if let Some(run) = s.recipe.as_ref().filter(|r| r.show) {
        recipe::render(f, s, run, lay.output);
    } else if s.deck.panes.gathered {
        gathered::render(f, s, lay.output);
    } else {
        output::render(f, s, &lay);
    }
    if !lay.command.is_empty() {
        command::render(f, s, lay.command);
    }
    status::render(f, s, lay.status);
    if s.deck.options.editing.is_some() {
        options::render(f, s, area);
    }
    if let Some((crate::app::state::LineInput::Save { host }, input)) = &s.deck.input {
        save_dialog::render(f, s, *host, input, area);
    }
    overlays(f, s, area);
}

/// Help, quit confirmation and the engine's questions go over either tab.
fn overlays(f: &mut Frame, s: &AppState, area: Rect) {
    match s.overlay {
        Overlay::Help => help::render(f, s, area),
        Overlay::ConfirmQuit => dialog::confirm_quit(f, s, area),
        Overlay::HostInfo { host, scroll } => host_info::render(f, s, host, scroll, area),
        Overlay::Palette => palette::render(f, s, area),
        Overlay::None => {}
    }
    if let Some(p) = s.prompts.front() {
        dialog::prompt(f, s, p, area);
    }
}
