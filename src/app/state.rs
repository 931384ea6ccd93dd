//! Everything the TUI shows, as plain data. The update functions change it;
//! the ui module only reads it.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;
use std::time::Duration;

use tui_textarea::TextArea;

use super::files::state::FilesView;
use super::folders::Folders;
use super::options::CommandOptions;
use super::palette::state::Palette;
use super::recipe::state::RecipeRun;
use super::scrollback::Scrollback;
use super::shell::state::ShellsView;
use crate::engine::recipe::Recipe;
use crate::engine::{HostOutcome, JobId, Question};
pub use crate::inventory::facts_config::Column;
use crate::keymap::{Action, Keymap};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostState {
    /// Never connected in this session.
    Idle,
    Connecting,
    Connected,
    /// Was connected; the transport died. The next command reconnects.
    Disconnected,
    /// The last attempt failed; the cause is shown under the host.
    Failed(String),
}

/// A host's last command: how it ended, once it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastRun {
    /// `None` while it runs.
    pub outcome: Option<HostOutcome>,
    pub elapsed: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct HostRow {
    pub label: String,
    pub tags: Vec<String>,
    pub state: HostState,
    pub last: Option<LastRun>,
    pub selected: bool,
    /// A question (host key, password...) is waiting for the user.
    pub auth_needed: bool,
    /// Facts as `collector.key` → value, from the latest run of each.
    pub facts: BTreeMap<String, String>,
    /// Collector → why its latest run produced nothing.
    pub fact_errors: BTreeMap<String, String>,
    /// Collectors are running on this host every interval.
    pub facts_watched: bool,
    /// Where the inventory names the host: (what, "FILE:LINE"), the
    /// entry whose settings it takes first, then the others, unused.
    pub origin: Vec<(String, String)>,
}

/// The two tabs: hosts with their output, and the file browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Deck,
    Files,
    /// Interactive shells (F3).
    Shells,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Hosts,
    Output,
    Command,
}

/// What a single-line input at the bottom of the host list is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineInput {
    Filter,
    /// `g`: a group or node set to select.
    Group,
    /// `/` in the output: text to find.
    Search,
    /// `s` on an output pane: the path to save the host's pane to.
    Save {
        host: usize,
    },
}

/// A question from the engine being shown as a dialog.
pub struct PromptView {
    pub id: u64,
    pub question: Question,
    /// Masked input for secrets; one per keyboard-interactive prompt.
    pub inputs: Vec<TextArea<'static>>,
    pub active: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help,
    /// "Jobs are running; quit anyway?"
    ConfirmQuit,
    /// Every fact of one host (`i` on the host list).
    HostInfo {
        host: usize,
        scroll: usize,
    },
    /// The command palette (Ctrl-P or `:`).
    Palette,
}

/// A row of the host list: a folder (a group or tag) or a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostListRow {
    Group {
        /// The group or tag; "" for the hosts in neither.
        name: String,
        hosts: usize,
        folded: bool,
    },
    Host(usize),
}

pub struct Job {
    /// Set when the runner has started it.
    pub id: Option<JobId>,
    pub command: String,
    /// Host indices, in pane order.
    pub targets: Vec<usize>,
    pub running: usize,
}

/// State of the output area.
#[derive(Debug, Clone, Default)]
pub struct Panes {
    /// Index into the job's targets of the focused pane.
    pub focused: usize,
    pub zoomed: bool,
    /// Lines scrolled up from the bottom, per host index.
    pub scroll: BTreeMap<usize, usize>,
    pub search: Option<String>,
    /// The last search match: (host index, line), highlighted in its pane.
    pub hit: Option<(usize, usize)>,
    /// Show the gathered (grouped) view instead of panes.
    pub gathered: bool,
    pub gathered_cursor: usize,
    pub show_diff: bool,
}

/// The Hosts tab's own state, as `FilesView` and `ShellsView` are the
/// other tabs': the host list (filter, folds, sort, cursor, the line
/// input under it), the command pane (text, options, history) and the
/// output of the last command.
pub struct DeckView {
    pub input: Option<(LineInput, TextArea<'static>)>,
    pub filter: String,
    /// Cursor in the visible rows of the host list.
    pub cursor: usize,
    pub folded: BTreeSet<String>,
    /// Host-list columns showing facts, and how the list is sorted.
    pub columns: Vec<Column>,
    pub sort: Sort,
    pub command: TextArea<'static>,
    /// Options for the next command (Ctrl-O in the command pane).
    pub options: CommandOptions,
    pub history: Vec<String>,
    /// Position while browsing history; None = editing a new command.
    pub history_pos: Option<usize>,
    /// Ctrl-R in the command pane: searching the history.
    pub history_search: Option<super::hosts::history_search::HistorySearch>,
    /// The last command run, and its output panes.
    pub job: Option<Job>,
    pub panes: Panes,
}

impl Default for DeckView {
    fn default() -> Self {
        DeckView {
            input: None,
            filter: String::new(),
            cursor: 0,
            folded: BTreeSet::new(),
            columns: Column::defaults(),
            sort: Sort::default(),
            command: new_command_area(),
            options: CommandOptions::default(),
            history: Vec::new(),
            history_pos: None,
            history_search: None,
            job: None,
            panes: Panes::default(),
        }
    }
}

pub struct AppState {
    pub hosts: Vec<HostRow>,
    pub groups: BTreeMap<String, String>,
    pub outputs: Vec<Scrollback>,
    pub focus: Focus,
    pub overlay: Overlay,
    /// The Hosts tab: host list, command pane, output panes.
    pub deck: DeckView,
    pub prompts: VecDeque<PromptView>,
    /// A one-line message in the status bar (errors, "saved to ...").
    pub status: Option<String>,
    pub size: (u16, u16),
    pub quit: bool,
    pub view: View,
    pub files: FilesView,
    pub shells: ShellsView,
    /// Facts collectors are configured (else facts are never asked for).
    pub facts_enabled: bool,
    /// Recipes and saved commands, for the palette.
    pub recipes: Vec<Recipe>,
    pub commands: Vec<(String, String)>,
    /// The latest recipe run, shown in the output area while `show`.
    pub recipe: Option<RecipeRun>,
    pub palette: Palette,
    /// Every key binding: defaults plus the config's `[keys]`.
    pub keymap: Keymap,
    /// The session's name when this state is a session server's
    /// (`tui -s NAME`): the detach key works then.
    pub session: Option<String>,
    /// The `?` overlay's filter and scroll.
    pub help: HelpView,
    /// The action the last key did, if any (tests check that every key
    /// the help lists reaches its action).
    pub last_action: Option<Action>,
    /// Bumped whenever any host's facts change, so the cached rows know
    /// when a fact-sorted list must be sorted again.
    pub facts_rev: u64,
    /// The host list's folders, from the groups and tags, which are fixed
    /// for the life of the state.
    pub folders: Folders,
    /// The host list as last laid out, and what it was laid out from.
    /// A frame at 10,000 hosts then costs what a frame at 100 does.
    rows_cache: RefCell<Option<RowsCache>>,
    /// Seconds since the epoch (UTC): the one clock the pure update
    /// reads (saved panes' names and headers), so tests can fix it.
    pub clock: fn() -> u64,
}

/// What `rows()` depends on besides the host labels and tags, which are
/// fixed for the life of the state.
#[derive(PartialEq)]
struct RowsKey {
    hosts: usize,
    filter: String,
    folded: BTreeSet<String>,
    sort: Sort,
    /// Only while sorting by a fact column; otherwise facts don't matter.
    facts_rev: Option<u64>,
}

struct RowsCache {
    key: RowsKey,
    rows: Rc<[HostListRow]>,
}

/// The help overlay: what is typed to filter it, and how far it is
/// scrolled.
#[derive(Debug, Clone, Default)]
pub struct HelpView {
    pub filter: String,
    pub scroll: usize,
    /// The overlay help was opened over (host info), shown again on close.
    pub back: Option<Box<Overlay>>,
}

/// Host-list order inside each folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Inventory order.
    #[default]
    Inventory,
    /// By a fact column (index), largest first unless reversed.
    Column { index: usize, reversed: bool },
}

impl AppState {
    pub fn new(
        hosts: Vec<(String, Vec<String>)>,
        groups: BTreeMap<String, String>,
        scrollback: usize,
    ) -> Self {
        let outputs = hosts
            .iter()
            .map(|_| Scrollback::new(scrollback, scrollback_bytes(scrollback)))
            .collect();
        let hosts = hosts
            .into_iter()
            .map(|(label, tags)| HostRow {
                label,
                tags,
                state: HostState::Idle,
                last: None,
                selected: false,
                auth_needed: false,
                facts: BTreeMap::new(),
                fact_errors: BTreeMap::new(),
                facts_watched: false,
                origin: Vec::new(),
            })
            .collect::<Vec<HostRow>>();
        let folders = Folders::new(
            hosts.iter().map(|h| (h.label.as_str(), h.tags.as_slice())),
            &groups,
        );
        AppState {
            folders,
            hosts,
            groups,
            outputs,
            focus: Focus::Hosts,
            overlay: Overlay::None,
            deck: DeckView::default(),
            prompts: VecDeque::new(),
            status: None,
            size: (80, 24),
            quit: false,
            view: View::Deck,
            files: FilesView::default(),
            shells: ShellsView::default(),
            facts_enabled: false,
            recipes: Vec::new(),
            commands: Vec::new(),
            recipe: None,
            palette: Palette::default(),
            keymap: Keymap::default(),
            session: None,
            help: HelpView::default(),
            last_action: None,
            facts_rev: 0,
            rows_cache: RefCell::new(None),
            clock: unix_now,
        }
    }

    /// How many hosts are selected, without building a list of them.
    pub fn selected_count(&self) -> usize {
        self.hosts.iter().filter(|h| h.selected).count()
    }

    pub fn selected(&self) -> Vec<usize> {
        (0..self.hosts.len())
            .filter(|&i| self.hosts[i].selected)
            .collect()
    }

    pub fn running(&self) -> usize {
        self.deck.job.as_ref().map_or(0, |j| j.running)
    }

    /// The host list as shown: in folders (see `super::folders`),
    /// filtered, with folded groups collapsed. Laid out again only when
    /// the filter, folds, sort or (for a fact sort) the facts changed.
    pub fn rows(&self) -> Rc<[HostListRow]> {
        let key = RowsKey {
            hosts: self.hosts.len(),
            filter: self.deck.filter.clone(),
            folded: self.deck.folded.clone(),
            sort: self.deck.sort,
            facts_rev: matches!(self.deck.sort, Sort::Column { .. }).then_some(self.facts_rev),
        };
        let mut cache = self.rows_cache.borrow_mut();
        if let Some(c) = cache.as_ref()
            && c.key == key
        {
            return Rc::clone(&c.rows);
        }
        let rows: Rc<[HostListRow]> = self.layout_rows().into();
        *cache = Some(RowsCache {
            key,
            rows: Rc::clone(&rows),
        });
        rows
    }

    fn layout_rows(&self) -> Vec<HostListRow> {
        let shown = |i: &usize| {
            self.deck.filter.is_empty() || fuzzy_match(&self.deck.filter, &self.hosts[*i].label)
        };
        if self.folders.0.is_empty() {
            let mut hosts: Vec<usize> = (0..self.hosts.len()).filter(shown).collect();
            self.sort_hosts(&mut hosts);
            return hosts.into_iter().map(HostListRow::Host).collect();
        }
        let mut rows = Vec::new();
        for (name, members) in &self.folders.0 {
            let mut hosts: Vec<usize> = members.iter().copied().filter(shown).collect();
            if hosts.is_empty() {
                continue;
            }
            let folded = self.deck.folded.contains(name);
            rows.push(HostListRow::Group {
                name: name.clone(),
                hosts: hosts.len(),
                folded,
            });
            if !folded {
                self.sort_hosts(&mut hosts);
                rows.extend(hosts.into_iter().map(HostListRow::Host));
            }
        }
        rows
    }
}

impl AppState {
    /// Order `hosts` by the sort column's value (hosts without it last,
    /// inventory order among equals).
    fn sort_hosts(&self, hosts: &mut [usize]) {
        let Sort::Column { index, reversed } = self.deck.sort else {
            return;
        };
        let Some(col) = self.deck.columns.get(index) else {
            return;
        };
        let key = |h: usize| {
            let v = self.hosts[h].facts.get(&col.fact);
            (v.and_then(|v| crate::engine::facts::numeric(v)), v.cloned())
        };
        hosts.sort_by(|&a, &b| {
            let (ka, kb) = (key(a), key(b));
            let ord = match (&ka, &kb) {
                ((Some(x), _), (Some(y), _)) => y.total_cmp(x),
                ((None, Some(x)), (None, Some(y))) => x.cmp(y),
                ((Some(_), _), _) | ((None, Some(_)), (None, None)) => {
                    return std::cmp::Ordering::Less;
                }
                (_, (Some(_), _)) | ((None, None), (None, Some(_))) => {
                    return std::cmp::Ordering::Greater;
                }
                ((None, None), (None, None)) => std::cmp::Ordering::Equal,
            };
            if reversed { ord.reverse() } else { ord }
        });
    }
}

/// About 400 bytes per line on average; bounds a host flooding long lines.
pub fn scrollback_bytes(lines: usize) -> usize {
    lines
        .saturating_mul(400)
        .clamp(256 * 1024, 64 * 1024 * 1024)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub fn new_command_area() -> TextArea<'static> {
    // The placeholder is set as it is drawn (ui/command.rs), with the run
    // key from the keymap.
    TextArea::default()
}

/// Case-insensitive subsequence match: "wb1" matches "web01".
pub fn fuzzy_match(pattern: &str, text: &str) -> bool {
    let mut chars = text.chars().flat_map(char::to_lowercase);
    pattern
        .chars()
        .flat_map(char::to_lowercase)
        .all(|p| chars.any(|c| c == p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy() {
        assert!(fuzzy_match("wb1", "web01"));
        assert!(fuzzy_match("WEB", "web01"));
        assert!(!fuzzy_match("bw", "web"));
        assert!(fuzzy_match("", "x"));
    }

    #[test]
    fn rows_group_by_first_tag_and_fold() {
        let mut s = AppState::new(
            vec![
                ("web1".into(), vec!["web".into()]),
                ("db1".into(), vec!["db".into()]),
                ("lone".into(), vec![]),
            ],
            BTreeMap::new(),
            100,
        );
        let rows = s.rows();
        assert_eq!(rows.len(), 6);
        assert_eq!(
            rows[0],
            HostListRow::Group {
                name: "db".into(),
                hosts: 1,
                folded: false
            }
        );
        s.deck.folded.insert("db".into());
        s.deck.filter = "1".into();
        let rows = s.rows();
        assert_eq!(
            rows[0],
            HostListRow::Group {
                name: "db".into(),
                hosts: 1,
                folded: true
            }
        );
        assert_eq!(
            rows[1],
            HostListRow::Group {
                name: "web".into(),
                hosts: 1,
                folded: false
            }
        );
        assert_eq!(rows[2], HostListRow::Host(0));
        assert_eq!(rows.len(), 3);
    }

    #[test]
    fn a_config_group_is_a_folder_of_its_hosts_and_folds() {
        let groups = [("web".to_string(), "web[1-2]".to_string())]
            .into_iter()
            .collect();
        let mut s = AppState::new(
            vec![
                ("web1".into(), vec![]),
                ("db1".into(), vec!["db".into()]),
                ("web2".into(), vec!["prod".into()]),
                ("lone".into(), vec![]),
            ],
            groups,
            100,
        );
        let folder = |name: &str, hosts, folded| HostListRow::Group {
            name: name.into(),
            hosts,
            folded,
        };
        assert_eq!(
            &s.rows()[..],
            &[
                folder("db", 1, false),
                HostListRow::Host(1),
                folder("web", 2, false),
                HostListRow::Host(0),
                HostListRow::Host(2),
                folder("", 1, false),
                HostListRow::Host(3),
            ]
        );
        s.deck.folded.insert("web".into());
        assert_eq!(
            &s.rows()[..],
            &[
                folder("db", 1, false),
                HostListRow::Host(1),
                folder("web", 2, true),
                folder("", 1, false),
                HostListRow::Host(3),
            ]
        );
    }
}
