//! The record of the last run: which hosts a command ran on, where each
//! one connected, and how it ended. `sshdeck run` and the TUI both write
//! it to the state directory (0600, written whole then renamed), and
//! `sshdeck run --hosts-from-last` reads it back to run on exactly the
//! failed, ok or differing hosts again.
//!
//! It lives in the engine because both front ends write the same record
//! from the same results; reading it back as hosts to run on needs the
//! inventory, which is the CLI's part (cli/rerun.rs).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::commands::outcome::NO_RESULT;
use crate::engine::{HostOutcome, Target};

/// Why a record could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("no earlier run is recorded ({} does not exist)", .0.display())]
    Missing(PathBuf),
    #[error("cannot read {}: {error}", path.display())]
    Unreadable {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{} is not a run record: {error}", path.display())]
    Malformed {
        path: PathBuf,
        error: serde_json::Error,
    },
}

/// Which hosts of a recorded run to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Hosts where the command did not exit 0 (or could not run).
    Failed,
    /// Hosts where it exited 0.
    Ok,
    /// Hosts outside the largest group of identical results.
    Differs,
    /// Every host of the run.
    All,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RunRecord {
    pub command: String,
    pub hosts: Vec<RecordedHost>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RecordedHost {
    /// The host as it was selected (`-H`), taken whole when selected again.
    pub label: String,
    /// Where it ran; absent in records from before targets were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<RecordedTarget>,
    pub ok: bool,
    /// "exit 3", "timeout", …
    pub outcome: String,
    /// What the host printed, as `output_digest` hashes it: the SHA-256
    /// of its stdout's and its stderr's SHA-256.
    pub digest: String,
}

impl RecordedHost {
    /// How `label` ended on `target` (`None`: it never reported), and the
    /// digests of its stdout and stderr. Both front ends record through
    /// this, so a host is "ok" and its outcome worded the same in each.
    pub fn new(
        label: String,
        target: RecordedTarget,
        outcome: Option<&HostOutcome>,
        digests: [[u8; 32]; 2],
    ) -> RecordedHost {
        RecordedHost {
            label,
            target: Some(target),
            ok: outcome.is_some_and(HostOutcome::ok),
            outcome: outcome.map_or_else(|| NO_RESULT.to_string(), HostOutcome::kind),
            digest: output_digest(digests),
        }
    }
}

/// The resolved target a host ran on, as the record keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedTarget {
    pub address: String,
    pub port: u16,
    pub user: String,
    /// Jump hosts, nearest first, as `user@address:port`.
    #[serde(default)]
    pub jump: Vec<String>,
    /// Whether a ProxyCommand carried the connection. The command itself
    /// is not kept: it is read from ssh_config again, so a record can
    /// never carry a command of its own to a shell.
    #[serde(default)]
    pub proxy: bool,
}

impl RecordedTarget {
    pub fn of(t: &Target) -> RecordedTarget {
        RecordedTarget {
            address: t.host.clone(),
            port: t.port,
            user: t.user.clone(),
            jump: t
                .opts
                .jump
                .iter()
                .map(|j| {
                    format!(
                        "{}@{}",
                        j.user,
                        crate::engine::display_addr(&j.host, j.port)
                    )
                })
                .collect(),
            proxy: t.opts.jump.is_empty() && t.opts.proxy_command.is_some(),
        }
    }
}

impl std::fmt::Display for RecordedTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}@{}",
            self.user,
            crate::engine::display_addr(&self.address, self.port)
        )?;
        if !self.jump.is_empty() {
            write!(f, " via {}", self.jump.join(","))?;
        }
        if self.proxy {
            f.write_str(" through a ProxyCommand")?;
        }
        Ok(())
    }
}

/// A host's output digest as the record keeps it: the SHA-256 of its
/// stdout's and stderr's SHA-256, in hex. The headless run and the TUI
/// both hash each stream as it arrives, so both give the same value.
pub fn output_digest([out, err]: [[u8; 32]; 2]) -> String {
    use sha2::{Digest, Sha256};
    let mut both = Sha256::new();
    both.update(out);
    both.update(err);
    data_encoding::HEXLOWER.encode(&both.finalize())
}

pub fn default_path() -> Option<PathBuf> {
    crate::engine::connection::target::state_dir().map(|d| d.join("last-run.json"))
}

impl RunRecord {
    /// Written whole to a temp file and renamed, 0600: a crash never leaves
    /// half a record, and other users cannot read what ran where.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        crate::engine::private_file::write_atomic(path, &text)
    }

    pub fn load(path: &Path) -> Result<RunRecord, RecordError> {
        let text = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => RecordError::Missing(path.to_path_buf()),
            _ => RecordError::Unreadable {
                path: path.to_path_buf(),
                error: e,
            },
        })?;
        serde_json::from_slice(&text).map_err(|error| RecordError::Malformed {
            path: path.to_path_buf(),
            error,
        })
    }

    /// The hosts `which` picks, in the order of the last run.
    pub fn pick(&self, which: Pick) -> Vec<&RecordedHost> {
        let largest = {
            let mut sizes: HashMap<(&str, &str), usize> = HashMap::new();
            for h in &self.hosts {
                *sizes.entry((&h.outcome, &h.digest)).or_default() += 1;
            }
            // Ties go to the group that appears first, so it is stable.
            self.hosts
                .iter()
                .map(|h| (h.outcome.as_str(), h.digest.as_str()))
                .max_by_key(|k| (sizes[k], std::cmp::Reverse(self.position(*k))))
        };
        self.hosts
            .iter()
            .filter(|h| match which {
                Pick::Failed => !h.ok,
                Pick::Ok => h.ok,
                Pick::All => true,
                Pick::Differs => Some((h.outcome.as_str(), h.digest.as_str())) != largest,
            })
            .collect()
    }

    fn position(&self, key: (&str, &str)) -> usize {
        self.hosts
            .iter()
            .position(|h| (h.outcome.as_str(), h.digest.as_str()) == key)
            .unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(label: &str, ok: bool, outcome: &str, digest: &str) -> RecordedHost {
        RecordedHost {
            label: label.into(),
            target: None,
            ok,
            outcome: outcome.into(),
            digest: digest.into(),
        }
    }

    #[test]
    fn picks_failed_ok_and_the_hosts_outside_the_largest_group() {
        let run = RunRecord {
            command: "check".into(),
            hosts: vec![
                host("a", true, "exit 0", "d1"),
                host("b", false, "exit 1", "d2"),
                host("c", true, "exit 0", "d1"),
                host("d", true, "exit 0", "d3"),
                host("e", false, "timeout", "d0"),
            ],
        };
        let labels = |w| -> Vec<String> { run.pick(w).iter().map(|h| h.label.clone()).collect() };
        assert_eq!(labels(Pick::Failed), ["b", "e"]);
        assert_eq!(labels(Pick::Ok), ["a", "c", "d"]);
        assert_eq!(labels(Pick::Differs), ["b", "d", "e"]);
        assert_eq!(run.pick(Pick::All).len(), 5);
    }

    #[test]
    fn saves_private_and_reads_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("state/sshdeck/last-run.json");
        let run = RunRecord {
            command: "uptime".into(),
            hosts: vec![host("a", true, "exit 0", "d")],
        };
        run.save(&path).unwrap_or_else(|e| panic!("{e}"));
        let back = RunRecord::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.command, "uptime");
        let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
        assert_eq!(mode.ok(), Some(0o600));
        let missing = RunRecord::load(&dir.path().join("nope"))
            .err()
            .map(|e| e.to_string());
        assert!(
            missing
                .unwrap_or_default()
                .contains("no earlier run is recorded")
        );
    }

    #[test]
    fn a_record_from_before_targets_were_kept_still_reads() {
        let old: RunRecord = serde_json::from_str(
            r#"{"command":"x","hosts":[{"label":"zz1","ok":false,"outcome":"exit 1","digest":"d"}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(old.hosts[0].target.is_none());
    }
}
