//! `sshdeck demo --login password|keyboard-interactive`, the README's way to
//! try password logins with no server: the real binary in tmux asks once
//! for every host (the password is reused for the user's other hosts, as
//! the README promises), and a wrong password is asked again, never taken.

use crate::support;

use support::tmux::{Tmux, tmux_available, wrapped};

/// Hosts shown as connected (●) in the host list.
fn connected(screen: &str) -> usize {
    screen.matches("● [x] demo").count()
}

fn start(login: &str) -> Tmux {
    assert!(
        tmux_available(),
        "tmux is required (scripts/test installs it)"
    );
    let bin = env!("CARGO_BIN_EXE_sshdeck");
    let launch = wrapped(&format!("{bin} demo --hosts 4 --login {login}"));
    Tmux::start(&format!("demo-{login}"), &launch, 120, 32)
}

/// One question, answered once, logs every host in; no second dialog.
fn one_answer_for_every_host(tmux: &Tmux, dialog: &str) {
    let screen = tmux.wait_for("the login question", |s| s.contains(dialog));
    tmux.type_text("demo");
    tmux.send(&["Enter"]);
    let screen2 = tmux.wait_for("all four hosts connected", |s| connected(s) == 4);
    assert!(
        !screen2.contains(dialog),
        "asked again after the first answer:\n{screen2}\n(first:\n{screen})"
    );
}

#[test]
fn a_password_is_asked_once_and_used_for_every_demo_host() {
    let tmux = start("password");
    // A wrong password is refused and asked again, for the same host.
    tmux.wait_for("the password question", |s| s.contains("Password for"));
    tmux.type_text("wrong");
    tmux.send(&["Enter"]);
    let again = tmux.wait_for("the question asked again", |s| {
        s.contains("Password for") && s.contains("again")
    });
    assert_eq!(
        connected(&again),
        0,
        "a wrong password let a host in:\n{again}"
    );
    one_answer_for_every_host(&tmux, "Password for");

    tmux.send(&["q"]);
    assert_eq!(tmux.wait_exit(), "0");
}

#[test]
fn a_keyboard_interactive_password_is_asked_once_for_every_demo_host() {
    let tmux = start("keyboard-interactive");
    let screen = tmux.wait_for("the keyboard-interactive question", |s| {
        s.contains("Password:")
    });
    // The server's own words reach the dialog (cleaned).
    assert!(screen.contains("The demo password is \"demo\""), "{screen}");
    one_answer_for_every_host(&tmux, "Password:");

    tmux.send(&["q"]);
    assert_eq!(tmux.wait_exit(), "0");
}
