//! A simulated fleet: N SSH hosts served by one process with russh's
//! server, for load far past what one sshd per host allows on 2 cores.
//!
//! Every host has its own host key and its own loopback address (all of
//! 127.0.0.0/8 reaches loopback on Linux), all on one port, so the client
//! sees N distinct machines. Commands are answered in-process, without a
//! shell, so the fleet's own CPU stays small next to the client's: what a
//! benchmark measures is sshdeck. SFTP writes are counted and dropped.
//!
//! Hosts differ so that gathering means something: `uname -r` gives one of
//! three kernels, `cat /etc/role` one of four roles, and `check` fails on
//! every seventh host; `cat /var/log/big` is the same 1 MiB everywhere. Faults are per host, chosen at start: down (nothing
//! listens), a slow handshake, commands that hang, and a flood.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use russh::keys::{Algorithm, PrivateKey, PublicKey};
use russh::server::{self, Auth, Msg, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use russh_sftp::protocol::{
    Attrs, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version,
};

/// What is wrong with a host, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    #[default]
    None,
    /// Listed, but nothing listens on its address.
    Down,
    /// Waits this long before the SSH handshake.
    SlowHandshake(Duration),
    /// Accepts every command and never answers it.
    Hang,
    /// Answers every command with this many bytes of output.
    Flood(u64),
    /// Answers every command, but only after this long.
    SlowCommands(Duration),
}

/// Which hosts get which fault: host `i` gets the first rule whose
/// `every` divides `i + 1`.
#[derive(Debug, Clone, Default)]
pub struct Faults(pub Vec<(usize, Fault)>);

impl Faults {
    fn of(&self, i: usize) -> Fault {
        self.0
            .iter()
            .find(|(every, _)| *every > 0 && (i + 1).is_multiple_of(*every))
            .map_or(Fault::None, |(_, f)| *f)
    }
}

pub struct Fleet {
    pub root: PathBuf,
    pub port: u16,
    pub addrs: Vec<Ipv4Addr>,
    /// SFTP bytes written to the fleet so far, all hosts together.
    pub written: Arc<AtomicU64>,
    /// Commands running now, and the most that ever ran at once, over
    /// all hosts.
    pub commands: Arc<Running>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Host `i`'s address: 127.0.1.1 onwards, 250 per /24, skipping .0 and
/// the top of each range.
pub fn addr_of(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, (1 + i / 250) as u8, 0, 0) | Ipv4Addr::new(0, 0, 0, (1 + i % 250) as u8)
}

pub fn name_of(i: usize) -> String {
    format!("fleet{i:05}")
}

impl Fleet {
    /// Start `n` hosts, writing `root/hosts` (one `127.0.x.y:PORT` per
    /// line), `root/known_hosts` and `root/client_ed25519` (+ `.pub`).
    /// Hosts are served by a runtime of `threads` workers on its own
    /// threads, so blocking tests can drive the real binary.
    pub fn start(root: &Path, n: usize, faults: Faults, threads: usize) -> std::io::Result<Fleet> {
        Self::start_shard(root, 0..n, faults, threads)
    }

    /// Hosts `range` only: one process holds two descriptors per host (a
    /// listener and a connection), so 10,000 hosts take more than one
    /// process under a 20,000 open-files limit. A client key already in
    /// `root` is kept, so every shard trusts the same client.
    pub fn start_shard(
        root: &Path,
        range: std::ops::Range<usize>,
        faults: Faults,
        threads: usize,
    ) -> std::io::Result<Fleet> {
        assert!(
            range.end <= 250 * 254,
            "the fleet addresses at most 63,500 hosts"
        );
        std::fs::create_dir_all(root)?;
        let rng = &mut russh::keys::key::safe_rng();
        let client_path = root.join("client_ed25519");
        let client = match russh::keys::load_secret_key(&client_path, None) {
            Ok(k) => k,
            Err(_) => {
                let k =
                    PrivateKey::random(rng, Algorithm::Ed25519).map_err(std::io::Error::other)?;
                let pem = k
                    .to_openssh(russh::keys::ssh_key::LineEnding::LF)
                    .map_err(std::io::Error::other)?;
                std::fs::write(&client_path, pem.as_bytes())?;
                std::fs::set_permissions(
                    &client_path,
                    <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600),
                )?;
                k
            }
        };
        let client_pub = client.public_key().clone();
        std::fs::write(
            root.join("client_ed25519.pub"),
            client_pub.to_openssh().map_err(std::io::Error::other)?,
        )?;

        // One port for every address: the first free one on the first.
        let first = std::net::TcpListener::bind((addr_of(range.start), 0))?;
        let port = first.local_addr()?.port();
        let n = range.len();
        let mut listeners = Vec::with_capacity(n);
        let mut known = String::new();
        let mut hosts = String::new();
        let mut addrs = Vec::with_capacity(n);
        let mut first = Some(first);
        for i in range {
            let addr = addr_of(i);
            addrs.push(addr);
            hosts.push_str(&format!("{addr}:{port}\n"));
            let key = PrivateKey::random(rng, Algorithm::Ed25519).map_err(std::io::Error::other)?;
            let line = key
                .public_key()
                .to_openssh()
                .map_err(std::io::Error::other)?;
            let line: Vec<&str> = line.split_whitespace().take(2).collect();
            known.push_str(&format!("[{addr}]:{port} {}\n", line.join(" ")));
            let fault = faults.of(i);
            if fault == Fault::Down {
                continue;
            }
            let l = match first.take() {
                Some(l) => l,
                None => std::net::TcpListener::bind((addr, port))?,
            };
            l.set_nonblocking(true)?;
            listeners.push((i, l, key, fault));
        }
        std::fs::write(root.join("hosts"), hosts)?;
        std::fs::write(root.join("known_hosts"), known)?;

        let written = Arc::new(AtomicU64::new(0));
        let commands = Arc::new(Running::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let w = written.clone();
        let c = commands.clone();
        std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads.max(1))
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                for (i, l, key, fault) in listeners {
                    let Ok(listener) = tokio::net::TcpListener::from_std(l) else {
                        continue;
                    };
                    let config = Arc::new(server::Config {
                        keys: vec![key],
                        auth_rejection_time: Duration::from_millis(50),
                        auth_rejection_time_initial: Some(Duration::ZERO),
                        inactivity_timeout: None,
                        ..Default::default()
                    });
                    let host = Host {
                        index: i,
                        client: client_pub.clone(),
                        fault,
                        written: w.clone(),
                        commands: c.clone(),
                    };
                    tokio::spawn(serve(listener, config, host));
                }
                let _ = stopped.await;
            });
        });
        Ok(Fleet {
            root: root.to_path_buf(),
            port,
            addrs,
            written,
            commands,
            _stop: stop,
        })
    }

    pub fn hosts_file(&self) -> PathBuf {
        self.root.join("hosts")
    }

    pub fn known_hosts(&self) -> PathBuf {
        self.root.join("known_hosts")
    }

    pub fn client_key(&self) -> PathBuf {
        self.root.join("client_ed25519")
    }

    /// The `i`th host this fleet (or shard) serves.
    pub fn label(&self, i: usize) -> String {
        format!("{}:{}", self.addrs[i], self.port)
    }
}

/// A count of commands in progress and its high-water mark.
#[derive(Default)]
pub struct Running {
    now: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
}

impl Running {
    fn start(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
    }

    fn end(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }

    /// Commands in progress now.
    pub fn now(&self) -> usize {
        self.now.load(Ordering::SeqCst)
    }

    pub fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

#[derive(Clone)]
struct Host {
    index: usize,
    client: PublicKey,
    fault: Fault,
    written: Arc<AtomicU64>,
    commands: Arc<Running>,
}

async fn serve(listener: tokio::net::TcpListener, config: Arc<server::Config>, host: Host) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (config, host) = (config.clone(), host.clone());
        tokio::spawn(async move {
            if let Fault::SlowHandshake(d) = host.fault {
                tokio::time::sleep(d).await;
            }
            let conn = Conn {
                host,
                channels: HashMap::new(),
                running: Default::default(),
            };
            if let Ok(run) = server::run_stream(config, stream, conn).await {
                let _ = run.await;
            }
        });
    }
}

/// A command's answer.
pub struct Answer {
    pub code: u32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Wait this long first.
    pub after: Duration,
}

impl Answer {
    fn out(s: impl Into<Vec<u8>>) -> Answer {
        Answer {
            code: 0,
            stdout: s.into(),
            stderr: Vec::new(),
            after: Duration::ZERO,
        }
    }

    fn fail(code: u32, err: &str) -> Answer {
        Answer {
            code,
            stdout: Vec::new(),
            stderr: err.as_bytes().to_vec(),
            after: Duration::ZERO,
        }
    }
}

const KERNELS: [&str; 3] = ["6.1.0-28-amd64", "6.1.0-31-amd64", "5.10.0-33-amd64"];
const ROLES: [&str; 4] = ["compute", "compute", "storage", "login"];

/// Host `i`'s answer to `command`, as its shell would give it.
pub fn answer(i: usize, command: &str) -> Answer {
    let words: Vec<&str> = command.split_whitespace().collect();
    match words.as_slice() {
        [] | ["true"] => Answer::out(""),
        ["false"] => Answer::fail(1, ""),
        ["echo", rest @ ..] => Answer::out(format!("{}\n", rest.join(" "))),
        ["hostname"] => Answer::out(format!("{}\n", name_of(i))),
        ["uname", "-r"] => Answer::out(format!("{}\n", KERNELS[i % KERNELS.len()])),
        ["cat", "/etc/role"] => Answer::out(format!("{}\n", ROLES[i % ROLES.len()])),
        // The same 1 MiB on every host: what gathering must keep once.
        ["cat", "/var/log/big"] => Answer::out(big_log()),
        ["cat", path] => Answer::fail(1, &format!("cat: {path}: No such file or directory\n")),
        ["check"] if (i + 1).is_multiple_of(7) => Answer::fail(2, "check: disk 93% full\n"),
        ["check"] => Answer::out("ok\n"),
        ["exit", code] => Answer::fail(code.parse().unwrap_or(255), ""),
        ["sleep", secs] => Answer {
            after: Duration::from_secs_f64(secs.parse().unwrap_or(0.0)),
            ..Answer::out("")
        },
        [cmd, ..] => Answer::fail(127, &format!("sh: 1: {cmd}: not found\n")),
    }
}

/// 1 MiB of log lines, the same on every host.
pub fn big_log() -> Vec<u8> {
    let mut out = Vec::with_capacity(1 << 20);
    let mut n = 0;
    while out.len() < (1 << 20) - 64 {
        out.extend_from_slice(format!("{n:08} kernel: the same line on every host\n").as_bytes());
        n += 1;
    }
    out
}

struct Conn {
    host: Host,
    channels: HashMap<ChannelId, Channel<Msg>>,
    /// Commands in progress, by channel, as a shell's process groups: a
    /// signal request or a `kill` of the group stops them.
    running: Arc<std::sync::Mutex<HashMap<ChannelId, tokio::task::AbortHandle>>>,
}

/// The process group a channel's command is said to run in.
fn group_of(channel: ChannelId) -> u32 {
    1000 + u32::from(channel)
}

/// `sh -c 'kill -s SIG -- -GROUP'`, as sshdeck sends to stop a group.
fn kill_request(command: &str) -> Option<u32> {
    let rest = command.strip_prefix("sh -c 'kill -s ")?;
    let (_, rest) = rest.split_once(" -- -")?;
    rest.strip_suffix('\'')?.parse().ok()
}

impl Conn {
    /// Stop a channel's command as a shell killed by a signal ends: the
    /// exit signal, then the channel closes.
    fn stop(&self, channel: ChannelId, handle: &russh::server::Handle) {
        let task = self
            .running
            .lock()
            .ok()
            .and_then(|mut r| r.remove(&channel));
        if let Some(task) = task {
            task.abort();
            let handle = handle.clone();
            tokio::spawn(async move {
                let _ = handle
                    .exit_signal_request(
                        channel,
                        russh::Sig::TERM,
                        false,
                        String::new(),
                        String::new(),
                    )
                    .await;
                let _ = handle.eof(channel).await;
                let _ = handle.close(channel).await;
            });
        }
    }
}

impl Conn {
    fn reject() -> Auth {
        let mut methods = MethodSet::empty();
        methods.push(MethodKind::PublicKey);
        Auth::Reject {
            proceed_with_methods: Some(methods),
            partial_success: false,
        }
    }
}

impl server::Handler for Conn {
    type Error = russh::Error;

    async fn auth_publickey_offered(
        &mut self,
        _user: &str,
        offer: server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(
            if offer.public_key.key_data() == self.host.client.key_data() {
                Auth::Accept
            } else {
                Self::reject()
            },
        )
    }

    async fn auth_publickey(
        &mut self,
        _user: &str,
        key: server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(
            if key.public_key.key_data() == self.host.client.key_data() {
                Auth::Accept
            } else {
                Self::reject()
            },
        )
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match (name, self.channels.remove(&channel)) {
            ("sftp", Some(ch)) => {
                session.channel_success(channel)?;
                let sink = Sink {
                    written: self.host.written.clone(),
                    sizes: HashMap::new(),
                    handles: HashMap::new(),
                    next: 1,
                };
                tokio::spawn(russh_sftp::server::run(ch.into_stream(), sink));
            }
            _ => session.channel_failure(channel)?,
        }
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let command = String::from_utf8_lossy(data).into_owned();
        self.channels.remove(&channel);
        session.channel_success(channel)?;
        let handle = session.handle();
        // sshdeck's stop: `kill` of a group over a second channel.
        if let Some(group) = kill_request(&command) {
            let target = self
                .running
                .lock()
                .ok()
                .and_then(|r| r.keys().copied().find(|c| group_of(*c) == group));
            if let Some(c) = target {
                self.stop(c, &handle);
            }
            tokio::spawn(async move {
                let _ = handle.exit_status_request(channel, 0).await;
                let _ = handle.eof(channel).await;
                let _ = handle.close(channel).await;
            });
            return Ok(());
        }
        // As a shell would: the command line's first part reports the
        // process group, the rest is the command.
        let (report, command) =
            match command.strip_prefix(sshdeck::engine::commands::stop::REPORT_GROUP) {
                Some(rest) => (true, rest.to_string()),
                None => (false, command),
            };
        let (index, fault) = (self.host.index, self.host.fault);
        let running = self.host.commands.clone();
        running.start();
        let registry = self.running.clone();
        // The command starts once it is registered, so it never
        // unregisters before it was registered.
        let (go, gate) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = gate.await;
            if report {
                let line = format!("\x1esshdeck-pgid {}\x1e\n", group_of(channel));
                if handle.data(channel, line.into_bytes()).await.is_err() {
                    return;
                }
            }
            // Counted as running until the reply is sent (or the client
            // goes away), also when it hangs.
            struct Done(Arc<Running>);
            impl Drop for Done {
                fn drop(&mut self) {
                    self.0.end();
                }
            }
            let _done = Done(running);
            if let Fault::SlowCommands(d) = fault {
                tokio::time::sleep(d).await;
            }
            let a = match fault {
                Fault::Hang => return std::future::pending::<()>().await,
                Fault::Flood(n) => {
                    // A flood of lines, sent as fast as the client takes it.
                    let line = format!("{} flooding\n", name_of(index)).repeat(1024);
                    let mut sent = 0u64;
                    while sent < n {
                        if handle
                            .data(channel, line.clone().into_bytes())
                            .await
                            .is_err()
                        {
                            return;
                        }
                        sent += line.len() as u64;
                    }
                    Answer::out("")
                }
                _ => answer(index, &command),
            };
            if !a.after.is_zero() {
                tokio::time::sleep(a.after).await;
            }
            if !a.stdout.is_empty() {
                let _ = handle.data(channel, a.stdout).await;
            }
            if !a.stderr.is_empty() {
                let _ = handle.extended_data(channel, 1, a.stderr).await;
            }
            if let Ok(mut r) = registry.lock() {
                r.remove(&channel);
            }
            let _ = handle.exit_status_request(channel, a.code).await;
            let _ = handle.eof(channel).await;
            let _ = handle.close(channel).await;
        });
        if let Ok(mut r) = self.running.lock() {
            r.insert(channel, task.abort_handle());
        }
        let _ = go.send(());
        Ok(())
    }

    /// The SSH signal request: the command's group gets it.
    async fn signal(
        &mut self,
        channel: ChannelId,
        signal: russh::Sig,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if matches!(
            signal,
            russh::Sig::TERM | russh::Sig::KILL | russh::Sig::INT
        ) {
            self.stop(channel, &session.handle());
        }
        Ok(())
    }
}

/// SFTP that keeps sizes, not bytes: enough for a put to create, write,
/// stat, set modes and rename its part file.
struct Sink {
    written: Arc<AtomicU64>,
    sizes: HashMap<String, u64>,
    handles: HashMap<String, String>,
    next: u64,
}

fn ok(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".into(),
        language_tag: "en-US".into(),
    }
}

impl Sink {
    fn attrs(&self, path: &str) -> Option<FileAttributes> {
        if path == "." || path == "/" || path.ends_with('/') {
            return Some(FileAttributes {
                permissions: Some(0o40755),
                ..Default::default()
            });
        }
        self.sizes.get(path).map(|&size| FileAttributes {
            size: Some(size),
            permissions: Some(0o100644),
            mtime: Some(0),
            atime: Some(0),
            ..Default::default()
        })
    }
}

impl russh_sftp::server::Handler for Sink {
    type Error = StatusCode;

    fn unimplemented(&self) -> Self::Error {
        StatusCode::OpUnsupported
    }

    async fn init(
        &mut self,
        _version: u32,
        _extensions: HashMap<String, String>,
    ) -> Result<Version, Self::Error> {
        let mut v = Version::new();
        v.extensions
            .insert("posix-rename@openssh.com".into(), "1".into());
        Ok(v)
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let abs = if path.starts_with('/') {
            path
        } else {
            format!("/home/fleet/{}", path.trim_start_matches("./"))
        };
        Ok(Name {
            id,
            files: vec![russh_sftp::protocol::File::dummy(abs)],
        })
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        _attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        if !pflags.contains(OpenFlags::WRITE) {
            return Err(StatusCode::NoSuchFile);
        }
        if pflags.contains(OpenFlags::TRUNCATE) || !self.sizes.contains_key(&filename) {
            self.sizes.insert(filename.clone(), 0);
        }
        let handle = self.next.to_string();
        self.next += 1;
        self.handles.insert(handle.clone(), filename);
        Ok(Handle { id, handle })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<Status, Self::Error> {
        let path = self.handles.get(&handle).ok_or(StatusCode::Failure)?;
        let end = offset + data.len() as u64;
        let size = self.sizes.entry(path.clone()).or_insert(0);
        *size = (*size).max(end);
        self.written.fetch_add(data.len() as u64, Ordering::Relaxed);
        Ok(ok(id))
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, Self::Error> {
        self.handles.remove(&handle);
        Ok(ok(id))
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        let path = self.handles.get(&handle).ok_or(StatusCode::Failure)?;
        let attrs = self.attrs(path).ok_or(StatusCode::NoSuchFile)?;
        Ok(Attrs { id, attrs })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let attrs = self.attrs(&path).ok_or(StatusCode::NoSuchFile)?;
        Ok(Attrs { id, attrs })
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        self.stat(id, path).await
    }

    async fn setstat(
        &mut self,
        id: u32,
        _path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        Ok(ok(id))
    }

    async fn fsetstat(
        &mut self,
        id: u32,
        _handle: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        Ok(ok(id))
    }

    async fn remove(&mut self, id: u32, filename: String) -> Result<Status, Self::Error> {
        self.sizes.remove(&filename).ok_or(StatusCode::NoSuchFile)?;
        Ok(ok(id))
    }

    async fn rename(&mut self, id: u32, from: String, to: String) -> Result<Status, Self::Error> {
        let size = self.sizes.remove(&from).ok_or(StatusCode::NoSuchFile)?;
        self.sizes.insert(to, size);
        Ok(ok(id))
    }

    async fn extended(
        &mut self,
        id: u32,
        request: String,
        data: Vec<u8>,
    ) -> Result<russh_sftp::protocol::Packet, Self::Error> {
        match request.as_str() {
            "posix-rename@openssh.com" => {
                // Two SFTP strings: old path, new path.
                let mut rest = &data[..];
                let mut take = || -> Option<String> {
                    let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
                    let s = String::from_utf8(rest.get(4..4 + len)?.to_vec()).ok()?;
                    rest = &rest[4 + len..];
                    Some(s)
                };
                let (Some(from), Some(to)) = (take(), take()) else {
                    return Err(StatusCode::BadMessage);
                };
                let size = self.sizes.remove(&from).ok_or(StatusCode::NoSuchFile)?;
                self.sizes.insert(to, size);
                Ok(russh_sftp::protocol::Packet::Status(ok(id)))
            }
            _ => Err(StatusCode::OpUnsupported),
        }
    }
}
