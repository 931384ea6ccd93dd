//! The pure update, driven by messages alone: no terminal, no network.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use sshdeck::app::hosts::output::with_lines;
use sshdeck::app::state::{Focus, HostListRow, HostState, Overlay};
use sshdeck::app::{AppState, Effect, Msg, update};
use sshdeck::engine::{
    Answer, Event, EventKind, ExitStatus, HostError, HostId, HostKeyDecision, HostOutcome, JobId,
    Question,
};

fn state() -> AppState {
    let hosts = vec![
        ("web1".to_string(), vec!["web".to_string()]),
        ("web2".to_string(), vec!["web".to_string()]),
        ("db1".to_string(), vec!["db".to_string()]),
    ];
    let mut groups = BTreeMap::new();
    groups.insert("webs".to_string(), "web[1-2]".to_string());
    let mut s = AppState::new(hosts, groups, 100);
    let _ = update(&mut s, Msg::Resize(120, 40));
    s
}

fn key(s: &mut AppState, code: KeyCode) -> Vec<Effect> {
    update(s, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn ctrl(s: &mut AppState, c: char) -> Vec<Effect> {
    update(
        s,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
    )
}

fn typ(s: &mut AppState, text: &str) {
    for c in text.chars() {
        key(s, KeyCode::Char(c));
    }
}

fn ev(s: &mut AppState, host: usize, job: u64, kind: EventKind) {
    let _ = update(
        s,
        Msg::Engine(Event {
            host: HostId(host),
            job: JobId(job),
            kind,
        }),
    );
}

fn names(s: &AppState) -> Vec<&str> {
    s.selected()
        .into_iter()
        .map(|i| s.hosts[i].label.as_str())
        .collect()
}

/// Select all, type `cmd`, press Enter; returns the effects.
fn run(s: &mut AppState, cmd: &str) -> Vec<Effect> {
    s.focus = Focus::Hosts;
    key(s, KeyCode::Char('a'));
    s.focus = Focus::Command;
    typ(s, cmd);
    let fx = key(s, KeyCode::Enter);
    let _ = update(s, Msg::JobStarted(JobId(1)));
    fx
}

#[test]
fn selection_keys() {
    let mut s = state();
    // Rows: [db group, db1, web group, web1, web2]
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Char(' '));
    assert_eq!(names(&s), ["db1"]);
    key(&mut s, KeyCode::Char('a'));
    assert_eq!(names(&s).len(), 3);
    key(&mut s, KeyCode::Char('n'));
    assert!(names(&s).is_empty());
    // Space on a group header selects the whole group.
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Char(' '));
    assert_eq!(names(&s), ["web1", "web2"]);
}

#[test]
fn filter_narrows_and_a_selects_only_visible() {
    let mut s = state();
    key(&mut s, KeyCode::Char('/'));
    typ(&mut s, "wb2");
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.deck.filter, "wb2");
    key(&mut s, KeyCode::Char('a'));
    assert_eq!(names(&s), ["web2"]);
}

#[test]
fn g_selects_groups_tags_and_node_sets() {
    let mut s = state();
    key(&mut s, KeyCode::Char('g'));
    typ(&mut s, "@webs!web1");
    key(&mut s, KeyCode::Enter);
    assert_eq!(names(&s), ["web2"]);
    key(&mut s, KeyCode::Char('g'));
    typ(&mut s, "@db");
    key(&mut s, KeyCode::Enter);
    assert_eq!(names(&s), ["web2", "db1"]);
    key(&mut s, KeyCode::Char('g'));
    typ(&mut s, "web[1-");
    key(&mut s, KeyCode::Enter);
    assert!(
        s.status.as_deref().unwrap_or("").contains("column"),
        "{:?}",
        s.status
    );
}

#[test]
fn a_config_group_is_a_folder_that_selects_and_folds() {
    let mut s = state();
    // [groups] webs = "web[1-2]" is a folder; db1 stays under its tag.
    let folders: Vec<String> = s
        .rows()
        .iter()
        .filter_map(|r| match r {
            HostListRow::Group { name, hosts, .. } => Some(format!("{name} ({hosts})")),
            HostListRow::Host(_) => None,
        })
        .collect();
    assert_eq!(folders, ["db (1)", "webs (2)"]);
    // Down to the webs folder; Space selects its hosts, again clears them.
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Char(' '));
    assert_eq!(names(&s), ["web1", "web2"]);
    key(&mut s, KeyCode::Char(' '));
    assert!(names(&s).is_empty());
    // Enter folds it, then unfolds it.
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.rows().len(), 3);
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.rows().len(), 5);
}

#[test]
fn enter_fans_out_to_the_selection() {
    let mut s = state();
    s.focus = Focus::Command;
    typ(&mut s, "uptime");
    let fx = key(&mut s, KeyCode::Enter);
    assert!(fx.is_empty(), "nothing selected: no run");
    assert!(
        s.status
            .as_deref()
            .unwrap_or("")
            .contains("no hosts selected")
    );
    let fx = run(&mut s, "uptime");
    match fx.as_slice() {
        [
            Effect::Exec { hosts, command, .. },
            Effect::SaveHistory(saved),
        ] => {
            assert_eq!(saved, command, "the command run is the one kept");
            assert_eq!(hosts, &vec![0, 1, 2]);
            // "uptime" was still in the box from the refused attempt.
            assert_eq!(command, "uptimeuptime");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.running(), 3);
    assert!(s.deck.command.is_empty());
}

#[test]
fn alt_enter_adds_a_line_and_history_recalls() {
    let mut s = state();
    key(&mut s, KeyCode::Char('a'));
    s.focus = Focus::Command;
    typ(&mut s, "echo 1");
    let _ = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)),
    );
    typ(&mut s, "echo 2");
    assert_eq!(s.deck.command.lines(), ["echo 1", "echo 2"]);
    let fx = key(&mut s, KeyCode::Enter);
    assert!(
        matches!(&fx[..], [Effect::Exec { command, .. }, Effect::SaveHistory(_)] if command == "echo 1\necho 2")
    );
    let _ = update(&mut s, Msg::JobStarted(JobId(1)));
    for h in 0..3 {
        ev(
            &mut s,
            h,
            1,
            EventKind::Exit {
                status: ExitStatus::Code(0),
                elapsed: Duration::ZERO,
            },
        );
    }
    key(&mut s, KeyCode::Up);
    assert_eq!(s.deck.command.lines(), ["echo 1", "echo 2"]);
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Down);
    assert!(s.deck.command.is_empty());
}

#[test]
fn engine_events_drive_states_output_and_badges() {
    let mut s = state();
    run(&mut s, "x");
    ev(&mut s, 0, 1, EventKind::Connecting);
    assert_eq!(s.hosts[0].state, HostState::Connecting);
    ev(&mut s, 0, 1, EventKind::Connected);
    ev(&mut s, 0, 1, EventKind::Stdout(Bytes::from_static(b"hel")));
    ev(&mut s, 0, 1, EventKind::Stdout(Bytes::from_static(b"lo\n")));
    ev(
        &mut s,
        0,
        1,
        EventKind::Stderr(Bytes::from_static(b"warn\n")),
    );
    ev(
        &mut s,
        0,
        1,
        EventKind::Exit {
            status: ExitStatus::Code(3),
            elapsed: Duration::from_millis(1500),
        },
    );
    ev(
        &mut s,
        1,
        1,
        EventKind::Failed {
            error: HostError::Refused {
                addr: "web2:22".into(),
            },
            elapsed: Duration::ZERO,
        },
    );
    ev(
        &mut s,
        2,
        1,
        EventKind::Failed {
            error: HostError::CommandTimeout {
                after: Duration::from_secs(5),
            },
            elapsed: Duration::from_secs(5),
        },
    );
    assert_eq!(s.outputs[0].len(), 2);
    assert_eq!(s.outputs[0].get(0).unwrap().line.plain(), "hello");
    assert!(s.outputs[0].get(1).unwrap().stderr);
    assert!(matches!(
        s.hosts[0].last.as_ref().unwrap().outcome,
        Some(HostOutcome::Exit(ExitStatus::Code(3)))
    ));
    // A refused connection marks the host; a timeout does not.
    assert!(matches!(&s.hosts[1].state, HostState::Failed(c) if c.contains("refused")));
    assert_eq!(s.hosts[2].state, HostState::Idle);
    assert_eq!(s.running(), 0);
    // Events of an older job never count against the current one.
    run(&mut s, "y");
    let _ = update(&mut s, Msg::JobStarted(JobId(2)));
    ev(
        &mut s,
        0,
        1,
        EventKind::Exit {
            status: ExitStatus::Code(0),
            elapsed: Duration::ZERO,
        },
    );
    assert_eq!(s.running(), 3);
}

#[test]
fn quitting_asks_while_running_and_ctrl_x_cancels() {
    let mut s = state();
    assert!(matches!(ctrl(&mut s, 'x').as_slice(), []));
    run(&mut s, "sleep 9");
    s.focus = Focus::Hosts;
    assert!(key(&mut s, KeyCode::Char('q')).is_empty());
    assert_eq!(s.overlay, Overlay::ConfirmQuit);
    key(&mut s, KeyCode::Char('n'));
    assert_eq!(s.overlay, Overlay::None);
    assert!(matches!(
        ctrl(&mut s, 'x').as_slice(),
        [Effect::Cancel(JobId(1))]
    ));
    ctrl(&mut s, 'c');
    assert!(matches!(
        key(&mut s, KeyCode::Char('y')).as_slice(),
        [Effect::Quit]
    ));
}

#[test]
fn tab_cycles_focus_and_help_toggles() {
    let mut s = state();
    key(&mut s, KeyCode::Tab);
    assert_eq!(s.focus, Focus::Output);
    key(&mut s, KeyCode::Tab);
    assert_eq!(s.focus, Focus::Command);
    let _ = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)),
    );
    assert_eq!(s.focus, Focus::Output);
    key(&mut s, KeyCode::Char('?'));
    assert_eq!(s.overlay, Overlay::Help);
    key(&mut s, KeyCode::Esc);
    assert_eq!(s.overlay, Overlay::None);
}

#[test]
fn host_key_dialog_answers() {
    let mut s = state();
    let _ = update(
        &mut s,
        Msg::Prompt {
            id: 7,
            question: Question::HostKey {
                host: "web1".into(),
                key_type: "ssh-ed25519".into(),
                fingerprint: "SHA256:abc".into(),
                save_to: "/kh".into(),
            },
        },
    );
    assert!(s.hosts[0].auth_needed);
    // Other keys are swallowed by the dialog.
    assert!(key(&mut s, KeyCode::Char('q')).is_empty());
    let fx = key(&mut s, KeyCode::Char('s'));
    assert!(matches!(
        fx.as_slice(),
        [Effect::Answer {
            id: 7,
            answer: Answer::HostKey(HostKeyDecision::AcceptAndSave)
        }]
    ));
    assert!(s.prompts.is_empty());
    assert!(!s.hosts[0].auth_needed);
}

#[test]
fn password_dialog_masks_and_answers() {
    let mut s = state();
    let _ = update(
        &mut s,
        Msg::Prompt {
            id: 1,
            question: Question::Password {
                user: "ops".into(),
                host: "db1".into(),
                retry: false,
            },
        },
    );
    typ(&mut s, "hunter2");
    let fx = key(&mut s, KeyCode::Enter);
    match fx.as_slice() {
        [
            Effect::Answer {
                id: 1,
                answer: Answer::Secret(pw),
            },
        ] => assert_eq!(pw.as_str(), "hunter2"),
        other => panic!("{other:?}"),
    }
    let _ = update(
        &mut s,
        Msg::Prompt {
            id: 2,
            question: Question::Passphrase {
                key: "/k".into(),
                retry: false,
            },
        },
    );
    assert!(matches!(
        key(&mut s, KeyCode::Esc).as_slice(),
        [Effect::Answer {
            id: 2,
            answer: Answer::Cancel
        }]
    ));
}

#[test]
fn mouse_click_selects_and_wheel_scrolls() {
    let mut s = state();
    s.focus = Focus::Command;
    // Row 0 is the border; rows: db header (1), db1 (2), web header (3), web1 (4)
    let click = MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 3,
        row: 4,
        modifiers: KeyModifiers::NONE,
    };
    let _ = update(&mut s, Msg::Mouse(click));
    assert_eq!(s.focus, Focus::Hosts);
    assert_eq!(names(&s), ["web1"]);
    run(&mut s, "seq 100");
    for i in 0..100 {
        ev(
            &mut s,
            0,
            1,
            EventKind::Stdout(Bytes::from(format!("{i}\n"))),
        );
    }
    let wheel = MouseEvent {
        kind: MouseEventKind::ScrollUp,
        column: 60,
        row: 3,
        modifiers: KeyModifiers::NONE,
    };
    let _ = update(&mut s, Msg::Mouse(wheel));
    assert_eq!(s.deck.panes.scroll.get(&0), Some(&3));
}

#[test]
fn gathered_view_groups_and_diffs() {
    let mut s = state();
    run(&mut s, "cat /etc/x");
    ev(
        &mut s,
        0,
        1,
        EventKind::Stdout(Bytes::from_static(b"a\nb\n")),
    );
    ev(
        &mut s,
        1,
        1,
        EventKind::Stdout(Bytes::from_static(b"a\nb\n")),
    );
    ev(
        &mut s,
        2,
        1,
        EventKind::Stdout(Bytes::from_static(b"a\nB\n")),
    );
    for h in 0..3 {
        ev(
            &mut s,
            h,
            1,
            EventKind::Exit {
                status: ExitStatus::Code(0),
                elapsed: Duration::ZERO,
            },
        );
    }
    let groups = sshdeck::app::gather::groups(&s);
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].hosts, vec![0, 1]);
    assert_eq!(groups[1].hosts, vec![2]);
    s.focus = Focus::Output;
    key(&mut s, KeyCode::Char('b'));
    assert!(s.deck.panes.gathered);
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Char('d'));
    assert!(s.deck.panes.show_diff);
    assert_eq!(s.deck.panes.gathered_cursor, 1);
}

/// The gathered view orders groups as `sshdeck run -b` does: largest
/// first, even when it failed; groups of one size by their hosts' node
/// set, not by outcome.
#[test]
fn gathered_view_orders_groups_as_run_b_does() {
    let end = |s: &mut AppState, h: usize, code: u32| {
        ev(
            s,
            h,
            1,
            EventKind::Exit {
                status: ExitStatus::Code(code),
                elapsed: Duration::ZERO,
            },
        )
    };
    let mut s = state();
    run(&mut s, "check");
    // web1 exit 0, web2 exit 3, db1 exit 2: exit codes from the lowest.
    for (h, code) in [(0, 0), (1, 3), (2, 2)] {
        end(&mut s, h, code);
    }
    let hosts: Vec<Vec<usize>> = sshdeck::app::gather::groups(&s)
        .into_iter()
        .map(|g| g.hosts)
        .collect();
    assert_eq!(hosts, [vec![0], vec![2], vec![1]]);

    let mut s = state();
    run(&mut s, "check");
    // Two failed, one succeeded: the success leads, as in clush -b, and
    // the larger failure is still what the others are compared with.
    for (h, code) in [(0, 0), (1, 1), (2, 1)] {
        end(&mut s, h, code);
    }
    let groups = sshdeck::app::gather::groups(&s);
    assert_eq!(groups[0].outcome, "exit 0");
    assert_eq!(groups[1].outcome, "exit 1");
    assert_eq!(groups[1].hosts, vec![1, 2]);
    assert_eq!(sshdeck::app::gather::largest_group(&groups), Some(1));
}

/// Hosts are grouped by all they sent, not by what their scrollback (100
/// lines here) still holds: a difference that scrolled away still splits.
#[test]
fn gathered_view_groups_by_the_whole_output() {
    let mut s = state();
    run(&mut s, "seq");
    for h in 0..3 {
        let text: String = (0..150)
            .map(|i| {
                if h == 2 && i == 5 {
                    "five\n".to_string()
                } else {
                    format!("{i}\n")
                }
            })
            .collect();
        ev(&mut s, h, 1, EventKind::Stdout(Bytes::from(text)));
        ev(
            &mut s,
            h,
            1,
            EventKind::Exit {
                status: ExitStatus::Code(0),
                elapsed: Duration::ZERO,
            },
        );
    }
    // The visible parts are the same...
    assert_eq!(s.outputs[0].plain_text(), s.outputs[2].plain_text());
    // ...the outputs are not.
    let groups = sshdeck::app::gather::groups(&s);
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert_eq!(groups[0].hosts, vec![0, 1]);
    assert_eq!(groups[1].hosts, vec![2]);
    assert!(groups[0].partial && groups[1].partial);
}

#[test]
fn output_search_moves_the_view() {
    let mut s = state();
    run(&mut s, "seq");
    for i in 0..50 {
        ev(
            &mut s,
            0,
            1,
            EventKind::Stdout(Bytes::from(format!("line {i}\n"))),
        );
    }
    s.focus = Focus::Output;
    key(&mut s, KeyCode::Char('/'));
    typ(&mut s, "line 10");
    key(&mut s, KeyCode::Enter);
    // Line 10 of 50 is on screen (the view stops at the oldest line, so
    // it need not be at the bottom), and marked for highlighting.
    assert!(with_lines(&s, 0, |v, off| v.shows(off, 10)));
    assert!(s.deck.panes.scroll.contains_key(&0));
    assert_eq!(s.deck.panes.hit, Some((0, 10)));
    key(&mut s, KeyCode::End);
    assert_eq!(s.deck.panes.scroll.get(&0), None);
}

/// `s` on an output pane asks where to save it: a dated name under the
/// current directory, editable; Esc writes nothing; Enter asks the runner
/// to write the header and the pane's plain text.
#[test]
fn saving_a_pane_asks_for_the_path_prefilled_and_esc_cancels() {
    use sshdeck::app::state::LineInput;
    let mut s = state();
    // 2026-11-21 10:00:05 UTC
    s.clock = || 1_795_255_205;
    run(&mut s, "uptime");
    ev(
        &mut s,
        0,
        1,
        EventKind::Stdout(Bytes::from("up \x1b[1m3\x1b[0m days\n")),
    );
    ev(
        &mut s,
        0,
        1,
        EventKind::Exit {
            status: ExitStatus::Code(3),
            elapsed: Duration::ZERO,
        },
    );
    s.focus = Focus::Output;
    assert!(
        key(&mut s, KeyCode::Char('s')).is_empty(),
        "nothing written yet"
    );
    let Some((LineInput::Save { host: 0 }, area)) = &s.deck.input else {
        panic!("no save dialog");
    };
    assert_eq!(area.lines()[0], "./sshdeck-web1-20261121-100005.log");
    let screen = {
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
        t.draw(|f| sshdeck::ui::render(f, &s)).unwrap();
        format!("{}", t.backend())
    };
    assert!(
        screen.contains("./sshdeck-web1-20261121-100005.log"),
        "{screen}"
    );
    assert!(key(&mut s, KeyCode::Esc).is_empty());
    assert!(s.deck.input.is_none(), "Esc closes the dialog");
    // Edited: the name's end replaced.
    key(&mut s, KeyCode::Char('s'));
    for _ in 0.."20261121-100005.log".len() {
        key(&mut s, KeyCode::Backspace);
    }
    typ(&mut s, "mine.txt");
    let e = key(&mut s, KeyCode::Enter);
    let [Effect::Save(req)] = e.as_slice() else {
        panic!("Enter saves: {e:?}");
    };
    assert_eq!(req.path, "./sshdeck-web1-mine.txt");
    assert_eq!(
        req.header,
        "# sshdeck · host web1 · command: uptime · 2026-11-21 10:00:05 UTC · exit 3"
    );
    assert_eq!(req.text, "up 3 days\n", "no control sequences");
    assert!(s.deck.input.is_none());
}

/// 301 lines, `/201`: the match is on screen, not under the scroll note
/// (which is on the border now); `n` goes on from the match to the next.
#[test]
fn search_lands_on_screen_and_n_continues() {
    let hosts = vec![("web1".to_string(), vec!["web".to_string()])];
    // A scrollback that holds all 301 lines.
    let mut s = AppState::new(hosts, BTreeMap::new(), 1000);
    let _ = update(&mut s, Msg::Resize(120, 40));
    run(&mut s, "seq 1 301");
    let text: String = (1..=301).map(|i| format!("{i}\n")).collect();
    ev(&mut s, 0, 1, EventKind::Stdout(Bytes::from(text)));
    s.focus = Focus::Output;
    key(&mut s, KeyCode::Char('/'));
    typ(&mut s, "201");
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.status.as_deref(), Some("match on line 201 of 301"));
    assert!(with_lines(&s, 0, |v, off| v.shows(off, 200)));
    // "201" is also in no other line; "20" is in 20, 120, 200..209, ...
    key(&mut s, KeyCode::Char('/'));
    typ(&mut s, "20");
    key(&mut s, KeyCode::Enter);
    let first = s.deck.panes.hit.map(|(_, i)| i);
    key(&mut s, KeyCode::Char('n'));
    let second = s.deck.panes.hit.map(|(_, i)| i);
    assert!(
        first.is_some() && second > first,
        "{first:?} then {second:?}"
    );
    let line = second.unwrap_or(0);
    assert!(with_lines(&s, 0, |v, off| v.shows(off, line)));
    key(&mut s, KeyCode::Char('N'));
    assert_eq!(s.deck.panes.hit.map(|(_, i)| i), first);
    // Home stops with the oldest line on the top row, never past it.
    key(&mut s, KeyCode::Home);
    assert!(with_lines(&s, 0, |v, off| v.top(v.bottom(off).unwrap())
        == 0
        && v.shows(off, 1)));
}

/// The files tab, driven by messages: listings in, effects out.
mod files_tab {
    use super::*;
    use sshdeck::app::files::state::Side;
    use sshdeck::app::msg::{FileOp, Listing, TransferAction};
    use sshdeck::engine::files::copy_job::Direction;
    use sshdeck::engine::files::fs::{FileEntry, FileKind};
    use sshdeck::engine::files::queue::{HostView, JobState, JobView};

    fn entry(name: &str, kind: FileKind) -> FileEntry {
        FileEntry {
            name: sshdeck::engine::files::name::Name::parse(name).unwrap(),
            kind,
            size: 10,
            mode: 0o644,
            mtime: Some(1),
            to_dir: false,
        }
    }

    fn listed(s: &mut AppState, pane: usize, request: u64, dir: &str, names: &[(&str, FileKind)]) {
        let _ = update(
            s,
            Msg::Listed {
                pane,
                request,
                result: Ok(Listing {
                    dir: dir.into(),
                    entries: names.iter().map(|(n, k)| entry(n, *k)).collect(),
                    refused: 0,
                    from: None,
                    home: Some("/home/u".into()),
                }),
            },
        );
    }

    fn open() -> AppState {
        let mut s = state();
        key(&mut s, KeyCode::Char('a'));
        let e = key(&mut s, KeyCode::F(2));
        assert!(matches!(
            e.as_slice(),
            [
                Effect::List {
                    pane: 0,
                    dir: None,
                    ..
                },
                Effect::List {
                    pane: 1,
                    dir: None,
                    ..
                }
            ]
        ));
        listed(
            &mut s,
            0,
            1,
            "/tmp/l",
            &[("src", FileKind::Dir), ("a.txt", FileKind::File)],
        );
        listed(&mut s, 1, 1, "/home/u", &[("etc", FileKind::Dir)]);
        s
    }

    #[test]
    fn entering_a_directory_lists_it_and_stale_answers_are_dropped() {
        let mut s = open();
        let e = key(&mut s, KeyCode::Enter);
        let [
            Effect::List {
                pane: 0,
                dir: Some(d),
                request: 2,
                ..
            },
        ] = e.as_slice()
        else {
            panic!("{e:?}");
        };
        assert_eq!(d, "/tmp/l/src");
        // An answer to the first request arriving late changes nothing.
        listed(&mut s, 0, 1, "/elsewhere", &[]);
        assert_eq!(s.files.panes[0].cwd, "/tmp/l");
        listed(&mut s, 0, 2, "/tmp/l/src", &[("x", FileKind::File)]);
        assert_eq!(s.files.panes[0].cwd, "/tmp/l/src");
        // Going up puts the cursor back on the directory we left.
        key(&mut s, KeyCode::Backspace);
        listed(
            &mut s,
            0,
            3,
            "/tmp/l",
            &[("src", FileKind::Dir), ("a.txt", FileKind::File)],
        );
        assert_eq!(s.files.panes[0].current().unwrap().name, "src");
        assert_eq!(
            s.files.panes[0].recent[..2],
            ["/tmp/l".to_string(), "/tmp/l/src".into()]
        );
    }

    #[test]
    fn copy_by_key_queues_a_put_to_every_selected_host() {
        let mut s = open();
        key(&mut s, KeyCode::Down);
        let e = key(&mut s, KeyCode::F(5));
        let [Effect::Transfer(r)] = e.as_slice() else {
            panic!("{e:?}");
        };
        assert_eq!(r.hosts, [0, 1, 2]);
        assert_eq!(r.spec.dir, Direction::Put);
        assert_eq!(r.spec.sources, ["/tmp/l/a.txt"]);
        assert_eq!(r.spec.dest, ".", "relative to each host's home");
        assert!(!r.remove_sources);
    }

    /// A pane on one host, the other on the selected hosts: a copy goes
    /// host to host (relayed), never back onto the source.
    #[test]
    fn copy_between_two_host_panes_goes_host_to_host() {
        let mut s = open();
        s.files.panes[0].side = Side::Host(1);
        key(&mut s, KeyCode::Down);
        let e = key(&mut s, KeyCode::F(5));
        let [Effect::Transfer(r)] = e.as_slice() else {
            panic!("{e:?}");
        };
        assert_eq!(r.relay_from, Some(1));
        assert_eq!(r.hosts, [0, 2], "the source is not a destination");
        assert_eq!(r.spec.sources, ["/tmp/l/a.txt"]);
        assert!(
            r.title.starts_with("copy web2 → 3 selected hosts"),
            "{}",
            r.title
        );
        // A move between hosts is refused with what to do instead.
        assert!(key(&mut s, KeyCode::F(6)).is_empty());
        assert!(
            s.status
                .as_deref()
                .unwrap_or("")
                .contains("copy (F5), then delete")
        );
        // Many hosts as the source: one at a time.
        s.files.panes[0].side = Side::Selected;
        s.files.panes[1].side = Side::Host(0);
        assert!(key(&mut s, KeyCode::F(5)).is_empty());
        assert!(
            s.status
                .as_deref()
                .unwrap_or("")
                .contains("one host at a time")
        );
    }

    #[test]
    fn operations_ask_and_validate() {
        let mut s = open();
        key(&mut s, KeyCode::Down);
        assert!(key(&mut s, KeyCode::F(8)).is_empty(), "delete asks first");
        assert!(key(&mut s, KeyCode::Char('n')).is_empty());
        key(&mut s, KeyCode::F(8));
        let e = key(&mut s, KeyCode::Char('y'));
        assert!(matches!(
            e.as_slice(),
            [Effect::FileOp { op: FileOp::Delete { dir, names }, .. }]
                if dir == "/tmp/l" && names.len() == 1 && names[0] == "a.txt"
        ));
        key(&mut s, KeyCode::Char('p'));
        for _ in 0..3 {
            key(&mut s, KeyCode::Backspace);
        }
        typ(&mut s, "9z");
        assert!(key(&mut s, KeyCode::Enter).is_empty());
        assert!(
            s.status
                .as_deref()
                .unwrap_or("")
                .contains("not an octal mode")
        );
        key(&mut s, KeyCode::Char('p'));
        for _ in 0..3 {
            key(&mut s, KeyCode::Backspace);
        }
        typ(&mut s, "600");
        let e = key(&mut s, KeyCode::Enter);
        assert!(matches!(
            e.as_slice(),
            [Effect::FileOp {
                op: FileOp::Chmod { mode: 0o600, .. },
                ..
            }]
        ));
    }

    #[test]
    fn transfers_panel_pauses_and_quitting_asks_while_transfers_run() {
        let mut s = open();
        let job = JobView {
            id: 7,
            title: "put".into(),
            dir: Direction::Put,
            dest: ".".into(),
            state: JobState::Running,
            active: Duration::from_secs(1),
            hosts: vec![HostView {
                label: "web1".into(),
                done: 1,
                total: 2,
                files_started: 1,
                current: "a".into(),
                result: None,
            }],
            note: None,
        };
        let _ = update(&mut s, Msg::Transfer(job.clone()));
        key(&mut s, KeyCode::Char('t'));
        let e = key(&mut s, KeyCode::Char('p'));
        assert!(matches!(
            e.as_slice(),
            [Effect::TransferCtl {
                id: 7,
                action: TransferAction::Pause
            }]
        ));
        key(&mut s, KeyCode::Esc);
        assert!(key(&mut s, KeyCode::Char('q')).is_empty());
        assert_eq!(s.overlay, Overlay::ConfirmQuit);
        key(&mut s, KeyCode::Char('n'));
        // A finished job lists both panes again and says so.
        let e = update(
            &mut s,
            Msg::Transfer(JobView {
                state: JobState::Done,
                ..job
            }),
        );
        assert_eq!(e.len(), 2);
        assert!(s.status.as_deref().unwrap_or("").contains("done on 1 host"));
        assert!(matches!(
            key(&mut s, KeyCode::Char('q')).as_slice(),
            [Effect::Quit]
        ));
    }

    fn job(id: u64, state: JobState, done: u64) -> JobView {
        JobView {
            id,
            title: format!("put #{id}"),
            dir: Direction::Put,
            dest: ".".into(),
            state,
            active: Duration::from_secs(1),
            hosts: vec![HostView {
                label: "web1".into(),
                done,
                total: 100,
                files_started: 1,
                current: "a".into(),
                result: None,
            }],
            note: None,
        }
    }

    fn ctl(e: &[Effect]) -> Vec<(u64, TransferAction)> {
        e.iter()
            .filter_map(|e| match e {
                Effect::TransferCtl { id, action } => Some((*id, *action)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_transfers_panel_opens_on_the_running_job_else_the_newest() {
        let mut s = open();
        for (id, st) in [
            (1, JobState::Done),
            (2, JobState::Running),
            (3, JobState::Queued),
        ] {
            let _ = update(&mut s, Msg::Transfer(job(id, st, 10)));
        }
        key(&mut s, KeyCode::Char('t'));
        assert!(s.files.transfers_focused);
        // x reaches the running job, not the oldest finished one.
        assert_eq!(
            ctl(&key(&mut s, KeyCode::Char('x'))),
            vec![(2, TransferAction::Cancel)]
        );
        key(&mut s, KeyCode::Esc);
        // Nothing running: the newest.
        let _ = update(&mut s, Msg::Transfer(job(2, JobState::Done, 100)));
        key(&mut s, KeyCode::Char('t'));
        assert_eq!(s.files.selected_transfer(), Some(3));
    }

    #[test]
    fn a_cancelled_transfer_resumes_with_r_and_clearing_forgets_it() {
        let mut s = open();
        let _ = update(&mut s, Msg::Transfer(job(4, JobState::Running, 40)));
        key(&mut s, KeyCode::Char('t'));
        let _ = update(&mut s, Msg::Transfer(job(4, JobState::Cancelled, 40)));
        let status = s.status.clone().unwrap_or_default();
        assert!(status.starts_with("cancelled"), "{status}");
        assert!(!status.contains("FAILED"), "{status}");
        assert_eq!(
            ctl(&key(&mut s, KeyCode::Char('R'))),
            vec![(4, TransferAction::Resume)]
        );
        // A done job is not retried, and says which are.
        let _ = update(&mut s, Msg::Transfer(job(4, JobState::Done, 100)));
        assert!(key(&mut s, KeyCode::Char('R')).is_empty());
        let status = s.status.clone().unwrap_or_default();
        assert!(status.contains("failed or cancelled"), "{status}");
        // Clearing finished jobs has the queue forget them (and their spools).
        let _ = update(&mut s, Msg::Transfer(job(5, JobState::Running, 1)));
        assert_eq!(
            ctl(&key(&mut s, KeyCode::Char('D'))),
            vec![(4, TransferAction::Forget)]
        );
        assert_eq!(s.files.transfers.len(), 1);
    }

    #[test]
    fn transfer_counts_read_in_singular_and_plural() {
        use sshdeck::app::files::transfers::summary;
        let mut s = open();
        assert_eq!(summary(&s.files), None);
        let _ = update(&mut s, Msg::Transfer(job(1, JobState::Running, 1)));
        assert_eq!(summary(&s.files).as_deref(), Some("1 transfer running"));
        let _ = update(&mut s, Msg::Transfer(job(1, JobState::Queued, 1)));
        let _ = update(&mut s, Msg::Transfer(job(2, JobState::Queued, 1)));
        assert_eq!(summary(&s.files).as_deref(), Some("2 transfers queued"));
        let _ = update(&mut s, Msg::Transfer(job(3, JobState::Running, 1)));
        let _ = update(&mut s, Msg::Transfer(job(4, JobState::Running, 1)));
        let _ = update(&mut s, Msg::Transfer(job(2, JobState::Done, 100)));
        assert_eq!(
            summary(&s.files).as_deref(),
            Some("3 transfers: 2 running, 1 queued")
        );
        // A pane on the selection with nothing selected names no count.
        key(&mut s, KeyCode::F(2));
        key(&mut s, KeyCode::Char('n'));
        assert_eq!(
            sshdeck::app::files::side_label(&s, Side::Selected),
            "no hosts selected"
        );
    }
}

#[test]
fn clicking_the_tab_labels_switches_tabs() {
    let mut s = state();
    let click = |col| {
        Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: col,
            row: 39,
            modifiers: KeyModifiers::NONE,
        })
    };
    let e = update(&mut s, click(9));
    assert_eq!(s.view, sshdeck::app::state::View::Files);
    // Nothing selected: only the local pane is listed; the hosts pane says why.
    assert!(
        matches!(e.as_slice(), [Effect::List { pane: 0, .. }]),
        "{e:?}"
    );
    let why = s.files.panes[1].error.clone().unwrap_or_default();
    assert!(why.contains("no hosts selected"), "{why}");
    let _ = update(&mut s, click(2));
    assert_eq!(s.view, sshdeck::app::state::View::Deck);
}

/// Run `cmd` on all three hosts; web2 exits 1, db1 cannot connect.
fn ran_with_failures(s: &mut AppState, cmd: &str) {
    run(s, cmd);
    ev(s, 0, 1, EventKind::Stdout(Bytes::from_static(b"ok\n")));
    ev(
        s,
        0,
        1,
        EventKind::Exit {
            status: ExitStatus::Code(0),
            elapsed: Duration::ZERO,
        },
    );
    ev(
        s,
        1,
        1,
        EventKind::Exit {
            status: ExitStatus::Code(1),
            elapsed: Duration::ZERO,
        },
    );
    ev(
        s,
        2,
        1,
        EventKind::Failed {
            error: HostError::Cancelled,
            elapsed: Duration::ZERO,
        },
    );
}

#[test]
fn rerun_failed_runs_the_last_command_on_exactly_the_failed_hosts() {
    let mut s = state();
    ran_with_failures(&mut s, "systemctl restart app");
    s.focus = Focus::Hosts;
    let fx = key(&mut s, KeyCode::Char('R'));
    match fx.as_slice() {
        [Effect::Exec { hosts, command, .. }, ..] => {
            assert_eq!(hosts, &vec![1, 2]);
            assert_eq!(command, "systemctl restart app");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(names(&s), ["web2", "db1"]);
    // Nothing failed: R says so and runs nothing.
    let _ = update(&mut s, Msg::JobStarted(JobId(2)));
    for h in [1, 2] {
        ev(
            &mut s,
            h,
            2,
            EventKind::Exit {
                status: ExitStatus::Code(0),
                elapsed: Duration::ZERO,
            },
        );
    }
    assert!(key(&mut s, KeyCode::Char('R')).is_empty());
    assert!(s.status.as_deref().unwrap_or("").contains("no host failed"));
}

#[test]
fn the_gathered_view_selects_a_group_or_everything_outside_the_largest() {
    let mut s = state();
    ran_with_failures(&mut s, "check");
    s.focus = Focus::Output;
    key(&mut s, KeyCode::Char('b'));
    // Three groups of one: the cursor's group is the first.
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.selected().len(), 1);
    assert_eq!(s.focus, Focus::Command);
    s.focus = Focus::Output;
    key(&mut s, KeyCode::Char('o'));
    assert_eq!(s.selected().len(), 2, "everyone but the largest group");
    // The selection is what the next command runs on.
    s.focus = Focus::Command;
    typ(&mut s, "uptime");
    let fx = key(&mut s, KeyCode::Enter);
    assert!(matches!(&fx[..], [Effect::Exec { hosts, .. }, ..] if hosts.len() == 2));
}

#[test]
fn ctrl_r_finds_older_commands_and_a_leading_space_is_not_saved() {
    let mut s = state();
    s.deck.history = vec![
        "df -h".into(),
        "systemctl status nginx".into(),
        "uptime".into(),
    ];
    s.focus = Focus::Command;
    ctrl(&mut s, 'r');
    typ(&mut s, "st");
    assert_eq!(s.deck.command.lines(), ["systemctl status nginx"]);
    // Esc keeps the match to edit.
    key(&mut s, KeyCode::Esc);
    assert_eq!(s.deck.command.lines(), ["systemctl status nginx"]);
    // Ctrl-G gives up and puts back what was being typed.
    ctrl(&mut s, 'r');
    typ(&mut s, "df");
    assert_eq!(s.deck.command.lines(), ["df -h"]);
    ctrl(&mut s, 'g');
    assert!(s.deck.history_search.is_none());
    assert_eq!(s.deck.command.lines(), ["systemctl status nginx"]);
    // A command typed with a leading space runs but is not kept.
    s.deck.command = sshdeck::app::state::new_command_area();
    s.focus = Focus::Hosts;
    key(&mut s, KeyCode::Char('a'));
    s.focus = Focus::Command;
    typ(&mut s, " export TOKEN=hunter2");
    let fx = key(&mut s, KeyCode::Enter);
    assert!(matches!(&fx[..], [Effect::Exec { .. }]), "{fx:?}");
    assert!(!s.deck.history.iter().any(|c| c.contains("hunter2")));
}

#[test]
fn rerun_failed_keeps_what_was_being_typed() {
    let mut s = state();
    ran_with_failures(&mut s, "make deploy");
    s.focus = Focus::Command;
    typ(&mut s, "half-typ");
    s.focus = Focus::Hosts;
    let fx = key(&mut s, KeyCode::Char('R'));
    assert!(
        matches!(&fx[..], [Effect::Exec { command, .. }, ..] if command == "make deploy"),
        "{fx:?}"
    );
    assert_eq!(s.deck.command.lines(), ["half-typ"]);
}

#[test]
fn the_end_of_a_command_on_every_host_is_recorded_for_the_next_run() {
    let mut s = state();
    run(&mut s, "check");
    ev(
        &mut s,
        0,
        1,
        EventKind::Exit {
            status: ExitStatus::Code(0),
            elapsed: Duration::ZERO,
        },
    );
    ev(
        &mut s,
        1,
        1,
        EventKind::Exit {
            status: ExitStatus::Code(2),
            elapsed: Duration::ZERO,
        },
    );
    let fx = update(
        &mut s,
        Msg::Engine(Event {
            host: HostId(2),
            job: JobId(1),
            kind: EventKind::Failed {
                error: HostError::Cancelled,
                elapsed: Duration::ZERO,
            },
        }),
    );
    match fx.as_slice() {
        [Effect::RecordRun { command, hosts }] => {
            assert_eq!(command, "check");
            let oks: Vec<(usize, Option<bool>)> = hosts
                .iter()
                .map(|h| (h.0, h.1.as_ref().map(HostOutcome::ok)))
                .collect();
            assert_eq!(oks, [(0, Some(true)), (1, Some(false)), (2, Some(false))]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_question_whose_host_has_gone_leaves_the_screen_with_it() {
    let mut s = state();
    for (id, host) in [(7, "web1"), (8, "web2")] {
        let _ = update(
            &mut s,
            Msg::Prompt {
                id,
                question: Question::HostKey {
                    host: host.into(),
                    key_type: "ssh-ed25519".into(),
                    fingerprint: "SHA256:abc".into(),
                    save_to: "/kh".into(),
                },
            },
        );
    }
    let _ = update(&mut s, Msg::PromptGone(7));
    let left: Vec<u64> = s.prompts.iter().map(|p| p.id).collect();
    assert_eq!(left, [8], "only the withdrawn question goes");
    let status = s.status.clone().unwrap_or_default();
    assert!(
        status.contains("web1") && status.contains("withdrawn"),
        "{status}"
    );
    // An unknown id changes nothing.
    let _ = update(&mut s, Msg::PromptGone(99));
    assert_eq!(s.prompts.len(), 1);
}
