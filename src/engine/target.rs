//! Where and as whom to connect. Resolution of names, ssh_config and config
//! files happens in `inventory`; the engine receives finished targets.

/// A host the engine can connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// What the user calls it: the inventory name or `user@host:port`.
    pub label: String,
    /// Address or DNS name to connect to.
    pub host: String,
    pub port: u16,
    pub user: String,
}

/// The login name of the user running sshdeck, as OpenSSH picks it: from the
/// password database, not from `$USER` (which a shell can leave stale).
pub fn local_user() -> String {
    // SAFETY: getpwuid returns a pointer into static storage or null; we copy
    // the name out immediately and never keep the pointer.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if !pw.is_null()
            && !(*pw).pw_name.is_null()
            && let Ok(name) = std::ffi::CStr::from_ptr((*pw).pw_name).to_str()
        {
            return name.to_string();
        }
    }
    std::env::var("USER").unwrap_or_else(|_| "root".into())
}

/// `$HOME` as OpenSSH resolves it: the environment first, then passwd.
pub fn home_dir() -> Option<std::path::PathBuf> {
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return Some(h.into());
    }
    // SAFETY: as in `local_user`.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if !pw.is_null() && !(*pw).pw_dir.is_null() {
            let dir = std::ffi::CStr::from_ptr((*pw).pw_dir);
            use std::os::unix::ffi::OsStrExt;
            return Some(std::ffi::OsStr::from_bytes(dir.to_bytes()).into());
        }
    }
    None
}
