//! The palette's own state: what is typed and which entry is chosen.

use tui_textarea::TextArea;

#[derive(Default)]
pub struct Palette {
    pub input: TextArea<'static>,
    /// Index into the filtered entries.
    pub cursor: usize,
}
