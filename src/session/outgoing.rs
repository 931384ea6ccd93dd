//! What goes to one client, in order. The session's loop writes a message
//! itself when nothing waits before it and the socket takes it at once
//! (a non-blocking send): a keystroke's frame then reaches the client
//! without waking another thread. Whatever the socket cannot take now,
//! and everything behind it, goes to the client's writer thread, which
//! may block on a client that reads slowly; the loop never does.
//!
//! Frames are bounded (`QUEUED_FRAMES`): past that the client is behind,
//! is not drawn for, and its next frame is whole (see `server`). Control
//! messages (detached, suspend, edit, ended) are never dropped.

use std::collections::VecDeque;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::protocol::ServerMsg;

/// Frames a client may have queued: past that it is behind, and is not
/// drawn for until it catches up (so it never slows the session).
pub const QUEUED_FRAMES: usize = 2;

#[derive(Clone)]
pub struct ClientOut(Arc<OutShared>);

struct OutShared {
    sock: UnixStream,
    state: Mutex<OutState>,
    more: Condvar,
}

#[derive(Default)]
struct OutState {
    queue: VecDeque<Vec<u8>>,
    frames: usize,
    /// The writer thread is writing something it took off the queue.
    writing: bool,
    /// Nothing more will be sent: the writer drains the queue and stops.
    ending: bool,
    /// The writer has stopped (or the socket failed).
    done: bool,
}

impl ClientOut {
    /// Output to `sock` (the write side of a client's connection), with
    /// its writer thread started.
    pub fn start(sock: UnixStream) -> std::io::Result<ClientOut> {
        let out = ClientOut(Arc::new(OutShared {
            sock,
            state: Mutex::new(OutState::default()),
            more: Condvar::new(),
        }));
        let writer = out.clone();
        std::thread::Builder::new()
            .name("session-write".into())
            .spawn(move || writer.write_loop())?;
        Ok(out)
    }

    fn lock(&self) -> MutexGuard<'_, OutState> {
        self.0
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Room for another frame.
    pub fn has_room(&self) -> bool {
        let st = self.lock();
        st.frames < QUEUED_FRAMES && !st.ending && !st.done
    }

    /// Send `msg`: written now when nothing waits before it and the socket
    /// takes it, else queued. False when it was not sent: a frame to a
    /// client that is behind, or anything to one that is gone.
    pub fn send(&self, msg: &ServerMsg) -> bool {
        let frame = matches!(msg, ServerMsg::Frame(_));
        let last = matches!(msg, ServerMsg::Detached { .. } | ServerMsg::Ended { .. });
        let bytes = msg.encode();
        let mut st = self.lock();
        if st.ending || st.done || (frame && st.frames >= QUEUED_FRAMES) {
            return false;
        }
        st.ending = last;
        let rest = if st.queue.is_empty() && !st.writing {
            match self.send_now(&bytes) {
                Ok(n) if n == bytes.len() => None,
                Ok(n) => Some(bytes[n..].to_vec()),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Some(bytes),
                Err(_) => {
                    st.done = true;
                    self.0.more.notify_all();
                    return false;
                }
            }
        } else {
            Some(bytes)
        };
        if let Some(rest) = rest {
            st.queue.push_back(rest);
            st.frames += usize::from(frame);
        }
        self.0.more.notify_all();
        true
    }

    /// One non-blocking send (the socket stays blocking for the writer
    /// thread: the flag is per call). No SIGPIPE from a closed client.
    fn send_now(&self, bytes: &[u8]) -> std::io::Result<usize> {
        // SAFETY: send(2) on our open socket with a valid buffer.
        let n = unsafe {
            libc::send(
                self.0.sock.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        usize::try_from(n).map_err(|_| std::io::Error::last_os_error())
    }

    /// Nothing more goes to this client (its connection ended): the
    /// writer sends what is queued and stops.
    pub fn end(&self) {
        self.lock().ending = true;
        self.0.more.notify_all();
    }

    /// Wait (at most `wait`) until everything sent has been written.
    pub async fn flushed(&self, wait: Duration) {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            {
                let st = self.lock();
                if st.done || (st.queue.is_empty() && !st.writing) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn write_loop(&self) {
        loop {
            let next = {
                let mut st = self.lock();
                loop {
                    if let Some(b) = st.queue.pop_front() {
                        st.writing = true;
                        break Some(b);
                    }
                    if st.ending || st.done {
                        break None;
                    }
                    st = self
                        .0
                        .more
                        .wait(st)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                }
            };
            let Some(bytes) = next else { break };
            let ok = (&self.0.sock).write_all(&bytes).is_ok();
            let mut st = self.lock();
            st.writing = false;
            // Whether it was a frame is not kept; a whole queue written
            // means no frame waits.
            st.frames = st.frames.min(st.queue.len());
            if !ok {
                st.queue.clear();
                break;
            }
        }
        let _ = self.0.sock.shutdown(std::net::Shutdown::Write);
        self.lock().done = true;
    }
}
