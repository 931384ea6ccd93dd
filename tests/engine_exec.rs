//! The engine against real OpenSSH servers.

use crate::support;

use std::time::Duration;

use sshdeck::engine::{Engine, ExecOptions, ExitStatus, HostError, Target};
use support::farm::{Farm, closed_port};
use support::{collect, engine_config, farm_engine, farm_target};

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_hosts_each_get_only_their_own_output() {
    let farm = Farm::start(20);
    let (mut engine, mut rx, ids) = farm_engine(&farm);
    // sshd puts the server port in SSH_CONNECTION, so each host can say who it is.
    let cmd = r#"p=${SSH_CONNECTION##* }; for i in 1 2 3 4 5; do echo "$p line $i"; done"#;
    engine.exec(&ids, cmd, &ExecOptions::default());
    let runs = collect(&mut rx, &ids, LIMIT).await;
    assert_eq!(runs.len(), 20);
    for (i, id) in ids.iter().enumerate() {
        let run = &runs[id];
        assert_eq!(
            run.exit,
            Some(ExitStatus::Code(0)),
            "host {i}: {:?}",
            run.error
        );
        let port = farm.hosts[i].port;
        let expected: String = (1..=5).map(|n| format!("{port} line {n}\n")).collect();
        assert_eq!(String::from_utf8_lossy(&run.stdout), expected, "host {i}");
        assert!(run.stderr.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_and_stderr_stay_apart() {
    let farm = Farm::start(2);
    let (mut engine, mut rx, ids) = farm_engine(&farm);
    engine.exec(
        &ids,
        "echo to-out; echo to-err >&2; echo more-out",
        &ExecOptions::default(),
    );
    let runs = collect(&mut rx, &ids, LIMIT).await;
    for id in &ids {
        assert_eq!(runs[id].stdout, b"to-out\nmore-out\n");
        assert_eq!(runs[id].stderr, b"to-err\n");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_and_signals_are_reported() {
    let farm = Farm::start(3);
    let (mut engine, mut rx, ids) = farm_engine(&farm);
    engine.exec(&ids[0..1], "exit 7", &ExecOptions::default());
    engine.exec(&ids[1..2], "kill -TERM $$", &ExecOptions::default());
    engine.exec(&ids[2..3], "true", &ExecOptions::default());
    let runs = collect(&mut rx, &ids, LIMIT).await;
    assert_eq!(runs[&ids[0]].exit, Some(ExitStatus::Code(7)));
    assert_eq!(
        runs[&ids[1]].exit,
        Some(ExitStatus::Signal {
            name: "TERM".into(),
            core_dumped: false
        })
    );
    assert_eq!(runs[&ids[2]].exit, Some(ExitStatus::Code(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_and_hanging_hosts_fail_alone() {
    let farm = Farm::start(2);
    let (mut engine, mut rx, mut ids) = farm_engine(&farm);
    let dead = engine.add_host(Target::new(
        "dead",
        "127.0.0.1",
        closed_port(),
        farm.user.clone(),
    ));
    ids.push(dead);
    // Host 0 hangs, host 1 is quick, `dead` refuses.
    let cmd = format!(
        "if [ \"${{SSH_CONNECTION##* }}\" = {} ]; then sleep 30; fi; echo fine",
        farm.hosts[0].port
    );
    let opts = ExecOptions {
        timeout: Some(Duration::from_millis(1500)),
        ..Default::default()
    };
    let started = std::time::Instant::now();
    engine.exec(&ids, &cmd, &opts);
    let runs = collect(&mut rx, &ids, LIMIT).await;
    assert!(
        matches!(runs[&ids[0]].error, Some(HostError::CommandTimeout { .. })),
        "{:?}",
        runs[&ids[0]]
    );
    assert_eq!(runs[&ids[1]].exit, Some(ExitStatus::Code(0)));
    assert_eq!(runs[&ids[1]].stdout, b"fine\n");
    match &runs[&dead].error {
        Some(e @ HostError::Refused { .. }) => assert_eq!(e.kind(), "refused"),
        other => panic!("expected refused, got {other:?}"),
    }
    // The hang was cut by the timeout, not waited out.
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_host_key_is_refused_and_nothing_runs() {
    let farm = Farm::start(2);
    // Trust a different key for host 0: exactly what a MITM would look like.
    let other = &farm.hosts[1].host_key_pub;
    let kh = farm.root.join("known_hosts_changed");
    std::fs::write(
        &kh,
        format!(
            "# first line\n[127.0.0.1]:{} {other}\n[127.0.0.1]:{} {other}\n",
            farm.hosts[0].port, farm.hosts[1].port
        ),
    )
    .unwrap();
    let (mut engine, mut rx) =
        Engine::new(engine_config(std::slice::from_ref(&kh), &farm.client_key));
    let ids = [
        engine.add_host(farm_target(&farm, 0)),
        engine.add_host(farm_target(&farm, 1)),
    ];
    let marker = farm.root.join("ran-on-changed-host");
    engine.exec(
        &ids[0..1],
        &format!("touch {}", marker.display()),
        &ExecOptions::default(),
    );
    let runs = collect(&mut rx, &ids[0..1], LIMIT).await;
    match &runs[&ids[0]].error {
        Some(HostError::HostKeyChanged { file, line, .. }) => {
            assert_eq!(file, &kh);
            assert_eq!(*line, 2);
        }
        other => panic!("expected a changed-key refusal, got {other:?}"),
    }
    let msg = runs[&ids[0]].error.as_ref().unwrap().to_string();
    assert!(msg.contains(&format!("{}:2", kh.display())), "{msg}");
    assert!(
        !marker.exists(),
        "the command ran on a host with a changed key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_host_key_is_refused_with_fingerprint() {
    let farm = Farm::start(1);
    let kh = farm.root.join("known_hosts_empty");
    std::fs::write(&kh, "").unwrap();
    let (mut engine, mut rx) =
        Engine::new(engine_config(std::slice::from_ref(&kh), &farm.client_key));
    let ids = vec![engine.add_host(farm_target(&farm, 0))];
    engine.exec(&ids, "true", &ExecOptions::default());
    let runs = collect(&mut rx, &ids, LIMIT).await;
    match &runs[&ids[0]].error {
        Some(HostError::HostKeyUnknown {
            fingerprint,
            key_type,
            ..
        }) => {
            assert!(fingerprint.starts_with("SHA256:"));
            assert_eq!(key_type, "ssh-ed25519");
        }
        other => panic!("expected unknown-key refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_mib_of_output_arrives_byte_exact() {
    let farm = Farm::start(1);
    let data: Vec<u8> = (0..50u32 * 1024 * 1024)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let file = farm.root.join("blob");
    std::fs::write(&file, &data).unwrap();
    let (mut engine, mut rx, ids) = farm_engine(&farm);
    engine.exec(
        &ids,
        &format!("cat {}", file.display()),
        &ExecOptions::default(),
    );
    let runs = collect(&mut rx, &ids, LIMIT).await;
    let run = &runs[&ids[0]];
    assert_eq!(run.exit, Some(ExitStatus::Code(0)));
    assert_eq!(run.stdout.len(), data.len());
    assert!(run.stdout == data, "50 MiB output differs from the source");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_command_reuses_the_connection() {
    let farm = Farm::start(2);
    let (mut engine, mut rx, ids) = farm_engine(&farm);
    let before: Vec<usize> = (0..2).map(|i| farm.connections(i)).collect();
    engine.exec(&ids, "echo one", &ExecOptions::default());
    let first = collect(&mut rx, &ids, LIMIT).await;
    engine.exec(&ids, "echo two", &ExecOptions::default());
    let second = collect(&mut rx, &ids, LIMIT).await;
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(first[id].stdout, b"one\n");
        assert_eq!(second[id].stdout, b"two\n");
        assert_eq!(first[id].connects, 1);
        assert_eq!(second[id].connects, 0, "host {i} reconnected");
        // sshd's own log: exactly one more TCP connection for both commands.
        assert_eq!(farm.connections(i) - before[i], 1, "host {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_job_and_the_connection_stays_usable() {
    let farm = Farm::start(2);
    let (mut engine, mut rx, ids) = farm_engine(&farm);
    let job = engine.exec(&ids, "echo started; sleep 60", &ExecOptions::default());
    // Wait for both hosts to really be running the command.
    let mut started = 0;
    while started < 2 {
        let ev = tokio::time::timeout(LIMIT, rx.recv())
            .await
            .unwrap()
            .unwrap();
        if matches!(ev.kind, sshdeck::engine::EventKind::Stdout(_)) {
            started += 1;
        }
    }
    let t0 = std::time::Instant::now();
    engine.cancel(job);
    let runs = collect(&mut rx, &ids, LIMIT).await;
    for id in &ids {
        assert!(
            matches!(runs[id].error, Some(HostError::Cancelled)),
            "{:?}",
            runs[id]
        );
    }
    assert!(t0.elapsed() < Duration::from_secs(5));
    engine.exec(&ids, "echo after", &ExecOptions::default());
    let after = collect(&mut rx, &ids, LIMIT).await;
    for id in &ids {
        assert_eq!(after[id].stdout, b"after\n");
    }
}
