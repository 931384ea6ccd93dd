//! The local end of a download, on a thread of its own: pieces arrive in
//! order and are written to the part file (and hashed, when the copy is
//! verified) away from the async workers that decrypt the next ones.
//! Writing through `tokio::fs` meant a hop to the blocking pool and a copy
//! per piece; here it is one plain `write` per piece.

use std::io::Write;

use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

/// What the thread did, once the last piece is down.
pub struct Written {
    pub digest: Option<[u8; 32]>,
    pub file: std::fs::File,
}

pub struct Sink {
    tx: mpsc::Sender<Vec<u8>>,
    done: oneshot::Receiver<std::io::Result<Written>>,
}

/// Pieces queued for the thread at most: the network keeps running while
/// the disk is briefly slower.
const QUEUE: usize = 8;

impl Sink {
    /// Write to `file` from where it stands; `hasher` (holding what the
    /// file already has, when resuming) hashes what follows.
    pub fn spawn(file: std::fs::File, hasher: Option<Sha256>) -> std::io::Result<Sink> {
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(QUEUE);
        let (done_tx, done) = oneshot::channel();
        std::thread::Builder::new()
            .name("sshdeck-sink".into())
            .spawn(move || {
                let run = || -> std::io::Result<Written> {
                    let mut file = file;
                    let mut hasher = hasher;
                    while let Some(piece) = rx.blocking_recv() {
                        file.write_all(&piece)?;
                        if let Some(h) = hasher.as_mut() {
                            h.update(&piece);
                        }
                    }
                    file.sync_all()?;
                    Ok(Written {
                        digest: hasher.map(|h| h.finalize().into()),
                        file,
                    })
                };
                let _ = done_tx.send(run());
            })?;
        Ok(Sink { tx, done })
    }

    /// Queue the next piece. An error means the thread stopped: `finish`
    /// says why.
    pub async fn write(&self, piece: Vec<u8>) -> Result<(), ()> {
        self.tx.send(piece).await.map_err(|_| ())
    }

    /// No more pieces: wait for them to be written and synced.
    pub async fn finish(self) -> std::io::Result<Written> {
        drop(self.tx);
        self.done
            .await
            .unwrap_or_else(|_| Err(std::io::Error::other("the writer thread died")))
    }
}
