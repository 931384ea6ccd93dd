//! A farm of real OpenSSH `sshd` processes on loopback, for integration
//! tests and benchmarks. Each host runs as the current user on its own free
//! port with its own host key; the farm also writes a client key and a
//! known_hosts file that trusts every host. Everything stops on drop.
//!
//! A missing sshd is a hard failure, never a skip: `scripts/test` installs it.

#![allow(dead_code)]

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct FarmHost {
    pub port: u16,
    pub dir: PathBuf,
    pub log: PathBuf,
    pub host_key_pub: String,
    child: Option<Child>,
}

/// Variations of the farm for auth and trust tests.
#[derive(Debug, Clone, Default)]
pub struct FarmOptions {
    /// Encrypt the client key with this passphrase.
    pub key_passphrase: Option<String>,
    /// Let sshd accept passwords (for a user the test creates).
    pub password_auth: bool,
    /// Sign every host key with a CA (`ca_ed25519` in the farm root) and
    /// serve the certificate; principal 127.0.0.1.
    pub host_ca: bool,
    /// More host keys per host besides Ed25519 (`rsa`, `ecdsa`), served
    /// too; known_hosts still lists the Ed25519 one.
    pub extra_host_keys: Vec<&'static str>,
    /// Trust a user CA (`user_ca` in the farm root) instead of the client
    /// key: only a certificate it signed gets in. The client key's
    /// certificate is `client_ed25519-cert.pub` in `certs/`.
    pub user_ca: bool,
    /// Listen on `::1` too (known_hosts lists both addresses).
    pub ipv6: bool,
}

pub struct Farm {
    pub root: PathBuf,
    pub opts: FarmOptions,
    _tmp: Option<tempfile::TempDir>,
    pub hosts: Vec<FarmHost>,
    pub client_key: PathBuf,
    pub known_hosts: PathBuf,
    pub user: String,
    sshd: PathBuf,
    /// Ports handed to hosts so far. The kernel may offer a port again
    /// before the sshd it went to has bound it; with hundreds of hosts that
    /// happens, and the second sshd would die while the first answered
    /// for both.
    ports: std::collections::HashSet<u16>,
}

/// Where sshd lives: `$SSHD`, then the usual places, then PATH.
pub fn find_sshd() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SSHD") {
        return Some(p.into());
    }
    for p in ["/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd"] {
        if Path::new(p).exists() {
            return Some(p.into());
        }
    }
    let out = Command::new("sh")
        .args(["-c", "command -v sshd"])
        .output()
        .ok()?;
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!s.is_empty()).then(|| s.into())
}

fn run_ok(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn keygen(path: &Path) {
    keygen_with(path, "");
}

fn keygen_with(path: &Path, passphrase: &str) {
    run_ok(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", passphrase, "-C", "farm", "-f"])
            .arg(path),
        "ssh-keygen",
    );
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a loopback port")
}

/// A port with nothing listening (for "connection refused" tests).
pub fn closed_port() -> u16 {
    free_port()
}

impl FarmHost {
    /// Where this host's SFTP sessions start: relative remote paths land
    /// here, so hosts sharing this machine's disk do not collide.
    pub fn files(&self) -> PathBuf {
        self.dir.join("files")
    }
}

impl Farm {
    /// Start `n` hosts in a fresh temporary directory.
    pub fn start(n: usize) -> Farm {
        Farm::start_with(n, FarmOptions::default())
    }

    pub fn start_with(n: usize, opts: FarmOptions) -> Farm {
        let tmp = tempfile::Builder::new()
            .prefix("sshdeck-farm-")
            .tempdir()
            .expect("tempdir");
        let root = tmp.path().to_path_buf();
        let mut farm = Farm::start_in_with(&root, n, opts);
        farm._tmp = Some(tmp);
        farm
    }

    /// Start `n` hosts under `root` (kept after drop; used by benchmarks).
    pub fn start_in(root: &Path, n: usize) -> Farm {
        Farm::start_in_with(root, n, FarmOptions::default())
    }

    pub fn start_in_with(root: &Path, n: usize, opts: FarmOptions) -> Farm {
        let sshd = find_sshd().unwrap_or_else(|| {
            panic!(
                "sshd (OpenSSH server) is not installed. Run scripts/test, which installs \
                 openssh-server, or `apt-get install openssh-server`."
            )
        });
        std::fs::create_dir_all(root).expect("farm root");
        // Privilege separation needs this directory when sshd runs as root.
        if is_root() {
            let _ = std::fs::create_dir_all("/run/sshd");
        }
        std::fs::create_dir_all(root.join("remote-home")).expect("remote home");
        // First on the hosts' PATH: tests put stand-ins (a prompting sudo) here.
        std::fs::create_dir_all(root.join("bin")).expect("farm bin");
        let client_key = root.join("client_ed25519");
        if !client_key.exists() {
            keygen_with(&client_key, opts.key_passphrase.as_deref().unwrap_or(""));
        }
        let ca = root.join("ca_ed25519");
        if opts.host_ca && !ca.exists() {
            keygen(&ca);
        }
        let pubkey = std::fs::read_to_string(root.join("client_ed25519.pub")).expect("client pub");
        // With a user CA, no plain key is authorized: only certificates.
        let authorized = if opts.user_ca { String::new() } else { pubkey };
        std::fs::write(root.join("authorized_keys"), authorized).expect("authorized_keys");
        if opts.user_ca {
            let ca = root.join("user_ca");
            if !ca.exists() {
                keygen(&ca);
            }
            std::fs::create_dir_all(root.join("certs")).expect("certs dir");
            std::fs::copy(
                root.join("client_ed25519.pub"),
                root.join("certs/client_ed25519.pub"),
            )
            .expect("copy client pub");
            let user =
                String::from_utf8(Command::new("id").arg("-un").output().expect("id").stdout)
                    .expect("utf8")
                    .trim()
                    .to_string();
            run_ok(
                Command::new("ssh-keygen")
                    .args(["-q", "-s"])
                    .arg(&ca)
                    .args(["-I", "farm-user", "-n", &user])
                    .arg(root.join("certs/client_ed25519.pub")),
                "ssh-keygen -s (sign the client key)",
            );
        }
        let user = String::from_utf8(
            Command::new("id")
                .arg("-un")
                .output()
                .expect("id -un")
                .stdout,
        )
        .expect("utf8 user")
        .trim()
        .to_string();
        let mut farm = Farm {
            root: root.to_path_buf(),
            opts: opts.clone(),
            _tmp: None,
            hosts: Vec::with_capacity(n),
            client_key,
            known_hosts: root.join("known_hosts"),
            user,
            sshd,
            ports: Default::default(),
        };
        for i in 0..n {
            let dir = root.join(format!("host{i:03}"));
            std::fs::create_dir_all(dir.join("files")).expect("host dir");
            let key = dir.join("host_ed25519");
            if !key.exists() {
                keygen(&key);
                if opts.host_ca {
                    run_ok(
                        Command::new("ssh-keygen")
                            .args(["-q", "-s"])
                            .arg(&ca)
                            .args(["-I", &format!("host{i}"), "-h", "-n", "127.0.0.1"])
                            .arg(dir.join("host_ed25519.pub")),
                        "ssh-keygen -s (sign host key)",
                    );
                }
            }
            for ty in &opts.extra_host_keys {
                let extra = dir.join(format!("host_{ty}"));
                if !extra.exists() {
                    run_ok(
                        Command::new("ssh-keygen")
                            .args(["-q", "-t", ty, "-N", "", "-C", "farm", "-f"])
                            .arg(&extra),
                        "ssh-keygen (extra host key)",
                    );
                }
            }
            let host_key_pub = std::fs::read_to_string(dir.join("host_ed25519.pub"))
                .expect("host pub")
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
            farm.hosts.push(FarmHost {
                port: 0,
                log: dir.join("sshd.log"),
                dir,
                host_key_pub,
                child: None,
            });
        }
        for i in 0..n {
            farm.spawn(i);
        }
        for i in 0..n {
            farm.wait_ready(i);
        }
        farm.write_known_hosts();
        farm
    }

    /// Sessions get their own empty HOME (`SetEnv HOME=`): Debian's bash reads
    /// ~/.bashrc even for `ssh host cmd`, and a developer's bashrc (pyenv,
    /// nvm...) can cost 100 ms and 100 processes per command, which would
    /// drown what the tests and benchmarks measure in one machine's profile.
    fn write_config(&self, i: usize) -> PathBuf {
        let h = &self.hosts[i];
        let cfg = format!(
            "Port {port}\n\
             ListenAddress 127.0.0.1\n\
             {v6}\
             HostKey {key}\n\
             PidFile none\n\
             AuthorizedKeysFile {ak}\n\
             PubkeyAuthentication yes\n\
             PasswordAuthentication {pw}\n\
             KbdInteractiveAuthentication no\n\
             UsePAM no\n\
             StrictModes no\n\
             PermitRootLogin yes\n\
             MaxStartups 1000\n\
             MaxSessions 100\n\
             LogLevel VERBOSE\n\
             Subsystem sftp internal-sftp -d {files}\n\
             AcceptEnv *\n\
             SetEnv HOME={home} SSHDECK_FILES={files} PATH={bin}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin\n\
             {extra}{cert}{user_ca}",
            port = h.port,
            key = h.dir.join("host_ed25519").display(),
            ak = self.root.join("authorized_keys").display(),
            home = self.root.join("remote-home").display(),
            bin = self.root.join("bin").display(),
            files = h.files().display(),
            pw = if self.opts.password_auth { "yes" } else { "no" },
            v6 = if self.opts.ipv6 {
                "ListenAddress ::1\n"
            } else {
                ""
            },
            extra = self
                .opts
                .extra_host_keys
                .iter()
                .map(|ty| format!("HostKey {}\n", h.dir.join(format!("host_{ty}")).display()))
                .collect::<String>(),
            user_ca = if self.opts.user_ca {
                format!(
                    "TrustedUserCAKeys {}\n",
                    self.root.join("user_ca.pub").display()
                )
            } else {
                String::new()
            },
            cert = if self.opts.host_ca {
                format!(
                    "HostCertificate {}\n",
                    h.dir.join("host_ed25519-cert.pub").display()
                )
            } else {
                String::new()
            },
        );
        let path = h.dir.join("sshd_config");
        std::fs::write(&path, cfg).expect("sshd_config");
        path
    }

    fn spawn(&mut self, i: usize) {
        if self.hosts[i].port == 0 {
            self.hosts[i].port = loop {
                let p = free_port();
                if self.ports.insert(p) {
                    break p;
                }
            };
        }
        let cfg = self.write_config(i);
        let h = &mut self.hosts[i];
        let child = Command::new(&self.sshd)
            .arg("-D")
            .arg("-f")
            .arg(&cfg)
            .arg("-E")
            .arg(&h.log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.sshd.display()));
        h.child = Some(child);
    }

    /// Wait until host `i` answers with an SSH banner. If its port was taken
    /// in the meantime, move it to another port and try again.
    fn wait_ready(&mut self, i: usize) {
        for _attempt in 0..5 {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if banner_ok(self.hosts[i].port) {
                    return;
                }
                let exited = self.hosts[i]
                    .child
                    .as_mut()
                    .and_then(|c| c.try_wait().ok().flatten())
                    .is_some();
                if exited {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            self.kill(i);
            self.hosts[i].port = 0;
            self.spawn(i);
        }
        let log = std::fs::read_to_string(&self.hosts[i].log).unwrap_or_default();
        panic!("sshd for host {i} did not start; its log:\n{log}");
    }

    pub fn write_known_hosts(&self) {
        let text: String = self
            .hosts
            .iter()
            .map(|h| {
                let v6 = if self.opts.ipv6 {
                    format!("[::1]:{} {}\n", h.port, h.host_key_pub)
                } else {
                    String::new()
                };
                format!("[127.0.0.1]:{} {}\n{v6}", h.port, h.host_key_pub)
            })
            .collect();
        std::fs::write(&self.known_hosts, text).expect("known_hosts");
    }

    /// `user@127.0.0.1:port` for each host, comma-separated.
    pub fn host_list(&self) -> String {
        self.hosts
            .iter()
            .map(|h| format!("{}@127.0.0.1:{}", self.user, h.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Put an executable script on every host's PATH, ahead of the system's.
    pub fn install_tool(&self, name: &str, script: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.root.join("bin").join(name);
        std::fs::write(&path, script).expect("tool");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    /// `TYPE BASE64` of host `i`'s key of type `ty` (`ed25519`, or one of
    /// `extra_host_keys`).
    pub fn host_key_pub_of(&self, i: usize, ty: &str) -> String {
        std::fs::read_to_string(self.hosts[i].dir.join(format!("host_{ty}.pub")))
            .expect("host key of that type")
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn label(&self, i: usize) -> String {
        format!("{}@127.0.0.1:{}", self.user, self.hosts[i].port)
    }

    /// TCP connections sshd `i` has accepted so far, read from its own log.
    pub fn connections(&self, i: usize) -> usize {
        std::fs::read_to_string(&self.hosts[i].log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("Connection from 127.0.0.1"))
            .count()
    }

    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.hosts[i].child.take() {
            // sshd puts each connection in its own session (setsid), so the
            // process group is not enough: kill every descendant too, or
            // established sessions would outlive a "restart".
            for pid in descendants(c.id()) {
                // SAFETY: plain kill(2) on processes this farm started.
                unsafe {
                    libc::kill(pid as i32, libc::SIGKILL);
                }
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Restart host `i` on the same port with the same key.
    pub fn restart(&mut self, i: usize) {
        self.kill(i);
        self.spawn(i);
        self.wait_ready(i);
    }
}

/// Every process below `root`, read from /proc.
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of: Vec<(u32, u32)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            // Fields after the ")" that ends the command name: state, ppid, ...
            if let Some(ppid) = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok())
            {
                parent_of.push((pid, ppid));
            }
        }
    }
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for &(pid, ppid) in &parent_of {
            if ppid == p && !out.contains(&pid) {
                out.push(pid);
                frontier.push(pid);
            }
        }
    }
    out
}

fn banner_ok(port: u16) -> bool {
    let Ok(mut s) =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
    else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 8];
    matches!(s.read(&mut buf), Ok(n) if n >= 4 && &buf[..4] == b"SSH-")
}

impl Drop for Farm {
    fn drop(&mut self) {
        for i in 0..self.hosts.len() {
            self.kill(i);
        }
    }
}

impl Farm {
    /// Trust host `i`'s key on another loopback port too (a relay in front
    /// of it), by appending a known_hosts line.
    pub fn trust_port(&self, i: usize, port: u16) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.known_hosts)
            .expect("known_hosts");
        writeln!(f, "[127.0.0.1]:{port} {}", self.hosts[i].host_key_pub).expect("known_hosts");
    }
}
