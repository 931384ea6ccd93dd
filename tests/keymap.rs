//! The keymap is the one source of keys: every action has help, and every
//! key the help lists reaches its action through dispatch, in a state
//! where that context has the keyboard.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use sshdeck::app::files::state::{FileDialog, PendingCopy};
use sshdeck::app::help;
use sshdeck::app::recipe::state::{Cell, RecipeRun};
use sshdeck::app::state::{Focus, Overlay, View};
use sshdeck::app::{AppState, Effect, Msg, update};
use sshdeck::engine::{Event, EventKind, ExitStatus, HostId, JobId, Question};
use sshdeck::keymap::{Action, Context, Key, Keymap};

/// Three hosts that ran `uptime`: two agree, one failed.
fn ran() -> AppState {
    let hosts = vec![
        ("web1".to_string(), vec!["web".to_string()]),
        ("web2".to_string(), vec!["web".to_string()]),
        ("db1".to_string(), vec!["db".to_string()]),
    ];
    let mut s = AppState::new(hosts, BTreeMap::new(), 100);
    let _ = update(&mut s, Msg::Resize(120, 40));
    s.hosts.iter_mut().for_each(|h| h.selected = true);
    s.focus = Focus::Command;
    for c in "uptime".chars() {
        let _ = update(
            &mut s,
            Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
        );
    }
    let _ = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let _ = update(&mut s, Msg::JobStarted(JobId(1)));
    for (h, out, code) in [
        (0, "up 3 days\n", 0),
        (1, "up 3 days\n", 0),
        (2, "boom\n", 1),
    ] {
        let ev = |kind| {
            Msg::Engine(Event {
                host: HostId(h),
                job: JobId(1),
                kind,
            })
        };
        let _ = update(&mut s, ev(EventKind::Stdout(Bytes::from(out))));
        let _ = update(
            &mut s,
            ev(EventKind::Exit {
                status: ExitStatus::Code(code),
                elapsed: Duration::from_millis(5),
            }),
        );
    }
    s.deck.history = vec!["df -h".into(), "uptime".into()];
    s.recipe = Some(RecipeRun {
        name: "deploy".into(),
        steps: vec![("run".into(), "true".into())],
        hosts: vec![0],
        cells: vec![vec![Cell::Pending]],
        show: false,
        cursor: 0,
        cancelled: false,
    });
    s.status = None;
    s
}

/// A state where `ctx` has the keyboard.
fn in_context(ctx: Context) -> AppState {
    let mut s = ran();
    match ctx {
        Context::Global | Context::Main | Context::Hosts => s.focus = Focus::Hosts,
        Context::Command => {
            s.focus = Focus::Command;
            // Browsing the history, so Down has somewhere to go.
            s.deck.history_pos = Some(0);
        }
        Context::Output => s.focus = Focus::Output,
        Context::Gathered => {
            s.focus = Focus::Output;
            s.deck.panes.gathered = true;
        }
        Context::Recipe => {
            s.focus = Focus::Output;
            if let Some(r) = s.recipe.as_mut() {
                r.show = true;
            }
        }
        Context::Info => s.overlay = Overlay::HostInfo { host: 0, scroll: 0 },
        Context::Files => s.view = View::Files,
        Context::Transfers => {
            s.view = View::Files;
            s.files.transfers_focused = true;
        }
        Context::Shells => {
            s.view = View::Shells;
            s.shells.prefix = true;
        }
        Context::Confirm => s.overlay = Overlay::ConfirmQuit,
        Context::Help => s.overlay = Overlay::Help,
        // The options form: every input action applies there.
        Context::Input => s.deck.options.open(),
        Context::HostKey => {
            let _ = update(
                &mut s,
                Msg::Prompt {
                    id: 7,
                    question: Question::HostKey {
                        host: "web1".into(),
                        key_type: "ssh-ed25519".into(),
                        fingerprint: "SHA256:x".into(),
                        save_to: "/tmp/known_hosts".into(),
                    },
                },
            );
        }
        Context::Conflict => {
            s.view = View::Files;
            s.files.dialog = Some(FileDialog::Conflict(PendingCopy {
                from: 0,
                names: Vec::new(),
                remove_sources: false,
                answers: Vec::new(),
                conflicts: vec!["a.txt".into(), "b.txt".into()],
            }));
        }
        Context::Picker => {
            s.view = View::Files;
            s.files.dialog = Some(FileDialog::PickSide { cursor: 1 });
        }
        Context::Palette => sshdeck::app::palette::open(&mut s),
        Context::HistorySearch => {
            s.focus = Focus::Command;
            let _ = sshdeck::app::actions::perform(&mut s, Context::Command, Action::HistorySearch);
        }
    }
    let here = sshdeck::app::keys::context(&s);
    assert!(
        ctx == Context::Global || ctx == Context::Main || here == ctx,
        "{} set up, but {} has the keys",
        ctx.name(),
        here.name()
    );
    s
}

fn press(s: &mut AppState, k: Key) -> Vec<Effect> {
    update(s, Msg::Key(KeyEvent::new(k.code, k.mods)))
}

#[test]
fn every_listed_key_reaches_its_action() {
    let map = Keymap::default();
    let mut checked = 0;
    for b in map.bindings() {
        assert!(
            !b.help.trim().is_empty(),
            "{}.{} has no help text",
            b.ctx.name(),
            b.action.name()
        );
        for k in &b.keys {
            let mut s = in_context(b.ctx);
            let _ = press(&mut s, *k);
            assert_eq!(
                s.last_action,
                Some(b.action),
                "{k} in {} is listed as {} but dispatch did {:?}",
                b.ctx.name(),
                b.action.name(),
                s.last_action
            );
            checked += 1;
        }
    }
    assert!(checked > 200, "only {checked} keys checked");
}

#[test]
fn the_help_overlay_lists_every_binding() {
    let mut s = ran();
    s.overlay = Overlay::Help;
    let lines = help::lines(&s);
    for b in Keymap::default().bindings() {
        let keys = b
            .keys
            .iter()
            .map(Key::to_string)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            lines.iter().any(|l| matches!(l, help::HelpLine::Entry { keys: k, help } if *k == keys && help == b.help)),
            "help misses {}.{} ({keys})",
            b.ctx.name(),
            b.action.name()
        );
    }
}

#[test]
fn help_filters_as_you_type_and_scrolls_within_bounds() {
    let mut s = ran();
    s.focus = Focus::Hosts;
    let _ = press(&mut s, Key::parse("?").unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(s.overlay, Overlay::Help);
    let all = help::rows(&s, s.size).len();
    for c in "again".chars() {
        let _ = update(
            &mut s,
            Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
        );
    }
    let lines = help::lines(&s);
    assert!(
        lines.len() < all / 4,
        "{} of {all} lines still shown",
        lines.len()
    );
    assert!(
        lines
            .iter()
            .any(|l| matches!(l, help::HelpLine::Entry { keys, .. } if keys == "R"))
    );
    // Esc clears the filter first, then closes.
    let _ = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    assert_eq!(s.overlay, Overlay::Help);
    assert!(s.help.filter.is_empty());
    let _ = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::End, KeyModifiers::NONE)),
    );
    assert_eq!(s.help.scroll, all - help::visible(s.size));
    let _ = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Up, KeyModifiers::NONE)),
    );
    assert_eq!(s.help.scroll, all - help::visible(s.size) - 1);
    let _ = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    assert_eq!(s.overlay, Overlay::None);
}

#[test]
fn a_rebound_key_dispatches_and_shows_in_hints_and_help() {
    use sshdeck::keymap::Override;
    let mut s = ran();
    s.keymap = Keymap::with_overrides(&[Override {
        ctx: "main".into(),
        action: "gather".into(),
        keys: vec!["G".into()],
        at: 0,
    }])
    .unwrap_or_else(|e| panic!("{}", e.msg));
    s.focus = Focus::Hosts;
    let _ = press(&mut s, Key::parse("b").unwrap_or_else(|e| panic!("{e}")));
    assert!(!s.deck.panes.gathered, "the old key still works");
    let _ = press(&mut s, Key::parse("G").unwrap_or_else(|e| panic!("{e}")));
    assert!(s.deck.panes.gathered);
    assert!(
        help::hints(&s)
            .iter()
            .any(|(k, l)| k == "G" && *l == "gather")
    );
    assert!(!help::hints(&s).iter().any(|(k, _)| k == "b"));
}

/// config.example.toml parses, and its list of contexts and actions is the
/// keymap's: a renamed or added action must show there.
#[test]
fn the_example_config_lists_every_action_of_every_context() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let cfg =
        sshdeck::inventory::config::Config::parse(&path, &text).unwrap_or_else(|e| panic!("{e}"));
    assert!(cfg.keymap().is_ok());
    // "#   hosts:     select select_all ..." and continuation lines.
    let mut listed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = String::new();
    let section = text
        .split_once("Contexts and their actions")
        .map_or("", |(_, after)| after);
    for line in section.lines() {
        let Some(rest) = line.strip_prefix("#   ") else {
            continue;
        };
        let words = match rest.split_once(':') {
            Some((ctx, words)) if !ctx.starts_with(' ') => {
                current = ctx.trim().to_string();
                words
            }
            _ => rest,
        };
        let words = words.trim_start_matches(|c: char| c.is_whitespace());
        // A remark in parentheses says where the context applies.
        let words = match words.strip_prefix('(') {
            Some(rest) => rest.split_once(')').map_or("", |(_, after)| after),
            None => words,
        };
        listed
            .entry(current.clone())
            .or_default()
            .extend(words.split_whitespace().map(String::from));
    }
    let map = Keymap::default();
    for ctx in Context::ALL {
        let mut want: Vec<String> = map
            .bindings()
            .iter()
            .filter(|b| b.ctx == *ctx)
            .map(|b| b.action.name().to_string())
            .collect();
        let mut got = listed.remove(ctx.name()).unwrap_or_default();
        want.sort();
        got.sort();
        assert_eq!(got, want, "config.example.toml's list for {}", ctx.name());
    }
    assert!(listed.is_empty(), "unknown contexts listed: {listed:?}");
}

/// A mistake in `[keys]` names the file and line, before anything starts.
#[test]
fn a_bad_keys_section_names_its_file_and_line() {
    let path = std::path::Path::new("/etc/sshdeck-test.toml");
    for (text, line, what) in [
        ("[keys.hosts]\nselect = \"Hyper-x\"\n", 2, "not a key"),
        ("\n[keys.hosts]\nzoom = \"z\"\n", 3, "not an action here"),
        ("[keys.nowhere]\nselect = \"x\"\n", 2, "no such context"),
        ("[keys.hosts]\nselect = \"q\"\n", 2, "active together"),
    ] {
        let err = sshdeck::inventory::config::Config::parse(path, text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with(&format!("/etc/sshdeck-test.toml:{line}:")) && err.contains(what),
            "{text:?} gave {err:?}"
        );
    }
}

/// The README's `[keys]` example is a config that loads.
#[test]
fn the_readmes_keys_example_loads() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let blocks: Vec<String> = text
        .split("```toml")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .filter(|b| b.contains("[keys."))
        .map(|b| {
            b.lines()
                .map(str::trim_start)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    assert!(!blocks.is_empty(), "the README shows a [keys] example");
    for b in blocks {
        sshdeck::inventory::config::Config::parse(&path, &b)
            .unwrap_or_else(|e| panic!("the README's example does not load: {e}\n{b}"));
    }
}

/// Help opened over host info goes back to host info when it closes.
#[test]
fn help_over_host_info_returns_to_it() {
    let mut s = ran();
    s.overlay = Overlay::HostInfo { host: 1, scroll: 0 };
    let _ = press(&mut s, Key::parse("?").unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(s.overlay, Overlay::Help);
    let _ = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    assert_eq!(s.overlay, Overlay::HostInfo { host: 1, scroll: 0 });
}

/// `b` opens the gathered view and puts focus in it: the next `o` selects
/// the outliers there instead of sorting the host list.
#[test]
fn gather_puts_focus_in_the_gathered_view() {
    let mut s = ran();
    s.focus = Focus::Hosts;
    let order: Vec<String> = s.hosts.iter().map(|h| h.label.clone()).collect();
    let rows_before = s.rows();
    let _ = press(&mut s, Key::parse("b").unwrap_or_else(|e| panic!("{e}")));
    assert!(s.deck.panes.gathered);
    assert_eq!(s.focus, Focus::Output);
    assert_eq!(help::context(&s), Context::Gathered);
    let _ = press(&mut s, Key::parse("o").unwrap_or_else(|e| panic!("{e}")));
    let picked: Vec<&str> = s
        .selected()
        .into_iter()
        .map(|h| s.hosts[h].label.as_str())
        .collect();
    assert_eq!(picked, ["db1"], "the outlier, not a sort");
    assert_eq!(s.rows(), rows_before, "the host list kept its order");
    let after: Vec<String> = s.hosts.iter().map(|h| h.label.clone()).collect();
    assert_eq!(after, order);
}

/// Messages that name a key take it from the keymap: rebind cancel,
/// select and options in config, and the messages follow.
#[test]
fn messages_name_the_rebound_keys() {
    use sshdeck::keymap::Override;
    let mut s = ran();
    let o = |ctx: &str, action: &str, key: &str| Override {
        ctx: ctx.into(),
        action: action.into(),
        keys: vec![key.into()],
        at: 0,
    };
    s.keymap = Keymap::with_overrides(&[
        o("global", "cancel", "Ctrl-K"),
        o("hosts", "select", "v"),
        o("command", "options", "Ctrl-T"),
    ])
    .unwrap_or_else(|e| panic!("{}", e.msg));
    // Still running on one host: running again names the cancel key.
    if let Some(j) = s.deck.job.as_mut() {
        j.running = 1;
    }
    let _ = sshdeck::app::actions::global::rerun_failed(&mut s);
    let status = s.status.clone().unwrap_or_default();
    assert!(status.contains("Ctrl-K to cancel"), "{status}");
    assert!(!status.contains("Ctrl-X"), "{status}");
    // No host selected: the message names the select key.
    if let Some(j) = s.deck.job.as_mut() {
        j.running = 0;
    }
    s.hosts.iter_mut().for_each(|h| h.selected = false);
    s.focus = Focus::Command;
    for c in "uptime".chars() {
        let _ = update(
            &mut s,
            Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
        );
    }
    let _ = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let status = s.status.clone().unwrap_or_default();
    assert!(status.contains("v selects"), "{status}");
    // A bad option names the options key.
    s.hosts.iter_mut().for_each(|h| h.selected = true);
    s.deck.options.env = "1X=2".into();
    let _ = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let status = s.status.clone().unwrap_or_default();
    assert!(status.contains("(Ctrl-T)"), "{status}");
}

/// Dialogs are keymap contexts like any other: a rebound answer works
/// and the old key no longer does; a plain character cannot be bound
/// where it is typed text.
#[test]
fn dialog_keys_rebind_like_any_other() {
    let over = |ctx: &str, action: &str, key: &str| sshdeck::keymap::Override {
        ctx: ctx.into(),
        action: action.into(),
        keys: vec![key.into()],
        at: 0,
    };
    let map = Keymap::with_overrides(&[over("conflict", "overwrite", "w")])
        .unwrap_or_else(|e| panic!("{}", e.msg));
    let mut s = in_context(Context::Conflict);
    s.keymap = map;
    let _ = press(&mut s, Key::parse("o").unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(s.last_action, None, "o is no longer an answer");
    assert!(s.files.dialog.is_some(), "the question still waits");
    let _ = press(&mut s, Key::parse("w").unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(s.last_action, Some(Action::Overwrite));
    for (ctx, action) in [
        ("input", "submit"),
        ("palette", "choose"),
        ("history_search", "older"),
    ] {
        let e = Keymap::with_overrides(&[over(ctx, action, "x")]).err();
        assert!(
            e.is_some_and(|e| e.msg.contains("typed text")),
            "{ctx}.{action} took a plain x"
        );
    }
}
