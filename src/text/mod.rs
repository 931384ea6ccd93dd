//! Text handling shared by the CLI and the TUI.

pub mod ansi;
pub mod lines;
pub mod sanitize;

/// A label as a safe file name: no path separators, no leading dot.
pub fn file_stem(label: &str) -> String {
    let s: String = label
        .chars()
        .map(|c| if c == '/' || c == '\0' { '_' } else { c })
        .collect();
    match s.strip_prefix('.') {
        Some(rest) => format!("_{rest}"),
        None => s,
    }
}
