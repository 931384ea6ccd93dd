//! Every `--json` object of a command has exactly the fields the README's
//! "JSON output" section lists for it, in that order, with
//! `schema_version` 1: run (every kind of event, a refused host, a
//! signal), put and get (a host that fails, one that succeeds), hosts and
//! facts, from the real binary against real sshd.

use crate::support;

use std::collections::BTreeMap;
use std::process::Output;

use serde_json::Value;
use support::farm::{Farm, closed_port};
use support::sshdeck_farm;

/// Command → its fields, read from the README's `text` block under
/// "## JSON output", so the documentation and this test cannot drift.
fn documented() -> BTreeMap<String, Vec<String>> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## JSON output\n")
        .nth(1)
        .expect("README has a \"## JSON output\" section");
    let block = section
        .split("```text\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the section lists the fields in a ```text block");
    block
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let cmd = words.next()?;
            Some((cmd.to_string(), words.map(str::to_string).collect()))
        })
        .collect()
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

/// Every object has the documented fields exactly (serde_json's map keeps
/// them sorted, so compare as sets, then check the version).
fn check(cmd: &str, objects: &[Value], fields: &BTreeMap<String, Vec<String>>) {
    let want = fields
        .get(cmd)
        .unwrap_or_else(|| panic!("README lists no fields for {cmd}"));
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert!(!objects.is_empty(), "{cmd} printed no JSON");
    for o in objects {
        let mut got = keys(o);
        got.sort();
        assert_eq!(
            got, want_sorted,
            "{cmd}: fields differ from the README in {o}"
        );
        assert_eq!(o["schema_version"], 1, "{cmd}: {o}");
    }
}

/// The fields appear in `text` in the README's order (serde_json's parsed
/// maps sort their keys, so this reads the raw text). For an array, the
/// first occurrence of each key is in its first element.
fn in_order(cmd: &str, text: &str, fields: &BTreeMap<String, Vec<String>>) {
    let mut last = 0;
    for f in &fields[cmd] {
        let at = text
            .find(&format!("\"{f}\":"))
            .unwrap_or_else(|| panic!("{cmd}: no {f} in {text}"));
        assert!(at >= last, "{cmd}: {f} out of the README's order in {text}");
        last = at;
    }
}

fn ndjson(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON {l:?}: {e}")))
        .collect()
}

fn array(out: &Output) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not one JSON text: {e}\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    v.as_array()
        .cloned()
        .unwrap_or_else(|| panic!("not an array: {v}"))
}

fn sshdeck(farm: &Farm, args: &[&str]) -> Output {
    sshdeck_farm(farm).args(args).output().expect("run sshdeck")
}

#[test]
fn every_json_object_has_the_fields_the_readme_lists() {
    let fields = documented();
    let farm = Farm::start(2);
    let dead = format!("{}@127.0.0.1:{}", farm.user, closed_port());
    let with_dead = format!("{},{dead}", farm.host_list());

    // run: stdout, stderr, exit by code and by signal, a refused host, the summary.
    let cmd = format!(
        "echo out; echo err >&2; if [ ${{SSH_CONNECTION##* }} = {} ]; then kill -TERM $$; fi; exit 3",
        farm.hosts[1].port
    );
    let out = sshdeck(&farm, &["run", "--json", "-H", &with_dead, "--", &cmd]);
    let run = ndjson(&out);
    check("run", &run, &fields);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        in_order("run", line, &fields);
    }
    let events: Vec<&str> = run.iter().filter_map(|v| v["event"].as_str()).collect();
    for e in ["connected", "stdout", "stderr", "exit", "failed", "summary"] {
        assert!(events.contains(&e), "no {e} event in {events:?}");
    }
    let by_signal = run
        .iter()
        .find(|v| v["event"] == "exit" && v["signal"].is_string())
        .unwrap_or_else(|| panic!("no exit by signal in {run:?}"));
    assert!(by_signal["code"].is_null(), "{by_signal}");
    let failed = run
        .iter()
        .find(|v| v["event"] == "failed")
        .unwrap_or_else(|| panic!("no failed event in {run:?}"));
    assert_eq!(failed["kind"], "refused", "{failed}");
    assert!(
        failed["code"].is_null() && failed["line"].is_null(),
        "{failed}"
    );
    let summary = run.last().unwrap_or_else(|| panic!("no lines"));
    assert_eq!(
        (summary["event"].as_str(), summary["hosts"].as_u64()),
        (Some("summary"), Some(3)),
        "{summary}"
    );
    assert!(summary["host"].is_null(), "{summary}");

    // put and get: two hosts that succeed, one refused.
    let local = farm.root.join("json-src");
    std::fs::create_dir_all(&local).expect("local dir");
    std::fs::write(local.join("a.txt"), b"hello\n").expect("local file");
    let src = local.join("a.txt");
    let out = sshdeck(
        &farm,
        &[
            "put",
            "--json",
            "-H",
            &with_dead,
            &src.to_string_lossy(),
            ".",
        ],
    );
    let put = ndjson(&out);
    check("put", &put, &fields);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        in_order("put", line, &fields);
    }
    let ok = put
        .iter()
        .find(|v| v["event"] == "host" && v["ok"] == true)
        .unwrap_or_else(|| panic!("no host that succeeded in {put:?}"));
    assert!(ok["error"].is_null() && ok["files"] == 1, "{ok}");
    let bad = put
        .iter()
        .find(|v| v["event"] == "host" && v["ok"] == false)
        .unwrap_or_else(|| panic!("no host that failed in {put:?}"));
    assert!(bad["error"].is_string(), "{bad}");

    let dest = farm.root.join("json-get");
    let out = sshdeck(
        &farm,
        &[
            "get",
            "--json",
            "-H",
            &with_dead,
            "a.txt",
            &dest.to_string_lossy(),
        ],
    );
    let get = ndjson(&out);
    check("get", &get, &fields);
    assert!(
        get.iter().any(|v| v["op"] == "get" && v["ok"] == true),
        "{get:?}"
    );

    // hosts and facts: one array each.
    let out = sshdeck(&farm, &["hosts", "--json", "-H", &farm.host_list()]);
    check("hosts", &array(&out), &fields);
    in_order("hosts", &String::from_utf8_lossy(&out.stdout), &fields);
    let out = sshdeck(&farm, &["facts", "--json", &farm.host_list()]);
    check("facts", &array(&out), &fields);
    in_order("facts", &String::from_utf8_lossy(&out.stdout), &fields);
}

#[test]
fn the_readme_lists_a_schema_for_every_command_that_takes_json() {
    let fields = documented();
    let bin = env!("CARGO_BIN_EXE_sshdeck");
    for cmd in [
        "run", "put", "get", "hosts", "facts", "recipe", "tui", "demo",
    ] {
        let help = std::process::Command::new(bin)
            .args([cmd, "--help"])
            .output()
            .expect("sshdeck --help");
        let takes_json = String::from_utf8_lossy(&help.stdout).contains("--json");
        assert_eq!(
            takes_json,
            fields.contains_key(cmd),
            "{cmd}: takes --json: {takes_json}, but the README's JSON output section {} it",
            if takes_json { "lacks" } else { "lists" }
        );
        if let Some(f) = fields.get(cmd) {
            assert_eq!(
                f.first().map(String::as_str),
                Some("schema_version"),
                "{cmd}"
            );
        }
    }
}
