//! Authentication, host trust, jump hosts and reconnects against real sshd.

use crate::support;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sshdeck::engine::{
    Answer, Engine, EngineConfig, ExecOptions, ExitStatus, HostError, HostKeyDecision,
    HostKeyPolicy, Prompter, Question, Target,
};
use support::farm::{Farm, FarmOptions};
use support::{collect, engine_config, farm_target, password_user};
use zeroize::Zeroizing;

const LIMIT: Duration = Duration::from_secs(60);

/// Answers every question with `answer` and records what was asked.
fn answering(
    cfg: &mut EngineConfig,
    answer: impl Fn(&Question) -> Answer + Send + 'static,
) -> Arc<Mutex<Vec<Question>>> {
    let (prompter, mut rx) = Prompter::channel();
    cfg.prompter = prompter;
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            let a = answer(&p.question);
            log.lock().unwrap().push(p.question);
            let _ = p.reply.send(a);
        }
    });
    asked
}

fn secret(s: &str) -> Answer {
    Answer::Secret(Zeroizing::new(s.to_string()))
}

async fn run_on(
    engine: &mut Engine,
    rx: &mut tokio::sync::mpsc::Receiver<sshdeck::engine::Event>,
    ids: &[sshdeck::engine::HostId],
    cmd: &str,
) -> std::collections::HashMap<sshdeck::engine::HostId, support::HostRun> {
    engine.exec(ids, cmd, &ExecOptions::default());
    collect(rx, ids, LIMIT).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_key_passphrase_is_asked_once_for_many_hosts() {
    let farm = Farm::start_with(
        3,
        FarmOptions {
            key_passphrase: Some("open sesame".into()),
            ..Default::default()
        },
    );
    let mut cfg = engine_config(std::slice::from_ref(&farm.known_hosts), &farm.client_key);
    let asked = answering(&mut cfg, |q| match q {
        Question::Passphrase { retry: false, .. } => secret("wrong"),
        Question::Passphrase { retry: true, .. } => secret("open sesame"),
        _ => Answer::Cancel,
    });
    let (mut engine, mut rx) = Engine::new(cfg);
    let ids: Vec<_> = (0..3)
        .map(|i| engine.add_host(farm_target(&farm, i)))
        .collect();
    let runs = run_on(&mut engine, &mut rx, &ids, "echo ok").await;
    for id in &ids {
        assert_eq!(runs[id].stdout, b"ok\n", "{:?}", runs[id].error);
    }
    // One wrong try, one right one; then the decrypted key serves every host.
    let asked = asked.lock().unwrap();
    assert_eq!(asked.len(), 2, "{asked:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_mode_explains_an_encrypted_key() {
    let farm = Farm::start_with(
        1,
        FarmOptions {
            key_passphrase: Some("pw".into()),
            ..Default::default()
        },
    );
    let cfg = engine_config(std::slice::from_ref(&farm.known_hosts), &farm.client_key);
    let (mut engine, mut rx) = Engine::new(cfg);
    let ids = [engine.add_host(farm_target(&farm, 0))];
    let runs = run_on(&mut engine, &mut rx, &ids, "true").await;
    let msg = runs[&ids[0]]
        .error
        .as_ref()
        .expect("auth must fail")
        .to_string();
    assert!(
        msg.contains("passphrase-protected") && msg.contains("batch"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_agent_keys_are_used() {
    // The key is only in the agent: the identity list points elsewhere.
    let farm = Farm::start(2);
    let sock = farm.root.join("agent.sock");
    let mut agent = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start ssh-agent");
    for _ in 0..100 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let added = Command::new("ssh-add")
        .arg(&farm.client_key)
        .env("SSH_AUTH_SOCK", &sock)
        .output()
        .expect("ssh-add");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let mut cfg = EngineConfig::new(
        vec![farm.known_hosts.clone()],
        vec![farm.root.join("no-such-key")],
    );
    cfg.policy = HostKeyPolicy::Strict;
    cfg.agent = Some(sock.clone());
    let (mut engine, mut rx) = Engine::new(cfg);
    let ids: Vec<_> = (0..2)
        .map(|i| engine.add_host(farm_target(&farm, i)))
        .collect();
    let runs = run_on(&mut engine, &mut rx, &ids, "echo via-agent").await;
    let _ = agent.kill();
    let _ = agent.wait();
    for id in &ids {
        assert_eq!(runs[id].stdout, b"via-agent\n", "{:?}", runs[id].error);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_auth_retries_and_reuses_the_password() {
    let Some((user, pass)) = password_user() else {
        return;
    };
    let farm = Farm::start_with(
        2,
        FarmOptions {
            password_auth: true,
            ..Default::default()
        },
    );
    let mut cfg = engine_config(std::slice::from_ref(&farm.known_hosts), &farm.client_key);
    // No key to offer: the farm's authorized_keys would let any user in.
    cfg.identities.clear();
    let asked = answering(&mut cfg, move |q| match q {
        Question::Password { retry: false, .. } => secret("not-it"),
        Question::Password { retry: true, .. } => secret(&pass),
        _ => Answer::Cancel,
    });
    let (mut engine, mut rx) = Engine::new(cfg);
    let first = engine.add_host(Target::new(
        "a",
        "127.0.0.1",
        farm.hosts[0].port,
        user.clone(),
    ));
    let runs = run_on(&mut engine, &mut rx, &[first], "id -un").await;
    assert_eq!(
        runs[&first].stdout,
        format!("{user}\n").as_bytes(),
        "{:?}",
        runs[&first].error
    );
    // The second host gets the remembered password: no new question.
    let second = engine.add_host(Target::new(
        "b",
        "127.0.0.1",
        farm.hosts[1].port,
        user.clone(),
    ));
    let runs = run_on(&mut engine, &mut rx, &[second], "id -un").await;
    assert_eq!(
        runs[&second].stdout,
        format!("{user}\n").as_bytes(),
        "{:?}",
        runs[&second].error
    );
    assert_eq!(asked.lock().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_jump_through_one_and_two_hops() {
    let farm = Farm::start(3);
    let before: Vec<usize> = (0..3).map(|i| farm.connections(i)).collect();
    let (mut engine, mut rx) = Engine::new(engine_config(
        std::slice::from_ref(&farm.known_hosts),
        &farm.client_key,
    ));
    let mut one = farm_target(&farm, 2);
    one.opts.jump = vec![farm_target(&farm, 0)];
    let mut two = farm_target(&farm, 2);
    two.label = "two-hops".into();
    two.opts.jump = vec![farm_target(&farm, 0), farm_target(&farm, 1)];
    let ids = [engine.add_host(one), engine.add_host(two)];
    let runs = run_on(&mut engine, &mut rx, &ids, "echo ${SSH_CONNECTION##* }").await;
    let want = format!("{}\n", farm.hosts[2].port);
    for id in &ids {
        assert_eq!(
            String::from_utf8_lossy(&runs[id].stdout),
            want,
            "{:?}",
            runs[id].error
        );
    }
    // Hop 0 carried both chains, hop 1 only the second, and the target saw two sessions.
    assert_eq!(farm.connections(0) - before[0], 2);
    assert_eq!(farm.connections(1) - before[1], 1);
    assert_eq!(farm.connections(2) - before[2], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hop_key_is_verified() {
    let farm = Farm::start(2);
    // known_hosts trusts the target but has the wrong key for the jump host.
    let kh = farm.root.join("kh_bad_hop");
    std::fs::write(
        &kh,
        format!(
            "[127.0.0.1]:{} {}\n[127.0.0.1]:{} {}\n",
            farm.hosts[0].port,
            farm.hosts[1].host_key_pub,
            farm.hosts[1].port,
            farm.hosts[1].host_key_pub
        ),
    )
    .unwrap();
    let (mut engine, mut rx) =
        Engine::new(engine_config(std::slice::from_ref(&kh), &farm.client_key));
    let mut t = farm_target(&farm, 1);
    t.opts.jump = vec![farm_target(&farm, 0)];
    let ids = [engine.add_host(t)];
    let runs = run_on(&mut engine, &mut rx, &ids, "true").await;
    match &runs[&ids[0]].error {
        Some(HostError::Jump { cause, .. }) => {
            assert!(
                matches!(**cause, HostError::HostKeyChanged { line: 1, .. }),
                "{cause:?}"
            )
        }
        other => panic!("expected a jump-host key refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_new_saves_in_openssh_format() {
    let farm = Farm::start(1);
    let kh = farm.root.join("kh_new");
    let mut cfg = engine_config(std::slice::from_ref(&kh), &farm.client_key);
    cfg.policy = HostKeyPolicy::AcceptNew;
    let (mut engine, mut rx) = Engine::new(cfg);
    let ids = [engine.add_host(farm_target(&farm, 0))];
    let runs = run_on(&mut engine, &mut rx, &ids, "echo hi").await;
    assert_eq!(runs[&ids[0]].stdout, b"hi\n", "{:?}", runs[&ids[0]].error);
    let saved = std::fs::read_to_string(&kh).unwrap();
    assert_eq!(
        saved,
        format!(
            "[127.0.0.1]:{} {}\n",
            farm.hosts[0].port, farm.hosts[0].host_key_pub
        )
    );
    // OpenSSH itself now trusts the host through that file.
    let out = Command::new("ssh")
        .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", kh.display()))
        .arg("-i")
        .arg(&farm.client_key)
        .args(["-p", &farm.hosts[0].port.to_string()])
        .arg(format!("{}@127.0.0.1", farm.user))
        .arg("echo from-openssh")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "from-openssh\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_policy_once_save_and_reject() {
    let farm = Farm::start(3);
    let kh = farm.root.join("kh_ask");
    let mut cfg = engine_config(std::slice::from_ref(&kh), &farm.client_key);
    cfg.policy = HostKeyPolicy::Ask;
    let ports: Vec<u16> = farm.hosts.iter().map(|h| h.port).collect();
    let p = ports.clone();
    let asked = answering(&mut cfg, move |q| match q {
        Question::HostKey { host, .. } if host.ends_with(&format!(":{}", p[0])) => {
            Answer::HostKey(HostKeyDecision::AcceptOnce)
        }
        Question::HostKey { host, .. } if host.ends_with(&format!(":{}", p[1])) => {
            Answer::HostKey(HostKeyDecision::AcceptAndSave)
        }
        _ => Answer::HostKey(HostKeyDecision::Reject),
    });
    let (mut engine, mut rx) = Engine::new(cfg);
    let ids: Vec<_> = (0..3)
        .map(|i| engine.add_host(farm_target(&farm, i)))
        .collect();
    let runs = run_on(&mut engine, &mut rx, &ids, "echo in").await;
    assert_eq!(runs[&ids[0]].stdout, b"in\n");
    assert_eq!(runs[&ids[1]].stdout, b"in\n");
    assert!(
        matches!(&runs[&ids[2]].error, Some(HostError::HostKeyUnknown { why, .. }) if why == "rejected")
    );
    {
        let asked = asked.lock().unwrap();
        assert_eq!(asked.len(), 3);
        match &asked[0] {
            Question::HostKey {
                fingerprint,
                key_type,
                save_to,
                ..
            } => {
                assert!(fingerprint.starts_with("SHA256:"));
                assert_eq!(key_type, "ssh-ed25519");
                assert_eq!(save_to, &kh);
            }
            q => panic!("unexpected question {q:?}"),
        }
    }
    // Only the "save" answer reached the file.
    let saved = std::fs::read_to_string(&kh).unwrap();
    assert_eq!(saved.lines().count(), 1);
    assert!(saved.starts_with(&format!("[127.0.0.1]:{} ", ports[1])));
    // A fresh engine (a new sshdeck run) trusts the saved host without asking,
    // and asks again for the one accepted only once.
    let mut cfg = engine_config(std::slice::from_ref(&kh), &farm.client_key);
    cfg.policy = HostKeyPolicy::Ask;
    let asked2 = answering(&mut cfg, |_| Answer::HostKey(HostKeyDecision::Reject));
    let (mut engine, mut rx) = Engine::new(cfg);
    let ids: Vec<_> = (0..2)
        .map(|i| engine.add_host(farm_target(&farm, i)))
        .collect();
    let runs = run_on(&mut engine, &mut rx, &ids, "echo again").await;
    assert!(runs[&ids[0]].error.is_some());
    assert_eq!(runs[&ids[1]].stdout, b"again\n");
    assert_eq!(asked2.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_key_is_refused_even_under_accept_new() {
    let farm = Farm::start(2);
    let kh = farm.root.join("kh_changed");
    std::fs::write(
        &kh,
        format!(
            "[127.0.0.1]:{} {}\n",
            farm.hosts[0].port, farm.hosts[1].host_key_pub
        ),
    )
    .unwrap();
    let mut cfg = engine_config(std::slice::from_ref(&kh), &farm.client_key);
    cfg.policy = HostKeyPolicy::AcceptNew;
    let (mut engine, mut rx) = Engine::new(cfg);
    let ids = [engine.add_host(farm_target(&farm, 0))];
    let runs = run_on(&mut engine, &mut rx, &ids, "true").await;
    let e = runs[&ids[0]].error.as_ref().expect("must be refused");
    assert!(
        matches!(e, HostError::HostKeyChanged { line: 1, .. }),
        "{e:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&kh).unwrap().lines().count(),
        1,
        "nothing may be added"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_key_is_refused_with_its_line() {
    let farm = Farm::start(1);
    let kh = farm.root.join("kh_revoked");
    let line = format!(
        "[127.0.0.1]:{} {}",
        farm.hosts[0].port, farm.hosts[0].host_key_pub
    );
    std::fs::write(
        &kh,
        format!("{line}\n@revoked * {}\n", farm.hosts[0].host_key_pub),
    )
    .unwrap();
    let (mut engine, mut rx) =
        Engine::new(engine_config(std::slice::from_ref(&kh), &farm.client_key));
    let ids = [engine.add_host(farm_target(&farm, 0))];
    let runs = run_on(&mut engine, &mut rx, &ids, "true").await;
    let e = runs[&ids[0]].error.as_ref().expect("must be refused");
    assert!(
        matches!(e, HostError::HostKeyRevoked { line: 2, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains(&format!("{}:2", kh.display())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ca_signed_host_certificates() {
    let farm = Farm::start_with(
        2,
        FarmOptions {
            host_ca: true,
            ..Default::default()
        },
    );
    let ca_pub = std::fs::read_to_string(farm.root.join("ca_ed25519.pub")).unwrap();
    let ca_pub: String = ca_pub
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let strict = |kh: &std::path::Path| engine_config(&[kh.to_path_buf()], &farm.client_key);

    // Trusted CA, no plain keys at all: accepted under the strict policy.
    let kh = farm.root.join("kh_ca");
    std::fs::write(&kh, format!("@cert-authority * {ca_pub}\n")).unwrap();
    let (mut engine, mut rx) = Engine::new(strict(&kh));
    let ids: Vec<_> = (0..2)
        .map(|i| engine.add_host(farm_target(&farm, i)))
        .collect();
    let runs = run_on(&mut engine, &mut rx, &ids, "echo cert").await;
    for id in &ids {
        assert_eq!(runs[id].stdout, b"cert\n", "{:?}", runs[id].error);
    }

    // A CA nobody trusts: falls back to the plain key, which is unknown.
    let other_ca = &farm.hosts[1].host_key_pub;
    let kh2 = farm.root.join("kh_other_ca");
    std::fs::write(&kh2, format!("@cert-authority * {other_ca}\n")).unwrap();
    let (mut engine, mut rx) = Engine::new(strict(&kh2));
    let ids = [engine.add_host(farm_target(&farm, 0))];
    let runs = run_on(&mut engine, &mut rx, &ids, "true").await;
    assert!(
        matches!(runs[&ids[0]].error, Some(HostError::HostKeyUnknown { .. })),
        "{:?}",
        runs[&ids[0]].error
    );

    // The trusted CA, revoked: refused.
    let kh3 = farm.root.join("kh_revoked_ca");
    std::fs::write(
        &kh3,
        format!("@cert-authority * {ca_pub}\n@revoked * {ca_pub}\n"),
    )
    .unwrap();
    let (mut engine, mut rx) = Engine::new(strict(&kh3));
    let ids = [engine.add_host(farm_target(&farm, 0))];
    let runs = run_on(&mut engine, &mut rx, &ids, "true").await;
    assert!(
        matches!(
            runs[&ids[0]].error,
            Some(HostError::HostKeyRevoked { line: 2, .. })
        ),
        "{:?}",
        runs[&ids[0]].error
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_after_sshd_restart() {
    let mut farm = Farm::start(1);
    let (mut engine, mut rx) = Engine::new(engine_config(
        std::slice::from_ref(&farm.known_hosts),
        &farm.client_key,
    ));
    let ids = [engine.add_host(farm_target(&farm, 0))];
    let first = run_on(&mut engine, &mut rx, &ids, "echo one").await;
    assert_eq!(first[&ids[0]].stdout, b"one\n");
    farm.restart(0);
    // Give the client a moment to see the dead transport.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = run_on(&mut engine, &mut rx, &ids, "echo two").await;
    assert_eq!(
        second[&ids[0]].stdout, b"two\n",
        "{:?}",
        second[&ids[0]].error
    );
    assert_eq!(second[&ids[0]].connects, 1, "a new connection was made");
    assert_eq!(second[&ids[0]].exit, Some(ExitStatus::Code(0)));
}
