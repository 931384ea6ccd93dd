//! groups.conf as ClusterShell reads it: Python's ConfigParser format
//! (`[section]`, `key = value` or `key: value`, indented continuation
//! lines, full-line `#`/`;` comments, `[DEFAULT]` keys seen in every
//! section), several files merged in order, the later winning per key.
//!
//! Where ClusterShell would silently skip a file it cannot read, we
//! refuse it (a missing file is still skipped): a half-read inventory
//! is worse than an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::inventory::sources::{Origin, SourceError};

pub use super::python::{normpath, shell_words, substitute};

/// One option's value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionValue {
    pub text: String,
    pub origin: Origin,
}

/// One section: its options (names lowercased, as ConfigParser does).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    pub options: BTreeMap<String, OptionValue>,
    /// Where the section header first appears.
    pub origin: Option<Origin>,
}

/// Sections in the order first seen, `[DEFAULT]` apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ini {
    pub sections: Vec<(String, Section)>,
    pub defaults: Section,
}

const DEFAULT_SECTION: &str = "DEFAULT";

/// `key = value` (or `key: value`): the lowercased key and the trimmed
/// value.
fn split_option(
    trimmed: &str,
    path: &Path,
    line_no: usize,
) -> Result<(String, String), SourceError> {
    let Some(delim) = trimmed.find(['=', ':']) else {
        return Err(invalid(
            path,
            line_no,
            format!("not `key = value`: {}", visible(trimmed)),
        ));
    };
    let name = trimmed[..delim].trim_end().to_lowercase();
    if name.is_empty() {
        return Err(invalid(path, line_no, "an option without a name"));
    }
    Ok((name, trimmed[delim + 1..].trim().to_string()))
}

fn invalid(path: &Path, line: usize, msg: impl Into<String>) -> SourceError {
    SourceError::Invalid {
        origin: Origin::new(path, line),
        msg: msg.into(),
    }
}

impl Ini {
    /// Parse one file's text and merge it into what earlier files gave.
    /// A section or option twice in the same file is an error, as
    /// ConfigParser's strict mode makes it; across files the later wins.
    pub fn merge(&mut self, path: &Path, text: &str) -> Result<(), SourceError> {
        // (section index or None for DEFAULT, option name, indent of its line)
        let mut current: Option<Option<usize>> = None;
        let mut option: Option<(String, usize)> = None;
        let mut seen_sections: Vec<String> = Vec::new();
        let mut seen_options: Vec<(String, String)> = Vec::new();
        let mut pending_blank = 0usize;
        for (n, raw) in text.lines().enumerate() {
            let line_no = n + 1;
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            let trimmed = line.trim();
            if trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if trimmed.is_empty() {
                if option.is_some() {
                    pending_blank += 1;
                }
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            if let (Some(sect), Some((name, opt_indent))) = (current, &option)
                && indent > *opt_indent
            {
                // A continuation line: part of the option's value.
                let value = self.option_mut(sect, name);
                // ConfigParser keeps the blank lines inside a value.
                for _ in 0..=pending_blank {
                    value.text.push('\n');
                }
                value.text.push_str(trimmed);
                pending_blank = 0;
                continue;
            }
            pending_blank = 0;
            if let Some(rest) = trimmed.strip_prefix('[')
                && let Some(close) = rest.rfind(']')
                && close > 0
            {
                let name = rest[..close].to_string();
                if seen_sections.contains(&name) {
                    return Err(invalid(
                        path,
                        line_no,
                        format!("section [{}] appears twice", visible(&name)),
                    ));
                }
                seen_sections.push(name.clone());
                option = None;
                current = Some(self.section_index(&name, Origin::new(path, line_no)));
                continue;
            }
            let Some(sect) = current else {
                return Err(invalid(path, line_no, "a line before any [section] header"));
            };
            let (name, text) = split_option(trimmed, path, line_no)?;
            let key = (section_name(&seen_sections), name.clone());
            if seen_options.contains(&key) {
                return Err(invalid(
                    path,
                    line_no,
                    format!("option {} appears twice in its section", visible(&name)),
                ));
            }
            seen_options.push(key);
            *self.option_mut(sect, &name) = OptionValue {
                text,
                origin: Origin::new(path, line_no),
            };
            option = Some((name, indent));
        }
        Ok(())
    }

    fn section_index(&mut self, name: &str, origin: Origin) -> Option<usize> {
        if name == DEFAULT_SECTION {
            self.defaults.origin.get_or_insert(origin);
            return None;
        }
        if let Some(i) = self.sections.iter().position(|(n, _)| n == name) {
            return Some(i);
        }
        self.sections.push((
            name.to_string(),
            Section {
                options: BTreeMap::new(),
                origin: Some(origin),
            },
        ));
        Some(self.sections.len() - 1)
    }

    fn option_mut(&mut self, sect: Option<usize>, name: &str) -> &mut OptionValue {
        let section = match sect {
            None => &mut self.defaults,
            Some(i) => &mut self.sections[i].1,
        };
        section
            .options
            .entry(name.to_string())
            .or_insert_with(|| OptionValue {
                text: String::new(),
                origin: Origin::new("", 0),
            })
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
    }

    /// An option as `cfg.get(section, name, raw=True)` gives it: the
    /// section's own, else `[DEFAULT]`'s.
    pub fn get_raw(&self, section: &str, name: &str) -> Option<&OptionValue> {
        self.section(section)
            .and_then(|s| s.options.get(name))
            .or_else(|| self.defaults.options.get(name))
    }

    /// An option with ConfigParser's `%` interpolation (`%%` is `%`,
    /// `%(name)s` another option of the section), as ClusterShell reads
    /// `[Main]`'s directories and default.
    pub fn get(&self, section: &str, name: &str) -> Result<Option<OptionValue>, SourceError> {
        let Some(v) = self.get_raw(section, name) else {
            return Ok(None);
        };
        let text = self.interpolate(section, v, 0)?;
        Ok(Some(OptionValue {
            text,
            origin: v.origin.clone(),
        }))
    }

    fn interpolate(
        &self,
        section: &str,
        v: &OptionValue,
        depth: usize,
    ) -> Result<String, SourceError> {
        let bad = |msg: String| SourceError::Invalid {
            origin: v.origin.clone(),
            msg,
        };
        if depth > 10 {
            return Err(bad("'%(...)s' references nest too deep".into()));
        }
        let mut out = String::new();
        let mut rest = v.text.as_str();
        while let Some(i) = rest.find('%') {
            out.push_str(&rest[..i]);
            rest = &rest[i + 1..];
            if let Some(r) = rest.strip_prefix('%') {
                out.push('%');
                rest = r;
            } else if let Some(r) = rest.strip_prefix('(')
                && let Some(end) = r.find(")s")
            {
                let key = r[..end].to_lowercase();
                let inner = self.get_raw(section, &key).ok_or_else(|| {
                    bad(format!(
                        "'%({})s' names no option of [{}]",
                        visible(&key),
                        visible(section)
                    ))
                })?;
                out.push_str(&self.interpolate(section, inner, depth + 1)?);
                rest = &r[end + 2..];
            } else {
                return Err(bad("a '%' must be written '%%' or '%(name)s'".into()));
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

fn section_name(seen: &[String]) -> String {
    seen.last().cloned().unwrap_or_default()
}

pub(crate) fn visible(s: &str) -> String {
    crate::text::sanitize::visible_name(s)
}

/// Read and merge the files that exist, in order; the last one read
/// gives `$CFGDIR`. None when no file exists.
pub fn read_files(files: &[PathBuf]) -> Result<Option<(Ini, PathBuf)>, SourceError> {
    let mut ini = Ini::default();
    let mut last = None;
    for file in files {
        let Some(text) = read_optional(file)? else {
            continue;
        };
        ini.merge(file, &text)?;
        last = Some(file.clone());
    }
    Ok(last.map(|l| (ini, l)))
}

/// A file's text, None when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<String>, SourceError> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| SourceError::Io {
                path: path.to_path_buf(),
                cause: "not UTF-8 text".into(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SourceError::Io {
            path: path.to_path_buf(),
            cause: e.to_string(),
        }),
    }
}

/// Where ClusterShell looks for groups.conf, in its order (later files
/// win per key): /etc, ~/.local/etc, the XDG config directory, then
/// $CLUSTERSHELL_CFGDIR. (ClusterShell also reads its Python prefix's
/// etc/, which has no meaning outside Python.)
pub fn default_paths(
    home: Option<&Path>,
    xdg_config_home: Option<&Path>,
    cfgdir: Option<&Path>,
) -> Vec<PathBuf> {
    const NAME: &str = "groups.conf";
    let mut paths = vec![PathBuf::from("/etc/clustershell").join(NAME)];
    if let Some(home) = home {
        paths.push(home.join(".local/etc/clustershell").join(NAME));
    }
    match (xdg_config_home, home) {
        (Some(xdg), _) => paths.push(xdg.join("clustershell").join(NAME)),
        (None, Some(home)) => paths.push(home.join(".config/clustershell").join(NAME)),
        (None, None) => {}
    }
    if let Some(dir) = cfgdir {
        paths.push(dir.join(NAME));
    }
    paths
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
