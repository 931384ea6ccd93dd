//! Upcall sources: groups.conf sections whose `map`, `list` and `all`
//! are shell commands. They run as ClusterShell runs them (`sh -c`, in
//! the source's `$CFGDIR`, with `$GROUP`, `$SOURCE` and `$CFGDIR`
//! substituted), and each answer is kept for `cache_time` seconds.
//!
//! Unlike ClusterShell, a command gets no standard input, must finish
//! within a timeout, and a group name is refused before it reaches the
//! shell if the shell would read anything in it but a word.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::config::{substitute, visible};
use crate::inventory::nodeset::{NoGroups, expand, fold};
use crate::inventory::sources::{GroupDef, GroupSource, Origin, SourceError};

/// ClusterShell's default `cache_time`.
pub const DEFAULT_CACHE_TIME: Duration = Duration::from_secs(3600);
/// How long one upcall may run.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// An answer past this size is refused rather than held in memory.
const MAX_OUTPUT: usize = 64 << 20;
/// How much of a failing command's stderr its error shows.
const STDERR_TAIL: usize = 400;

/// One upcall command and where groups.conf writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upcall {
    pub command: String,
    pub origin: Origin,
}

#[derive(Debug)]
pub struct UpcallSource {
    pub name: String,
    pub map: Upcall,
    pub all: Option<Upcall>,
    pub list: Option<Upcall>,
    /// The upcalls' working directory and `$CFGDIR`.
    pub cfgdir: PathBuf,
    /// None: answers never expire.
    pub cache_time: Option<Duration>,
    pub timeout: Duration,
    cache: Mutex<HashMap<UpcallKey, (String, Option<Instant>)>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum UpcallKey {
    Map(String),
    List,
    All,
}

impl UpcallSource {
    pub fn new(
        name: String,
        map: Upcall,
        all: Option<Upcall>,
        list: Option<Upcall>,
        cfgdir: PathBuf,
        cache_time: Option<Duration>,
    ) -> UpcallSource {
        UpcallSource {
            name,
            map,
            all,
            list,
            cfgdir,
            cache_time,
            timeout: DEFAULT_TIMEOUT,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// An upcall's answer, from the cache while it is fresh.
    fn cached(
        &self,
        key: UpcallKey,
        upcall: &Upcall,
        group: Option<&str>,
    ) -> Result<String, SourceError> {
        let now = Instant::now();
        if let Ok(cache) = self.cache.lock()
            && let Some((answer, expiry)) = cache.get(&key)
            && expiry.is_none_or(|e| now < e)
        {
            return Ok(answer.clone());
        }
        let cfgdir = self.cfgdir.display().to_string();
        let mut vars = vec![("CFGDIR", cfgdir.as_str()), ("SOURCE", self.name.as_str())];
        if let Some(g) = group {
            vars.push(("GROUP", g));
        }
        let command = substitute(&upcall.command, &vars);
        let answer = self.run(&command, upcall)?;
        // The expiry counts from the call, as ClusterShell's does.
        let expiry = self.cache_time.and_then(|t| now.checked_add(t));
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, (answer.clone(), expiry));
        }
        Ok(answer)
    }

    fn run(&self, command: &str, upcall: &Upcall) -> Result<String, SourceError> {
        let what = format!(
            "ClusterShell source {} ({}): `{}`",
            visible(&self.name),
            upcall.origin,
            visible(command)
        );
        let failed = |status: String, stderr: &[u8]| SourceError::Command {
            what: what.clone(),
            status,
            stderr_tail: tail(stderr),
        };
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(command)
            .current_dir(&self.cfgdir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so a timeout ends what it started too.
            .process_group(0)
            .spawn()
            .map_err(|e| failed(format!("cannot start: {e}"), b""))?;
        let out = child.stdout.take().map(reader);
        let err = child.stderr.take().map(reader);
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) if Instant::now() >= deadline => break Err(()),
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(failed(format!("cannot wait: {e}"), b"")),
            }
        };
        if status.is_err() {
            kill_group(&child);
            let _ = child.wait();
        }
        let stdout = out.and_then(|h| h.join().ok()).unwrap_or_default();
        let stderr = err.and_then(|h| h.join().ok()).unwrap_or_default();
        let status = match status {
            Ok(s) => s,
            Err(()) => {
                return Err(failed(
                    format!("did not finish within {} s", self.timeout.as_secs_f64()),
                    &stderr,
                ));
            }
        };
        if !status.success() {
            let status = match status.code() {
                Some(c) => format!("exit status {c}"),
                None => format!("ended by a signal ({status})"),
            };
            return Err(failed(status, &stderr));
        }
        if stdout.len() > MAX_OUTPUT {
            return Err(failed(
                format!("answered more than {MAX_OUTPUT} bytes"),
                b"",
            ));
        }
        let text = String::from_utf8(stdout)
            .map_err(|_| failed("answered text that is not UTF-8".into(), b""))?;
        Ok(text.trim().to_string())
    }
}

/// Read a pipe to its end (up to just past MAX_OUTPUT) on its own thread,
/// so a full stderr pipe never blocks a command we wait for.
fn reader<R: Read + Send + 'static>(pipe: R) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.take(MAX_OUTPUT as u64 + 1).read_to_end(&mut buf);
        buf
    })
}

fn kill_group(child: &std::process::Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a process group we created; no memory involved.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// The last lines of stderr, sanitized for a terminal.
fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    let start = text
        .char_indices()
        .rev()
        .nth(STDERR_TAIL)
        .map_or(0, |(i, _)| i);
    let shown: Vec<String> = text[start..]
        .lines()
        .map(crate::text::sanitize::visible_name)
        .collect();
    shown.join(" | ")
}

/// An upcall's answer as a node set: its words joined by ','.
pub fn words_to_nodes(answer: &str) -> String {
    compact(answer.split_whitespace())
}

/// Node sets joined by ',', folded (`n1,n2,n3` → `n[1-3]`) when none
/// names a group or holds an operator: a group of 10,000 listed names
/// then costs one range to expand, not 10,000 unions. Anything else, or
/// a set that does not parse (its error is for the inventory to give
/// with its context), is joined as it is.
pub fn compact<'a>(sets: impl Iterator<Item = &'a str> + Clone) -> String {
    let joined = || {
        sets.clone()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(",")
    };
    if sets.clone().any(|s| s.contains(['@', '!', '&', '^'])) {
        return joined();
    }
    let mut seen = std::collections::HashSet::new();
    let mut names = Vec::new();
    for set in sets.clone().filter(|s| !s.is_empty()) {
        let Ok(expanded) = expand(set, &NoGroups) else {
            return joined();
        };
        for name in expanded.into_vec() {
            if seen.insert(name.clone()) {
                names.push(name);
            }
        }
    }
    if names.is_empty() {
        return String::new();
    }
    fold(&names)
}

/// Whether a group name can be put in a shell command as it is: only
/// characters no shell gives a meaning to.
pub fn shell_safe_group(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-:/%=".contains(c))
}

impl GroupSource for UpcallSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn describe(&self) -> String {
        format!("ClusterShell source {}", visible(&self.name))
    }

    fn group(&self, group: &str) -> Result<Option<GroupDef>, SourceError> {
        if !shell_safe_group(group) {
            return Err(SourceError::Invalid {
                origin: self.map.origin.clone(),
                msg: format!(
                    "group name {:?} holds characters the map upcall's shell would interpret",
                    visible(group)
                ),
            });
        }
        let answer = self.cached(UpcallKey::Map(group.to_string()), &self.map, Some(group))?;
        Ok(Some(GroupDef {
            nodes: words_to_nodes(&answer),
            origin: self.map.origin.clone(),
        }))
    }

    fn group_names(&self) -> Result<Option<Vec<String>>, SourceError> {
        let Some(list) = &self.list else {
            return Ok(None);
        };
        let answer = self.cached(UpcallKey::List, list, None)?;
        super::names::checked(answer.split_whitespace(), &list.origin).map(Some)
    }

    fn all_nodes(&self) -> Result<Option<String>, SourceError> {
        if let Some(all) = &self.all {
            return Ok(Some(words_to_nodes(&self.cached(
                UpcallKey::All,
                all,
                None,
            )?)));
        }
        // ClusterShell's fallback: every listed group's nodes.
        let Some(names) = self.group_names()? else {
            return Ok(None);
        };
        let mut parts = Vec::new();
        for name in names {
            if let Some(def) = self.group(&name)? {
                parts.push(def.nodes);
            }
        }
        Ok(Some(compact(parts.iter().map(String::as_str))))
    }
}

#[cfg(test)]
#[path = "upcall_tests.rs"]
mod tests;
