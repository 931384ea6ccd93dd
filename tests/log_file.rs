//! `--log FILE` logs what its help promises: one line per connection
//! attempt, auth result (method, ok or failed), host-key decision, command
//! start (with its text, unless typed with a leading space) and end (with
//! the exit status), transfer start and end; against real sshd with one
//! refused host.

use crate::support;

use support::farm::{Farm, closed_port};
use support::sshdeck_farm;

fn lines_with<'a>(log: &'a str, words: &[&str]) -> Vec<&'a str> {
    log.lines()
        .filter(|l| words.iter().all(|w| l.contains(w)))
        .collect()
}

#[test]
fn log_has_connections_auth_host_keys_commands_and_transfers() {
    let farm = Farm::start(2);
    let refused = format!("{}@127.0.0.1:{}", farm.user, closed_port());
    let log = farm.root.join("sshdeck.log");
    let hosts = format!("{},{refused}", farm.host_list());
    let out = sshdeck_farm(&farm)
        .arg("--log")
        .arg(&log)
        .args(["run", "-H", &hosts, "--", "echo", "logged-$((40+2))"])
        .output()
        .expect("run sshdeck");
    assert!(!out.status.success(), "the refused host fails the run");
    let text = std::fs::read_to_string(&log).expect("the log");

    // Three connection attempts; two connected, one refused.
    assert_eq!(lines_with(&text, &["connecting"]).len(), 3, "{text}");
    assert_eq!(lines_with(&text, &["connected"]).len(), 2, "{text}");
    let failed = lines_with(&text, &["connection failed", &refused]);
    assert_eq!(failed.len(), 1, "{text}");
    for i in 0..2 {
        let h = farm.label(i);
        let key = farm.client_key.display().to_string();
        let auth = lines_with(&text, &[&h, "auth", "publickey", &key, "ok=true"]);
        assert_eq!(auth.len(), 1, "{h}: {text}");
        // Host keys are named as known_hosts names them.
        let kh_name = format!("host=[127.0.0.1]:{}", farm.hosts[i].port);
        assert_eq!(
            lines_with(&text, &[&kh_name, "host key trusted"]).len(),
            1,
            "{text}"
        );
        assert_eq!(
            lines_with(&text, &[&h, "command started: echo logged-$((40+2))"]).len(),
            1,
            "{text}"
        );
        assert_eq!(
            lines_with(&text, &[&h, "command ended: exit 0"]).len(),
            1,
            "{text}"
        );
    }
    // The refused host never started the command; it failed.
    assert!(
        lines_with(&text, &[&refused, "command started"]).is_empty(),
        "{text}"
    );
    assert_eq!(
        lines_with(&text, &[&refused, "command failed"]).len(),
        1,
        "{text}"
    );

    // A private command is logged without its text; a transfer is logged.
    let src = farm.root.join("payload.txt");
    std::fs::write(&src, "payload\n").expect("payload");
    let out = sshdeck_farm(&farm)
        .arg("--log")
        .arg(&log)
        .args([
            "run",
            "-H",
            &farm.label(0),
            "--",
            " echo",
            "private-$((1+1))",
        ])
        .output()
        .expect("run sshdeck");
    assert!(out.status.success());
    let out = sshdeck_farm(&farm)
        .arg("--log")
        .arg(&log)
        .args(["put", "-H", &farm.label(1)])
        .arg(&src)
        .arg("dest")
        .output()
        .expect("sshdeck put");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&log).expect("the log");
    assert!(!text.contains("private-$((1+1))"), "{text}");
    assert_eq!(
        lines_with(
            &text,
            &["command started: (a command typed with a leading space)"]
        )
        .len(),
        1,
        "{text}"
    );
    let h1 = farm.label(1);
    assert_eq!(
        lines_with(&text, &[&h1, "transfer started: put", "payload.txt"]).len(),
        1,
        "{text}"
    );
    assert_eq!(
        lines_with(&text, &[&h1, "transfer ended: put", "1 files"]).len(),
        1,
        "{text}"
    );
}
