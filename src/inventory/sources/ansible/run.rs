//! Running an inventory script or `ansible-inventory`: stdin closed, a
//! deadline (a script that hangs must not hang sshdeck), and on failure
//! the exit status with the tail of stderr.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::inventory::sources::SourceError;

/// How long a dynamic inventory may take; cloud inventories may list
/// thousands of hosts, so generous.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(120);

/// What stderr's tail keeps: enough for a traceback's last lines.
const TAIL: usize = 800;

fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    let start = text.char_indices().rev().nth(TAIL).map_or(0, |(i, _)| i);
    crate::text::sanitize::visible_name(&text[start..])
}

fn read_all(mut r: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    rx
}

/// Runs `program args…` in `cwd` and returns its stdout, or why not.
pub(crate) fn run(
    program: &Path,
    args: &[&std::ffi::OsStr],
    cwd: Option<&Path>,
    timeout: Duration,
) -> Result<Vec<u8>, SourceError> {
    let mut what = program.display().to_string();
    for a in args {
        what.push(' ');
        what.push_str(&a.to_string_lossy());
    }
    let what = crate::text::sanitize::visible_name(&what);
    let failed = |status: String, stderr: &[u8]| SourceError::Command {
        what: what.clone(),
        status,
        stderr_tail: tail(stderr),
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| failed(format!("cannot start: {e}"), b""))?;
    let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(failed("no pipes to read".into(), b""));
    };
    let (out, err) = (read_all(out), read_all(err));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = err
                    .recv_timeout(Duration::from_millis(200))
                    .unwrap_or_default();
                return Err(failed(
                    format!("timed out after {}s", timeout.as_secs()),
                    &stderr,
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(failed(format!("cannot wait for it: {e}"), b"")),
        }
    };
    // A background process the script left may hold the pipes open:
    // its output is not waited for past the deadline.
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(200));
    let stdout = out.recv_timeout(left).unwrap_or_default();
    let stderr = err
        .recv_timeout(Duration::from_millis(200))
        .unwrap_or_default();
    if !status.success() {
        let status = match status.code() {
            Some(code) => format!("exit status {code}"),
            None => format!("ended by a signal ({status})"),
        };
        return Err(failed(status, &stderr));
    }
    Ok(stdout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn failures_give_the_status_and_stderr_tail() {
        let e = run(
            Path::new("/bin/sh"),
            &[
                OsStr::new("-c"),
                OsStr::new("echo first >&2; echo 'last words' >&2; exit 3"),
            ],
            None,
            TIMEOUT,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("exit status 3"), "{e}");
        assert!(e.contains("last words"), "{e}");
    }

    #[test]
    fn a_hanging_command_times_out() {
        let started = Instant::now();
        let e = run(
            Path::new("/bin/sh"),
            &[OsStr::new("-c"), OsStr::new("sleep 30")],
            None,
            Duration::from_millis(300),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("timed out"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn stdout_is_returned() {
        let out = run(Path::new("/bin/echo"), &[OsStr::new("hi")], None, TIMEOUT).unwrap();
        assert_eq!(out, b"hi\n");
    }
}
