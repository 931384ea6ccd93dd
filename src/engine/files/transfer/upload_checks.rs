//! The host's confirmation of what an upload stored, part by part, while
//! the next parts are still being sent.

use std::ops::Range;
use std::sync::Arc;

use tokio::sync::Semaphore;

use super::checksum::{TO_EOF, compare_sums, hex};
use super::outcome::{TransferError, Verified};
use super::request::RemoteHasher;
use super::source::SharedSource;

/// Concurrent hash commands per upload: sshd allows ten sessions per
/// connection (MaxSessions), shared with SFTP, commands and collectors.
const CHECKS_AT_ONCE: usize = 2;

/// The host's confirmation of what it stored, part by part. Only the host
/// can say what it stored, so its hash of a part is asked for once every
/// write into that part is acknowledged, while the next parts are still
/// being sent: most of the hashing is done by the time the last byte
/// lands. Ours come from the shared source, made once as it read the file.
pub(super) struct PartChecks<'a> {
    hasher: RemoteHasher<'a>,
    path: String,
    size: u64,
    /// Bytes before this were proven before the upload resumed.
    start: u64,
    part_bytes: u64,
    stored: Vec<u64>,
    asked: Vec<Option<tokio::task::JoinHandle<Option<String>>>>,
    limit: Arc<Semaphore>,
}

impl<'a> PartChecks<'a> {
    pub(super) fn new(
        hasher: RemoteHasher<'a>,
        path: &str,
        size: u64,
        start: u64,
        part_bytes: u64,
    ) -> Self {
        let parts = size.div_ceil(part_bytes).max(1) as usize;
        PartChecks {
            hasher,
            path: path.to_string(),
            size,
            start,
            part_bytes,
            stored: vec![0; parts],
            asked: (0..parts).map(|_| None).collect(),
            limit: Arc::new(Semaphore::new(CHECKS_AT_ONCE)),
        }
    }

    fn range(&self, k: usize) -> Range<u64> {
        let from = k as u64 * self.part_bytes;
        from..(from + self.part_bytes).min(self.size)
    }

    /// Bytes of part `k` this upload writes.
    fn to_write(&self, k: usize) -> u64 {
        let r = self.range(k);
        r.end.saturating_sub(r.start.max(self.start))
    }

    /// `n` bytes at `at` are stored: once a part is complete, ask for it.
    pub(super) fn stored(&mut self, at: u64, n: u64) {
        let k = (at / self.part_bytes) as usize;
        let Some(s) = self.stored.get_mut(k) else {
            return;
        };
        *s += n;
        if *s == self.to_write(k) {
            self.ask(k);
        }
    }

    fn ask(&mut self, k: usize) {
        // The last part is hashed to the end of the file: no pipe for the
        // host to copy through, and bytes past what we sent fail it too.
        let mut range = self.range(k);
        if k + 1 == self.asked.len() {
            range.end = TO_EOF;
        }
        let run = (self.hasher)(self.path.clone(), Some(range));
        let limit = self.limit.clone();
        self.asked[k] = Some(tokio::spawn(async move {
            let _turn = limit.acquire_owned().await;
            run.await
        }));
    }

    /// Every part compared. Parts wholly before `start` were proven when
    /// the upload resumed; an empty file is asked about once.
    pub(super) async fn verdict(
        mut self,
        src: &SharedSource,
        remote: &str,
    ) -> Result<Verified, TransferError> {
        if self.size == 0 {
            self.ask(0);
        }
        let parts = self.asked.len();
        let mut size_only = false;
        let mut whole = None;
        for (k, asked) in std::mem::take(&mut self.asked).into_iter().enumerate() {
            let Some(asked) = asked else { continue };
            let ours = hex(&src.part_digest(k).await.map_err(|e| TransferError::Local {
                path: src.path().to_path_buf(),
                cause: e.to_string(),
            })?);
            let theirs = asked.await.ok().flatten();
            let r = self.range(k);
            let what = if parts == 1 {
                remote.to_string()
            } else {
                format!("{remote} (bytes {}-{})", r.start, r.end)
            };
            match compare_sums(ours, theirs, &what)? {
                Verified::SizeOnly => size_only = true,
                Verified::Sha256(s) => whole = Some(s),
                Verified::Sha256Parts(_) => {}
            }
        }
        Ok(match (size_only, parts, whole) {
            (true, _, _) => Verified::SizeOnly,
            (false, 1, Some(s)) if self.start == 0 => Verified::Sha256(s),
            _ => Verified::Sha256Parts(parts),
        })
    }
}
