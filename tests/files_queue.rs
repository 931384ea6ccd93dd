//! The files tab's engine parts against real sshd: the remote side of the
//! `FileSystem` trait (the same calls the local side passes in unit
//! tests), and the transfer queue's fan-out, fan-in, move, pause/resume
//! and cancel.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use sshdeck::engine::HostLink;
use sshdeck::engine::files::copy_job::{CopySpec, Direction};
use sshdeck::engine::files::fs::{FileKind, FileSystem, RemoteFs};
use sshdeck::engine::files::queue::{JobState, JobView, QueueJob, TransferQueue};
use sshdeck::engine::files::transfer::{Overwrite, TransferOpts};
use support::farm::Farm;
use support::farm_engine_drained;
use tokio::sync::mpsc::UnboundedReceiver;

fn spec(dir: Direction, sources: Vec<String>, dest: &Path, per_host_dir: bool) -> CopySpec {
    CopySpec {
        dir,
        sources,
        dest: dest.to_string_lossy().into_owned(),
        recursive: true,
        opts: TransferOpts::default(),
        unsafe_links: false,
        per_host_dir,
        renames: BTreeMap::new(),
        only_listed: false,
    }
}

/// Views until the job reaches a finished state (or `until` says stop).
async fn wait(
    views: &mut UnboundedReceiver<JobView>,
    limit: Duration,
    until: impl Fn(&JobView) -> bool,
) -> JobView {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let v = tokio::time::timeout_at(deadline, views.recv())
            .await
            .expect("the queue did not report in time")
            .expect("queue closed");
        if until(&v) {
            return v;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_file_system_operations() {
    let farm = Farm::start(1);
    let (e, ids) = farm_engine_drained(&farm);
    let fs = RemoteFs {
        sftp: e.sftp(ids[0]).await.expect("sftp"),
    };
    let home = fs.home().await.expect("home");
    assert_eq!(
        Path::new(&home),
        farm.hosts[0].files(),
        "SFTP starts in the host's directory"
    );
    let files = farm.hosts[0].files();
    std::fs::write(files.join("keep.txt"), b"keep me").unwrap();
    std::os::unix::fs::symlink(files.join("keep.txt"), files.join("link")).unwrap();

    fs.mkdir(&format!("{home}/d")).await.expect("mkdir");
    std::fs::create_dir_all(files.join("d/deep/er")).unwrap();
    std::fs::write(files.join("d/deep/er/f"), b"x").unwrap();
    // A symlink inside the tree to delete points outside it: never followed.
    std::os::unix::fs::symlink(files.join("keep.txt"), files.join("d/out")).unwrap();

    let mut l = fs.list(&home).await.expect("list").entries;
    l.sort_by(|a, b| a.name.cmp(&b.name));
    let kinds: Vec<(&str, FileKind)> = l.iter().map(|e| (e.name.as_str(), e.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("d", FileKind::Dir),
            ("keep.txt", FileKind::File),
            ("link", FileKind::Symlink)
        ]
    );
    assert_eq!(l[1].size, 7);

    fs.chmod(&format!("{home}/keep.txt"), 0o600)
        .await
        .expect("chmod");
    let st = fs.stat(&format!("{home}/keep.txt")).await.unwrap().unwrap();
    assert_eq!(st.mode, 0o600);

    let clash = fs
        .rename(&format!("{home}/d"), &format!("{home}/keep.txt"))
        .await;
    assert!(
        clash
            .expect_err("rename must not replace")
            .cause
            .contains("already exists")
    );
    fs.rename(&format!("{home}/d"), &format!("{home}/e"))
        .await
        .expect("rename");

    fs.remove_all(&format!("{home}/e"))
        .await
        .expect("recursive delete");
    assert!(!files.join("e").exists());
    assert_eq!(std::fs::read(files.join("keep.txt")).unwrap(), b"keep me");

    let err = fs
        .list(&format!("{home}/missing"))
        .await
        .expect_err("missing dir");
    assert_eq!(err.place, farm.label(0), "errors name the host: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_fans_out_fans_in_and_moves() {
    let farm = Farm::start(3);
    let (e, ids) = farm_engine_drained(&farm);
    let links: Vec<HostLink> = ids.iter().map(|&id| e.link(id)).collect();
    let (q, mut views) = TransferQueue::new();
    let local = farm.root.join("local");
    std::fs::create_dir_all(local.join("tree/sub")).unwrap();
    std::fs::write(local.join("tree/a"), vec![7u8; 300_000]).unwrap();
    std::fs::write(local.join("tree/sub/b"), b"bee").unwrap();

    // Fan-out: the tree to every host's start directory.
    let put = spec(
        Direction::Put,
        vec![local.join("tree").to_string_lossy().into_owned()],
        Path::new("."),
        false,
    );
    let id = q.submit(QueueJob {
        title: "put tree".into(),
        spec: put,
        hosts: links.clone(),
        remove_sources: false,
        relay: None,
    });
    let v = wait(&mut views, Duration::from_secs(60), |v| {
        v.id == id && v.state.is_finished()
    })
    .await;
    assert_eq!(v.state, JobState::Done, "{v:?}");
    assert_eq!(v.hosts.len(), 3);
    for (i, h) in v.hosts.iter().enumerate() {
        let t = h.result.clone().unwrap().unwrap();
        assert_eq!((t.files, t.bytes), (2, 300_003), "{}", h.label);
        assert_eq!(h.done, 300_003);
        assert_eq!(
            std::fs::read(farm.hosts[i].files().join("tree/sub/b")).unwrap(),
            b"bee"
        );
    }

    // Fan-in with move: each host's copy lands in DEST/<host>/, and the
    // remote sources go once copied.
    let dest = farm.root.join("fanin");
    let get = spec(Direction::Get, vec!["tree".into()], &dest, true);
    let id = q.submit(QueueJob {
        title: "move tree".into(),
        spec: get,
        hosts: links.clone(),
        remove_sources: true,
        relay: None,
    });
    let v = wait(&mut views, Duration::from_secs(60), |v| {
        v.id == id && v.state.is_finished()
    })
    .await;
    assert_eq!(v.state, JobState::Done, "{v:?}");
    assert_eq!(v.note, None);
    for i in 0..3 {
        let got = dest.join(farm.label(i)).join("tree/a");
        assert_eq!(
            std::fs::read(&got).unwrap().len(),
            300_000,
            "{}",
            got.display()
        );
        assert!(
            !farm.hosts[i].files().join("tree").exists(),
            "moved away from host {i}"
        );
    }

    // One host down: its failure is reported with a cause, the others finish.
    let mut farm = farm;
    farm.kill(1);
    let put = spec(
        Direction::Put,
        vec![local.join("tree/sub").to_string_lossy().into_owned()],
        Path::new("."),
        false,
    );
    let id = q.submit(QueueJob {
        title: "put sub".into(),
        spec: put,
        hosts: links,
        remove_sources: true,
        relay: None,
    });
    let v = wait(&mut views, Duration::from_secs(60), |v| {
        v.id == id && v.state.is_finished()
    })
    .await;
    assert_eq!(v.state, JobState::Failed);
    assert!(
        matches!(&v.hosts[1].result, Some(Err(cause)) if !cause.is_empty()),
        "{v:?}"
    );
    assert!(matches!(v.hosts[0].result, Some(Ok(_))));
    assert!(
        local.join("tree/sub/b").exists(),
        "a move keeps a source unless every host has it"
    );
    let note = v.note.unwrap_or_default();
    assert!(note.contains("sub/b: kept, not every host has"), "{note}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_pauses_resumes_and_cancels() {
    let farm = Farm::start(1);
    let (e, ids) = farm_engine_drained(&farm);
    let link = e.link(ids[0]);
    let (q, mut views) = TransferQueue::new();
    let src = farm.root.join("big.bin");
    let data: Vec<u8> = (0..64u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(&src, &data).unwrap();
    let put = |name: &str| {
        let mut s = spec(
            Direction::Put,
            vec![src.to_string_lossy().into_owned()],
            Path::new(name),
            false,
        );
        s.opts.overwrite = Overwrite::Always;
        s
    };
    // Pause once some bytes moved; the part file stays, the file is absent.
    // On a loaded machine the whole file can land between the progress
    // report and the pause: then try again, into a fresh directory.
    let mut attempt = 0;
    let (id, v, dir) = loop {
        attempt += 1;
        let name = format!("p{attempt}");
        let id = q.submit(QueueJob {
            title: "big".into(),
            spec: put(&name),
            hosts: vec![link.clone()],
            remove_sources: false,
            relay: None,
        });
        wait(&mut views, Duration::from_secs(60), |v| {
            v.id == id && v.hosts[0].done > 0
        })
        .await;
        q.pause(id);
        let v = wait(&mut views, Duration::from_secs(30), |v| {
            v.id == id && (v.state == JobState::Paused || v.state.is_finished())
        })
        .await;
        if v.state == JobState::Paused {
            break (id, v, farm.hosts[0].files().join(&name));
        }
        assert!(
            attempt < 5,
            "every copy finished before it could be paused: {v:?}"
        );
    };
    assert!(v.hosts[0].result.is_none());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !dir.join("big.bin").exists(),
        "no destination before the copy is verified"
    );
    assert!(
        dir.join(".big.bin.sshdeck-part").exists(),
        "the part file is kept for resuming"
    );
    q.resume(id);
    let v = wait(&mut views, Duration::from_secs(120), |v| {
        v.id == id && v.state.is_finished()
    })
    .await;
    assert_eq!(v.state, JobState::Done, "{v:?}");
    assert_eq!(
        std::fs::read(dir.join("big.bin")).unwrap(),
        data,
        "resumed copy is byte-exact"
    );
    assert!(!dir.join(".big.bin.sshdeck-part").exists());

    // Cancel: the destination never appears, the part stays for a later try.
    // Six files, so the job is still running when the cancel comes (one
    // 64 MiB file can be done between two progress reports).
    let many: Vec<String> = (0..6)
        .map(|k| {
            let p = farm.root.join(format!("big{k}.bin"));
            std::fs::write(&p, &data).unwrap();
            p.to_string_lossy().into_owned()
        })
        .collect();
    let mut spec_c = put("c");
    spec_c.sources = many;
    let id = q.submit(QueueJob {
        title: "big again".into(),
        spec: spec_c,
        hosts: vec![link],
        remove_sources: false,
        relay: None,
    });
    let v = wait(&mut views, Duration::from_secs(60), |v| {
        v.id == id && v.hosts[0].done > 0
    })
    .await;
    assert!(!v.state.is_finished(), "done before it could be cancelled");
    q.cancel(id);
    let v = wait(&mut views, Duration::from_secs(30), |v| {
        v.id == id && v.state.is_finished()
    })
    .await;
    assert_eq!(v.state, JobState::Cancelled);
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Whatever is under a real name is whole; the rest never appeared.
    let there: Vec<usize> = (0..6)
        .filter(|k| farm.hosts[0].files().join(format!("c/big{k}.bin")).exists())
        .collect();
    assert!(there.len() < 6, "the cancel stopped nothing");
    for k in there {
        let got = std::fs::read(farm.hosts[0].files().join(format!("c/big{k}.bin"))).unwrap();
        assert!(got == data, "big{k}.bin is not whole");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_deletes_only_what_every_host_got_and_nothing_changed_or_skipped() {
    let mut farm = Farm::start(2);
    let (e, ids) = farm_engine_drained(&farm);
    let links: Vec<HostLink> = ids.iter().map(|&i| e.link(i)).collect();
    let (q, mut views) = TransferQueue::new();
    let src = farm.root.join("outbox");
    std::fs::create_dir_all(&src).unwrap();
    for f in ["same", "changes", "plain"] {
        std::fs::write(src.join(f), format!("{f}\n")).unwrap();
    }
    // "same" is already on both hosts, same size and mtime: skipped, so kept.
    let mtime = std::fs::metadata(src.join("same"))
        .unwrap()
        .modified()
        .unwrap();
    for h in &farm.hosts {
        let there = h.files().join("outbox");
        std::fs::create_dir_all(&there).unwrap();
        std::fs::write(there.join("same"), "same\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(there.join("same"))
            .unwrap()
            .set_modified(mtime)
            .unwrap();
    }
    farm.kill(1);
    let mut put = spec(
        Direction::Put,
        vec![src.to_string_lossy().into_owned()],
        Path::new("."),
        false,
    );
    put.opts.overwrite = Overwrite::SkipSame;
    let id = q.submit(QueueJob {
        title: "move outbox".into(),
        spec: put,
        hosts: links,
        remove_sources: true,
        relay: None,
    });
    let v = wait(&mut views, Duration::from_secs(60), |v| {
        v.id == id && v.state.is_finished()
    })
    .await;
    assert_eq!(v.state, JobState::Failed, "{v:?}");
    for f in ["same", "changes", "plain"] {
        assert!(src.join(f).exists(), "{f} went though host 1 has nothing");
    }
    // While host 1 is down, "changes" changes; the retry copies the new
    // version there, so no version of it is on both hosts.
    std::fs::write(src.join("changes"), "changed, and longer\n").unwrap();
    farm.restart(1);
    q.resume(id);
    let v = wait(&mut views, Duration::from_secs(60), |v| {
        v.id == id && v.state.is_finished()
    })
    .await;
    assert_eq!(v.state, JobState::Done, "{v:?}");
    assert!(
        !src.join("plain").exists(),
        "copied everywhere, unchanged: removed"
    );
    assert!(src.join("same").exists(), "skipped as the same: kept");
    assert_eq!(
        std::fs::read_to_string(src.join("changes")).unwrap(),
        "changed, and longer\n"
    );
    let note = v.note.unwrap_or_default();
    assert!(note.contains("changes: kept"), "{note}");
    assert!(src.is_dir(), "not empty, so the directory stays");
}

/// Host A → hosts B and C through sshdeck: byte-exact, verified, the
/// spool gone afterwards. A part file B kept from an interrupted copy is
/// resumed once it is proven a prefix; a wrong one is started over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_to_host_copies_are_exact_resume_and_leave_no_spool() {
    use sshdeck::engine::files::queue::Relay;
    let farm = Farm::start(3);
    let (e, ids) = farm_engine_drained(&farm);
    let links: Vec<HostLink> = ids.iter().map(|&id| e.link(id)).collect();
    let (q, mut views) = TransferQueue::new();
    let data: Vec<u8> = (0..24u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let a = farm.hosts[0].files();
    std::fs::create_dir_all(a.join("src/sub")).unwrap();
    std::fs::write(a.join("src/big.bin"), &data).unwrap();
    std::fs::write(a.join("src/sub/small"), b"small").unwrap();
    // B has most of big.bin from an earlier, interrupted copy; C has a part
    // file with the wrong bytes.
    for (h, prefix) in [(1, data[..10 << 20].to_vec()), (2, vec![0u8; 5 << 20])] {
        let dst = farm.hosts[h].files().join("src");
        std::fs::create_dir_all(&dst).unwrap();
        std::fs::write(dst.join(".big.bin.sshdeck-part"), prefix).unwrap();
    }
    let cache = farm.root.join("cache");
    let relay = Relay::in_dir(links[0].clone(), vec!["src".into()], &cache).expect("spool");
    let spool = relay.spool.clone();
    // An earlier attempt left a file node0 no longer has: it must not
    // reach the destinations.
    std::fs::create_dir_all(spool.join("src")).unwrap();
    std::fs::write(spool.join("src/deleted-since"), b"old").unwrap();
    // The same copy started twice at once gets a spool of its own.
    let twin = Relay::in_dir(links[0].clone(), vec!["src".into()], &cache).expect("spool");
    assert_ne!(twin.spool, spool, "two live jobs must not share a spool");
    drop(twin);
    let id = q.submit(QueueJob {
        title: "copy node0 → 2 hosts".into(),
        spec: spec(Direction::Put, vec!["src".into()], Path::new("."), false),
        hosts: vec![links[1].clone(), links[2].clone()],
        remove_sources: false,
        relay: Some(relay),
    });
    let v = wait(&mut views, Duration::from_secs(120), |v| {
        v.id == id && v.state.is_finished()
    })
    .await;
    assert_eq!(v.state, JobState::Done, "{v:?}");
    for h in [1, 2] {
        let dst = farm.hosts[h].files().join("src");
        assert!(
            std::fs::read(dst.join("big.bin")).unwrap() == data,
            "host {h}: big.bin differs"
        );
        assert_eq!(std::fs::read(dst.join("sub/small")).unwrap(), b"small");
        assert!(
            !dst.join("deleted-since").exists(),
            "a stale spool file was sent"
        );
        assert!(!dst.join(".big.bin.sshdeck-part").exists());
    }
    let notes: Vec<&String> = v
        .hosts
        .iter()
        .flat_map(|h| match &h.result {
            Some(Ok(t)) => t.notes.iter().collect::<Vec<_>>(),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(
        notes.len(),
        1,
        "only C's wrong part is started over: {notes:?}"
    );
    assert!(notes[0].contains("not used"), "{notes:?}");
    assert!(
        !spool.exists(),
        "the spool is removed once every host has the files"
    );
    // The source host was only read.
    assert!(std::fs::read(a.join("src/big.bin")).unwrap() == data);
}

/// A host-to-host copy cancelled halfway leaves nothing under the real
/// name at the destination; copying again resumes and ends exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_host_to_host_copy_leaves_no_partial_file_and_resumes() {
    use sshdeck::engine::files::queue::Relay;
    let farm = Farm::start(2);
    let (e, ids) = farm_engine_drained(&farm);
    let links: Vec<HostLink> = ids.iter().map(|&id| e.link(id)).collect();
    let (q, mut views) = TransferQueue::new();
    let data: Vec<u8> = (0..96u32 << 20)
        .map(|i| (i.wrapping_mul(40503) >> 7) as u8)
        .collect();
    std::fs::write(farm.hosts[0].files().join("image.raw"), &data).unwrap();
    let cache = farm.root.join("cache");
    let job = |relay| QueueJob {
        title: "copy node0 → node1".into(),
        spec: spec(
            Direction::Put,
            vec!["image.raw".into()],
            Path::new("."),
            false,
        ),
        hosts: vec![links[1].clone()],
        remove_sources: false,
        relay: Some(relay),
    };
    let relay = Relay::in_dir(links[0].clone(), vec!["image.raw".into()], &cache).unwrap();
    let id = q.submit(job(relay));
    // Wait until the put half is under way (its progress restarts at the
    // put), then cancel.
    let dst = farm.hosts[1].files();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !dst.join(".image.raw.sshdeck-part").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the put half never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    q.cancel(id);
    let v = wait(&mut views, Duration::from_secs(60), |v| {
        v.id == id && v.state.is_finished()
    })
    .await;
    if v.state == JobState::Cancelled {
        assert!(
            !dst.join("image.raw").exists(),
            "a partial file under the real name"
        );
    }
    let relay = Relay::in_dir(links[0].clone(), vec!["image.raw".into()], &cache).unwrap();
    let id = q.submit(job(relay));
    let v = wait(&mut views, Duration::from_secs(120), |v| {
        v.id == id && v.state.is_finished()
    })
    .await;
    assert_eq!(v.state, JobState::Done, "{v:?}");
    assert!(std::fs::read(dst.join("image.raw")).unwrap() == data);
}

/// Give `path` new bytes of the same length and its old mtime: a change
/// that size and mtime alone do not show.
fn change_in_place(path: &Path, bytes: &[u8]) {
    let f = std::fs::File::open(path).unwrap();
    let mtime = f.metadata().unwrap().modified().unwrap();
    assert_eq!(f.metadata().unwrap().len(), bytes.len() as u64);
    std::fs::write(path, bytes).unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(mtime).unwrap();
}

/// A spool kept after a failed put holds what host A had then. Whether
/// the same job is retried or a later one finds the spool, each kept file
/// is used only once A's SHA-256 of it matches: B gets A's current bytes,
/// and nothing A no longer has (files or directories).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_spool_is_checked_against_the_source_host_again() {
    use sshdeck::engine::files::queue::Relay;
    let farm = Farm::start(2);
    let (e, ids) = farm_engine_drained(&farm);
    let links: Vec<HostLink> = ids.iter().map(|&id| e.link(id)).collect();
    let (q, mut views) = TransferQueue::new();
    let a = farm.hosts[0].files();
    let b = farm.hosts[1].files();
    std::fs::create_dir_all(a.join("src/old-dir")).unwrap();
    std::fs::write(a.join("src/f.txt"), b"version one\n").unwrap();
    std::fs::write(a.join("src/old-dir/x"), b"x").unwrap();
    // The put fails: a file on B where the directory goes.
    std::fs::write(b.join("src"), b"in the way").unwrap();
    let cache = farm.root.join("cache");
    let job = |relay| QueueJob {
        title: "copy node0 → node1".into(),
        spec: spec(Direction::Put, vec!["src".into()], Path::new("."), false),
        hosts: vec![links[1].clone()],
        remove_sources: false,
        relay: Some(relay),
    };
    let relay = Relay::in_dir(links[0].clone(), vec!["src".into()], &cache).unwrap();
    let spool = relay.spool.clone();
    let id = q.submit(job(relay));
    let v = wait(&mut views, Duration::from_secs(60), |v| {
        v.id == id && v.state.is_finished()
    })
    .await;
    assert_eq!(v.state, JobState::Failed, "{v:?}");
    assert_eq!(
        std::fs::read(spool.join("src/f.txt")).unwrap(),
        b"version one\n",
        "the failed job keeps its spool"
    );
    // A changes meanwhile, in a way size and mtime do not show, and drops
    // a directory.
    change_in_place(&a.join("src/f.txt"), b"version TWO\n");
    std::fs::remove_dir_all(a.join("src/old-dir")).unwrap();
    std::fs::remove_file(b.join("src")).unwrap();
    q.resume(id);
    let v = wait(&mut views, Duration::from_secs(60), |v| {
        v.id == id && v.state.is_finished()
    })
    .await;
    assert_eq!(v.state, JobState::Done, "{v:?}");
    assert_eq!(
        std::fs::read(b.join("src/f.txt")).unwrap(),
        b"version TWO\n",
        "B got bytes A no longer has"
    );
    assert!(
        !b.join("src/old-dir").exists(),
        "a directory A dropped was sent"
    );

    // A later job (another process, say) finding a spool left behind.
    let relay = Relay::in_dir(links[0].clone(), vec!["src".into()], &cache).unwrap();
    let spool = relay.spool.clone();
    std::fs::create_dir_all(spool.join("src/gone-dir")).unwrap();
    std::fs::write(spool.join("src/gone-dir/y"), b"y").unwrap();
    std::fs::copy(a.join("src/f.txt"), spool.join("src/f.txt")).unwrap();
    let f = std::fs::File::options()
        .write(true)
        .open(spool.join("src/f.txt"))
        .unwrap();
    f.set_modified(
        std::fs::metadata(a.join("src/f.txt"))
            .unwrap()
            .modified()
            .unwrap(),
    )
    .unwrap();
    drop(f);
    drop(relay);
    change_in_place(&a.join("src/f.txt"), b"version 333\n");
    std::fs::remove_dir_all(b.join("src")).unwrap();
    let relay = Relay::in_dir(links[0].clone(), vec!["src".into()], &cache).unwrap();
    assert_eq!(relay.spool, spool, "the kept spool is found again");
    let id = q.submit(job(relay));
    let v = wait(&mut views, Duration::from_secs(60), |v| {
        v.id == id && v.state.is_finished()
    })
    .await;
    assert_eq!(v.state, JobState::Done, "{v:?}");
    assert_eq!(
        std::fs::read(b.join("src/f.txt")).unwrap(),
        b"version 333\n"
    );
    assert!(
        !b.join("src/gone-dir").exists(),
        "a stale spool directory was sent"
    );
    assert!(!spool.exists(), "the spool is removed once B has the files");
}

/// A symlink planted where the spool goes is refused with a clear error:
/// no fetch writes through it, and nothing where it points is touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_planted_at_the_spool_is_refused() {
    use sshdeck::engine::files::queue::Relay;
    let farm = Farm::start(1);
    let (e, ids) = farm_engine_drained(&farm);
    let link = e.link(ids[0]);
    let cache = farm.root.join("cache");
    let relay = Relay::in_dir(link.clone(), vec!["src".into()], &cache).unwrap();
    let spool = relay.spool.clone();
    drop(relay);
    std::fs::remove_dir_all(&spool).unwrap();
    let victim = farm.root.join("victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::write(victim.join("keep"), b"mine").unwrap();
    std::os::unix::fs::symlink(&victim, &spool).unwrap();
    let err = Relay::in_dir(link, vec!["src".into()], &cache)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("symbolic link"), "{err:?}");
    assert!(err.contains(&*spool.to_string_lossy()), "{err:?}");
    assert_eq!(std::fs::read(victim.join("keep")).unwrap(), b"mine");
    assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 1);
}

/// Editing a host's file: the local copy is the user's alone (0600 in a
/// 0700 directory, whatever the host's mode), and the edited version goes
/// back with the mode the host's file had.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_copy_is_private_and_goes_back_with_the_hosts_mode() {
    use sshdeck::engine::files::edit_session;
    use std::os::unix::fs::PermissionsExt;
    let farm = Farm::start(1);
    let (e, ids) = farm_engine_drained(&farm);
    let link = e.link(ids[0]);
    let a = farm.hosts[0].files();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for (name, host_mode) in [("notes.txt", 0o644), ("run.sh", 0o755)] {
        std::fs::write(a.join(name), b"before\n").unwrap();
        std::fs::set_permissions(a.join(name), std::fs::Permissions::from_mode(host_mode)).unwrap();
        let mut s = edit_session::prepare(Some(link.clone()), name.into())
            .await
            .unwrap();
        assert_eq!(std::fs::read(&s.local).unwrap(), b"before\n");
        assert_eq!(mode(&s.local), 0o600, "{name}: the local copy");
        assert_eq!(
            mode(s.local.parent().unwrap()),
            0o700,
            "{name}: its directory"
        );
        std::fs::write(&s.local, b"after\n").unwrap();
        let said = s.finish().await.unwrap();
        assert!(said.contains("saved"), "{said}");
        assert_eq!(std::fs::read(a.join(name)).unwrap(), b"after\n");
        assert_eq!(mode(&a.join(name)), host_mode, "{name}: the host's mode");
    }
}

/// The host's copy changed while the user edited: nothing is uploaded, the
/// edited copy stays, and the message names its path first, so a status
/// line cut at the terminal's width still shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_the_host_changed_meanwhile_is_kept_and_its_path_shown_first() {
    use sshdeck::engine::files::edit_session;
    let farm = Farm::start(1);
    let (e, ids) = farm_engine_drained(&farm);
    let link = e.link(ids[0]);
    let a = farm.hosts[0].files();
    std::fs::write(a.join("conf.txt"), b"before\n").unwrap();
    let mut s = edit_session::prepare(Some(link.clone()), "conf.txt".into())
        .await
        .unwrap();
    std::fs::write(&s.local, b"mine\n").unwrap();
    // Someone else changes the host's file meanwhile (another size).
    std::fs::write(a.join("conf.txt"), b"theirs, longer\n").unwrap();
    let local = s.local.clone();
    let said = s.finish().await.unwrap_err();
    let path = local.display().to_string();
    let at = said
        .find(&path)
        .unwrap_or_else(|| panic!("the kept path is not in {said:?}"));
    assert!(
        at + path.len() <= 80,
        "the path does not fit an 80-column status line: {said:?}"
    );
    assert_eq!(std::fs::read(&local).unwrap(), b"mine\n");
    assert_eq!(
        std::fs::read(a.join("conf.txt")).unwrap(),
        b"theirs, longer\n"
    );
}

/// A copy cancelled midway reads "cancelled" with no host failed, keeps
/// its part file, and resumes from it: the result is byte-exact and the
/// progress shown never goes back below where the cancel left it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_copy_resumes_from_its_part_file_without_restarting_progress() {
    let farm = Farm::start(1);
    let (e, ids) = farm_engine_drained(&farm);
    let link = e.link(ids[0]);
    let (q, mut views) = TransferQueue::new();
    let src = farm.root.join("cancel.bin");
    let data: Vec<u8> = (0..96u32 << 20)
        .map(|i| (i.wrapping_mul(2246822519) >> 11) as u8)
        .collect();
    std::fs::write(&src, &data).unwrap();
    // Cancel once some bytes moved. On a loaded machine the whole file can
    // land before the cancel: then try again, into a fresh directory.
    let mut attempt = 0;
    let (id, cancelled, dir) = loop {
        attempt += 1;
        let name = format!("k{attempt}");
        let mut s = spec(
            Direction::Put,
            vec![src.to_string_lossy().into_owned()],
            Path::new(&name),
            false,
        );
        s.opts.overwrite = Overwrite::Always;
        let id = q.submit(QueueJob {
            title: "cancel me".into(),
            spec: s,
            hosts: vec![link.clone()],
            remove_sources: false,
            relay: None,
        });
        wait(&mut views, Duration::from_secs(60), |v| {
            v.id == id && v.hosts[0].done > 0
        })
        .await;
        q.cancel(id);
        let v = wait(&mut views, Duration::from_secs(30), |v| {
            v.id == id && v.state.is_finished()
        })
        .await;
        if v.state == JobState::Cancelled {
            break (id, v, farm.hosts[0].files().join(&name));
        }
        assert!(
            attempt < 5,
            "every copy finished before it could be cancelled: {v:?}"
        );
    };
    // A cancel fails nothing: the host has no result yet, only progress.
    assert!(cancelled.hosts[0].result.is_none(), "{cancelled:?}");
    let at_cancel = cancelled.hosts[0].done;
    assert!(
        at_cancel > 0 && at_cancel < data.len() as u64,
        "{cancelled:?}"
    );
    // The run may still be winding down; its part file stays either way.
    let part = dir.join(".cancel.bin.sshdeck-part");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !part.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the part file is kept"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !dir.join("cancel.bin").exists(),
        "nothing under the real name"
    );
    q.resume(id);
    // Views of the cancel may still be queued: the first view of the
    // resumed job is the first that is not finished.
    let lowest = std::cell::Cell::new(u64::MAX);
    let resumed = wait(&mut views, Duration::from_secs(30), |v| {
        v.id == id && !v.state.is_finished()
    })
    .await;
    lowest.set(resumed.hosts[0].done);
    let v = wait(&mut views, Duration::from_secs(120), |v| {
        if v.id == id {
            lowest.set(lowest.get().min(v.hosts[0].done));
        }
        v.id == id && v.state.is_finished()
    })
    .await;
    let lowest = lowest.get();
    assert_eq!(v.state, JobState::Done, "{v:?}");
    // The part file was proven and used, not started over.
    let Some(Ok(t)) = &v.hosts[0].result else {
        panic!("{v:?}");
    };
    assert!(
        t.notes.is_empty(),
        "the part file was not used: {:?}",
        t.notes
    );
    assert!(
        lowest >= at_cancel,
        "progress went back from {at_cancel} to {lowest} on resume"
    );
    assert_eq!(
        std::fs::read(dir.join("cancel.bin")).unwrap(),
        data,
        "the resumed copy is byte-exact"
    );
    assert!(!part.exists());
}

/// Clearing a cancelled job from the panel (`forget`) removes the part
/// file it kept for resuming: nothing can resume it any more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgetting_a_cancelled_put_removes_its_part_file() {
    let farm = Farm::start(1);
    let (e, ids) = farm_engine_drained(&farm);
    let link = e.link(ids[0]);
    let (q, mut views) = TransferQueue::new();
    let src = farm.root.join("forget.bin");
    let data: Vec<u8> = (0..96u32 << 20)
        .map(|i| (i.wrapping_mul(3266489917) >> 9) as u8)
        .collect();
    std::fs::write(&src, &data).unwrap();
    let mut attempt = 0;
    let (id, part) = loop {
        attempt += 1;
        let name = format!("f{attempt}");
        let id = q.submit(QueueJob {
            title: "forget me".into(),
            spec: spec(
                Direction::Put,
                vec![src.to_string_lossy().into_owned()],
                Path::new(&name),
                false,
            ),
            hosts: vec![link.clone()],
            remove_sources: false,
            relay: None,
        });
        wait(&mut views, Duration::from_secs(60), |v| {
            v.id == id && v.hosts[0].done > 0
        })
        .await;
        q.cancel(id);
        let v = wait(&mut views, Duration::from_secs(30), |v| {
            v.id == id && v.state.is_finished()
        })
        .await;
        let part = farm.hosts[0]
            .files()
            .join(&name)
            .join(".forget.bin.sshdeck-part");
        if v.state == JobState::Cancelled {
            break (id, part);
        }
        assert!(attempt < 5, "every copy finished before the cancel: {v:?}");
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !part.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the part file is kept"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    q.forget(id);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while part.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "forgetting the job left its part file"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A forgotten job is gone: resuming it does nothing. (Views sent
    // before the queue forgot it are dropped first.)
    while views.try_recv().is_ok() {}
    q.resume(id);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(views.try_recv().is_err(), "a forgotten job reported again");
    assert!(!part.exists());
}
