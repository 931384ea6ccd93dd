//! Host and user names that may reach a shell, checked in one place.
//!
//! ssh_config puts the host (`%h %n %k`) and the remote user (`%r`) into
//! ProxyCommand and `Match exec`, which `$SHELL -c` runs. A name such as
//! `a$(>pwned)` would then run a command of its own. OpenSSH (9.6 and
//! later, `ssh_valid_hostname` and `ssh_valid_ruser`) refuses such names
//! before it reads its config; these are the same rules, and every place
//! a name enters sshdeck (the command line, config.toml, ssh_config's
//! `Host` names, jump hosts, run records) calls them with where it came
//! from, so the refusal can say so. Nothing is expanded or run first.

use thiserror::Error;

use crate::text::sanitize::{is_bidi_control, visible_name};

/// What kind of name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Host,
    User,
}

impl std::fmt::Display for NameKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NameKind::Host => "host name",
            NameKind::User => "user name",
        })
    }
}

/// A name refused because a shell would act on part of it.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error(
    "{origin}: {kind} \"{shown}\" {why}; refused, as OpenSSH refuses it, before any ProxyCommand or Match exec could run"
)]
pub struct UnsafeName {
    /// Where the name came from: `-H`, `config.toml:12`, `last-run record …`.
    pub origin: String,
    pub kind: NameKind,
    /// The name with controls shown escaped (`\e`), safe to print.
    pub shown: String,
    /// Why, in words: "contains '$'".
    pub why: String,
}

/// Characters a POSIX shell gives a meaning to (quoting, expansion,
/// command separators, redirection, grouping), refused in host names.
/// `,` too: it separates hosts in node sets and ProxyJump lists.
const HOST_SPECIALS: &str = "'`\"$\\;&<>|(){},";

/// The same for user names, which may keep `$`, `\` and `,` (Windows
/// and directory accounts use them), as OpenSSH allows.
const USER_SPECIALS: &str = "'`\";&<>|(){}";

fn char_shown(c: char) -> String {
    visible_name(&c.to_string())
}

/// The reason `c` may not appear in a name, if any, whatever the kind.
fn control_reason(c: char) -> Option<String> {
    if c.is_control() {
        return Some(format!("contains the control character {}", char_shown(c)));
    }
    // Not a shell risk, but such a name would be drawn reordered.
    if is_bidi_control(c) {
        return Some(format!(
            "contains the text-reordering character {}",
            char_shown(c)
        ));
    }
    None
}

fn refuse(name: &str, kind: NameKind, origin: &str, why: String) -> UnsafeName {
    UnsafeName {
        origin: origin.to_string(),
        kind,
        shown: visible_name(name),
        why,
    }
}

/// Why `name` is not a host name a shell may see, if it is not.
fn host_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".into());
    }
    if name.starts_with('-') {
        return Some("starts with '-', which a command would read as an option".into());
    }
    for c in name.chars() {
        if let Some(why) = control_reason(c) {
            return Some(why);
        }
        if c.is_whitespace() {
            return Some("contains whitespace".into());
        }
        if HOST_SPECIALS.contains(c) {
            return Some(format!("contains '{c}', which a shell would act on"));
        }
    }
    None
}

/// Why `name` is not a remote user name a shell may see, if it is not.
fn user_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".into());
    }
    if name.starts_with('-') {
        return Some("starts with '-', which a command would read as an option".into());
    }
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(why) = control_reason(c) {
            return Some(why);
        }
        if USER_SPECIALS.contains(c) {
            return Some(format!("contains '{c}', which a shell would act on"));
        }
        // A space is allowed ("Domain User"), but not as the start of an
        // option for whatever the name is passed to.
        if c.is_whitespace() && chars.peek() == Some(&'-') {
            return Some(
                "has a '-' after whitespace, which a command would read as an option".into(),
            );
        }
        // A trailing backslash would escape whatever the command has next.
        if c == '\\' && chars.peek().is_none() {
            return Some("ends with '\\'".into());
        }
    }
    None
}

/// Refuse a host name a shell would act on. `origin` says where it came
/// from, for the message.
pub fn check_host(name: &str, origin: &str) -> Result<(), UnsafeName> {
    match host_problem(name) {
        Some(why) => Err(refuse(name, NameKind::Host, origin, why)),
        None => Ok(()),
    }
}

/// Refuse a remote user name a shell would act on.
pub fn check_user(name: &str, origin: &str) -> Result<(), UnsafeName> {
    match user_problem(name) {
        Some(why) => Err(refuse(name, NameKind::User, origin, why)),
        None => Ok(()),
    }
}

/// Check a parsed `[user@]host[:port]`.
pub fn check_spec(spec: &super::hostspec::HostSpec, origin: &str) -> Result<(), UnsafeName> {
    check_host(&spec.host, origin)?;
    match &spec.user {
        Some(u) => check_user(u, origin),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ssh_accepts_pass() {
        for h in [
            "web-01.example.com",
            "10.0.0.1",
            "::1",
            "[::1]",
            "fe80::1%eth0",
            "host_1",
            "zz[1-2]",
            "WEB1",
            "münchen.example",
        ] {
            assert_eq!(check_host(h, "-H"), Ok(()), "{h}");
        }
        for u in [
            "root",
            "ops",
            "first.last",
            "DOM\\user",
            "Domain User",
            "a@corp",
            "u$x",
            "a,b",
        ] {
            assert_eq!(check_user(u, "-l"), Ok(()), "{u}");
        }
    }

    #[test]
    fn shell_words_in_host_names_are_refused() {
        for h in [
            "a$(>pwned)",
            "a`id`",
            "a;b",
            "a&b",
            "a|b",
            "a>b",
            "a<b",
            "a'b",
            "a\"b",
            "a\\b",
            "a{b}",
            "a,b",
            "a b",
            "a\tb",
            "a\nb",
            "-oProxyCommand=x",
            "",
            "a\u{1b}[31m",
            "a\u{202e}b",
        ] {
            assert!(check_host(h, "-H").is_err(), "{h:?} passed");
        }
    }

    #[test]
    fn shell_words_in_user_names_are_refused() {
        for u in [
            "u$(>x)", "u`id`", "u;x", "u|x", "u'x", "-oX", "a -b", "ends\\", "", "u\u{7}",
        ] {
            assert!(check_user(u, "-l").is_err(), "{u:?} passed");
        }
    }

    #[test]
    fn the_message_names_the_value_escaped_and_its_origin() {
        let e = check_host("a\u{1b}]0;t\u{7}$(x)", "~/.ssh/config:7")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with("~/.ssh/config:7: host name \"a\\e]0;t\\x07$(x)\""),
            "{e}"
        );
        assert!(e.contains("control character \\e"), "{e}");
        assert!(!e.contains('\u{1b}'), "{e}");
        let e = check_user("u$(>x)", "-H").err().map(|e| e.to_string());
        assert!(
            e.unwrap_or_default()
                .contains("-H: user name \"u$(>x)\" contains '('"),
        );
    }
}
