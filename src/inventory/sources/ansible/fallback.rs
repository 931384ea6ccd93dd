//! Asking Ansible itself: `ansible-inventory -i … --list` for the whole
//! inventory, read as a dynamic inventory's answer. It runs in an empty
//! directory, so that `group_vars/` where sshdeck happens to run (which
//! Ansible reads as a playbook's) cannot change the answer.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::data::Data;
use super::run::{TIMEOUT, run};
use super::script::{Trust, read_answer};
use super::{Failure, build};
use crate::inventory::sources::{SourceError, SourceInventory};

pub(crate) const PROGRAM: &str = "ansible-inventory";

/// `ansible-inventory` on PATH, if any.
pub(crate) fn program() -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(PROGRAM))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Ansible's answer, or why not. `Failure::Oracle`: the answer still
/// holds a value only Ansible can render (a template, a vaulted value):
/// ansible-inventory repeats them as written.
pub(crate) fn load(program: &Path, paths: &[PathBuf]) -> Result<SourceInventory, Failure> {
    let empty = tempfile::tempdir().map_err(|e| SourceError::Io {
        path: std::env::temp_dir(),
        cause: e.to_string(),
    })?;
    let mut args: Vec<PathBuf> = Vec::new();
    for p in paths {
        args.push("-i".into());
        let is_list = p.to_string_lossy().contains(',') && !p.exists();
        args.push(if is_list {
            p.clone()
        } else {
            std::path::absolute(p).unwrap_or_else(|_| p.clone())
        });
    }
    args.push("--list".into());
    let args: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let out = run(program, &args, Some(empty.path()), TIMEOUT)?;
    let first = paths.first().map(PathBuf::as_path).unwrap_or(Path::new(""));
    let mut data = Data::new();
    read_answer(first, &out, Trust::Inventory, &mut data)?;
    data.reconcile();
    build(&data, &[], Some(first))
}
