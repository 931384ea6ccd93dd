//! ClusterShell group sources, found where ClusterShell finds them and
//! resolved as `nodeset` resolves them: groups.conf (and the files its
//! `confdir`/`groupsdir` name) for upcall sources, `autodir` YAML files
//! for static ones, `[Main] default` for `@group` without a source.

pub mod config;
pub mod names;
pub mod python;
pub mod speed;
pub mod upcall;
pub mod yaml;

use std::path::{Path, PathBuf};
use std::time::Duration;

use config::{Ini, normpath, read_files, read_optional, shell_words, substitute, visible};
use upcall::{Upcall, UpcallSource};

use crate::inventory::nodeset::{Groups, NoGroups, expand};
use crate::inventory::sources::{GroupDef, GroupSource, Origin, SourceError};

const MAIN: &str = "Main";

/// The sources of the groups.conf files ClusterShell would read here
/// (HOME, XDG_CONFIG_HOME, CLUSTERSHELL_CFGDIR), the default one first.
pub fn load() -> Result<Vec<Box<dyn GroupSource>>, SourceError> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let cfgdir = std::env::var_os("CLUSTERSHELL_CFGDIR").map(PathBuf::from);
    load_from(&config::default_paths(
        env("HOME").as_deref(),
        env("XDG_CONFIG_HOME").as_deref(),
        cfgdir.as_deref(),
    ))
}

/// The sources these groups.conf files define (each read if it exists,
/// later files winning per key), the default one first. No file at all
/// is no source.
pub fn load_from(conf_files: &[PathBuf]) -> Result<Vec<Box<dyn GroupSource>>, SourceError> {
    let Some((ini, last)) = read_files(conf_files)? else {
        return Ok(Vec::new());
    };
    // $CFGDIR is the directory of the last file read, as in ClusterShell.
    let cfgdir = last.parent().map(Path::to_path_buf).unwrap_or_default();
    let cfgdir_text = cfgdir.display().to_string();
    let mut sources: Vec<Defined> = Vec::new();

    let dir_option = if ini.get_raw(MAIN, "groupsdir").is_some() {
        "groupsdir"
    } else {
        "confdir"
    };
    for dir in directories(&ini, dir_option, &cfgdir_text)? {
        for file in files_in(&dir, "conf")? {
            let Some(text) = read_optional(&file)? else {
                continue;
            };
            let mut part = Ini::default();
            part.merge(&file, &text)?;
            add(&mut sources, upcall_sources(&part, &dir)?)?;
        }
    }
    for dir in directories(&ini, "autodir", &cfgdir_text)? {
        for file in files_in(&dir, "yaml")? {
            let Some(text) = read_optional(&file)? else {
                continue;
            };
            let found = yaml::parse(&file, &text)?;
            let found = found.into_iter().map(|s| {
                let at = s.origin.clone();
                (Box::new(s) as Box<dyn GroupSource>, at)
            });
            add(&mut sources, found.collect())?;
        }
    }
    add(&mut sources, upcall_sources(&ini, &cfgdir)?)?;

    if let Some(default) = ini.get(MAIN, "default")?
        && !default.text.is_empty()
    {
        let Some(i) = sources.iter().position(|(s, _)| s.name() == default.text) else {
            return Err(SourceError::Invalid {
                origin: default.origin,
                msg: format!(
                    "default group source not found: {:?}",
                    visible(&default.text)
                ),
            });
        };
        let d = sources.remove(i);
        sources.insert(0, d);
    }
    Ok(sources.into_iter().map(|(s, _)| s).collect())
}

/// A `[Main]` directory list: words, `$CFGDIR` replaced, normalised,
/// each once; a missing one skipped, a file where a directory should be
/// refused.
fn directories(ini: &Ini, option: &str, cfgdir: &str) -> Result<Vec<PathBuf>, SourceError> {
    let Some(value) = ini.get(MAIN, option)? else {
        return Ok(Vec::new());
    };
    let mut out: Vec<PathBuf> = Vec::new();
    for word in shell_words(&value.text, &value.origin)? {
        let dir = normpath(&substitute(&word, &[("CFGDIR", cfgdir)]));
        if out.contains(&dir) || !dir.exists() {
            continue;
        }
        if !dir.is_dir() {
            return Err(SourceError::Invalid {
                origin: value.origin.clone(),
                msg: format!(
                    "{option} {} is not a directory",
                    visible(&dir.display().to_string())
                ),
            });
        }
        out.push(dir);
    }
    Ok(out)
}

/// `dir/*.ext` in name order, hidden files left out (as a shell glob).
fn files_in(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, SourceError> {
    let io = |e: std::io::Error| SourceError::Io {
        path: dir.to_path_buf(),
        cause: e.to_string(),
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !name.starts_with('.') && name.ends_with(&format!(".{ext}")) {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// The upcall sources of a groups.conf (or a confdir part): each section
/// but `[Main]`, `a,b` naming two sources with the same upcalls.
fn upcall_sources(ini: &Ini, cfgdir: &Path) -> Result<Vec<Defined>, SourceError> {
    let mut out: Vec<Defined> = Vec::new();
    for (section, body) in &ini.sections {
        let header = body
            .origin
            .clone()
            .unwrap_or_else(|| Origin::new(cfgdir, 0));
        for name in section.split(',').filter(|n| *n != MAIN) {
            let upcall = |key: &str| {
                ini.get_raw(section, key).map(|v| Upcall {
                    command: v.text.clone(),
                    origin: v.origin.clone(),
                })
            };
            let Some(map) = upcall("map") else {
                return Err(SourceError::Invalid {
                    origin: header,
                    msg: format!("section [{}] has no map upcall", visible(section)),
                });
            };
            let cache_time = match ini.get_raw(section, "cache_time") {
                None => Some(upcall::DEFAULT_CACHE_TIME),
                Some(v) => cache_time(&v.text).ok_or_else(|| SourceError::Invalid {
                    origin: v.origin.clone(),
                    msg: format!(
                        "cache_time {:?} is not a number of seconds",
                        visible(&v.text)
                    ),
                })?,
            };
            let source = UpcallSource::new(
                name.to_string(),
                map,
                upcall("all"),
                upcall("list"),
                cfgdir.to_path_buf(),
                cache_time,
            );
            out.push((Box::new(source), header.clone()));
        }
    }
    Ok(out)
}

/// Seconds as Python's float() reads them; Some(None) when they never
/// expire (too many to count), zero when negative.
fn cache_time(text: &str) -> Option<Option<Duration>> {
    let secs: f64 = text.replace('_', "").trim().parse().ok()?;
    if secs.is_nan() {
        return Some(Some(Duration::ZERO));
    }
    Some(Duration::try_from_secs_f64(secs.max(0.0)).ok())
}

/// A source and where it is defined.
type Defined = (Box<dyn GroupSource>, Origin);

/// Add sources, refusing a name already taken (ClusterShell refuses it too).
fn add(sources: &mut Vec<Defined>, new: Vec<Defined>) -> Result<(), SourceError> {
    for (s, at) in new {
        if let Some((_, first)) = sources.iter().find(|(o, _)| o.name() == s.name()) {
            return Err(SourceError::Invalid {
                origin: at,
                msg: format!(
                    "group source {:?} is already defined at {first}",
                    visible(s.name()),
                ),
            });
        }
        sources.push((s, at));
    }
    Ok(())
}

/// What `@expr` stands for: `group` in the default source (the first),
/// `source:group` in that source, `*` for every node of the source.
/// A range in the name (`rack[1-2]`) is each group it names. None when
/// the source or group is unknown. Groups that the answer names are
/// qualified with its source, as ClusterShell resolves them there.
pub fn group_expr(
    sources: &[Box<dyn GroupSource>],
    expr: &str,
) -> Result<Option<GroupDef>, SourceError> {
    let (source, group) = match expr.split_once(':') {
        Some((s, g)) => (sources.iter().find(|x| x.name() == s), g),
        None => (sources.first(), expr),
    };
    let Some(source) = source else {
        return Ok(None);
    };
    let whence = || Origin::new(source.describe(), 0);
    if group == "*" {
        let Some(nodes) = source.all_nodes()? else {
            return Err(SourceError::Invalid {
                origin: whence(),
                msg: "no all or list upcall to get all nodes".into(),
            });
        };
        return Ok(Some(GroupDef {
            nodes: qualify(&nodes, source.name()),
            origin: whence(),
        }));
    }
    let groups = if group.contains('[') {
        let set = expand(group, &NoGroups).map_err(|e| SourceError::Invalid {
            origin: whence(),
            msg: format!("group @{}: {}", visible(expr), e.msg),
        })?;
        set.into_vec()
    } else {
        vec![group.to_string()]
    };
    let mut parts = Vec::new();
    let mut origin = None;
    for g in &groups {
        let Some(def) = source.group(g)? else {
            return Ok(None);
        };
        origin.get_or_insert(def.origin);
        if !def.nodes.is_empty() {
            parts.push(qualify(&def.nodes, source.name()));
        }
    }
    Ok(origin.map(|origin| GroupDef {
        nodes: upcall::compact(parts.iter().map(String::as_str)),
        origin,
    }))
}

/// `@g` → `@source:g` in a group's answer; `@other:g` stays.
fn qualify(nodes: &str, source: &str) -> String {
    let mut out = String::with_capacity(nodes.len());
    let mut rest = nodes;
    while let Some(i) = rest.find('@') {
        // Only a term's leading '@' names a group (`user@host` does not).
        let starts_term = out
            .chars()
            .chain(rest[..i].chars())
            .last()
            .is_none_or(|c| ",!&^".contains(c) || c.is_whitespace());
        out.push_str(&rest[..=i]);
        rest = &rest[i + 1..];
        let end = rest.find([',', '!', '&', '^', ' ']).unwrap_or(rest.len());
        if starts_term && !rest[..end].contains(':') {
            out.push_str(source);
            out.push(':');
        }
    }
    out.push_str(rest);
    out
}

/// Node-set groups over ClusterShell sources: `@g`, `@src:g`, `@*`.
/// A failing upcall is an error with its reason.
pub struct SourceGroups<'a>(pub &'a [Box<dyn GroupSource>]);

impl Groups for SourceGroups<'_> {
    fn group(&self, name: &str) -> Result<Option<String>, String> {
        match group_expr(self.0, name) {
            Ok(def) => Ok(def.map(|d| d.nodes)),
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;
