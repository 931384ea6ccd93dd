//! SFTP transfers against real sshd: byte-exact round trips, part files,
//! verification, resume after a server dies mid-upload, clear errors.

use crate::support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};
use sshdeck::engine::files::transfer::{
    TransferCtx, TransferError, TransferOpts, TransferOutcome, Verified, download_to, part_name,
    upload,
};
use support::farm::{Farm, is_root};
use support::farm_engine_drained;
use tokio_util::sync::CancellationToken;

fn data(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2654435761) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn sha(b: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(b))
}

fn no_progress(_: u64) {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trips_are_byte_exact_around_boundaries() {
    let farm = Farm::start(1);
    let (e, ids) = farm_engine_drained(&farm);
    let sftp = e.sftp(ids[0]).await.expect("sftp");
    let hasher = e.remote_hasher(ids[0]);
    let dir = farm.root.join("rt");
    std::fs::create_dir_all(dir.join("back")).unwrap();
    let remote_dir = farm.root.join("remote");
    std::fs::create_dir_all(&remote_dir).unwrap();
    const MIB: usize = 1 << 20;
    for (i, len) in [0, 1, 4096, MIB - 1, MIB, MIB + 1, 5 * MIB + 7]
        .into_iter()
        .enumerate()
    {
        let bytes = data(len, i as u32);
        let local = dir.join(format!("f{i}"));
        std::fs::write(&local, &bytes).unwrap();
        let remote = remote_dir.join(format!("f{i}")).display().to_string();
        let up = upload(
            &sftp,
            &local,
            &remote,
            &TransferCtx {
                opts: &TransferOpts::default(),
                remote_hash: Some(&hasher),
                progress: &no_progress,
                cancel: &CancellationToken::new(),
            },
        )
        .await
        .unwrap_or_else(|err| panic!("upload {len}: {err}"));
        assert_eq!(
            up,
            TransferOutcome::Copied {
                bytes: len as u64,
                resumed_from: 0,
                verified: Verified::Sha256(sha(&bytes)),
                note: None,
            }
        );
        assert_eq!(
            std::fs::read(&remote).unwrap(),
            bytes,
            "upload of {len} bytes"
        );
        assert!(
            !remote_dir.join(part_name(&format!("f{i}"))).exists(),
            "part file left behind"
        );
        let back = dir.join("back").join(format!("f{i}"));
        download_to(
            &sftp,
            &remote,
            &back,
            &TransferCtx {
                opts: &TransferOpts::default(),
                remote_hash: Some(&hasher),
                progress: &no_progress,
                cancel: &CancellationToken::new(),
            },
        )
        .await
        .unwrap_or_else(|err| panic!("download {len}: {err}"));
        assert_eq!(
            std::fs::read(&back).unwrap(),
            bytes,
            "download of {len} bytes"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mode_and_mtime_are_preserved_both_ways() {
    use std::os::unix::fs::PermissionsExt;
    let farm = Farm::start(1);
    let (e, ids) = farm_engine_drained(&farm);
    let sftp = e.sftp(ids[0]).await.unwrap();
    let local = farm.root.join("script.sh");
    std::fs::write(&local, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&local, std::fs::Permissions::from_mode(0o751)).unwrap();
    let when = std::time::UNIX_EPOCH + Duration::from_secs(1_500_000_000);
    std::fs::File::options()
        .write(true)
        .open(&local)
        .unwrap()
        .set_modified(when)
        .unwrap();
    let remote = farm.root.join("remote-script.sh");
    upload(
        &sftp,
        &local,
        remote.to_str().unwrap(),
        &TransferCtx {
            opts: &TransferOpts::default(),
            remote_hash: None,
            progress: &no_progress,
            cancel: &CancellationToken::new(),
        },
    )
    .await
    .unwrap();
    let m = std::fs::metadata(&remote).unwrap();
    assert_eq!(m.permissions().mode() & 0o777, 0o751);
    assert_eq!(m.modified().unwrap(), when);
    let back = farm.root.join("back.sh");
    download_to(
        &sftp,
        remote.to_str().unwrap(),
        &back,
        &TransferCtx {
            opts: &TransferOpts::default(),
            remote_hash: None,
            progress: &no_progress,
            cancel: &CancellationToken::new(),
        },
    )
    .await
    .unwrap();
    let m = std::fs::metadata(&back).unwrap();
    assert_eq!(m.permissions().mode() & 0o777, 0o751);
    assert_eq!(m.modified().unwrap(), when);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_300_mib_file_round_trips() {
    let farm = Farm::start(1);
    let (e, ids) = farm_engine_drained(&farm);
    let sftp = e.sftp(ids[0]).await.unwrap();
    let hasher = e.remote_hasher(ids[0]);
    let bytes = data(300 << 20, 7);
    let local = farm.root.join("big");
    std::fs::write(&local, &bytes).unwrap();
    let remote = farm.root.join("big.remote");
    let sent = AtomicU64::new(0);
    let progress = |n: u64| {
        sent.fetch_add(n, Ordering::Relaxed);
    };
    let up = upload(
        &sftp,
        &local,
        remote.to_str().unwrap(),
        &TransferCtx {
            opts: &TransferOpts::default(),
            remote_hash: Some(&hasher),
            progress: &progress,
            cancel: &CancellationToken::new(),
        },
    )
    .await
    .unwrap();
    // 300 MiB is checked by the host in two parts, each as it is stored:
    // 256 MiB, then the rest to the end of the file.
    assert!(
        matches!(
            up,
            TransferOutcome::Copied {
                verified: Verified::Sha256Parts(2),
                ..
            }
        ),
        "{up:?}"
    );
    assert_eq!(
        sent.load(Ordering::Relaxed),
        bytes.len() as u64,
        "progress adds up to the size"
    );
    let back = farm.root.join("big.back");
    download_to(
        &sftp,
        remote.to_str().unwrap(),
        &back,
        &TransferCtx {
            opts: &TransferOpts::default(),
            remote_hash: Some(&hasher),
            progress: &no_progress,
            cancel: &CancellationToken::new(),
        },
    )
    .await
    .unwrap();
    assert!(
        std::fs::read(&back).unwrap() == bytes,
        "300 MiB round trip differs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sshd_killed_mid_upload_leaves_destination_and_resumes_byte_exact() {
    let farm = Arc::new(std::sync::Mutex::new(Farm::start(1)));
    let (root, port_label) = {
        let f = farm.lock().unwrap();
        (f.root.clone(), f.label(0))
    };
    let bytes = data(120 << 20, 3);
    let local = root.join("payload");
    std::fs::write(&local, &bytes).unwrap();
    let remote = root.join("dest.bin");
    std::fs::write(&remote, b"the old version").unwrap();
    let remote_s = remote.display().to_string();

    let (e, ids) = farm_engine_drained(&farm.lock().unwrap());
    let sftp = e.sftp(ids[0]).await.unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let s2 = sent.clone();
    let progress = move |n: u64| {
        s2.fetch_add(n, Ordering::Relaxed);
    };
    // Kill the whole sshd once 30 MiB are across.
    let killer = {
        let farm = farm.clone();
        let sent = sent.clone();
        std::thread::spawn(move || {
            while sent.load(Ordering::Relaxed) < 30 << 20 {
                std::thread::sleep(Duration::from_millis(2));
            }
            farm.lock().unwrap().kill(0);
        })
    };
    let err = upload(
        &sftp,
        &local,
        &remote_s,
        &TransferCtx {
            opts: &TransferOpts::default(),
            remote_hash: None,
            progress: &progress,
            cancel: &CancellationToken::new(),
        },
    )
    .await
    .expect_err("the server died: the upload must fail");
    killer.join().unwrap();
    assert!(
        matches!(err, TransferError::Remote { .. }),
        "{err:?} ({port_label})"
    );
    assert_eq!(
        std::fs::read(&remote).unwrap(),
        b"the old version",
        "destination was touched"
    );
    let part = root.join(part_name("dest.bin"));
    let kept = std::fs::metadata(&part)
        .expect("part file kept for resuming")
        .len();
    assert!(
        kept > 0 && kept < bytes.len() as u64,
        "part has {kept} bytes"
    );

    farm.lock().unwrap().restart(0);
    let (e, ids) = farm_engine_drained(&farm.lock().unwrap());
    let sftp = e.sftp(ids[0]).await.unwrap();
    let hasher = e.remote_hasher(ids[0]);
    let out = upload(
        &sftp,
        &local,
        &remote_s,
        &TransferCtx {
            opts: &TransferOpts::default(),
            remote_hash: Some(&hasher),
            progress: &no_progress,
            cancel: &CancellationToken::new(),
        },
    )
    .await
    .unwrap();
    match out {
        TransferOutcome::Copied {
            resumed_from,
            verified: Verified::Sha256(_) | Verified::Sha256Parts(_),
            ..
        } => {
            // sshd may have stored a little more after the part was measured.
            assert!(
                resumed_from >= kept && resumed_from > 0,
                "{resumed_from} < {kept}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(
        std::fs::read(&remote).unwrap() == bytes,
        "resumed upload is not byte-exact"
    );
    assert!(!part.exists());
}

/// A directory the server cannot write into, even as root.
struct ReadOnlyDir {
    path: std::path::PathBuf,
    mounted: bool,
}

impl ReadOnlyDir {
    fn new(base: &Path) -> ReadOnlyDir {
        use std::os::unix::fs::PermissionsExt;
        let path = base.join("readonly");
        std::fs::create_dir_all(&path).unwrap();
        if is_root() {
            // Root ignores permission bits; a read-only mount it cannot.
            let ok = std::process::Command::new("mount")
                .args(["-t", "tmpfs", "-o", "ro", "tmpfs"])
                .arg(&path)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "cannot mount a read-only tmpfs for the test");
            return ReadOnlyDir {
                path,
                mounted: true,
            };
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o555)).unwrap();
        ReadOnlyDir {
            path,
            mounted: false,
        }
    }
}

impl Drop for ReadOnlyDir {
    fn drop(&mut self) {
        if self.mounted {
            let _ = std::process::Command::new("umount")
                .arg(&self.path)
                .status();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_destination_gives_a_clear_error() {
    let farm = Farm::start(1);
    let (e, ids) = farm_engine_drained(&farm);
    let sftp = e.sftp(ids[0]).await.unwrap();
    let ro = ReadOnlyDir::new(&farm.root);
    let local = farm.root.join("small");
    std::fs::write(&local, b"data").unwrap();
    let remote = ro.path.join("small").display().to_string();
    let err = upload(
        &sftp,
        &local,
        &remote,
        &TransferCtx {
            opts: &TransferOpts::default(),
            remote_hash: None,
            progress: &no_progress,
            cancel: &CancellationToken::new(),
        },
    )
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&farm.label(0)) && msg.contains("readonly"),
        "{msg}"
    );
    eprintln!("read-only destination error: {msg}");
    assert!(
        msg.contains("permission denied")
            || msg.to_lowercase().contains("read-only")
            || msg.contains("Failure"),
        "{msg}"
    );
    // A missing source fails before anything remote is created.
    let err = upload(
        &sftp,
        &farm.root.join("nope"),
        &remote,
        &TransferCtx {
            opts: &TransferOpts::default(),
            remote_hash: None,
            progress: &no_progress,
            cancel: &CancellationToken::new(),
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, TransferError::Local { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part_files_are_resumed_only_when_proven_to_be_the_sources_first_bytes() {
    const MIB: usize = 1 << 20;
    let farm = Farm::start(1);
    let (e, ids) = farm_engine_drained(&farm);
    let sftp = e.sftp(ids[0]).await.unwrap();
    let hasher = e.remote_hasher(ids[0]);
    let bytes = data(3 * MIB, 11);
    let garbage = data(MIB, 99);
    let opts = TransferOpts::default();
    let cancel = CancellationToken::new();
    let outcome = |r: Result<TransferOutcome, TransferError>| match r {
        Ok(TransferOutcome::Copied {
            resumed_from, note, ..
        }) => (resumed_from, note.unwrap_or_default()),
        other => panic!("{other:?}"),
    };

    // Download: the part is here, the source there.
    let src = farm.root.join("src.bin");
    std::fs::write(&src, &bytes).unwrap();
    let src = src.to_str().unwrap();
    let down = farm.root.join("down");
    std::fs::create_dir_all(&down).unwrap();
    let dst = down.join("dst.bin");
    let part = down.join(part_name("dst.bin"));
    for (what, held, hash, resumed, note) in [
        ("a true prefix", &bytes[..MIB], true, MIB, ""),
        (
            "other bytes",
            &garbage[..],
            true,
            0,
            "its bytes differ from the source's",
        ),
        (
            "nothing to check with",
            &bytes[..MIB],
            false,
            0,
            "cannot be checked",
        ),
    ] {
        let _ = std::fs::remove_file(&dst);
        std::fs::write(&part, held).unwrap();
        let h = hash.then_some(&hasher as _);
        let r = download_to(
            &sftp,
            src,
            &dst,
            &TransferCtx {
                opts: &opts,
                remote_hash: h,
                progress: &no_progress,
                cancel: &cancel,
            },
        )
        .await;
        let (from, said) = outcome(r);
        assert_eq!(from, resumed as u64, "{what}: {said}");
        assert!(said.contains(note), "{what}: {said:?}");
        assert!(
            std::fs::read(&dst).unwrap() == bytes,
            "{what}: not byte-exact"
        );
        assert!(!part.exists(), "{what}");
    }

    // Upload: the part is on the host, the source here.
    let local = farm.root.join("local.bin");
    std::fs::write(&local, &bytes).unwrap();
    let up = farm.root.join("up");
    std::fs::create_dir_all(&up).unwrap();
    let remote = up.join("dst.bin");
    let remote_part = up.join(part_name("dst.bin"));
    for (what, held, resumed, note) in [
        ("a true prefix", &bytes[..MIB], MIB, ""),
        (
            "other bytes",
            &garbage[..],
            0,
            "its bytes differ from the source's",
        ),
    ] {
        let _ = std::fs::remove_file(&remote);
        std::fs::write(&remote_part, held).unwrap();
        let r = upload(
            &sftp,
            &local,
            remote.to_str().unwrap(),
            &TransferCtx {
                opts: &opts,
                remote_hash: Some(&hasher),
                progress: &no_progress,
                cancel: &cancel,
            },
        )
        .await;
        let (from, said) = outcome(r);
        assert_eq!(from, resumed as u64, "{what}: {said}");
        assert!(said.contains(note), "{what}: {said:?}");
        assert!(
            std::fs::read(&remote).unwrap() == bytes,
            "{what}: not byte-exact"
        );
        assert!(!remote_part.exists(), "{what}");
    }
}

/// The host's shell does not start where its SFTP does (here sshd serves
/// SFTP in the host's `files` directory, and commands run in another
/// home): a relative path must still be hashed as the file SFTP wrote, not
/// silently left unverified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relative_paths_are_verified_against_the_file_sftp_sees() {
    let farm = Farm::start(1);
    let (e, ids) = farm_engine_drained(&farm);
    let sftp = e.sftp(ids[0]).await.unwrap();
    let hasher = e.remote_hasher(ids[0]);
    let bytes = data((70 << 20) + 3, 5);
    let local = farm.root.join("rel.src");
    std::fs::write(&local, &bytes).unwrap();
    let cancel = CancellationToken::new();
    let up = upload(
        &sftp,
        &local,
        "rel.bin",
        &TransferCtx {
            opts: &TransferOpts::default(),
            remote_hash: Some(&hasher),
            progress: &no_progress,
            cancel: &cancel,
        },
    )
    .await
    .unwrap();
    assert!(
        matches!(
            up,
            TransferOutcome::Copied {
                verified: Verified::Sha256(_),
                ..
            }
        ),
        "{up:?}"
    );
    assert!(std::fs::read(farm.hosts[0].files().join("rel.bin")).unwrap() == bytes);
    let back = farm.root.join("rel.back");
    let down = download_to(
        &sftp,
        "rel.bin",
        &back,
        &TransferCtx {
            opts: &TransferOpts::default(),
            remote_hash: Some(&hasher),
            progress: &no_progress,
            cancel: &cancel,
        },
    )
    .await
    .unwrap();
    assert!(
        matches!(&down, TransferOutcome::Copied { verified: Verified::Sha256(s), .. } if *s == sha(&bytes)),
        "{down:?}"
    );
}
