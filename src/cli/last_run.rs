//! What the last `sshdeck run` did on each host, kept in the state
//! directory so the next run can act on it:
//! `sshdeck run --hosts-from-last failed -- systemctl restart app`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::CliError;

/// Which hosts of the last run to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FromLast {
    /// Hosts where the command did not exit 0 (or could not run)
    Failed,
    /// Hosts where it exited 0
    Ok,
    /// Hosts outside the largest group of identical results
    Differs,
    /// Every host of the last run
    All,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct LastRun {
    pub command: String,
    pub hosts: Vec<HostResult>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct HostResult {
    /// The host as the inventory names it (selectable again).
    pub label: String,
    pub ok: bool,
    /// "exit 3", "timeout", …
    pub outcome: String,
    /// What the host printed, as `output_digest` hashes it: the SHA-256
    /// of its stdout's and its stderr's SHA-256.
    pub digest: String,
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
    crate::engine::target::state_dir().map(|d| d.join("last-run.json"))
}

impl LastRun {
    /// Written whole to a temp file and renamed, 0600: a crash never leaves
    /// half a record, and other users cannot read what ran where.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        crate::engine::private_file::write_atomic(path, &text)
    }

    pub fn load(path: &Path) -> Result<LastRun, CliError> {
        let text = std::fs::read(path).map_err(|e| {
            CliError::BadArg(if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "--hosts-from-last: no earlier run is recorded ({} does not exist)",
                    path.display()
                )
            } else {
                format!("--hosts-from-last: cannot read {}: {e}", path.display())
            })
        })?;
        serde_json::from_slice(&text).map_err(|e| {
            CliError::BadArg(format!(
                "--hosts-from-last: {} is not a run record: {e}",
                path.display()
            ))
        })
    }

    /// The labels `which` picks, in the order of the last run.
    pub fn pick(&self, which: FromLast) -> Vec<String> {
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
                FromLast::Failed => !h.ok,
                FromLast::Ok => h.ok,
                FromLast::All => true,
                FromLast::Differs => Some((h.outcome.as_str(), h.digest.as_str())) != largest,
            })
            .map(|h| h.label.clone())
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

    fn host(label: &str, ok: bool, outcome: &str, digest: &str) -> HostResult {
        HostResult {
            label: label.into(),
            ok,
            outcome: outcome.into(),
            digest: digest.into(),
        }
    }

    #[test]
    fn picks_failed_ok_and_the_hosts_outside_the_largest_group() {
        let run = LastRun {
            command: "check".into(),
            hosts: vec![
                host("a", true, "exit 0", "d1"),
                host("b", false, "exit 1", "d2"),
                host("c", true, "exit 0", "d1"),
                host("d", true, "exit 0", "d3"),
                host("e", false, "timeout", "d0"),
            ],
        };
        assert_eq!(run.pick(FromLast::Failed), ["b", "e"]);
        assert_eq!(run.pick(FromLast::Ok), ["a", "c", "d"]);
        assert_eq!(run.pick(FromLast::Differs), ["b", "d", "e"]);
        assert_eq!(run.pick(FromLast::All).len(), 5);
    }

    #[test]
    fn saves_private_and_reads_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("state/sshdeck/last-run.json");
        let run = LastRun {
            command: "uptime".into(),
            hosts: vec![host("a", true, "exit 0", "d")],
        };
        run.save(&path).unwrap_or_else(|e| panic!("{e}"));
        let back = LastRun::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.command, "uptime");
        let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
        assert_eq!(mode.ok(), Some(0o600));
        let missing = LastRun::load(&dir.path().join("nope"))
            .err()
            .map(|e| e.to_string());
        assert!(missing.unwrap_or_default().contains("no earlier run"));
    }
}
