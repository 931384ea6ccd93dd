//! `{host}`, `{user}` and `{date}` in recipe steps. `{{` and `}}` are
//! literal braces; any other `{name}` is an error found when the config
//! is loaded, not halfway through a run.

use crate::engine::files::transfer::shell_quote;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateVars {
    pub host: String,
    pub user: String,
    /// `YYYY-MM-DD` (UTC), the same for every host of one run.
    pub date: String,
}

const NAMES: [&str; 3] = ["host", "user", "date"];

impl TemplateVars {
    pub fn new(host: &str, user: &str, date: &str) -> TemplateVars {
        TemplateVars {
            host: host.into(),
            user: user.into(),
            date: date.into(),
        }
    }

    /// Today (UTC), for `{date}`.
    pub fn today() -> String {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        crate::text::utc_minute(secs)[..10].to_string()
    }

    /// For commands: every value one shell word, whatever it contains.
    pub fn quoted(&self) -> TemplateVars {
        let q = |s: &str| {
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-@:+,=/".contains(c))
            {
                s.to_string()
            } else {
                shell_quote(s)
            }
        };
        TemplateVars::new(&q(&self.host), &q(&self.user), &q(&self.date))
    }

    /// For local paths: a host label never adds directories or dot files.
    pub fn file_safe(&self) -> TemplateVars {
        let f = crate::text::file_stem;
        TemplateVars::new(&f(&self.host), &f(&self.user), &self.date)
    }

    fn get(&self, name: &str) -> Option<&str> {
        match name {
            "host" => Some(&self.host),
            "user" => Some(&self.user),
            "date" => Some(&self.date),
            _ => None,
        }
    }
}

/// Fill in `template`.
pub fn expand(template: &str, v: &TemplateVars) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('}') {
            return Err(format!(
                "unmatched '}}' at column {} (write '}}}}' for a brace)",
                template.len() - tail.len() + 1
            ));
        }
        let Some(end) = tail.find('}') else {
            return Err(format!(
                "unclosed '{{' at column {} (write '{{{{' for a brace)",
                template.len() - tail.len() + 1
            ));
        };
        let name = &tail[1..end];
        match v.get(name) {
            Some(val) => out.push_str(val),
            None => {
                return Err(format!(
                    "unknown placeholder {{{name}}} (known: {})",
                    NAMES.map(|n| format!("{{{n}}}")).join(", ")
                ));
            }
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Whether `template` would expand, for config validation.
pub fn check_template(template: &str) -> Result<(), String> {
    expand(template, &TemplateVars::new("h", "u", "d")).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_braces_and_errors() {
        let v = TemplateVars::new("n1", "ops", "2026-01-02");
        assert_eq!(
            expand("{host}-{user}-{date}.log", &v).unwrap(),
            "n1-ops-2026-01-02.log"
        );
        assert_eq!(
            expand("awk '{{print $1}}' {host}", &v).unwrap(),
            "awk '{print $1}' n1"
        );
        assert!(
            expand("{nope}", &v)
                .unwrap_err()
                .contains("unknown placeholder {nope}")
        );
        assert!(
            expand("a {host", &v)
                .unwrap_err()
                .contains("unclosed '{' at column 3")
        );
        assert!(expand("a } b", &v).unwrap_err().contains("unmatched '}'"));
        assert_eq!(TemplateVars::today().len(), 10);
        assert_eq!(TemplateVars::new("a;b", "u", "d").quoted().host, "'a;b'");
        assert_eq!(TemplateVars::new("../x", "u", "d").file_safe().host, "_._x");
    }
}
