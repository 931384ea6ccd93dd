//! One embedded SSH host: russh's server, running `exec` requests with the
//! local shell, and shells (or commands) on a PTY when one was requested.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use russh::keys::{PrivateKey, PublicKey};
use russh::server::{self, Auth, Msg, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::{DEMO_PASSWORD, DemoLogin};

pub struct DemoServer {
    config: Arc<server::Config>,
    client_key: PublicKey,
    login: DemoLogin,
    scratch: PathBuf,
    name: String,
}

impl DemoServer {
    pub fn new(
        host_key: PrivateKey,
        client_key: PublicKey,
        scratch: PathBuf,
        name: String,
        login: DemoLogin,
    ) -> Self {
        let config = server::Config {
            keys: vec![host_key],
            auth_rejection_time: std::time::Duration::from_millis(200),
            auth_rejection_time_initial: Some(std::time::Duration::ZERO),
            ..Default::default()
        };
        DemoServer {
            config: Arc::new(config),
            client_key,
            login,
            scratch,
            name,
        }
    }

    pub async fn serve(self, listener: TcpListener) {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let handler = Session_ {
                client_key: self.client_key.clone(),
                login: self.login,
                scratch: self.scratch.clone(),
                name: self.name.clone(),
                stdin: HashMap::new(),
                channels: HashMap::new(),
                ptys: HashMap::new(),
                shells: HashMap::new(),
                groups: HashMap::new(),
            };
            let config = self.config.clone();
            tokio::spawn(async move {
                if let Ok(running) = server::run_stream(config, stream, handler).await {
                    let _ = running.await;
                }
            });
        }
    }
}

/// Per-connection state: where each channel's stdin goes.
struct Session_ {
    client_key: PublicKey,
    login: DemoLogin,
    scratch: PathBuf,
    name: String,
    stdin: HashMap<ChannelId, mpsc::UnboundedSender<Option<Vec<u8>>>>,
    /// Session channels kept until we know what they are for (SFTP takes
    /// the channel itself as its byte stream).
    channels: HashMap<ChannelId, Channel<Msg>>,
    /// PTYs requested (term, cols, rows), not yet started.
    ptys: HashMap<ChannelId, (String, u16, u16)>,
    shells: HashMap<ChannelId, super::pty::PtyShell>,
    /// Each running command's process group (its own, so that killing it
    /// never reaches sshdeck, which the demo's hosts live in).
    groups: HashMap<ChannelId, i32>,
}

impl Session_ {
    /// `sh -c COMMAND` in the host's scratch directory, in its own
    /// process group (so a signal reaches the whole command).
    fn spawn_command(&self, command: &str) -> std::io::Result<tokio::process::Child> {
        tokio::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(&self.scratch)
            .env("HOME", &self.scratch)
            .env("SSHDECK_DEMO_HOST", &self.name)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0)
            .spawn()
    }

    /// Run `command` (a shell when None) on the channel's PTY.
    fn start_pty(
        &mut self,
        channel: ChannelId,
        command: Option<&str>,
        session: &mut Session,
    ) -> Result<(), russh::Error> {
        let Some(pty) = self.ptys.remove(&channel) else {
            return session.channel_failure(channel);
        };
        self.channels.remove(&channel);
        let started = super::pty::PtyShell::spawn(
            command,
            &pty,
            &self.scratch,
            &self.name,
            session.handle(),
            channel,
        );
        match started {
            Ok(shell) => {
                self.shells.insert(channel, shell);
                session.channel_success(channel)
            }
            Err(_) => session.channel_failure(channel),
        }
    }
}

impl Session_ {
    /// The demo's own key logs in only when the hosts were started for keys.
    fn accept_key_if(&self, matches: bool) -> Auth {
        if self.login == DemoLogin::Key && matches {
            Auth::Accept
        } else {
            self.reject()
        }
    }

    /// A refusal that names the one method these hosts take, so the client
    /// moves on to it (as sshd's AuthenticationMethods does).
    fn reject(&self) -> Auth {
        let mut methods = MethodSet::empty();
        methods.push(match self.login {
            DemoLogin::Key => MethodKind::PublicKey,
            DemoLogin::Password => MethodKind::Password,
            DemoLogin::KeyboardInteractive => MethodKind::KeyboardInteractive,
        });
        Auth::Reject {
            proceed_with_methods: Some(methods),
            partial_success: false,
        }
    }
}

impl server::Handler for Session_ {
    type Error = russh::Error;

    async fn auth_publickey_offered(
        &mut self,
        _user: &str,
        offer: server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(self.accept_key_if(offer.public_key.key_data() == self.client_key.key_data()))
    }

    async fn auth_publickey(
        &mut self,
        _user: &str,
        key: server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(self.accept_key_if(key.public_key.key_data() == self.client_key.key_data()))
    }

    async fn auth_password(&mut self, _user: &str, password: &str) -> Result<Auth, Self::Error> {
        Ok(
            if self.login == DemoLogin::Password && password == DEMO_PASSWORD {
                Auth::Accept
            } else {
                self.reject()
            },
        )
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        _user: &str,
        _submethods: &str,
        response: Option<server::Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        if self.login != DemoLogin::KeyboardInteractive {
            return Ok(self.reject());
        }
        Ok(match response {
            // One question, as a PAM password prompt asks it.
            None => Auth::Partial {
                name: format!("{} (sshdeck demo)", self.name).into(),
                instructions: format!("The demo password is \"{DEMO_PASSWORD}\".").into(),
                prompts: vec![("Password: ".into(), false)].into(),
            },
            Some(mut answers) => {
                let answer = answers.next().map(|b| b.as_ref().to_vec());
                if answer.as_deref() == Some(DEMO_PASSWORD.as_bytes()) && answers.next().is_none() {
                    Auth::Accept
                } else {
                    self.reject()
                }
            }
        })
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
                let handler = super::sftp::SftpHandler::new(self.scratch.clone());
                russh_sftp::server::run(ch.into_stream(), handler).await;
            }
            _ => session.channel_failure(channel)?,
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn pty_request(
        &mut self,
        channel: ChannelId,
        term: &str,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let clamp = |v: u32| u16::try_from(v).unwrap_or(u16::MAX).max(1);
        self.ptys.insert(
            channel,
            (term.to_string(), clamp(col_width), clamp(row_height)),
        );
        session.channel_success(channel)?;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.start_pty(channel, None, session)
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(shell) = self.shells.get(&channel) {
            let clamp = |v: u32| u16::try_from(v).unwrap_or(u16::MAX).max(1);
            shell.resize(clamp(col_width), clamp(row_height));
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
        if self.ptys.contains_key(&channel) {
            return self.start_pty(channel, Some(&command), session);
        }
        let child = self.spawn_command(&command);
        // The channel runs a command, not SFTP: we do not need it kept.
        self.channels.remove(&channel);
        let Ok(child) = child else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        session.channel_success(channel)?;
        if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
            self.groups.insert(channel, pid);
        }
        let handle = session.handle();
        let (tx, rx) = mpsc::unbounded_channel::<Option<Vec<u8>>>();
        self.stdin.insert(channel, tx);
        tokio::spawn(relay_command(child, rx, handle, channel));
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(tx) = self.stdin.get(&channel) {
            let _ = tx.send(Some(data.to_vec()));
        }
        if let Some(shell) = self.shells.get_mut(&channel) {
            shell.write(data);
        }
        Ok(())
    }

    /// The SSH signal request, answered as OpenSSH does: the command's
    /// whole process group gets it.
    async fn signal(
        &mut self,
        channel: ChannelId,
        signal: russh::Sig,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let sig = match signal {
            russh::Sig::TERM => libc::SIGTERM,
            russh::Sig::KILL => libc::SIGKILL,
            russh::Sig::INT => libc::SIGINT,
            russh::Sig::HUP => libc::SIGHUP,
            _ => return Ok(()),
        };
        if let Some(group) = self.groups.get(&channel).copied().filter(|g| *g > 1) {
            // SAFETY: killpg has no memory effects; the group is one this
            // server made for the command (never ours, never 0 or 1).
            unsafe {
                libc::killpg(group, sig);
            }
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(tx) = self.stdin.get(&channel) {
            let _ = tx.send(None);
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Dropping the sender ends the feeder; the child is killed on drop
        // of its task when the session goes away.
        self.stdin.remove(&channel);
        self.channels.remove(&channel);
        self.ptys.remove(&channel);
        self.shells.remove(&channel);
        self.groups.remove(&channel);
        Ok(())
    }
}

/// A command's life on its channel: client data to its stdin, its
/// stdout and stderr to the client, then its exit status, EOF and close.
async fn relay_command(
    mut child: tokio::process::Child,
    rx: mpsc::UnboundedReceiver<Option<Vec<u8>>>,
    handle: server::Handle,
    channel: ChannelId,
) {
    // Held here, not by the futures that use them, so the pipes stay open
    // until the command has been waited for.
    let mut stdin = child.stdin.take();
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out = pump(&mut stdout, &handle, channel, None);
    let err = pump(&mut stderr, &handle, channel, Some(1));
    tokio::select! {
        _ = async { tokio::join!(out, err) } => {}
        _ = feed_stdin(rx, &mut stdin) => {}
    }
    let status = child.wait().await.ok();
    report_exit(&handle, channel, status).await;
    let _ = handle.eof(channel).await;
    let _ = handle.close(channel).await;
}

/// Client data → stdin; None (EOF) closes it.
async fn feed_stdin(
    mut rx: mpsc::UnboundedReceiver<Option<Vec<u8>>>,
    stdin: &mut Option<tokio::process::ChildStdin>,
) {
    while let Some(msg) = rx.recv().await {
        match (msg, stdin.as_mut()) {
            (Some(bytes), Some(w)) => {
                let _ = w.write_all(&bytes).await;
            }
            _ => {
                *stdin = None;
            }
        }
    }
}

/// Copy one output of the command to the channel: as data, or as
/// extended data of type `ext` (1 = stderr), until EOF or the client is
/// gone.
async fn pump(
    reader: &mut Option<impl tokio::io::AsyncRead + Unpin>,
    handle: &server::Handle,
    channel: ChannelId,
    ext: Option<u32>,
) {
    let mut buf = vec![0u8; 32 * 1024];
    while let Some(r) = reader.as_mut() {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let bytes = buf[..n].to_vec();
                let sent = match ext {
                    None => handle.data(channel, bytes).await,
                    Some(code) => handle.extended_data(channel, code, bytes).await,
                };
                if sent.is_err() {
                    break;
                }
            }
        }
    }
}

/// As sshd does: a command killed by a signal says which, else its code.
async fn report_exit(
    handle: &server::Handle,
    channel: ChannelId,
    status: Option<std::process::ExitStatus>,
) {
    use std::os::unix::process::ExitStatusExt;
    match status.and_then(|s| s.signal()) {
        Some(sig) => {
            let name = signal_name(sig);
            let _ = handle
                .exit_signal_request(channel, name, false, String::new(), String::new())
                .await;
        }
        None => {
            let code = status.and_then(|s| s.code()).unwrap_or(255);
            let _ = handle.exit_status_request(channel, code as u32).await;
        }
    }
}

fn signal_name(sig: i32) -> russh::Sig {
    match sig {
        libc::SIGTERM => russh::Sig::TERM,
        libc::SIGKILL => russh::Sig::KILL,
        libc::SIGINT => russh::Sig::INT,
        libc::SIGHUP => russh::Sig::HUP,
        libc::SIGPIPE => russh::Sig::PIPE,
        _ => russh::Sig::Custom(sig.to_string()),
    }
}
