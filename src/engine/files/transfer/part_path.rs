//! Where a transfer writes: the part file beside the destination, and the
//! remote path pieces it is made from.

use std::path::Path;

use super::outcome::TransferError;
use crate::engine::files::sftp::Sftp;
use crate::text::sanitize::is_mangled_name;

/// `dir/.NAME.sshdeck-part`
pub fn part_name(name: &str) -> String {
    format!(".{name}.sshdeck-part")
}

pub(super) fn split_remote(path: &str) -> (&str, &str) {
    match path.rsplit_once('/') {
        Some((dir, name)) => (if dir.is_empty() { "/" } else { dir }, name),
        None => (".", path),
    }
}

pub(super) fn remote_join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// A path that came out of a listing with U+FFFD in place of bytes that
/// were not UTF-8 names no file: say so, instead of "no such file".
pub(super) fn mangled_check(
    sftp: &Sftp,
    remote: &str,
    local: Option<&Path>,
) -> Result<(), TransferError> {
    const WHY: &str = "the name is not valid UTF-8 there, so it cannot be addressed by name; \
                       rename it on that side first";
    if is_mangled_name(remote) {
        return Err(TransferError::Remote {
            host: sftp.host.clone(),
            path: remote.into(),
            cause: WHY.into(),
        });
    }
    if let Some(local) = local
        && is_mangled_name(&local.to_string_lossy())
        && !local.exists()
    {
        return Err(TransferError::Local {
            path: local.to_path_buf(),
            cause: WHY.into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names_and_remote_paths() {
        assert_eq!(part_name("a.tar"), ".a.tar.sshdeck-part");
        assert_eq!(split_remote("/x/y/z"), ("/x/y", "z"));
        assert_eq!(split_remote("/z"), ("/", "z"));
        assert_eq!(split_remote("z"), (".", "z"));
        assert_eq!(remote_join("/", "a"), "/a");
    }
}
