//! The command history file: one JSON string per line (so multi-line
//! commands survive), appended as commands run, deduplicated when read.
//! Several sshdeck processes may append at once; each write is one line
//! with O_APPEND, so none is lost, and the file is compacted only when it
//! has grown to twice what is kept, under an exclusive lock that appends
//! also take, so a compaction never drops another process's command.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::engine::private_file;

/// Commands kept; older ones are dropped at compaction.
pub const KEEP: usize = 5_000;

/// `$XDG_STATE_HOME/sshdeck/history`, else `~/.local/state/sshdeck/history`.
pub fn default_path() -> Option<PathBuf> {
    crate::engine::connection::target::state_dir().map(|d| d.join("history"))
}

/// The saved commands, oldest first, each once (its latest use counts).
/// A missing file is an empty history; a line that is not a JSON string is
/// skipped (a crash mid-write leaves at most one such line).
pub fn load(path: &Path) -> io::Result<Vec<String>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let all: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<String>(l).ok())
        .collect();
    let lines = text.lines().count();
    let kept = dedup(all);
    if lines > 2 * KEEP {
        let _lock = lock(path)?;
        // Read again under the lock: appends since the first read stay.
        let text = fs::read_to_string(path)?;
        let all = text
            .lines()
            .filter_map(|l| serde_json::from_str::<String>(l).ok())
            .collect();
        let kept = dedup(all);
        rewrite(path, &kept)?;
        return Ok(kept);
    }
    Ok(kept)
}

fn dedup(all: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<String> = all
        .into_iter()
        .rev()
        .filter(|c| seen.insert(c.clone()))
        .take(KEEP)
        .collect();
    out.reverse();
    out
}

/// Append one command, creating the file 0600 in a 0700 directory.
pub fn append(path: &Path, command: &str) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        private_file::private_dir(dir)?;
    }
    let mut line = serde_json::to_string(command).map_err(io::Error::other)?;
    line.push('\n');
    let _lock = lock(path)?;
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    // A file made by an older version or another tool may be wider open.
    let perms = f.metadata()?.permissions();
    if perms.mode() & 0o077 != 0 {
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    // A command run again right away is not written again: the file
    // holds no consecutive repeats (the lock makes the check and the
    // append one step for every sshdeck process).
    if ends_with_line(path, line.as_bytes())? {
        return Ok(());
    }
    f.write_all(line.as_bytes())
}

/// Whether the file's last line is `line` (which ends in a newline): only
/// its tail is read, so appending stays cheap however long the file is.
fn ends_with_line(path: &Path, line: &[u8]) -> io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = fs::File::open(path)?;
    let len = f.metadata()?.len();
    let want = line.len() as u64;
    if len < want {
        return Ok(false);
    }
    // One byte more than the line, to see that a newline precedes it.
    let start = len.saturating_sub(want + 1);
    f.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::with_capacity((len - start) as usize);
    f.take(len - start).read_to_end(&mut tail)?;
    Ok(tail.ends_with(line) && (tail.len() == line.len() || tail[0] == b'\n'))
}

/// Replace the file with `kept`, atomically, still 0600.
fn rewrite(path: &Path, kept: &[String]) -> io::Result<()> {
    let mut text = String::new();
    for c in kept {
        text.push_str(&serde_json::to_string(c).map_err(io::Error::other)?);
        text.push('\n');
    }
    private_file::write_atomic(path, text.as_bytes())
}

/// The lock appends and compaction share: `history.lock` beside the file.
fn lock(path: &Path) -> io::Result<Option<fs::File>> {
    private_file::lock(&path.with_extension("lock"), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_dedups_and_keeps_multiline_commands() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("state/sshdeck/history");
        for c in [
            "uptime",
            "for i in 1 2; do\n  echo $i\ndone",
            "df -h",
            "uptime",
        ] {
            append(&path, c).unwrap_or_else(|e| panic!("{e}"));
        }
        let h = load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            h,
            vec!["for i in 1 2; do\n  echo $i\ndone", "df -h", "uptime"]
        );
        let mode = |p: &Path| {
            fs::metadata(p)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0)
        };
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap_or(&path)), 0o700);
    }

    #[test]
    fn a_command_repeated_at_once_is_written_once() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("history");
        for c in ["uptime", "uptime", "df -h", "uptime", "uptime", "uptime"] {
            append(&path, c).unwrap_or_else(|e| panic!("{e}"));
        }
        let text = fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(text, "\"uptime\"\n\"df -h\"\n\"uptime\"\n");
        // A last line that only ends like the command (`"\"b"` and `"b"`)
        // is another command.
        append(&path, "\"b").unwrap_or_else(|e| panic!("{e}"));
        append(&path, "b").unwrap_or_else(|e| panic!("{e}"));
        let h = load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(h, vec!["df -h", "uptime", "\"b", "b"]);
    }

    #[test]
    fn a_torn_line_is_skipped_and_a_long_file_is_compacted() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("history");
        let mut text = String::new();
        for i in 0..(2 * KEEP + 10) {
            text.push_str(&format!("\"cmd {}\"\n", i % (KEEP + 5)));
        }
        text.push_str("\"torn");
        fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        let h = load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(h.len(), KEEP);
        assert_eq!(
            h.last().map(String::as_str),
            Some(format!("cmd {}", (2 * KEEP + 9) % (KEEP + 5)).as_str())
        );
        let lines = fs::read_to_string(&path)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        assert_eq!(lines, KEEP);
    }
}
