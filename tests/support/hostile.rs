//! A hostile SSH host for the test suite, built on russh's server (as the
//! demo hosts are). It serves, on demand, what a compromised machine would:
//! directory listings with traversal names and names holding `/`, symlinks
//! that change between runs, setuid and world-writable modes, sizes that
//! lie, escape sequences in its banner, keyboard-interactive texts, SFTP
//! error messages, exit-signal names and disconnect reasons, and a host
//! key of another type than the one pinned.
//!
//! Its files live in memory ([`Tree`]); the test changes them between
//! runs through [`Hostile::with`]. Checksum commands (`openssl dgst`,
//! `head -c N … | …`) are answered in-process from the same files, so
//! transfers verify against it like against any host.
//!
//! It runs on its own runtime thread, so blocking tests can drive the real
//! binary against it.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use russh::keys::{Algorithm, PrivateKey, PublicKey};
use russh::server::{self, Auth, Msg, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version,
};
use russh_sftp::server::StatusReply;
use sha2::{Digest, Sha256};

/// The escape-laden text a hostile host puts everywhere it can: a screen
/// clear, a clipboard write (OSC 52), a title change, and a bidi override.
pub const EVIL: &str = "\x1b[2J\x1b]52;c;cHduZWQ=\x07\x1b]0;pwned\x07\u{202e}";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Children by the names the listing gives (any string at all).
    Dir(Vec<String>),
    File {
        data: Vec<u8>,
        /// The size the host claims, when it lies.
        claimed: Option<u64>,
    },
    Link(String),
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub node: Node,
    pub mode: u32,
    pub mtime: u32,
}

/// Paths are the strings the client asks for, relative to the SFTP start
/// directory (a leading `/` is ignored): a child's path is `dir/name`
/// whatever the name holds, so a traversal name is servable.
#[derive(Debug, Clone, Default)]
pub struct Tree(pub BTreeMap<String, Entry>);

fn key(path: &str) -> String {
    let p = path.trim_start_matches('/');
    let p = p.strip_prefix("./").unwrap_or(p);
    match p.trim_end_matches('/') {
        "." => String::new(),
        p => p.to_string(),
    }
}

/// The start directory itself, listing the top-level entries.
fn root_entry(t: &Tree) -> Entry {
    Entry {
        node: Node::Dir(t.0.keys().filter(|k| !k.contains('/')).cloned().collect()),
        mode: 0o755,
        mtime: 1_700_000_000,
    }
}

impl Tree {
    pub fn dir(&mut self, path: &str, mode: u32) -> &mut Self {
        self.put(path, Node::Dir(Vec::new()), mode)
    }

    pub fn file(&mut self, path: &str, data: &[u8], mode: u32) -> &mut Self {
        self.put(
            path,
            Node::File {
                data: data.to_vec(),
                claimed: None,
            },
            mode,
        )
    }

    /// A file whose listed and `fstat` size is `claimed`, not its length.
    pub fn lying_file(&mut self, path: &str, data: &[u8], claimed: u64) -> &mut Self {
        self.put(
            path,
            Node::File {
                data: data.to_vec(),
                claimed: Some(claimed),
            },
            0o644,
        )
    }

    pub fn link(&mut self, path: &str, target: &str) -> &mut Self {
        self.put(path, Node::Link(target.into()), 0o777)
    }

    /// Add `path` as the child named by its last `/`-free part… or, for a
    /// hostile name, as `parent` + `/` + `name` given separately.
    pub fn put(&mut self, path: &str, node: Node, mode: u32) -> &mut Self {
        let k = key(path);
        let (parent, name) = match k.rsplit_once('/') {
            Some((p, n)) => (p.to_string(), n.to_string()),
            None => (String::new(), k.clone()),
        };
        self.put_named(&parent, &name, node, mode)
    }

    /// Add a child to `parent` under exactly `name` (it may hold `/`, be
    /// empty, `.` or `..`).
    pub fn put_named(&mut self, parent: &str, name: &str, node: Node, mode: u32) -> &mut Self {
        let parent = key(parent);
        let full = if parent.is_empty() {
            name.to_string()
        } else {
            format!("{parent}/{name}")
        };
        if !parent.is_empty()
            && let Some(Entry {
                node: Node::Dir(children),
                ..
            }) = self.0.get_mut(&parent)
        {
            children.push(name.to_string());
        }
        self.0.insert(
            full,
            Entry {
                node,
                mode,
                mtime: 1_700_000_000,
            },
        );
        self
    }

    /// Remove `path` (and whatever was under it) from the tree and its
    /// parent's listing.
    pub fn remove(&mut self, path: &str) -> &mut Self {
        let k = key(path);
        let under = format!("{k}/");
        self.0.retain(|p, _| p != &k && !p.starts_with(&under));
        if let Some((parent, name)) = k.rsplit_once('/')
            && let Some(Entry {
                node: Node::Dir(children),
                ..
            }) = self.0.get_mut(parent)
        {
            children.retain(|c| c != name);
        }
        self
    }

    fn get(&self, path: &str) -> Option<&Entry> {
        self.0.get(&key(path))
    }

    /// [`Self::get`], the start directory included.
    pub fn entry(&self, path: &str) -> Option<Entry> {
        let k = key(path);
        if k.is_empty() {
            return Some(root_entry(self));
        }
        self.0.get(&k).cloned()
    }

    pub fn data(&self, path: &str) -> Option<Vec<u8>> {
        match self.get(path) {
            Some(Entry {
                node: Node::File { data, .. },
                ..
            }) => Some(data.clone()),
            _ => None,
        }
    }
}

/// What the hostile host does beyond serving its tree.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Sent before authentication.
    pub banner: Option<String>,
    /// Only keyboard-interactive is accepted: (name, instructions,
    /// prompt, the answer it wants).
    pub kbd: Option<(String, String, String, String)>,
    /// `open` of a path ending in this fails with this message.
    pub open_error: Option<(String, String)>,
    /// Advertise posix-rename@openssh.com.
    pub posix_rename: bool,
    /// Refuse plain renames whose source is a part file.
    pub fail_part_rename: bool,
    /// Hash a range other than the start of a file wrongly: the host does
    /// not have what was sent.
    pub lie_about_later_parts: bool,
    /// Listing a directory whose path ends in this never ends: every
    /// READDIR answers a thousand new names, never EOF.
    pub endless_listing: Option<String>,
}

struct State {
    tree: Tree,
    behaviour: Behaviour,
}

pub struct Hostile {
    pub port: u16,
    /// `TYPE BASE64` of the host key, for known_hosts.
    pub host_key_line: String,
    state: Arc<Mutex<State>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Hostile {
    /// Start on a loopback port, accepting `client` (a public key file) and
    /// serving `tree`. The host key is Ed25519.
    pub fn start(client: &Path, tree: Tree, behaviour: Behaviour) -> Hostile {
        let client = russh::keys::load_public_key(client).expect("client public key");
        let host_key = PrivateKey::random(&mut russh::keys::key::safe_rng(), Algorithm::Ed25519)
            .expect("host key");
        let host_key_line = host_key
            .public_key()
            .to_openssh()
            .expect("openssh form")
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        let state = Arc::new(Mutex::new(State { tree, behaviour }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("hostile runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let config = Arc::new(server::Config {
                    keys: vec![host_key],
                    auth_rejection_time: std::time::Duration::from_millis(50),
                    auth_rejection_time_initial: Some(std::time::Duration::ZERO),
                    ..Default::default()
                });
                let serve = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let handler = Conn {
                            client: client.clone(),
                            state: st.clone(),
                            channels: HashMap::new(),
                        };
                        let config = config.clone();
                        tokio::spawn(async move {
                            if let Ok(run) = server::run_stream(config, stream, handler).await {
                                let _ = run.await;
                            }
                        });
                    }
                };
                tokio::select! {
                    _ = serve => {}
                    _ = stopped => {}
                }
            });
        });
        Hostile {
            port,
            host_key_line,
            state,
            _stop: stop,
        }
    }

    /// Change the files (or behaviour) between runs.
    pub fn with<T>(&self, f: impl FnOnce(&mut Tree, &mut Behaviour) -> T) -> T {
        let mut s = self.state.lock().unwrap();
        let State { tree, behaviour } = &mut *s;
        f(tree, behaviour)
    }

    /// A known_hosts file trusting this host's key.
    pub fn known_hosts(&self, path: &Path) -> PathBuf {
        std::fs::write(
            path,
            format!("[127.0.0.1]:{} {}\n", self.port, self.host_key_line),
        )
        .unwrap();
        path.to_path_buf()
    }
}

struct Conn {
    client: PublicKey,
    state: Arc<Mutex<State>>,
    channels: HashMap<ChannelId, Channel<Msg>>,
}

impl Conn {
    fn behaviour(&self) -> Behaviour {
        self.state.lock().unwrap().behaviour.clone()
    }

    /// Answer a command: checksums from the tree, and a few hostile acts.
    fn run(&self, command: &str) -> Reply {
        // `test -r 'path' && …`: the check, then the command.
        let command = match command.strip_prefix("test -r ") {
            Some(rest) => rest.split_once("&& ").map_or(rest, |(_, c)| c),
            None => command,
        };
        // Only the file a command names is looked at (a clone of the
        // whole tree would copy every file for every command).
        let data = |path: &str| self.state.lock().unwrap().tree.data(path);
        let quoted = |s: &str| {
            let start = s.find('\'')? + 1;
            let end = start + s[start..].find('\'')?;
            Some(s[start..end].to_string())
        };
        if let Some(rest) = command.strip_prefix("{ { dd iflag=skip_bytes skip=") {
            // `{ { dd … skip=FROM … && [head -c LEN |] …; } < 'path' || tail …; }`:
            // every range but the first starts so (the `tail` is a fallback
            // for hosts whose `dd` cannot seek by bytes).
            let number = |s: &str| s.split(' ').next().and_then(|n| n.parse::<usize>().ok());
            let from = number(rest).unwrap_or(0);
            let seek_form = rest.split(" || tail").next().unwrap_or(rest);
            let len = seek_form.split("head -c ").nth(1).and_then(number);
            let path = seek_form
                .split(" < ")
                .nth(1)
                .and_then(quoted)
                .unwrap_or_default();
            let lie = self.behaviour().lie_about_later_parts;
            return match data(&path) {
                Some(d) => {
                    let a = from.min(d.len());
                    let b = len.map_or(d.len(), |l| (a + l).min(d.len()));
                    let sum = if lie {
                        hex(b"not what you sent")
                    } else {
                        hex(&d[a..b])
                    };
                    Reply::out(format!("{sum} *stdin\n"))
                }
                None => Reply::fail(1, "no such file"),
            };
        }
        if let Some(rest) = command.strip_prefix("head -c ") {
            let n: usize = rest
                .split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let path = quoted(rest).unwrap_or_default();
            return match data(&path) {
                Some(d) => Reply::out(format!("{} *stdin\n", hex(&d[..n.min(d.len())]))),
                None => Reply::fail(1, "no such file"),
            };
        }
        if command.starts_with("openssl dgst") {
            let path = quoted(command).unwrap_or_default();
            return match data(&path) {
                Some(d) => Reply::out(format!("{} *{path}\n", hex(&d))),
                None => Reply::fail(1, "no such file"),
            };
        }
        match command {
            "die" => Reply::Signal(format!("{EVIL}KILL")),
            "err" => Reply::fail(3, &format!("{EVIL}boom\n")),
            "bye" => Reply::Disconnect(format!("{EVIL}goodbye")),
            _ => Reply::out("ok\n".into()),
        }
    }
}

fn hex(d: &[u8]) -> String {
    Sha256::digest(d)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

enum Reply {
    Exit {
        code: u32,
        stdout: String,
        stderr: String,
    },
    Signal(String),
    Disconnect(String),
}

impl Reply {
    fn out(s: String) -> Reply {
        Reply::Exit {
            code: 0,
            stdout: s,
            stderr: String::new(),
        }
    }

    fn fail(code: u32, err: &str) -> Reply {
        Reply::Exit {
            code,
            stdout: String::new(),
            stderr: err.into(),
        }
    }
}

impl server::Handler for Conn {
    type Error = russh::Error;

    async fn authentication_banner(&mut self) -> Result<Option<String>, Self::Error> {
        Ok(self.behaviour().banner)
    }

    async fn auth_publickey_offered(
        &mut self,
        _user: &str,
        offer: server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        let ok =
            self.behaviour().kbd.is_none() && offer.public_key.key_data() == self.client.key_data();
        Ok(if ok { Auth::Accept } else { self.reject() })
    }

    async fn auth_publickey(
        &mut self,
        _user: &str,
        key: server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let ok =
            self.behaviour().kbd.is_none() && key.public_key.key_data() == self.client.key_data();
        Ok(if ok { Auth::Accept } else { self.reject() })
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        _user: &str,
        _submethods: &str,
        response: Option<server::Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        let Some((name, instructions, prompt, answer)) = self.behaviour().kbd else {
            return Ok(self.reject());
        };
        match response {
            Some(r) => {
                let got: Vec<String> = r
                    .map(|b| String::from_utf8_lossy(b.as_ref()).into_owned())
                    .collect();
                Ok(if got == [answer] {
                    Auth::Accept
                } else {
                    self.reject()
                })
            }
            None => Ok(Auth::Partial {
                name: name.into(),
                instructions: instructions.into(),
                prompts: vec![(prompt.into(), false)].into(),
            }),
        }
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
                let handler = Sftp {
                    state: self.state.clone(),
                    handles: HashMap::new(),
                    next: 1,
                };
                tokio::spawn(russh_sftp::server::run(ch.into_stream(), handler));
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
        // Like a host whose shell never reports a process group: the
        // command is what follows sshdeck's report prefix.
        let command = command
            .strip_prefix(sshdeck::engine::commands::stop::REPORT_GROUP)
            .map(str::to_string)
            .unwrap_or(command);
        self.channels.remove(&channel);
        session.channel_success(channel)?;
        let handle = session.handle();
        let reply = self.run(&command);
        tokio::spawn(async move {
            match reply {
                Reply::Exit {
                    code,
                    stdout,
                    stderr,
                } => {
                    if !stdout.is_empty() {
                        let _ = handle.data(channel, stdout.into_bytes()).await;
                    }
                    if !stderr.is_empty() {
                        let _ = handle.extended_data(channel, 1, stderr.into_bytes()).await;
                    }
                    let _ = handle.exit_status_request(channel, code).await;
                }
                Reply::Signal(name) => {
                    let _ = handle
                        .exit_signal_request(
                            channel,
                            russh::Sig::Custom(name),
                            false,
                            EVIL.into(),
                            "en".into(),
                        )
                        .await;
                }
                Reply::Disconnect(why) => {
                    let _ = handle
                        .disconnect(russh::Disconnect::ByApplication, why, "en".into())
                        .await;
                    return;
                }
            }
            let _ = handle.eof(channel).await;
            let _ = handle.close(channel).await;
        });
        Ok(())
    }
}

impl Conn {
    fn reject(&self) -> Auth {
        let mut methods = MethodSet::empty();
        if self.behaviour().kbd.is_some() {
            methods.push(MethodKind::KeyboardInteractive);
        } else {
            methods.push(MethodKind::PublicKey);
        }
        Auth::Reject {
            proceed_with_methods: Some(methods),
            partial_success: false,
        }
    }
}

enum Open {
    File {
        path: String,
        write: bool,
    },
    Dir(Option<Vec<File>>),
    /// An endless listing, and how many names it has given so far.
    Endless(u64),
}

struct Sftp {
    state: Arc<Mutex<State>>,
    handles: HashMap<String, Open>,
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

fn no_such() -> StatusReply {
    StatusReply::new(StatusCode::NoSuchFile)
}

fn attrs_of(e: &Entry) -> FileAttributes {
    let (kind, size) = match &e.node {
        Node::Dir(_) => (0o040000, 4096),
        Node::File { data, claimed } => (0o100000, claimed.unwrap_or(data.len() as u64)),
        Node::Link(t) => (0o120000, t.len() as u64),
    };
    FileAttributes {
        size: Some(size),
        permissions: Some(kind | (e.mode & 0o7777)),
        mtime: Some(e.mtime),
        atime: Some(e.mtime),
        ..Default::default()
    }
}

impl Sftp {
    fn tree<T>(&self, f: impl FnOnce(&mut Tree) -> T) -> T {
        f(&mut self.state.lock().unwrap().tree)
    }

    fn handle(&mut self, open: Open) -> String {
        let h = format!("h{}", self.next);
        self.next += 1;
        self.handles.insert(h.clone(), open);
        h
    }

    /// Follow links for `stat`, a few hops at most.
    fn resolve(&self, path: &str) -> Option<Entry> {
        let mut p = key(path);
        for _ in 0..8 {
            let e = self.tree(|t| t.entry(&p))?;
            match &e.node {
                Node::Link(target) if !target.starts_with('/') => {
                    let parent = p.rsplit_once('/').map_or("", |(d, _)| d);
                    p = key(&format!("{parent}/{target}"));
                }
                Node::Link(_) => return None,
                _ => return Some(e),
            }
        }
        None
    }
}

impl russh_sftp::server::Handler for Sftp {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        StatusReply::new(StatusCode::OpUnsupported)
    }

    async fn init(
        &mut self,
        _version: u32,
        _extensions: HashMap<String, String>,
    ) -> Result<Version, Self::Error> {
        let mut v = Version::new();
        if self.state.lock().unwrap().behaviour.posix_rename {
            v.extensions
                .insert("posix-rename@openssh.com".into(), "1".into());
        }
        Ok(v)
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        let behaviour = self.state.lock().unwrap().behaviour.clone();
        if let Some((suffix, message)) = behaviour.open_error
            && filename.ends_with(&suffix)
        {
            return Err(StatusReply::new(StatusCode::Failure).with_message(message));
        }
        let write = pflags.contains(OpenFlags::WRITE);
        let exists = self.tree(|t| t.get(&filename).is_some());
        if !exists {
            if !pflags.contains(OpenFlags::CREATE) {
                return Err(no_such());
            }
            let mode = attrs.permissions.unwrap_or(0o644);
            self.tree(|t| {
                t.put(
                    &filename,
                    Node::File {
                        data: Vec::new(),
                        claimed: None,
                    },
                    mode,
                );
            });
        } else if pflags.contains(OpenFlags::TRUNCATE) {
            self.tree(|t| {
                if let Some(Entry {
                    node: Node::File { data, .. },
                    ..
                }) = t.0.get_mut(&key(&filename))
                {
                    data.clear();
                }
            });
        }
        Ok(Handle {
            id,
            handle: self.handle(Open::File {
                path: key(&filename),
                write,
            }),
        })
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, Self::Error> {
        self.handles.remove(&handle);
        Ok(ok(id))
    }

    async fn read(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        len: u32,
    ) -> Result<Data, Self::Error> {
        let Some(Open::File { path, .. }) = self.handles.get(&handle) else {
            return Err(StatusReply::new(StatusCode::Failure).with_message("bad handle"));
        };
        let data = self.tree(|t| t.data(path)).ok_or_else(no_such)?;
        let start = (offset as usize).min(data.len());
        let end = (start + len as usize).min(data.len());
        if start == end {
            return Err(StatusReply::new(StatusCode::Eof));
        }
        Ok(Data {
            id,
            data: data[start..end].to_vec(),
        })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        bytes: Vec<u8>,
    ) -> Result<Status, Self::Error> {
        let Some(Open::File { path, write: true }) = self.handles.get(&handle) else {
            return Err(StatusReply::new(StatusCode::PermissionDenied));
        };
        let path = path.clone();
        self.tree(|t| {
            if let Some(Entry {
                node: Node::File { data, .. },
                ..
            }) = t.0.get_mut(&path)
            {
                let end = offset as usize + bytes.len();
                if data.len() < end {
                    data.resize(end, 0);
                }
                data[offset as usize..end].copy_from_slice(&bytes);
            }
        });
        Ok(ok(id))
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let e = self.tree(|t| t.entry(&path)).ok_or_else(no_such)?;
        Ok(Attrs {
            id,
            attrs: attrs_of(&e),
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let e = self.resolve(&path).ok_or_else(no_such)?;
        Ok(Attrs {
            id,
            attrs: attrs_of(&e),
        })
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        let Some(Open::File { path, .. }) = self.handles.get(&handle) else {
            return Err(StatusReply::new(StatusCode::Failure).with_message("bad handle"));
        };
        let e = self.tree(|t| t.get(path).cloned()).ok_or_else(no_such)?;
        Ok(Attrs {
            id,
            attrs: attrs_of(&e),
        })
    }

    async fn setstat(
        &mut self,
        id: u32,
        path: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        self.tree(|t| {
            if let Some(e) = t.0.get_mut(&key(&path)) {
                if let Some(m) = attrs.permissions {
                    e.mode = m & 0o7777;
                }
                if let Some(m) = attrs.mtime {
                    e.mtime = m;
                }
            }
        });
        Ok(ok(id))
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, Self::Error> {
        let endless = self.state.lock().unwrap().behaviour.endless_listing.clone();
        if endless.is_some_and(|end| path.trim_end_matches('/').ends_with(&end)) {
            return Ok(Handle {
                id,
                handle: self.handle(Open::Endless(0)),
            });
        }
        let e = self.resolve(&path).ok_or_else(no_such)?;
        let Node::Dir(children) = &e.node else {
            return Err(StatusReply::new(StatusCode::Failure).with_message("not a directory"));
        };
        let base = key(&path);
        let files = self.tree(|t| {
            children
                .iter()
                .map(|name| {
                    let full = if base.is_empty() {
                        name.clone()
                    } else {
                        format!("{base}/{name}")
                    };
                    let attrs = t.get(&full).map(attrs_of).unwrap_or_default();
                    File::new(name.clone(), attrs)
                })
                .collect()
        });
        Ok(Handle {
            id,
            handle: self.handle(Open::Dir(Some(files))),
        })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        match self.handles.get_mut(&handle) {
            Some(Open::Dir(files)) => match files.take() {
                Some(files) => Ok(Name { id, files }),
                None => Err(StatusReply::new(StatusCode::Eof)),
            },
            Some(Open::Endless(given)) => {
                let from = *given;
                *given += 1000;
                let attrs = FileAttributes {
                    size: Some(1),
                    permissions: Some(0o100644),
                    ..Default::default()
                };
                let files = (from..from + 1000)
                    .map(|i| File::new(format!("flood-{i:012}"), attrs.clone()))
                    .collect();
                Ok(Name { id, files })
            }
            _ => Err(StatusReply::new(StatusCode::Failure).with_message("bad handle")),
        }
    }

    async fn remove(&mut self, id: u32, filename: String) -> Result<Status, Self::Error> {
        let there = self.tree(|t| t.get(&filename).is_some());
        if !there {
            return Err(no_such());
        }
        self.tree(|t| {
            t.remove(&filename);
        });
        Ok(ok(id))
    }

    async fn mkdir(
        &mut self,
        id: u32,
        path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        self.tree(|t| match t.entry(&path) {
            Some(_) => Err(StatusReply::new(StatusCode::Failure).with_message("exists")),
            None => {
                t.dir(&path, 0o755);
                Ok(ok(id))
            }
        })
    }

    async fn rmdir(&mut self, id: u32, path: String) -> Result<Status, Self::Error> {
        self.tree(|t| {
            t.remove(&path);
        });
        Ok(ok(id))
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        Ok(Name {
            id,
            files: vec![File::dummy(format!("/{}", key(&path)))],
        })
    }

    /// OpenSSH's argument order (the target first), as real clients send.
    async fn symlink(
        &mut self,
        id: u32,
        target: String,
        linkpath: String,
    ) -> Result<Status, Self::Error> {
        self.tree(|t| match t.entry(&linkpath) {
            Some(_) => Err(StatusReply::new(StatusCode::Failure).with_message("exists")),
            None => {
                t.link(&linkpath, &target);
                Ok(ok(id))
            }
        })
    }

    async fn rename(
        &mut self,
        id: u32,
        oldpath: String,
        newpath: String,
    ) -> Result<Status, Self::Error> {
        let fail = self.state.lock().unwrap().behaviour.fail_part_rename;
        if fail && oldpath.ends_with(".sshdeck-part") {
            return Err(
                StatusReply::new(StatusCode::Failure).with_message(format!("{EVIL}rename refused"))
            );
        }
        self.tree(|t| {
            if t.get(&newpath).is_some() {
                return Err(StatusReply::new(StatusCode::Failure).with_message("exists"));
            }
            let e = t.get(&oldpath).cloned().ok_or_else(no_such)?;
            t.remove(&oldpath);
            t.put(&newpath, e.node, e.mode);
            Ok(ok(id))
        })
    }

    async fn extended(
        &mut self,
        id: u32,
        request: String,
        data: Vec<u8>,
    ) -> Result<russh_sftp::protocol::Packet, Self::Error> {
        // posix-rename@openssh.com: two strings, replacing the target.
        let string = |at: usize| -> Option<(String, usize)> {
            let n = u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?) as usize;
            let s = String::from_utf8_lossy(data.get(at + 4..at + 4 + n)?).into_owned();
            Some((s, at + 4 + n))
        };
        if request != "posix-rename@openssh.com" {
            return Err(self.unimplemented());
        }
        let (from, next) = string(0).ok_or_else(no_such)?;
        let (to, _) = string(next).ok_or_else(no_such)?;
        self.tree(|t| {
            let e = t.get(&from).cloned().ok_or_else(no_such)?;
            t.remove(&from);
            t.remove(&to);
            t.put(&to, e.node, e.mode);
            Ok(russh_sftp::protocol::Packet::Status(ok(id)))
        })
    }

    async fn readlink(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        match self.tree(|t| t.get(&path).cloned()) {
            Some(Entry {
                node: Node::Link(target),
                ..
            }) => Ok(Name {
                id,
                files: vec![File::dummy(target)],
            }),
            _ => Err(no_such()),
        }
    }
}
