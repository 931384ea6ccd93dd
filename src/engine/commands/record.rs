//! Recording sessions to disk: shell sessions as asciicast v2 (so
//! `asciinema play` replays them), command output as plain text logs.
//!
//! Both get output after secrets were masked, and never user input (which
//! may hold passwords typed at a prompt, and a command typed with a leading
//! space is meant to be kept nowhere). Files are created 0600: they can
//! hold anything the hosts printed. A recording that cannot be written is
//! reported once and then dropped; it never stops the session.
//!
//! Every event goes to the file as it comes: sshdeck may end by quitting
//! with shells open, SIGTERM, SIGHUP or a panic, and a buffer that only a
//! timer or `finish` emptied lost the last command's output on those ways
//! out. Output arrives in chunks of up to a channel window, so a write per
//! chunk costs little.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::text::ansi::AnsiParser;

fn open_private(path: &Path, append: bool) -> std::io::Result<File> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .mode(0o600)
        .open(path)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `DIR/<host>-<unix time>.cast`, a name that sorts by host, then time.
pub fn cast_path(dir: &Path, host: &str) -> PathBuf {
    dir.join(format!(
        "{}-{}.cast",
        crate::text::file_stem(host),
        unix_now()
    ))
}

/// `DIR/<host>.log`: every command's output for that host, appended.
pub fn log_path(dir: &Path, host: &str) -> PathBuf {
    dir.join(format!("{}.log", crate::text::file_stem(host)))
}

pub struct Asciicast {
    /// Unbuffered: each event is one write(2), on disk whatever ends us.
    out: File,
    start: Instant,
    /// An incomplete UTF-8 character carried to the next chunk (the format
    /// stores output as JSON strings).
    tail: Vec<u8>,
    pub path: PathBuf,
}

impl Asciicast {
    pub fn create(
        path: &Path,
        cols: u16,
        rows: u16,
        term: &str,
        title: &str,
    ) -> std::io::Result<Self> {
        let mut out = open_private(path, false)?;
        let header = serde_json::json!({
            "version": 2,
            "width": cols,
            "height": rows,
            "timestamp": unix_now(),
            "title": title,
            "env": { "TERM": term },
        });
        out.write_all(format!("{header}\n").as_bytes())?;
        Ok(Asciicast {
            out,
            start: Instant::now(),
            tail: Vec::new(),
            path: path.to_path_buf(),
        })
    }

    fn event(&mut self, code: &str, data: &str) -> std::io::Result<()> {
        let t = self.start.elapsed().as_secs_f64();
        let line = serde_json::json!([(t * 1e6).round() / 1e6, code, data]);
        // One write per event, so a reader never meets half a line unless
        // the disk filled.
        self.out.write_all(format!("{line}\n").as_bytes())
    }

    pub fn output(&mut self, data: &[u8]) -> std::io::Result<()> {
        let mut buf = std::mem::take(&mut self.tail);
        buf.extend_from_slice(data);
        let (text, tail) = crate::text::ansi::split_utf8(&buf);
        self.tail = tail.to_vec();
        if text.is_empty() {
            return Ok(());
        }
        let s = String::from_utf8_lossy(text).into_owned();
        self.event("o", &s)
    }

    pub fn resize(&mut self, cols: u16, rows: u16) -> std::io::Result<()> {
        self.event("r", &format!("{cols}x{rows}"))
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        if !self.tail.is_empty() {
            let rest = String::from_utf8_lossy(&std::mem::take(&mut self.tail)).into_owned();
            self.event("o", &rest)?;
        }
        Ok(())
    }
}

/// Plain text of one command's output on one host, appended to the host's
/// log with a header and a footer line. Escape sequences are removed. The
/// header says when, not what: the command is typed input, and one typed
/// with a leading space must be kept nowhere.
pub struct ExecLog {
    /// Unbuffered, as [`Asciicast`]: each finished line is on disk at once.
    out: File,
    stdout: AnsiParser,
    stderr: AnsiParser,
    pub path: PathBuf,
}

impl ExecLog {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let mut out = open_private(path, true)?;
        out.write_all(
            format!(
                "### {} UTC command started\n",
                crate::text::utc_minute(unix_now())
            )
            .as_bytes(),
        )?;
        Ok(ExecLog {
            out,
            stdout: AnsiParser::new(16 * 1024),
            stderr: AnsiParser::new(16 * 1024),
            path: path.to_path_buf(),
        })
    }

    pub fn output(&mut self, stderr: bool, data: &[u8]) -> std::io::Result<()> {
        let mut lines = Vec::new();
        let parser = if stderr {
            &mut self.stderr
        } else {
            &mut self.stdout
        };
        parser.feed(data, &mut |l| lines.push(l.plain()));
        let prefix = if stderr { "[stderr] " } else { "" };
        let text: String = lines.iter().map(|l| format!("{prefix}{l}\n")).collect();
        if !text.is_empty() {
            self.out.write_all(text.as_bytes())?;
        }
        Ok(())
    }

    pub fn finish(mut self, how: &str) -> std::io::Result<()> {
        let mut text = String::new();
        for stderr in [false, true] {
            let mut lines = Vec::new();
            let parser = if stderr {
                &mut self.stderr
            } else {
                &mut self.stdout
            };
            parser.finish(&mut |l| lines.push(l.plain()));
            for l in lines {
                let prefix = if stderr { "[stderr] " } else { "" };
                text.push_str(&format!("{prefix}{l}\n"));
            }
        }
        text.push_str(&format!("### {how}\n"));
        self.out.write_all(text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asciicast_keeps_utf8_split_between_chunks_and_parses_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = cast_path(dir.path(), "web/01");
        let mut c = Asciicast::create(&path, 80, 24, "xterm-256color", "web01").unwrap();
        let snow = "☃".as_bytes();
        c.output(b"a\x1b[1m").unwrap();
        c.output(&snow[..1]).unwrap();
        c.output(&snow[1..]).unwrap();
        c.resize(100, 30).unwrap();
        c.finish().unwrap();
        assert!(
            path.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("web_01-")
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let header: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
        assert_eq!(header["version"], 2);
        assert_eq!(header["width"], 80);
        let events: Vec<serde_json::Value> =
            lines.map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(events.len(), 3);
        assert_eq!(events[0][2], "a\x1b[1m");
        assert_eq!(events[1][2], "☃");
        assert_eq!(events[2][1], "r");
        assert_eq!(events[2][2], "100x30");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn exec_log_appends_plain_text_per_command() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(dir.path(), "db1");
        for _ in ["uptime", "df"] {
            let mut l = ExecLog::open(&path).unwrap();
            l.output(false, b"\x1b[31mred\x1b[0m li").unwrap();
            l.output(false, b"ne\nlast").unwrap();
            l.output(true, b"oops\n").unwrap();
            l.finish("exit 0").unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("### ") && lines[0].ends_with(" UTC command started"));
        assert_eq!(
            &lines[1..5],
            ["red line", "[stderr] oops", "last", "### exit 0"]
        );
        assert!(lines[5].ends_with(" UTC command started"));
        assert_eq!(lines.len(), 10);
    }

    /// A process that ends without `finish` or drop (exit, a signal's
    /// default action, abort) still leaves every event received on disk.
    #[test]
    fn recordings_are_on_disk_before_finish() {
        let dir = tempfile::tempdir().unwrap();
        let cast = cast_path(dir.path(), "web1");
        let mut c = Asciicast::create(&cast, 80, 24, "xterm", "web1").unwrap();
        c.output(b"$ last-command\r\nlast-output\r\n").unwrap();
        std::mem::forget(c);
        let text = std::fs::read_to_string(&cast).unwrap();
        assert!(text.contains("last-output"), "{text}");
        let log = log_path(dir.path(), "web1");
        let mut l = ExecLog::open(&log).unwrap();
        l.output(false, b"line-one\n").unwrap();
        std::mem::forget(l);
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.ends_with("line-one\n"), "{text}");
    }
}
