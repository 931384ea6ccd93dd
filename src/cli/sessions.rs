//! `tui -s NAME`, `attach`, `ls` and `kill-session`: sessions that
//! outlive the terminal (ARCHITECTURE.md, "Sessions"). `tui -s` checks the
//! inventory here, where errors can be read, then starts the session's
//! server (this program again, with `--serve`, in its own process group,
//! its stderr in NAME.log beside the socket) and attaches to it.

use std::io::IsTerminal;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use super::CliError;
use super::args::{AttachArgs, GlobalArgs, KillSessionArgs, TuiArgs};
use crate::session::client::{self, AttachEnd, ClientError};
use crate::session::paths::{PathError, SocketDir};
use crate::session::protocol::{ClientMsg, ServerMsg};

/// How long a new server may take to listen.
const START_WAIT: Duration = Duration::from_secs(20);

impl From<PathError> for CliError {
    fn from(e: PathError) -> CliError {
        CliError::BadArg(e.to_string())
    }
}

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> CliError {
        CliError::BadArg(e.to_string())
    }
}

/// `tui -s NAME`: attach to the session, starting it first when it does
/// not run.
pub async fn tui_session(g: &GlobalArgs, a: &TuiArgs, name: &str) -> Result<ExitCode, CliError> {
    super::tui::need_terminal()?;
    let dir = SocketDir::locate()?;
    let sock = dir.socket(name)?;
    if dir.socket_is_stale(name) {
        let _ = std::fs::remove_file(&sock);
    }
    if client::connect(&sock).await.is_err() {
        // Errors in the inventory are said here, on this terminal.
        super::tui::tui_setup(g, &a.hosts, a.selector.as_deref(), a.record.record.clone())?;
        start_server(&dir, name)?;
        wait_listening(&dir, name).await?;
    }
    attach_to(&sock, name, false).await
}

/// Start this program as session `name`'s server, detached from the
/// terminal: its own process group, no stdin or stdout, stderr to a log.
fn start_server(dir: &SocketDir, name: &str) -> Result<(), CliError> {
    let exe = std::env::current_exe().map_err(|cause| CliError::Io {
        what: "this program's path".into(),
        cause,
    })?;
    let log_path = dir.path().join(format!("{name}.log"));
    let log = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(&log_path)
        .map_err(|cause| CliError::Io {
            what: log_path.display().to_string(),
            cause,
        })?;
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    args.push("--serve".into());
    args.push(name.into());
    std::process::Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn()
        .map_err(|cause| CliError::Io {
            what: "starting the session server".into(),
            cause,
        })?;
    Ok(())
}

/// Wait for the new server to answer, with a deadline; if it never does,
/// say what its log says.
async fn wait_listening(dir: &SocketDir, name: &str) -> Result<(), CliError> {
    let sock = dir.socket(name)?;
    let deadline = Instant::now() + START_WAIT;
    while Instant::now() < deadline {
        if client::connect(&sock).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let log = std::fs::read_to_string(dir.path().join(format!("{name}.log"))).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(5).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(CliError::BadArg(format!(
        "session {name}'s server did not start within {} s{}",
        START_WAIT.as_secs(),
        if tail.is_empty() {
            String::new()
        } else {
            format!(": {}", crate::text::sanitize::clean(&tail.join(" / ")))
        }
    )))
}

/// Be session `name`'s server (`tui -s NAME --serve NAME`): hold its lock,
/// listen on its socket (0600), run until it ends, then remove the socket.
pub async fn serve(g: &GlobalArgs, a: &TuiArgs, name: &str) -> Result<ExitCode, CliError> {
    let dir = SocketDir::locate()?;
    let _lock = dir.lock(name)?;
    let sock = dir.socket(name)?;
    let _ = std::fs::remove_file(&sock);
    let mut setup =
        super::tui::tui_setup(g, &a.hosts, a.selector.as_deref(), a.record.record.clone())?;
    setup.session = Some(name.to_string());
    let listener = tokio::net::UnixListener::bind(&sock).map_err(|cause| CliError::Io {
        what: sock.display().to_string(),
        cause,
    })?;
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o600)).map_err(|cause| {
        CliError::Io {
            what: sock.display().to_string(),
            cause,
        }
    })?;
    let r = crate::session::server::serve(setup, name.to_string(), listener).await;
    let _ = std::fs::remove_file(&sock);
    r.map_err(|cause| CliError::Io {
        what: format!("session {name}"),
        cause,
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn attach_to(sock: &Path, name: &str, read_only: bool) -> Result<ExitCode, CliError> {
    match client::attach(sock, name, read_only).await? {
        AttachEnd::Detached(why) => {
            eprintln!("sshdeck: {why}; `sshdeck attach {name}` comes back");
        }
        AttachEnd::SessionEnded(why) => eprintln!("sshdeck: {why}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The live sessions, stale sockets cleaned on the way.
fn live_sessions(dir: &SocketDir) -> Vec<String> {
    dir.sessions()
        .into_iter()
        .filter(|name| {
            if dir.socket_is_stale(name) {
                if let Ok(sock) = dir.socket(name) {
                    let _ = std::fs::remove_file(sock);
                }
                return false;
            }
            true
        })
        .collect()
}

/// `sshdeck attach [NAME] [--read-only]`.
pub async fn attach(a: &AttachArgs) -> Result<ExitCode, CliError> {
    super::tui::need_terminal()?;
    let dir = SocketDir::locate()?;
    let name = match &a.name {
        Some(n) => n.clone(),
        None => match live_sessions(&dir).as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(CliError::BadArg(
                    "no session runs; start one with `sshdeck tui -s NAME`".into(),
                ));
            }
            many => {
                return Err(CliError::BadArg(format!(
                    "several sessions run ({}); say which: sshdeck attach NAME",
                    many.join(", ")
                )));
            }
        },
    };
    let sock = dir.socket(&name)?;
    attach_to(&sock, &name, a.read_only).await
}

/// `sshdeck ls`: one line per live session.
pub async fn ls() -> Result<ExitCode, CliError> {
    let dir = SocketDir::locate()?;
    let names = live_sessions(&dir);
    if names.is_empty() {
        println!("no sessions");
    }
    for name in names {
        let sock = dir.socket(&name)?;
        match client::ask(&sock, ClientMsg::ListSessions).await {
            Ok(ServerMsg::Sessions(lines)) => lines.iter().for_each(|l| println!("{l}")),
            Ok(_) | Err(_) => println!("{name}: not answering"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `sshdeck kill-session NAME [--force]`: asks first (on a terminal)
/// while a command runs on its hosts.
pub async fn kill_session(a: &KillSessionArgs) -> Result<ExitCode, CliError> {
    let dir = SocketDir::locate()?;
    let sock = dir.socket(&a.name)?;
    let kill = |force| ClientMsg::KillSession {
        name: a.name.clone(),
        force,
    };
    match client::ask(&sock, kill(a.force)).await? {
        ServerMsg::Ended { why } => {
            println!("{why}");
            Ok(ExitCode::SUCCESS)
        }
        ServerMsg::Refused { reason } if std::io::stdin().is_terminal() => {
            eprint!("sshdeck: {reason}\nEnd it anyway? [y/N] ");
            let mut answer = String::new();
            let _ = std::io::stdin().read_line(&mut answer);
            if !answer.trim().eq_ignore_ascii_case("y") {
                eprintln!("sshdeck: session {} left running", a.name);
                return Ok(ExitCode::from(1));
            }
            match client::ask(&sock, kill(true)).await? {
                ServerMsg::Ended { why } => {
                    println!("{why}");
                    Ok(ExitCode::SUCCESS)
                }
                other => Err(CliError::BadArg(format!("unexpected answer {other:?}"))),
            }
        }
        ServerMsg::Refused { reason } => Err(CliError::BadArg(reason)),
        other => Err(CliError::BadArg(format!("unexpected answer {other:?}"))),
    }
}
