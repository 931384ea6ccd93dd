//! Sessions that outlive the terminal (ARCHITECTURE.md, "Sessions"):
//! `sshdeck`, `sshdeck tui` and `sshdeck demo` open one, and `attach`,
//! `ls` and `kill-session` find them again. Opening one checks the
//! inventory here, where errors can be read, then starts the session's
//! server (this program again, with `--serve` or `--serve-any`, in its own
//! process group, its stderr in NAME.log beside the socket) and attaches.

use std::io::IsTerminal;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use super::CliError;
use super::args::{AttachArgs, DemoArgs, GlobalArgs, KillSessionArgs, SessionArgs, TuiArgs};
use crate::session::client::{self, AttachEnd, ClientError};
use crate::session::paths::{PathError, SocketDir};
use crate::session::protocol::{ClientMsg, ServerMsg};
use crate::tui::TuiSetup;

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

/// `sshdeck [tui]`: a session on the inventory's hosts (or this process
/// with `--no-session`). `plain` when no command was named.
pub async fn open_tui(g: &GlobalArgs, a: &TuiArgs, plain: bool) -> Result<ExitCode, CliError> {
    let setup =
        || super::tui::tui_setup(g, &a.hosts, a.selector.as_deref(), a.record.record.clone());
    let s = &a.session;
    if s.serve.is_some() || s.serve_any {
        let named = s.serve.as_deref();
        return serve(named, async { setup() }, ()).await;
    }
    let direct = |notice| {
        super::tui::tui(
            g,
            &a.hosts,
            a.selector.as_deref(),
            a.record.record.clone(),
            notice,
        )
    };
    if s.no_session {
        return direct(None).await;
    }
    super::tui::need_terminal()?;
    let dir = match SocketDir::locate() {
        Ok(dir) => dir,
        // Without a private place for the socket there is no session,
        // but the screen still opens, and says so.
        Err(e) if s.name.is_none() => {
            return direct(Some(format!(
                "no session ({e}): this screen ends with the terminal"
            )))
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(name) = &s.name
        && client::connect(&dir.socket(name)?).await.is_ok()
    {
        return attach_to(&dir.socket(name)?, name, false).await;
    }
    // Errors in the inventory are said here, on this terminal.
    setup()?;
    let name = start_server(&dir, s, plain).await?;
    attach_to(&dir.socket(&name)?, &name, false).await
}

/// `sshdeck demo`: the demo's embedded hosts in a session (its server
/// runs them), or in this process with `--no-session`.
pub async fn open_demo(a: &DemoArgs, login: crate::demo::DemoLogin) -> Result<ExitCode, CliError> {
    let (n, record) = (usize::from(a.hosts), a.record.record.clone());
    let s = &a.session;
    if s.serve.is_some() || s.serve_any {
        let demo = super::tui::demo_setup(n, login, record).await?;
        let named = s.serve.as_deref();
        return serve(named, async { Ok(demo.setup) }, (demo.farm, demo.work)).await;
    }
    if s.no_session {
        return super::tui::demo(n, login, record).await;
    }
    super::tui::need_terminal()?;
    let dir = SocketDir::locate()?;
    if let Some(name) = &s.name
        && client::connect(&dir.socket(name)?).await.is_ok()
    {
        return attach_to(&dir.socket(name)?, name, false).await;
    }
    let name = start_server(&dir, s, false).await?;
    attach_to(&dir.socket(&name)?, &name, false).await
}

/// Start this program as a session's server, detached from the terminal
/// (its own process group, no stdin), and wait until it listens. It says
/// on its stdout the name it took, then "ready"; until it has a name its
/// errors come on its stderr, after that in NAME.log.
async fn start_server(dir: &SocketDir, s: &SessionArgs, plain: bool) -> Result<String, CliError> {
    let exe = std::env::current_exe().map_err(|cause| CliError::Io {
        what: "this program's path".into(),
        cause,
    })?;
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if plain {
        args.push("tui".into());
    }
    match &s.name {
        Some(name) => args.extend(["--serve".into(), name.into()]),
        None => args.push("--serve-any".into()),
    }
    // `-s NAME` is the client's: the server is told its name by --serve.
    let args = without_session_flag(args);
    let mut child = tokio::process::Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|cause| CliError::Io {
            what: "starting the session server".into(),
            cause,
        })?;
    let (Some(out), Some(mut err)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(CliError::BadArg("the session server has no output".into()));
    };
    let mut lines = BufReader::new(out).lines();
    let said = tokio::time::timeout(START_WAIT, async {
        let name = lines.next_line().await.ok().flatten();
        let ready = lines.next_line().await.ok().flatten();
        (name, ready)
    })
    .await;
    let why = match said {
        Ok((Some(name), Some(ready))) if ready == "ready" => return Ok(name),
        Ok((Some(name), _)) => log_tail(dir, &name),
        Ok((None, _)) => {
            let mut text = String::new();
            let _ =
                tokio::time::timeout(Duration::from_secs(2), err.read_to_string(&mut text)).await;
            last_lines(&text)
        }
        Err(_) => format!("it did not listen within {} s", START_WAIT.as_secs()),
    };
    Err(CliError::BadArg(format!(
        "the session server did not start: {why}"
    )))
}

/// The arguments without `-s NAME` / `--session NAME` / `--session=NAME`.
fn without_session_flag(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut skip = false;
    for a in args {
        if std::mem::take(&mut skip) {
            continue;
        }
        match a.to_str() {
            Some("-s" | "--session") => skip = true,
            Some(s) if s.starts_with("--session=") => {}
            Some(s) if s.starts_with("-s") && s.len() > 2 && !s.starts_with("--") => {}
            _ => out.push(a),
        }
    }
    out
}

/// The end of session `name`'s log, as one clean line.
fn log_tail(dir: &SocketDir, name: &str) -> String {
    let log = std::fs::read_to_string(dir.path().join(format!("{name}.log"))).unwrap_or_default();
    match last_lines(&log) {
        t if t.is_empty() => format!(
            "no reason given (see {})",
            dir.path().join(format!("{name}.log")).display()
        ),
        t => t,
    }
}

fn last_lines(text: &str) -> String {
    let tail: Vec<&str> = text.lines().rev().take(5).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    let line = tail.join(" / ");
    let line = line.strip_prefix("sshdeck: error: ").unwrap_or(&line);
    crate::text::sanitize::clean(line)
}

/// Be a session's server: take its name (`named`, or the first free
/// number) and lock, send errors to NAME.log from here on, listen on its
/// socket (0600), say "ready", and run until it ends; then remove the
/// socket. `keep` lives as long as the session (the demo's hosts).
async fn serve<K>(
    named: Option<&str>,
    setup: impl std::future::Future<Output = Result<TuiSetup, CliError>>,
    keep: K,
) -> Result<ExitCode, CliError> {
    let dir = SocketDir::locate()?;
    let (name, _lock) = match named {
        Some(n) => (n.to_string(), dir.lock_patiently(n)?),
        None => dir.claim_next()?,
    };
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
    redirect(libc::STDERR_FILENO, &log);
    announce(&name);
    let sock = dir.socket(&name)?;
    let _ = std::fs::remove_file(&sock);
    let mut setup = setup.await?;
    setup.session = Some(name.clone());
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
    announce("ready");
    // Whoever started us reads nothing more: stdout goes nowhere.
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        redirect(libc::STDOUT_FILENO, &null);
    }
    let r = crate::session::server::serve(setup, name.clone(), listener).await;
    let _ = std::fs::remove_file(&sock);
    drop(keep);
    r.map_err(|cause| CliError::Io {
        what: format!("session {name}"),
        cause,
    })?;
    Ok(ExitCode::SUCCESS)
}

/// One line on stdout for the client that started us.
fn announce(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Point `fd` at `file` (the server's stderr at its log, its stdout at
/// /dev/null once the client has read what it needs).
fn redirect(fd: libc::c_int, file: &std::fs::File) {
    use std::os::fd::AsRawFd;
    // SAFETY: dup2 of an open descriptor we own onto a standard one.
    unsafe {
        libc::dup2(file.as_raw_fd(), fd);
    }
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
                    "no session runs; `sshdeck` starts one".into(),
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
                other => Err(CliError::BadArg(format!(
                    "the session server answered with {} instead; is it another sshdeck?",
                    other.kind()
                ))),
            }
        }
        ServerMsg::Refused { reason } => Err(CliError::BadArg(reason)),
        other => Err(CliError::BadArg(format!(
            "the session server answered with {} instead; is it another sshdeck?",
            other.kind()
        ))),
    }
}
