//! `--hosts-file FILE`: the host lists pssh users already keep.
//!
//! As pssh reads them: one host per line, `[user@]host[:port]`, or pssh's
//! older `host[:port] user`; surrounding whitespace is ignored, and blank
//! lines and lines starting with `#` are skipped. Each line is one host,
//! taken literally (pssh never expands `web[1-3]`), resolved like a name
//! typed after `-H` (config.toml, then ssh_config), and checked as one:
//! an error names the file and the line.

use std::path::Path;

use super::CliError;
use crate::engine::Target;
use crate::inventory::resolve::Inventory;

/// The hosts one file names, in its order, each once.
pub fn read(inv: &Inventory, path: &Path) -> Result<Vec<Target>, CliError> {
    let text = std::fs::read_to_string(path).map_err(|cause| CliError::Io {
        what: format!("--hosts-file {}", path.display()),
        cause,
    })?;
    let mut out: Vec<Target> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let Some(spec) = entry(line)
            .map_err(|why| CliError::BadArg(format!("{}:{}: {why}", path.display(), i + 1)))?
        else {
            continue;
        };
        let origin = format!("{}:{}", path.display(), i + 1);
        let t = inv.target_from(&spec, &origin)?;
        if seen.insert(t.label.clone()) {
            out.push(t);
        }
    }
    Ok(out)
}

/// One line as a host spec: None for a blank or comment line.
fn entry(line: &str) -> Result<Option<String>, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let fields: Vec<&str> = line.split_whitespace().collect();
    match fields.as_slice() {
        [host] => Ok(Some((*host).to_string())),
        // pssh's older form: the user after the host.
        [host, user] if !host.contains('@') => Ok(Some(format!("{user}@{host}"))),
        _ => Err(format!(
            "expected one [user@]host[:port] (or `host[:port] user`), found {:?}",
            crate::text::sanitize::visible_name(line)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::entry;

    #[test]
    fn lines_read_as_pssh_reads_them() {
        assert_eq!(entry("  # a comment"), Ok(None));
        assert_eq!(entry("   "), Ok(None));
        assert_eq!(entry("  web1  "), Ok(Some("web1".into())));
        assert_eq!(
            entry("admin@10.0.0.5:2222"),
            Ok(Some("admin@10.0.0.5:2222".into()))
        );
        assert_eq!(entry("db1:2200 ops"), Ok(Some("ops@db1:2200".into())));
        assert!(entry("a b c").is_err());
        assert!(entry("u@a b").is_err());
    }
}
