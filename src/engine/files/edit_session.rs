//! Editing a file in $EDITOR: a remote file is fetched into a private
//! copy (a 0700 temporary directory, a 0600 file, whatever the host's
//! mode, so no other local user can read what is being edited), and after
//! the editor the new version goes back atomically, with the host file's
//! own mode, unless the host's copy changed meanwhile.

use std::path::PathBuf;

use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::engine::HostLink;
use crate::engine::files::local_dest::LocalDir;
use crate::engine::files::transfer::{self, Overwrite, TransferCtx, TransferOpts};

pub struct EditSession {
    pub host: Option<HostLink>,
    pub remote: String,
    pub local: PathBuf,
    /// Keeps the downloaded copy's directory alive until the edit ends.
    temp_dir: Option<tempfile::TempDir>,
    before: [u8; 32],
    /// The remote file as downloaded: size, mtime and SHA-256.
    seen: Option<(Option<u64>, Option<u32>, Option<String>)>,
    /// The remote file's mode, which the edited copy goes back with (the
    /// local copy itself is 0600).
    mode: u32,
}

fn sha256_of(path: &std::path::Path) -> std::io::Result<[u8; 32]> {
    let mut h = Sha256::new();
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = std::io::Read::read(&mut f, &mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}

/// Fetch `path` (from `link`, or a local file) for editing.
pub async fn prepare(link: Option<HostLink>, path: String) -> Result<EditSession, String> {
    let Some(link) = link else {
        let local = PathBuf::from(&path);
        let before = sha256_of(&local).map_err(|e| format!("{path}: {e}"))?;
        return Ok(EditSession {
            host: None,
            remote: path,
            local,
            temp_dir: None,
            before,
            seen: None,
            mode: 0,
        });
    };
    let sftp = link.sftp().await.map_err(|e| e.to_string())?;
    let attrs = sftp
        .stat(&path)
        .await
        .map_err(|e| format!("{}:{path}: {e}", link.label))?
        .ok_or_else(|| format!("{}:{path}: no such file", link.label))?;
    // The copy is for the user alone: a 0700 directory, a 0600 file,
    // whatever the host's mode (which only the write-back uses).
    let dir = {
        use std::os::unix::fs::PermissionsExt;
        tempfile::Builder::new()
            .prefix("sshdeck-edit-")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir()
            .map_err(|e| format!("cannot make a temporary directory: {e}"))?
    };
    // The name came from the host's listing: it is checked before use,
    // and the copy can only land inside the new temporary directory.
    let name = path.rsplit('/').next().unwrap_or_default();
    let dest = LocalDir::open_root(dir.path()).map_err(|e| e.to_string())?;
    let local = dest.display(name);
    let opts = TransferOpts {
        resume: false,
        ..TransferOpts::default()
    };
    let hasher = link.hasher();
    let cancel = CancellationToken::new();
    let outcome = transfer::download_private(
        &sftp,
        &path,
        &dest,
        name,
        &TransferCtx {
            opts: &opts,
            remote_hash: Some(&hasher),
            progress: &|_| {},
            cancel: &cancel,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    let remote_sha = match outcome {
        transfer::TransferOutcome::Copied {
            verified: transfer::Verified::Sha256(s),
            ..
        } => Some(s),
        _ => None,
    };
    let before = sha256_of(&local).map_err(|e| e.to_string())?;
    Ok(EditSession {
        host: Some(link),
        remote: path,
        local,
        temp_dir: Some(dir),
        before,
        seen: Some((attrs.size, attrs.mtime, remote_sha)),
        // As a download keeping the mode would have made it (0644 when the
        // host does not say).
        mode: crate::engine::files::local_dest::local_mode(attrs.permissions, false, true),
    })
}

impl EditSession {
    /// After the editor: upload the new version unless the host's copy
    /// changed meanwhile (then the edited copy is kept and its path
    /// reported).
    pub async fn finish(&mut self) -> Result<String, String> {
        finish(self).await
    }
}

async fn finish(s: &mut EditSession) -> Result<String, String> {
    let after = sha256_of(&s.local).map_err(|e| e.to_string())?;
    if after == s.before {
        return Ok(format!("{}: not changed", s.remote));
    }
    let Some(link) = &s.host else {
        return Ok(format!("{}: saved", s.remote));
    };
    let sftp = link.sftp().await.map_err(|e| e.to_string())?;
    let now = sftp.stat(&s.remote).await.map_err(|e| e.to_string())?;
    let (size, mtime, sha) = s.seen.clone().unwrap_or_default();
    let mut changed = match &now {
        Some(a) => a.size != size || a.mtime != mtime,
        None => true,
    };
    // Same size and second: compare contents too, when the host can hash.
    if !changed && let Some(before) = &sha {
        changed = link
            .sha256(s.remote.clone(), None)
            .await
            .is_some_and(|now| &now != before);
    }
    if changed {
        // Keep the user's work: the temporary directory is not removed.
        if let Some(d) = s.temp_dir.take() {
            let _kept = d.keep();
        }
        // The path comes first: a status line is cut at the terminal's
        // width, and the path is the one thing the user must not lose.
        // The log keeps it too.
        let message = format!(
            "not uploaded; your version is kept at {} ({}:{} changed on the host while you edited)",
            s.local.display(),
            link.label,
            s.remote,
        );
        tracing::warn!(host = %link.label, remote = %s.remote, kept = %s.local.display(), "edit not uploaded: the host's copy changed");
        return Err(message);
    }
    let opts = TransferOpts {
        resume: false,
        overwrite: Overwrite::Always,
        ..TransferOpts::default()
    };
    let hasher = link.hasher();
    let cancel = CancellationToken::new();
    // The edited copy goes back with the mode the host's file had.
    transfer::upload_as(
        &sftp,
        &s.local,
        &s.remote,
        s.mode,
        &TransferCtx {
            opts: &opts,
            remote_hash: Some(&hasher),
            progress: &|_| {},
            cancel: &cancel,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(format!(
        "{}:{} saved (uploaded atomically, SHA-256 verified)",
        link.label, s.remote
    ))
}
