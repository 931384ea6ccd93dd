//! What a caller asks of one transfer: the user's options, and the context
//! it runs in (the host's hasher, where progress goes, the cancel).

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overwrite {
    /// Replace an existing destination.
    #[default]
    Always,
    /// Skip when the destination has the same size and mtime.
    SkipSame,
    /// Refuse if the destination exists.
    Never,
}

#[derive(Debug, Clone, Copy)]
pub struct TransferOpts {
    /// Continue from an existing part file (once it is proven a prefix).
    pub resume: bool,
    /// Keep the source's permission bits exactly (never more than 0777).
    /// Without it they are masked by the local umask, as OpenSSH's sftp
    /// does. The mtime is always kept: `SkipSame` relies on it.
    pub preserve: bool,
    pub overwrite: Overwrite,
    /// Compare SHA-256 sums after copying (sizes are always checked).
    pub verify: bool,
}

impl Default for TransferOpts {
    fn default() -> Self {
        TransferOpts {
            resume: true,
            preserve: false,
            overwrite: Overwrite::Always,
            verify: true,
        }
    }
}

/// Computes the SHA-256 of a remote file, or of a byte range of it (e.g.
/// by running `sha256sum`); `None` when the host cannot.
pub type RemoteHasher<'a> =
    &'a (dyn Fn(String, Option<std::ops::Range<u64>>) -> BoxFuture<'static, Option<String>> + Sync);

/// How one transfer runs, apart from what it copies where: one value
/// instead of four arguments on every upload and download.
#[derive(Clone, Copy)]
pub struct TransferCtx<'a> {
    pub opts: &'a TransferOpts,
    /// `None` when the host cannot hash: then only sizes are compared.
    pub remote_hash: Option<RemoteHasher<'a>>,
    /// Called with each count of bytes newly stored.
    pub progress: &'a (dyn Fn(u64) + Sync),
    pub cancel: &'a CancellationToken,
}
