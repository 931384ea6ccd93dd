//! `[user@]host[:port]` as typed on the command line.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpec {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum HostSpecError {
    #[error("empty host name in {0:?}")]
    Empty(String),
    #[error("bad port {port:?} in {spec:?}: expected a number from 1 to 65535")]
    BadPort { spec: String, port: String },
    #[error("unclosed '[' in {0:?}: write IPv6 addresses as [addr]:port")]
    Unclosed(String),
    #[error("{0:?} contains whitespace")]
    Whitespace(String),
}

impl HostSpec {
    /// Parse one spec. IPv6 literals go in brackets when a port follows
    /// (`[::1]:2222`); a bare address with several colons is taken whole.
    pub fn parse(spec: &str) -> Result<HostSpec, HostSpecError> {
        if spec.chars().any(char::is_whitespace) {
            return Err(HostSpecError::Whitespace(spec.into()));
        }
        let (user, rest) = match spec.rsplit_once('@') {
            Some((u, r)) if !u.is_empty() => (Some(u.to_string()), r),
            Some((_, _)) => return Err(HostSpecError::Empty(spec.into())),
            None => (None, spec),
        };
        let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
            let (h, after) = inner
                .split_once(']')
                .ok_or_else(|| HostSpecError::Unclosed(spec.into()))?;
            match after.strip_prefix(':') {
                Some(p) => (h, Some(p)),
                None if after.is_empty() => (h, None),
                None => return Err(HostSpecError::Unclosed(spec.into())),
            }
        } else if rest.matches(':').count() == 1 {
            let (h, p) = rest.split_once(':').unwrap_or((rest, ""));
            (h, Some(p))
        } else {
            (rest, None)
        };
        if host.is_empty() {
            return Err(HostSpecError::Empty(spec.into()));
        }
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    return Err(HostSpecError::BadPort {
                        spec: spec.into(),
                        port: p.into(),
                    });
                }
            },
        };
        Ok(HostSpec {
            user,
            host: host.to_string(),
            port,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hs(user: Option<&str>, host: &str, port: Option<u16>) -> HostSpec {
        HostSpec {
            user: user.map(Into::into),
            host: host.into(),
            port,
        }
    }

    #[test]
    fn parses_all_forms() {
        assert_eq!(HostSpec::parse("web1").unwrap(), hs(None, "web1", None));
        assert_eq!(
            HostSpec::parse("a@web1:2222").unwrap(),
            hs(Some("a"), "web1", Some(2222))
        );
        assert_eq!(
            HostSpec::parse("[::1]:22").unwrap(),
            hs(None, "::1", Some(22))
        );
        assert_eq!(HostSpec::parse("::1").unwrap(), hs(None, "::1", None));
        assert_eq!(
            HostSpec::parse("me@[fe80::1]").unwrap(),
            hs(Some("me"), "fe80::1", None)
        );
        // user names may contain '@' (e.g. domain accounts); the last one splits.
        assert_eq!(
            HostSpec::parse("a@corp@h").unwrap(),
            hs(Some("a@corp"), "h", None)
        );
    }

    #[test]
    fn rejects_bad_input_with_a_reason() {
        assert!(matches!(
            HostSpec::parse("h:0"),
            Err(HostSpecError::BadPort { .. })
        ));
        assert!(matches!(
            HostSpec::parse("h:99999"),
            Err(HostSpecError::BadPort { .. })
        ));
        assert!(matches!(
            HostSpec::parse("h:"),
            Err(HostSpecError::BadPort { .. })
        ));
        assert_eq!(
            HostSpec::parse("@h"),
            Err(HostSpecError::Empty("@h".into()))
        );
        assert_eq!(
            HostSpec::parse(":22"),
            Err(HostSpecError::Empty(":22".into()))
        );
        assert!(matches!(
            HostSpec::parse("[::1"),
            Err(HostSpecError::Unclosed(_))
        ));
        assert!(matches!(
            HostSpec::parse("a b"),
            Err(HostSpecError::Whitespace(_))
        ));
    }
}
