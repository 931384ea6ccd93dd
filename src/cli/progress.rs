//! The `done/total` line on a terminal while hosts are still working.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

pub struct Progress {
    enabled: bool,
    total: usize,
    done: usize,
    failed: usize,
    shown: bool,
    started: Instant,
    /// Set while a question is on the terminal; we must not draw over it.
    paused: Arc<AtomicBool>,
}

impl Progress {
    pub fn new(total: usize, enabled: bool, paused: Arc<AtomicBool>) -> Self {
        Progress {
            enabled,
            total,
            done: 0,
            failed: 0,
            shown: false,
            started: Instant::now(),
            paused,
        }
    }

    pub fn done(&mut self, ok: bool) {
        self.done += 1;
        if !ok {
            self.failed += 1;
        }
    }

    /// Erase the line before anything else is printed, so output never
    /// lands in the middle of it.
    pub fn clear(&mut self) {
        if self.shown {
            let mut e = std::io::stderr().lock();
            let _ = e.write_all(b"\r\x1b[K");
            let _ = e.flush();
            self.shown = false;
        }
    }

    pub fn draw(&mut self) {
        if !self.enabled || self.done >= self.total || self.paused.load(Ordering::SeqCst) {
            return;
        }
        let mut e = std::io::stderr().lock();
        let failed = if self.failed > 0 {
            format!(", {} failed", self.failed)
        } else {
            String::new()
        };
        let _ = write!(
            e,
            "\r\x1b[K[{}/{} done{failed}, {:.1}s]",
            self.done,
            self.total,
            self.started.elapsed().as_secs_f64()
        );
        let _ = e.flush();
        self.shown = true;
    }
}
