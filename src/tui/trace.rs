//! An opt-in timing trace of the loop, for profiling where a keystroke's
//! time goes under a flood (`scripts/bench-tui --profile`). With
//! `SSHDECK_FRAME_TRACE=FILE` each input, engine drain and frame is
//! written as "<µs since the epoch> <what>"; the wall clock, so the bench
//! can line the trace up with the times it sent keys and saw them on
//! screen. Off (the default) it costs one branch per mark.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::{SystemTime, UNIX_EPOCH};

pub struct Trace {
    out: Option<BufWriter<File>>,
}

impl Trace {
    /// On when `SSHDECK_FRAME_TRACE` names a file we can create.
    pub fn from_env() -> Trace {
        let out = std::env::var_os("SSHDECK_FRAME_TRACE")
            .and_then(|p| File::create(p).ok())
            .map(BufWriter::new);
        Trace { out }
    }

    pub fn mark(&mut self, what: &str) {
        let Some(out) = self.out.as_mut() else {
            return;
        };
        let us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        // A trace that cannot be written is dropped, never an error.
        if writeln!(out, "{us} {what}").is_err() {
            self.out = None;
        }
    }
}

impl Drop for Trace {
    fn drop(&mut self) {
        if let Some(out) = self.out.as_mut() {
            let _ = out.flush();
        }
    }
}
