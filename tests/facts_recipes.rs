//! Facts collectors and recipes against real sshd: every built-in
//! collector checked against this machine (the farm's hosts run on it),
//! each parser, a hanging and a garbage-printing collector, and recipes
//! through the real binary.

use crate::support;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sshdeck::engine::facts::{
    Collector, Custom, FactError, Facts, FactsRunner, ParseKind, Registry, Scheduled,
};
use sshdeck::engine::{EventKind, HostId};
use support::farm::Farm;
use support::{farm_engine, sshdeck_farm};

const LIMIT: Duration = Duration::from_secs(60);

type Results = HashMap<(HostId, String), Result<Facts, FactError>>;

/// Run `collectors` once on every farm host and gather the reports.
async fn collect_once(farm: &Farm, collectors: Vec<Arc<dyn Collector>>) -> Results {
    let (engine, _events, ids) = farm_engine(farm);
    let n = collectors.len();
    let scheduled = collectors
        .into_iter()
        .map(|c| Scheduled::new(c, Duration::from_secs(60), Duration::from_secs(10)))
        .collect();
    let (runner, mut rx) = FactsRunner::new(scheduled);
    for id in &ids {
        runner.once(*id, engine.link(*id));
    }
    let mut out = HashMap::new();
    while out.len() < ids.len() * n {
        let r = tokio::time::timeout(LIMIT, rx.recv())
            .await
            .expect("collectors did not report in time")
            .expect("runner gone");
        out.insert((r.host, r.collector), r.result);
    }
    out
}

fn local(cmd: &str) -> String {
    let out = std::process::Command::new("sh")
        .args(["-c", cmd])
        .output()
        .expect("sh");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn num(f: &Facts, k: &str) -> f64 {
    f.get(k)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{k} is not a number in {f:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_builtin_collector_reports_this_machine() {
    let farm = Farm::start(2);
    let reg = Registry::builtin();
    let all: Vec<_> = reg.names().filter_map(|n| reg.get(n)).collect();
    let res = collect_once(&farm, all).await;
    for h in 0..2 {
        let get = |c: &str| match &res[&(HostId(h), c.to_string())] {
            Ok(f) => f.clone(),
            Err(e) => panic!("host {h}: collector {c} failed: {e}"),
        };
        let os = get("os");
        assert_eq!(os["kernel"], local("uname -r"));
        assert_eq!(os["arch"], local("uname -m"));
        assert_eq!(
            os["name"],
            local(". /etc/os-release; echo \"${PRETTY_NAME:-$NAME}\"")
        );

        let cpu = get("cpu");
        assert_eq!(cpu["count"], local("getconf _NPROCESSORS_ONLN"));

        let mem = get("memory");
        let total_kib: f64 = local("awk '/^MemTotal:/ {print $2}' /proc/meminfo")
            .parse()
            .unwrap();
        assert_eq!(num(&mem, "total_mib"), (total_kib / 1024.0).round());
        let used = num(&mem, "used_pct");
        assert!((0.0..=100.0).contains(&used), "{used}");

        let disk = get("disk");
        let root_pct = local("df -P -k / | awk 'NR==2 {print $5}'");
        assert_eq!(format!("{}%", disk["/.used_pct"]), root_pct);
        assert!(num(&disk, "max_used_pct") >= num(&disk, "/.used_pct"));

        let up = get("uptime");
        let now: f64 = local("cut -d' ' -f1 /proc/uptime").parse().unwrap();
        let secs = num(&up, "seconds");
        assert!(secs > 0.0 && secs <= now + 1.0, "{secs} vs {now}");
        assert!(num(&up, "load1") >= 0.0);

        let net = get("net");
        // Every global address this machine has, and no loopback.
        let addrs = local(
            "ip -o addr show | awk '$2 != \"lo\" && $4 !~ /^fe80/ {print $4}' | paste -sd, | sed 's/,/, /g'",
        );
        assert_eq!(net["addrs"], addrs);
        assert!(!net["addrs"].contains("127.0.0.1"));
    }
}

fn custom(name: &str, cmd: &str, kind: ParseKind, timeout: Option<u64>) -> Arc<dyn Collector> {
    Arc::new(
        Custom::new(name, cmd, kind, None, timeout.map(Duration::from_secs)).expect("collector"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_parsers_a_hanging_and_a_garbage_collector() {
    let farm = Farm::start(2);
    let re = ParseKind::from_config("regex", Some(r"temp=(?P<celsius>\d+)C")).unwrap();
    let collectors = vec![
        custom("temp", "echo 'sensor ok'; echo temp=61C", re, None),
        custom(
            "inv",
            r#"printf '{"rack":"r7","gpu":{"count":2}}'"#,
            ParseKind::Json,
            None,
        ),
        custom(
            "role",
            "printf 'role=db\\nsite: ams\\n'",
            ParseKind::Kv,
            None,
        ),
        custom("hang", "sleep 30", ParseKind::Kv, Some(1)),
        custom("junk", "echo '<html>500</html>'", ParseKind::Json, None),
        custom(
            "broken",
            "echo 'no such tool' >&2; exit 127",
            ParseKind::Kv,
            None,
        ),
    ];
    let res = collect_once(&farm, collectors).await;
    for h in 0..2 {
        let ok = |c: &str| res[&(HostId(h), c.to_string())].clone().expect(c);
        assert_eq!(
            ok("temp"),
            BTreeMap::from([("celsius".into(), "61".into())])
        );
        let inv = ok("inv");
        assert_eq!(
            (inv["rack"].as_str(), inv["gpu.count"].as_str()),
            ("r7", "2")
        );
        let role = ok("role");
        assert_eq!(
            (role["role"].as_str(), role["site"].as_str()),
            ("db", "ams")
        );
        let err = |c: &str| res[&(HostId(h), c.to_string())].clone().unwrap_err();
        assert_eq!(err("hang"), FactError::Timeout(Duration::from_secs(1)));
        let junk = err("junk").to_string();
        assert!(
            junk.starts_with("cannot parse its output: expected JSON:") && junk.contains("<html>"),
            "{junk}"
        );
        assert_eq!(err("broken").to_string(), "exit 127: no such tool");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_collector_never_holds_up_its_host() {
    let farm = Farm::start(1);
    let (mut engine, mut events, ids) = farm_engine(&farm);
    let hang = custom("hang", "sleep 30", ParseKind::Kv, Some(20));
    let (runner, mut reports) = FactsRunner::new(vec![Scheduled::new(
        hang,
        Duration::from_secs(60),
        Duration::from_secs(20),
    )]);
    runner.once(ids[0], engine.link(ids[0]));
    // While the collector hangs, a command on the same host runs and ends.
    let job = engine.exec(&ids, "echo alive", &Default::default());
    let mut out = Vec::new();
    loop {
        tokio::select! {
            r = reports.recv() => panic!("the collector ended first: {:?}", r.map(|r| r.result)),
            ev = events.recv() => {
                let ev = ev.expect("engine");
                if ev.job != job { continue; }
                match ev.kind {
                    EventKind::Stdout(d) => out.extend_from_slice(&d),
                    EventKind::Exit { status, .. } => { assert!(status.success()); break; }
                    EventKind::Failed { error, .. } => panic!("{error}"),
                    _ => {}
                }
            }
        }
    }
    assert_eq!(out, b"alive\n");
}

fn write_config(farm: &Farm, text: &str) -> std::path::PathBuf {
    let p = farm.root.join("sshdeck.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn run(farm: &Farm, config: &Path, args: &[&str]) -> std::process::Output {
    sshdeck_farm(farm)
        .arg("-c")
        .arg(config)
        .args(args)
        .output()
        .expect("run sshdeck")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn facts_command_prints_json_and_fails_when_a_collector_fails() {
    let farm = Farm::start(2);
    let cfg = write_config(
        &farm,
        "[defaults]\nfacts = [\"cpu\", \"flaky\"]\n\n[[facts]]\nname = \"flaky\"\ncommand = \"echo nope\"\nparse = \"regex\"\npattern = \"ok=(\\\\d+)\"\n",
    );
    let out = run(&farm, &cfg, &["facts", &farm.host_list(), "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["host"], farm.label(i));
        assert_eq!(r["facts"]["cpu.count"], local("getconf _NPROCESSORS_ONLN"));
        let e = r["errors"]["flaky"].as_str().unwrap();
        assert!(e.contains("does not match /ok=(\\d+)/"), "{e}");
    }
    assert!(
        text(&out.stderr).contains("2 collector run(s) failed on 2 of 2 hosts"),
        "{}",
        text(&out.stderr)
    );
    // Only the working collector: success, human output.
    let out = run(&farm, &cfg, &["facts", &farm.host_list(), "--only", "cpu"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.starts_with(&format!("{}\n  cpu.count", farm.label(0))),
        "{s}"
    );
    assert!(!s.contains("flaky"));
    let out = run(&farm, &cfg, &["facts", "--only", "gpu"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--only: no collector named \"gpu\""));
}

/// The HPC routine: inputs up, a job that writes results, results down.
const HPC: &str = r#"
[[recipes]]
name = "hpc"
description = "inputs up, job, results down"

[[recipes.steps]]
put = ["INPUTS/input.txt", "INPUTS/run.sh"]
to = "job"

[[recipes.steps]]
run = "cd \"$SSHDECK_FILES/job\" && sh run.sh {host}"

[[recipes.steps]]
get = "job/out"
to = "RESULTS/{host}"
"#;

fn hpc_config(farm: &Farm) -> std::path::PathBuf {
    let inputs = farm.root.join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::write(inputs.join("input.txt"), "a\nb\nc\n").unwrap();
    // Fails where a `fail` marker exists: the one host that breaks.
    std::fs::write(
        inputs.join("run.sh"),
        "if [ -e fail ]; then echo 'boom on purpose' >&2; exit 3; fi\n\
         mkdir -p out && { echo \"host=$1\"; wc -l < input.txt; } > out/result.txt\n",
    )
    .unwrap();
    let text = HPC
        .replace("INPUTS", &inputs.display().to_string())
        .replace("RESULTS", &farm.root.join("results").display().to_string());
    write_config(farm, &text)
}

fn stem(label: &str) -> String {
    label.replace('/', "_")
}

#[test]
fn a_three_step_recipe_on_five_hosts_brings_back_per_host_results() {
    let farm = Farm::start(5);
    let cfg = hpc_config(&farm);
    let out = run(&farm, &cfg, &["recipe", "hpc", &farm.host_list()]);
    let (so, se) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{so}\n{se}");
    for i in 0..5 {
        let label = farm.label(i);
        let result = farm
            .root
            .join("results")
            .join(stem(&label))
            .join("out/result.txt");
        let got = std::fs::read_to_string(&result)
            .unwrap_or_else(|e| panic!("{}: {e}\n{so}\n{se}", result.display()));
        assert_eq!(got, format!("host={label}\n3\n"));
        // The inputs really went to that host's own disk.
        assert_eq!(
            std::fs::read_to_string(farm.hosts[i].files().join("job/input.txt")).unwrap(),
            "a\nb\nc\n"
        );
        assert!(
            so.contains(&format!("{label}: step 3/3 get job/out → ")),
            "{so}"
        );
        assert!(so.contains(&format!("  {label}  3/3  ok in ")), "{so}");
    }
    assert!(so.contains("recipe hpc: 5 hosts"), "{so}");
}

#[test]
fn a_recipe_failing_on_one_host_completes_on_the_others() {
    let farm = Farm::start(3);
    let cfg = hpc_config(&farm);
    let jobdir = farm.hosts[1].files().join("job");
    std::fs::create_dir_all(&jobdir).unwrap();
    std::fs::write(jobdir.join("fail"), "").unwrap();
    let out = run(&farm, &cfg, &["recipe", "hpc", &farm.host_list()]);
    let (so, se) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{so}\n{se}");
    let bad = farm.label(1);
    assert!(
        se.contains(&format!("{bad}: step 2/3 run cd "))
            && se.contains("FAILED: exit 3: boom on purpose"),
        "{se}"
    );
    assert!(
        so.contains(&format!(
            "  {bad}  1/3  FAILED at step 2 (run): exit 3: boom on purpose"
        )),
        "{so}"
    );
    assert!(
        se.contains("sshdeck: recipe \"hpc\" failed on 1 of 3 hosts"),
        "{se}"
    );
    // It stopped there: nothing fetched for it; the others finished.
    assert!(!farm.root.join("results").join(stem(&bad)).exists());
    for i in [0, 2] {
        let r = farm
            .root
            .join("results")
            .join(stem(&farm.label(i)))
            .join("out/result.txt");
        assert!(r.exists(), "{}", r.display());
    }
}

#[test]
fn dry_run_shows_expanded_steps_and_connects_nowhere() {
    let farm = Farm::start(1);
    let cfg = hpc_config(&farm);
    let before = farm.connections(0);
    let out = run(
        &farm,
        &cfg,
        &["recipe", "hpc", &farm.host_list(), "--dry-run"],
    );
    let so = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{so}");
    let label = farm.label(0);
    assert!(
        so.contains(&format!(
            "  2. run cd \"$SSHDECK_FILES/job\" && sh run.sh {label}\n"
        )),
        "{so}"
    );
    assert!(so.contains(&format!("/results/{}\n", stem(&label))), "{so}");
    assert_eq!(farm.connections(0), before);
    // Unknown recipes are named with the known ones.
    let out = run(&farm, &cfg, &["recipe", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no recipe named \"nope\" (known: hpc)"));
    let out = run(&farm, &cfg, &["recipe"]);
    assert_eq!(
        text(&out.stdout),
        "hpc  (3 steps)  inputs up, job, results down\n"
    );
}
