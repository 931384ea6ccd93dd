//! The layers of the crate, bottom first, and the test that holds every
//! import to them: a module may use the layers below it and its own, never
//! one above. The build enforces it, so an uphill import (the kind that
//! once made `inventory` reach into `app` for the keymap, and `tui` into
//! `cli` for the run record) fails `cargo test` instead of waiting for a
//! review to notice. Why a test and not one crate per layer: see
//! ARCHITECTURE.md ("Layers").

/// The top-level modules, lowest first. `main.rs` sits above them all.
pub const LAYERS: &[&str] = &[
    "text",
    "logging",
    "keymap",
    "engine",
    "demo",
    "inventory",
    "app",
    "ui",
    "tui",
    "session",
    "cli",
];

/// The top-level modules a piece of Rust source names through `crate::`,
/// in order of appearance. Comments are skipped; `crate::{a, b::c}` names
/// both `a` and `b`.
pub fn crate_imports(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            if let Some(group) = after.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or_default();
                out.extend(inner.split(',').filter_map(first_ident));
            } else if let Some(name) = first_ident(after) {
                out.push(name);
            }
            rest = after;
        }
    }
    out
}

/// The identifier a path starts with (`engine` in ` engine::Target`).
fn first_ident(path: &str) -> Option<String> {
    let path = path.trim_start();
    let end = path
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(path.len());
    (end > 0).then(|| path[..end].to_string())
}

/// Every `.rs` file under `dir`, for the tests that read the whole tree
/// (this one and `names`).
#[cfg(test)]
pub(crate) fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The layer a file under src/ belongs to: its top-level module.
    fn layer_of(src: &Path, file: &Path) -> Option<usize> {
        let rel = file.strip_prefix(src).ok()?;
        let first = rel.components().next()?.as_os_str().to_str()?;
        let name = first.strip_suffix(".rs").unwrap_or(first);
        LAYERS.iter().position(|l| *l == name)
    }

    #[test]
    fn no_import_runs_uphill() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let mut uphill = Vec::new();
        let mut placed = 0;
        for file in &files {
            let Some(own) = layer_of(&src, file) else {
                continue;
            };
            placed += 1;
            let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{e}"));
            for name in crate_imports(&text) {
                if let Some(to) = LAYERS.iter().position(|l| *l == name)
                    && to > own
                {
                    uphill.push(format!("{} -> {name}", file.display()));
                }
            }
        }
        // Every module of the tree has a place; a new top-level module must
        // be given one above.
        assert!(
            placed > 100,
            "only {placed} files found under {}",
            src.display()
        );
        uphill.dedup();
        assert!(
            uphill.is_empty(),
            "imports that run uphill:\n{}",
            uphill.join("\n")
        );
    }

    #[test]
    fn every_top_level_module_has_a_layer() {
        let lib = include_str!("lib.rs");
        let mods: Vec<&str> = lib
            .lines()
            .filter_map(|l| {
                l.strip_prefix("pub mod ")
                    .or_else(|| l.strip_prefix("mod "))
            })
            .map(|l| l.trim_end_matches(';'))
            // Checks on the whole tree, not layers of it.
            .filter(|m| !["layers", "names"].contains(m))
            .collect();
        assert!(mods.len() >= 10, "{mods:?}");
        for m in mods {
            assert!(LAYERS.contains(&m), "src/{m} has no place in LAYERS");
        }
    }

    #[test]
    fn imports_are_read_from_paths_groups_and_not_comments() {
        let src = "use crate::engine::Target;\nuse crate::{app, ui::render};\n// crate::cli here is a comment\nlet x = crate::text::count(1, \"a\", \"b\"); // crate::tui\n";
        assert_eq!(crate_imports(src), ["engine", "app", "ui", "text"]);
    }

    #[test]
    fn an_uphill_import_is_seen() {
        // The shape the two old uphill imports had.
        let names = crate_imports("use crate::app::keymap::{Keymap, Override};");
        let inventory = LAYERS.iter().position(|l| *l == "inventory");
        let app = LAYERS.iter().position(|l| *l == names[0]);
        assert!(app > inventory);
    }
}
