//! Opening one authenticated SSH connection: TCP, handshake, host-key check,
//! authentication, all under one connect timeout.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::PublicKeyOrCertificate;
use tokio::net::TcpStream;

use super::auth::{Identities, authenticate};
use super::error::HostError;
use super::known_hosts::{self, KnownHosts, Verdict};
use super::target::Target;

/// russh calls back into this during the handshake.
pub(crate) struct ClientHandler {
    host: String,
    port: u16,
    known_hosts: Arc<KnownHosts>,
    /// Why we refused the key. russh only sees `false`, so the precise cause
    /// travels back through this slot to the caller.
    refusal: Arc<Mutex<Option<HostError>>>,
}

impl client::Handler for ClientHandler {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        offered: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        // A certificate whose CA we do not trust falls back to its plain key,
        // as OpenSSH does.
        let key = match offered {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(cert) => cert.public_key().clone().into(),
        };
        let name = known_hosts::lookup_name(&self.host, self.port);
        let refusal = match self.known_hosts.check(&self.host, self.port, &key) {
            Verdict::Trusted => return Ok(true),
            Verdict::Unknown => HostError::HostKeyUnknown {
                host: name,
                key_type: key.algorithm().as_str().to_string(),
                fingerprint: known_hosts::fingerprint(&key),
                files: self.known_hosts.files().to_vec(),
            },
            Verdict::Changed {
                file,
                line,
                expected_fingerprint,
            } => HostError::HostKeyChanged {
                host: name,
                file,
                line,
                expected: expected_fingerprint,
                offered: known_hosts::fingerprint(&key),
            },
            Verdict::Revoked { file, line } => HostError::HostKeyRevoked {
                host: name,
                fingerprint: known_hosts::fingerprint(&key),
                file,
                line,
            },
        };
        if let Ok(mut slot) = self.refusal.lock() {
            *slot = Some(refusal);
        }
        Ok(false)
    }
}

/// Everything a connection needs that is the same for every host.
pub(crate) struct ConnectContext {
    pub russh: Arc<client::Config>,
    pub known_hosts: Arc<KnownHosts>,
    pub identities: Arc<Identities>,
    pub connect_timeout: Duration,
}

pub(crate) type Connection = Handle<ClientHandler>;

pub(crate) async fn connect(ctx: &ConnectContext, t: &Target) -> Result<Connection, HostError> {
    let addr = display_addr(&t.host, t.port);
    match tokio::time::timeout(ctx.connect_timeout, connect_inner(ctx, t, &addr)).await {
        Ok(r) => r,
        Err(_) => Err(HostError::ConnectTimeout {
            addr,
            after: ctx.connect_timeout,
        }),
    }
}

async fn connect_inner(
    ctx: &ConnectContext,
    t: &Target,
    addr: &str,
) -> Result<Connection, HostError> {
    let addrs: Vec<_> = tokio::net::lookup_host((t.host.as_str(), t.port))
        .await
        .map_err(|e| HostError::Resolve {
            host: t.host.clone(),
            cause: e.to_string(),
        })?
        .collect();
    let mut last_err = None;
    let mut stream = None;
    for sa in addrs {
        match TcpStream::connect(sa).await {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last_err = Some(e),
        }
    }
    let stream = match (stream, last_err) {
        (Some(s), _) => s,
        (None, Some(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return Err(HostError::Refused { addr: addr.into() });
        }
        (None, e) => {
            return Err(HostError::Network {
                addr: addr.into(),
                cause: e.map_or_else(|| "no address found".into(), |e| e.to_string()),
            });
        }
    };
    // Interactive keystrokes and small command round trips matter more than
    // packet coalescing.
    let _ = stream.set_nodelay(true);

    let refusal = Arc::new(Mutex::new(None));
    let handler = ClientHandler {
        host: t.host.clone(),
        port: t.port,
        known_hosts: ctx.known_hosts.clone(),
        refusal: refusal.clone(),
    };
    let mut handle = match client::connect_stream(ctx.russh.clone(), stream, handler).await {
        Ok(h) => h,
        Err(e) => {
            let refused = refusal.lock().ok().and_then(|mut s| s.take());
            return Err(refused.unwrap_or_else(|| map_russh_error(&t.host, addr, e)));
        }
    };
    authenticate(&mut handle, &t.user, &t.host, &ctx.identities).await?;
    Ok(handle)
}

pub(crate) fn map_russh_error(host: &str, addr: &str, e: russh::Error) -> HostError {
    match e {
        russh::Error::IO(io) => HostError::Network {
            addr: addr.into(),
            cause: io.to_string(),
        },
        russh::Error::HUP | russh::Error::Disconnect => {
            HostError::Disconnected { host: host.into() }
        }
        other => HostError::Protocol {
            host: host.into(),
            cause: other.to_string(),
        },
    }
}

/// `host:port`, bracketing IPv6 literals so the port stays unambiguous.
pub fn display_addr(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}
