//! One input sent to every host's command, as `clush` does with its
//! standard input: `sshdeck run -a -- bash -s < script.sh`.
//!
//! The input is read once. Its chunks are kept (shared, never copied per
//! host) until the last command has had them, so a host that connects
//! late still gets every byte from the start, and a host that never reads
//! its input holds up no other host. The cost is the input's size, once.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::Notify;

#[derive(Default)]
struct Inner {
    chunks: Mutex<(Vec<Bytes>, bool)>,
    grown: Notify,
}

/// The shared input; cheap to clone.
#[derive(Clone, Default)]
pub struct StdinFeed(Arc<Inner>);

impl std::fmt::Debug for StdinFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (n, done) = self
            .0
            .chunks
            .lock()
            .map(|c| (c.0.len(), c.1))
            .unwrap_or_default();
        write!(f, "StdinFeed({n} chunks, complete: {done})")
    }
}

/// Two options are equal when they send the same input.
impl PartialEq for StdinFeed {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for StdinFeed {}

impl StdinFeed {
    /// A feed that is complete from the start.
    pub fn from_bytes(data: impl Into<Bytes>) -> StdinFeed {
        let feed = StdinFeed::default();
        feed.push(data.into());
        feed.finish();
        feed
    }

    /// Append a chunk (the reader of the local input calls this).
    pub fn push(&self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        if let Ok(mut c) = self.0.chunks.lock() {
            c.0.push(chunk);
        }
        self.0.grown.notify_waiters();
    }

    /// The input has ended: readers then see end-of-input.
    pub fn finish(&self) {
        if let Ok(mut c) = self.0.chunks.lock() {
            c.1 = true;
        }
        self.0.grown.notify_waiters();
    }

    /// A reader starting at the first byte.
    pub fn reader(&self) -> StdinReader {
        StdinReader {
            feed: self.clone(),
            next: 0,
        }
    }
}

/// One host's position in the feed.
pub struct StdinReader {
    feed: StdinFeed,
    next: usize,
}

impl StdinReader {
    /// The next chunk, waiting for it; `None` at the end of the input.
    pub async fn next(&mut self) -> Option<Bytes> {
        loop {
            // Registered before looking, so a push in between still wakes us.
            let grown = self.feed.0.grown.notified();
            {
                let c = self.feed.0.chunks.lock().ok()?;
                if let Some(chunk) = c.0.get(self.next) {
                    self.next += 1;
                    return Some(chunk.clone());
                }
                if c.1 {
                    return None;
                }
            }
            grown.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_reader_gets_every_chunk_from_the_start() {
        let feed = StdinFeed::default();
        let mut early = feed.reader();
        feed.push(Bytes::from_static(b"a"));
        let waiting = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(c) = early.next().await {
                got.extend_from_slice(&c);
            }
            got
        });
        feed.push(Bytes::from_static(b"b"));
        feed.finish();
        assert_eq!(waiting.await.unwrap(), b"ab");
        let mut late = feed.reader();
        assert_eq!(late.next().await.as_deref(), Some(&b"a"[..]));
        assert_eq!(late.next().await.as_deref(), Some(&b"b"[..]));
        assert_eq!(late.next().await, None);
        assert_eq!(
            StdinFeed::from_bytes("x").reader().next().await.as_deref(),
            Some(&b"x"[..])
        );
    }
}
