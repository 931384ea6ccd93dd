//! `sshdeck demo`: SSH hosts embedded in this process, on 127.0.0.1, so a
//! newcomer can try everything with no servers. Each host has an ephemeral
//! host key trusted for this run only, accepts only an ephemeral client key
//! that never leaves memory, and runs commands with the local shell in its
//! own scratch directory.

mod pty;
mod server;
mod sftp;

use std::path::PathBuf;
use std::sync::Arc;

use russh::keys::{Algorithm, PrivateKey, PublicKey};
use tokio::net::TcpListener;

pub use server::DemoServer;

/// How the demo's hosts let the user in. Keys need nothing typed; the other
/// two let a newcomer try sshdeck's password and keyboard-interactive
/// prompts (asked once, reused for every host) with no real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoLogin {
    Key,
    Password,
    KeyboardInteractive,
}

/// The one password the demo's hosts take under `--login password` or
/// `--login keyboard-interactive`. It guards nothing: the hosts listen on
/// 127.0.0.1 for this process's life only.
pub const DEMO_PASSWORD: &str = "demo";

pub struct DemoHost {
    pub name: String,
    pub port: u16,
    pub host_key: PublicKey,
    pub scratch: PathBuf,
    pub tags: Vec<String>,
}

pub struct DemoFarm {
    pub hosts: Vec<DemoHost>,
    pub client_key: Arc<PrivateKey>,
    /// Removed when the farm is dropped.
    _root: tempfile::TempDir,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot create the demo's scratch directories: {0}")]
    Scratch(std::io::Error),
    #[error("cannot listen on 127.0.0.1: {0}")]
    Listen(std::io::Error),
    #[error("cannot make an ephemeral key: {0}")]
    Key(String),
}

fn random_key() -> Result<PrivateKey, DemoError> {
    PrivateKey::random(&mut russh::keys::key::safe_rng(), Algorithm::Ed25519)
        .map_err(|e| DemoError::Key(e.to_string()))
}

impl DemoFarm {
    /// Start `n` hosts. They serve until the farm is dropped and the
    /// runtime shuts down.
    pub async fn start(n: usize, login: DemoLogin) -> Result<DemoFarm, DemoError> {
        let root = tempfile::Builder::new()
            .prefix("sshdeck-demo-")
            .tempdir()
            .map_err(DemoError::Scratch)?;
        let client_key = Arc::new(random_key()?);
        let mut hosts = Vec::with_capacity(n);
        for i in 1..=n {
            let name = format!("demo{i:02}");
            let scratch = root.path().join(&name);
            std::fs::create_dir_all(&scratch).map_err(DemoError::Scratch)?;
            // A little content so `ls`, `cat` and the file browser have something.
            let _ = std::fs::write(
                scratch.join("README.txt"),
                format!("This is {name}, a demo host inside sshdeck.\n"),
            );
            let host_key = random_key()?;
            let public = host_key.public_key().clone();
            // Loopback only: the demo never listens on a routable address.
            let listener = TcpListener::bind(("127.0.0.1", 0))
                .await
                .map_err(DemoError::Listen)?;
            let port = listener.local_addr().map_err(DemoError::Listen)?.port();
            let server = DemoServer::new(
                host_key,
                client_key.public_key().clone(),
                scratch.clone(),
                name.clone(),
                login,
            );
            tokio::spawn(server.serve(listener));
            let tags = vec![if i % 3 == 0 {
                "db".to_string()
            } else {
                "web".to_string()
            }];
            hosts.push(DemoHost {
                name,
                port,
                host_key: public,
                scratch,
                tags,
            });
        }
        Ok(DemoFarm {
            hosts,
            client_key,
            _root: root,
        })
    }
}
