//! SHA-256 on both ends of a copy: the host's own tool (`openssl dgst`,
//! else `sha256sum` or `shasum`), the local hash of a file's first bytes
//! for proving a part file, and the verdict when both sums are in.

use std::ops::Range;
use std::os::unix::fs::FileExt;

use futures::future::BoxFuture;
use sha2::{Digest, Sha256};

use super::{TransferError, Verified};

/// Lowercase hex of a digest, as the hosts' tools print it.
pub fn hex(digest: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(digest)
}

/// The hash of `file`'s first `len` bytes (read where they lie, off the
/// async workers).
pub async fn hash_prefix(file: &std::fs::File, len: u64) -> std::io::Result<Sha256> {
    let file = file.try_clone()?;
    tokio::task::spawn_blocking(move || {
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut at = 0u64;
        while at < len {
            let want = (len - at).min(buf.len() as u64) as usize;
            let n = file.read_at(&mut buf[..want], at)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            at += n as u64;
        }
        Ok(h)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Whether an earlier attempt's bytes can be kept: this side's hash of
/// them (`ours`) must equal the other side's hash of the same range. `Err`
/// says why not, for the user.
pub async fn proven_prefix(
    ours: &Sha256,
    theirs: Option<BoxFuture<'static, Option<String>>>,
) -> Result<(), &'static str> {
    let Some(theirs) = theirs else {
        return Err("it cannot be checked against the source (no checksum tool there)");
    };
    let ours = hex(&ours.clone().finalize());
    match theirs.await {
        Some(t) if t == ours => Ok(()),
        Some(_) => Err("its bytes differ from the source's"),
        None => Err("it cannot be checked against the source (no checksum tool there)"),
    }
}

/// Judge a copy by its checksums: equal sums verify it, different sums
/// reject it, and no remote sum (no hashing tool there) leaves size only.
pub fn compare_sums(
    local: String,
    remote: Option<String>,
    path: &str,
) -> Result<Verified, TransferError> {
    match remote {
        Some(r) if r == local => Ok(Verified::Sha256(local)),
        Some(r) => Err(TransferError::Mismatch {
            path: path.into(),
            what: "SHA-256",
            detail: format!("this side {local}, the host {r}"),
        }),
        None => Ok(Verified::SizeOnly),
    }
}

/// Quote for a POSIX shell: `it's` → `'it'\''s'`.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A shell command printing `HASH  NAME` for `path`, or for its first
/// `len` bytes. OpenSSL goes first: it uses the CPU's SHA instructions and
/// is about 4x faster than coreutils' `sha256sum` on large files; the
/// others are fallbacks.
pub fn sha256_command(path: &str, range: Option<Range<u64>>) -> String {
    // A leading '-' would read as an option.
    let p = if path.starts_with('-') {
        format!("./{path}")
    } else {
        path.to_string()
    };
    let q = shell_quote(&p);
    // A tool that is missing never reads the pipe, so the next one still
    // gets every byte.
    let tools =
        "{ openssl dgst -sha256 -r 2>/dev/null || sha256sum 2>/dev/null || shasum -a 256; }";
    match range {
        None => format!(
            "openssl dgst -sha256 -r {q} 2>/dev/null || sha256sum {q} 2>/dev/null || shasum -a 256 {q}"
        ),
        // A file that cannot be read fails the command, rather than
        // hashing the empty output of a failed `head`.
        Some(r) if r.start == 0 => format!("test -r {q} && head -c {} {q} | {tools}", r.end),
        // `tail -c +N` counts from 1 and seeks in a regular file.
        Some(r) => format!(
            "test -r {q} && tail -c +{} {q} | head -c {} | {tools}",
            r.start + 1,
            r.end - r.start
        ),
    }
}

/// Parse `sha256sum` output: the first field, if it is 64 hex digits.
pub fn parse_sha256sum(out: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(out).ok()?;
    let first = text.split_whitespace().next()?;
    (first.len() == 64 && first.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| first.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_commands_and_verdicts() {
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        let sum = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            parse_sha256sum(format!("{sum}  /tmp/x\n").as_bytes()),
            Some(sum.to_string())
        );
        assert_eq!(parse_sha256sum(b"sha256sum: not found"), None);
        // openssl dgst -r prints `HASH *NAME`.
        assert_eq!(
            parse_sha256sum(format!("{sum} *x\n").as_bytes()),
            Some(sum.to_string())
        );
        assert!(sha256_command("-x", None).contains("'./-x'"));
        assert!(
            sha256_command("a b", Some(0..42)).starts_with("test -r 'a b' && head -c 42 'a b' | {")
        );
        assert!(
            sha256_command("f", Some(10..42))
                .starts_with("test -r 'f' && tail -c +11 'f' | head -c 32 | {")
        );
        assert_eq!(
            compare_sums("ab".into(), Some("ab".into()), "p"),
            Ok(Verified::Sha256("ab".into()))
        );
        assert_eq!(compare_sums("ab".into(), None, "p"), Ok(Verified::SizeOnly));
        assert!(matches!(
            compare_sums("ab".into(), Some("cd".into()), "p"),
            Err(TransferError::Mismatch {
                what: "SHA-256",
                ..
            })
        ));
    }

    #[tokio::test]
    async fn prefix_hashes_read_where_the_bytes_lie() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        std::fs::write(&p, b"hello world").unwrap();
        let f = std::fs::File::open(&p).unwrap();
        let h = hash_prefix(&f, 5).await.unwrap();
        assert_eq!(hex(&h.finalize()), hex(&Sha256::digest(b"hello")));
    }
}
