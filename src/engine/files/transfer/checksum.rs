//! SHA-256 on both ends of a copy: the host's own tool (`openssl dgst`,
//! else `sha256sum` or `shasum`), the local hash of a file's first bytes
//! for proving a part file, and the verdict when both sums are in.

use std::ops::Range;
use std::os::unix::fs::FileExt;

use futures::future::BoxFuture;
use sha2::{Digest, Sha256};

use super::outcome::{TransferError, Verified};

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

/// A range's end meaning "to the end of the file, whatever its length":
/// the last part of a put is hashed that way, so bytes the host holds past
/// the size we sent fail the check too.
pub const TO_EOF: u64 = u64::MAX;

/// A shell command printing `HASH  NAME` for `path`, or for the bytes in
/// `range` (an end of [`TO_EOF`] reads to the end). OpenSSL goes first: it
/// uses the CPU's SHA instructions and is about 4x faster than coreutils'
/// `sha256sum` on large files; the others are fallbacks.
///
/// Every pipe hop costs the host a copy: for a 1 GiB file hashed in four
/// ranges, `tail | head | openssl` took 1.5 s of CPU, a `dd` seek on the
/// shell's own descriptor then `head | openssl` 1.1 s, and a seek then
/// `openssl` reading the file itself 0.64 s, as much as the whole file.
/// So ranges seek with GNU (or BusyBox) `dd` on stdin, the last one needs
/// no pipe at all, and `tail` stays as the fallback where `dd` cannot seek
/// by bytes.
pub fn sha256_command(path: &str, range: Option<Range<u64>>) -> String {
    // A leading '-' would read as an option.
    let p = if path.starts_with('-') {
        format!("./{path}")
    } else {
        path.to_string()
    };
    let q = shell_quote(&p);
    // A tool that is missing never reads its input, so the next one still
    // gets every byte.
    let tools =
        "{ openssl dgst -sha256 -r 2>/dev/null || sha256sum 2>/dev/null || shasum -a 256; }";
    let whole = || {
        format!(
            "openssl dgst -sha256 -r {q} 2>/dev/null || sha256sum {q} 2>/dev/null || shasum -a 256 {q}"
        )
    };
    let seek =
        |from: u64| format!("dd iflag=skip_bytes skip={from} count=0 status=none 2>/dev/null");
    // A file that cannot be read fails the command, rather than hashing
    // the empty output of a failed `head`.
    match range {
        None => whole(),
        Some(r) if r.start == 0 && r.end == TO_EOF => whole(),
        Some(r) if r.end == TO_EOF => format!(
            "test -r {q} && {{ {{ {} && {tools}; }} < {q} || tail -c +{} {q} | {tools}; }}",
            seek(r.start),
            r.start + 1
        ),
        Some(r) if r.start == 0 => format!("test -r {q} && head -c {} {q} | {tools}", r.end),
        // `tail -c +N` counts from 1 and seeks in a regular file.
        Some(r) => {
            let len = r.end.saturating_sub(r.start);
            format!(
                "test -r {q} && {{ {{ {} && head -c {len} | {tools}; }} < {q} || tail -c +{} {q} | head -c {len} | {tools}; }}",
                seek(r.start),
                r.start + 1
            )
        }
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
        assert!(sha256_command("f", Some(0..TO_EOF)).starts_with("openssl dgst -sha256 -r 'f'"));
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

    /// Run a generated command with the host's tools, here: `sh` with this
    /// machine's `dd`, `head`, `tail` and `openssl`/`sha256sum`, and with
    /// `extra_path` first on the PATH.
    fn run_here(cmd: &str, extra_path: Option<&std::path::Path>) -> Option<String> {
        let mut c = std::process::Command::new("sh");
        c.arg("-c").arg(cmd);
        if let Some(dir) = extra_path {
            let path = std::env::var("PATH").unwrap_or_default();
            c.env("PATH", format!("{}:{path}", dir.display()));
        }
        let out = c.output().expect("sh runs");
        parse_sha256sum(&out.stdout)
    }

    #[test]
    fn range_commands_hash_exactly_their_bytes_with_and_without_dd() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("it's -a file");
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&p, &data).unwrap();
        let path = p.to_str().unwrap();
        // A `dd` that cannot seek by bytes (BSD's): the tail fallback.
        let no_dd = tempfile::tempdir().unwrap();
        let fake = no_dd.path().join("dd");
        let called = no_dd.path().join("called");
        let script = format!(
            "#!/bin/sh\ntouch '{}'\necho 'dd: unknown operand iflag' >&2\nexit 1\n",
            called.display()
        );
        std::fs::write(&fake, script).unwrap();
        let exec = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755);
        std::fs::set_permissions(&fake, exec).unwrap();
        let n = data.len() as u64;
        for range in [
            0..TO_EOF,
            0..1000,
            1..2,
            65_536..131_072,
            131_072..TO_EOF,
            n - 1..TO_EOF,
            n..TO_EOF,
            5..5,
        ] {
            let end = range.end.min(n) as usize;
            let want = hex(&Sha256::digest(&data[range.start as usize..end]));
            let cmd = sha256_command(path, Some(range.clone()));
            assert_eq!(run_here(&cmd, None), Some(want.clone()), "{range:?}: {cmd}");
            assert_eq!(
                run_here(&cmd, Some(no_dd.path())),
                Some(want),
                "{range:?} without dd"
            );
        }
        assert!(called.exists(), "the fallback was never exercised");
        // Bytes past the size we sent change the last part's hash.
        std::fs::write(&p, [&data[..], b"x"].concat()).unwrap();
        let cmd = sha256_command(path, Some(131_072..TO_EOF));
        assert_ne!(
            run_here(&cmd, None),
            Some(hex(&Sha256::digest(&data[131_072..])))
        );
        // An unreadable or missing file hashes nothing.
        let gone = d.path().join("gone");
        let cmd = sha256_command(gone.to_str().unwrap(), Some(10..TO_EOF));
        assert_eq!(run_here(&cmd, None), None);
        let cmd = sha256_command(gone.to_str().unwrap(), Some(10..20));
        assert_eq!(run_here(&cmd, None), None);
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
