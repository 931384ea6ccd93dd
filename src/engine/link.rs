//! A cloneable handle on one host's task, for work that outlives a borrow
//! of the [`Engine`](super::Engine): background transfers and file panes
//! ask for the host's SFTP session or run helper commands through it.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::HostError;
use super::files::sftp::Sftp;
use super::files::transfer;
use super::host_task::HostCmd;

pub use super::host_task::Captured;

#[derive(Clone)]
pub struct HostLink {
    pub label: String,
    cmds: mpsc::UnboundedSender<HostCmd>,
}

impl HostLink {
    pub(crate) fn new(label: String, cmds: mpsc::UnboundedSender<HostCmd>) -> Self {
        HostLink { label, cmds }
    }

    /// The host's SFTP session, connecting first if needed. Sessions are
    /// shared: every transfer to one host reuses one subsystem channel.
    pub fn sftp(&self) -> BoxFuture<'static, Result<Arc<Sftp>, HostError>> {
        let (tx, rx) = oneshot::channel();
        let _ = self.cmds.send(HostCmd::Sftp { reply: tx });
        let host = self.label.clone();
        Box::pin(async move { rx.await.unwrap_or(Err(HostError::Disconnected { host })) })
    }

    /// Run a short helper command (not shown as a job) and collect its
    /// exit status and stdout.
    pub fn capture(&self, command: String) -> BoxFuture<'static, Result<Captured, HostError>> {
        self.capture_for(command, None)
    }

    /// [`Self::capture`], stopped with `CommandTimeout` after `timeout`
    /// (the remote command's channel is closed).
    pub fn capture_for(
        &self,
        command: String,
        timeout: Option<std::time::Duration>,
    ) -> BoxFuture<'static, Result<Captured, HostError>> {
        self.capture_until(command, timeout, CancellationToken::new())
    }

    /// [`Self::capture_for`], also stopped on the host when `cancel` is
    /// cancelled (then `Cancelled`, or `NotStopped` when the host did not
    /// confirm the stop).
    pub fn capture_until(
        &self,
        command: String,
        timeout: Option<std::time::Duration>,
        cancel: CancellationToken,
    ) -> BoxFuture<'static, Result<Captured, HostError>> {
        let (tx, rx) = oneshot::channel();
        let _ = self.cmds.send(HostCmd::Capture {
            command,
            timeout,
            cancel,
            reply: tx,
        });
        let host = self.label.clone();
        Box::pin(async move { rx.await.unwrap_or(Err(HostError::Disconnected { host })) })
    }

    /// SHA-256 of a remote file (or of its first `len` bytes) by the
    /// host's own tool, or `None` when the host has none (transfers then
    /// check sizes only, and part files cannot be resumed).
    pub fn sha256(
        &self,
        path: String,
        range: Option<std::ops::Range<u64>>,
    ) -> BoxFuture<'static, Option<String>> {
        let run = self.capture(transfer::sha256_command(&path, range));
        Box::pin(async move {
            match run.await {
                Ok(c) if c.success() => transfer::parse_sha256sum(&c.stdout),
                _ => None,
            }
        })
    }

    /// [`Self::sha256`] in the shape transfers take.
    pub fn hasher(
        &self,
    ) -> impl Fn(String, Option<std::ops::Range<u64>>) -> BoxFuture<'static, Option<String>>
    + Sync
    + Send
    + use<> {
        let link = self.clone();
        move |path, range| link.sha256(path, range)
    }
}
