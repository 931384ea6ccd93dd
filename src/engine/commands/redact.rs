//! Masking answered secrets in output, in case a host echoes one back (a
//! script that prints what it read, a terminal with echo on). A secret
//! split between two chunks is still caught: bytes that could be the start
//! of a secret are held back until the next chunk, or until the stream
//! goes quiet for [`HOLD`] (so an interactive shell's echo is never stuck).

use std::time::Duration;

use bytes::Bytes;

use crate::engine::prompt::Secret;

/// Longest a possible secret prefix is held back.
pub const HOLD: Duration = Duration::from_millis(30);

const MASK: &[u8] = b"********";

#[derive(Default)]
pub struct Redactor {
    secrets: Vec<Secret>,
    held: Vec<u8>,
}

impl Redactor {
    pub fn add(&mut self, secret: Secret) {
        if !secret.is_empty() && !self.secrets.iter().any(|s| s.as_str() == secret.as_str()) {
            self.secrets.push(secret);
        }
    }

    /// Bytes are being held back; call [`Self::flush`] after [`HOLD`].
    pub fn holding(&self) -> bool {
        !self.held.is_empty()
    }

    /// The chunk with every secret masked, minus a held-back tail.
    pub fn filter(&mut self, chunk: Bytes) -> Bytes {
        if self.secrets.is_empty() {
            return chunk;
        }
        let mut buf = std::mem::take(&mut self.held);
        buf.extend_from_slice(&chunk);
        let mut out = Vec::with_capacity(buf.len());
        let mut i = 0;
        'outer: while i < buf.len() {
            for s in &self.secrets {
                let s = s.as_bytes();
                if buf[i..].starts_with(s) {
                    out.extend_from_slice(MASK);
                    i += s.len();
                    continue 'outer;
                }
                // The rest of the chunk could be a secret's beginning.
                if s.len() > buf.len() - i && s.starts_with(&buf[i..]) {
                    self.held = buf[i..].to_vec();
                    break 'outer;
                }
            }
            out.push(buf[i]);
            i += 1;
        }
        Bytes::from(out)
    }

    /// Release held-back bytes: nothing followed, so they were no secret.
    pub fn flush(&mut self) -> Bytes {
        Bytes::from(std::mem::take(&mut self.held))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    fn r(secret: &str) -> Redactor {
        let mut r = Redactor::default();
        r.add(Zeroizing::new(secret.to_string()));
        r
    }

    #[test]
    fn masks_whole_and_split_secrets() {
        let mut red = r("hunter2");
        assert_eq!(
            &red.filter(Bytes::from("got hunter2!\n"))[..],
            b"got ********!\n"
        );
        let a = red.filter(Bytes::from("x hun"));
        assert_eq!(&a[..], b"x ");
        assert!(red.holding());
        let b = red.filter(Bytes::from("ter2 y"));
        assert_eq!(&b[..], b"******** y");
    }

    #[test]
    fn a_held_prefix_that_is_no_secret_comes_out() {
        let mut red = r("hunter2");
        assert_eq!(&red.filter(Bytes::from("$ hu"))[..], b"$ ");
        assert_eq!(&red.flush()[..], b"hu");
        assert_eq!(&red.filter(Bytes::from("hunt"))[..], b"");
        assert_eq!(&red.filter(Bytes::from("ing\n"))[..], b"hunting\n");
    }

    #[test]
    fn nothing_changes_without_secrets() {
        let mut red = Redactor::default();
        assert_eq!(&red.filter(Bytes::from("abc"))[..], b"abc");
        assert!(!red.holding());
    }
}
