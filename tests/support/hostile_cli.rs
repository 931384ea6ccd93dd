//! The hostile host met through the real binary, as a user would meet
//! it: a temporary home that trusts only that host, and helpers to read
//! what the binary left behind.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::hostile::{Behaviour, Hostile, Tree};
use super::pty::output_within;
use super::sshdeck_bin;

pub const LIMIT: Duration = Duration::from_secs(60);

pub struct Setup {
    pub dir: tempfile::TempDir,
    pub key: PathBuf,
    pub kh: PathBuf,
    pub host: Hostile,
}

pub fn keygen(path: &Path, ty: &str) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", ty, "-N", "", "-C", "test", "-f"])
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ssh-keygen");
}

pub fn hostile(tree: Tree, behaviour: Behaviour) -> Setup {
    let dir = tempfile::Builder::new()
        .prefix("sshdeck-hostile-")
        .tempdir()
        .unwrap();
    let key = dir.path().join("client");
    keygen(&key, "ed25519");
    let host = Hostile::start(&key.with_extension("pub"), tree, behaviour);
    let kh = host.known_hosts(&dir.path().join("known_hosts"));
    Setup { dir, key, kh, host }
}

impl Setup {
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn label(&self) -> String {
        format!("tester@127.0.0.1:{}", self.host.port)
    }

    /// The real binary, away from the developer's files, trusting the host.
    pub fn sshdeck(&self) -> Command {
        let mut c = Command::new(sshdeck_bin());
        c.env("HOME", self.root())
            .env("XDG_CONFIG_HOME", self.root().join("xdg"))
            .env("XDG_STATE_HOME", self.root().join("state"))
            .env_remove("SSH_AUTH_SOCK")
            .args(["-F", "none", "--known-hosts"])
            .arg(&self.kh)
            .arg("-i")
            .arg(&self.key);
        c
    }

    pub fn batch(&self) -> Command {
        let mut c = self.sshdeck();
        c.arg("--batch");
        c
    }

    /// `sshdeck get [-r] ARGS… DEST`, returning the output.
    pub fn get(&self, args: &[&str], dest: &Path) -> std::process::Output {
        let mut c = self.batch();
        c.args(["get", "-H", &self.label()]).args(args).arg(dest);
        output_within(c, LIMIT)
    }

    /// Where `get` puts this host's files under `dest`.
    pub fn host_dir(&self, dest: &Path) -> PathBuf {
        dest.join(self.label())
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Every regular file and symlink under `root`, relative.
pub fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}
