//! Keyboard handling, by focus and overlay. See `help_lines` for the map;
//! the help overlay shows exactly that list.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_textarea::{CursorMove, TextArea};
use zeroize::Zeroizing;

use super::layout::layout;
use super::msg::Effect;
use super::state::{AppState, Focus, Job, LastRun, LineInput, Overlay, Row, RunResult, View};
use crate::engine::{Answer, HostKeyDecision, Question};
use crate::inventory::nodeset;

/// Every binding, for the `?` overlay: (keys, what they do).
pub fn help_lines() -> &'static [(&'static str, &'static str)] {
    &[
        ("F2", "switch between hosts/output and files"),
        ("F3", "shells on the selected hosts (typing goes to all)"),
        ("Tab / Shift-Tab", "move focus: hosts, output, command"),
        ("?", "this help (Esc closes)"),
        ("q / Ctrl-C", "quit (asks while commands run)"),
        ("Ctrl-X", "cancel the running command"),
        ("Ctrl-Z", "suspend to the shell"),
        ("b", "gathered view: hosts grouped by result"),
        ("Ctrl-P or :", "palette: recipes, saved commands, actions"),
        ("", ""),
        ("Hosts", ""),
        ("Up/Down j/k", "move"),
        ("Space", "select / unselect (a whole group on its header)"),
        ("a / n", "select all visible / none"),
        ("/", "filter hosts (fuzzy)"),
        ("g", "select a group or node set: @web, web[01-05]"),
        ("Enter Left Right", "fold / unfold a tag group"),
        ("i", "host info: every fact of the host"),
        ("o / O", "sort by the next fact column / reverse"),
        ("f", "collect facts on the selected hosts now"),
        ("r", "show / hide the last recipe's progress"),
        ("", ""),
        ("Command", ""),
        ("Enter", "run on the selected hosts"),
        ("Alt-Enter", "new line"),
        ("Ctrl-O", "options: login shell, PTY, sudo, env, directory"),
        ("Up / Down", "history (on the first / last line)"),
        ("", ""),
        ("Output", ""),
        ("arrows", "move between panes"),
        ("Enter / z", "zoom a pane to full size"),
        ("PgUp PgDn Home End", "scroll"),
        ("/ then n N", "search, next, previous"),
        ("[ ]", "previous / next page of panes"),
        ("s", "save the pane to a file"),
        ("d", "gathered view: diff against the largest group"),
        ("mouse", "click to focus and select, wheel to scroll"),
        ("", ""),
        ("Recipe progress", ""),
        ("Up / Down", "choose a host (its step and error below)"),
        ("x", "cancel the recipe"),
        ("Esc / r", "back to the output panes"),
    ]
}

pub fn on_key(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    match s.overlay {
        Overlay::Help => {
            if matches!(
                k.code,
                KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q')
            ) {
                s.overlay = Overlay::None;
            }
            return Vec::new();
        }
        Overlay::ConfirmQuit => {
            return match k.code {
                KeyCode::Char('y') | KeyCode::Enter => {
                    s.quit = true;
                    vec![Effect::Quit]
                }
                _ => {
                    s.overlay = Overlay::None;
                    Vec::new()
                }
            };
        }
        Overlay::HostInfo { .. } => return super::facts::on_info_key(s, k),
        Overlay::Palette => return super::palette::on_key(s, k),
        Overlay::None => {}
    }
    // Shells take every key (Ctrl-C included) but their own few.
    if s.view == View::Shells {
        return super::shell::on_key(s, k);
    }
    if s.options.editing.is_some() {
        s.options.on_key(k);
        return Vec::new();
    }
    if k.code == KeyCode::F(3) {
        s.files.dialog = None;
        return super::shell::enter(s);
    }
    if ctrl && k.code == KeyCode::Char('p') {
        super::palette::open(s);
        return Vec::new();
    }
    if ctrl && k.code == KeyCode::Char('c') {
        return quit(s);
    }
    if ctrl && k.code == KeyCode::Char('x') {
        return cancel(s);
    }
    if k.code == KeyCode::F(2) {
        return toggle_view(s);
    }
    if s.view == View::Files {
        return on_files_key(s, k);
    }
    if s.input.is_some() {
        return on_line_input(s, k);
    }
    match k.code {
        KeyCode::Tab => {
            s.focus = match s.focus {
                Focus::Hosts => Focus::Output,
                Focus::Output => Focus::Command,
                Focus::Command => Focus::Hosts,
            };
            return Vec::new();
        }
        KeyCode::BackTab => {
            s.focus = match s.focus {
                Focus::Hosts => Focus::Command,
                Focus::Output => Focus::Hosts,
                Focus::Command => Focus::Output,
            };
            return Vec::new();
        }
        _ => {}
    }
    if s.focus == Focus::Command {
        return on_command_key(s, k);
    }
    // The recipe view, when shown, has the output area's keys (x cancels
    // the recipe there, not the command).
    if s.focus == Focus::Output
        && let Some(effects) = super::recipe::on_key(s, k)
    {
        return effects;
    }
    match k.code {
        KeyCode::Char('?') => {
            s.overlay = Overlay::Help;
            return Vec::new();
        }
        KeyCode::Char('q') => return quit(s),
        KeyCode::Char('x') => return cancel(s),
        KeyCode::Char(':') => {
            super::palette::open(s);
            return Vec::new();
        }
        KeyCode::Char('r') if s.recipe.is_some() => {
            if let Some(r) = s.recipe.as_mut() {
                r.show = !r.show;
                if r.show {
                    s.focus = Focus::Output;
                }
            }
            return Vec::new();
        }
        KeyCode::Char('b') => {
            s.panes.gathered = !s.panes.gathered;
            s.panes.gathered_cursor = 0;
            s.panes.show_diff = false;
            return Vec::new();
        }
        _ => {}
    }
    match s.focus {
        Focus::Hosts => on_hosts_key(s, k),
        Focus::Output => on_output_key(s, k),
        Focus::Command => Vec::new(),
    }
}

/// F2: between the hosts/output tab and the files tab.
pub fn toggle_view(s: &mut AppState) -> Vec<Effect> {
    s.input = None;
    match s.view {
        View::Deck => {
            s.view = View::Files;
            super::files::on_open(s)
        }
        View::Files | View::Shells => {
            s.view = View::Deck;
            s.files.dialog = None;
            Vec::new()
        }
    }
}

/// The files tab takes every key but the global ones (?, q, F2).
fn on_files_key(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    let idle = s.files.dialog.is_none() && !s.files.transfers_focused;
    match k.code {
        KeyCode::Char('?') if idle => {
            s.overlay = Overlay::Help;
            Vec::new()
        }
        KeyCode::Char('q') if idle => quit(s),
        KeyCode::Esc if idle && s.files.panes[s.files.active].filter.is_empty() => toggle_view(s),
        _ => super::files::keys::on_key(s, k),
    }
}

pub fn quit(s: &mut AppState) -> Vec<Effect> {
    if s.running() > 0 || s.files.active_transfers() > 0 || super::shell::live(s) > 0 {
        s.overlay = Overlay::ConfirmQuit;
        Vec::new()
    } else {
        s.quit = true;
        vec![Effect::Quit]
    }
}

fn cancel(s: &mut AppState) -> Vec<Effect> {
    match s.job.as_ref() {
        Some(Job {
            id: Some(id),
            running,
            ..
        }) if *running > 0 => vec![Effect::Cancel(*id)],
        _ => {
            s.status = Some("nothing is running".into());
            Vec::new()
        }
    }
}

fn on_hosts_key(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    let rows = s.rows();
    let n = rows.len();
    let page = usize::from(
        layout(s, ratatui::layout::Rect::new(0, 0, s.size.0, s.size.1))
            .hosts
            .height
            .saturating_sub(2),
    )
    .max(1);
    match k.code {
        KeyCode::Up | KeyCode::Char('k') => s.cursor = s.cursor.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => s.cursor = (s.cursor + 1).min(n.saturating_sub(1)),
        KeyCode::PageUp => s.cursor = s.cursor.saturating_sub(page),
        KeyCode::PageDown => s.cursor = (s.cursor + page).min(n.saturating_sub(1)),
        KeyCode::Home => s.cursor = 0,
        KeyCode::End => s.cursor = n.saturating_sub(1),
        KeyCode::Char(' ') => match rows.get(s.cursor) {
            Some(Row::Host(h)) => s.hosts[*h].selected = !s.hosts[*h].selected,
            Some(Row::Group { tag, .. }) => {
                let members: Vec<usize> = (0..s.hosts.len())
                    .filter(|&i| s.hosts[i].tags.first().map_or(tag.is_empty(), |t| t == tag))
                    .filter(|&i| {
                        s.filter.is_empty()
                            || super::state::fuzzy_match(&s.filter, &s.hosts[i].label)
                    })
                    .collect();
                let all = members.iter().all(|&i| s.hosts[i].selected);
                for i in members {
                    s.hosts[i].selected = !all;
                }
            }
            None => {}
        },
        KeyCode::Char('a') => {
            for r in rows.iter() {
                if let Row::Host(h) = r {
                    s.hosts[*h].selected = true;
                }
            }
            // Folded groups are "visible" as a whole too.
            for i in 0..s.hosts.len() {
                let vis =
                    s.filter.is_empty() || super::state::fuzzy_match(&s.filter, &s.hosts[i].label);
                if vis {
                    s.hosts[i].selected = true;
                }
            }
        }
        KeyCode::Char('n') => s.hosts.iter_mut().for_each(|h| h.selected = false),
        KeyCode::Char('i') => open_host_info(s),
        KeyCode::Char('o') => super::facts::cycle_sort(s),
        KeyCode::Char('O') => super::facts::reverse_sort(s),
        KeyCode::Char('f') => {
            let hosts = s.selected();
            return super::facts::refresh(s, hosts);
        }
        KeyCode::Char('/') => open_input(s, LineInput::Filter, &s.filter.clone()),
        KeyCode::Char('g') => open_input(s, LineInput::Group, ""),
        KeyCode::Esc => s.filter.clear(),
        KeyCode::Enter | KeyCode::Left | KeyCode::Right => {
            if let Some(Row::Group { tag, folded, .. }) = rows.get(s.cursor) {
                let fold = match k.code {
                    KeyCode::Left => true,
                    KeyCode::Right => false,
                    _ => !folded,
                };
                if fold {
                    s.folded.insert(tag.clone());
                } else {
                    s.folded.remove(tag);
                }
            } else if k.code == KeyCode::Enter
                && let Some(Row::Host(h)) = rows.get(s.cursor)
            {
                s.hosts[*h].selected = !s.hosts[*h].selected;
            }
        }
        _ => {}
    }
    let n = s.rows().len();
    s.cursor = s.cursor.min(n.saturating_sub(1));
    Vec::new()
}

/// `i`: the facts of the host under the cursor.
pub fn open_host_info(s: &mut AppState) {
    match s.rows().get(s.cursor) {
        Some(Row::Host(h)) => {
            s.overlay = Overlay::HostInfo {
                host: *h,
                scroll: 0,
            }
        }
        _ => s.status = Some("move the cursor to a host to see its facts".into()),
    }
}

fn open_input(s: &mut AppState, kind: LineInput, initial: &str) {
    let mut t = TextArea::new(vec![initial.to_string()]);
    t.move_cursor(CursorMove::End);
    s.input = Some((kind, t));
}

fn on_line_input(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    let Some((kind, mut area)) = s.input.take() else {
        return Vec::new();
    };
    match k.code {
        KeyCode::Esc => {
            if kind == LineInput::Filter {
                s.filter.clear();
            }
            return Vec::new();
        }
        KeyCode::Enter => {
            let text = area.lines().first().cloned().unwrap_or_default();
            match kind {
                LineInput::Filter => s.filter = text,
                LineInput::Group => select_nodeset(s, &text),
                LineInput::Search => {
                    s.panes.search = (!text.is_empty()).then_some(text);
                    search_step(s, true);
                }
            }
            return Vec::new();
        }
        _ => {
            area.input(k);
        }
    }
    if kind == LineInput::Filter {
        // Filter as you type.
        s.filter = area.lines().first().cloned().unwrap_or_default();
        s.cursor = 0;
    }
    s.input = Some((kind, area));
    Vec::new()
}

/// `g`: add every host named by a node set (with @groups and @tags).
fn select_nodeset(s: &mut AppState, expr: &str) {
    if expr.trim().is_empty() {
        return;
    }
    let mut groups = s.groups.clone();
    for h in &s.hosts {
        for t in &h.tags {
            let e = groups.entry(t.clone()).or_default();
            if !groups_contains(e, &h.label) {
                if !e.is_empty() {
                    e.push(',');
                }
                e.push_str(&h.label);
            }
        }
    }
    match nodeset::expand(expr, &groups) {
        Ok(set) => {
            let names: Vec<String> = set.into_vec();
            let mut hit = 0;
            for h in &mut s.hosts {
                if names.iter().any(|n| n == &h.label) {
                    h.selected = true;
                    hit += 1;
                }
            }
            s.status = Some(format!("{expr}: selected {hit} of {} names", names.len()));
        }
        Err(e) => s.status = Some(e.to_string()),
    }
}

fn groups_contains(list: &str, name: &str) -> bool {
    list.split(',').any(|n| n == name)
}

fn on_command_key(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    let alt_or_shift = k
        .modifiers
        .intersects(KeyModifiers::ALT | KeyModifiers::SHIFT);
    match k.code {
        KeyCode::Enter if alt_or_shift => s.command.insert_newline(),
        KeyCode::Enter => return run_command(s),
        KeyCode::Char('o') if k.modifiers.contains(KeyModifiers::CONTROL) => {
            s.options.editing = Some(0);
            s.options.error = None;
        }
        KeyCode::Esc => s.focus = Focus::Hosts,
        KeyCode::Up if s.command.cursor().0 == 0 && !s.history.is_empty() => {
            let pos = match s.history_pos {
                None => s.history.len() - 1,
                Some(p) => p.saturating_sub(1),
            };
            s.history_pos = Some(pos);
            set_command(s, &s.history[pos].clone());
        }
        KeyCode::Down
            if s.command.cursor().0 + 1 >= s.command.lines().len() && s.history_pos.is_some() =>
        {
            match s.history_pos {
                Some(p) if p + 1 < s.history.len() => {
                    s.history_pos = Some(p + 1);
                    set_command(s, &s.history[p + 1].clone());
                }
                _ => {
                    s.history_pos = None;
                    set_command(s, "");
                }
            }
        }
        _ => {
            s.command.input(k);
        }
    }
    Vec::new()
}

fn set_command(s: &mut AppState, text: &str) {
    let mut t = super::state::new_command_area();
    t.insert_str(text);
    s.command = t;
}

/// Run `text` on the selected hosts as if typed in the command pane.
pub fn run_text(s: &mut AppState, text: &str) -> Vec<Effect> {
    set_command(s, text);
    run_command(s)
}

fn run_command(s: &mut AppState) -> Vec<Effect> {
    let command = s.command.lines().join("\n");
    if command.trim().is_empty() {
        return Vec::new();
    }
    let hosts = s.selected();
    if hosts.is_empty() {
        s.status =
            Some("no hosts selected: Space selects, a selects all, g selects a group".into());
        return Vec::new();
    }
    let opts = match s.options.to_exec() {
        Ok(o) => o,
        Err(e) => {
            s.status = Some(format!("command options: {e} (Ctrl-O)"));
            return Vec::new();
        }
    };
    if s.running() > 0 {
        s.status = Some("a command is still running: wait, or Ctrl-X to cancel it".into());
        return Vec::new();
    }
    if s.history.last() != Some(&command) {
        s.history.push(command.clone());
    }
    s.history_pos = None;
    set_command(s, "");
    for &h in &hosts {
        s.outputs[h].clear();
        s.hosts[h].last = Some(LastRun {
            result: RunResult::Running,
            elapsed: None,
        });
    }
    s.job = Some(Job {
        id: None,
        command: command.clone(),
        targets: hosts.clone(),
        running: hosts.len(),
    });
    s.panes = super::state::Panes {
        gathered: s.panes.gathered,
        ..Default::default()
    };
    s.status = None;
    if let Some(r) = s.recipe.as_mut() {
        r.show = false;
    }
    vec![Effect::Exec {
        hosts,
        command,
        opts,
    }]
}

fn on_output_key(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    let Some(job) = &s.job else {
        return Vec::new();
    };
    let n = job.targets.len();
    if s.panes.gathered {
        let groups = super::gather::groups(s).len();
        match k.code {
            KeyCode::Up | KeyCode::Char('k') => {
                s.panes.gathered_cursor = s.panes.gathered_cursor.saturating_sub(1)
            }
            KeyCode::Down | KeyCode::Char('j') => {
                s.panes.gathered_cursor =
                    (s.panes.gathered_cursor + 1).min(groups.saturating_sub(1))
            }
            KeyCode::Char('d') => s.panes.show_diff = !s.panes.show_diff,
            _ => {}
        }
        return Vec::new();
    }
    let lay = layout(s, ratatui::layout::Rect::new(0, 0, s.size.0, s.size.1));
    let cols = lay.cols.max(1);
    let pane_h = lay
        .panes
        .first()
        .map_or(10, |(_, r)| usize::from(r.height.saturating_sub(2)).max(1));
    let f = s.panes.focused;
    let host = job.targets.get(f).copied();
    match k.code {
        KeyCode::Left | KeyCode::Char('h') => s.panes.focused = f.saturating_sub(1),
        KeyCode::Right | KeyCode::Char('l') => s.panes.focused = (f + 1).min(n - 1),
        KeyCode::Up | KeyCode::Char('k') => s.panes.focused = f.saturating_sub(cols),
        KeyCode::Down | KeyCode::Char('j') => s.panes.focused = (f + cols).min(n - 1),
        KeyCode::Char(']') => {
            let per_page = lay.panes.len().max(1);
            s.panes.focused = ((lay.page + 1) * per_page).min(n - 1);
        }
        KeyCode::Char('[') => {
            let per_page = lay.panes.len().max(1);
            s.panes.focused = lay.page.saturating_sub(1) * per_page;
        }
        KeyCode::Enter | KeyCode::Char('z') => s.panes.zoomed = !s.panes.zoomed,
        KeyCode::Esc => s.panes.zoomed = false,
        KeyCode::PageUp => scroll(s, host, pane_h as isize),
        KeyCode::PageDown => scroll(s, host, -(pane_h as isize)),
        KeyCode::Home => scroll(s, host, isize::MAX / 2),
        KeyCode::End => scroll(s, host, isize::MIN / 2),
        KeyCode::Char('/') => open_input(s, LineInput::Search, ""),
        KeyCode::Char('n') => search_step(s, true),
        KeyCode::Char('N') => search_step(s, false),
        KeyCode::Char('s') => {
            if let Some(h) = host {
                return vec![Effect::Save { host: h }];
            }
        }
        _ => {}
    }
    Vec::new()
}

/// Scroll a pane by `delta` lines (positive = up, into the past).
pub fn scroll(s: &mut AppState, host: Option<usize>, delta: isize) {
    let Some(h) = host else { return };
    let max = s.outputs[h].len();
    let cur = s.panes.scroll.get(&h).copied().unwrap_or(0) as isize;
    let next = (cur.saturating_add(delta)).clamp(0, max as isize) as usize;
    if next == 0 {
        s.panes.scroll.remove(&h);
    } else {
        s.panes.scroll.insert(h, next);
    }
}

/// Move the focused pane's view to the next (or previous) line that
/// contains the search text.
fn search_step(s: &mut AppState, forward: bool) {
    let (Some(job), Some(needle)) = (&s.job, &s.panes.search) else {
        return;
    };
    let Some(&h) = job.targets.get(s.panes.focused) else {
        return;
    };
    let needle = needle.to_lowercase();
    let out = &s.outputs[h];
    let len = out.len();
    let offset = s.panes.scroll.get(&h).copied().unwrap_or(0);
    // The line currently at the bottom of the view.
    let current = len.saturating_sub(1 + offset);
    let hit = if forward {
        (current + 1..len)
            .chain(0..=current.min(len.saturating_sub(1)))
            .find(|&i| matches(out, i, &needle))
    } else {
        (0..current)
            .rev()
            .chain((current..len).rev())
            .find(|&i| matches(out, i, &needle))
    };
    match hit {
        Some(i) => {
            let off = len - 1 - i;
            if off == 0 {
                s.panes.scroll.remove(&h);
            } else {
                s.panes.scroll.insert(h, off);
            }
            s.status = Some(format!("match on line {} of {len}", i + 1));
        }
        None => s.status = Some(format!("not found: {needle}")),
    }
}

fn matches(out: &super::scrollback::Scrollback, i: usize, needle: &str) -> bool {
    out.get(i)
        .is_some_and(|l| l.line.plain().to_lowercase().contains(needle))
}

pub fn on_paste(s: &mut AppState, text: &str) {
    if let Some(p) = s.prompts.front_mut() {
        if let Some(input) = p.inputs.get_mut(p.active) {
            input.insert_str(text.trim_end_matches(['\n', '\r']));
        }
        return;
    }
    if let Some((_, area)) = s.input.as_mut() {
        area.insert_str(text.lines().next().unwrap_or(""));
        return;
    }
    if s.focus == Focus::Command {
        s.command.insert_str(text);
    }
}

/// Keys while a dialog is up: it takes them all.
pub fn on_prompt_key(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    let Some(p) = s.prompts.front_mut() else {
        return Vec::new();
    };
    let answer = match &p.question {
        Question::HostKey { .. } => match k.code {
            KeyCode::Char('o') => Some(Answer::HostKey(HostKeyDecision::AcceptOnce)),
            KeyCode::Char('s') => Some(Answer::HostKey(HostKeyDecision::AcceptAndSave)),
            KeyCode::Char('r') | KeyCode::Esc => Some(Answer::HostKey(HostKeyDecision::Reject)),
            _ => None,
        },
        _ => match k.code {
            KeyCode::Esc => Some(Answer::Cancel),
            KeyCode::Enter | KeyCode::Tab if p.active + 1 < p.inputs.len() => {
                p.active += 1;
                None
            }
            KeyCode::Enter => {
                let secrets: Vec<Zeroizing<String>> = p
                    .inputs
                    .iter_mut()
                    .map(|t| {
                        let s = Zeroizing::new(t.lines().join(""));
                        // Clear the widget's copy right away.
                        *t = TextArea::default();
                        s
                    })
                    .collect();
                Some(match &p.question {
                    Question::KeyboardInteractive { .. } => Answer::Secrets(secrets),
                    _ => Answer::Secret(secrets.into_iter().next().unwrap_or_default()),
                })
            }
            _ => {
                if let Some(input) = p.inputs.get_mut(p.active) {
                    input.input(k);
                }
                None
            }
        },
    };
    let Some(answer) = answer else {
        return Vec::new();
    };
    let Some(p) = s.prompts.pop_front() else {
        return Vec::new();
    };
    if !s.prompts.iter().any(|_| true) {
        for h in &mut s.hosts {
            h.auth_needed = false;
        }
    }
    vec![Effect::Answer { id: p.id, answer }]
}
