//! Faults on the wire, injected by a relay between sshdeck and real sshd:
//! connections dropped during auth, a command, an upload and a download; a
//! stall longer than the keepalive; throttled links. In every case the
//! faulty host fails alone with a clear cause, nothing is left half-written
//! under a real name, and the host works again once the network does.

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sshdeck::engine::files::transfer::{
    TransferCtx, TransferError, TransferOpts, TransferOutcome, download_to, part_name, upload,
};
use sshdeck::engine::{
    Answer, Engine, EngineConfig, Event, EventKind, ExecOptions, HostId, Prompter, Question, Target,
};
use support::farm::{Farm, FarmOptions};
use support::fault::FaultProxy;
use support::{HostRun, collect, drain, engine_config, farm_target};
use tokio::sync::mpsc::Receiver;
use tokio_util::sync::CancellationToken;
use zeroize::Zeroizing;

const LIMIT: Duration = Duration::from_secs(60);

/// Host 0 of `farm` reached through a fresh relay; the others directly.
fn proxied(farm: &Farm) -> (FaultProxy, Vec<Target>) {
    let proxy = FaultProxy::start(farm.hosts[0].port);
    farm.trust_port(0, proxy.port);
    let mut targets: Vec<Target> = (0..farm.hosts.len())
        .map(|i| farm_target(farm, i))
        .collect();
    targets[0] = Target::new(
        format!("flaky@127.0.0.1:{}", proxy.port),
        "127.0.0.1",
        proxy.port,
        farm.user.clone(),
    );
    (proxy, targets)
}

fn engine_with(cfg: EngineConfig, targets: Vec<Target>) -> (Engine, Receiver<Event>, Vec<HostId>) {
    let (mut e, rx) = Engine::new(cfg);
    let ids = targets.into_iter().map(|t| e.add_host(t)).collect();
    (e, rx, ids)
}

/// A large file with a pattern that makes a misplaced byte visible.
fn payload(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251) as u8 ^ (i >> 16) as u8)
        .collect()
}

fn no_progress(_: u64) {}

fn assert_fine(run: &HostRun, want: &[u8]) {
    assert!(run.error.is_none(), "{:?}", run.error);
    assert_eq!(run.stdout, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_during_auth_fails_that_host_alone_and_it_reconnects_later() {
    let farm = Farm::start_with(
        3,
        FarmOptions {
            key_passphrase: Some("open sesame".into()),
            ..Default::default()
        },
    );
    let (proxy, targets) = proxied(&farm);
    let proxy = Arc::new(proxy);
    let mut cfg = engine_config(std::slice::from_ref(&farm.known_hosts), &farm.client_key);
    // Only host 0 is connected when the passphrase is asked: the relay drops
    // it mid-authentication, then the answer comes.
    let (prompter, mut prompts) = Prompter::channel();
    cfg.prompter = prompter;
    let p = proxy.clone();
    let asked = Arc::new(Mutex::new(0));
    let a = asked.clone();
    tokio::spawn(async move {
        while let Some(q) = prompts.recv().await {
            *a.lock().unwrap() += 1;
            assert!(matches!(q.question, Question::Passphrase { .. }));
            assert!(p.bytes_down() > 0, "asked before the handshake");
            p.drop_all();
            tokio::time::sleep(Duration::from_millis(300)).await;
            let _ = q
                .reply
                .send(Answer::Secret(Zeroizing::new("open sesame".into())));
        }
    });
    let (mut engine, mut rx, ids) = engine_with(cfg, targets);
    engine.exec(&ids[..1], "echo first", &ExecOptions::default());
    let runs = collect(&mut rx, &ids[..1], LIMIT).await;
    let err = runs[&ids[0]]
        .error
        .as_ref()
        .expect("auth over a dropped connection cannot succeed");
    let msg = err.to_string();
    assert!(
        msg.contains(&proxy.port.to_string()),
        "the error names the host: {msg}"
    );
    assert!(
        matches!(err.kind(), "disconnected" | "network" | "protocol" | "auth"),
        "{msg}"
    );
    assert_eq!(proxy.dropped(), 1);

    // The others were never touched; host 0 reconnects (with the key
    // already decrypted, so nobody is asked again).
    engine.exec(&ids, "echo again", &ExecOptions::default());
    let runs = collect(&mut rx, &ids, LIMIT).await;
    for id in &ids {
        assert_fine(&runs[id], b"again\n");
    }
    assert_eq!(*asked.lock().unwrap(), 1, "the passphrase was asked again");
    assert_eq!(proxy.accepted(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_during_a_command_is_a_lost_connection_not_an_exit() {
    let farm = Farm::start(3);
    let (proxy, targets) = proxied(&farm);
    let cfg = engine_config(std::slice::from_ref(&farm.known_hosts), &farm.client_key);
    let (mut engine, mut rx, ids) = engine_with(cfg, targets);
    engine.exec(
        &ids,
        "echo start; sleep 3; echo end",
        &ExecOptions::default(),
    );
    // Wait until host 0 is mid-command, then pull its cable.
    let mut early: Vec<Event> = Vec::new();
    loop {
        let ev = tokio::time::timeout(LIMIT, rx.recv())
            .await
            .expect("no output")
            .expect("engine gone");
        let started = ev.host == ids[0]
            && matches!(&ev.kind, EventKind::Stdout(d) if d.starts_with(b"start"));
        early.push(ev);
        if started {
            break;
        }
    }
    proxy.drop_all();
    let t0 = Instant::now();
    let mut lost_after = None;
    let mut rest = Vec::new();
    while lost_after.is_none() {
        let ev = tokio::time::timeout(LIMIT, rx.recv())
            .await
            .expect("the cut host never reported")
            .expect("engine gone");
        if ev.host == ids[0] && ev.is_terminal() {
            lost_after = Some(t0.elapsed());
        }
        rest.push(ev);
    }
    let others: Vec<HostId> = ids[1..]
        .iter()
        .copied()
        .filter(|id| !rest.iter().any(|e| e.host == *id && e.is_terminal()))
        .collect();
    let mut runs = collect(&mut rx, &others, LIMIT).await;
    for ev in rest.into_iter().rev().chain(early.into_iter().rev()) {
        let run = runs.entry(ev.host).or_default();
        match ev.kind {
            EventKind::Stdout(d) => {
                run.stdout.splice(0..0, d.iter().copied());
            }
            EventKind::Exit { status, .. } => run.exit = Some(status),
            EventKind::Failed { error, .. } => run.error = Some(error),
            _ => {}
        }
    }
    let lost_after = lost_after.unwrap_or_default();
    assert!(
        lost_after < Duration::from_secs(2),
        "the loss was noticed only after {lost_after:?}"
    );
    let lost = &runs[&ids[0]];
    assert!(lost.exit.is_none(), "a cut command must not look finished");
    assert_eq!(
        lost.error.as_ref().map(|e| e.kind()),
        Some("disconnected"),
        "{:?}",
        lost.error
    );
    assert_eq!(
        lost.stdout, b"start\n",
        "what arrived before the cut is kept"
    );
    for id in &ids[1..] {
        assert_fine(&runs[id], b"start\nend\n");
    }
    engine.exec(&ids[..1], "echo back", &ExecOptions::default());
    let runs = collect(&mut rx, &ids[..1], LIMIT).await;
    assert_fine(&runs[&ids[0]], b"back\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_during_upload_keeps_the_old_file_and_resumes() {
    let farm = Farm::start(1);
    let (proxy, targets) = proxied(&farm);
    let cfg = engine_config(std::slice::from_ref(&farm.known_hosts), &farm.client_key);
    let (engine, rx, ids) = engine_with(cfg, targets);
    drain(rx);
    let bytes = payload(24 << 20);
    let local = farm.root.join("upload.bin");
    std::fs::write(&local, &bytes).unwrap();
    let remote = farm.root.join("dest.bin");
    std::fs::write(&remote, b"old contents").unwrap();
    let remote_s = remote.display().to_string();

    let sftp = engine.sftp(ids[0]).await.expect("sftp");
    proxy.cut_after_up(6 << 20);
    let t0 = Instant::now();
    let err = upload(
        &sftp,
        &local,
        &remote_s,
        &TransferCtx {
            opts: &TransferOpts::default(),
            remote_hash: None,
            progress: &no_progress,
            cancel: &CancellationToken::new(),
        },
    )
    .await
    .expect_err("the connection was cut");
    assert!(
        matches!(&err, TransferError::Remote { host, .. } if host.contains(&proxy.port.to_string())),
        "{err:?}"
    );
    // Promptly: not after the SFTP request timeout (60 s).
    assert!(
        t0.elapsed() < Duration::from_secs(15),
        "noticed after {:?}",
        t0.elapsed()
    );
    assert_eq!(std::fs::read(&remote).unwrap(), b"old contents");
    let part = farm.root.join(part_name("dest.bin"));
    let kept = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);

    // The engine reconnects for the retry, which resumes and verifies.
    let sftp = engine.sftp(ids[0]).await.expect("sftp after the cut");
    let hasher = engine.remote_hasher(ids[0]);
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
    .expect("retry");
    match out {
        // The server may still store what it had received when the link
        // went: the part can only have grown since it was measured.
        TransferOutcome::Copied { resumed_from, .. } => {
            assert!(
                resumed_from >= kept && resumed_from > 0,
                "{resumed_from} < {kept}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(std::fs::read(&remote).unwrap() == bytes, "not byte-exact");
    assert!(!part.exists());
    assert_eq!(proxy.dropped(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_during_download_leaves_no_local_file_and_resumes() {
    let farm = Farm::start(1);
    let (proxy, targets) = proxied(&farm);
    let cfg = engine_config(std::slice::from_ref(&farm.known_hosts), &farm.client_key);
    let (engine, rx, ids) = engine_with(cfg, targets);
    drain(rx);
    let bytes = payload(24 << 20);
    let remote = farm.root.join("source.bin");
    std::fs::write(&remote, &bytes).unwrap();
    let remote_s = remote.display().to_string();
    let local_dir = farm.root.join("fetched");
    std::fs::create_dir_all(&local_dir).unwrap();
    let local = local_dir.join("source.bin");

    let sftp = engine.sftp(ids[0]).await.expect("sftp");
    proxy.cut_after_down(6 << 20);
    let t0 = Instant::now();
    let err = download_to(
        &sftp,
        &remote_s,
        &local,
        &TransferCtx {
            opts: &TransferOpts::default(),
            remote_hash: None,
            progress: &no_progress,
            cancel: &CancellationToken::new(),
        },
    )
    .await
    .expect_err("the connection was cut");
    assert!(
        matches!(&err, TransferError::Remote { host, .. } if host.contains(&proxy.port.to_string())),
        "{err:?}"
    );
    assert!(
        t0.elapsed() < Duration::from_secs(15),
        "noticed after {:?}",
        t0.elapsed()
    );
    assert!(!local.exists(), "a truncated file under the real name");
    let part = local_dir.join(part_name("source.bin"));
    let kept = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    assert!(kept < bytes.len() as u64);

    let sftp = engine.sftp(ids[0]).await.expect("sftp after the cut");
    let hasher = engine.remote_hasher(ids[0]);
    let out = download_to(
        &sftp,
        &remote_s,
        &local,
        &TransferCtx {
            opts: &TransferOpts::default(),
            remote_hash: Some(&hasher),
            progress: &no_progress,
            cancel: &CancellationToken::new(),
        },
    )
    .await
    .expect("retry");
    match out {
        // The server may still store what it had received when the link
        // went: the part can only have grown since it was measured.
        TransferOutcome::Copied { resumed_from, .. } => {
            assert!(
                resumed_from >= kept && resumed_from > 0,
                "{resumed_from} < {kept}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(std::fs::read(&local).unwrap() == bytes, "not byte-exact");
    assert!(!part.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_longer_than_the_keepalive_is_detected_and_the_others_carry_on() {
    let farm = Farm::start(3);
    let (proxy, targets) = proxied(&farm);
    let mut cfg = engine_config(std::slice::from_ref(&farm.known_hosts), &farm.client_key);
    // Three missed keepalives a second apart mean the host is gone.
    cfg.keepalive = Some(Duration::from_secs(1));
    let (mut engine, mut rx, ids) = engine_with(cfg, targets);
    engine.exec(&ids, "true", &ExecOptions::default());
    collect(&mut rx, &ids, LIMIT).await;

    // Idle and stalled: the host is marked disconnected.
    proxy.stall();
    let t0 = Instant::now();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("a stalled host was never marked")
            .expect("engine gone");
        assert_eq!(ev.host, ids[0], "another host reported {:?}", ev.kind);
        if matches!(ev.kind, EventKind::Disconnected) {
            break;
        }
    }
    let noticed = t0.elapsed();
    assert!(
        noticed >= Duration::from_secs(2) && noticed < Duration::from_secs(10),
        "noticed after {noticed:?}"
    );

    // Still stalled: a command there fails within the connect timeout while
    // the others answer at once.
    let cfg_timeout = ExecOptions {
        timeout: Some(Duration::from_secs(20)),
        ..Default::default()
    };
    let t0 = Instant::now();
    engine.exec(&ids, "echo hi", &cfg_timeout);
    let mut done = Vec::new();
    let mut stalled_error = None;
    while done.len() < ids.len() {
        let ev = tokio::time::timeout(LIMIT, rx.recv())
            .await
            .expect("hosts did not finish")
            .expect("engine gone");
        match &ev.kind {
            EventKind::Exit { .. } => {
                assert!(
                    t0.elapsed() < Duration::from_secs(5),
                    "a healthy host waited"
                );
                done.push(ev.host);
            }
            EventKind::Failed { error, .. } => {
                assert_eq!(ev.host, ids[0], "{error}");
                stalled_error = Some(error.clone());
                done.push(ev.host);
            }
            _ => {}
        }
    }
    let err = stalled_error.expect("the stalled host cannot succeed");
    assert_eq!(err.kind(), "connect-timeout", "{err}");
    assert!(err.to_string().contains(&proxy.port.to_string()), "{err}");

    // The network comes back: so does the host.
    proxy.resume();
    tokio::time::sleep(Duration::from_secs(1)).await;
    engine.exec(&ids[..1], "echo back", &ExecOptions::default());
    let runs = collect(&mut rx, &ids[..1], LIMIT).await;
    assert_fine(&runs[&ids[0]], b"back\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_transfers_finish_with_sane_progress() {
    let farm = Farm::start(1);
    let (proxy, targets) = proxied(&farm);
    let cfg = engine_config(std::slice::from_ref(&farm.known_hosts), &farm.client_key);
    let (engine, rx, ids) = engine_with(cfg, targets);
    drain(rx);
    let sftp = engine.sftp(ids[0]).await.expect("sftp");
    const RATE: u64 = 512 << 10;
    const SIZE: usize = 2 << 20;
    proxy.throttle(RATE);
    let bytes = payload(SIZE);
    let local = farm.root.join("slow.bin");
    std::fs::write(&local, &bytes).unwrap();
    let remote = farm.root.join("slow-remote.bin").display().to_string();

    for direction in ["up", "down"] {
        let seen: Arc<Mutex<Vec<(Duration, u64)>>> = Arc::default();
        let s = seen.clone();
        let t0 = Instant::now();
        let progress = move |n: u64| {
            let mut v = s.lock().unwrap();
            let total = v.last().map_or(0, |l| l.1) + n;
            v.push((t0.elapsed(), total));
        };
        let out = if direction == "up" {
            upload(
                &sftp,
                &local,
                &remote,
                &TransferCtx {
                    opts: &TransferOpts::default(),
                    remote_hash: None,
                    progress: &progress,
                    cancel: &CancellationToken::new(),
                },
            )
            .await
        } else {
            let back = farm.root.join("slow-back.bin");
            let r = download_to(
                &sftp,
                &remote,
                &back,
                &TransferCtx {
                    opts: &TransferOpts::default(),
                    remote_hash: None,
                    progress: &progress,
                    cancel: &CancellationToken::new(),
                },
            )
            .await;
            assert!(std::fs::read(&back).unwrap() == bytes, "download differs");
            r
        };
        let elapsed = t0.elapsed();
        assert!(
            matches!(out, Ok(TransferOutcome::Copied { bytes: b, .. }) if b == SIZE as u64),
            "{direction}: {out:?}"
        );
        let seen = seen.lock().unwrap();
        let last = seen.last().expect("no progress at all");
        assert_eq!(
            last.1, SIZE as u64,
            "{direction}: progress does not end at the size"
        );
        // Never ahead of what the link can carry (plus one chunk in the
        // kernel's buffers), so a rate or ETA computed from it is honest.
        for (at, total) in seen.iter() {
            let possible = RATE as f64 * at.as_secs_f64() + (1 << 20) as f64;
            assert!(
                (*total as f64) <= possible,
                "{direction}: {total} bytes reported after {at:?}"
            );
        }
        // And it keeps coming: no silent stretch of more than 2 s.
        let gaps = seen
            .windows(2)
            .map(|w| w[1].0 - w[0].0)
            .max()
            .unwrap_or_default();
        assert!(
            gaps < Duration::from_secs(2),
            "{direction}: progress silent for {gaps:?}"
        );
        assert!(
            elapsed >= Duration::from_secs_f64(SIZE as f64 / RATE as f64 * 0.7),
            "{direction}: {elapsed:?} is faster than the throttle allows; the relay is not in the path"
        );
        assert!(
            seen.len() >= 8,
            "{direction}: only {} progress reports",
            seen.len()
        );
    }
    assert!(std::fs::read(&remote).unwrap() == bytes, "upload differs");
}
