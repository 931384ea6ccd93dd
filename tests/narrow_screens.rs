//! Config groups as host-list folders, and what gives way on a narrow
//! screen: fact columns before names, states and results; the command
//! text of a pane title before its counts. TestBackend snapshots, read
//! by eye (tests/snapshots/), plus checks of what must stay on screen.

use crate::support;

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sshdeck::app::state::Focus;
use sshdeck::app::{AppState, Msg, update};
use sshdeck::engine::facts::FactsReport;
use sshdeck::engine::{Event, EventKind, ExitStatus, HostId, JobId};

const COMMAND: &str = "tail -n 50 /var/log/syslog | grep -i error";

/// Eight hosts: web01-06 in the `web` group, web05-06 also in `edge`,
/// db07 tagged `db`, and util08 in neither.
fn state(w: u16, h: u16) -> AppState {
    let hosts = (1..=8)
        .map(|i| match i {
            7 => (format!("db{i:02}"), vec!["db".to_string()]),
            8 => (format!("util{i:02}"), vec![]),
            _ => (format!("web{i:02}"), vec![]),
        })
        .collect();
    let groups: BTreeMap<String, String> = [("web", "web[01-06]"), ("edge", "web[05-06]")]
        .into_iter()
        .map(|(n, e)| (n.to_string(), e.to_string()))
        .collect();
    let mut s = AppState::new(hosts, groups, 1000);
    s.facts_enabled = true;
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

fn facts(s: &mut AppState, h: usize) {
    for (collector, key, value) in [
        ("uptime", "load1", format!("{}.{}0", h % 3, h)),
        ("memory", "used_pct", format!("{}.5", 40 + h * 7)),
        ("disk", "max_used_pct", format!("{}", 50 + h * 6)),
    ] {
        let _ = update(
            s,
            Msg::Facts(FactsReport {
                host: HostId(h),
                collector: collector.into(),
                result: Ok([(key.to_string(), value)].into_iter().collect()),
                elapsed: Duration::from_millis(20),
            }),
        );
    }
}

/// Facts on every host, then COMMAND run on all and finished: exit 0 in
/// a second or so, exit 1 after a minute on two hosts.
fn ran_with_facts(w: u16, h: u16) -> AppState {
    let mut s = state(w, h);
    for h in 0..s.hosts.len() {
        facts(&mut s, h);
    }
    key(&mut s, KeyCode::Char('a'));
    s.focus = Focus::Command;
    for c in COMMAND.chars() {
        key(&mut s, KeyCode::Char(c));
    }
    key(&mut s, KeyCode::Enter);
    let _ = update(&mut s, Msg::JobStarted(JobId(1)));
    for h in 0..s.hosts.len() {
        ev(&mut s, h, EventKind::Connecting);
        ev(&mut s, h, EventKind::Connected);
        let line = format!("{}: no errors\n", s.hosts[h].label);
        ev(&mut s, h, EventKind::Stdout(Bytes::from(line)));
        let (code, ms) = if h % 4 == 1 { (1, 65_000) } else { (0, 1_200) };
        ev(
            &mut s,
            h,
            EventKind::Exit {
                status: ExitStatus::Code(code),
                elapsed: Duration::from_millis(ms),
            },
        );
    }
    s.focus = Focus::Hosts;
    s
}

/// The screen's line that shows `host` in the host list (left pane).
fn host_row<'a>(screen: &'a str, host: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.starts_with("\"│") && l.contains(&format!("] {host}")))
        .unwrap_or_else(|| panic!("{host} not in the host list:\n{screen}"))
}

#[test]
fn facts_give_way_to_results_at_80x24() {
    let s = ran_with_facts(80, 24);
    let screen = draw(&s, 80, 24);
    support::assert_snapshot!("facts_give_way_to_results_at_80x24", screen);
    // Every result is whole: code and time.
    assert!(host_row(&screen, "web01").contains(" 0 1.2s"), "{screen}");
    assert!(host_row(&screen, "web02").contains(" 1 1m05s"), "{screen}");
    // The least important columns went; the first one stayed.
    let top = screen.lines().next().unwrap();
    assert!(top.contains("load") && !top.contains("disk%"), "{top}");
    // The output title keeps its count and page; the command shortens.
    assert!(top.contains("8/8 done · page 1/"), "{top}");
    assert!(top.contains("tail -n") && top.contains('…'), "{top}");
}

#[test]
fn every_fact_column_shows_at_120x40() {
    let s = ran_with_facts(120, 40);
    let screen = draw(&s, 120, 40);
    support::assert_snapshot!("every_fact_column_shows_at_120x40", screen);
    let top = screen.lines().next().unwrap();
    assert!(
        top.contains("load") && top.contains("mem%") && top.contains("disk%"),
        "{top}"
    );
    assert!(host_row(&screen, "web02").contains(" 1 1m05s"), "{screen}");
    // Room for the whole command (up to its first 40 characters).
    assert!(top.contains(&COMMAND[..40]), "{top}");
}

#[test]
fn config_groups_are_folders_in_the_host_list() {
    let mut s = state(80, 24);
    // Fold `edge`: its header stays, its hosts still show under `web`.
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Enter);
    let screen = draw(&s, 80, 24);
    support::assert_snapshot!("config_groups_are_folders_in_the_host_list", screen);
    let order: Vec<usize> = [
        "▾ db (1)",
        "db07",
        "▸ edge (2)",
        "▾ web (6)",
        "web01",
        "web06",
        "▾ (ungrouped) (1)",
        "util08",
    ]
    .iter()
    .map(|t| screen.find(t).unwrap_or_else(|| panic!("{t}:\n{screen}")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{screen}");
}
