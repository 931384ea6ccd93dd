//! The demo's embedded SSH host, checked with OpenSSH's own clients: `ssh`
//! runs commands through it and `sftp` moves files through its SFTP
//! subsystem, confined to the host's scratch directory.

use std::process::Command;

use sshdeck::demo::{DemoLogin, DemoServer};

fn keygen(path: &std::path::Path) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

struct Demo {
    dir: tempfile::TempDir,
    port: u16,
}

impl Demo {
    fn ssh_args(&self) -> Vec<String> {
        let d = self.dir.path();
        vec![
            "-i".into(),
            d.join("client").display().to_string(),
            "-o".into(),
            format!("UserKnownHostsFile={}", d.join("kh").display()),
            "-o".into(),
            "StrictHostKeyChecking=yes".into(),
            "-o".into(),
            "BatchMode=yes".into(),
        ]
    }
}

async fn start() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keygen(&d.join("client"));
    keygen(&d.join("host"));
    let host_key = russh::keys::load_secret_key(d.join("host"), None).unwrap();
    let client_pub = russh::keys::load_public_key(d.join("client.pub")).unwrap();
    let scratch = d.join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    std::fs::write(scratch.join("hello.txt"), "hi there\n").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let host_pub = std::fs::read_to_string(d.join("host.pub")).unwrap();
    let host_pub: Vec<&str> = host_pub.split_whitespace().take(2).collect();
    std::fs::write(
        d.join("kh"),
        format!("[127.0.0.1]:{port} {}\n", host_pub.join(" ")),
    )
    .unwrap();
    tokio::spawn(
        DemoServer::new(
            host_key,
            client_pub,
            scratch,
            "demo01".into(),
            DemoLogin::Key,
        )
        .serve(listener),
    );
    Demo { dir, port }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssh_runs_commands_on_a_demo_host() {
    let demo = start().await;
    let port = demo.port.to_string();
    let args = demo.ssh_args();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("ssh")
            .args(&args)
            .args([
                "-p",
                &port,
                "me@127.0.0.1",
                "cat hello.txt; echo err >&2; echo $SSHDECK_DEMO_HOST; exit 4",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hi there\ndemo01\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("err"));
    assert_eq!(out.status.code(), Some(4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssh_sftp_moves_files_inside_the_scratch_dir() {
    let demo = start().await;
    let d = demo.dir.path().to_path_buf();
    let local = d.join("up.bin");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&local, &data).unwrap();
    let batch = d.join("batch");
    std::fs::write(
        &batch,
        format!(
            "put {} up.bin\nmkdir sub\nrename up.bin sub/moved.bin\nget sub/moved.bin {}\nget ../../../etc/hostname {}\nls -l\n",
            local.display(),
            d.join("back.bin").display(),
            d.join("escaped").display()
        ),
    )
    .unwrap();
    let port = demo.port.to_string();
    let args = demo.ssh_args();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("sftp")
            .args(&args)
            .args(["-b"])
            .arg(&batch)
            .args(["-P", &port, "me@127.0.0.1"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The `get ../../../etc/hostname` fails (batch mode stops there): the
    // path resolves inside the scratch directory, where there is no etc/.
    assert!(!out.status.success());
    assert!(
        stderr.contains("not found") || stderr.contains("No such file"),
        "{stderr}"
    );
    assert!(
        !d.join("escaped").exists(),
        "a file outside the scratch dir was served"
    );
    assert_eq!(
        std::fs::read(d.join("scratch/sub/moved.bin")).unwrap(),
        data
    );
    assert_eq!(std::fs::read(d.join("back.bin")).unwrap(), data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_hosts_serve_shells_on_a_pty_with_window_changes() {
    use sshdeck::engine::{Engine, EngineConfig, EventKind, ExitStatus, HostId, ShellSpec, Target};
    let demo = start().await;
    let d = demo.dir.path();
    let mut cfg = EngineConfig::new(vec![d.join("kh")], vec![d.join("client")]);
    cfg.agent = None;
    cfg.policy = sshdeck::engine::HostKeyPolicy::Strict;
    let (mut engine, mut rx) = Engine::new(cfg);
    let host = engine.add_host(Target::new(
        "demo01".to_string(),
        "127.0.0.1",
        demo.port,
        "me".to_string(),
    ));
    let shell = engine.open_shell(
        host,
        ShellSpec {
            term: "xterm-256color".into(),
            cols: 100,
            rows: 30,
            record_dir: None,
        },
    );
    assert_eq!(shell.host, HostId(0));
    shell.send(&b"stty size; echo \"on $SSHDECK_DEMO_HOST\"\r"[..]);
    let mut out = Vec::new();
    let mut resized = false;
    let status = loop {
        let ev = tokio::time::timeout(std::time::Duration::from_secs(20), rx.recv())
            .await
            .expect("the demo shell answered")
            .expect("engine alive");
        match ev.kind {
            EventKind::Stdout(b) => {
                out.extend_from_slice(&b);
                let text = String::from_utf8_lossy(&out);
                if !resized && text.contains("on demo01") {
                    resized = true;
                    shell.resize(120, 40);
                    shell.send(&b"stty size; exit 3\r"[..]);
                }
            }
            EventKind::Exit { status, .. } => break status,
            EventKind::Failed { error, .. } => panic!("{error}"),
            _ => {}
        }
    };
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("30 100\r\n"), "{text}");
    assert!(text.contains("40 120\r\n"), "{text}");
    assert_eq!(status, ExitStatus::Code(3));
}
