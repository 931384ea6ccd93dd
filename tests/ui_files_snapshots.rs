//! The files tab through ratatui's TestBackend, compared with insta
//! snapshots: panes with columns, marks and a hostile file name, transfer
//! progress (rate, ETA, per-host rows, a failure with its cause), the
//! conflict question, and the drop hint while dragging.

use crate::support;

use std::collections::BTreeMap;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sshdeck::app::msg::Listing;
use sshdeck::app::{AppState, Effect, Msg, update};
use sshdeck::engine::files::copy_job::Direction;
use sshdeck::engine::files::fs::{FileEntry, FileKind};
use sshdeck::engine::files::queue::{HostView, JobState, JobView};
use sshdeck::engine::files::tree::Totals;

const MIB: u64 = 1 << 20;
/// 2026-11-21 10:00 UTC
const T: u64 = 1_795_255_200;

fn draw(s: &AppState) -> String {
    let mut t = Terminal::new(TestBackend::new(s.size.0, s.size.1)).unwrap();
    t.draw(|f| sshdeck::ui::render(f, s)).unwrap();
    format!("{}", t.backend())
}

fn key(s: &mut AppState, code: KeyCode) -> Vec<Effect> {
    update(s, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn entry(name: &str, kind: FileKind, size: u64, mode: u32) -> FileEntry {
    FileEntry {
        name: sshdeck::engine::files::name::Name::parse(name).unwrap(),
        kind,
        size,
        mode,
        mtime: Some(T - size % 1000 * 60),
        to_dir: false,
    }
}

/// Three selected hosts, the files tab open, both panes listed.
fn files_tab(w: u16, h: u16) -> AppState {
    let hosts = ["web01", "web02", "db01"]
        .iter()
        .map(|n| (n.to_string(), vec![]))
        .collect();
    let mut s = AppState::new(hosts, BTreeMap::new(), 100);
    let _ = update(&mut s, Msg::Resize(w, h));
    key(&mut s, KeyCode::Char('a'));
    let effects = key(&mut s, KeyCode::F(2));
    assert_eq!(effects.len(), 2, "opening the tab lists both panes");
    let local = vec![
        entry("build", FileKind::Dir, 4096, 0o755),
        entry("app.tar.gz", FileKind::File, 300 * MIB, 0o644),
        entry("deploy.sh", FileKind::File, 1_234, 0o755),
        entry("notes.md", FileKind::File, 88, 0o600),
        entry(".env", FileKind::File, 12, 0o600),
    ];
    let remote = vec![
        entry("releases", FileKind::Dir, 4096, 0o755),
        entry("current", FileKind::Symlink, 24, 0o777),
        entry("app.tar.gz", FileKind::File, 12 * MIB, 0o644),
        entry(
            "evil\x1b[2J\x1b]52;c;aGk=\x07name",
            FileKind::File,
            5,
            0o644,
        ),
    ];
    for (pane, dir, entries, from) in [
        (0, "/home/me/project", local, None),
        (1, "/srv/app", remote, Some("web01".to_string())),
    ] {
        let _ = update(
            &mut s,
            Msg::Listed {
                pane,
                request: 1,
                result: Ok(Listing {
                    dir: dir.into(),
                    entries,
                    refused: 0,
                    from,
                    home: None,
                }),
            },
        );
    }
    s
}

fn job(id: u64, state: JobState, hosts: Vec<HostView>, secs: u64) -> JobView {
    JobView {
        id,
        title: format!("put 3 selected hosts: app.tar.gz → /srv/app #{id}"),
        dir: Direction::Put,
        dest: "/srv/app".into(),
        state,
        active: Duration::from_secs(secs),
        hosts,
        note: None,
    }
}

fn host(label: &str, done: u64, result: Option<Result<Totals, String>>) -> HostView {
    HostView {
        label: label.into(),
        done,
        total: 300 * MIB,
        files_started: 1,
        current: "/srv/app/app.tar.gz".into(),
        result,
    }
}

#[test]
fn files_tab_with_marks_and_transfers_120x32() {
    let mut s = files_tab(120, 32);
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Char(' '));
    key(&mut s, KeyCode::Char(' '));
    let ok = Totals {
        files: 1,
        bytes: 300 * MIB,
        ..Totals::default()
    };
    let _ = update(
        &mut s,
        Msg::Transfer(job(
            1,
            JobState::Running,
            vec![
                host("web01", 150 * MIB, None),
                host("web02", 300 * MIB, Some(Ok(ok.clone()))),
                host("db01", 90 * MIB, None),
            ],
            4,
        )),
    );
    let _ = update(
        &mut s,
        Msg::Transfer(job(
            2,
            JobState::Failed,
            vec![
                host("web01", 300 * MIB, Some(Ok(ok))),
                host(
                    "db01",
                    0,
                    Some(Err(
                        "db01:/srv/app/.app.tar.gz.sshdeck-part: Permission denied".into(),
                    )),
                ),
            ],
            3,
        )),
    );
    let screen = draw(&s);
    assert!(
        !screen.contains('\u{1b}'),
        "a hostile name never reaches the terminal"
    );
    support::assert_snapshot!("files_tab_with_marks_and_transfers_120x32", screen);
}

#[test]
fn conflict_question_80x24() {
    let mut s = files_tab(80, 24);
    // app.tar.gz exists on the other side: F5 asks first.
    key(&mut s, KeyCode::Down);
    let effects = key(&mut s, KeyCode::F(5));
    assert!(effects.is_empty(), "nothing is queued before the answer");
    support::assert_snapshot!("conflict_question_80x24", draw(&s));
    let effects = key(&mut s, KeyCode::Char('r'));
    let Some(Effect::Transfer(req)) = effects.first() else {
        panic!("answering queues the copy: {effects:?}");
    };
    assert_eq!(req.spec.renames["app.tar.gz"], "app.tar.1.gz");
}

/// Enter in the conflict dialog takes its default, leaving the file out
/// (nothing is overwritten); the dialog says O S R N answer every
/// remaining conflict even when only one is known yet.
#[test]
fn enter_in_the_conflict_dialog_leaves_the_file_out() {
    let mut s = files_tab(80, 24);
    key(&mut s, KeyCode::Down);
    let _ = key(&mut s, KeyCode::F(5));
    let screen = draw(&s);
    assert!(
        screen.contains("O S R N answers every remaining"),
        "{screen}"
    );
    let effects = key(&mut s, KeyCode::Enter);
    assert!(s.files.dialog.is_none(), "Enter answered");
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Transfer(_))),
        "the only file was left out: {effects:?}"
    );
}

#[test]
fn drop_hint_while_dragging_80x24() {
    let mut s = files_tab(80, 24);
    let mouse = |kind, column, row| {
        Msg::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    // Row 4 is the second entry (border, header, first entry above it).
    let _ = update(&mut s, mouse(MouseEventKind::Down(MouseButton::Left), 5, 3));
    let _ = update(
        &mut s,
        mouse(MouseEventKind::Drag(MouseButton::Left), 50, 8),
    );
    support::assert_snapshot!("drop_hint_while_dragging_80x24", draw(&s));
    let effects = update(&mut s, mouse(MouseEventKind::Up(MouseButton::Left), 50, 8));
    // app.tar.gz exists on the other side, so the drop asks first.
    assert!(effects.is_empty());
    assert!(draw(&s).contains("already exists"));
}

#[test]
fn files_help_80x30() {
    let mut s = files_tab(80, 30);
    key(&mut s, KeyCode::Char('?'));
    support::assert_snapshot!("files_help_80x30", draw(&s));
}

#[test]
fn quit_dialog_fits_its_wrapped_lines_80x24() {
    let mut s = files_tab(80, 24);
    let _ = update(
        &mut s,
        Msg::Transfer(job(3, JobState::Running, vec![host("web01", MIB, None)], 1)),
    );
    assert!(key(&mut s, KeyCode::Char('q')).is_empty(), "asks first");
    let screen = draw(&s);
    // The long transfer line wraps; the box grows so the question still shows.
    assert!(screen.contains("1 transfer is not finished"), "{screen}");
    assert!(screen.contains("Quit anyway?  y / n"), "{screen}");
}

/// The panel opened with `t`: on the running job; a cancelled job says
/// "cancelled" (not FAILED) with the key that resumes it, its progress
/// kept; counts read in words.
#[test]
fn transfers_panel_running_cancelled_queued_100x30() {
    let mut s = files_tab(100, 30);
    for (id, state, done) in [
        (1, JobState::Cancelled, 120 * MIB),
        (2, JobState::Running, 200 * MIB),
        (3, JobState::Queued, 0),
    ] {
        let _ = update(
            &mut s,
            Msg::Transfer(job(id, state, vec![host("web01", done, None)], 2)),
        );
    }
    key(&mut s, KeyCode::Char('t'));
    assert_eq!(
        s.files.selected_transfer(),
        Some(2),
        "opens on the running job"
    );
    let screen = draw(&s);
    assert!(!screen.contains("FAILED"), "{screen}");
    assert!(screen.contains("cancelled · R resumes"), "{screen}");
    assert!(
        screen.contains("2 transfers: 1 running, 1 queued"),
        "{screen}"
    );
    support::assert_snapshot!("transfers_panel_running_cancelled_queued_100x30", screen);
}
