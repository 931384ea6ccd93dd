//! Output-pane views through ratatui's TestBackend, compared with insta
//! snapshots: a zoomed pane fills the terminal, a search match is on
//! screen with the scroll note on the border, and the help lists keys
//! that mean different things in different places.

use crate::support;

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sshdeck::app::state::Focus;
use sshdeck::app::{AppState, Msg, update};
use sshdeck::engine::{Event, EventKind, ExitStatus, HostId, JobId};

fn state(n: usize, w: u16, h: u16) -> AppState {
    let hosts = (1..=n)
        .map(|i| (format!("web{i:02}"), vec!["web".to_string()]))
        .collect();
    let mut s = AppState::new(hosts, BTreeMap::new(), 1000);
    let _ = update(&mut s, Msg::Resize(w, h));
    s
}

fn draw(s: &AppState, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| sshdeck::ui::render(f, s)).unwrap();
    format!("{}", t.backend())
}

fn key(s: &mut AppState, code: KeyCode) {
    let _ = update(s, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn typ(s: &mut AppState, text: &str) {
    text.chars().for_each(|c| key(s, KeyCode::Char(c)));
}

/// Every host ran `seq 1 301`, printing 1..=301, and exited 0.
fn ran_seq(n: usize, w: u16, h: u16) -> AppState {
    let mut s = state(n, w, h);
    key(&mut s, KeyCode::Char('a'));
    s.focus = Focus::Command;
    typ(&mut s, "seq 1 301");
    key(&mut s, KeyCode::Enter);
    let _ = update(&mut s, Msg::JobStarted(JobId(1)));
    let text: String = (1..=301).map(|i| format!("{i}\n")).collect();
    for host in 0..n {
        let ev = |kind| {
            Msg::Engine(Event {
                host: HostId(host),
                job: JobId(1),
                kind,
            })
        };
        let _ = update(&mut s, ev(EventKind::Stdout(Bytes::from(text.clone()))));
        let _ = update(
            &mut s,
            ev(EventKind::Exit {
                status: ExitStatus::Code(0),
                elapsed: Duration::from_millis(40),
            }),
        );
    }
    s.focus = Focus::Output;
    s
}

/// `z`: the focused pane takes the whole terminal but the status bar, as
/// tmux's zoom does; `Esc` gives the host list and command pane back.
#[test]
fn zoomed_pane_fills_the_terminal_80x24() {
    let mut s = ran_seq(3, 80, 24);
    key(&mut s, KeyCode::Char('z'));
    let screen = draw(&s, 80, 24);
    assert!(!screen.contains("Hosts 3/3"), "host list hidden: {screen}");
    assert!(!screen.contains("Command"), "command pane hidden: {screen}");
    // 24 rows: status bar, two borders each of the area and the pane:
    // 19 lines of output, 283..=301.
    assert!(
        screen.contains("│283") && screen.contains("│301"),
        "{screen}"
    );
    support::assert_snapshot!("zoomed_pane_fills_the_terminal_80x24", screen);
    key(&mut s, KeyCode::Esc);
    let screen = draw(&s, 80, 24);
    assert!(screen.contains("Hosts 3/3"), "{screen}");
    // The same key ends it, and so does Tab (focus leaves the output).
    key(&mut s, KeyCode::Char('z'));
    assert!(!draw(&s, 80, 24).contains("Hosts 3/3"));
    key(&mut s, KeyCode::Char('z'));
    assert!(draw(&s, 80, 24).contains("Hosts 3/3"));
    key(&mut s, KeyCode::Char('z'));
    key(&mut s, KeyCode::Tab);
    assert_eq!(s.focus, Focus::Command);
    assert!(!s.deck.panes.zoomed);
    assert!(draw(&s, 80, 24).contains("Hosts 3/3"));
}

/// `/201`: line 201 is on screen, reversed, and the "lines up" note is on
/// the pane's bottom border, not over a line.
#[test]
fn search_match_is_on_screen_with_the_note_on_the_border_80x24() {
    let mut s = ran_seq(1, 80, 24);
    key(&mut s, KeyCode::Char('/'));
    typ(&mut s, "201");
    key(&mut s, KeyCode::Enter);
    let screen = draw(&s, 80, 24);
    assert!(screen.contains("│201"), "{screen}");
    let note_row = screen
        .lines()
        .find(|l| l.contains("lines up"))
        .unwrap_or_else(|| panic!("no note: {screen}"));
    assert!(
        note_row.contains('└'),
        "the note is on a border: {note_row}"
    );
    support::assert_snapshot!(
        "search_match_is_on_screen_with_the_note_on_the_border_80x24",
        screen
    );
}

/// The end of the help: keys bound to different actions in different
/// places, each place named.
#[test]
fn help_lists_keys_that_differ_by_place_100x50() {
    let mut s = state(3, 100, 50);
    key(&mut s, KeyCode::Char('?'));
    key(&mut s, KeyCode::End);
    let screen = draw(&s, 100, 50);
    assert!(screen.contains("Keys that differ by place"), "{screen}");
    support::assert_snapshot!("help_lists_keys_that_differ_by_place_100x50", screen);
}
