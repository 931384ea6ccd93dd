//! The ssh_config directives real setups use, each honoured by the real
//! binary against real sshd: ProxyCommand (and ProxyJump winning over it),
//! CertificateFile and `KEY-cert.pub`, IdentityAgent, Compression and -C,
//! HostKeyAlias, ServerAliveCountMax, ConnectionAttempts,
//! PreferredAuthentications, BatchMode, GlobalKnownHostsFile,
//! HashKnownHosts, and IPv6.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::farm::{Farm, FarmOptions};
use support::fault::FaultProxy;
use support::pty::{Pty, output_within};
use support::{sshdeck_bin, sshdeck_cmd};

const LIMIT: Duration = Duration::from_secs(60);

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Write `body` as the ssh_config; hosts are named in it.
fn ssh_config(farm: &Farm, body: &str) -> PathBuf {
    let p = farm.root.join(format!("ssh_config.{}", body.len()));
    std::fs::write(&p, body).unwrap();
    p
}

/// `sshdeck -F cfg ARGS`, kept away from the developer's files.
fn deck(farm: &Farm, cfg: &Path, args: &[&str]) -> Output {
    let mut c = sshdeck_cmd(farm);
    c.arg("-F").arg(cfg).args(args);
    output_within(c, LIMIT)
}

/// A Host block reaching farm host `i` as `name`.
fn host(farm: &Farm, name: &str, i: usize) -> String {
    format!(
        "Host {name}\n  HostName 127.0.0.1\n  Port {}\n  User {}\n",
        farm.hosts[i].port, farm.user
    )
}

/// Settings every block here shares: the farm's key and known_hosts.
fn common(farm: &Farm) -> String {
    format!(
        "Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  StrictHostKeyChecking yes\n",
        farm.client_key.display(),
        farm.known_hosts.display()
    )
}

#[test]
fn proxy_command_carries_the_connection_and_proxy_jump_wins_over_it() {
    let farm = Farm::start(2);
    // The classic setup: ssh -W through a gateway, with tokens.
    let via = format!(
        "ssh -i {key} -o UserKnownHostsFile={kh} -o StrictHostKeyChecking=yes -o BatchMode=yes \
         -p {gw} {user}@127.0.0.1 -W %h:%p",
        key = farm.client_key.display(),
        kh = farm.known_hosts.display(),
        gw = farm.hosts[0].port,
        user = farm.user
    );
    let cfg = ssh_config(
        &farm,
        &format!(
            "{}  ProxyCommand {via}\n{}  ProxyJump gw\n  ProxyCommand /bin/false\n{}{}",
            host(&farm, "behind", 1),
            host(&farm, "both", 1),
            host(&farm, "gw", 0),
            common(&farm)
        ),
    );
    let before = farm.connections(0);
    let out = deck(
        &farm,
        &cfg,
        &["run", "-H", "behind", "--", "echo via-command"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("behind: via-command"));
    assert_eq!(
        farm.connections(0) - before,
        1,
        "the command went through the gateway"
    );
    // ProxyJump first: the ProxyCommand after it is not used.
    let out = deck(&farm, &cfg, &["run", "-H", "both", "--", "echo via-jump"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(farm.connections(0) - before, 2);
    // A ProxyCommand that dies says so, with what it printed.
    let bad = ssh_config(
        &farm,
        &format!(
            "{}  ProxyCommand sh -c 'echo no route to %h >&2; exit 3'\n{}",
            host(&farm, "broken", 1),
            common(&farm)
        ),
    );
    let out = deck(&farm, &bad, &["run", "-H", "broken", "--", "true"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("ProxyCommand") && err.contains("no route to 127.0.0.1"),
        "{err}"
    );
}

#[test]
fn user_certificates_from_certificate_file_or_beside_the_key() {
    let farm = Farm::start_with(
        1,
        FarmOptions {
            user_ca: true,
            ..FarmOptions::default()
        },
    );
    let cert = farm.root.join("certs/client_ed25519-cert.pub");
    let base = format!("{}{}", host(&farm, "h", 0), common(&farm));
    // No certificate: the plain key is not authorized.
    let cfg = ssh_config(&farm, &base);
    let out = deck(&farm, &cfg, &["run", "-H", "h", "--", "true"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    // CertificateFile names it.
    let cfg = ssh_config(
        &farm,
        &format!("{base}  CertificateFile {}\n", cert.display()),
    );
    let out = deck(&farm, &cfg, &["run", "-H", "h", "--", "echo by-cert"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("h: by-cert"));
    // KEY-cert.pub beside the identity file is found on its own.
    let beside = PathBuf::from(format!("{}-cert.pub", farm.client_key.display()));
    std::fs::copy(&cert, &beside).unwrap();
    let cfg = ssh_config(&farm, &base);
    let out = deck(&farm, &cfg, &["run", "-H", "h", "--", "echo beside"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn identity_agent_picks_the_agent_or_none() {
    let farm = Farm::start(1);
    let sock = farm.root.join("agent.sock");
    let mut agent = Command::new("ssh-agent")
        .args(["-D", "-a"])
        .arg(&sock)
        .stdout(Stdio::null())
        .spawn()
        .expect("ssh-agent (openssh-client)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sock.exists() {
        assert!(Instant::now() < deadline, "ssh-agent did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let added = Command::new("ssh-add")
        .env("SSH_AUTH_SOCK", &sock)
        .arg(&farm.client_key)
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", text(&added.stderr));
    // No identity file at all: only the agent has the key.
    let kh = format!(
        "Host *\n  UserKnownHostsFile {}\n  StrictHostKeyChecking yes\n  IdentityFile /nonexistent/key\n",
        farm.known_hosts.display()
    );
    let with = |agent: &str| {
        ssh_config(
            &farm,
            &format!("{}  IdentityAgent {agent}\n{kh}", host(&farm, "h", 0)),
        )
    };
    let out = deck(
        &farm,
        &with(sock.to_str().unwrap()),
        &["run", "-H", "h", "--", "echo agent"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = deck(&farm, &with("none"), &["run", "-H", "h", "--", "true"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "IdentityAgent none still used an agent"
    );
    let mut c = sshdeck_cmd(&farm);
    c.env("SSH_AUTH_SOCK", &sock)
        .arg("-F")
        .arg(with("SSH_AUTH_SOCK"))
        .args(["run", "-H", "h", "--", "true"]);
    let out = output_within(c, LIMIT);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let _ = agent.kill();
    let _ = agent.wait();
}

/// Bytes a command's 4 MiB of output (`y` lines) costs on the wire,
/// through a relay that counts them.
fn wire_bytes(farm: &Farm, proxy: &FaultProxy, cfg_extra: &str, flags: &[&str]) -> u64 {
    let before = proxy.bytes_down();
    let cfg = ssh_config(
        farm,
        &format!(
            "Host z\n  HostName 127.0.0.1\n  Port {}\n  User {}\n{cfg_extra}{}",
            proxy.port,
            farm.user,
            common(farm)
        ),
    );
    let mut args: Vec<&str> = flags.to_vec();
    args.extend(["run", "-b", "-H", "z", "--", "yes | head -c 4194304"]);
    let out = deck(farm, &cfg, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    proxy.bytes_down() - before
}

#[test]
fn compression_from_ssh_config_or_dash_c_shrinks_what_crosses_the_wire() {
    let farm = Farm::start(1);
    let proxy = FaultProxy::start(farm.hosts[0].port);
    farm.trust_port(0, proxy.port);
    // Output that compresses well: 4 MiB of `y` lines.
    let plain = wire_bytes(&farm, &proxy, "", &[]);
    let zipped = wire_bytes(&farm, &proxy, "  Compression yes\n", &[]);
    let dash_c = wire_bytes(&farm, &proxy, "", &["-C"]);
    assert!(plain > 4 << 20, "{plain}");
    assert!(
        zipped < plain / 10,
        "Compression yes: {zipped} of {plain} bytes"
    );
    assert!(dash_c < plain / 10, "-C: {dash_c} of {plain} bytes");
}

#[test]
fn host_key_alias_global_known_hosts_and_hashed_saving() {
    let farm = Farm::start(1);
    let key = &farm.hosts[0].host_key_pub;
    let alias_kh = farm.root.join("alias_known_hosts");
    std::fs::write(&alias_kh, format!("myalias {key}\n")).unwrap();
    let empty = farm.root.join("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    let id = format!(
        "  IdentityFile {}\n  IdentitiesOnly yes\n  StrictHostKeyChecking yes\n",
        farm.client_key.display()
    );
    // Known only under the alias.
    let cfg = ssh_config(
        &farm,
        &format!(
            "{}  HostKeyAlias MyAlias\n  UserKnownHostsFile {}\n{id}",
            host(&farm, "h", 0),
            alias_kh.display()
        ),
    );
    let out = deck(&farm, &cfg, &["run", "-H", "h", "--", "echo alias"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let cfg = ssh_config(
        &farm,
        &format!(
            "{}  UserKnownHostsFile {}\n{id}",
            host(&farm, "h", 0),
            alias_kh.display()
        ),
    );
    let out = deck(&farm, &cfg, &["run", "-H", "h", "--", "true"]);
    assert_eq!(out.status.code(), Some(1), "trusted without the alias");
    // Known only in a GlobalKnownHostsFile.
    let global = farm.root.join("global_known_hosts");
    std::fs::write(
        &global,
        format!("[127.0.0.1]:{} {key}\n", farm.hosts[0].port),
    )
    .unwrap();
    let cfg = ssh_config(
        &farm,
        &format!(
            "{}  UserKnownHostsFile {}\n  GlobalKnownHostsFile {}\n{id}",
            host(&farm, "h", 0),
            empty.display(),
            global.display()
        ),
    );
    let out = deck(&farm, &cfg, &["run", "-H", "h", "--", "echo global"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // HashKnownHosts: a new key is saved hashed, and trusted next time.
    let fresh = farm.root.join("fresh_known_hosts");
    let cfg = ssh_config(
        &farm,
        &format!(
            "{}  UserKnownHostsFile {}\n  HashKnownHosts yes\n  StrictHostKeyChecking accept-new\n  IdentityFile {}\n",
            host(&farm, "h", 0),
            fresh.display(),
            farm.client_key.display()
        ),
    );
    let out = deck(&farm, &cfg, &["run", "-H", "h", "--", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let saved = std::fs::read_to_string(&fresh).unwrap();
    assert!(
        saved.starts_with("|1|") && !saved.contains("127.0.0.1"),
        "{saved}"
    );
    assert_eq!(saved.lines().count(), 1);
    let strict = cfg.with_extension("strict");
    std::fs::write(
        &strict,
        std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("accept-new", "yes"),
    )
    .unwrap();
    let out = deck(&farm, &strict, &["run", "-H", "h", "--", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn server_alive_count_max_gives_up_on_a_silent_host() {
    let farm = Farm::start(1);
    let proxy = FaultProxy::start(farm.hosts[0].port);
    farm.trust_port(0, proxy.port);
    let cfg = ssh_config(
        &farm,
        &format!(
            "Host s\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  ServerAliveInterval 1\n  ServerAliveCountMax 1\n{}",
            proxy.port,
            farm.user,
            common(&farm)
        ),
    );
    let mut c = sshdeck_cmd(&farm);
    c.arg("-F")
        .arg(&cfg)
        .args(["run", "-H", "s", "--", "echo started; sleep 60"]);
    let started = Instant::now();
    let child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    proxy.stall();
    let out = child.wait_with_output().unwrap();
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        took < Duration::from_secs(15),
        "gave up only after {took:?}"
    );
    assert!(text(&out.stderr).contains("s"), "{}", text(&out.stderr));
}

#[test]
fn connection_attempts_wait_for_a_host_that_comes_up() {
    let mut farm = Farm::start(1);
    farm.kill(0);
    let cfg = |n: u32| {
        ssh_config(
            &farm,
            &format!(
                "{}  ConnectionAttempts {n}\n{}",
                host(&farm, "late", 0),
                common(&farm)
            ),
        )
    };
    let (one, four) = (cfg(1), cfg(4));
    let out = deck(&farm, &one, &["run", "-H", "late", "--", "true"]);
    assert!(
        text(&out.stderr).contains("refused"),
        "{}",
        text(&out.stderr)
    );
    // Up again 1.5 s from now: the second or third attempt gets in.
    let mut c = sshdeck_cmd(&farm);
    c.arg("-F")
        .arg(&four)
        .args(["run", "-H", "late", "--", "echo up"]);
    let child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    farm.restart(0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("late: up"));
}

#[test]
fn preferred_authentications_and_batch_mode() {
    let farm = Farm::start(1);
    let cfg = |extra: &str| {
        ssh_config(
            &farm,
            &format!("{}{extra}{}", host(&farm, "h", 0), common(&farm)),
        )
    };
    // Only password allowed: the key is never offered.
    let out = deck(
        &farm,
        &cfg("  PreferredAuthentications password\n"),
        &["run", "-H", "h", "--", "true"],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("auth"), "{err}");
    let out = deck(
        &farm,
        &cfg("  PreferredAuthentications keyboard-interactive,publickey\n"),
        &["run", "-H", "h", "--", "true"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // BatchMode: an unknown host key is refused without a question, even
    // on a terminal.
    let empty = farm.root.join("nothing_known");
    std::fs::write(&empty, "").unwrap();
    let batch = ssh_config(
        &farm,
        &format!(
            "{}  BatchMode yes\n  UserKnownHostsFile {}\n  StrictHostKeyChecking ask\n  IdentityFile {}\n",
            host(&farm, "h", 0),
            empty.display(),
            farm.client_key.display()
        ),
    );
    let mut c = Command::new(sshdeck_bin());
    c.env("HOME", &farm.root)
        .env("XDG_CONFIG_HOME", farm.root.join("xdg"))
        .env_remove("SSH_AUTH_SOCK")
        .arg("-F")
        .arg(&batch)
        .args(["run", "-H", "h", "--", "true"]);
    let mut pty = Pty::spawn(c);
    assert_eq!(pty.wait(LIMIT), 1, "{}", pty.text());
    assert!(!pty.text().contains("Trust it?"), "{}", pty.text());
    assert!(pty.text().contains("batch mode"), "{}", pty.text());
}

#[test]
fn ipv6_addresses_reach_real_sshd_over_loopback() {
    let farm = Farm::start_with(
        1,
        FarmOptions {
            ipv6: true,
            ..FarmOptions::default()
        },
    );
    let port = farm.hosts[0].port;
    let mut c = sshdeck_cmd(&farm);
    c.arg("--known-hosts")
        .arg(&farm.known_hosts)
        .arg("-i")
        .arg(&farm.client_key)
        .args(["run", "-H"])
        .arg(format!("{}@[::1]:{port},[127.0.0.1]:{port}", farm.user))
        .args(["--", "echo ${SSH_CONNECTION%% *}"]);
    let out = output_within(c, LIMIT);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains(&format!("@[::1]:{port}: ::1")), "{s}");
    assert!(s.contains("127.0.0.1"), "{s}");
}
