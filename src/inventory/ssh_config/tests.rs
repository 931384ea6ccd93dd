use super::*;

fn cfg(text: &str) -> SshConfig {
    SshConfig::parse(Path::new("/cfg"), text).unwrap()
}

fn q(host: &str) -> Query {
    Query {
        host: host.into(),
        ..Query::default()
    }
}

#[test]
fn resolves_the_directives_we_honour() {
    let c = cfg(
        "Host web1\n  HostName 10.0.0.1\n  User deploy\n  Port 2222\n  IdentityFile /k/web\n  IdentitiesOnly yes\n  ProxyJump bastion,admin@gw:22\n  ConnectTimeout 7\n  ServerAliveInterval 15\n  UserKnownHostsFile /kh/a /kh/b\n  StrictHostKeyChecking accept-new\n\nHost *\n  User fallback\n  IdentityFile /k/all\n",
    );
    let r = c.resolve(&q("web1")).unwrap();
    assert_eq!(r.hostname, "10.0.0.1");
    assert_eq!((r.user.as_deref(), r.port), (Some("deploy"), Some(2222)));
    assert_eq!(r.identity_files, ["/k/web", "/k/all"]);
    assert!(r.identities_only);
    assert_eq!(r.proxy_jump.as_deref(), Some("bastion,admin@gw:22"));
    assert_eq!(r.connect_timeout, Some(7));
    assert_eq!(r.server_alive_interval, 15);
    assert_eq!(
        r.user_known_hosts.as_deref(),
        Some(&["/kh/a".to_string(), "/kh/b".to_string()][..])
    );
    assert_eq!(r.strict, Strict::AcceptNew);
    let other = c.resolve(&q("db9")).unwrap();
    assert_eq!(other.user.as_deref(), Some("fallback"));
    assert_eq!(other.hostname, "db9");
    assert_eq!(c.concrete_hosts(), ["web1"]);
}

#[test]
fn a_match_that_does_not_apply_changes_nothing() {
    let c = cfg(
        "Match host other\n  User wronguser\n  Port 1\nHost deck1\n  Port 23001\n  User deck1\n",
    );
    let r = c.resolve(&q("deck1")).unwrap();
    assert_eq!((r.user.as_deref(), r.port), (Some("deck1"), Some(23001)));
}

#[test]
fn command_line_values_come_first() {
    let c = cfg("Host h\n  User cfg\n  Port 2\n  ProxyCommand nc %h %p\n");
    let r = c
        .resolve(&Query {
            host: "h".into(),
            user: Some("cli".into()),
            port: Some(9),
            jump: Some("j".into()),
        })
        .unwrap();
    assert_eq!((r.user.as_deref(), r.port), (Some("cli"), Some(9)));
    assert_eq!(
        (r.proxy_jump.as_deref(), r.proxy_command.as_deref()),
        (Some("j"), None)
    );
}

#[test]
fn proxy_command_tokens_and_first_of_jump_or_command() {
    let c = cfg("Host a\n  ProxyCommand ssh -W %h:%p gw # not a comment\nHost *\n  ProxyJump j\n");
    let r = c.resolve(&q("a")).unwrap();
    assert_eq!(r.proxy_jump, None);
    assert_eq!(
        r.proxy_command_line().unwrap().unwrap(),
        "ssh -W a:22 gw # not a comment"
    );
    let r = c.resolve(&q("b")).unwrap();
    assert_eq!(
        (r.proxy_jump.as_deref(), r.proxy_command.as_deref()),
        (Some("j"), None)
    );
}

#[test]
fn include_is_followed_relative_to_dot_ssh() {
    let dir = tempfile::tempdir().unwrap();
    let inc = dir.path().join("extra.conf");
    std::fs::write(&inc, "Host db1\n  HostName 10.9.9.9\n").unwrap();
    let p = dir.path().join("config");
    std::fs::write(
        &p,
        format!("Include {}\n\nHost web1\n  HostName w\n", inc.display()),
    )
    .unwrap();
    let c = SshConfig::load(Some(&p), None).unwrap();
    assert_eq!(c.resolve(&q("db1")).unwrap().hostname, "10.9.9.9");
    assert!(c.concrete_hosts().contains(&"db1".to_string()));
}

#[test]
fn missing_default_file_is_fine_but_named_file_is_not() {
    assert!(SshConfig::load(None, Some(Path::new("/nonexistent/cfg"))).is_ok());
    assert!(SshConfig::load(Some(Path::new("/nonexistent/cfg")), None).is_err());
    assert!(
        SshConfig::load(Some(Path::new("none")), None)
            .unwrap()
            .files
            .is_empty()
    );
}

#[test]
fn a_config_others_can_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("config");
    std::fs::write(&p, "Host x\n").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).unwrap();
    let e = SshConfig::load(Some(&p), None).err().unwrap().to_string();
    assert!(e.contains("bad owner or permissions"), "{e}");
}

#[test]
fn final_pass_sees_the_final_host_name() {
    let c = cfg(
        "Host alias\n  HostName Real.Example\nMatch final host real.example\n  User fin\nHost real.example\n  Port 7\n",
    );
    let r = c.resolve(&q("alias")).unwrap();
    assert_eq!(
        (r.hostname.as_str(), r.user.as_deref(), r.port),
        ("real.example", Some("fin"), Some(7))
    );
}
