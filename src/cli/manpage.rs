//! `sshdeck man`: one manual page, drawn from the clap definition so it
//! cannot drift from the real flags.
//!
//! clap_mangen renders the head (name, synopsis, description, the global
//! options). The rest is ours, because its defaults point at pages that
//! are never installed (`sshdeck-run(1)` …) and run the exit-status list
//! together: every subcommand is described here, in full, under
//! COMMANDS, and EXIT STATUS is a real list.

use std::io::Write;

use clap::{Arg, Command};

use super::args::{EXIT_S_NOTE, EXIT_STATUSES};

/// Text made safe for roff: backslashes and hyphens escaped, and a line
/// that would start with a control character guarded.
fn esc(text: &str) -> String {
    let body = text.replace('\\', "\\\\").replace('-', "\\-");
    body.lines()
        .map(|l| {
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `-H, --hosts <HOSTS>` in roff, bold flags and italic values.
fn arg_head(a: &Arg) -> String {
    let mut names = Vec::new();
    if let Some(s) = a.get_short() {
        names.push(format!("\\fB\\-{}\\fR", esc(&s.to_string())));
    }
    if let Some(l) = a.get_long() {
        names.push(format!("\\fB\\-\\-{}\\fR", esc(l)));
    }
    let values: Vec<String> = a
        .get_value_names()
        .unwrap_or_default()
        .iter()
        .map(|v| format!("\\fI{}\\fR", esc(v)))
        .collect();
    let takes_value = a.get_action().takes_values();
    match (names.is_empty(), takes_value) {
        (true, _) => values.join(" "),
        (false, true) if !values.is_empty() => format!("{} {}", names.join(", "), values.join(" ")),
        _ => names.join(", "),
    }
}

fn arg_body(a: &Arg) -> String {
    let mut text = a
        .get_long_help()
        .or(a.get_help())
        .map(|h| esc(&h.to_string()))
        .unwrap_or_default();
    let values: Vec<String> = a
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .filter_map(|v| {
            v.get_help()
                .map(|h| format!("\\fB{}\\fR: {}", esc(v.get_name()), esc(&h.to_string())))
        })
        .collect();
    if !values.is_empty() {
        text.push_str("\n.RS\n");
        for v in values {
            text.push_str(&format!(".IP \\(bu 2\n{v}\n"));
        }
        text.push_str(".RE");
    }
    text
}

/// COMMANDS: each subcommand's summary, usage and its own options (the
/// global ones are under OPTIONS, once).
fn commands(top: &mut Command, out: &mut String) {
    let global: Vec<String> = top
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    out.push_str(".SH COMMANDS\n");
    for sub in top.get_subcommands_mut() {
        if sub.get_name() == "help" || sub.is_hide_set() {
            continue;
        }
        let name = sub.get_name().to_string();
        out.push_str(&format!(".SS \"sshdeck {}\"\n", esc(&name)));
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            out.push_str(&format!("{}\n", esc(&about.to_string())));
        }
        let usage = sub.render_usage().to_string();
        let usage = usage.trim_start_matches("Usage:").trim();
        out.push_str(&format!(".PP\n\\fB{}\\fR\n", esc(usage)));
        for a in sub.get_arguments() {
            let id = a.get_id().to_string();
            if a.is_hide_set() || global.contains(&id) || id == "help" {
                continue;
            }
            out.push_str(&format!(".TP\n{}\n{}\n", arg_head(a), arg_body(a)));
        }
    }
}

fn exit_status(out: &mut String) {
    out.push_str(".SH \"EXIT STATUS\"\n");
    for (code, meaning) in EXIT_STATUSES {
        out.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", esc(meaning)));
    }
    out.push_str(&format!(".PP\n{}\n", esc(EXIT_S_NOTE)));
}

const FILES: &[(&str, &str)] = &[
    (
        "$XDG_CONFIG_HOME/sshdeck/config.toml",
        "the configuration (default ~/.config/sshdeck/config.toml; see config.example.toml)",
    ),
    (
        "~/.ssh/config, /etc/ssh/ssh_config",
        "OpenSSH client configuration, read as ssh reads it (-F replaces both)",
    ),
    (
        "~/.ssh/known_hosts, ~/.ssh/known_hosts2, /etc/ssh/ssh_known_hosts",
        "host keys checked; keys you accept and save go to the first",
    ),
    (
        "$XDG_STATE_HOME/sshdeck/history",
        "commands typed in the TUI (0600; not those that start with a space)",
    ),
    (
        "$XDG_STATE_HOME/sshdeck/last-run.json",
        "the last run's per-host results, read by --hosts-from-last (0600)",
    ),
    (
        "$XDG_CACHE_HOME/sshdeck/relay/",
        "spools of host-to-host copies, kept to resume one that failed (0700)",
    ),
    (
        "$XDG_STATE_HOME/sshdeck/jobs/",
        "jobs started with run --detach: command, output and status, until wait collects them or 7 days pass (0700; files 0600)",
    ),
    (
        "$XDG_RUNTIME_DIR/sshdeck/",
        "session sockets, locks and server logs (0700; /tmp/sshdeck-UID without XDG_RUNTIME_DIR)",
    ),
];

fn files(out: &mut String) {
    out.push_str(".SH FILES\n");
    for (path, what) in FILES {
        out.push_str(&format!(".TP\n\\fI{}\\fR\n{}\n", esc(path), esc(what)));
    }
}

/// The whole page, in roff.
pub fn render(mut cmd: Command) -> std::io::Result<Vec<u8>> {
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    let mut rest = String::new();
    commands(&mut cmd, &mut rest);
    exit_status(&mut rest);
    files(&mut rest);
    rest.push_str(".SH \"SEE ALSO\"\nssh(1), ssh_config(5), sshd(8)\n");
    page.write_all(rest.as_bytes())?;
    man.render_version_section(&mut page)?;
    Ok(page)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::cli::args::{Cli, EXIT_CODES};

    fn page() -> String {
        String::from_utf8(render(Cli::command()).unwrap_or_default()).unwrap_or_default()
    }

    #[test]
    fn the_page_names_no_page_that_is_not_installed() {
        let p = page();
        assert!(!p.contains("sshdeck\\-run(1)"), "{p}");
        assert!(!p.contains("(1)\n") || p.contains("ssh(1)"), "{p}");
        assert!(p.contains(".SS \"sshdeck run\""), "{p}");
        assert!(p.contains("\\fB\\-\\-hosts\\-from\\-last\\fR"), "{p}");
    }

    #[test]
    fn every_exit_status_is_an_item_of_its_own() {
        let p = page();
        for (code, _) in EXIT_STATUSES {
            assert!(p.contains(&format!(".TP\n\\fB{code}\\fR\n")), "{code}: {p}");
        }
    }

    /// `--help` keeps its own text (clap wants a constant there); it must
    /// say what the man page says.
    #[test]
    fn help_and_man_page_give_the_same_exit_statuses() {
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let help = words(EXIT_CODES);
        for (code, meaning) in EXIT_STATUSES {
            assert!(
                help.contains(&format!("{code} {}", words(meaning))),
                "{code}: {help}"
            );
        }
        assert!(help.contains(&words(EXIT_S_NOTE)), "{help}");
    }
}
