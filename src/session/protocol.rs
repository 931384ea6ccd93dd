//! What crosses the session socket, and its codec. Every message is a
//! frame: a 4-byte big-endian length, then a 1-byte tag and the message's
//! fields (big-endian integers, length-prefixed UTF-8). A client may send
//! at most `MAX_FROM_CLIENT` bytes a message (a paste is cut into
//! several); the server at most `MAX_FROM_SERVER` (a whole screen).
//!
//! The decoder takes bytes from another process, so it is strict and
//! never panics: a length past the limit, an unknown tag, bad UTF-8 or
//! bytes left over are errors, and the peer that sent them is closed (the
//! server goes on). It is a fuzz target (`fuzz/fuzz_targets/session_protocol.rs`).

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers, MouseButton, MouseEvent,
    MouseEventKind,
};

/// Bumped on any change to the messages below: a client and a server of
/// different protocols refuse each other.
pub const PROTOCOL: u16 = 2;
/// The largest message a client may send.
pub const MAX_FROM_CLIENT: usize = 64 * 1024;
/// The largest message the server may send (a frame of a big screen).
pub const MAX_FROM_SERVER: usize = 32 * 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("a message of {len} bytes, past the limit of {limit}")]
    TooLong { len: usize, limit: usize },
    #[error("the message ends early")]
    Short,
    #[error("unknown message or field tag {0}")]
    Tag(u8),
    #[error("text that is not UTF-8")]
    Utf8,
    #[error("{0} bytes left over after the message")]
    Trailing(usize),
}

/// From a client to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMsg {
    /// The first message: who is speaking.
    Hello {
        protocol: u16,
        version: String,
    },
    /// Attach to `session` (created when `create` and missing), at this
    /// terminal size; a watcher (`read_only`) cannot type into hosts.
    Attach {
        session: String,
        create: bool,
        read_only: bool,
        size: (u16, u16),
    },
    /// A key, mouse event, paste or resize from the client's terminal.
    Input(Event),
    Detach,
    /// The $EDITOR the server asked for has exited: `error` says why it
    /// failed, empty when it exited cleanly.
    EditDone {
        error: String,
    },
    /// The client's screen was disturbed (it was suspended, or lent to
    /// $EDITOR): the next frame paints it all.
    Repaint,
    ListSessions,
    KillSession {
        name: String,
        force: bool,
    },
}

/// From the server to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMsg {
    Hello {
        protocol: u16,
        version: String,
    },
    /// The server will not serve this client, and why.
    Refused {
        reason: String,
    },
    /// Terminal output for this client's screen, written as it is.
    Frame(Vec<u8>),
    /// Run $EDITOR on this local file, then send `EditDone`.
    Edit {
        path: String,
    },
    /// Suspend the client as Ctrl-Z suspends a program (`fg` brings it
    /// back, and it asks for a `Repaint`); the session runs on.
    Suspend,
    /// The client is detached (the session goes on).
    Detached {
        why: String,
    },
    /// The session ended.
    Ended {
        why: String,
    },
    /// One line per session, for `sshdeck ls`.
    Sessions(Vec<String>),
}

/// A message with its length in front, ready to write.
fn framed(tag: u8, body: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = vec![0, 0, 0, 0, tag];
    body(&mut out);
    let len = u32::try_from(out.len() - 4).unwrap_or(u32::MAX);
    out[..4].copy_from_slice(&len.to_be_bytes());
    out
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&u32::try_from(b.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(b);
}

impl ClientMsg {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            ClientMsg::Hello { protocol, version } => framed(1, |o| {
                o.extend_from_slice(&protocol.to_be_bytes());
                put_str(o, version);
            }),
            ClientMsg::Attach {
                session,
                create,
                read_only,
                size,
            } => framed(2, |o| {
                put_str(o, session);
                o.push(u8::from(*create));
                o.push(u8::from(*read_only));
                o.extend_from_slice(&size.0.to_be_bytes());
                o.extend_from_slice(&size.1.to_be_bytes());
            }),
            ClientMsg::Input(ev) => framed(3, |o| put_event(o, ev)),
            ClientMsg::Detach => framed(4, |_| {}),
            ClientMsg::EditDone { error } => framed(5, |o| put_str(o, error)),
            ClientMsg::ListSessions => framed(6, |_| {}),
            ClientMsg::KillSession { name, force } => framed(7, |o| {
                put_str(o, name);
                o.push(u8::from(*force));
            }),
            ClientMsg::Repaint => framed(8, |_| {}),
        }
    }

    /// One message's body (after its length), whole.
    pub fn decode(body: &[u8]) -> Result<ClientMsg, DecodeError> {
        let mut r = WireReader(body);
        let msg = match r.u8()? {
            1 => ClientMsg::Hello {
                protocol: r.u16()?,
                version: r.string()?,
            },
            2 => ClientMsg::Attach {
                session: r.string()?,
                create: r.bool()?,
                read_only: r.bool()?,
                size: (r.u16()?, r.u16()?),
            },
            3 => ClientMsg::Input(r.event()?),
            4 => ClientMsg::Detach,
            5 => ClientMsg::EditDone { error: r.string()? },
            6 => ClientMsg::ListSessions,
            7 => ClientMsg::KillSession {
                name: r.string()?,
                force: r.bool()?,
            },
            8 => ClientMsg::Repaint,
            t => return Err(DecodeError::Tag(t)),
        };
        r.end()?;
        Ok(msg)
    }
}

impl ServerMsg {
    /// What kind of message this is, in words: for an answer that was not
    /// the one expected (never the message itself, which may be a frame).
    pub fn kind(&self) -> &'static str {
        match self {
            ServerMsg::Hello { .. } => "a greeting",
            ServerMsg::Refused { .. } => "a refusal",
            ServerMsg::Frame(_) => "a screen frame",
            ServerMsg::Edit { .. } => "an edit request",
            ServerMsg::Suspend => "a suspend request",
            ServerMsg::Detached { .. } => "a detach",
            ServerMsg::Ended { .. } => "the session's end",
            ServerMsg::Sessions(_) => "a session list",
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        match self {
            ServerMsg::Hello { protocol, version } => framed(1, |o| {
                o.extend_from_slice(&protocol.to_be_bytes());
                put_str(o, version);
            }),
            ServerMsg::Refused { reason } => framed(2, |o| put_str(o, reason)),
            ServerMsg::Frame(bytes) => framed(3, |o| put_bytes(o, bytes)),
            ServerMsg::Edit { path } => framed(4, |o| put_str(o, path)),
            ServerMsg::Detached { why } => framed(5, |o| put_str(o, why)),
            ServerMsg::Ended { why } => framed(6, |o| put_str(o, why)),
            ServerMsg::Sessions(lines) => framed(7, |o| {
                o.extend_from_slice(&u32::try_from(lines.len()).unwrap_or(0).to_be_bytes());
                lines.iter().for_each(|l| put_str(o, l));
            }),
            ServerMsg::Suspend => framed(8, |_| {}),
        }
    }

    pub fn decode(body: &[u8]) -> Result<ServerMsg, DecodeError> {
        let mut r = WireReader(body);
        let msg = match r.u8()? {
            1 => ServerMsg::Hello {
                protocol: r.u16()?,
                version: r.string()?,
            },
            2 => ServerMsg::Refused {
                reason: r.string()?,
            },
            3 => ServerMsg::Frame(r.bytes()?.to_vec()),
            4 => ServerMsg::Edit { path: r.string()? },
            5 => ServerMsg::Detached { why: r.string()? },
            6 => ServerMsg::Ended { why: r.string()? },
            7 => {
                let n = r.u32()?;
                // Each line takes at least its 4-byte length: a count
                // past what is left is a lie, not an allocation.
                if n as usize > r.0.len() / 4 {
                    return Err(DecodeError::Short);
                }
                let mut lines = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    lines.push(r.string()?);
                }
                ServerMsg::Sessions(lines)
            }
            8 => ServerMsg::Suspend,
            t => return Err(DecodeError::Tag(t)),
        };
        r.end()?;
        Ok(msg)
    }
}

/// Splits a byte stream into message bodies, never holding more than one
/// message past `limit`.
pub struct FrameReader {
    buf: Vec<u8>,
    limit: usize,
}

impl FrameReader {
    pub fn new(limit: usize) -> FrameReader {
        FrameReader {
            buf: Vec::new(),
            limit,
        }
    }

    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next whole message body, if one has arrived. A length past the
    /// limit is an error before any of the body is awaited.
    pub fn next_body(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        let Some(head) = self.buf.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        if len > self.limit {
            return Err(DecodeError::TooLong {
                len,
                limit: self.limit,
            });
        }
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        let body = self.buf[4..4 + len].to_vec();
        self.buf.drain(..4 + len);
        Ok(Some(body))
    }
}

fn put_event(o: &mut Vec<u8>, ev: &Event) {
    match ev {
        Event::Key(k) => {
            o.push(1);
            put_code(o, k.code);
            o.push(k.modifiers.bits());
            o.push(match k.kind {
                KeyEventKind::Press => 0,
                KeyEventKind::Repeat => 1,
                KeyEventKind::Release => 2,
            });
        }
        Event::Mouse(m) => {
            o.push(2);
            let (kind, button) = match m.kind {
                MouseEventKind::Down(b) => (0, b),
                MouseEventKind::Up(b) => (1, b),
                MouseEventKind::Drag(b) => (2, b),
                MouseEventKind::Moved => (3, MouseButton::Left),
                MouseEventKind::ScrollDown => (4, MouseButton::Left),
                MouseEventKind::ScrollUp => (5, MouseButton::Left),
                MouseEventKind::ScrollLeft => (6, MouseButton::Left),
                MouseEventKind::ScrollRight => (7, MouseButton::Left),
            };
            o.push(kind);
            o.push(match button {
                MouseButton::Left => 0,
                MouseButton::Right => 1,
                MouseButton::Middle => 2,
            });
            o.extend_from_slice(&m.column.to_be_bytes());
            o.extend_from_slice(&m.row.to_be_bytes());
            o.push(m.modifiers.bits());
        }
        Event::Paste(text) => {
            o.push(3);
            put_str(o, text);
        }
        Event::Resize(w, h) => {
            o.push(4);
            o.extend_from_slice(&w.to_be_bytes());
            o.extend_from_slice(&h.to_be_bytes());
        }
        // Focus changes are not sent; an empty paste stands in, so the
        // encoder stays total.
        Event::FocusGained | Event::FocusLost => {
            o.push(3);
            put_str(o, "");
        }
    }
}

/// Named keys, by their index on the wire.
const NAMED: &[KeyCode] = &[
    KeyCode::Backspace,
    KeyCode::Enter,
    KeyCode::Left,
    KeyCode::Right,
    KeyCode::Up,
    KeyCode::Down,
    KeyCode::Home,
    KeyCode::End,
    KeyCode::PageUp,
    KeyCode::PageDown,
    KeyCode::Tab,
    KeyCode::BackTab,
    KeyCode::Delete,
    KeyCode::Insert,
    KeyCode::Esc,
    KeyCode::Null,
];

fn put_code(o: &mut Vec<u8>, code: KeyCode) {
    match code {
        KeyCode::Char(c) => {
            o.push(0);
            o.extend_from_slice(&u32::from(c).to_be_bytes());
        }
        KeyCode::F(n) => {
            o.push(1);
            o.push(n);
        }
        other => {
            o.push(2);
            // Keys sshdeck has no use for (media keys, caps lock) travel
            // as Null, which nothing binds.
            let i = NAMED
                .iter()
                .position(|k| *k == other)
                .unwrap_or(NAMED.len() - 1);
            o.push(u8::try_from(i).unwrap_or(0));
        }
    }
}

struct WireReader<'a>(&'a [u8]);

impl WireReader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        if self.0.len() < n {
            return Err(DecodeError::Short);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            t => Err(DecodeError::Tag(t)),
        }
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn bytes(&mut self) -> Result<&[u8], DecodeError> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError::Utf8)
    }

    fn end(&self) -> Result<(), DecodeError> {
        match self.0.len() {
            0 => Ok(()),
            n => Err(DecodeError::Trailing(n)),
        }
    }

    fn modifiers(&mut self) -> Result<KeyModifiers, DecodeError> {
        let bits = self.u8()?;
        KeyModifiers::from_bits(bits).ok_or(DecodeError::Tag(bits))
    }

    fn code(&mut self) -> Result<KeyCode, DecodeError> {
        match self.u8()? {
            0 => char::from_u32(self.u32()?)
                .map(KeyCode::Char)
                .ok_or(DecodeError::Utf8),
            1 => Ok(KeyCode::F(self.u8()?)),
            2 => {
                let i = self.u8()?;
                NAMED
                    .get(usize::from(i))
                    .copied()
                    .ok_or(DecodeError::Tag(i))
            }
            t => Err(DecodeError::Tag(t)),
        }
    }

    fn event(&mut self) -> Result<Event, DecodeError> {
        match self.u8()? {
            1 => {
                let code = self.code()?;
                let modifiers = self.modifiers()?;
                let kind = match self.u8()? {
                    0 => KeyEventKind::Press,
                    1 => KeyEventKind::Repeat,
                    2 => KeyEventKind::Release,
                    t => return Err(DecodeError::Tag(t)),
                };
                Ok(Event::Key(KeyEvent {
                    code,
                    modifiers,
                    kind,
                    state: KeyEventState::NONE,
                }))
            }
            2 => {
                let kind = self.u8()?;
                let button = match self.u8()? {
                    0 => MouseButton::Left,
                    1 => MouseButton::Right,
                    2 => MouseButton::Middle,
                    t => return Err(DecodeError::Tag(t)),
                };
                // Only a press, release or drag has a button: any other
                // value would not encode back to these bytes.
                if kind >= 3 && button != MouseButton::Left {
                    return Err(DecodeError::Tag(kind));
                }
                let kind = match kind {
                    0 => MouseEventKind::Down(button),
                    1 => MouseEventKind::Up(button),
                    2 => MouseEventKind::Drag(button),
                    3 => MouseEventKind::Moved,
                    4 => MouseEventKind::ScrollDown,
                    5 => MouseEventKind::ScrollUp,
                    6 => MouseEventKind::ScrollLeft,
                    7 => MouseEventKind::ScrollRight,
                    t => return Err(DecodeError::Tag(t)),
                };
                Ok(Event::Mouse(MouseEvent {
                    kind,
                    column: self.u16()?,
                    row: self.u16()?,
                    modifiers: self.modifiers()?,
                }))
            }
            3 => Ok(Event::Paste(self.string()?)),
            4 => Ok(Event::Resize(self.u16()?, self.u16()?)),
            t => Err(DecodeError::Tag(t)),
        }
    }
}

/// Decode `data` as a stream of client messages, as the server would,
/// until the first error. For the fuzz target and its regression test:
/// whatever the bytes, this returns, and every message it accepts
/// encodes back to the same bytes.
pub fn check_client_stream(data: &[u8]) -> Result<usize, DecodeError> {
    let mut frames = FrameReader::new(MAX_FROM_CLIENT);
    frames.push(data);
    let mut n = 0;
    while let Some(body) = frames.next_body()? {
        let msg = ClientMsg::decode(&body)?;
        let again = msg.encode();
        assert_eq!(again[4..], body[..], "{msg:?} re-encodes differently");
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(msg: ClientMsg) {
        let bytes = msg.encode();
        let mut r = FrameReader::new(MAX_FROM_CLIENT);
        // Byte by byte: a message split anywhere still arrives whole.
        for b in &bytes {
            r.push(&[*b]);
        }
        let body = r.next_body().unwrap_or_else(|e| panic!("{e}"));
        let body = body.unwrap_or_else(|| panic!("no message from {bytes:?}"));
        assert_eq!(ClientMsg::decode(&body), Ok(msg));
    }

    #[test]
    fn every_client_message_round_trips() {
        round(ClientMsg::Hello {
            protocol: PROTOCOL,
            version: "0.1.0".into(),
        });
        round(ClientMsg::Attach {
            session: "upgrade".into(),
            create: true,
            read_only: false,
            size: (200, 60),
        });
        for code in [
            KeyCode::Char('é'),
            KeyCode::F(5),
            KeyCode::BackTab,
            KeyCode::Esc,
        ] {
            round(ClientMsg::Input(Event::Key(KeyEvent::new(
                code,
                KeyModifiers::CONTROL | KeyModifiers::SHIFT,
            ))));
        }
        round(ClientMsg::Input(Event::Mouse(MouseEvent {
            kind: MouseEventKind::Drag(MouseButton::Right),
            column: 300,
            row: 7,
            modifiers: KeyModifiers::ALT,
        })));
        round(ClientMsg::Input(Event::Paste("ls -l\n".into())));
        round(ClientMsg::Input(Event::Resize(80, 24)));
        round(ClientMsg::Detach);
        round(ClientMsg::EditDone {
            error: "vi: exited with 1".into(),
        });
        round(ClientMsg::Repaint);
        round(ClientMsg::KillSession {
            name: "x".into(),
            force: true,
        });
    }

    #[test]
    fn every_server_message_round_trips() {
        for msg in [
            ServerMsg::Hello {
                protocol: PROTOCOL,
                version: "0.1.0".into(),
            },
            ServerMsg::Refused {
                reason: "protocol 2".into(),
            },
            ServerMsg::Frame(b"\x1b[H hello".to_vec()),
            ServerMsg::Edit {
                path: "/tmp/x".into(),
            },
            ServerMsg::Sessions(vec!["a".into(), "b c".into()]),
            ServerMsg::Suspend,
            ServerMsg::Ended {
                why: "session 0 ended".into(),
            },
        ] {
            let bytes = msg.encode();
            assert_eq!(ServerMsg::decode(&bytes[4..]), Ok(msg));
        }
    }

    #[test]
    fn an_unexpected_answer_is_named_never_dumped() {
        let frame = ServerMsg::Frame(b"\x1b]0;title\x07".to_vec());
        assert_eq!(frame.kind(), "a screen frame");
        assert!(!frame.kind().contains('\x1b'));
    }

    #[test]
    fn bad_input_is_an_error_never_a_panic_or_an_allocation() {
        // A length past the limit fails before the body is awaited.
        let mut r = FrameReader::new(MAX_FROM_CLIENT);
        r.push(&u32::MAX.to_be_bytes());
        assert!(matches!(r.next_body(), Err(DecodeError::TooLong { .. })));
        assert_eq!(ClientMsg::decode(&[]), Err(DecodeError::Short));
        assert_eq!(ClientMsg::decode(&[99]), Err(DecodeError::Tag(99)));
        assert_eq!(ClientMsg::decode(&[4, 0]), Err(DecodeError::Trailing(1)));
        // A string that claims 4 GiB.
        assert_eq!(
            ClientMsg::decode(&[2, 0xff, 0xff, 0xff, 0xff]),
            Err(DecodeError::Short)
        );
        // Not UTF-8; not a char; a count of lines past the bytes.
        assert_eq!(
            ClientMsg::decode(&[3, 3, 0, 0, 0, 1, 0xff]),
            Err(DecodeError::Utf8)
        );
        assert_eq!(
            ClientMsg::decode(&[3, 1, 0, 0, 0xd8, 0, 0, 0, 0]),
            Err(DecodeError::Utf8)
        );
        assert_eq!(
            ServerMsg::decode(&[7, 0xff, 0xff, 0xff, 0xff]),
            Err(DecodeError::Short)
        );
        assert!(check_client_stream(&[0, 0, 0, 1, 4, 0, 0]).is_ok());
    }
}
