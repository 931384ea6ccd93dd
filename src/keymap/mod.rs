//! The one keymap: (context, keys, action, help), in the style of yazi's
//! keymap. The table drives dispatch, the `?` overlay and the status-bar
//! hints, so the three cannot drift apart, and `[keys.<context>]` in the
//! config rebinds any action.
//!
//! Every layer has a context here, dialogs and pickers included. What
//! stays by hand is text: a printable key typed into an input, a filter
//! or a shell, where it has no action to look up.

mod action;
pub mod defaults;
mod key;

use std::collections::HashMap;

use crossterm::event::KeyEvent;

pub use action::Action;
pub use key::Key;

/// Where a key is pressed. Several contexts are active at once (see
/// `stack`); the first that binds the key wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    /// Everywhere but the shells and the help overlay's filter.
    Global,
    /// The Hosts tab, outside the command pane.
    Main,
    Hosts,
    Output,
    Gathered,
    Recipe,
    Command,
    Info,
    Files,
    Transfers,
    /// The shells tab, after the Ctrl-] prefix.
    Shells,
    /// A yes/no question (quit while work is running, delete).
    Confirm,
    /// The `?` overlay; typed text filters it.
    Help,
    /// One-line inputs, password prompts and the options form.
    Input,
    /// A host key no known_hosts file knows.
    HostKey,
    /// A copy's name already at the destination.
    Conflict,
    /// Lists picked from by moving: the side picker, recent directories.
    Picker,
    /// The command palette; typed text filters it.
    Palette,
    /// Searching the command history (Ctrl-R in the command pane).
    HistorySearch,
}

impl Context {
    pub const ALL: &'static [Context] = &[
        Context::Global,
        Context::Main,
        Context::Hosts,
        Context::Output,
        Context::Gathered,
        Context::Recipe,
        Context::Command,
        Context::Info,
        Context::Files,
        Context::Transfers,
        Context::Shells,
        Context::Confirm,
        Context::Help,
        Context::Input,
        Context::HostKey,
        Context::Conflict,
        Context::Picker,
        Context::Palette,
        Context::HistorySearch,
    ];

    /// The name in `[keys.<name>]`.
    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Main => "main",
            Context::Hosts => "hosts",
            Context::Output => "output",
            Context::Gathered => "gathered",
            Context::Recipe => "recipe",
            Context::Command => "command",
            Context::Info => "info",
            Context::Files => "files",
            Context::Transfers => "transfers",
            Context::Shells => "shells",
            Context::Confirm => "confirm",
            Context::Help => "help",
            Context::Input => "input",
            Context::HostKey => "host_key",
            Context::Conflict => "conflict",
            Context::Picker => "picker",
            Context::Palette => "palette",
            Context::HistorySearch => "history_search",
        }
    }

    /// The heading in the help overlay.
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::Main => "Hosts tab (host list and output)",
            Context::Hosts => "Host list",
            Context::Output => "Output panes",
            Context::Gathered => "Gathered view",
            Context::Recipe => "Recipe progress",
            Context::Command => "Command pane",
            Context::Info => "Host info",
            Context::Files => "Files tab",
            Context::Transfers => "Transfers panel",
            Context::Shells => "Shells tab (bindings below follow the Ctrl-] prefix)",
            Context::Confirm => "Confirmations (quit while work runs, delete)",
            Context::Help => "This help",
            Context::Input => "Inputs, password prompts, options",
            Context::HostKey => "Unknown host key",
            Context::Conflict => "Copy: name already there",
            Context::Picker => "Pickers (pane side, recent directories)",
            Context::Palette => "Palette (type to filter)",
            Context::HistorySearch => "History search (type to search)",
        }
    }

    /// The contexts active together with this one, most specific first.
    /// A key may be bound once per stack; the recipe view deliberately
    /// shadows the Hosts tab's `r` and `x` for its own.
    pub fn stack(self) -> &'static [Context] {
        use Context::*;
        match self {
            Hosts => &[Hosts, Main, Global],
            Output => &[Output, Main, Global],
            Gathered => &[Gathered, Main, Global],
            Main => &[Main, Global],
            Recipe => &[Recipe, Global],
            Command => &[Command, Global],
            Files => &[Files, Global],
            Transfers => &[Transfers, Global],
            Global => &[Global],
            Info => &[Info],
            Shells => &[Shells],
            // A dialog takes every key: a confirmation's other keys mean
            // no, an input's are text.
            Confirm => &[Confirm],
            Help => &[Help],
            Input => &[Input],
            HostKey => &[HostKey],
            Conflict => &[Conflict],
            Picker => &[Picker],
            Palette => &[Palette],
            HistorySearch => &[HistorySearch],
        }
    }

    /// Dialogs that list their own answers and keys on screen: the help's
    /// "Keys that differ by place" leaves them out.
    pub fn shows_its_keys(self) -> bool {
        matches!(
            self,
            Context::Confirm
                | Context::Help
                | Context::Input
                | Context::HostKey
                | Context::Conflict
                | Context::Picker
                | Context::Palette
                | Context::HistorySearch
        )
    }

    /// Contexts where a printable key is typed text: a plain character
    /// bound there could never be typed again.
    fn types_text(self) -> bool {
        matches!(
            self,
            Context::Global
                | Context::Command
                | Context::Input
                | Context::Palette
                | Context::HistorySearch
        )
    }

    fn parse(name: &str) -> Option<Context> {
        Context::ALL.iter().copied().find(|c| c.name() == name)
    }
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Binding {
    pub ctx: Context,
    pub action: Action,
    pub keys: Vec<Key>,
    pub help: &'static str,
    /// A short label for the status bar, for the few actions worth one.
    pub hint: Option<&'static str>,
}

/// A line in the help overlay that is not a rebindable key: the mouse, the
/// shells' passthrough, digits.
pub struct Note {
    pub ctx: Context,
    pub keys: &'static str,
    pub help: &'static str,
}

#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<Binding>,
    index: HashMap<(Context, Key), Action>,
}

/// A `[keys]` entry from the config: context, action, keys, and where it
/// was written (an offset the config turns into file:line).
pub struct Override {
    pub ctx: String,
    pub action: String,
    pub keys: Vec<String>,
    pub at: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub struct OverrideError {
    pub at: usize,
    pub msg: String,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::from_bindings(defaults::bindings())
    }
}

impl Keymap {
    fn from_bindings(bindings: Vec<Binding>) -> Keymap {
        let mut index = HashMap::new();
        for b in &bindings {
            for k in &b.keys {
                index.entry((b.ctx, *k)).or_insert(b.action);
            }
        }
        Keymap { bindings, index }
    }

    /// The defaults with the user's rebindings applied. An entry replaces
    /// all of that action's keys in that context; an empty list unbinds it.
    pub fn with_overrides(overrides: &[Override]) -> Result<Keymap, OverrideError> {
        let mut bindings = defaults::bindings();
        let mut set_at: HashMap<(Context, Action), usize> = HashMap::new();
        for o in overrides {
            let err = |msg: String| OverrideError { at: o.at, msg };
            let ctx = Context::parse(&o.ctx).ok_or_else(|| {
                err(format!(
                    "[keys.{}]: no such context; the contexts are {}",
                    o.ctx,
                    Context::ALL
                        .iter()
                        .map(|c| c.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            let Some(b) = bindings
                .iter_mut()
                .find(|b| b.ctx == ctx && b.action.name() == o.action)
            else {
                let names: Vec<&str> = defaults::bindings()
                    .iter()
                    .filter(|b| b.ctx == ctx)
                    .map(|b| b.action.name())
                    .collect();
                return Err(err(format!(
                    "[keys.{}]: {:?} is not an action here; the actions are {}",
                    ctx.name(),
                    o.action,
                    names.join(", ")
                )));
            };
            let mut keys = Vec::new();
            for text in &o.keys {
                let k = Key::parse(text)
                    .map_err(|e| err(format!("[keys.{}] {}: {e}", ctx.name(), o.action)))?;
                // Global keys are heard before any text input; inputs,
                // the palette and the history search take text themselves.
                if ctx.types_text() && k.is_text() {
                    return Err(err(format!(
                        "[keys.{}] {}: {k} is typed text here; use Ctrl-, Alt- or a function key",
                        ctx.name(),
                        o.action
                    )));
                }
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            b.keys = keys;
            set_at.insert((ctx, b.action), o.at);
        }
        check_clashes(&bindings, &set_at)?;
        Ok(Keymap::from_bindings(bindings))
    }

    /// The action `k` does in `ctx`'s own table (not its stack: dispatch
    /// walks the stack in its own order).
    pub fn lookup(&self, ctx: Context, k: &KeyEvent) -> Option<Action> {
        self.index.get(&(ctx, Key::from_event(k))).copied()
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The keys bound to `action` in `ctx`, or in the first context of its
    /// stack that binds it.
    pub fn keys(&self, ctx: Context, action: Action) -> &[Key] {
        ctx.stack()
            .iter()
            .find_map(|c| {
                self.bindings
                    .iter()
                    .find(|b| b.ctx == *c && b.action == action && !b.keys.is_empty())
            })
            .map_or(&[], |b| b.keys.as_slice())
    }

    /// The palette's actions: (context, action, help, first key), from
    /// `defaults::PALETTE`, with this keymap's keys.
    pub fn palette(&self) -> Vec<(Context, Action, &'static str, Option<String>)> {
        defaults::PALETTE
            .iter()
            .filter_map(|&(ctx, a)| {
                let b = self
                    .bindings
                    .iter()
                    .find(|b| b.ctx == ctx && b.action == a)?;
                Some((ctx, a, b.help, self.first_key(ctx, a)))
            })
            .collect()
    }

    /// The first key of `action`, as text, for hints and messages.
    pub fn first_key(&self, ctx: Context, action: Action) -> Option<String> {
        self.keys(ctx, action).first().map(|k| k.to_string())
    }
}

/// Two actions on one key where both contexts are active at once would
/// make one of them unreachable: refuse it, at the line that caused it.
fn check_clashes(
    bindings: &[Binding],
    set_at: &HashMap<(Context, Action), usize>,
) -> Result<(), OverrideError> {
    for ctx in Context::ALL {
        let stack = ctx.stack();
        let mut seen: HashMap<Key, &Binding> = HashMap::new();
        for c in stack {
            for b in bindings.iter().filter(|b| b.ctx == *c) {
                for k in &b.keys {
                    match seen.get(k) {
                        // The same key in two contexts of one stack: the
                        // first always wins, even for a same-named action
                        // (global cancel is not the transfer panel's).
                        Some(other) if (other.ctx, other.action) != (b.ctx, b.action) => {
                            let at = set_at
                                .get(&(b.ctx, b.action))
                                .or_else(|| set_at.get(&(other.ctx, other.action)))
                                .copied()
                                .unwrap_or(0);
                            return Err(OverrideError {
                                at,
                                msg: format!(
                                    "{k} would be both {}.{} and {}.{}, which are active together; bind one of them to another key",
                                    other.ctx.name(),
                                    other.action.name(),
                                    b.ctx.name(),
                                    b.action.name()
                                ),
                            });
                        }
                        Some(_) => {}
                        None => {
                            seen.insert(*k, b);
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

pub use defaults::notes;

#[cfg(test)]
mod tests {
    use super::*;

    fn o(ctx: &str, action: &str, keys: &[&str], at: usize) -> Override {
        Override {
            ctx: ctx.into(),
            action: action.into(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
            at,
        }
    }

    #[test]
    fn the_defaults_have_no_clashes_and_every_action_has_help() {
        let b = defaults::bindings();
        assert!(check_clashes(&b, &HashMap::new()).is_ok());
        for b in &b {
            assert!(
                !b.help.trim().is_empty(),
                "{}.{} has no help",
                b.ctx.name(),
                b.action.name()
            );
            assert!(
                !b.keys.is_empty(),
                "{}.{} has no key",
                b.ctx.name(),
                b.action.name()
            );
        }
    }

    /// An action no context binds is dead code and a name users could
    /// never rebind.
    #[test]
    fn every_action_is_bound_somewhere() {
        let b = defaults::bindings();
        for a in Action::ALL {
            assert!(
                b.iter().any(|b| b.action == *a),
                "{} is bound nowhere",
                a.name()
            );
        }
    }

    #[test]
    fn a_rebinding_replaces_the_keys() {
        use crossterm::event::{KeyCode, KeyModifiers};
        let map = Keymap::with_overrides(&[o("hosts", "select", &["v", "Insert"], 10)])
            .unwrap_or_else(|e| panic!("{}", e.msg));
        let ev = |c| KeyEvent::new(c, KeyModifiers::NONE);
        assert_eq!(
            map.lookup(Context::Hosts, &ev(KeyCode::Insert)),
            Some(Action::Select)
        );
        assert_eq!(map.lookup(Context::Hosts, &ev(KeyCode::Char(' '))), None);
        assert_eq!(
            map.first_key(Context::Hosts, Action::Select).as_deref(),
            Some("v")
        );
    }

    #[test]
    fn bad_rebindings_say_what_and_where() {
        let e = Keymap::with_overrides(&[o("hostz", "select", &["x"], 7)]).unwrap_err();
        assert_eq!(e.at, 7);
        assert!(e.msg.contains("no such context"), "{}", e.msg);
        let e = Keymap::with_overrides(&[o("hosts", "zoom", &["x"], 8)]).unwrap_err();
        assert_eq!(e.at, 8);
        assert!(
            e.msg.contains("not an action here") && e.msg.contains("select_all"),
            "{}",
            e.msg
        );
        let e = Keymap::with_overrides(&[o("hosts", "select", &["Hyper-x"], 9)]).unwrap_err();
        assert_eq!(e.at, 9);
        // Plain characters cannot be global or command-pane keys.
        let e = Keymap::with_overrides(&[o("global", "suspend", &["z"], 12)]).unwrap_err();
        assert!(e.msg.contains("typed text"), "{}", e.msg);
        // The transfer panel's cancel is not global cancel's.
        let e = Keymap::with_overrides(&[o("transfers", "cancel", &["Ctrl-X"], 13)]).unwrap_err();
        assert!(e.msg.contains("active together"), "{}", e.msg);
        // `a` is select_all in hosts; `q` is quit in main, active with hosts.
        for key in ["a", "q"] {
            let e = Keymap::with_overrides(&[o("hosts", "select", &[key], 11)]).unwrap_err();
            assert_eq!(e.at, 11);
            assert!(e.msg.contains("active together"), "{}", e.msg);
        }
        // Moving select_all away first makes `a` free.
        assert!(
            Keymap::with_overrides(&[
                o("hosts", "select_all", &["A"], 1),
                o("hosts", "select", &["a"], 2)
            ])
            .is_ok()
        );
    }
}
