//! The shapes of `--json` output, one per command, in one place.
//!
//! A script reading sshdeck's JSON wants one schema per command: every
//! object of a command has every field, `null` when it does not apply,
//! so a consumer never has to guess whether a missing key means "none"
//! or "not this kind of line". Each object carries `schema_version`, so a
//! consumer can refuse a shape it does not know. The README's "JSON
//! output" section lists these fields, and tests/json_schema.rs checks
//! the real output against that list.

use serde::Serialize;

/// Bumped when a field is renamed, removed or changes meaning (adding a
/// field keeps the version: consumers ignore keys they do not know).
pub const SCHEMA_VERSION: u32 = 1;

/// One line of `sshdeck run --json` (NDJSON).
///
/// `event` is one of connecting, connected, disconnected, stdout, stderr,
/// exit, failed, summary.
#[derive(Debug, Serialize)]
pub struct RunLine<'a> {
    pub schema_version: u32,
    pub event: &'a str,
    pub job: u64,
    /// The host's label; null on the summary.
    pub host: Option<&'a str>,
    /// stdout/stderr: one line of output, without its newline.
    pub line: Option<String>,
    /// exit: the exit status, or null when a signal ended the command.
    pub code: Option<i64>,
    /// exit: the signal's name (TERM, KILL…) when one ended the command.
    pub signal: Option<&'a str>,
    pub core_dumped: Option<bool>,
    /// exit/failed: from the start of the host's work.
    pub elapsed_ms: Option<u64>,
    /// failed: a stable word for the cause (connect, auth, host_key…).
    pub kind: Option<&'a str>,
    /// failed: the cause, in words.
    pub error: Option<String>,
    /// summary: hosts in the run, hosts that exited 0, hosts that did not.
    pub hosts: Option<usize>,
    pub ok: Option<usize>,
    pub failed: Option<usize>,
}

impl<'a> RunLine<'a> {
    /// A line of `event` with every optional field null.
    pub fn new(event: &'a str, job: u64, host: Option<&'a str>) -> Self {
        RunLine {
            schema_version: SCHEMA_VERSION,
            event,
            job,
            host,
            line: None,
            code: None,
            signal: None,
            core_dumped: None,
            elapsed_ms: None,
            kind: None,
            error: None,
            hosts: None,
            ok: None,
            failed: None,
        }
    }
}

/// One line of `sshdeck put --json` / `get --json` (NDJSON): a `host`
/// line per host, then one `summary` line.
#[derive(Debug, Serialize)]
pub struct CopyLine<'a> {
    pub schema_version: u32,
    pub event: &'a str,
    /// put or get.
    pub op: &'a str,
    /// host: the host's label; null on the summary.
    pub host: Option<&'a str>,
    /// host: whether every file reached its destination, verified.
    pub ok: Option<bool>,
    /// host: files and bytes copied, files left as they were
    /// (`--skip-same`); null when the host failed before counting.
    pub files: Option<u64>,
    pub bytes: Option<u64>,
    pub unchanged: Option<u64>,
    /// host: what is worth knowing but did not fail it (a link left out).
    pub notes: Option<Vec<String>>,
    /// host: why it failed.
    pub error: Option<String>,
    /// summary: hosts in the copy and hosts that failed.
    pub hosts: Option<usize>,
    pub failed: Option<usize>,
}

impl<'a> CopyLine<'a> {
    pub fn new(event: &'a str, op: &'a str) -> Self {
        CopyLine {
            schema_version: SCHEMA_VERSION,
            event,
            op,
            host: None,
            ok: None,
            files: None,
            bytes: None,
            unchanged: None,
            notes: None,
            error: None,
            hosts: None,
            failed: None,
        }
    }
}

/// One element of the array `sshdeck hosts --json` prints.
#[derive(Debug, Serialize)]
pub struct HostsItem<'a, T: Serialize> {
    pub schema_version: u32,
    #[serde(flatten)]
    pub host: &'a T,
}

/// One element of the array `sshdeck facts --json` prints.
#[derive(Debug, Serialize)]
pub struct FactsItem<'a, T: Serialize> {
    pub schema_version: u32,
    #[serde(flatten)]
    pub host: &'a T,
}

/// One JSON text, or the reason it could not be made (never a panic).
pub fn to_line<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| {
        format!("{{\"schema_version\":{SCHEMA_VERSION},\"event\":\"error\",\"error\":\"cannot encode JSON: {e}\"}}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_line_has_every_field_even_when_empty() {
        let v: serde_json::Value =
            serde_json::from_str(&to_line(&RunLine::new("connected", 3, Some("web1"))))
                .unwrap_or_default();
        let keys: Vec<&str> = v
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(keys.len(), 14, "{v}");
        assert_eq!(v["error"], serde_json::Value::Null);
        assert_eq!(v["schema_version"], SCHEMA_VERSION);
    }

    #[test]
    fn a_copy_line_has_every_field_even_when_empty() {
        let v: serde_json::Value =
            serde_json::from_str(&to_line(&CopyLine::new("summary", "put"))).unwrap_or_default();
        assert_eq!(v.as_object().map(|o| o.len()), Some(12), "{v}");
        assert_eq!(v["notes"], serde_json::Value::Null);
    }
}
