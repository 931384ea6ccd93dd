//! Pseudo-terminals for the demo hosts' shells: a local shell on the slave
//! side, its output read from the master and sent to the channel. Only the
//! demo uses this; real hosts run their own sshd.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use russh::ChannelId;
use russh::server::Handle;

/// A running shell on a PTY: input goes to `master`.
pub struct PtyShell {
    master: File,
    child: Child,
}

fn winsize(cols: u16, rows: u16) -> libc::winsize {
    libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

/// A new PTY of this size: (master, slave).
fn open_pty(cols: u16, rows: u16) -> std::io::Result<(OwnedFd, OwnedFd)> {
    let (mut m, mut s) = (0, 0);
    let ws = winsize(cols, rows);
    // SAFETY: openpty writes two descriptors into m and s; the other
    // pointers may be null, and ws lives across the call.
    let r = unsafe { libc::openpty(&mut m, &mut s, std::ptr::null_mut(), std::ptr::null(), &ws) };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors are fresh from openpty and owned here.
    Ok(unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) })
}

impl PtyShell {
    /// Start `command` (an interactive shell when None) on a new PTY in
    /// `dir`, and stream its output to `channel` until it exits.
    pub fn spawn(
        command: Option<&str>,
        (term, cols, rows): &(String, u16, u16),
        dir: &Path,
        host_name: &str,
        handle: Handle,
        channel: ChannelId,
    ) -> std::io::Result<PtyShell> {
        let (master, slave) = open_pty(*cols, *rows)?;
        let shell = if Path::new("/bin/bash").exists() {
            "/bin/bash"
        } else {
            "/bin/sh"
        };
        let mut cmd = Command::new(shell);
        match command {
            Some(c) => cmd.arg("-c").arg(c),
            None => cmd.arg("-i"),
        };
        cmd.current_dir(dir)
            .env("HOME", dir)
            .env("TERM", term.as_str())
            .env("SSHDECK_DEMO_HOST", host_name)
            .env("PS1", format!("{host_name}:\\w\\$ "))
            .stdin(Stdio::from(slave.try_clone()?))
            .stdout(Stdio::from(slave.try_clone()?))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec: a new
        // session, with the PTY (stdin) as its controlling terminal.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn()?;
        let master = File::from(master);
        let mut reader = master.try_clone()?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
        // Reads block, so they get a thread; the channel bounds what waits.
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match reader.read(&mut buf) {
                    // EIO once the shell and its children closed the slave.
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.blocking_send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let pid = child.id();
        tokio::spawn(async move {
            while let Some(chunk) = rx.recv().await {
                if handle.data(channel, chunk).await.is_err() {
                    break;
                }
            }
            let code = wait_exit(pid).await;
            let _ = handle.exit_status_request(channel, code).await;
            let _ = handle.eof(channel).await;
            let _ = handle.close(channel).await;
        });
        Ok(PtyShell { master, child })
    }

    pub fn write(&mut self, data: &[u8]) {
        let _ = self.master.write_all(data);
    }

    pub fn resize(&self, cols: u16, rows: u16) {
        let ws = winsize(cols, rows);
        // SAFETY: TIOCSWINSZ reads a winsize from the pointer, which lives
        // across the call; the descriptor is our open master.
        unsafe {
            libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ as _, &ws);
        }
    }
}

impl Drop for PtyShell {
    fn drop(&mut self) {
        // The channel closed: hang up, as a terminal going away does.
        // SAFETY: kill with a pid we spawned and have not reaped.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGHUP);
        }
    }
}

/// The shell's exit code, reaped without blocking the runtime.
async fn wait_exit(pid: u32) -> u32 {
    tokio::task::spawn_blocking(move || {
        let mut status = 0;
        // SAFETY: waitpid on our own child; status is a valid out pointer.
        let r = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) };
        if r > 0 && libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status) as u32
        } else {
            255
        }
    })
    .await
    .unwrap_or(255)
}
