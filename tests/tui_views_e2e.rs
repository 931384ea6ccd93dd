//! The real binary in tmux against `sshdeck demo`'s embedded hosts: a
//! search match is on screen, paging shows every line once with one line
//! of overlap, `b` puts focus in the gathered view, and Esc cancels the
//! options dialog.

use crate::support;

use std::collections::BTreeSet;

use support::tmux::{Tmux, tmux_available, wrapped};

/// The demo with `hosts` hosts, waiting for the last one to be listed.
fn demo(tag: &str, hosts: usize) -> Tmux {
    assert!(
        tmux_available(),
        "tmux is required (scripts/test installs it)"
    );
    let bin = env!("CARGO_BIN_EXE_sshdeck");
    let tmux = Tmux::start(
        tag,
        &wrapped(&format!("{bin} demo --hosts {hosts}")),
        100,
        30,
    );
    let last = format!("demo{hosts:02}");
    tmux.wait_for("the demo hosts", |s| s.contains(&last));
    tmux
}

/// Select every host, run `cmd` from the command pane, wait for every
/// exit badge, and leave focus on the host list.
fn run_all(tmux: &Tmux, hosts: usize, cmd: &str) {
    tmux.send(&["a"]);
    tmux.wait_for("selection", |s| {
        s.contains(&format!("Hosts {hosts}/{hosts}"))
    });
    // Focus: hosts → output → command.
    tmux.send(&["Tab"]);
    tmux.send(&["Tab"]);
    tmux.type_text(cmd);
    tmux.send(&["Enter"]);
    tmux.wait_for("every exit badge", |s| s.matches("✓ 0").count() == hosts);
    // Command → hosts.
    tmux.send(&["Tab"]);
}

/// The numbers the output pane shows: cells between box borders that are
/// a number and nothing else.
fn numbers(screen: &str) -> BTreeSet<u32> {
    screen
        .lines()
        .flat_map(|l| l.split('│'))
        .filter_map(|cell| cell.trim().parse::<u32>().ok())
        .collect()
}

/// `/201` in a pane of `seq 1 301`: the screen shows line 201 as a line of
/// output, not hidden under the "lines up" note.
#[test]
fn a_search_match_is_on_screen() {
    let tmux = demo("views-search", 1);
    run_all(&tmux, 1, "seq 1 301");
    tmux.send(&["Tab"]);
    tmux.send(&["/"]);
    tmux.type_text("201");
    tmux.send(&["Enter"]);
    let screen = tmux.wait_for("the match", |s| s.contains("match on line 201 of 301"));
    assert!(numbers(&screen).contains(&201), "201 not shown:\n{screen}");
    // The note is on the pane's border, on a row of its own.
    let note = screen.lines().find(|l| l.contains("lines up"));
    assert!(
        note.is_some_and(|l| l.contains('└') && !l.contains("201")),
        "{screen}"
    );
}

/// From the oldest line, PgDn until the end: every one of 1..=301 is seen,
/// and each page starts with the line the one before ended with.
#[test]
fn paging_shows_every_line_with_one_line_of_overlap() {
    let tmux = demo("views-paging", 1);
    run_all(&tmux, 1, "seq 1 301");
    tmux.send(&["Tab"]);
    tmux.send(&["Home"]);
    let mut page = numbers(&tmux.wait_for("the oldest line", |s| numbers(s).contains(&1)));
    let mut seen = page.clone();
    for _ in 0..60 {
        if page.contains(&301) {
            break;
        }
        let before = page.clone();
        tmux.send(&["NPage"]);
        page = numbers(&tmux.wait_for("the next page", |s| numbers(s) != before));
        seen.extend(&page);
        let (Some(&prev_last), Some(&first), Some(&last)) =
            (before.last(), page.first(), page.last())
        else {
            panic!("an empty page after {before:?}");
        };
        if last < 301 {
            assert_eq!(first, prev_last, "pages share exactly one line");
        } else {
            // The last page ends at the newest line and may share more.
            assert!(first <= prev_last, "a line skipped before {first}");
        }
    }
    let missing: Vec<u32> = (1..=301).filter(|n| !seen.contains(n)).collect();
    assert!(missing.is_empty(), "never shown: {missing:?}");
}

/// The host list's rows, as the host names in screen order.
fn host_order(screen: &str) -> Vec<String> {
    screen
        .lines()
        .filter_map(|l| l.split('│').nth(1))
        .flat_map(|cell| cell.split_whitespace())
        .filter(|w| w.starts_with("demo"))
        .map(str::to_string)
        .collect()
}

/// `b` then `o` from the host list: the gathered view has focus, so `o`
/// selects the host outside the largest group; the host list keeps its
/// order (no sort happened).
#[test]
fn gather_then_o_selects_the_outliers() {
    let tmux = demo("views-gather", 3);
    run_all(
        &tmux,
        3,
        "[ \"$SSHDECK_DEMO_HOST\" = demo02 ] && echo odd || echo same",
    );
    let before = host_order(&tmux.screen());
    assert_eq!(before.len(), 3, "{before:?}");
    tmux.send(&["b"]);
    tmux.wait_for("the gathered view", |s| {
        s.contains("same") && s.contains("odd")
    });
    tmux.send(&["o"]);
    let screen = tmux.wait_for("one host selected", |s| s.contains("Hosts 1/3"));
    let picked = screen
        .lines()
        .find(|l| l.contains("[x]"))
        .unwrap_or_else(|| panic!("nothing selected:\n{screen}"));
    assert!(picked.contains("demo02"), "{screen}");
    assert_eq!(host_order(&screen), before, "the host list was sorted");
}

/// Ctrl-O, type a directory, Esc: the options are as before; reopening
/// shows the old (empty) value.
#[test]
fn esc_cancels_the_options_dialog() {
    let tmux = demo("views-options", 1);
    tmux.send(&["Tab"]);
    tmux.send(&["Tab"]);
    tmux.send(&["C-o"]);
    tmux.wait_for("the options dialog", |s| s.contains("Command options"));
    // Rows: login, PTY, sudo, environment, directory.
    for _ in 0..4 {
        tmux.send(&["Down"]);
    }
    tmux.type_text("/tmp/edited");
    tmux.wait_for("the edit", |s| s.contains("/tmp/edited"));
    tmux.send(&["Escape"]);
    let screen = tmux.wait_for("the dialog closed", |s| !s.contains("Command options"));
    assert!(
        !screen.contains("/tmp/edited"),
        "the edit was kept:\n{screen}"
    );
    tmux.send(&["C-o"]);
    let screen = tmux.wait_for("the dialog again", |s| s.contains("Command options"));
    assert!(
        !screen.contains("/tmp/edited"),
        "the edit was kept:\n{screen}"
    );
}
