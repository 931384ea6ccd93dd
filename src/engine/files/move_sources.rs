//! The second half of a move: deleting the sources. Only what the copy
//! itself recorded as copied (and verified) goes, and only while it is
//! still as it was when listed: a file that changed after the scan, or
//! one skipped as "already there", stays. Directories go last, deepest
//! first, and only when empty.

use std::path::Path;

use crate::engine::files::local_dest::LocalDir;
use crate::engine::files::sftp::Sftp;
use crate::engine::files::tree::{Copied, CopiedKind};
use crate::text::sanitize::visible_name;

/// What a move's clean-up did: sources removed, and the ones kept (with
/// why) or that could not be removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Removal {
    pub removed: usize,
    pub kept: Vec<String>,
}

impl Removal {
    fn keep(&mut self, place: &str, path: &str, why: &str) {
        self.kept
            .push(format!("{place}:{}: kept, {why}", visible_name(path)));
    }
}

/// Files and links first, then directories children-first.
fn in_removal_order(copied: &[Copied]) -> impl Iterator<Item = &Copied> {
    let leaves = copied.iter().filter(|c| c.kind != CopiedKind::Dir);
    let dirs = copied.iter().rev().filter(|c| c.kind == CopiedKind::Dir);
    leaves.chain(dirs)
}

/// Whether what is there now is still what was copied.
fn unchanged(c: &Copied, is_file: bool, is_link: bool, size: u64, mtime: Option<u64>) -> bool {
    match c.kind {
        CopiedKind::File => is_file && size == c.size && (c.mtime.is_none() || mtime == c.mtime),
        CopiedKind::Link => is_link,
        CopiedKind::Dir => true,
    }
}

/// Remove copied local sources.
pub fn remove_local(copied: &[Copied]) -> Removal {
    use rustix::fs::FileType;
    let mut r = Removal::default();
    for c in in_removal_order(copied) {
        let path = Path::new(&c.src);
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            continue;
        };
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        let name = name.to_string_lossy();
        let dir = match LocalDir::open_existing(parent) {
            Ok(d) => d,
            Err(e) => {
                r.keep("local", &c.src, &e.to_string());
                continue;
            }
        };
        if c.kind == CopiedKind::Dir {
            if let Ok(true) = dir.remove_empty_dir(&name) {
                r.removed += 1;
            }
            continue;
        }
        let now = match dir.find(&name) {
            Ok(Some(f)) => f,
            Ok(None) => continue,
            Err(e) => {
                r.keep("local", &c.src, &e.to_string());
                continue;
            }
        };
        let (file, link) = (
            now.kind == FileType::RegularFile,
            now.kind == FileType::Symlink,
        );
        if !unchanged(c, file, link, now.size, u64::try_from(now.mtime).ok()) {
            r.keep("local", &c.src, "it changed after it was copied");
            continue;
        }
        match dir.remove_file(&name) {
            Ok(()) => r.removed += 1,
            Err(e) => r.keep("local", &c.src, &e.to_string()),
        }
    }
    r
}

/// Remove copied sources on one host.
pub async fn remove_remote(sftp: &Sftp, copied: &[Copied]) -> Removal {
    let mut r = Removal::default();
    for c in in_removal_order(copied) {
        if c.kind == CopiedKind::Dir {
            // Not empty (something was kept, or is new): it stays.
            if sftp.raw().rmdir(c.src.as_str()).await.is_ok() {
                r.removed += 1;
            }
            continue;
        }
        let now = match sftp.lstat(&c.src).await {
            Ok(Some(a)) => a,
            Ok(None) => continue,
            Err(e) => {
                r.keep(
                    &sftp.host,
                    &c.src,
                    &crate::engine::files::transfer::describe_sftp(&e),
                );
                continue;
            }
        };
        let size = now.size.unwrap_or(0);
        let mtime = now.mtime.map(u64::from);
        if !unchanged(c, now.is_regular(), now.is_symlink(), size, mtime) {
            r.keep(&sftp.host, &c.src, "it changed after it was copied");
            continue;
        }
        match sftp.raw().remove(c.src.as_str()).await {
            Ok(_) => r.removed += 1,
            Err(e) => r.keep(
                &sftp.host,
                &c.src,
                &crate::engine::files::transfer::describe_sftp(&e),
            ),
        }
    }
    r
}

/// The sources every ledger has, as they were when copied (a put's local
/// file goes only once every host has that very version), and a note for
/// each one kept because some host does not.
pub fn copied_everywhere(ledgers: &[Vec<Copied>]) -> (Vec<Copied>, Vec<String>) {
    let Some((first, rest)) = ledgers.split_first() else {
        return (Vec::new(), Vec::new());
    };
    let everywhere: Vec<Copied> = first
        .iter()
        .filter(|c| rest.iter().all(|l| l.contains(c)))
        .cloned()
        .collect();
    let mut kept: Vec<String> = Vec::new();
    for c in ledgers.iter().flatten() {
        let file = c.kind != CopiedKind::Dir;
        if file && !everywhere.iter().any(|e| e.src == c.src) {
            let note = format!(
                "local:{}: kept, not every host has this version of it",
                visible_name(&c.src)
            );
            if !kept.contains(&note) {
                kept.push(note);
            }
        }
    }
    (everywhere, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(src: &Path, kind: CopiedKind) -> Copied {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::symlink_metadata(src).unwrap();
        Copied {
            src: src.to_string_lossy().into_owned(),
            kind,
            size: if kind == CopiedKind::File { m.len() } else { 0 },
            mtime: u64::try_from(m.mtime()).ok(),
        }
    }

    #[test]
    fn only_unchanged_copied_sources_are_removed() {
        let d = tempfile::tempdir().unwrap();
        let top = d.path().join("top");
        std::fs::create_dir(&top).unwrap();
        for f in ["same", "changed", "skipped"] {
            std::fs::write(top.join(f), f).unwrap();
        }
        let records = vec![
            rec(&top, CopiedKind::Dir),
            rec(&top.join("same"), CopiedKind::File),
            rec(&top.join("changed"), CopiedKind::File),
        ];
        std::fs::write(top.join("changed"), "grew after the copy").unwrap();
        let r = remove_local(&records);
        assert_eq!(r.removed, 1, "{r:?}");
        assert!(!top.join("same").exists());
        assert!(top.join("changed").exists() && top.join("skipped").exists());
        assert!(r.kept[0].contains("changed after it was copied"), "{r:?}");
        // The directory still holds what was kept, so it stays.
        assert!(top.is_dir());
    }

    #[test]
    fn a_put_removes_what_every_host_has() {
        let c = |s: &str| Copied {
            src: s.into(),
            kind: CopiedKind::File,
            size: 1,
            mtime: None,
        };
        let (both, kept) = copied_everywhere(&[vec![c("a"), c("b")], vec![c("b")]]);
        assert_eq!(both, vec![c("b")]);
        assert_eq!(
            kept,
            ["local:a: kept, not every host has this version of it"]
        );
        assert!(copied_everywhere(&[]).0.is_empty());
    }
}
