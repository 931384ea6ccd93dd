//! The `?` overlay as data: every binding of the keymap, the sections that
//! apply where the user is first, filtered as they type.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::msg::Effect;
use super::state::{AppState, Focus, HelpView, Overlay, View};
use crate::keymap::{Action, Context, Key, notes};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpLine {
    Heading(String),
    Entry { keys: String, help: String },
}

/// Where the keyboard is now, for the help's order and the status hints.
pub fn context(s: &AppState) -> Context {
    match s.overlay {
        Overlay::HostInfo { .. } => return Context::Info,
        Overlay::ConfirmQuit => return Context::Confirm,
        _ => {}
    }
    match s.view {
        View::Shells => Context::Shells,
        View::Files if s.files.transfers_focused => Context::Transfers,
        View::Files => Context::Files,
        View::Deck => match s.focus {
            Focus::Command => Context::Command,
            Focus::Hosts => Context::Hosts,
            Focus::Output if s.recipe.as_ref().is_some_and(|r| r.show) => Context::Recipe,
            Focus::Output if s.deck.panes.gathered => Context::Gathered,
            Focus::Output => Context::Output,
        },
    }
}

/// The contexts whose keys work where the user is, most specific first:
/// the context's stack, and under the recipe view the Hosts tab's keys it
/// does not shadow (see `keys::on_key`).
fn active(here: Context) -> Vec<Context> {
    let mut out = here.stack().to_vec();
    if here == Context::Recipe {
        out.insert(1, Context::Main);
    }
    out
}

/// The contexts in the order the overlay lists them: where the user is,
/// what is active with it, then everything else.
fn order(here: Context) -> Vec<Context> {
    let mut out = active(here);
    for c in Context::ALL {
        if !out.contains(c) {
            out.push(*c);
        }
    }
    out
}

/// Every line of the overlay, with the filter applied: a line matches when
/// its keys or its text contain the filter (any case); a heading shows when
/// any of its lines match.
pub fn lines(s: &AppState) -> Vec<HelpLine> {
    let needle = s.help.filter.to_lowercase();
    let mut out = Vec::new();
    for ctx in order(context(s)) {
        // The shells' notes (the prefix itself, passthrough) read first.
        let notes_first = ctx == Context::Shells;
        let mut section: Vec<HelpLine> = s
            .keymap
            .bindings()
            .iter()
            .filter(|b| b.ctx == ctx && !b.keys.is_empty())
            .map(|b| HelpLine::Entry {
                keys: b
                    .keys
                    .iter()
                    .map(Key::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
                help: b.help.to_string(),
            })
            .collect();
        let notes = notes()
            .iter()
            .filter(|n| n.ctx == ctx)
            .map(|n| HelpLine::Entry {
                keys: n.keys.to_string(),
                help: n.help.to_string(),
            });
        if notes_first {
            section.splice(0..0, notes);
        } else {
            section.extend(notes);
        }
        section.retain(|l| match l {
            HelpLine::Entry { keys, help } => {
                needle.is_empty()
                    || keys.to_lowercase().contains(&needle)
                    || help.to_lowercase().contains(&needle)
            }
            HelpLine::Heading(_) => true,
        });
        if !section.is_empty() {
            out.push(HelpLine::Heading(heading(s, ctx)));
            out.extend(section);
        }
    }
    let differ: Vec<HelpLine> = super::key_places::differing(&s.keymap)
        .into_iter()
        .filter(|(keys, help)| {
            needle.is_empty()
                || keys.to_lowercase().contains(&needle)
                || help.to_lowercase().contains(&needle)
        })
        .map(|(keys, help)| HelpLine::Entry { keys, help })
        .collect();
    if !differ.is_empty() {
        out.push(HelpLine::Heading(super::key_places::HEADING.to_string()));
        out.extend(differ);
    }
    out
}

/// A section's heading: the context's title, with the key that opens it
/// where one does, from the keymap.
fn heading(s: &AppState, ctx: Context) -> String {
    let title = ctx.title();
    match ctx {
        Context::Gathered => format!("{title} ({})", key_name(s, Context::Main, Action::Gather)),
        Context::Info => format!("{title} ({})", key_name(s, Context::Hosts, Action::Info)),
        Context::Transfers => format!(
            "{title} ({} in files)",
            key_name(s, Context::Files, Action::Transfers)
        ),
        _ => title.to_string(),
    }
}

/// The overlay's box in a terminal of `size`: (width, height).
pub fn geometry(size: (u16, u16)) -> (u16, u16) {
    (size.0.min(100), size.1.saturating_sub(2).max(3))
}

/// Width of the keys column: indent, keys, and at least one space.
pub const KEYS_COL: usize = 25;

/// One screen row of the overlay: a heading, or keys (first row of an
/// entry only) and a piece of its help, wrapped to the box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpRow {
    Heading(String),
    Entry { keys: String, help: String },
}

/// The overlay's rows at terminal `size`: long help wraps under itself, so
/// nothing is cut at 80 columns.
pub fn rows(s: &AppState, size: (u16, u16)) -> Vec<HelpRow> {
    let inner = usize::from(geometry(size).0.saturating_sub(2));
    let text_w = inner.saturating_sub(KEYS_COL).max(10);
    let mut out = Vec::new();
    for l in lines(s) {
        match l {
            HelpLine::Heading(h) => out.push(HelpRow::Heading(h)),
            HelpLine::Entry { keys, help } => {
                let mut first = true;
                for piece in wrap(&help, text_w) {
                    out.push(HelpRow::Entry {
                        keys: if first { keys.clone() } else { String::new() },
                        help: piece,
                    });
                    first = false;
                }
            }
        }
    }
    out
}

/// How many rows the overlay shows at once.
pub fn visible(size: (u16, u16)) -> usize {
    usize::from(geometry(size).1.saturating_sub(2)).max(1)
}

/// Greedy word wrap; a word longer than the width is split.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_string();
        while word.chars().count() > width {
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            out.push(head);
        }
        let need = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if need > width && !line.is_empty() {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

/// The status bar's hints where the user is: (key, label), most specific
/// context first. Keys come from the keymap, so a rebinding shows.
pub fn hints(s: &AppState) -> Vec<(String, &'static str)> {
    let here = context(s);
    let stack = active(here);
    let mut out = Vec::new();
    for ctx in stack {
        for b in s.keymap.bindings().iter().filter(|b| b.ctx == ctx) {
            if let (Some(label), Some(k)) = (b.hint, b.keys.first()) {
                out.push((k.to_string(), label));
            }
        }
    }
    out
}

/// The key that opens this help from where the user is (`?`, or F1 in
/// the command pane, where `?` is text).
pub fn help_key(s: &AppState) -> Option<String> {
    let here = context(s);
    if here == Context::Shells {
        return s
            .keymap
            .first_key(Context::Shells, Action::Help)
            .map(|k| format!("Ctrl-] {k}"));
    }
    // Each context on its own, most specific first: the recipe view's
    // help is the Hosts tab's `?`, not the global F1.
    active(here).iter().find_map(|c| {
        s.keymap
            .bindings()
            .iter()
            .find(|b| b.ctx == *c && b.action == Action::Help)
            .and_then(|b| b.keys.first())
            .map(Key::to_string)
    })
}

/// The first key of `action` in `ctx` (or its stack), for texts on
/// screen, so a rebinding shows everywhere.
pub fn key_name(s: &AppState, ctx: Context, action: Action) -> String {
    s.keymap
        .first_key(ctx, action)
        .unwrap_or_else(|| "(unbound)".to_string())
}

/// Every key of `action` in `ctx` ("y or Enter"), for dialogs that list
/// their answers.
pub fn key_names(s: &AppState, ctx: Context, action: Action) -> String {
    let keys = s.keymap.keys(ctx, action);
    if keys.is_empty() {
        return "(unbound)".to_string();
    }
    keys.iter()
        .map(Key::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}

/// A shells-tab key as typed: the fixed Ctrl-] prefix, then the key the
/// keymap binds to `action` there.
pub fn shell_key(s: &AppState, action: Action) -> String {
    format!("Ctrl-] {}", key_name(s, Context::Shells, action))
}

/// Open the overlay, fresh.
pub fn open(s: &mut AppState) {
    let back = match &s.overlay {
        Overlay::HostInfo { .. } => Some(Box::new(s.overlay.clone())),
        _ => None,
    };
    s.help = HelpView {
        back,
        ..Default::default()
    };
    s.overlay = Overlay::Help;
}

/// Close the overlay, back to what it was opened over.
fn close(s: &mut AppState) {
    s.overlay = s.help.back.take().map_or(Overlay::None, |b| *b);
}

/// Keys while the overlay is up: typed text filters it; the rest are the
/// keymap's `help` context. A plain key bound there (`?`) acts only while
/// no filter is typed, so it can still be typed into one.
pub fn on_key(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    let typed = typed_char(&k);
    let filtering = !s.help.filter.is_empty();
    let action = match typed {
        Some(_) if filtering => None,
        _ => s.keymap.lookup(Context::Help, &k),
    };
    match (action, typed) {
        (Some(a), _) => {
            on_action(s, a);
            s.last_action = Some(a);
        }
        (None, Some(c)) => {
            s.help.filter.push(c);
            s.help.scroll = 0;
        }
        (None, None) if k.code == KeyCode::Backspace => {
            s.help.filter.pop();
            s.help.scroll = 0;
        }
        (None, None) => {}
    }
    Vec::new()
}

/// A printable key without Ctrl or Alt, as the character it types.
fn typed_char(k: &KeyEvent) -> Option<char> {
    match k.code {
        KeyCode::Char(c)
            if !k
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Some(c)
        }
        _ => None,
    }
}

/// The `help` context's actions: close, clear the filter, scroll.
pub fn on_action(s: &mut AppState, a: Action) -> Option<Vec<Effect>> {
    let page = visible(s.size);
    let h = &mut s.help;
    match a {
        Action::ClearFilter if !h.filter.is_empty() => {
            h.filter.clear();
            h.scroll = 0;
        }
        Action::ClearFilter | Action::Close => close(s),
        Action::Up => h.scroll = h.scroll.saturating_sub(1),
        Action::Down => h.scroll += 1,
        Action::PageUp => h.scroll = h.scroll.saturating_sub(page),
        Action::PageDown => h.scroll += page,
        Action::Top => h.scroll = 0,
        Action::Bottom => h.scroll = usize::MAX / 2,
        _ => return None,
    }
    // Never past the last screenful, so Up moves at once after End.
    let n = rows(s, s.size).len();
    s.help.scroll = s.help.scroll.min(n.saturating_sub(visible(s.size)));
    Some(Vec::new())
}
