//! SFTP requests that fail as soon as their channel ends.
//!
//! russh-sftp keeps every pending request until its own timeout (60 s for
//! us) even after the connection under it is gone: its reader task ends,
//! but the replies it was waiting for are never failed. A transfer with 64
//! writes in flight over a dropped link would then sit silent for a
//! minute. The stream given to russh-sftp is wrapped to notice the end
//! (EOF or an error either way), and every request races that signal.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use russh_sftp::client::RawSftpSession;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{Attrs, Data, FileAttributes, Handle, Name, OpenFlags, Packet, Status};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::sync::CancellationToken;

/// Wraps the SFTP channel's stream; cancels `ended` when it ends.
pub(crate) struct EndWatch<S> {
    inner: S,
    ended: CancellationToken,
}

impl<S> EndWatch<S> {
    pub fn new(inner: S, ended: CancellationToken) -> Self {
        EndWatch { inner, ended }
    }
}

impl<S> Drop for EndWatch<S> {
    fn drop(&mut self) {
        self.ended.cancel();
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for EndWatch<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let wanted = buf.remaining() > 0;
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        match &r {
            Poll::Ready(Err(_)) => self.ended.cancel(),
            Poll::Ready(Ok(())) if wanted && buf.filled().len() == before => self.ended.cancel(),
            _ => {}
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for EndWatch<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Err(_))) {
            self.ended.cancel();
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The raw protocol, each request guarded by the session's end.
#[derive(Clone, Copy)]
pub struct Raw<'a> {
    pub(crate) raw: &'a RawSftpSession,
    pub(crate) ended: &'a CancellationToken,
}

impl<'a> Raw<'a> {
    async fn guard<T>(self, f: impl Future<Output = Result<T, SftpError>>) -> Result<T, SftpError> {
        tokio::select! {
            biased;
            r = f => r,
            _ = self.ended.cancelled() => Err(SftpError::UnexpectedBehavior(
                "the connection was lost".into(),
            )),
        }
    }
}

/// One guarded method per request the engine makes.
macro_rules! guarded {
    ($( $name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty; )*) => {
        impl<'a> Raw<'a> {
            $(
                pub async fn $name(self, $($arg: $ty),*) -> Result<$ret, SftpError> {
                    self.guard(self.raw.$name($($arg),*)).await
                }
            )*
        }
    };
}

guarded! {
    init() -> russh_sftp::protocol::Version;
    open(path: &str, flags: OpenFlags, attrs: FileAttributes) -> Handle;
    close(handle: &str) -> Status;
    read(handle: &str, offset: u64, len: u32) -> Data;
    write(handle: &str, offset: u64, data: Vec<u8>) -> Status;
    stat(path: &str) -> Attrs;
    lstat(path: &str) -> Attrs;
    fstat(handle: &str) -> Attrs;
    setstat(path: &str, attrs: FileAttributes) -> Status;
    opendir(path: &str) -> Handle;
    readdir(handle: &str) -> Name;
    remove(path: &str) -> Status;
    mkdir(path: &str, attrs: FileAttributes) -> Status;
    rmdir(path: &str) -> Status;
    realpath(path: &str) -> Name;
    rename(from: &str, to: &str) -> Status;
    readlink(path: &str) -> Name;
    symlink(path: &str, target: &str) -> Status;
    extended(request: &str, data: Vec<u8>) -> Packet;
    fsync(handle: &str) -> Status;
}
