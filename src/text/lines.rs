//! Splitting a byte stream into lines with a bounded buffer.

/// Collects chunks and hands back complete lines. A line longer than `cap`
/// is cut into `cap`-sized pieces so a host that prints gigabytes without a
/// newline cannot grow our memory.
#[derive(Debug)]
pub struct LineSplitter {
    buf: Vec<u8>,
    cap: usize,
}

impl LineSplitter {
    pub fn new(cap: usize) -> Self {
        LineSplitter {
            buf: Vec::new(),
            cap: cap.max(1),
        }
    }

    /// Feed a chunk; `on_line` receives each complete line without its `\n`.
    pub fn push(&mut self, mut chunk: &[u8], mut on_line: impl FnMut(&[u8])) {
        while let Some(pos) = chunk.iter().position(|&b| b == b'\n') {
            let (head, rest) = chunk.split_at(pos);
            if self.buf.is_empty() {
                self.emit_capped(head, &mut on_line);
            } else {
                self.buf.extend_from_slice(head);
                let line = std::mem::take(&mut self.buf);
                self.emit_capped(&line, &mut on_line);
            }
            chunk = &rest[1..];
        }
        self.buf.extend_from_slice(chunk);
        while self.buf.len() > self.cap {
            let rest = self.buf.split_off(self.cap);
            let full = std::mem::replace(&mut self.buf, rest);
            on_line(&full);
        }
    }

    /// Hand back whatever is left (a last line without a newline).
    pub fn finish(&mut self, mut on_line: impl FnMut(&[u8])) {
        if !self.buf.is_empty() {
            let line = std::mem::take(&mut self.buf);
            on_line(&line);
        }
    }

    fn emit_capped(&self, line: &[u8], on_line: &mut impl FnMut(&[u8])) {
        if line.is_empty() {
            on_line(line);
        }
        for piece in line.chunks(self.cap) {
            on_line(piece);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(s: &mut LineSplitter, chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, |l| out.push(l.to_vec()));
        }
        s.finish(|l| out.push(l.to_vec()));
        out
    }

    #[test]
    fn joins_lines_split_across_chunks() {
        let mut s = LineSplitter::new(1024);
        let got = collect(&mut s, &[b"he", b"llo\nwor", b"ld\n\nlast"]);
        assert_eq!(
            got,
            vec![
                b"hello".to_vec(),
                b"world".to_vec(),
                b"".to_vec(),
                b"last".to_vec()
            ]
        );
    }

    #[test]
    fn caps_lines_without_newline() {
        let mut s = LineSplitter::new(4);
        let got = collect(&mut s, &[b"abcdefghij", b"\n"]);
        assert_eq!(
            got,
            vec![b"abcd".to_vec(), b"efgh".to_vec(), b"ij".to_vec()]
        );
        assert!(s.buf.capacity() < 64);
    }
}
