//! Inventory paths as `ansible-inventory -i` takes them: a file (INI,
//! YAML, an executable script), a directory (every entry, sorted, but
//! what Ansible skips), or `a,b,` (a host list). Also the `group_vars/`
//! and `host_vars/` files next to each path.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::Failure;
use super::data::{Data, UNGROUPED};
use super::yaml::{Shape, VarsFile};
use crate::inventory::sources::{Origin, SourceError};

/// Ansible's `inventory_ignore_extensions` default (its REJECT_EXTS plus
/// `.orig`, `.cfg`, `.retry`): a file whose name ends so is not read.
const IGNORED_ENDINGS: &[&str] = &[
    ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry",
];

/// Names Ansible never reads as inventory in a directory.
fn ignored(name: &str) -> bool {
    name.starts_with('.')
        || matches!(name, "host_vars" | "group_vars" | "vars_plugins")
        || IGNORED_ENDINGS.iter().any(|e| name.ends_with(e))
}

fn io(path: &Path, e: impl std::fmt::Display) -> Failure {
    Failure::Error(SourceError::Io {
        path: path.to_path_buf(),
        cause: e.to_string(),
    })
}

/// Deeper than any inventory directory: a symlink loop, refused rather
/// than followed until the path is too long.
const MAX_DIR_DEPTH: usize = 40;

pub(crate) fn read_source(path: &Path, data: &mut Data) -> Result<(), Failure> {
    read_at(path, data, 0)
}

fn read_at(path: &Path, data: &mut Data, depth: usize) -> Result<(), Failure> {
    if depth > MAX_DIR_DEPTH {
        return Err(io(
            path,
            format!("directories nested deeper than {MAX_DIR_DEPTH} (a symbolic link loop?)"),
        ));
    }
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(_) if path.to_string_lossy().contains(',') => return host_list(path, data),
        Err(e) => return Err(io(path, e)),
    };
    if meta.is_dir() {
        let mut names: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| io(path, e))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .map_err(|e| io(path, e))?;
        names.sort();
        for name in names {
            if !ignored(&name.to_string_lossy()) {
                read_at(&path.join(name), data, depth + 1)?;
            }
        }
        return Ok(());
    }
    read_file(path, &meta, data)
}

/// `-i 'web1,web2:2222,'`: hosts, in `ungrouped`.
fn host_list(path: &Path, data: &mut Data) -> Result<(), Failure> {
    let origin = Origin::new(path, 0);
    for item in path.to_string_lossy().split(',').map(str::trim) {
        if item.is_empty() {
            continue;
        }
        let (names, port) = super::pattern::expand_pattern(item)
            .ok()
            .filter(|(n, _)| n.len() == 1)
            .unwrap_or_else(|| (vec![item.to_string()], None));
        for n in names {
            data.add_host(&n, Some(UNGROUPED), port, &origin)?;
        }
    }
    Ok(())
}

fn executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.is_file() && meta.permissions().mode() & 0o111 != 0
}

fn read_file(path: &Path, meta: &std::fs::Metadata, data: &mut Data) -> Result<(), Failure> {
    let bytes = std::fs::read(path).map_err(|e| io(path, e))?;
    // An executable file is a script when the system can run it: Ansible
    // tries to run any executable, and reads it as a file when that fails.
    if executable(meta) && bytes.starts_with(b"#!") {
        return Ok(super::script::run_script(path, data)?);
    }
    let text = String::from_utf8(bytes).map_err(|_| io(path, "not UTF-8 text"))?;
    let ext = path.extension().map(|e| e.to_string_lossy().to_string());
    let yaml_ext = matches!(ext.as_deref(), None | Some("yml" | "yaml" | "json"));
    if ext.as_deref() == Some("toml") {
        return Err(Failure::Oracle {
            origin: Origin::new(path, 0),
            what: "a TOML inventory".into(),
        });
    }
    if !yaml_ext {
        return Ok(super::ini::parse(path, &text, data)?);
    }
    match super::yaml::shape(&text) {
        Shape::Mapping(doc) => {
            if let Some(line) = super::yaml::plugin_line(&doc) {
                return Err(Failure::Oracle {
                    origin: Origin::new(path, line),
                    what: "an inventory plugin's configuration".into(),
                });
            }
            Ok(super::yaml::parse_inventory(path, &doc, data)?)
        }
        Shape::Other => Ok(super::ini::parse(path, &text, data)?),
        Shape::Error(line, msg) => match super::ini::parse(path, &text, data) {
            Ok(()) => Ok(()),
            Err(e) if ext.is_none() => Err(e.into()),
            Err(_) => Err(Failure::Error(SourceError::Invalid {
                origin: Origin::new(path, line),
                msg: format!("YAML: {msg}"),
            })),
        },
    }
}

/// The directory whose `group_vars/` and `host_vars/` a source uses.
pub(crate) fn vars_base(source: &Path) -> Option<PathBuf> {
    let meta = std::fs::metadata(source).ok()?;
    if meta.is_dir() {
        Some(source.to_path_buf())
    } else {
        Some(source.parent().unwrap_or(Path::new(".")).to_path_buf())
    }
}

const VARS_EXTS: &[&str] = &["", ".yml", ".yaml", ".json"];

/// Variable files, read once each, as Ansible's `host_group_vars`
/// finds them.
#[derive(Default)]
pub(crate) struct VarsFiles {
    listings: HashMap<PathBuf, Option<HashSet<String>>>,
    files: HashMap<PathBuf, VarsFile>,
}

impl VarsFiles {
    /// The files for `name` under `base/subdir`: the first of `name`,
    /// `name.yml`, `name.yaml`, `name.json`, or every file of a directory
    /// so named.
    pub fn find(
        &mut self,
        base: &Path,
        subdir: &str,
        name: &str,
    ) -> Result<Vec<PathBuf>, SourceError> {
        if name.starts_with('/') {
            return Ok(Vec::new());
        }
        let dir = base.join(subdir);
        let listing = self.listings.entry(dir.clone()).or_insert_with(|| {
            let entries = std::fs::read_dir(&dir).ok()?;
            Some(
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .collect(),
            )
        });
        let Some(listing) = listing else {
            return Ok(Vec::new());
        };
        for ext in VARS_EXTS {
            let file = format!("{name}{ext}");
            if listing.contains(&file) {
                let full = dir.join(&file);
                if full.is_dir() {
                    let mut out = Vec::new();
                    dir_files(&full, &mut out)?;
                    return Ok(out);
                }
                return Ok(vec![full]);
            }
        }
        Ok(Vec::new())
    }

    pub fn load(&mut self, path: &Path) -> Result<&VarsFile, SourceError> {
        if !self.files.contains_key(path) {
            let text = std::fs::read_to_string(path).map_err(|e| SourceError::Io {
                path: path.to_path_buf(),
                cause: e.to_string(),
            })?;
            let parsed = super::yaml::parse_vars_file(path, &text)?;
            self.files.insert(path.to_path_buf(), parsed);
        }
        Ok(&self.files[path])
    }
}

fn dir_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SourceError> {
    let io = |e: std::io::Error| SourceError::Io {
        path: dir.to_path_buf(),
        cause: e.to_string(),
    };
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .map_err(io)?;
    names.sort();
    for name in names {
        let shown = name.to_string_lossy();
        if shown.starts_with('.') || shown.ends_with('~') {
            continue;
        }
        let full = dir.join(&name);
        let ext = full
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()));
        if full.is_dir() && ext.is_none() {
            dir_files(&full, out)?;
        } else if full.is_file() && ext.as_deref().is_none_or(|e| VARS_EXTS.contains(&e)) {
            out.push(full);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_ansible_skips_in_a_directory() {
        for name in [
            ".hidden",
            "x.retry",
            "x~",
            "x.orig",
            "x.cfg",
            "x.pyc",
            "group_vars",
            "host_vars",
            "README.md",
        ] {
            assert!(ignored(name), "{name}");
        }
        for name in ["hosts", "x.ini", "x.yml", "x.json", "x.sh"] {
            assert!(!ignored(name), "{name}");
        }
    }

    #[test]
    fn vars_files_are_found_as_ansible_finds_them() {
        let dir = tempfile::tempdir().unwrap();
        let gv = dir.path().join("group_vars");
        std::fs::create_dir_all(gv.join("web/sub")).unwrap();
        std::fs::write(gv.join("db.yml"), "a: 1\n").unwrap();
        std::fs::write(gv.join("db.json"), "{}\n").unwrap();
        std::fs::write(gv.join("web/b.yaml"), "").unwrap();
        std::fs::write(gv.join("web/a"), "").unwrap();
        std::fs::write(gv.join("web/sub/c.json"), "").unwrap();
        std::fs::write(gv.join("web/z.txt"), "").unwrap();
        std::fs::write(gv.join("web/.h.yml"), "").unwrap();
        let mut vf = VarsFiles::default();
        let names = |v: Vec<PathBuf>| -> Vec<String> {
            v.iter()
                .map(|p| p.strip_prefix(&gv).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(
            names(vf.find(dir.path(), "group_vars", "db").unwrap()),
            ["db.yml"]
        );
        assert_eq!(
            names(vf.find(dir.path(), "group_vars", "web").unwrap()),
            ["web/a", "web/b.yaml", "web/sub/c.json"]
        );
        assert!(vf.find(dir.path(), "host_vars", "web").unwrap().is_empty());
    }
}
