//! Facts columns, host info, the command palette and the recipe progress
//! view: pure updates (no IO) and TestBackend snapshots.

use crate::support;

use std::collections::BTreeMap;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use sshdeck::app::state::{Focus, Overlay};
use sshdeck::app::{AppState, Effect, Msg, update};
use sshdeck::engine::facts::{FactError, FactsReport};
use sshdeck::engine::recipe::{Recipe, RecipeEvent, Step, StepState};
use sshdeck::engine::{Event, EventKind, HostId, JobId};

fn state(n: usize, w: u16, h: u16) -> AppState {
    let hosts = (1..=n).map(|i| (format!("node{i:02}"), vec![])).collect();
    let mut s = AppState::new(hosts, BTreeMap::new(), 100);
    s.facts_enabled = true;
    let _ = update(&mut s, Msg::Resize(w, h));
    s
}

fn terminal(s: &AppState, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| sshdeck::ui::render(f, s)).unwrap();
    t
}

fn draw(s: &AppState, w: u16, h: u16) -> String {
    format!("{}", terminal(s, w, h).backend())
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

fn typed(s: &mut AppState, text: &str) {
    for c in text.chars() {
        key(s, KeyCode::Char(c));
    }
}

fn facts(s: &mut AppState, h: usize, collector: &str, kv: &[(&str, &str)]) {
    let facts = kv
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let _ = update(
        s,
        Msg::Facts(FactsReport {
            host: HostId(h),
            collector: collector.into(),
            result: Ok(facts),
            elapsed: Duration::from_millis(20),
        }),
    );
}

fn failed(s: &mut AppState, h: usize, collector: &str, e: FactError) {
    let _ = update(
        s,
        Msg::Facts(FactsReport {
            host: HostId(h),
            collector: collector.into(),
            result: Err(e),
            elapsed: Duration::from_millis(20),
        }),
    );
}

/// Four hosts: one full disk, one nearly full, one fine, one whose disk
/// collector failed.
fn fleet() -> AppState {
    let mut s = state(4, 100, 16);
    for (h, disk, load, mem) in [
        (0, "20", "0.10", "31.0"),
        (1, "95", "3.20", "97.5"),
        (2, "85", "1.00", "50.0"),
    ] {
        facts(
            &mut s,
            h,
            "disk",
            &[("max_used_pct", disk), ("max_mount", "/")],
        );
        facts(&mut s, h, "uptime", &[("load1", load), ("human", "3d 4h")]);
        facts(&mut s, h, "memory", &[("used_pct", mem)]);
    }
    facts(&mut s, 3, "uptime", &[("load1", "0.50")]);
    failed(
        &mut s,
        3,
        "disk",
        FactError::Timeout(Duration::from_secs(10)),
    );
    s
}

fn cell_fg(t: &Terminal<TestBackend>, row: u16, text: &str) -> Option<Color> {
    let buf = t.backend().buffer();
    let line: String = (0..buf.area.width)
        .map(|x| buf[(x, row)].symbol().to_string())
        .collect();
    let col = line.find(text)?;
    let x = line[..col].chars().count() as u16;
    buf[(x, row)].fg.into()
}

#[test]
fn host_list_shows_fact_columns_coloured_by_thresholds_and_sorted() {
    let mut s = fleet();
    // o cycles: load, mem%, disk%.
    for _ in 0..3 {
        key(&mut s, KeyCode::Char('o'));
    }
    assert_eq!(
        s.status.as_deref(),
        Some("hosts sorted by disk% (largest first)")
    );
    let t = terminal(&s, 100, 16);
    support::assert_snapshot!(
        "host_list_shows_fact_columns_coloured_by_thresholds_and_sorted",
        format!("{}", t.backend())
    );
    // Sorted largest first, the failed host last; red at 90+, yellow 80+.
    let text = format!("{}", t.backend());
    let order: Vec<usize> = ["node02", "node03", "node01", "node04"]
        .iter()
        .map(|n| text.find(n).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert_eq!(cell_fg(&t, 1, " 95"), Some(Color::Red));
    assert_eq!(cell_fg(&t, 2, " 85"), Some(Color::Yellow));
    assert_eq!(cell_fg(&t, 3, " 20"), Some(Color::Reset));
    assert_eq!(cell_fg(&t, 4, "err"), Some(Color::Red));
    // O reverses.
    key(&mut s, KeyCode::Char('O'));
    let text = draw(&s, 100, 16);
    assert!(text.find("node01").unwrap() < text.find("node03").unwrap());
}

#[test]
fn a_collector_report_replaces_that_collectors_facts_only() {
    let mut s = fleet();
    facts(&mut s, 0, "disk", &[("max_used_pct", "21")]);
    let f = &s.hosts[0].facts;
    assert_eq!(f.get("disk.max_used_pct").map(String::as_str), Some("21"));
    assert!(!f.contains_key("disk.max_mount"), "stale fact kept: {f:?}");
    assert_eq!(f.get("uptime.load1").map(String::as_str), Some("0.10"));
    // Remote text is cleaned before it is kept.
    facts(&mut s, 0, "os", &[("name", "evil\x1b]52;c;aGk=\x07os")]);
    assert_eq!(s.hosts[0].facts["os.name"], "evilos");
    // A success clears the collector's earlier error.
    facts(&mut s, 3, "disk", &[("max_used_pct", "5")]);
    assert!(s.hosts[3].fact_errors.is_empty());
}

#[test]
fn collectors_start_once_when_a_host_connects() {
    let mut s = state(2, 80, 24);
    let connected = |s: &mut AppState, h| {
        update(
            s,
            Msg::Engine(Event {
                host: HostId(h),
                job: JobId(3),
                kind: EventKind::Connected,
            }),
        )
    };
    let e = connected(&mut s, 1);
    assert!(
        matches!(&e[..], [Effect::WatchFacts { hosts }] if hosts == &vec![1]),
        "{e:?}"
    );
    assert!(connected(&mut s, 1).is_empty(), "watched twice");
    s.facts_enabled = false;
    assert!(connected(&mut s, 0).is_empty());
    // An unreachable host stops looking like it is connecting.
    s.hosts[0].state = sshdeck::app::state::HostState::Connecting;
    failed(
        &mut s,
        0,
        "os",
        FactError::Host("connection refused".into()),
    );
    assert_eq!(
        s.hosts[0].state,
        sshdeck::app::state::HostState::Failed("connection refused".into())
    );
}

#[test]
fn host_info_lists_every_fact_and_failure() {
    let mut s = fleet();
    // Where the inventory names the host comes first, every entry in
    // merge order (the TUI runner fills these from `describe`).
    s.hosts[3].origin = vec![
        (
            "defined in".into(),
            "/etc/sshdeck/config.toml:14 (config)".into(),
        ),
        (
            "also named in".into(),
            "inventory/hosts:3 (not used)".into(),
        ),
    ];
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Char('i'));
    assert_eq!(s.overlay, Overlay::HostInfo { host: 3, scroll: 0 });
    support::assert_snapshot!("host_info_lists_every_fact_and_failure", draw(&s, 100, 16));
    let e = key(&mut s, KeyCode::Char('r'));
    assert!(matches!(&e[..], [Effect::WatchFacts { hosts }] if hosts == &vec![3]));
    key(&mut s, KeyCode::Esc);
    assert_eq!(s.overlay, Overlay::None);
}

fn with_recipes(mut s: AppState) -> AppState {
    s.recipes = vec![Recipe {
        name: "hpc".into(),
        description: "inputs up, job, results down".into(),
        steps: vec![
            Step::Put {
                sources: vec!["in.dat".into()],
                dest: "job".into(),
            },
            Step::Run {
                command: "cd job && ./run.sh".into(),
                timeout: None,
            },
            Step::Get {
                sources: vec!["job/out".into()],
                dest: "results/{host}".into(),
            },
        ],
    }];
    s.commands = vec![("disk hogs".into(), "du -xsh /var/* | sort -h".into())];
    s
}

#[test]
fn palette_filters_and_runs_saved_commands() {
    let mut s = with_recipes(state(3, 90, 20));
    key(&mut s, KeyCode::Char('a'));
    ctrl(&mut s, 'p');
    assert_eq!(s.overlay, Overlay::Palette);
    support::assert_snapshot!("palette_open_90x20", draw(&s, 90, 20));
    typed(&mut s, "disk");
    support::assert_snapshot!("palette_filtered_90x20", draw(&s, 90, 20));
    let e = key(&mut s, KeyCode::Enter);
    assert!(
        matches!(&e[..], [Effect::Exec { hosts, command, .. }, Effect::SaveHistory(_)] if command == "du -xsh /var/* | sort -h" && hosts.len() == 3),
        "{e:?}"
    );
    assert_eq!(s.overlay, Overlay::None);
    // `:` opens it from the host list too; Esc closes without running.
    key(&mut s, KeyCode::Char(':'));
    assert_eq!(s.overlay, Overlay::Palette);
    assert!(key(&mut s, KeyCode::Esc).is_empty());
    assert_eq!(s.overlay, Overlay::None);
}

fn step(s: &mut AppState, h: usize, i: usize, state: StepState) {
    let _ = update(
        s,
        Msg::Recipe(RecipeEvent {
            host: HostId(h),
            step: i,
            state,
        }),
    );
}

fn done(ms: u64) -> StepState {
    StepState::Done {
        elapsed: Duration::from_millis(ms),
        detail: String::new(),
        output: Vec::new(),
    }
}

#[test]
fn a_recipe_runs_from_the_palette_and_shows_each_hosts_steps() {
    let mut s = with_recipes(state(4, 100, 20));
    // Nothing selected: refused with the reason.
    ctrl(&mut s, 'p');
    typed(&mut s, "hpc");
    assert!(key(&mut s, KeyCode::Enter).is_empty());
    assert!(s.status.as_deref().unwrap().contains("no hosts selected"));
    key(&mut s, KeyCode::Char('a'));
    ctrl(&mut s, 'p');
    typed(&mut s, "hpc");
    let e = key(&mut s, KeyCode::Enter);
    assert!(
        matches!(&e[..], [Effect::RunRecipe { name, hosts }] if name == "hpc" && hosts == &vec![0, 1, 2, 3]),
        "{e:?}"
    );
    for h in 0..4 {
        step(&mut s, h, 0, done(300 + h as u64 * 100));
    }
    step(&mut s, 0, 1, done(1200));
    step(&mut s, 0, 2, done(400));
    step(
        &mut s,
        1,
        1,
        StepState::Failed {
            elapsed: Duration::from_millis(700),
            error: "exit 3: boom on purpose".into(),
            output: Vec::new(),
        },
    );
    step(&mut s, 1, 2, StepState::Skipped);
    step(
        &mut s,
        2,
        1,
        StepState::Running {
            detail: "run cd job && ./run.sh".into(),
        },
    );
    s.focus = Focus::Output;
    key(&mut s, KeyCode::Down);
    support::assert_snapshot!(
        "a_recipe_runs_from_the_palette_and_shows_each_hosts_steps",
        draw(&s, 100, 20)
    );
    let run = s.recipe.as_ref().unwrap();
    assert_eq!((run.running(), run.failed()), (2, 1));
    // Narrower: the recipe's name gives way, its progress and keys stay.
    let narrow = draw(&s, 80, 20);
    let top = narrow.lines().next().unwrap();
    assert!(
        top.contains("R… · 2/4 hosts done, 1 failed · x cancel · Esc panes ┐"),
        "{top}"
    );
    // x cancels the recipe here, not a command.
    assert!(matches!(
        &key(&mut s, KeyCode::Char('x'))[..],
        [Effect::CancelRecipe]
    ));
    // The others finish: the status says how it went.
    step(&mut s, 2, 1, done(900));
    step(&mut s, 2, 2, done(100));
    step(&mut s, 3, 1, StepState::Skipped);
    step(&mut s, 3, 2, StepState::Skipped);
    assert_eq!(
        s.status.as_deref(),
        Some("recipe hpc failed on 1 of 4 hosts")
    );
    // Esc goes back to the panes; r brings the view back.
    key(&mut s, KeyCode::Esc);
    assert!(!s.recipe.as_ref().unwrap().show);
    key(&mut s, KeyCode::Char('r'));
    assert!(s.recipe.as_ref().unwrap().show);
}
