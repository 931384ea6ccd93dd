//! What the last `sshdeck run` did on each host, kept in the state
//! directory so the next run can act on it:
//! `sshdeck run --hosts-from-last failed -- systemctl restart app`.
//!
//! Each host keeps the target it ran on (address, port, user, jumps), and
//! a rerun takes exactly those: each recorded name is resolved whole, never
//! expanded as a node set again (a config host literally named `zz[1-2]`
//! stays one host), with its user and port as they were, and refused if
//! the configuration now sends it elsewhere. Names read back pass the same
//! shell-safety check as names typed on the command line.
//!
//! Records written before targets were kept hold only each host's name.
//! They are still read: each name is taken whole, as one host, and checked
//! like any other name. That is what the run meant for every name but a
//! bracketed one, which it now also gets right; refusing them would only
//! make the user retype a host list the record already has.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::text::sanitize::visible_name;

use super::CliError;
use crate::engine::Target;
use crate::inventory::resolve::Inventory;

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

/// The targets to run on again: each recorded host resolved whole (no
/// node-set expansion), with its user and port as recorded, and refused
/// when the configuration now gives it another address, port, user, jump
/// or proxy. `path` is the record's, for messages.
pub fn targets(
    inv: &Inventory,
    hosts: &[&HostResult],
    path: &Path,
) -> Result<Vec<Target>, CliError> {
    let origin = format!("last-run record {}", path.display());
    let mut out: Vec<Target> = Vec::with_capacity(hosts.len());
    for h in hosts {
        let t = match &h.target {
            Some(was) => {
                let t = inv.target_pinned(&h.label, &was.user, was.port, &origin)?;
                let now = RecordedTarget::of(&t);
                if &now != was {
                    return Err(CliError::BadArg(format!(
                        "--hosts-from-last: {}: the last run connected to {}, the configuration now gives {}; select it with -H to run on the new target",
                        visible_name(&h.label),
                        visible_name(&was.to_string()),
                        visible_name(&now.to_string()),
                    )));
                }
                t
            }
            None => inv.target_from(&h.label, &origin)?,
        };
        if !out.iter().any(|o| o.label == t.label) {
            out.push(t);
        }
    }
    Ok(out)
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

    /// The hosts `which` picks, in the order of the last run.
    pub fn pick(&self, which: FromLast) -> Vec<&HostResult> {
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
            target: None,
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
        let labels = |w| -> Vec<String> { run.pick(w).iter().map(|h| h.label.clone()).collect() };
        assert_eq!(labels(FromLast::Failed), ["b", "e"]);
        assert_eq!(labels(FromLast::Ok), ["a", "c", "d"]);
        assert_eq!(labels(FromLast::Differs), ["b", "d", "e"]);
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

    fn inventory(toml: &str) -> Inventory {
        let cfg = crate::inventory::config::Config::parse(Path::new("c.toml"), toml)
            .unwrap_or_else(|e| panic!("{e}"));
        Inventory::new(cfg, None, Default::default())
    }

    const ZZ: &str = "[defaults]\nuser = \"ops\"\n[[hosts]]\nname = \"zz[1-2]\"\naddress = \"10.0.0.7\"\n[[hosts]]\nname = \"zz1\"\n[[hosts]]\nname = \"zz2\"\n";

    fn rerun(inv: &Inventory, hosts: &[HostResult]) -> Result<Vec<Target>, String> {
        let refs: Vec<&HostResult> = hosts.iter().collect();
        targets(inv, &refs, Path::new("/s/last-run.json")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_rerun_takes_the_recorded_targets_without_expanding_them() {
        let inv = inventory(ZZ);
        // The first run selected the config host literally named zz[1-2].
        let ran = inv.target("zz[1-2]").unwrap_or_else(|e| panic!("{e}"));
        let mut h = host("zz[1-2]", false, "exit 1", "d");
        h.target = Some(RecordedTarget::of(&ran));
        let again = rerun(&inv, &[h]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.len(), 1);
        assert_eq!(
            (
                again[0].label.as_str(),
                again[0].host.as_str(),
                again[0].user.as_str()
            ),
            ("zz[1-2]", "10.0.0.7", "ops")
        );
        // An old record, with names only: each is still one host.
        let old = rerun(&inv, &[host("zz[1-2]", false, "exit 1", "d")]).unwrap_or_default();
        assert_eq!(old.len(), 1);
        assert_eq!(old[0].host, "10.0.0.7");
    }

    #[test]
    fn the_recorded_user_and_port_hold_and_a_moved_host_is_refused() {
        let inv = inventory(ZZ);
        let mut h = host("zz1", true, "exit 0", "d");
        h.target = Some(RecordedTarget {
            address: "zz1".into(),
            port: 2200,
            user: "admin".into(),
            jump: Vec::new(),
            proxy: false,
        });
        let t = rerun(&inv, std::slice::from_ref(&h)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (t[0].label.as_str(), t[0].user.as_str(), t[0].port),
            ("zz1", "admin", 2200)
        );
        if let Some(rt) = &mut h.target {
            rt.address = "10.9.9.9".into();
        }
        let e = rerun(&inv, &[h]).err().unwrap_or_default();
        assert!(
            e.contains("zz1: the last run connected to admin@10.9.9.9:2200, the configuration now gives admin@zz1:2200"),
            "{e}"
        );
    }

    #[test]
    fn names_read_back_are_checked_like_typed_ones() {
        let inv = inventory(ZZ);
        let e = rerun(&inv, &[host("a$(>pwned)", false, "exit 1", "d")])
            .err()
            .unwrap_or_default();
        assert!(
            e.starts_with("last-run record /s/last-run.json: host name \"a$(>pwned)\""),
            "{e}"
        );
        let mut h = host("zz1", false, "exit 1", "d");
        h.target = Some(RecordedTarget {
            address: "zz1".into(),
            port: 22,
            user: "u;x".into(),
            jump: Vec::new(),
            proxy: false,
        });
        let e = rerun(&inv, &[h]).err().unwrap_or_default();
        assert!(e.contains("user name \"u;x\""), "{e}");
        // A record from before targets were kept still reads.
        let old: LastRun = serde_json::from_str(
            r#"{"command":"x","hosts":[{"label":"zz1","ok":false,"outcome":"exit 1","digest":"d"}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(old.hosts[0].target.is_none());
    }
}
