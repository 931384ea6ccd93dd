//! Headless jobs that outlive the shell: `run --detach`, `jobs`, `wait`.
//!
//! A detached job is `sshdeck run` itself, unchanged, in a process of its
//! own: `run --detach` writes the job's directory, starts a supervisor
//! (`job-run`, in a new session, so the terminal's hangup never reaches
//! it), prints the id and returns. The supervisor runs `sshdeck --batch
//! run …` with its stdout and stderr in the job's directory and, when it
//! ends, writes its exit status there. `wait` follows those files as
//! `tail -f` would, so it prints what `run` would have printed (streamed
//! or gathered, or NDJSON) and exits with the same status.
//!
//! The directory is `$XDG_STATE_HOME/sshdeck/jobs/ID/` (0700, its files
//! 0600): `job` (what was run), `pid` (the supervisor), `stdin` (input
//! piped into `run --detach`), `stdout`, `stderr` and `exit`. `wait`
//! collects a finished job (removes it) unless `--keep`; finished jobs
//! nobody collected expire after `EXPIRY`.

use std::ffi::OsString;
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{IsTerminal, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::CliError;
use super::args::{JobRunArgs, KillJobArgs, RunArgs, WaitArgs};

/// Finished jobs nobody collected are removed after this long.
const EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

/// Input piped into `run --detach` is kept for the job, up to this much.
const MAX_STDIN: u64 = 64 * 1024 * 1024;

/// How often `wait` looks for more output.
const FOLLOW_EVERY: Duration = Duration::from_millis(100);

fn io(what: &Path) -> impl FnOnce(std::io::Error) -> CliError + '_ {
    move |cause| CliError::Io {
        what: what.display().to_string(),
        cause,
    }
}

/// `$XDG_STATE_HOME/sshdeck/jobs`, created 0700.
fn jobs_dir() -> Result<PathBuf, CliError> {
    let state = crate::engine::connection::target::state_dir()
        .ok_or_else(|| CliError::BadArg("no state directory: set HOME or XDG_STATE_HOME".into()))?;
    let dir = state.join("jobs");
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(io(&dir))?;
    // Made by an older sshdeck, or by hand: held to 0700 all the same.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(io(&dir))?;
    Ok(dir)
}

/// A job id is a number; anything else is never a path.
fn job_dir(id: &str) -> Result<PathBuf, CliError> {
    if id.is_empty() || id.len() > 9 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CliError::BadArg(format!(
            "{:?} is not a job id (`sshdeck jobs` lists them)",
            crate::text::sanitize::clean(id)
        )));
    }
    let dir = jobs_dir()?.join(id);
    if !dir.is_dir() {
        return Err(CliError::BadArg(format!(
            "no job {id} (collected, expired, or never started; `sshdeck jobs` lists them)"
        )));
    }
    Ok(dir)
}

/// A new job's directory under the next free number.
fn new_job_dir() -> Result<(String, PathBuf), CliError> {
    let dir = jobs_dir()?;
    let next = job_ids(&dir).last().map_or(1, |n| n + 1);
    for n in next..next + 1000 {
        let path = dir.join(n.to_string());
        match DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => return Ok((n.to_string(), path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(cause) => return Err(io(&path)(cause)),
        }
    }
    Err(CliError::BadArg(format!(
        "{}: no free job id",
        dir.display()
    )))
}

fn job_ids(dir: &Path) -> Vec<u64> {
    let mut ids: Vec<u64> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    ids.sort_unstable();
    ids
}

/// A file of the job's, 0600, created new.
fn private_file(path: &Path) -> Result<File, CliError> {
    OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))
}

/// `run --detach`: write the job, start its supervisor, print the id.
pub fn detach(a: &RunArgs) -> Result<ExitCode, CliError> {
    if a.hosts.hosts_file.iter().any(|f| f.as_os_str() == "-") {
        return Err(CliError::BadArg(
            "--detach cannot read hosts from stdin (--hosts-file -); write them to a file".into(),
        ));
    }
    if a.sudo {
        return Err(CliError::BadArg(
            "--detach cannot ask for the sudo password (nobody would be there to type it); \
             run it attached, or let sudo run it without a password"
                .into(),
        ));
    }
    expire_old();
    let (id, dir) = new_job_dir()?;
    let started = start(a, &dir);
    if let Err(e) = started {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e);
    }
    println!("{id}");
    if std::io::stderr().is_terminal() {
        eprintln!("sshdeck: job {id} runs detached; `sshdeck wait {id}` prints its output");
    }
    Ok(ExitCode::SUCCESS)
}

fn start(a: &RunArgs, dir: &Path) -> Result<(), CliError> {
    let stdin = dir.join("stdin");
    if !a.no_stdin && !std::io::stdin().is_terminal() {
        let mut file = private_file(&stdin)?;
        let copied = std::io::copy(&mut std::io::stdin().take(MAX_STDIN + 1), &mut file)
            .map_err(io(&stdin))?;
        if copied > MAX_STDIN {
            return Err(CliError::BadArg(format!(
                "more than {} MiB of input for a detached job; give it a file on the hosts instead",
                MAX_STDIN >> 20
            )));
        }
    }
    let job = dir.join("job");
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let command = crate::text::sanitize::clean(&a.command.join(" "));
    writeln!(private_file(&job)?, "{started}\n{command}").map_err(io(&job))?;
    let exe = std::env::current_exe().map_err(|cause| CliError::Io {
        what: "this program's path".into(),
        cause,
    })?;
    let mut supervisor = std::process::Command::new(exe);
    supervisor
        .arg("job-run")
        .arg(dir)
        .arg("--")
        .args(child_args(std::env::args_os().skip(1).collect()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setsid() in the child before exec, async-signal-safe; a new
    // session, so a hangup of this terminal never reaches the job.
    unsafe {
        supervisor.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let child = supervisor.spawn().map_err(|cause| CliError::Io {
        what: "starting the detached job".into(),
        cause,
    })?;
    let pid = dir.join("pid");
    writeln!(private_file(&pid)?, "{}", child.id()).map_err(io(&pid))?;
    Ok(())
}

/// The job's own command line: this one without `--detach`, never asking
/// anything (`--batch`: nobody is there to answer).
fn child_args(args: Vec<OsString>) -> Vec<OsString> {
    let mut out: Vec<OsString> = vec!["--batch".into()];
    let mut in_command = false;
    for a in args {
        if a == "--" {
            in_command = true;
        }
        if !in_command && a == "--detach" {
            continue;
        }
        out.push(a);
    }
    out
}

/// `job-run DIR -- ARGS`: run the job, keep its output and status.
pub fn supervise(a: &JobRunArgs) -> Result<ExitCode, CliError> {
    let out = private_file(&a.dir.join("stdout"))?;
    let err = private_file(&a.dir.join("stderr"))?;
    let input = match File::open(a.dir.join("stdin")) {
        Ok(f) => Stdio::from(f),
        Err(_) => Stdio::null(),
    };
    let exe = std::env::current_exe().map_err(|cause| CliError::Io {
        what: "this program's path".into(),
        cause,
    })?;
    let status = std::process::Command::new(exe)
        .args(&a.argv)
        .stdin(input)
        .stdout(out)
        .stderr(err)
        .spawn()
        .and_then(|mut run| {
            // For `kill-job`: the process to stop, as Ctrl-C stops `run`.
            let pid = a.dir.join("run.pid");
            if let Ok(mut f) = private_file(&pid) {
                let _ = writeln!(f, "{}", run.id());
            }
            run.wait()
        });
    let code = match status {
        Ok(s) => s.code().unwrap_or_else(|| {
            128 + std::os::unix::process::ExitStatusExt::signal(&s).unwrap_or(0)
        }),
        Err(_) => 255,
    };
    // Written whole, then renamed: `wait` never reads half a status.
    let part = a.dir.join("exit.part");
    writeln!(private_file(&part)?, "{code}").map_err(io(&part))?;
    std::fs::rename(&part, a.dir.join("exit")).map_err(io(&part))?;
    Ok(ExitCode::SUCCESS)
}

/// `sshdeck kill-job ID`: SIGTERM to the job's `run`, which stops the
/// command on every host (TERM, then KILL) and prints its summary, as
/// after Ctrl-C; `wait` shows how it ended.
pub fn kill(a: &KillJobArgs) -> Result<ExitCode, CliError> {
    let dir = job_dir(&a.id)?;
    match state_of(&dir) {
        DetachedState::Done(code) => {
            println!("job {} had already ended (exit {code})", a.id);
            return Ok(ExitCode::SUCCESS);
        }
        DetachedState::Lost => {
            return Err(CliError::BadArg(format!(
                "job {} is lost: its process is gone already",
                a.id
            )));
        }
        DetachedState::Running => {}
    }
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    let (supervisor, run) = (read("pid"), read("run.pid"));
    let (supervisor, run) = (supervisor.trim(), run.trim());
    // The pid is the job's own `run` (in its supervisor's session), not a
    // process that took the number later.
    let stat = std::fs::read_to_string(format!("/proc/{run}/stat")).unwrap_or_default();
    let session = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(3));
    let pid = run
        .parse::<libc::pid_t>()
        .ok()
        .filter(|_| !supervisor.is_empty() && session == Some(supervisor));
    let Some(pid) = pid else {
        return Err(CliError::BadArg(format!(
            "job {} is starting or ending; try again in a moment",
            a.id
        )));
    };
    // SAFETY: kill(2) with a checked pid of our own job and a signal.
    if unsafe { libc::kill(pid, libc::SIGTERM) } != 0 {
        return Err(CliError::Io {
            what: format!("job {}", a.id),
            cause: std::io::Error::last_os_error(),
        });
    }
    println!(
        "job {}: stopping its command on every host; `sshdeck wait {}` shows how it ended",
        a.id, a.id
    );
    Ok(ExitCode::SUCCESS)
}

/// What a job is doing.
enum DetachedState {
    Running,
    Done(i32),
    /// Neither running nor finished: its supervisor died (kill -9, a
    /// reboot) before it could write the status.
    Lost,
}

fn state_of(dir: &Path) -> DetachedState {
    if let Ok(text) = std::fs::read_to_string(dir.join("exit")) {
        return DetachedState::Done(text.trim().parse().unwrap_or(255));
    }
    let pid = std::fs::read_to_string(dir.join("pid")).unwrap_or_default();
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", pid.trim())).unwrap_or_default();
    // The pid is this job's supervisor, not a process that took the
    // number after it died.
    let ours = cmdline
        .split(|b| *b == 0)
        .any(|arg| arg == dir.as_os_str().as_encoded_bytes());
    if !pid.trim().is_empty() && ours {
        DetachedState::Running
    } else if std::fs::metadata(dir.join("pid")).is_err()
        && dir
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().unwrap_or_default() < Duration::from_secs(5))
    {
        // Being started this very moment.
        DetachedState::Running
    } else {
        DetachedState::Lost
    }
}

/// Remove finished and lost jobs older than `EXPIRY`.
fn expire_old() {
    let Ok(dir) = jobs_dir() else { return };
    for id in job_ids(&dir) {
        let job = dir.join(id.to_string());
        let old = job
            .metadata()
            .map(|m| m.mtime())
            .ok()
            .and_then(|t| u64::try_from(t).ok())
            .map(|t| UNIX_EPOCH + Duration::from_secs(t))
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > EXPIRY);
        if old && !matches!(state_of(&job), DetachedState::Running) {
            let _ = std::fs::remove_dir_all(&job);
        }
    }
}

/// `sshdeck jobs`: one line per job.
pub fn list() -> Result<ExitCode, CliError> {
    expire_old();
    let dir = jobs_dir()?;
    let ids = job_ids(&dir);
    if ids.is_empty() {
        println!("no jobs");
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<6} {:<10} {:<20} COMMAND", "ID", "STATE", "STARTED");
    for id in ids {
        let job = dir.join(id.to_string());
        let text = std::fs::read_to_string(job.join("job")).unwrap_or_default();
        let mut lines = text.lines();
        let started = lines
            .next()
            .and_then(|t| t.parse::<i64>().ok())
            .map(local_time)
            .unwrap_or_default();
        let command = lines.next().unwrap_or("");
        let state = match state_of(&job) {
            DetachedState::Running => "running".to_string(),
            DetachedState::Done(code) => format!("exit {code}"),
            DetachedState::Lost => "lost".to_string(),
        };
        println!("{id:<6} {state:<10} {started:<20} {command}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Seconds since the epoch as local "YYYY-MM-DD HH:MM:SS".
fn local_time(secs: i64) -> String {
    // SAFETY: localtime_r writes into the zeroed struct we own.
    unsafe {
        let t = secs as libc::time_t;
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return String::new();
        }
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            tm.tm_year + 1900,
            tm.tm_mon + 1,
            tm.tm_mday,
            tm.tm_hour,
            tm.tm_min,
            tm.tm_sec
        )
    }
}

/// Print what was added to `path` since `at`.
fn follow(path: &Path, at: &mut u64, to: &mut dyn Write) -> std::io::Result<()> {
    let Ok(mut f) = File::open(path) else {
        return Ok(());
    };
    f.seek(SeekFrom::Start(*at))?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        to.write_all(&buf[..n])?;
        *at += n as u64;
    }
    to.flush()
}

/// `sshdeck wait ID`: the job's output as it comes, then its status.
pub async fn wait(a: &WaitArgs) -> Result<ExitCode, CliError> {
    let dir = job_dir(&a.id)?;
    let (mut out_at, mut err_at) = (0, 0);
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    loop {
        if !dir.is_dir() {
            return Err(CliError::BadArg(format!(
                "job {} was collected meanwhile (by another `sshdeck wait`)",
                a.id
            )));
        }
        // The state first: output written before the status is then
        // printed by this same pass.
        let state = state_of(&dir);
        follow(&dir.join("stdout"), &mut out_at, &mut out).map_err(io(&dir))?;
        follow(&dir.join("stderr"), &mut err_at, &mut err).map_err(io(&dir))?;
        match state {
            DetachedState::Running => tokio::time::sleep(FOLLOW_EVERY).await,
            DetachedState::Done(code) => {
                if !a.keep {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                return Ok(ExitCode::from(u8::try_from(code).unwrap_or(255)));
            }
            DetachedState::Lost => {
                return Err(CliError::BadArg(format!(
                    "job {} ended without a status: its process is gone (killed, or the \
                     machine restarted); the output above is all it wrote",
                    a.id
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_job_runs_the_same_command_without_detach_and_never_asks() {
        let args = os(&[
            "-c", "x.toml", "run", "--detach", "-H", "web1", "--", "echo", "--detach",
        ]);
        assert_eq!(
            child_args(args),
            os(&[
                "--batch", "-c", "x.toml", "run", "-H", "web1", "--", "echo", "--detach"
            ])
        );
    }
}
