//! Shell completions and the manual page, both drawn from the clap
//! definition so they cannot drift from the real flags. Completion is
//! dynamic: the shell asks sshdeck itself (`SSHDECK_COMPLETE=bash sshdeck
//! -- words…`), so `-H` completes the names and `@groups` of the user's
//! own inventory.

use std::ffi::OsStr;
use std::io::Write;
use std::process::ExitCode;

use clap::{Command, CommandFactory};
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};
use clap_complete::env::{CompleteEnv, Shells};

use super::CliError;
use super::args::Cli;

/// The variable that turns a run of sshdeck into a completion request.
pub const COMPLETE_VAR: &str = "SSHDECK_COMPLETE";

/// Answer a completion request and exit, when this run is one.
pub fn handle_completion_request() {
    CompleteEnv::with_factory(completing_command)
        .var(COMPLETE_VAR)
        .complete();
}

/// The command line's definition with every `-H` completing from the
/// inventory. Wired here rather than in args.rs: the completer reads the
/// inventory through setup, which reads args, and the definition should
/// need nothing back.
fn completing_command() -> Command {
    with_host_completer(Cli::command())
}

/// Adds the host completer to `cmd`'s `-H` and to its subcommands'.
fn with_host_completer(cmd: Command) -> Command {
    cmd.mut_args(|arg| {
        if arg.get_short() == Some('H') {
            arg.add(ArgValueCompleter::new(complete_hosts))
        } else {
            arg
        }
    })
    .mut_subcommands(with_host_completer)
}

/// Bash's own registration. clap's uses `COMP_WORDS`, which bash splits
/// at every character of `COMP_WORDBREAKS`, `@` and `:` included: `-H @w`
/// then reaches sshdeck as the words `@` and `w`, and nothing completes.
/// This one rebuilds the words from the line as typed (split at blanks
/// only, so `@web`, `a,@db` and `host:22` stay whole), asks sshdeck, and
/// hands bash each answer minus the part bash keeps before its own word.
const BASH: &str = r#"
_sshdeck_complete() {
    local line=${COMP_LINE:0:COMP_POINT}
    local -a words
    IFS=$' \t\n' read -r -a words <<< "$line"
    if [[ -z "$line" || "$line" =~ [[:space:]]$ ]]; then
        words+=("")
    fi
    local cur=${words[${#words[@]}-1]}
    # Bash replaces only its own word ($2): the part of ours before it stays.
    local keep=${cur%"$2"}
    local IFS=$'\013'
    local -a reply
    reply=( $( \
        _CLAP_IFS="$IFS" \
        _CLAP_COMPLETE_INDEX="$(( ${#words[@]} - 1 ))" \
        _CLAP_COMPLETE_COMP_TYPE="${COMP_TYPE}" \
        _CLAP_COMPLETE_SPACE=false \
        SSHDECK_COMPLETE="bash" \
        "sshdeck" -- "${words[@]}" \
    ) ) || { COMPREPLY=(); return; }
    COMPREPLY=()
    local r
    for r in "${reply[@]}"; do
        COMPREPLY+=("${r#"$keep"}")
    done
}
complete -o nospace -o bashdefault -F _sshdeck_complete sshdeck
"#;

/// `sshdeck completions SHELL`: the script to source or install.
pub fn print(shell: &str) -> Result<ExitCode, CliError> {
    if shell == "bash" {
        return write_stdout(BASH.trim_start().as_bytes());
    }
    let shells = Shells::builtins();
    let completer = shells
        .completer(shell)
        .ok_or_else(|| CliError::BadArg(format!("no completions for {shell:?}")))?;
    let mut out = Vec::new();
    completer
        .write_registration(COMPLETE_VAR, "sshdeck", "sshdeck", "sshdeck", &mut out)
        .map_err(|e| CliError::Io {
            what: "writing the completion script".into(),
            cause: e,
        })?;
    write_stdout(&out)
}

/// `sshdeck man`: the manual page, in roff.
pub fn man() -> Result<ExitCode, CliError> {
    let out = super::manpage::render(Cli::command()).map_err(|e| CliError::Io {
        what: "writing the manual page".into(),
        cause: e,
    })?;
    write_stdout(&out)
}

fn write_stdout(bytes: &[u8]) -> Result<ExitCode, CliError> {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = stdout.write_all(bytes);
    let _ = stdout.flush();
    Ok(ExitCode::SUCCESS)
}

/// `-H` values: the last item of the node set being typed, completed from
/// the inventory's host names and `@groups`, the items before it kept.
pub fn complete_hosts(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(current) = current.to_str() else {
        return Vec::new();
    };
    let cut = current.rfind([',', '!', '&', '^']).map_or(0, |i| i + 1);
    let (done, partial) = current.split_at(cut);
    let Ok(inv) = super::setup::inventory(&super::args::GlobalArgs::default()) else {
        return Vec::new();
    };
    // A candidate is typed into the user's shell and drawn on the
    // terminal: names with controls, or that a shell would act on, are
    // never offered (they would be refused as hosts anyway).
    inv.names_and_groups()
        .into_iter()
        .filter(|n| {
            crate::inventory::shell_safe::check_host(n.strip_prefix('@').unwrap_or(n), "").is_ok()
        })
        .filter(|n| n.starts_with(partial))
        .map(|n| CompletionCandidate::new(format!("{done}{n}")))
        .collect()
}
