//! Turning what the user typed into engine targets.

use thiserror::Error;

use super::config::Config;
use super::hostspec::{HostSpec, HostSpecError};
use crate::engine::Target;

/// Command-line overrides that apply to every host.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub user: Option<String>,
    pub port: Option<u16>,
}

#[derive(Debug, Error)]
pub enum ResolveError {
    #[error("host {0}")]
    Spec(#[from] HostSpecError),
    #[error(
        "no hosts given: pass -H HOSTS (e.g. -H web1,admin@db:2222) or --all for every configured host"
    )]
    NoHosts,
}

/// Resolve a comma-separated host list. Each item is a configured host name
/// or `[user@]host[:port]`. Duplicates are dropped, first occurrence wins.
pub fn resolve_list(list: &str, cfg: &Config, ov: &Overrides) -> Result<Vec<Target>, ResolveError> {
    let mut out: Vec<Target> = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let t = match from_config(item, cfg, ov) {
            Some(t) => t,
            None => from_spec(&HostSpec::parse(item)?, cfg, ov),
        };
        if !out.iter().any(|o| o.label == t.label) {
            out.push(t);
        }
    }
    if out.is_empty() {
        return Err(ResolveError::NoHosts);
    }
    Ok(out)
}

/// Every host defined in the config, in file order.
pub fn resolve_all(cfg: &Config, ov: &Overrides) -> Result<Vec<Target>, ResolveError> {
    let out: Vec<Target> = cfg
        .hosts
        .iter()
        .filter_map(|h| from_config(h.name.get_ref(), cfg, ov))
        .collect();
    if out.is_empty() {
        return Err(ResolveError::NoHosts);
    }
    Ok(out)
}

fn from_config(name: &str, cfg: &Config, ov: &Overrides) -> Option<Target> {
    let h = cfg.host(name)?;
    Some(Target {
        label: name.to_string(),
        host: h.address.clone().unwrap_or_else(|| name.to_string()),
        port: ov.port.or(h.port).or(cfg.defaults.port).unwrap_or(22),
        user: pick_user(ov.user.as_ref().or(h.user.as_ref()), cfg),
    })
}

fn from_spec(spec: &HostSpec, cfg: &Config, ov: &Overrides) -> Target {
    // An explicit user@ or :port in the spec beats the global flags, the way
    // `ssh -l other user@host` keeps `user`.
    let port = spec.port.or(ov.port).or(cfg.defaults.port).unwrap_or(22);
    let user = pick_user(spec.user.as_ref().or(ov.user.as_ref()), cfg);
    let label = format!("{user}@{}", crate::engine::display_addr(&spec.host, port));
    Target {
        label,
        host: spec.host.clone(),
        port,
        user,
    }
}

fn pick_user(explicit: Option<&String>, cfg: &Config) -> String {
    explicit
        .or(cfg.defaults.user.as_ref())
        .cloned()
        .unwrap_or_else(crate::engine::target::local_user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn cfg() -> Config {
        Config::parse(
            Path::new("c"),
            "[defaults]\nuser = \"ops\"\n[[hosts]]\nname = \"web1\"\naddress = \"10.0.0.1\"\nport = 2200\n",
        )
        .unwrap()
    }

    #[test]
    fn config_names_and_specs_mix() {
        let t = resolve_list("web1, admin@db:2222,db2", &cfg(), &Overrides::default()).unwrap();
        assert_eq!(t[0].label, "web1");
        assert_eq!(
            (t[0].host.as_str(), t[0].port, t[0].user.as_str()),
            ("10.0.0.1", 2200, "ops")
        );
        assert_eq!(t[1].label, "admin@db:2222");
        assert_eq!(t[2].label, "ops@db2:22");
    }

    #[test]
    fn overrides_apply_but_spec_wins() {
        let ov = Overrides {
            user: Some("x".into()),
            port: Some(2022),
        };
        let t = resolve_list("a@h:1,h2,web1", &cfg(), &ov).unwrap();
        assert_eq!(t[0].label, "a@h:1");
        assert_eq!(t[1].label, "x@h2:2022");
        assert_eq!((t[2].user.as_str(), t[2].port), ("x", 2022));
    }

    #[test]
    fn empty_and_bad_lists_error() {
        assert!(matches!(
            resolve_list(" , ", &cfg(), &Overrides::default()),
            Err(ResolveError::NoHosts)
        ));
        let e = resolve_list("h:abc", &cfg(), &Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("bad port \"abc\""), "{e}");
    }

    #[test]
    fn duplicates_are_dropped() {
        let t = resolve_list(
            "h,h,u@h:22",
            &Config::default(),
            &Overrides {
                user: Some("u".into()),
                port: None,
            },
        )
        .unwrap();
        assert_eq!(t.len(), 1);
    }
}
