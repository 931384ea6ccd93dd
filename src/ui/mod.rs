//! Drawing: a pure function of [`AppState`], one file per pane. Nothing
//! here changes state, so a frame can be snapshot-tested.

mod command;
mod dialog;
mod gathered;
mod help;
mod hosts;
mod output;
mod status;
mod style;

use ratatui::Frame;

use crate::app::AppState;
use crate::app::layout::layout;
use crate::app::state::Overlay;

pub fn render(f: &mut Frame, s: &AppState) {
    let area = f.area();
    let lay = layout(s, area);
    hosts::render(f, s, lay.hosts);
    if s.panes.gathered {
        gathered::render(f, s, lay.output);
    } else {
        output::render(f, s, &lay);
    }
    command::render(f, s, lay.command);
    status::render(f, s, lay.status);
    match s.overlay {
        Overlay::Help => help::render(f, area),
        Overlay::ConfirmQuit => dialog::confirm_quit(f, s, area),
        Overlay::None => {}
    }
    if let Some(p) = s.prompts.front() {
        dialog::prompt(f, p, s.prompts.len(), area);
    }
}
