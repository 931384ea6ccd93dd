//! Copy and move between the two panes: decide the direction from the
//! panes' sides, ask about names that exist at the destination, then hand
//! the queue one job per overwrite policy.

use std::collections::{BTreeMap, BTreeSet};

use super::hosts_of;
use super::side_label;
use super::state::{ConflictAction, FileDialog, PendingCopy, Side, free_name};
use crate::app::help::key_name;
use crate::app::msg::{Effect, TransferRequest};
use crate::app::state::AppState;
use crate::engine::files::copy_job::{CopySpec, Direction};
use crate::engine::files::fs::join;
use crate::engine::files::name::Name;
use crate::engine::files::transfer::{Overwrite, TransferOpts};
use crate::keymap::{Action, Context};

/// Start copying (or moving) `names` from pane `from` to the other pane.
pub fn start(s: &mut AppState, from: usize, names: Vec<Name>, remove_sources: bool) -> Vec<Effect> {
    if names.is_empty() {
        s.status = Some("nothing to copy here".into());
        return Vec::new();
    }
    let to = 1 - from;
    let (a, b) = (s.files.panes[from].side, s.files.panes[to].side);
    if let Err(why) = route(a, b) {
        s.status = Some(format!(
            "{why} ({})",
            key_name(s, Context::Files, Action::Side)
        ));
        return Vec::new();
    }
    if remove_sources && matches!(route(a, b), Ok(Route::Relay { .. })) {
        let key = |a| key_name(s, Context::Files, a);
        s.status = Some(format!(
            "moving between hosts is not offered: copy ({}), then delete on the source ({})",
            key(Action::Copy),
            key(Action::Delete)
        ));
        return Vec::new();
    }
    if s.files.panes[to].cwd.is_empty() {
        s.status = Some("the other pane has not been listed yet".into());
        return Vec::new();
    }
    let existing: BTreeSet<&str> = s.files.panes[to]
        .entries
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    // Fanning in from many hosts writes into DEST/<host>/: no clashes to ask about.
    let fan_in = a == Side::Selected && b == Side::Local;
    let conflicts: Vec<String> = if fan_in {
        Vec::new()
    } else {
        names
            .iter()
            .filter(|n| existing.contains(n.as_str()))
            .map(|n| n.as_str().to_string())
            .collect()
    };
    let pending = PendingCopy {
        from,
        names,
        remove_sources,
        answers: Vec::new(),
        conflicts,
    };
    if pending.conflicts.is_empty() {
        return submit(s, pending);
    }
    s.files.dialog = Some(FileDialog::Conflict(pending));
    Vec::new()
}

/// How a copy between two panes goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// Local → remote.
    Put,
    /// Remote → local.
    Get,
    /// One host → another host, or → the selected hosts: fetched here,
    /// then put (see `engine::queue::Relay`).
    Relay { from: usize },
}

fn route(from: Side, to: Side) -> Result<Route, &'static str> {
    match (from, to) {
        (Side::Local, Side::Local) => Err("both panes are local: point one at a host"),
        (Side::Local, _) => Ok(Route::Put),
        (_, Side::Local) => Ok(Route::Get),
        (Side::Host(a), Side::Host(b)) if a == b => {
            Err("both panes show the same host: point one at another host, or the local side")
        }
        (Side::Host(h), _) => Ok(Route::Relay { from: h }),
        (Side::Selected, _) => Err(
            "copy from one host at a time: point the source pane at that host, the other at the destination",
        ),
    }
}

/// Answer the first open conflict; `all` applies it to the rest too.
pub fn answer(s: &mut AppState, action: Option<ConflictAction>, all: bool) -> Vec<Effect> {
    let Some(FileDialog::Conflict(mut p)) = s.files.dialog.take() else {
        return Vec::new();
    };
    let Some(action) = action else {
        s.status = Some("copy cancelled".into());
        return Vec::new();
    };
    let to = 1 - p.from;
    let mut taken: BTreeSet<String> = s.files.panes[to]
        .entries
        .iter()
        .map(|e| e.name.as_str().to_string())
        .collect();
    taken.extend(p.names.iter().map(|n| n.as_str().to_string()));
    let count = if all { p.conflicts.len() } else { 1 };
    for name in p.conflicts.drain(..count) {
        let a = match &action {
            ConflictAction::Rename(_) => {
                let n = free_name(&name, &taken);
                taken.insert(n.clone());
                ConflictAction::Rename(n)
            }
            other => other.clone(),
        };
        p.answers.push((name, a));
    }
    if p.conflicts.is_empty() {
        return submit(s, p);
    }
    s.files.dialog = Some(FileDialog::Conflict(p));
    Vec::new()
}

/// One job's worth: its overwrite policy, sources, and renames.
type PlannedJob = (Overwrite, Vec<String>, BTreeMap<String, Name>);

/// Queue the copy: one job per overwrite policy the answers need.
fn submit(s: &mut AppState, p: PendingCopy) -> Vec<Effect> {
    let to = 1 - p.from;
    let (src, dst) = (&s.files.panes[p.from], &s.files.panes[to]);
    let Ok(route) = route(src.side, dst.side) else {
        return Vec::new();
    };
    let (dir, relay_from) = match route {
        Route::Put => (Direction::Put, None),
        Route::Get => (Direction::Get, None),
        Route::Relay { from } => (Direction::Put, Some(from)),
    };
    let remote_side = if dir == Direction::Put {
        dst.side
    } else {
        src.side
    };
    let mut hosts = hosts_of(s, remote_side);
    // Host A → the selected hosts: A among them would copy onto itself.
    if let Some(a) = relay_from {
        hosts.retain(|&h| h != a);
    }
    if hosts.is_empty() {
        s.status = Some(match relay_from {
            Some(_) => "no destination: the only selected host is the source".into(),
            None => "no hosts selected for this copy".into(),
        });
        return Vec::new();
    }
    let answer_of = |n: &Name| {
        p.answers
            .iter()
            .find(|(a, _)| n == a.as_str())
            .map(|(_, a)| a.clone())
    };
    let mut groups: BTreeMap<u8, PlannedJob> = BTreeMap::new();
    let mut unnamed = Vec::new();
    for name in &p.names {
        // Renamed copies go to free names, so they join the "always" job.
        let (key, ow, rename) = match answer_of(name) {
            None | Some(ConflictAction::Overwrite) => (0, Overwrite::Always, None),
            Some(ConflictAction::Rename(n)) => match Name::parse(&n) {
                Ok(n) => (0, Overwrite::Always, Some(n)),
                Err(bad) => {
                    unnamed.push(format!("{name}: cannot be renamed to {bad}"));
                    continue;
                }
            },
            Some(ConflictAction::SkipSame) => (1, Overwrite::SkipSame, None),
            Some(ConflictAction::Skip) => continue,
        };
        let g = groups
            .entry(key)
            .or_insert_with(|| (ow, Vec::new(), BTreeMap::new()));
        g.1.push(src.shared_path(&join(&src.cwd, name)));
        if let Some(n) = rename {
            g.2.insert(name.as_str().to_string(), n);
        }
    }
    if groups.is_empty() {
        s.status = Some(
            unnamed
                .pop()
                .unwrap_or_else(|| "nothing left to copy".into()),
        );
        return Vec::new();
    }
    let verb = match (dir, p.remove_sources) {
        _ if relay_from.is_some() => "copy",
        (Direction::Put, false) => "put",
        (Direction::Put, true) => "move to",
        (Direction::Get, false) => "get",
        (Direction::Get, true) => "move from",
    };
    let fan_in = dir == Direction::Get && src.side == Side::Selected;
    let where_ = match relay_from {
        Some(_) => format!(
            "{} → {}",
            side_label(s, src.side),
            side_label(s, remote_side)
        ),
        None => side_label(s, remote_side),
    };
    let mut out = Vec::new();
    for (_, (overwrite, sources, renames)) in groups {
        let what = match sources.len() {
            1 => sources[0].rsplit('/').next().unwrap_or("").to_string(),
            n => format!("{n} items"),
        };
        let dest = dst.shared_path(&dst.cwd);
        let title = format!("{verb} {where_}: {what} → {dest}");
        out.push(Effect::Transfer(TransferRequest {
            title,
            spec: CopySpec {
                dir,
                sources,
                dest,
                recursive: true,
                opts: TransferOpts {
                    overwrite,
                    ..TransferOpts::default()
                },
                unsafe_links: false,
                per_host_dir: fan_in,
                renames,
                // Each selected host copies (and, for a move, deletes) only
                // what its own listing holds.
                only_listed: fan_in,
            },
            hosts: hosts.clone(),
            remove_sources: p.remove_sources,
            relay_from,
        }));
    }
    // Not "queued: 1 transfer": beside the status bar's own count
    // ("1 transfer running") that read as a second, waiting job.
    s.status = Some(format!(
        "added {} ({} shows progress){}",
        crate::text::count(out.len(), "transfer", "transfers"),
        crate::app::help::key_name(
            s,
            crate::keymap::Context::Files,
            crate::keymap::Action::Transfers
        ),
        unnamed
            .first()
            .map(|u| format!(" ({u})"))
            .unwrap_or_default()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::files::state::FilePane;
    use crate::engine::files::fs::{FileEntry, FileKind};

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    fn entry(name: &str) -> FileEntry {
        FileEntry {
            name: n(name),
            kind: FileKind::File,
            size: 1,
            mode: 0o644,
            mtime: Some(1),
            to_dir: false,
        }
    }

    fn app() -> AppState {
        let mut s = AppState::new(
            vec![("h1".into(), vec![]), ("h2".into(), vec![])],
            Default::default(),
            10,
        );
        s.hosts[0].selected = true;
        s.hosts[1].selected = true;
        let mut l = FilePane::new(Side::Local);
        l.cwd = "/home/me".into();
        l.entries = vec![entry("a.txt"), entry("b.txt")];
        let mut r = FilePane::new(Side::Selected);
        r.cwd = "/srv".into();
        r.entries = vec![entry("a.txt")];
        s.files.panes = [l, r];
        s
    }

    fn requests(e: &[Effect]) -> Vec<&TransferRequest> {
        e.iter()
            .filter_map(|e| match e {
                Effect::Transfer(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn put_without_conflicts_goes_to_every_selected_host() {
        let mut s = app();
        let e = start(&mut s, 0, vec![n("b.txt")], false);
        let r = requests(&e);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].hosts, [0, 1]);
        assert_eq!(r[0].spec.dir, Direction::Put);
        assert_eq!(r[0].spec.sources, ["/home/me/b.txt"]);
        assert_eq!(r[0].spec.dest, "/srv");
    }

    #[test]
    fn conflicts_are_asked_and_answers_split_jobs() {
        let mut s = app();
        let e = start(&mut s, 0, vec![n("a.txt"), n("b.txt")], true);
        assert!(e.is_empty());
        assert!(matches!(s.files.dialog, Some(FileDialog::Conflict(_))));
        let e = answer(&mut s, Some(ConflictAction::SkipSame), false);
        let r = requests(&e);
        assert_eq!(r.len(), 2, "b.txt overwrites, a.txt skips when same");
        assert!(r.iter().all(|r| r.remove_sources));
        let skip = r
            .iter()
            .find(|r| r.spec.opts.overwrite == Overwrite::SkipSame)
            .unwrap();
        assert_eq!(skip.spec.sources, ["/home/me/a.txt"]);
    }

    #[test]
    fn rename_picks_a_free_name() {
        let mut s = app();
        start(&mut s, 0, vec![n("a.txt")], false);
        let e = answer(&mut s, Some(ConflictAction::Rename(String::new())), true);
        let r = requests(&e);
        assert_eq!(
            r[0].spec.renames.get("a.txt").map(Name::as_str),
            Some("a.1.txt")
        );
    }

    #[test]
    fn selected_hosts_get_paths_relative_to_their_own_home() {
        let mut s = app();
        s.files.panes[1].home = Some("/srv".into());
        let r = requests(&start(&mut s, 0, vec![n("b.txt")], false))[0].clone();
        assert_eq!(r.spec.dest, ".");
        s.files.panes[1].cwd = "/srv/www".into();
        let r = requests(&start(&mut s, 0, vec![n("b.txt")], false))[0].clone();
        assert_eq!(r.spec.dest, "www");
        s.files.panes[1].cwd = "/etc".into();
        let r = requests(&start(&mut s, 0, vec![n("b.txt")], false))[0].clone();
        assert_eq!(r.spec.dest, "/etc", "paths outside home stay absolute");
    }

    #[test]
    fn get_from_selected_fans_in_per_host() {
        let mut s = app();
        let e = start(&mut s, 1, vec![n("a.txt")], false);
        let r = requests(&e);
        assert_eq!(r[0].spec.dir, Direction::Get);
        assert!(r[0].spec.per_host_dir);
        assert_eq!(r[0].spec.dest, "/home/me");
    }

    #[test]
    fn local_to_local_is_refused_with_a_reason() {
        let mut s = app();
        s.files.panes[1].side = Side::Local;
        assert!(start(&mut s, 0, vec![n("a.txt")], false).is_empty());
        assert!(
            s.status
                .as_deref()
                .unwrap_or("")
                .contains("both panes are local")
        );
    }
}
