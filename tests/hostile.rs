//! Hostile input: remote output with every class of escape sequence,
//! invalid UTF-8 and NUL bytes; a 64 MiB line with no newline; file names
//! with newlines, escapes and bytes that are not UTF-8; a server that sends
//! an endless banner, one that never speaks and one that stops mid-handshake.
//! Nothing may reach the user's terminal, memory stays bounded and the
//! other hosts carry on.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::ffi::OsStrExt;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sshdeck::app::scrollback::Scrollback;
use sshdeck::engine::files::fs::{FileSystem, RemoteFs};
use sshdeck::engine::files::transfer::{TransferCtx, TransferError, TransferOpts, download_to};
use sshdeck::engine::{Engine, ExecOptions, HostId, Target};
use sshdeck::text::sanitize::visible_name;
use support::farm::Farm;
use support::{collect, engine_config, farm_engine_drained, farm_target, sshdeck_farm};
use tokio_util::sync::CancellationToken;

/// One of each: CSI (clear, colour, alternate screen), OSC 52 and a title,
/// DCS, APC, PM, SOS, the 8-bit C1 forms, NEL, NUL, invalid UTF-8, and
/// plain C0 controls.
const HOSTILE: &[u8] = b"before\x1b[2J\x1b[?1049h\x1b[31mred\x1b[0m|\
\x1b]52;c;ZXZpbA==\x07|\x1b]0;pwned\x1b\\|\x1bPq#0;1;2\x1b\\|\x1b_apc\x1b\\|\
\x1b^pm\x1b\\|\x1bXsos\x1b\\|\xc2\x9b2J|\xc2\x9d52;c;eA==\xc2\x9c|\xc2\x85|\
nul\x00byte|bad\xff\xfe\xc3utf8|\r\x08\x07\x7f|after\n";

/// Bytes a terminal could act on: C0 but newline and tab, DEL, C1.
fn terminal_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| c != '\n' && c != '\t' && c.is_control())
        .collect()
}

#[test]
fn sshdeck_run_passes_no_escape_or_control_of_any_class() {
    let farm = Farm::start(2);
    let payload = farm.root.join("hostile.bin");
    std::fs::write(&payload, HOSTILE).unwrap();
    let cmd = format!("cat {p}; cat {p} >&2", p = payload.display());
    for mode in [&[][..], &["-b"][..]] {
        let out = sshdeck_farm(&farm)
            .args(["run", "-H", &farm.host_list()])
            .args(mode)
            .args(["--", &cmd])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{mode:?}");
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = std::str::from_utf8(bytes)
                .unwrap_or_else(|e| panic!("{mode:?} {stream}: not UTF-8: {e}"));
            assert!(
                terminal_controls(text).is_empty(),
                "{mode:?} {stream}: {:?} in {text:?}",
                terminal_controls(text)
            );
            // Gathered output goes to stdout only.
            if mode == ["-b"] && stream == "stderr" {
                continue;
            }
            assert!(
                text.contains("beforered|") && text.contains("after"),
                "{mode:?} {stream}: the text itself was lost: {text:?}"
            );
            assert!(
                !text.contains("ZXZpbA") && !text.contains("pwned"),
                "{text:?}"
            );
        }
    }
}

/// Peak resident memory of a child, from wait4(2), in KiB.
fn wait_peak_rss(child: &std::process::Child) -> (i32, i64) {
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid, and the pid is our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    (libc::WEXITSTATUS(status), usage.ru_maxrss)
}

#[test]
// The child is reaped by wait4 (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn a_64_mib_line_without_newline_streams_through_in_bounded_memory() {
    let farm = Farm::start(1);
    const LEN: usize = 64 << 20;
    let cmd = format!("head -c {LEN} /dev/zero | tr '\\0' x");
    let mut child = sshdeck_farm(&farm)
        .args(["run", "-H", &farm.host_list(), "--", &cmd])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut xs = 0usize;
        let mut other = 0usize;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = stdout.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            for &b in &buf[..n] {
                if b == b'x' {
                    xs += 1;
                } else {
                    other += 1;
                }
            }
        }
        (xs, other)
    });
    let (code, peak_kib) = wait_peak_rss(&child);
    let (xs, other) = reader.join().unwrap();
    assert_eq!(code, 0);
    assert!(xs >= LEN, "only {xs} of {LEN} bytes arrived");
    // The line is cut into labelled pieces: some labels, not a byte per x.
    assert!(other < LEN / 100, "{other} label bytes");
    assert!(
        peak_kib < 48 * 1024,
        "sshdeck run peaked at {} MiB for a 64 MiB line",
        peak_kib / 1024
    );
}

#[test]
fn a_64_mib_line_costs_the_scrollback_its_budget_only() {
    const BUDGET: usize = 4 << 20;
    let mut sb = Scrollback::new(10_000, BUDGET);
    let chunk = vec![b'x'; 32 << 10];
    for _ in 0..(64 << 20) / chunk.len() {
        sb.push(false, &chunk);
    }
    let tail = b"\x1b]52;c;ZXZpbA==\x07tail\0\n";
    sb.push(false, tail);
    let kept: usize = sb.iter().map(|l| l.line.weight()).sum();
    assert!(kept <= BUDGET + 64 * 1024, "{kept} bytes kept");
    assert!(sb.dropped > 0, "nothing was dropped from a 64 MiB line");
    assert_eq!(sb.received, (64 << 20) + tail.len() as u64);
    let last = sb.iter().last().unwrap();
    let text: String = last.line.spans.iter().map(|s| s.text.as_str()).collect();
    assert!(text.ends_with("tail"), "{text:?}");
    assert!(terminal_controls(&text).is_empty(), "{text:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_names_with_newlines_escapes_and_bad_bytes() {
    let farm = Farm::start(1);
    let dir = farm.hosts[0].files().join("odd");
    std::fs::create_dir_all(&dir).unwrap();
    let names: [&[u8]; 4] = [
        b"two\nlines.txt",
        b"\x1b[2J\x1b]52;c;ZXZpbA==\x07clip.txt",
        b"caf\xe9.txt",
        b"tab\there\x7f.txt",
    ];
    for (i, n) in names.iter().enumerate() {
        let path = dir.join(std::ffi::OsStr::from_bytes(n));
        std::fs::write(path, format!("content {i}\n")).unwrap();
    }
    let (e, ids) = farm_engine_drained(&farm);
    let sftp = e.sftp(ids[0]).await.expect("sftp");
    let fs = RemoteFs { sftp: sftp.clone() };
    let dir_s = dir.display().to_string();
    let mut listed = fs
        .list(&dir_s)
        .await
        .expect("listing a directory with odd names")
        .entries;
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(listed.len(), 4, "{listed:?}");
    for entry in &listed {
        let shown = visible_name(&entry.name);
        assert!(terminal_controls(&shown).is_empty(), "{shown:?}");
    }
    let shown: Vec<String> = listed.iter().map(|e| visible_name(&e.name)).collect();
    assert!(shown.contains(&"two\\nlines.txt".to_string()), "{shown:?}");
    assert!(
        shown.iter().any(|s| s.starts_with("\\e[2J\\e]52;c;")),
        "{shown:?}"
    );

    // Names with controls are still real names: they copy byte-exact.
    let back = farm.root.join("back");
    std::fs::create_dir_all(&back).unwrap();
    for (i, raw) in [names[0], names[1], names[3]].iter().enumerate() {
        let name = std::str::from_utf8(raw).unwrap();
        let local = back.join(format!("copy{i}"));
        download_to(
            &sftp,
            &format!("{dir_s}/{name}"),
            &local,
            &TransferCtx {
                opts: &TransferOpts::default(),
                remote_hash: None,
                progress: &|_| {},
                cancel: &CancellationToken::new(),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{name:?}: {e}"));
        assert!(std::fs::read(&local).unwrap().starts_with(b"content "));
    }
    // The one that is not UTF-8 arrives mangled (U+FFFD) and is refused
    // with the reason, not "no such file".
    let mangled = listed
        .iter()
        .find(|e| e.name.contains('\u{fffd}'))
        .expect("the non-UTF-8 name is listed");
    let err = download_to(
        &sftp,
        &format!("{dir_s}/{}", mangled.name),
        &back.join("mangled"),
        &TransferCtx {
            opts: &TransferOpts::default(),
            remote_hash: None,
            progress: &|_| {},
            cancel: &CancellationToken::new(),
        },
    )
    .await
    .expect_err("a mangled name addresses nothing");
    assert!(
        matches!(&err, TransferError::Remote { cause, .. } if cause.contains("not valid UTF-8")),
        "{err}"
    );
    assert!(!back.join("mangled").exists());
}

/// A server on loopback that answers every connection with `script`.
fn raw_server(script: fn(std::net::TcpStream)) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            std::thread::spawn(move || script(c));
        }
    });
    port
}

fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_banners_and_stuck_handshakes_fail_alone_in_bounded_memory() {
    let farm = Farm::start(1);
    // Lines before the version string are allowed (RFC 4253 4.2); these
    // never end, and carry escapes.
    let flood = raw_server(|mut c| {
        let line = b"\x1b]52;c;ZXZpbA==\x07 welcome to a very long banner \x1b[2J\r\n".repeat(512);
        while c.write_all(&line).is_ok() {}
    });
    // One line without end: no newline, ever.
    let endless_line = raw_server(|mut c| {
        let chunk = [b'A'; 1 << 16];
        while c.write_all(&chunk).is_ok() {}
    });
    // Accepts, then says nothing.
    let silent = raw_server(|c| {
        std::thread::sleep(Duration::from_secs(60));
        drop(c);
    });
    // A proper version string, then silence mid-handshake.
    let stuck = raw_server(|mut c| {
        let _ = c.write_all(b"SSH-2.0-OpenSSH_9.9\r\n");
        std::thread::sleep(Duration::from_secs(60));
    });
    let mut cfg = engine_config(std::slice::from_ref(&farm.known_hosts), &farm.client_key);
    cfg.connect_timeout = Duration::from_secs(4);
    let (mut engine, mut rx) = Engine::new(cfg);
    let good = engine.add_host(farm_target(&farm, 0));
    let bad: Vec<(HostId, u16)> = [flood, endless_line, silent, stuck]
        .into_iter()
        .map(|port| {
            let t = Target::new(format!("evil:{port}"), "127.0.0.1", port, farm.user.clone());
            (engine.add_host(t), port)
        })
        .collect();
    let before = resident_kib();
    let t0 = Instant::now();
    let mut ids: Vec<HostId> = bad.iter().map(|b| b.0).collect();
    ids.push(good);
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(before));
    let watcher = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(resident_kib(), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    engine.exec(&ids, "echo fine", &ExecOptions::default());
    let runs = collect(&mut rx, &ids, Duration::from_secs(60)).await;
    watcher.abort();
    assert_eq!(runs[&good].stdout, b"fine\n", "{:?}", runs[&good].error);
    for (id, port) in &bad {
        let err = runs[id]
            .error
            .as_ref()
            .unwrap_or_else(|| panic!("port {port} cannot have worked"));
        let msg = err.to_string();
        assert!(msg.contains(&port.to_string()), "{msg}");
        assert!(terminal_controls(&msg).is_empty(), "{msg:?}");
        assert!(!msg.contains("ZXZpbA"), "{msg}");
    }
    assert!(
        t0.elapsed() < Duration::from_secs(15),
        "hostile servers held the run for {:?}",
        t0.elapsed()
    );
    let grew = peak
        .load(std::sync::atomic::Ordering::Relaxed)
        .saturating_sub(before);
    assert!(grew < 64 * 1024, "memory grew by {} MiB", grew / 1024);
}
