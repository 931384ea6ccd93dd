//! A local file read once, for every host it goes to.
//!
//! A put to twenty hosts used to read and hash the file twenty times; the
//! hashing alone was a quarter of the client's CPU. Here one thread reads
//! the file in order, in `CHUNK`-sized pieces kept as shared [`Bytes`], and
//! computes its SHA-256 as it goes. Each host's upload takes the pieces by
//! index. The thread reads ahead of the fastest host by a few pieces and
//! keeps a window behind it; a host that falls out of that window reads
//! what it needs itself, so a slow or stuck host never holds up the
//! others, and memory stays bounded whatever the host count.

use std::collections::{HashMap, VecDeque};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, Weak};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

/// Bytes read ahead of the fastest host.
const AHEAD_BYTES: u64 = 4 << 20;
/// Bytes kept behind the fastest host for the others.
const BEHIND_BYTES: u64 = 16 << 20;
/// A file is verified in parts of about this size: each part's hash is
/// asked of the host as soon as the part is stored, while the rest is
/// still on its way (see `upload`). Every part but the last costs the host
/// a pipe hop (see `checksum::sha256_command`), so parts are large: a
/// file up to this size is hashed whole, by the tool reading it directly.
/// Measured on a 20-host fan-out of 256 MiB: 11.8 s with 64 MiB parts,
/// 10.5 s with 256 MiB; a 1 GiB put took the same time with either.
const PART_BYTES: u64 = 256 << 20;

struct ReadAhead {
    /// `window[0]` is piece `base`.
    window: VecDeque<Bytes>,
    base: u64,
    /// The next piece the reader thread will read.
    next: u64,
    /// The furthest piece any host has asked for.
    fastest: u64,
    /// Hosts still reading; the thread stops when none is left.
    readers: usize,
    /// SHA-256 of each part read so far (see [`SharedSource::part_bytes`]).
    parts: Vec<[u8; 32]>,
    /// Every piece has been read.
    finished: bool,
    error: Option<String>,
}

pub struct SharedSource {
    path: PathBuf,
    file: Arc<std::fs::File>,
    pub size: u64,
    chunk: u64,
    mtime: Option<std::time::SystemTime>,
    state: Mutex<ReadAhead>,
    /// Wakes the reader thread (room to read ahead, or nobody left).
    thread_wake: Condvar,
    /// Wakes hosts waiting for a piece or the digest.
    ready: Notify,
}

/// One host's hold on a source: while any is alive, the reader runs.
pub struct SourceReader {
    pub source: Arc<SharedSource>,
}

impl Drop for SourceReader {
    fn drop(&mut self) {
        if let Ok(mut st) = self.source.state.lock() {
            st.readers = st.readers.saturating_sub(1);
        }
        self.source.thread_wake.notify_all();
    }
}

impl SharedSource {
    fn open(path: &Path, chunk: u32, hash: bool) -> std::io::Result<Arc<SharedSource>> {
        let file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        let source = Arc::new(SharedSource {
            path: path.to_path_buf(),
            file: Arc::new(file),
            size: meta.len(),
            chunk: u64::from(chunk),
            mtime: meta.modified().ok(),
            state: Mutex::new(ReadAhead {
                window: VecDeque::new(),
                base: 0,
                next: 0,
                fastest: 0,
                // The opener is the first reader: the thread must not see
                // "nobody left" before it is counted.
                readers: 1,
                parts: Vec::new(),
                finished: false,
                error: None,
            }),
            thread_wake: Condvar::new(),
            ready: Notify::new(),
        });
        let weak = Arc::downgrade(&source);
        std::thread::Builder::new()
            .name("sshdeck-source".into())
            .spawn(move || read_ahead(weak, hash))?;
        Ok(source)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file(&self) -> &std::fs::File {
        &self.file
    }

    fn pieces(&self) -> u64 {
        self.size.div_ceil(self.chunk)
    }

    /// The bytes of piece `i` (the last one may be short).
    pub async fn piece(&self, i: u64) -> std::io::Result<Bytes> {
        loop {
            let waiting = self.ready.notified();
            // Decided under the lock, acted on after it (a std guard must
            // not live across an await).
            let behind = {
                let mut st = self.state.lock().map_err(|_| poisoned())?;
                if i > st.fastest {
                    st.fastest = i;
                    self.thread_wake.notify_all();
                }
                if let Some(e) = &st.error {
                    return Err(std::io::Error::other(e.clone()));
                }
                if i >= st.base && i < st.base + st.window.len() as u64 {
                    return Ok(st.window[(i - st.base) as usize].clone());
                }
                i < st.base
            };
            if behind {
                // Fallen out of the window: read it here.
                return self.read_piece(i).await;
            }
            waiting.await;
        }
    }

    async fn read_piece(&self, i: u64) -> std::io::Result<Bytes> {
        let (file, chunk, size) = (self.file.clone(), self.chunk, self.size);
        tokio::task::spawn_blocking(move || read_at(&file, i, chunk, size))
            .await
            .map_err(std::io::Error::other)?
    }

    /// The size of the parts the file is hashed in: a whole number of
    /// pieces, rounded up so that a file of `PART_BYTES` is one part.
    pub fn part_bytes(&self) -> u64 {
        PART_BYTES.div_ceil(self.chunk).max(1) * self.chunk
    }

    /// The SHA-256 of part `k` (the bytes from `k * part_bytes()`), once
    /// the reader has read it. With one part, that is the file's hash.
    pub async fn part_digest(&self, k: usize) -> std::io::Result<[u8; 32]> {
        loop {
            let waiting = self.ready.notified();
            {
                let mut st = self.state.lock().map_err(|_| poisoned())?;
                if let Some(d) = st.parts.get(k) {
                    return Ok(*d);
                }
                if let Some(e) = &st.error {
                    return Err(std::io::Error::other(e.clone()));
                }
                if st.finished {
                    return Err(std::io::Error::other("this job does not hash its files"));
                }
                // Whoever asks for a part's hash needs that part read.
                let end = ((k as u64 + 1) * self.part_bytes() / self.chunk).min(self.pieces());
                if end > st.fastest {
                    st.fastest = end;
                    self.thread_wake.notify_all();
                }
            }
            waiting.await;
        }
    }
}

fn poisoned() -> std::io::Error {
    std::io::Error::other("a transfer thread panicked")
}

/// Piece `i` of `file`, read where it lies; short only at the end.
fn read_at(file: &std::fs::File, i: u64, chunk: u64, size: u64) -> std::io::Result<Bytes> {
    let off = i * chunk;
    let len = chunk.min(size.saturating_sub(off)) as usize;
    let mut buf = vec![0u8; len];
    let mut filled = 0;
    while filled < len {
        match file.read_at(&mut buf[filled..], off + filled as u64) {
            Ok(0) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!(
                        "file changed size while being read ({size} → {} bytes)",
                        off + filled as u64
                    ),
                ));
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Bytes::from(buf))
}

/// The reader thread: read pieces in order, up to `AHEAD` past the
/// fastest host, hashing each; drop pieces more than `BEHIND` behind it.
fn read_ahead(source: Weak<SharedSource>, hash: bool) {
    let mut hasher = hash.then(Sha256::new);
    let mut in_part = 0u64;
    loop {
        let Some(s) = source.upgrade() else { return };
        let want = {
            let Ok(mut st) = s.state.lock() else { return };
            loop {
                if st.readers == 0 || st.error.is_some() {
                    return;
                }
                if st.next >= s.pieces() {
                    // The last part (or the only one, of an empty file).
                    if let Some(h) = hasher.take()
                        && (in_part > 0 || st.parts.is_empty())
                    {
                        st.parts.push(h.finalize().into());
                    }
                    st.finished = true;
                    s.ready.notify_waiters();
                    return;
                }
                if st.next <= st.fastest + AHEAD_BYTES / s.chunk {
                    break st.next;
                }
                match s.thread_wake.wait(st) {
                    Ok(g) => st = g,
                    Err(_) => return,
                }
            }
        };
        let piece = read_at(&s.file, want, s.chunk, s.size);
        let Ok(mut st) = s.state.lock() else { return };
        match piece {
            Ok(b) => {
                if let Some(h) = hasher.as_mut() {
                    h.update(&b);
                    in_part += b.len() as u64;
                    if in_part == s.part_bytes() {
                        st.parts.push(std::mem::take(h).finalize().into());
                        in_part = 0;
                    }
                }
                st.window.push_back(b);
                st.next += 1;
                while st.base + BEHIND_BYTES / s.chunk < st.fastest && !st.window.is_empty() {
                    st.window.pop_front();
                    st.base += 1;
                }
            }
            Err(e) => st.error = Some(e.to_string()),
        }
        drop(st);
        s.ready.notify_waiters();
    }
}

/// Sources open for one job, by path: every host of the job putting the
/// same file shares one reader.
pub struct SourceCache {
    open: Mutex<HashMap<PathBuf, Weak<SharedSource>>>,
    /// The job verifies its copies: sources compute their SHA-256 (a
    /// quarter of a put's CPU, saved when nobody will compare it).
    hash: bool,
}

impl Default for SourceCache {
    fn default() -> Self {
        SourceCache::new(true)
    }
}

impl SourceCache {
    pub fn new(hash: bool) -> Self {
        SourceCache {
            open: Mutex::default(),
            hash,
        }
    }

    /// A reader of `path`, shared with other hosts reading it now when the
    /// file is unchanged since they opened it.
    pub fn reader(&self, path: &Path, chunk: u32) -> std::io::Result<SourceReader> {
        let meta = std::fs::metadata(path)?;
        let mut map = self.open.lock().map_err(|_| poisoned())?;
        map.retain(|_, w| w.strong_count() > 0);
        let shared = map.get(path).and_then(Weak::upgrade).filter(|s| {
            s.size == meta.len() && s.mtime == meta.modified().ok() && s.chunk == u64::from(chunk)
        });
        let source = match shared {
            Some(s) => {
                if let Ok(mut st) = s.state.lock() {
                    st.readers += 1;
                }
                s
            }
            None => {
                let s = SharedSource::open(path, chunk, self.hash)?;
                map.insert(path.to_path_buf(), Arc::downgrade(&s));
                s
            }
        };
        Ok(SourceReader { source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hosts_share_one_read_and_one_hash() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        // Longer than the window behind the fastest reader, so the late one
        // must read some pieces itself.
        let len = (BEHIND_BYTES + 2 * AHEAD_BYTES + 12_345) as u32;
        let data: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
        std::fs::write(&p, &data).unwrap();
        let cache = SourceCache::default();
        let a = cache.reader(&p, 1 << 20).unwrap();
        let b = cache.reader(&p, 1 << 20).unwrap();
        assert!(Arc::ptr_eq(&a.source, &b.source), "one reader for both");
        let pieces = a.source.pieces();
        let mut got = Vec::new();
        for i in 0..pieces {
            got.extend_from_slice(&a.source.piece(i).await.unwrap());
        }
        assert_eq!(got, data);
        // b starts late: its first pieces left the window; it still gets them.
        assert!(
            a.source.state.lock().unwrap().base > 0,
            "nothing was dropped"
        );
        let mut late = Vec::new();
        for i in 0..pieces {
            late.extend_from_slice(&b.source.piece(i).await.unwrap());
        }
        assert_eq!(late, data);
        let want: [u8; 32] = Sha256::digest(&data).into();
        assert_eq!(a.source.part_digest(0).await.unwrap(), want);
        drop((a, b));
        // A changed file gets a reader of its own.
        let c = cache.reader(&p, 1 << 20).unwrap();
        std::fs::write(&p, b"shorter").unwrap();
        let e = cache.reader(&p, 1 << 20).unwrap();
        assert!(!Arc::ptr_eq(&c.source, &e.source));
        assert_eq!(&e.source.piece(0).await.unwrap()[..], b"shorter");
        // A job that does not verify does not hash.
        let quiet = SourceCache::new(false).reader(&p, 1 << 20).unwrap();
        quiet.source.piece(0).await.unwrap();
        assert!(quiet.source.part_digest(0).await.is_err());
    }
}
