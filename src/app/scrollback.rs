//! Per-host output memory: a ring of styled lines with a line cap and a byte
//! budget, so a host that prints forever costs a fixed amount of memory.

use std::collections::VecDeque;

use sha2::{Digest, Sha256};

use crate::text::ansi::{AnsiParser, StyledLine};

/// Longest line kept, in characters; longer lines continue on the next one.
pub const MAX_LINE_CHARS: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutLine {
    pub line: StyledLine,
    pub stderr: bool,
}

#[derive(Debug)]
pub struct Scrollback {
    lines: VecDeque<OutLine>,
    cap_lines: usize,
    cap_bytes: usize,
    bytes: usize,
    parsers: [AnsiParser; 2],
    /// Lines that fell off the top (shown as a hint).
    pub dropped: u64,
    /// Raw bytes received, for the pane title.
    pub received: u64,
    /// SHA-256 of every byte received per stream (stdout, stderr): the
    /// gathered view groups hosts by what they sent, not by the part of it
    /// the ring still holds.
    hashes: [Sha256; 2],
    /// Both digests, fixed when the run ended.
    finished: Option<[[u8; 32]; 2]>,
}

impl Scrollback {
    pub fn new(cap_lines: usize, cap_bytes: usize) -> Self {
        Scrollback {
            lines: VecDeque::new(),
            cap_lines: cap_lines.max(1),
            cap_bytes: cap_bytes.max(1024),
            bytes: 0,
            parsers: [
                AnsiParser::new(MAX_LINE_CHARS),
                AnsiParser::new(MAX_LINE_CHARS),
            ],
            dropped: 0,
            received: 0,
            hashes: [Sha256::new(), Sha256::new()],
            finished: None,
        }
    }

    pub fn push(&mut self, stderr: bool, data: &[u8]) {
        self.received += data.len() as u64;
        self.hashes[usize::from(stderr)].update(data);
        self.finished = None;
        let mut done = Vec::new();
        self.parsers[usize::from(stderr)].feed(data, &mut |l| done.push(l));
        for line in done {
            self.append(OutLine { line, stderr });
        }
    }

    /// End of a run: flush unfinished lines of both streams.
    pub fn finish(&mut self) {
        self.finished = Some(self.digests());
        for stderr in [false, true] {
            let mut done = Vec::new();
            self.parsers[usize::from(stderr)].finish(&mut |l| done.push(l));
            for line in done {
                self.append(OutLine { line, stderr });
            }
        }
    }

    fn append(&mut self, l: OutLine) {
        self.bytes += l.line.weight();
        self.lines.push_back(l);
        while self.lines.len() > self.cap_lines
            || (self.bytes > self.cap_bytes && self.lines.len() > 1)
        {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.line.weight();
                self.dropped += 1;
            }
        }
    }

    pub fn clear(&mut self) {
        self.lines.clear();
        self.bytes = 0;
        self.dropped = 0;
        self.received = 0;
        self.hashes = [Sha256::new(), Sha256::new()];
        self.finished = None;
        self.parsers = [
            AnsiParser::new(MAX_LINE_CHARS),
            AnsiParser::new(MAX_LINE_CHARS),
        ];
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&OutLine> {
        self.lines.get(i)
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &OutLine> + ExactSizeIterator {
        self.lines.iter()
    }

    /// Lines plus a not-yet-finished last line of stdout, if any, so a
    /// prompt without newline is visible while the command waits.
    pub fn pending(&self) -> Option<OutLine> {
        self.parsers[0].pending().map(|l| OutLine {
            line: l.clone(),
            stderr: false,
        })
    }

    /// The whole text, for gathering and diffs.
    pub fn plain_text(&self) -> String {
        let mut s = String::new();
        for l in &self.lines {
            s.push_str(&l.line.plain());
            s.push('\n');
        }
        s
    }

    /// SHA-256 of all stdout and all stderr received since the last
    /// clear, however much of it the ring still holds.
    pub fn digests(&self) -> [[u8; 32]; 2] {
        self.finished
            .unwrap_or_else(|| self.hashes.clone().map(|h| h.finalize().into()))
    }

    pub fn bytes_used(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_cap_is_a_ring() {
        let mut s = Scrollback::new(3, 1 << 20);
        for i in 0..10 {
            s.push(false, format!("line {i}\n").as_bytes());
        }
        let got: Vec<String> = s.iter().map(|l| l.line.plain()).collect();
        assert_eq!(got, ["line 7", "line 8", "line 9"]);
        assert_eq!(s.dropped, 7);
    }

    #[test]
    fn byte_budget_bounds_memory_under_a_flood() {
        let mut s = Scrollback::new(1_000_000, 64 * 1024);
        let chunk = vec![b'x'; 8192];
        for _ in 0..1000 {
            s.push(false, &chunk);
            s.push(false, b"\n");
        }
        assert!(s.bytes_used() <= 64 * 1024 + 8192, "{}", s.bytes_used());
        assert_eq!(s.received, 1000 * 8193);
    }

    #[test]
    fn stderr_is_marked_and_pending_tail_visible() {
        let mut s = Scrollback::new(10, 1 << 20);
        s.push(true, b"oops\n");
        s.push(false, b"Password: ");
        assert!(s.get(0).unwrap().stderr);
        assert_eq!(s.pending().unwrap().line.plain(), "Password: ");
        s.finish();
        assert_eq!(s.len(), 2);
    }
}
