//! The files view's model: two panes over one [`FileSystem`] interface
//! each (local, one host, or the selected hosts), the dialogs on top, and
//! the transfer queue as last reported.
//!
//! [`FileSystem`]: crate::engine::files::fs::FileSystem

use std::collections::BTreeSet;

use tui_textarea::TextArea;

use crate::engine::files::fs::{FileEntry, FileKind};
use crate::engine::files::name::Name;
use crate::engine::files::queue::{JobState, JobView, TransferId};

/// What a pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Local,
    Host(usize),
    /// Every selected host: listed from the first, copies and file
    /// operations go to all of them.
    Selected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Size,
    Mtime,
}

impl SortKey {
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Name => SortKey::Size,
            SortKey::Size => SortKey::Mtime,
            SortKey::Mtime => SortKey::Name,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Size => "size",
            SortKey::Mtime => "mtime",
        }
    }
}

/// Recent directories kept per pane (the bookmarks list).
pub const RECENT_MAX: usize = 20;

#[derive(Debug, Clone)]
pub struct FilePane {
    pub side: Side,
    /// Empty until the first listing (the side's home) arrives.
    pub cwd: String,
    pub entries: Vec<FileEntry>,
    /// Index into [`FilePane::visible`].
    pub cursor: usize,
    /// Marked names in `cwd`.
    pub marked: BTreeSet<Name>,
    pub sort: SortKey,
    pub reverse: bool,
    pub filter: String,
    pub show_hidden: bool,
    pub loading: bool,
    pub error: Option<String>,
    /// Most recent first.
    pub recent: Vec<String>,
    /// For `Side::Selected`: the host the listing came from.
    pub listed_from: Option<String>,
    /// The listed host's start directory. On the selected-hosts side,
    /// paths under it are sent relative, so each host resolves them
    /// against its own home (homes differ between hosts and users).
    pub home: Option<String>,
    /// Generation of the last listing asked for; older answers are dropped.
    pub request: u64,
    /// Names in the listing refused as unsafe (not shown).
    pub refused: usize,
}

impl FilePane {
    pub fn new(side: Side) -> Self {
        FilePane {
            side,
            cwd: String::new(),
            entries: Vec::new(),
            cursor: 0,
            marked: BTreeSet::new(),
            sort: SortKey::Name,
            reverse: false,
            filter: String::new(),
            show_hidden: false,
            loading: false,
            refused: 0,
            error: None,
            recent: Vec::new(),
            listed_from: None,
            home: None,
            request: 0,
        }
    }

    /// Entries as shown: hidden files per the toggle, the filter, then
    /// directories first and the chosen sort.
    pub fn visible(&self) -> Vec<&FileEntry> {
        let filter = self.filter.to_lowercase();
        let mut v: Vec<&FileEntry> = self
            .entries
            .iter()
            .filter(|e| self.show_hidden || !e.name.starts_with('.'))
            .filter(|e| filter.is_empty() || e.name.to_lowercase().contains(&filter))
            .collect();
        v.sort_by(|a, b| {
            let dirs = b.is_dir_like().cmp(&a.is_dir_like());
            let key = match self.sort {
                SortKey::Name => a.name.cmp(&b.name),
                SortKey::Size => a.size.cmp(&b.size).then_with(|| a.name.cmp(&b.name)),
                SortKey::Mtime => a.mtime.cmp(&b.mtime).then_with(|| a.name.cmp(&b.name)),
            };
            dirs.then(if self.reverse { key.reverse() } else { key })
        });
        v
    }

    pub fn current(&self) -> Option<&FileEntry> {
        self.visible().get(self.cursor).copied()
    }

    /// What an operation acts on: the marked entries, or else the one
    /// under the cursor.
    pub fn chosen(&self) -> Vec<FileEntry> {
        let vis = self.visible();
        let marked: Vec<FileEntry> = vis
            .iter()
            .filter(|e| self.marked.contains(&e.name))
            .map(|e| (*e).clone())
            .collect();
        if !marked.is_empty() {
            return marked;
        }
        vis.get(self.cursor)
            .map(|e| vec![(*e).clone()])
            .unwrap_or_default()
    }

    /// `path` as every host of this side should read it: relative to the
    /// start directory on the selected-hosts side, as is elsewhere.
    pub fn shared_path(&self, path: &str) -> String {
        if let (Side::Selected, Some(home)) = (self.side, &self.home) {
            if path == home {
                return ".".into();
            }
            if let Some(rest) = path.strip_prefix(&format!("{}/", home.trim_end_matches('/'))) {
                return rest.to_string();
            }
        }
        path.to_string()
    }

    pub fn remember(&mut self, dir: &str) {
        self.recent.retain(|d| d != dir);
        self.recent.insert(0, dir.to_string());
        self.recent.truncate(RECENT_MAX);
    }

    pub fn clamp_cursor(&mut self) {
        let n = self.visible().len();
        self.cursor = self.cursor.min(n.saturating_sub(1));
    }
}

/// What a one-line input in the files view is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputKind {
    /// Go to a path (Tab completes).
    Path,
    Filter,
    Mkdir,
    Rename {
        from: Name,
    },
    /// Octal mode for these names.
    Chmod {
        names: Vec<Name>,
    },
}

/// A copy or move waiting for conflict answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCopy {
    /// Pane the sources are in.
    pub from: usize,
    pub names: Vec<Name>,
    pub remove_sources: bool,
    /// Answers so far: (name, action).
    pub answers: Vec<(String, ConflictAction)>,
    /// Names that exist at the destination, asked about in order.
    pub conflicts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConflictAction {
    Overwrite,
    /// Copy unless size and mtime match.
    SkipSame,
    /// Leave this one out.
    Skip,
    /// Copy under this new name.
    Rename(String),
}

pub enum FileDialog {
    Input {
        kind: InputKind,
        area: Box<TextArea<'static>>,
        /// Candidates from the last Tab (path input).
        completions: Vec<String>,
    },
    ConfirmDelete {
        names: Vec<Name>,
    },
    Conflict(PendingCopy),
    /// Choose what the active pane shows.
    PickSide {
        cursor: usize,
    },
    /// Recent directories of the active pane.
    Recent {
        cursor: usize,
    },
}

/// A mouse drag in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drag {
    pub from: usize,
    pub name: Name,
    /// Where the pointer is now (for the drop hint).
    pub at: (u16, u16),
}

pub struct FilesView {
    pub panes: [FilePane; 2],
    pub active: usize,
    pub dialog: Option<FileDialog>,
    pub drag: Option<Drag>,
    /// Transfers as last reported by the queue, oldest first.
    pub transfers: Vec<JobView>,
    pub transfer_cursor: usize,
    /// Keys go to the transfers panel.
    pub transfers_focused: bool,
}

impl Default for FilesView {
    fn default() -> Self {
        FilesView {
            panes: [FilePane::new(Side::Local), FilePane::new(Side::Selected)],
            active: 0,
            dialog: None,
            drag: None,
            transfers: Vec::new(),
            transfer_cursor: 0,
            transfers_focused: false,
        }
    }
}

impl FilesView {
    pub fn upsert(&mut self, v: JobView) {
        match self.transfers.iter_mut().find(|t| t.id == v.id) {
            Some(t) => *t = v,
            None => self.transfers.push(v),
        }
    }

    pub fn active_transfers(&self) -> usize {
        self.transfers
            .iter()
            .filter(|t| matches!(t.state, JobState::Running | JobState::Queued))
            .count()
    }

    pub fn selected_transfer(&self) -> Option<TransferId> {
        self.transfers.get(self.transfer_cursor).map(|t| t.id)
    }
}

/// A name not in `taken`: `stem.1.ext`, `stem.2.ext`... (or `name.1` for
/// names without an extension), so a renamed copy keeps its type.
pub fn free_name(name: &str, taken: &BTreeSet<String>) -> String {
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && !e.is_empty() => (s, Some(e)),
        _ => (name, None),
    };
    (1..)
        .map(|n| match ext {
            Some(e) => format!("{stem}.{n}.{e}"),
            None => format!("{stem}.{n}"),
        })
        .find(|c| !taken.contains(c))
        .unwrap_or_else(|| format!("{name}.copy"))
}

/// `rwxr-xr-x` style, with a type letter first.
pub fn mode_string(kind: FileKind, mode: u32) -> String {
    let t = match kind {
        FileKind::Dir => 'd',
        FileKind::Symlink => 'l',
        FileKind::File => '-',
        FileKind::Other => '?',
    };
    let mut s = String::with_capacity(10);
    s.push(t);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(name: &str, kind: FileKind, size: u64, mtime: u64) -> FileEntry {
        FileEntry {
            name: Name::parse(name).unwrap(),
            kind,
            size,
            mode: 0o644,
            mtime: Some(mtime),
            to_dir: false,
        }
    }

    #[test]
    fn visible_sorts_dirs_first_and_hides_dotfiles() {
        let mut p = FilePane::new(Side::Local);
        p.entries = vec![
            e("b.txt", FileKind::File, 10, 3),
            e(".hidden", FileKind::File, 1, 1),
            e("zdir", FileKind::Dir, 0, 2),
            e("a.txt", FileKind::File, 20, 4),
        ];
        let names = |p: &FilePane| {
            p.visible()
                .iter()
                .map(|e| e.name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&p), ["zdir", "a.txt", "b.txt"]);
        p.sort = SortKey::Size;
        assert_eq!(names(&p), ["zdir", "b.txt", "a.txt"]);
        p.reverse = true;
        assert_eq!(names(&p), ["zdir", "a.txt", "b.txt"]);
        p.show_hidden = true;
        p.sort = SortKey::Name;
        p.reverse = false;
        assert_eq!(names(&p), ["zdir", ".hidden", "a.txt", "b.txt"]);
        p.filter = "TXT".into();
        assert_eq!(names(&p), ["a.txt", "b.txt"]);
    }

    #[test]
    fn chosen_prefers_marks() {
        let mut p = FilePane::new(Side::Local);
        p.entries = vec![e("a", FileKind::File, 1, 1), e("b", FileKind::File, 1, 1)];
        p.cursor = 1;
        assert_eq!(p.chosen()[0].name, "b");
        p.marked.insert(Name::parse("a").unwrap());
        assert_eq!(p.chosen().len(), 1);
        assert_eq!(p.chosen()[0].name, "a");
    }

    #[test]
    fn free_names_keep_extensions() {
        let taken: BTreeSet<String> = ["r.pdf", "r.1.pdf", "x", ".rc"].map(String::from).into();
        assert_eq!(free_name("r.pdf", &taken), "r.2.pdf");
        assert_eq!(free_name("x", &taken), "x.1");
        assert_eq!(free_name(".rc", &taken), ".rc.1");
    }

    #[test]
    fn modes_render_like_ls() {
        assert_eq!(mode_string(FileKind::Dir, 0o755), "drwxr-xr-x");
        assert_eq!(mode_string(FileKind::File, 0o640), "-rw-r-----");
    }

    #[test]
    fn recent_dirs_are_unique_and_capped() {
        let mut p = FilePane::new(Side::Local);
        for i in 0..30 {
            p.remember(&format!("/d{i}"));
        }
        p.remember("/d5");
        assert_eq!(p.recent.len(), RECENT_MAX);
        assert_eq!(p.recent[0], "/d5");
        assert_eq!(p.recent.iter().filter(|d| *d == "/d5").count(), 1);
    }
}
