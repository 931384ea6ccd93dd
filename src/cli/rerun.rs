//! Running again on the hosts of the last run (the engine's run record):
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

use std::path::Path;

use crate::text::sanitize::visible_name;

use super::CliError;
use crate::engine::Target;
use crate::engine::commands::run_record::{Pick, RecordedHost, RecordedTarget, RunRecord};
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

impl From<FromLast> for Pick {
    fn from(w: FromLast) -> Pick {
        match w {
            FromLast::Failed => Pick::Failed,
            FromLast::Ok => Pick::Ok,
            FromLast::Differs => Pick::Differs,
            FromLast::All => Pick::All,
        }
    }
}

/// The record at `path`, as `--hosts-from-last` reads it.
pub fn load(path: &Path) -> Result<RunRecord, CliError> {
    RunRecord::load(path).map_err(|e| CliError::BadArg(format!("--hosts-from-last: {e}")))
}

/// The targets to run on again: each recorded host resolved whole (no
/// node-set expansion), with its user and port as recorded, and refused
/// when the configuration now gives it another address, port, user, jump
/// or proxy. `path` is the record's, for messages.
pub fn targets(
    inv: &Inventory,
    hosts: &[&RecordedHost],
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

    fn inventory(toml: &str) -> Inventory {
        let cfg = crate::inventory::config::Config::parse(Path::new("c.toml"), toml)
            .unwrap_or_else(|e| panic!("{e}"));
        Inventory::new(cfg, None, Default::default())
    }

    const ZZ: &str = "[defaults]\nuser = \"ops\"\n[[hosts]]\nname = \"zz[1-2]\"\naddress = \"10.0.0.7\"\n[[hosts]]\nname = \"zz1\"\n[[hosts]]\nname = \"zz2\"\n";

    fn rerun(inv: &Inventory, hosts: &[RecordedHost]) -> Result<Vec<Target>, String> {
        let refs: Vec<&RecordedHost> = hosts.iter().collect();
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
    }
}
