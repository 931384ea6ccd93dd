//! Screens rendered through ratatui's TestBackend and compared with insta
//! snapshots (tests/snapshots/). A change to any screen shows up as a diff.

use crate::support;

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sshdeck::app::state::Focus;
use sshdeck::app::{AppState, Msg, update};
use sshdeck::engine::{Event, EventKind, ExitStatus, HostError, HostId, JobId, Question};

fn state(n: usize, w: u16, h: u16) -> AppState {
    let hosts = (1..=n)
        .map(|i| {
            let tag = if i % 4 == 0 { "db" } else { "web" };
            (format!("{tag}{i:02}"), vec![tag.to_string()])
        })
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

fn ev(s: &mut AppState, host: usize, kind: EventKind) {
    let _ = update(
        s,
        Msg::Engine(Event {
            host: HostId(host),
            job: JobId(1),
            kind,
        }),
    );
}

/// Select everything and start `cmd` as job 1.
fn start(s: &mut AppState, cmd: &str) {
    key(s, KeyCode::Char('a'));
    s.focus = Focus::Command;
    for c in cmd.chars() {
        key(s, KeyCode::Char(c));
    }
    key(s, KeyCode::Enter);
    let _ = update(s, Msg::JobStarted(JobId(1)));
    for h in 0..s.hosts.len() {
        ev(s, h, EventKind::Connecting);
        ev(s, h, EventKind::Connected);
    }
}

fn finish(s: &mut AppState, h: usize, code: u32, ms: u64) {
    ev(
        s,
        h,
        EventKind::Exit {
            status: ExitStatus::Code(code),
            elapsed: Duration::from_millis(ms),
        },
    );
}

#[test]
fn empty_state_80x24() {
    let s = state(0, 80, 24);
    support::assert_snapshot!("empty_state_80x24", draw(&s, 80, 24));
}

/// In a session the status bar starts with its name, as tmux shows it.
#[test]
fn session_name_on_the_status_bar_80x24() {
    let mut s = state(3, 80, 24);
    s.session = Some("0".into());
    let screen = draw(&s, 80, 24);
    assert!(screen.contains("[0] Hosts "), "{screen}");
    support::assert_snapshot!("session_name_on_the_status_bar_80x24", screen);
}

#[test]
fn selection_80x24() {
    let mut s = state(6, 80, 24);
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Char(' '));
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Char(' '));
    support::assert_snapshot!("selection_80x24", draw(&s, 80, 24));
}

#[test]
fn running_80x24() {
    let mut s = state(4, 80, 24);
    start(&mut s, "uptime");
    ev(
        &mut s,
        0,
        EventKind::Stdout(Bytes::from_static(
            b" 10:00 up 3 days, load average: 0.10\n",
        )),
    );
    finish(&mut s, 0, 0, 120);
    ev(
        &mut s,
        1,
        EventKind::Stderr(Bytes::from_static(b"uptime: not found\n")),
    );
    finish(&mut s, 1, 127, 80);
    ev(
        &mut s,
        2,
        EventKind::Stdout(Bytes::from_static(
            b"\x1b[32mgreen\x1b[0m and \x1b[2Jno clear\n",
        )),
    );
    ev(
        &mut s,
        3,
        EventKind::Failed {
            error: HostError::Refused {
                addr: "db04:22".into(),
            },
            elapsed: Duration::from_millis(3),
        },
    );
    support::assert_snapshot!("running_80x24", draw(&s, 80, 24));
}

#[test]
fn running_wide_200x60() {
    let mut s = state(12, 200, 60);
    start(&mut s, "hostname; seq 3");
    for h in 0..12 {
        let text = format!("{}\n1\n2\n3\n", s.hosts[h].label);
        ev(&mut s, h, EventKind::Stdout(Bytes::from(text)));
        if h % 5 != 4 {
            finish(&mut s, h, 0, 40 + h as u64);
        }
    }
    support::assert_snapshot!("running_wide_200x60", draw(&s, 200, 60));
}

#[test]
fn gathered_view_80x24() {
    let mut s = state(5, 80, 24);
    start(&mut s, "cat /etc/os-release | head -1");
    for h in 0..5 {
        let text: &[u8] = if h == 3 {
            b"NAME=\"Ubuntu\"\n"
        } else {
            b"NAME=\"Debian GNU/Linux\"\n"
        };
        ev(&mut s, h, EventKind::Stdout(Bytes::from_static(text)));
        finish(&mut s, h, 0, 10);
    }
    s.focus = Focus::Output;
    key(&mut s, KeyCode::Char('b'));
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Char('d'));
    support::assert_snapshot!("gathered_view_80x24", draw(&s, 80, 24));
}

/// Output longer than the scrollback (1,000 lines here): the group says it
/// shows the end.
#[test]
fn gathered_view_of_long_output_80x24() {
    let mut s = state(3, 80, 24);
    start(&mut s, "journalctl -n 1200");
    for h in 0..3 {
        let text: String = (0..1200).map(|i| format!("line {i}\n")).collect();
        ev(&mut s, h, EventKind::Stdout(Bytes::from(text)));
        finish(&mut s, h, 0, 10);
    }
    s.focus = Focus::Output;
    key(&mut s, KeyCode::Char('b'));
    support::assert_snapshot!("gathered_view_of_long_output_80x24", draw(&s, 80, 24));
}

/// Enter on a group in the gathered view selects exactly its hosts and
/// moves to the command pane, so the next command runs there.
#[test]
fn gathered_view_with_a_selected_group_80x24() {
    let mut s = state(6, 80, 24);
    start(&mut s, "systemctl is-active nginx");
    for h in 0..6 {
        let (text, code): (&[u8], u32) = if h == 1 || h == 4 {
            (b"failed\n", 3)
        } else {
            (b"active\n", 0)
        };
        ev(&mut s, h, EventKind::Stdout(Bytes::from_static(text)));
        finish(&mut s, h, code, 10);
    }
    s.focus = Focus::Output;
    key(&mut s, KeyCode::Char('b'));
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Enter);
    let picked: Vec<&str> = s
        .selected()
        .into_iter()
        .map(|h| s.hosts[h].label.as_str())
        .collect();
    assert_eq!(picked, ["web02", "web05"]);
    assert_eq!(s.focus, Focus::Command);
    let screen = draw(&s, 80, 24);
    assert!(screen.contains("runs on 2 hosts"), "{screen}");
    support::assert_snapshot!("gathered_view_with_a_selected_group_80x24", screen);
}

/// The help at 80x24, filtered as typed and scrolled: every line fits.
#[test]
fn help_overlay_scrolled_80x24() {
    let mut s = state(3, 80, 24);
    key(&mut s, KeyCode::Char('?'));
    for _ in 0..30 {
        key(&mut s, KeyCode::Down);
    }
    let screen = draw(&s, 80, 24);
    assert!(screen.contains("31-"), "scrolled: {screen}");
    support::assert_snapshot!("help_overlay_scrolled_80x24", screen);
}

#[test]
fn help_overlay_200x60() {
    let mut s = state(3, 200, 60);
    key(&mut s, KeyCode::Char('?'));
    support::assert_snapshot!("help_overlay_200x60", draw(&s, 200, 60));
}

#[test]
fn host_key_dialog_80x24() {
    let mut s = state(3, 80, 24);
    let _ = update(
        &mut s,
        Msg::Prompt {
            id: 1,
            question: Question::HostKey {
                host: "[10.0.0.7]:2222".into(),
                key_type: "ssh-ed25519".into(),
                fingerprint: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU".into(),
                save_to: "/home/ops/.ssh/known_hosts".into(),
            },
        },
    );
    support::assert_snapshot!("host_key_dialog_80x24", draw(&s, 80, 24));
}

#[test]
fn password_dialog_shows_only_bullets() {
    let mut s = state(2, 80, 24);
    let _ = update(
        &mut s,
        Msg::Prompt {
            id: 1,
            question: Question::Password {
                user: "ops".into(),
                host: "web01".into(),
                retry: true,
            },
        },
    );
    for c in "s3cret".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    let screen = draw(&s, 80, 24);
    assert!(!screen.contains("s3cret"));
    support::assert_snapshot!("password_dialog_shows_only_bullets", screen);
}

/// What a hostile host can put on screen: its keyboard-interactive texts,
/// an error quoting it, a signal name of its choosing, and output. Nothing
/// of it may act on the terminal, and bidi overrides show as `\u{202e}`.
#[test]
fn a_hostile_hosts_texts_are_drawn_harmless_80x24() {
    const EVIL: &str = "\x1b[2J\x1b]52;c;cHduZWQ=\x07\x1b]0;pwned\x07\u{202e}";
    let mut s = state(3, 80, 24);
    start(&mut s, "id");
    ev(
        &mut s,
        0,
        EventKind::Exit {
            status: ExitStatus::Signal {
                name: format!("{EVIL}KILL"),
                core_dumped: false,
            },
            elapsed: Duration::from_millis(40),
        },
    );
    ev(
        &mut s,
        1,
        EventKind::Failed {
            error: HostError::Protocol {
                host: "web02".into(),
                cause: format!("{EVIL}the server said no"),
            },
            elapsed: Duration::from_millis(5),
        },
    );
    ev(
        &mut s,
        2,
        EventKind::Stdout(Bytes::from(format!("{EVIL}uid=0(root)\n"))),
    );
    let _ = update(
        &mut s,
        Msg::Prompt {
            id: 1,
            question: Question::KeyboardInteractive {
                user: "ops".into(),
                host: "web03".into(),
                name: format!("{EVIL}Login"),
                instructions: format!("{EVIL}Type the code"),
                prompts: vec![(format!("{EVIL}Code: "), false)],
            },
        },
    );
    let screen = draw(&s, 80, 24);
    for bad in ['\x1b', '\x07', '\u{202e}'] {
        assert!(!screen.contains(bad), "{bad:?} on screen:\n{screen}");
    }
    assert!(!screen.contains("pwned") && !screen.contains("cHduZWQ="));
    assert!(screen.contains("\\u{202e}Type the code"), "{screen}");
    support::assert_snapshot!("a_hostile_hosts_texts_are_drawn_harmless_80x24", screen);
}

/// A timeout set in Ctrl-O goes with the command, shows in the command
/// pane while set, and the pane of a host that hit it says so.
#[test]
fn a_command_timeout_is_set_in_ctrl_o_and_shown_when_it_fires_80x24() {
    let mut s = state(2, 80, 24);
    key(&mut s, KeyCode::Char('a'));
    s.focus = Focus::Command;
    let _ = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('o'), KeyModifiers::CONTROL)),
    );
    for _ in 0..5 {
        key(&mut s, KeyCode::Down);
    }
    for c in "2s".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    key(&mut s, KeyCode::Enter);
    for c in "sleep 60".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    let fx = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert!(
        matches!(&fx[..], [sshdeck::app::Effect::Exec { opts, .. }, ..] if opts.timeout == Some(Duration::from_secs(2))),
        "{fx:?}"
    );
    let _ = update(&mut s, Msg::JobStarted(JobId(1)));
    ev(
        &mut s,
        0,
        EventKind::Failed {
            error: sshdeck::engine::HostError::CommandTimeout {
                after: Duration::from_secs(2),
            },
            elapsed: Duration::from_secs(2),
        },
    );
    finish(&mut s, 1, 0, 300);
    let screen = draw(&s, 80, 24);
    assert!(screen.contains("✗ timeout · 2.0s"), "{screen}");
    assert!(screen.contains("timeout 2.0s · Ctrl-O"), "{screen}");
    support::assert_snapshot!(
        "a_command_timeout_is_set_in_ctrl_o_and_shown_when_it_fires_80x24",
        screen
    );
}

/// Ctrl-R in the command pane: the title says a search is on and how to
/// leave it; the match is in the pane.
#[test]
fn history_search_shows_its_query_and_match_80x24() {
    let mut s = state(2, 80, 24);
    s.deck.history = vec!["df -h".into(), "systemctl status nginx".into()];
    s.focus = Focus::Command;
    let _ = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL)),
    );
    for c in "ngi".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    let screen = draw(&s, 80, 24);
    assert!(
        screen.contains("History search: ngi · Ctrl-R older"),
        "{screen}"
    );
    assert!(screen.contains("systemctl status nginx"), "{screen}");
    for c in "zz".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    assert!(draw(&s, 80, 24).contains("ngizz (no match)"));
}
