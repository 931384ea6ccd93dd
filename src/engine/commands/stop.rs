//! Stopping a command on its host, not just hanging up on it.
//!
//! Closing an exec channel leaves a command without a terminal running:
//! sshd does not kill it. So a stop (cancel, timeout, quit, a signal to
//! sshdeck) asks twice, in two ways at once:
//! - the SSH `signal` request, TERM then KILL. OpenSSH answers it with
//!   `killpg` on the command's process group, but refuses it for root logins
//!   (no privilege separation after authentication), forced commands and
//!   subsystems, and says nothing when it refuses;
//! - `kill` of the command's process group over a second channel. Every
//!   command line starts with [`REPORT_GROUP`], which prints the group's id
//!   as the first bytes of its output; [`GroupSniffer`] takes it out before
//!   anything else sees the output.
//!
//! A stop is confirmed only by the channel closing: sshd closes it once the
//! command has exited and nothing holds its output any more. Anything else
//! is reported as "may still be running", with why.

use std::sync::Arc;
use std::time::Duration;

use russh::Sig;

use crate::engine::connection::ssh::Connection;
use crate::engine::error::NotStopped;

/// How long a command gets to end after TERM before KILL, and after KILL
/// before it is reported as possibly still running. Both together stay
/// well under five seconds.
pub(crate) const TERM_GRACE: Duration = Duration::from_millis(1500);
pub(crate) const KILL_GRACE: Duration = Duration::from_millis(1500);

/// The longest a kill over the second channel may take to be sent.
const KILL_SEND: Duration = Duration::from_secs(1);

/// Put before every command line. `sh -c` reads its parent's pid: the
/// user's shell that runs the command line, which sshd made the leader of
/// a new session, so its pid is the command's process group. Written in
/// single quotes and run by `sh`, it reads the same in bash, zsh, dash,
/// fish and csh, whichever the user's login shell is.
pub const REPORT_GROUP: &str = "sh -c 'printf \"\\036sshdeck-pgid %s\\036\\n\" \"$PPID\"'; ";

/// What the report starts with, and its longest possible length.
const MARK: &[u8] = b"\x1esshdeck-pgid ";
const MAX_REPORT: usize = MARK.len() + 20 + 3;

/// Takes the process group report out of the head of a command's output.
/// Only the first bytes of the stream can be the report: a command cannot
/// forge one later, and a host that never sends one (not a shell, a forced
/// command) has its output passed on at the first byte that differs.
#[derive(Debug, Default)]
pub(crate) struct GroupSniffer {
    held: Vec<u8>,
    done: bool,
    group: Option<u32>,
}

impl GroupSniffer {
    /// The process group, once reported.
    pub fn group(&self) -> Option<u32> {
        self.group
    }

    /// Feed a chunk of output; returns what is to be shown of it.
    pub fn feed(&mut self, data: bytes::Bytes) -> bytes::Bytes {
        if self.done {
            return data;
        }
        self.held.extend_from_slice(&data);
        let n = self.held.len().min(MARK.len());
        if self.held[..n] != MARK[..n] {
            return self.give_up();
        }
        if self.held.len() < MARK.len() {
            return bytes::Bytes::new();
        }
        let rest = &self.held[MARK.len()..];
        let Some(end) = rest.iter().position(|b| *b == 0x1e) else {
            if self.held.len() > MAX_REPORT || !rest.iter().all(u8::is_ascii_digit) {
                return self.give_up();
            }
            return bytes::Bytes::new();
        };
        let digits = &rest[..end];
        let after = &rest[end + 1..];
        // A terminal turns the newline into CR LF.
        let eol = if after.starts_with(b"\r\n") {
            2
        } else if after.starts_with(b"\n") {
            1
        } else if after.is_empty() || after == b"\r" {
            return bytes::Bytes::new();
        } else {
            return self.give_up();
        };
        let Some(group) = parse_group(digits) else {
            return self.give_up();
        };
        self.group = Some(group);
        self.done = true;
        let shown = bytes::Bytes::copy_from_slice(&after[eol..]);
        self.held = Vec::new();
        shown
    }

    /// The stream ended (or stops): whatever was held back is output.
    pub fn flush(&mut self) -> bytes::Bytes {
        if self.done {
            return bytes::Bytes::new();
        }
        self.give_up()
    }

    fn give_up(&mut self) -> bytes::Bytes {
        self.done = true;
        bytes::Bytes::from(std::mem::take(&mut self.held))
    }
}

/// A group id worth killing: digits only, and never 0 or 1, since
/// `kill -- -1` would reach every process the user owns.
fn parse_group(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u32 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    (n > 1).then_some(n)
}

/// The command line that signals a process group; digits only reach it.
pub(crate) fn kill_line(group: u32, sig: &Sig) -> String {
    let name = match sig {
        Sig::KILL => "KILL",
        _ => "TERM",
    };
    // No redirection: csh would read `2>` differently, and nobody reads
    // this channel's output anyway.
    format!("sh -c 'kill -s {name} -- -{group}'")
}

/// Signal the command's process group over a second channel of the same
/// connection. Best effort: the group may have gone already, and the stop
/// is judged by the first channel closing, not by this.
pub(crate) async fn kill_group(conn: Arc<Connection>, group: u32, sig: Sig) {
    let line = kill_line(group, &sig);
    let send = async {
        let Ok(mut channel) = conn.handle.channel_open_session().await else {
            return;
        };
        if channel.exec(true, line.as_bytes()).await.is_err() {
            return;
        }
        // Wait for it to be done, so KILL never overtakes TERM.
        while let Some(msg) = channel.wait().await {
            if matches!(msg, russh::ChannelMsg::Close) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(KILL_SEND, send).await;
}

/// Output that arrives while stopping is kept up to this much, then dropped.
const KEEP_WHILE_STOPPING: usize = 1 << 20;

/// What came on the channel while it was being stopped.
#[derive(Debug, Default)]
pub(crate) struct Tail {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub status: Option<russh::ChannelMsg>,
}

/// Stop the command on `channel`: TERM, then KILL, each by the SSH signal
/// request and, when its process group is known, by `kill` over a second
/// channel. A stop right after the start may come before the group's
/// report: `group` goes on reading the output meanwhile, and the group is
/// signalled as soon as it is reported (the SSH signal alone does nothing
/// for a root login). Only the channel closing proves the stop. The
/// channel is closed on our side in any case.
pub(crate) async fn stop_channel(
    channel: &mut russh::Channel<russh::client::Msg>,
    group: &mut GroupSniffer,
    conn: Option<Arc<Connection>>,
) -> (Result<(), NotStopped>, Tail) {
    let mut tail = Tail::default();
    let mut verdict = None;
    let signal_group = |group: Option<u32>, sig: Sig| {
        if let (Some(g), Some(conn)) = (group, conn.clone()) {
            tokio::spawn(kill_group(conn, g, sig));
        }
    };
    for (sig, grace) in [(Sig::TERM, TERM_GRACE), (Sig::KILL, KILL_GRACE)] {
        let _ = channel.signal(sig.clone()).await;
        signal_group(group.group(), sig.clone());
        let until = tokio::time::Instant::now() + grace;
        verdict = loop {
            let Ok(msg) = tokio::time::timeout_at(until, channel.wait()).await else {
                break None;
            };
            match msg {
                Some(russh::ChannelMsg::Close) => break Some(Ok(())),
                None => break Some(Err(NotStopped::ConnectionLost)),
                Some(
                    m @ (russh::ChannelMsg::ExitStatus { .. }
                    | russh::ChannelMsg::ExitSignal { .. }),
                ) => tail.status = Some(m),
                Some(russh::ChannelMsg::Data { data }) => {
                    let known = group.group().is_some();
                    let shown = group.feed(data);
                    if !known {
                        signal_group(group.group(), sig.clone());
                    }
                    keep(&mut tail.stdout, &shown)
                }
                Some(russh::ChannelMsg::ExtendedData { data, ext: 1 }) => {
                    keep(&mut tail.stderr, &data)
                }
                Some(_) => {}
            }
        };
        if verdict.is_some() {
            break;
        }
    }
    let _ = channel.close().await;
    let held = group.flush();
    keep(&mut tail.stdout, &held);
    let verdict = match verdict {
        Some(v) => v,
        None if tail.status.is_some() => Err(NotStopped::OutputHeld),
        None if group.group().is_some() => Err(NotStopped::SurvivedKill),
        None => Err(NotStopped::SignalIgnored),
    };
    (verdict, tail)
}

fn keep(into: &mut Vec<u8>, data: &[u8]) {
    let room = KEEP_WHILE_STOPPING.saturating_sub(into.len());
    into.extend_from_slice(&data[..data.len().min(room)]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(s: &mut GroupSniffer, chunks: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for c in chunks {
            out.extend_from_slice(&s.feed(bytes::Bytes::copy_from_slice(c)));
        }
        out.extend_from_slice(&s.flush());
        out
    }

    #[test]
    fn the_report_is_taken_out_and_the_rest_shown() {
        let mut s = GroupSniffer::default();
        let out = feed_all(&mut s, &[b"\x1esshdeck-pgid 4242\x1e\nhello\n"]);
        assert_eq!(out, b"hello\n");
        assert_eq!(s.group(), Some(4242));
    }

    #[test]
    fn a_report_split_across_chunks_and_a_terminal_newline() {
        let mut s = GroupSniffer::default();
        let out = feed_all(&mut s, &[b"\x1essh", b"deck-pgid 77", b"\x1e\r", b"\nok"]);
        assert_eq!(out, b"ok");
        assert_eq!(s.group(), Some(77));
    }

    #[test]
    fn output_without_a_report_passes_untouched() {
        let mut s = GroupSniffer::default();
        assert_eq!(feed_all(&mut s, &[b"plain", b" output"]), b"plain output");
        assert_eq!(s.group(), None);
        let mut s = GroupSniffer::default();
        // Starts like the report, then is not one.
        assert_eq!(
            feed_all(&mut s, &[b"\x1esshdeck-pgid 12x\x1e\n"]),
            b"\x1esshdeck-pgid 12x\x1e\n"
        );
        assert_eq!(s.group(), None);
    }

    #[test]
    fn a_later_report_is_output_not_a_group() {
        let mut s = GroupSniffer::default();
        let out = feed_all(&mut s, &[b"x", b"\x1esshdeck-pgid 99\x1e\n"]);
        assert_eq!(out, b"x\x1esshdeck-pgid 99\x1e\n");
        assert_eq!(s.group(), None);
    }

    #[test]
    fn groups_zero_and_one_and_overlong_ids_are_refused() {
        for bad in [&b"0"[..], b"1", b"99999999999", b""] {
            assert_eq!(parse_group(bad), None, "{bad:?}");
        }
        assert_eq!(parse_group(b"2"), Some(2));
        let mut s = GroupSniffer::default();
        let out = feed_all(&mut s, &[b"\x1esshdeck-pgid 1\x1e\n"]);
        assert_eq!(s.group(), None);
        assert_eq!(out, b"\x1esshdeck-pgid 1\x1e\n");
    }

    #[test]
    fn an_endless_digit_run_is_not_held_forever() {
        let mut s = GroupSniffer::default();
        let long = [b'7'; 64];
        let mut out = s
            .feed(bytes::Bytes::from_static(b"\x1esshdeck-pgid "))
            .to_vec();
        out.extend_from_slice(&s.feed(bytes::Bytes::copy_from_slice(&long)));
        assert!(!out.is_empty(), "held past the longest report");
    }

    #[test]
    fn the_kill_line_names_only_the_group() {
        assert_eq!(kill_line(4242, &Sig::TERM), "sh -c 'kill -s TERM -- -4242'");
        assert_eq!(kill_line(4242, &Sig::KILL), "sh -c 'kill -s KILL -- -4242'");
    }
}
