//! `[[facts]]`, `[[columns]]`, `[[recipes]]` and `[[commands]]`: what a
//! good config turns into, and the file:line:col of every mistake.

use std::path::Path;
use std::time::Duration;

use sshdeck::engine::recipe::Step;
use sshdeck::inventory::config::Config;

fn err(text: &str) -> String {
    Config::parse(Path::new("/etc/sshdeck.toml"), text)
        .expect_err("should be refused")
        .to_string()
}

const GOOD: &str = r#"
[defaults]
facts = ["os", "disk", "gpu"]
facts_interval = 30
facts_timeout = 4

[[facts]]
name = "gpu"
command = "nvidia-smi -L | wc -l"
parse = "regex"
pattern = "(?P<count>\\d+)"
interval = 600

[[columns]]
fact = "disk.max_used_pct"
title = "disk%"
warn = 80
crit = 90

[[columns]]
fact = "gpu.count"

[[commands]]
name = "disk hogs"
command = "du -xsh /var/* | sort -h | tail -3"

[[recipes]]
name = "hpc"
description = "inputs up, job, results down"
[[recipes.steps]]
put = ["in/{host}.dat", "run.sh"]
to = "jobs/{date}"
[[recipes.steps]]
run = "cd jobs/{date} && sh run.sh"
timeout = 60
[[recipes.steps]]
wait = "test -f jobs/{date}/done"
every = 0.5
[[recipes.steps]]
get = "jobs/{date}/out"
to = "results"
"#;

#[test]
fn a_full_config_turns_into_collectors_columns_and_recipes() {
    let c = Config::parse(Path::new("c.toml"), GOOD).unwrap();
    let facts = c.scheduled_facts();
    let names: Vec<_> = facts.iter().map(|s| s.collector.name()).collect();
    assert_eq!(names, ["os", "disk", "gpu"]);
    assert_eq!(facts[0].interval, Duration::from_secs(30));
    assert_eq!(facts[0].timeout, Duration::from_secs(4));
    // The collector's own interval wins over the default.
    assert_eq!(facts[2].interval, Duration::from_secs(600));
    let cols = c.columns();
    assert_eq!(cols[0].title, "disk%");
    assert_eq!(cols[1].title, "gpu.count");
    assert_eq!(
        c.saved_commands(),
        [(
            "disk hogs".to_string(),
            "du -xsh /var/* | sort -h | tail -3".to_string()
        )]
    );
    let r = &c.recipes()[0];
    assert_eq!(r.name, "hpc");
    assert_eq!(r.steps.len(), 4);
    assert_eq!(
        r.steps[2],
        Step::Wait {
            command: "test -f jobs/{date}/done".into(),
            timeout: Duration::from_secs(300),
            every: Duration::from_millis(500),
        }
    );
    assert_eq!(
        r.steps[3],
        Step::Get {
            sources: vec!["jobs/{date}/out".into()],
            dest: "results".into()
        }
    );
}

#[test]
fn no_facts_settings_means_every_collector_and_default_columns() {
    let c = Config::parse(Path::new("c.toml"), "").unwrap();
    let names: Vec<_> = c
        .scheduled_facts()
        .iter()
        .map(|s| s.collector.name().to_string())
        .collect();
    assert_eq!(names, ["cpu", "disk", "memory", "net", "os", "uptime"]);
    assert_eq!(c.columns().len(), 3);
}

#[test]
fn facts_mistakes_name_file_line_and_column() {
    assert_eq!(
        err("[defaults]\nfacts = [\"os\", \"dsk\"]\n"),
        "/etc/sshdeck.toml:2:16: no collector named \"dsk\" (known: cpu, disk, memory, net, os, uptime)"
    );
    assert_eq!(
        err("[[facts]]\nname = \"t\"\ncommand = \"x\"\nparse = \"xml\"\n"),
        "/etc/sshdeck.toml:4:9: facts \"t\": parse \"xml\" is not one of regex, json, kv"
    );
    assert_eq!(
        err("[[facts]]\nname = \"t\"\ncommand = \"x\"\nparse = \"regex\"\npattern = \"(\"\n"),
        "/etc/sshdeck.toml:5:11: facts \"t\": error: unclosed group"
    );
    assert_eq!(
        err("[[facts]]\nname = \"t\"\ncommand = \"x\"\nparse = \"regex\"\n"),
        "/etc/sshdeck.toml:4:9: facts \"t\": parse = \"regex\" needs a pattern"
    );
    assert_eq!(
        err("[[facts]]\nname = \"disk\"\ncommand = \"x\"\nparse = \"kv\"\n"),
        "/etc/sshdeck.toml:2:8: a collector named \"disk\" already exists"
    );
    assert_eq!(
        err("[[facts]]\nname = \"t\"\ncommand = \"x\"\nparse = \"kv\"\ntimeout = 0\n"),
        "/etc/sshdeck.toml:5:11: must be a positive number of seconds"
    );
    assert_eq!(
        err("[[columns]]\nfact = \"load\"\n"),
        "/etc/sshdeck.toml:2:8: column fact \"load\" must be collector.key, e.g. \"disk.max_used_pct\""
    );
    assert!(err("[[columns]]\nfact = \"cpux.count\"\n").starts_with(
        "/etc/sshdeck.toml:2:8: column fact \"cpux.count\": no collector named \"cpux\""
    ));
    assert!(
        err("[[columns]]\nfact = \"cpu.count\"\ncolour = \"red\"\n")
            .contains(":3:1: unknown field `colour`")
    );
}

#[test]
fn recipe_mistakes_name_file_line_and_column() {
    let recipe = |steps: &str| format!("[[recipes]]\nname = \"r\"\n{steps}");
    assert_eq!(
        err(&recipe("")),
        "/etc/sshdeck.toml:2:8: recipe \"r\" has no steps (add [[recipes.steps]] tables)"
    );
    assert_eq!(
        err(&recipe("[[recipes.steps]]\nrun = \"a\"\nwait = \"b\"\n")),
        "/etc/sshdeck.toml:3:1: recipe \"r\" step 1: needs exactly one of put, run, get, wait"
    );
    assert_eq!(
        err(&recipe("[[recipes.steps]]\nput = \"x\"\n")),
        "/etc/sshdeck.toml:3:1: recipe \"r\" step 1: put needs `to`, the remote directory"
    );
    assert_eq!(
        err(&recipe("[[recipes.steps]]\nrun = \"echo {hostname}\"\n")),
        "/etc/sshdeck.toml:4:7: recipe \"r\" step 1: unknown placeholder {hostname} (known: {host}, {user}, {date})"
    );
    assert_eq!(
        err(&recipe(
            "[[recipes.steps]]\nrun = \"true\"\n[[recipes.steps]]\nwait = \"true\"\nevery = -1\n"
        )),
        "/etc/sshdeck.toml:7:9: recipe \"r\" step 2: must be a positive number of seconds"
    );
    assert_eq!(
        err(&recipe("[[recipes.steps]]\nrun = \"true\"\nto = \"x\"\n")),
        "/etc/sshdeck.toml:3:1: recipe \"r\" step 1: to is not used by this kind of step"
    );
    assert_eq!(
        err(&format!(
            "{}\n{}",
            recipe("[[recipes.steps]]\nrun = \"true\"\n"),
            recipe("[[recipes.steps]]\nrun = \"true\"\n")
        )),
        "/etc/sshdeck.toml:7:8: recipe \"r\" is defined twice"
    );
    assert_eq!(
        err("[[commands]]\nname = \"x\"\ncommand = \" \"\n"),
        "/etc/sshdeck.toml:3:11: command \"x\" is empty"
    );
}
