//! The shells tab without IO: the pure update's effects for keys, pastes,
//! toggles, zoom and resizes, and snapshots of the drawn tab (TestBackend).

use crate::support;

use std::collections::BTreeMap;

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sshdeck::app::state::{Focus, Overlay, View};
use sshdeck::app::{AppState, Effect, Msg, update};
use sshdeck::engine::{Event, EventKind, ExitStatus, HostId, JobId};

fn state(n: usize, w: u16, h: u16) -> AppState {
    let hosts = (1..=n).map(|i| (format!("node{i}"), Vec::new())).collect();
    let mut s = AppState::new(hosts, BTreeMap::new(), 100);
    let _ = update(&mut s, Msg::Resize(w, h));
    s
}

fn key_m(s: &mut AppState, code: KeyCode, m: KeyModifiers) -> Vec<Effect> {
    update(s, Msg::Key(KeyEvent::new(code, m)))
}

fn key(s: &mut AppState, code: KeyCode) -> Vec<Effect> {
    key_m(s, code, KeyModifiers::NONE)
}

fn prefix(s: &mut AppState, code: KeyCode) -> Vec<Effect> {
    key_m(s, KeyCode::Char(']'), KeyModifiers::CONTROL);
    key(s, code)
}

/// Select all, F3, and start every shell as job 100 + pane index.
fn open(s: &mut AppState) -> Vec<Effect> {
    key(s, KeyCode::Char('a'));
    let effects = key(s, KeyCode::F(3));
    for (i, e) in effects.iter().enumerate() {
        if let Effect::OpenShell { id, .. } = e {
            let _ = update(
                s,
                Msg::ShellStarted {
                    id: *id,
                    job: JobId(100 + i as u64),
                },
            );
        }
    }
    effects
}

fn output(s: &mut AppState, pane: usize, bytes: &[u8]) {
    let host = s.shells.panes[pane].host;
    let job = s.shells.panes[pane].job.unwrap();
    let _ = update(
        s,
        Msg::Engine(Event {
            host: HostId(host),
            job,
            kind: EventKind::Stdout(Bytes::copy_from_slice(bytes)),
        }),
    );
}

/// (pane id, bytes) of each ShellInput effect.
fn inputs(effects: &[Effect]) -> Vec<(u64, Vec<u8>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::ShellInput { id, bytes } => Some((*id, bytes.clone())),
            _ => None,
        })
        .collect()
}

fn draw(s: &AppState) -> String {
    let mut t = Terminal::new(TestBackend::new(s.size.0, s.size.1)).unwrap();
    t.draw(|f| sshdeck::ui::render(f, s)).unwrap();
    format!("{}", t.backend())
}

#[test]
fn f3_opens_a_sized_shell_per_selected_host() {
    let mut s = state(4, 122, 41);
    let effects = open(&mut s);
    assert_eq!(s.view, View::Shells);
    let opened: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::OpenShell {
                host, cols, rows, ..
            } => Some((*host, *cols, *rows)),
            _ => None,
        })
        .collect();
    // Four panes in 122x40: two columns of two, 61x20 each with borders.
    assert_eq!(
        opened,
        vec![(0, 59, 18), (1, 59, 18), (2, 59, 18), (3, 59, 18)]
    );
    assert_eq!(s.shells.panes[0].term.screen().size(), (18, 59));
    // F3 again goes back; shells stay, and F3 returns to them without
    // opening more.
    key(&mut s, KeyCode::F(3));
    assert_eq!(s.view, View::Deck);
    assert!(
        open(&mut s)
            .iter()
            .all(|e| !matches!(e, Effect::OpenShell { .. }))
    );
}

#[test]
fn keys_go_to_every_shell_encoded_for_each_one() {
    let mut s = state(2, 120, 40);
    open(&mut s);
    // vim on node2 switched the cursor keys to application mode.
    output(&mut s, 1, b"\x1b[?1h");
    let got = inputs(&key(&mut s, KeyCode::Up));
    assert_eq!(got, vec![(1, b"\x1b[A".to_vec()), (2, b"\x1bOA".to_vec())]);
    // Ctrl-C and Ctrl-Z are for the hosts here, not for sshdeck.
    let got = inputs(&key_m(&mut s, KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(got.len(), 2);
    assert!(!s.quit && s.overlay == Overlay::None);
    let got = key_m(&mut s, KeyCode::Char('z'), KeyModifiers::CONTROL);
    assert_eq!(inputs(&got), vec![(1, vec![0x1a]), (2, vec![0x1a])]);
    // A paste: bracketed only where the program asked for it.
    output(&mut s, 0, b"\x1b[?2004h");
    let got = inputs(&update(&mut s, Msg::Paste("a\nb".into())));
    assert_eq!(
        got,
        vec![
            (1, b"\x1b[200~a\rb\x1b[201~".to_vec()),
            (2, b"a\rb".to_vec())
        ]
    );
    // Ctrl-] ] sends Ctrl-] itself.
    let got = inputs(&prefix(&mut s, KeyCode::Char(']')));
    assert_eq!(got, vec![(1, vec![0x1d]), (2, vec![0x1d])]);
}

#[test]
fn toggles_solo_zoom_and_ended_shells_choose_the_receivers() {
    let mut s = state(3, 150, 40);
    open(&mut s);
    let who = |s: &mut AppState| -> Vec<u64> {
        inputs(&key(s, KeyCode::Char('x')))
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    };
    assert_eq!(who(&mut s), vec![1, 2, 3]);
    prefix(&mut s, KeyCode::Right);
    prefix(&mut s, KeyCode::Char(' '));
    assert_eq!(who(&mut s), vec![1, 3]);
    prefix(&mut s, KeyCode::Char('s'));
    assert_eq!(who(&mut s), vec![2]);
    prefix(&mut s, KeyCode::Char('a'));
    // Zoom: only the focused shell, and it grows (a window-change).
    let effects = prefix(&mut s, KeyCode::Char('z'));
    assert!(
        matches!(
            effects[..],
            [Effect::ShellResize {
                id: 2,
                cols: 148,
                rows: 37
            }]
        ),
        "{effects:?}"
    );
    assert_eq!(who(&mut s), vec![2]);
    prefix(&mut s, KeyCode::Char('z'));
    // A shell that ended takes no input.
    let _ = update(
        &mut s,
        Msg::Engine(Event {
            host: HostId(0),
            job: JobId(100),
            kind: EventKind::Exit {
                status: ExitStatus::Code(0),
                elapsed: std::time::Duration::ZERO,
            },
        }),
    );
    assert_eq!(who(&mut s), vec![2, 3]);
    // Clicking a pane's title toggles its input.
    let rects = sshdeck::app::shell::pane_rects(&s);
    let (_, r) = rects[2];
    let _ = update(
        &mut s,
        Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: r.x + 3,
            row: r.y,
            modifiers: KeyModifiers::NONE,
        }),
    );
    assert_eq!(who(&mut s), vec![2]);
    // Closing the ended shell needs no effect; closing a live one does.
    prefix(&mut s, KeyCode::Char('1'));
    assert!(
        prefix(&mut s, KeyCode::Char('x'))
            .iter()
            .all(|e| !matches!(e, Effect::CloseShell { .. }))
    );
    let effects = prefix(&mut s, KeyCode::Char('x'));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::CloseShell { id: 2 })),
        "{effects:?}"
    );
    assert_eq!(s.shells.panes.len(), 1);
}

#[test]
fn a_terminal_resize_sends_window_changes() {
    let mut s = state(1, 82, 27);
    open(&mut s);
    assert_eq!(s.shells.panes[0].size, (80, 24));
    let effects = update(&mut s, Msg::Resize(102, 31));
    assert!(
        matches!(
            effects[..],
            [Effect::ShellResize {
                id: 1,
                cols: 100,
                rows: 28
            }]
        ),
        "{effects:?}"
    );
}

#[test]
fn command_options_reach_the_exec_effect() {
    let mut s = state(2, 120, 40);
    key(&mut s, KeyCode::Char('a'));
    s.focus = Focus::Command;
    key_m(&mut s, KeyCode::Char('o'), KeyModifiers::CONTROL);
    key(&mut s, KeyCode::Char(' ')); // login
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Char(' ')); // sudo
    key(&mut s, KeyCode::Down);
    for c in "LANG=C".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    key(&mut s, KeyCode::Enter);
    let screen = draw(&s);
    assert!(screen.contains("login · sudo · env 1 · Ctrl-O"), "{screen}");
    for c in "id".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    let effects = key(&mut s, KeyCode::Enter);
    let Some(Effect::Exec { opts, command, .. }) = effects.first() else {
        panic!("no exec: {effects:?}");
    };
    assert_eq!(command, "id");
    assert!(opts.login && opts.sudo && !opts.pty);
    assert_eq!(opts.env, vec![("LANG".to_string(), "C".to_string())]);
    // Esc cancels the dialog: a bad variable typed there is dropped and
    // the options are as they were when it opened.
    key_m(&mut s, KeyCode::Char('o'), KeyModifiers::CONTROL);
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Down);
    for c in " 9BAD=1".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    assert_eq!(s.deck.options.env, "LANG=C 9BAD=1");
    key(&mut s, KeyCode::Esc);
    assert!(s.deck.options.editing.is_none());
    assert_eq!(s.deck.options.env, "LANG=C");
    assert!(s.deck.options.to_exec().is_ok());
}

#[test]
fn snapshot_three_shells_with_one_muted_and_a_hostile_host() {
    let mut s = state(3, 100, 20);
    open(&mut s);
    output(
        &mut s,
        0,
        b"root@node1:~# uptime\r\n 10:00:01 up 3 days\r\nroot@node1:~# ",
    );
    // Clear-screen, cursor moves, a window title and an OSC 52 clipboard
    // write: the emulator applies what is screen-local, and nothing of it
    // can reach the real terminal (only cells are drawn).
    output(
        &mut s,
        1,
        b"\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b[H\x1b[31mred\x1b[0m text\r\n$ ",
    );
    output(
        &mut s,
        2,
        b"\x1b[1mbold\x1b[0m and a long line that wraps past the pane edge for sure\r\n$ ",
    );
    prefix(&mut s, KeyCode::Right);
    prefix(&mut s, KeyCode::Right);
    prefix(&mut s, KeyCode::Char(' '));
    let screen = draw(&s);
    assert!(!screen.contains('\x1b'));
    assert!(!screen.contains("pwned") && !screen.contains("ZXZpbA"));
    support::assert_snapshot!("shells_three_one_muted_100x20", screen);
}

#[test]
fn snapshot_shell_help_and_zoom() {
    let mut s = state(2, 90, 24);
    open(&mut s);
    output(&mut s, 0, b"$ top\r\n");
    prefix(&mut s, KeyCode::Char('z'));
    support::assert_snapshot!("shells_zoomed_90x24", draw(&s));
    prefix(&mut s, KeyCode::Char('?'));
    support::assert_snapshot!("shells_help_90x24", draw(&s));
}
