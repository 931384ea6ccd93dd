//! User-defined collectors from `[[facts]]` in the config: a command and a
//! way to read its output (a regex with named groups, JSON, or key=value).

use std::time::Duration;

use regex::Regex;

use super::{Collector, Facts};

#[derive(Debug, Clone)]
pub enum ParseKind {
    /// Named groups become facts (unnamed ones by number).
    Regex(Regex),
    /// An object, flattened with dots (`{"a":{"b":1}}` → `a.b = 1`).
    Json,
    /// `key=value` or `key: value` lines.
    Kv,
}

impl ParseKind {
    /// From the config's `parse = "regex" | "json" | "kv"` and `pattern`.
    pub fn from_config(kind: &str, pattern: Option<&str>) -> Result<ParseKind, String> {
        match (kind, pattern) {
            ("regex", Some(p)) => Regex::new(p)
                .map(ParseKind::Regex)
                .map_err(|e| format!("bad pattern: {e}")),
            ("regex", None) => Err("parse = \"regex\" needs a pattern".into()),
            ("json" | "kv", Some(_)) => Err(format!(
                "pattern is only used with parse = \"regex\", not {kind:?}"
            )),
            ("json", None) => Ok(ParseKind::Json),
            ("kv", None) => Ok(ParseKind::Kv),
            _ => Err(format!("parse {kind:?} is not one of regex, json, kv")),
        }
    }
}

pub struct Custom {
    name: String,
    command: String,
    kind: ParseKind,
    interval: Option<Duration>,
    timeout: Option<Duration>,
}

impl Custom {
    pub fn new(
        name: &str,
        command: &str,
        kind: ParseKind,
        interval: Option<Duration>,
        timeout: Option<Duration>,
    ) -> Result<Custom, String> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "collector name {name:?} must be letters, digits, '_' or '-'"
            ));
        }
        if command.trim().is_empty() {
            return Err("command is empty".into());
        }
        Ok(Custom {
            name: name.to_string(),
            command: command.to_string(),
            kind,
            interval,
            timeout,
        })
    }
}

impl Collector for Custom {
    fn name(&self) -> &str {
        &self.name
    }
    fn command(&self) -> &str {
        &self.command
    }
    fn interval(&self) -> Option<Duration> {
        self.interval
    }
    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
    fn parse(&self, out: &str) -> Result<Facts, String> {
        match &self.kind {
            ParseKind::Regex(re) => parse_regex(re, out),
            ParseKind::Json => parse_json(out),
            ParseKind::Kv => parse_kv(out),
        }
    }
}

fn parse_regex(re: &Regex, out: &str) -> Result<Facts, String> {
    let caps = re.captures(out).ok_or_else(|| {
        format!(
            "output does not match /{}/ (it begins {:?})",
            re.as_str(),
            super::shorten(out.trim(), 60)
        )
    })?;
    let mut f = Facts::new();
    for (i, name) in re.capture_names().enumerate().skip(1) {
        if let Some(m) = caps.get(i) {
            let key = name.map_or_else(|| i.to_string(), str::to_string);
            f.insert(key, m.as_str().trim().to_string());
        }
    }
    if f.is_empty() {
        return Err(format!(
            "/{}/ has no groups to take facts from",
            re.as_str()
        ));
    }
    Ok(f)
}

fn parse_json(out: &str) -> Result<Facts, String> {
    let v: serde_json::Value = serde_json::from_str(out.trim()).map_err(|e| {
        format!(
            "expected JSON: {e} (output begins {:?})",
            super::shorten(out.trim(), 60)
        )
    })?;
    let mut f = Facts::new();
    flatten("", &v, &mut f);
    if f.is_empty() {
        return Err("the JSON holds no values".into());
    }
    Ok(f)
}

/// Nested keys joined with dots; arrays by index. A bare value is `value`.
fn flatten(prefix: &str, v: &serde_json::Value, f: &mut Facts) {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| flatten(&key(k), v, f)),
        serde_json::Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| flatten(&key(&i.to_string()), v, f)),
        serde_json::Value::Null => {}
        serde_json::Value::String(s) => {
            f.insert(key_or_value(prefix), s.clone());
        }
        other => {
            f.insert(key_or_value(prefix), other.to_string());
        }
    }
}

fn key_or_value(prefix: &str) -> String {
    if prefix.is_empty() {
        "value".into()
    } else {
        prefix.to_string()
    }
}

fn parse_kv(out: &str) -> Result<Facts, String> {
    let mut f = Facts::new();
    for (n, line) in out.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // Whichever separator comes first, so `url=http://x` keeps its colon.
        let at = match (line.find('='), line.find(':')) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => {
                return Err(format!(
                    "line {}: expected key=value or key: value, got {:?}",
                    n + 1,
                    super::shorten(line, 60)
                ));
            }
        };
        let (k, v) = (line[..at].trim(), line[at + 1..].trim());
        if k.is_empty() {
            return Err(format!("line {}: empty key", n + 1));
        }
        f.insert(k.to_string(), v.to_string());
    }
    if f.is_empty() {
        return Err("no key=value lines in the output".into());
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(kind: ParseKind) -> Custom {
        Custom::new("x", "true", kind, None, None).unwrap()
    }

    #[test]
    fn regex_named_and_numbered_groups() {
        let k = ParseKind::from_config("regex", Some(r"(?m)^temp=(?P<celsius>\d+)C fan=(\d+)"))
            .unwrap();
        let f = custom(k).parse("boot ok\ntemp=61C fan=1200\n").unwrap();
        assert_eq!(f["celsius"], "61");
        assert_eq!(f["2"], "1200");
        let k = ParseKind::from_config("regex", Some(r"temp=(\d+)")).unwrap();
        let e = custom(k).parse("garbage\n").unwrap_err();
        assert!(e.contains("does not match /temp=(\\d+)/"), "{e}");
        assert!(e.contains("\"garbage\""), "{e}");
    }

    #[test]
    fn json_is_flattened() {
        let f = custom(ParseKind::Json)
            .parse(r#"{"gpu":{"count":2,"names":["a100","h100"]},"ok":true,"none":null}"#)
            .unwrap();
        assert_eq!(f["gpu.count"], "2");
        assert_eq!(f["gpu.names.1"], "h100");
        assert_eq!(f["ok"], "true");
        assert!(!f.contains_key("none"));
        assert_eq!(custom(ParseKind::Json).parse("42").unwrap()["value"], "42");
        let e = custom(ParseKind::Json).parse("<html>oops").unwrap_err();
        assert!(e.starts_with("expected JSON:"), "{e}");
    }

    #[test]
    fn kv_takes_either_separator() {
        let f = custom(ParseKind::Kv)
            .parse("# comment\nrack = r12\nurl=http://x:80\nrole: db\n\n")
            .unwrap();
        assert_eq!(f["rack"], "r12");
        assert_eq!(f["url"], "http://x:80");
        assert_eq!(f["role"], "db");
        let e = custom(ParseKind::Kv)
            .parse("fine=1\nno separator here\n")
            .unwrap_err();
        assert!(e.starts_with("line 2: expected key=value"), "{e}");
    }

    #[test]
    fn config_errors() {
        assert!(
            ParseKind::from_config("regex", None)
                .unwrap_err()
                .contains("needs a pattern")
        );
        assert!(
            ParseKind::from_config("xml", None)
                .unwrap_err()
                .contains("not one of")
        );
        assert!(
            ParseKind::from_config("regex", Some("("))
                .unwrap_err()
                .contains("bad pattern")
        );
        assert!(ParseKind::from_config("kv", Some("x")).is_err());
        assert!(Custom::new("a b", "true", ParseKind::Kv, None, None).is_err());
        assert!(Custom::new("ok", " ", ParseKind::Kv, None, None).is_err());
    }
}
