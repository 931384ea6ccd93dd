//! Our node-set expansion must agree with ClusterShell's `nodeset -e`
//! (Debian package `clustershell`, installed by scripts/test).

use std::collections::BTreeSet;
use std::process::Command;

use sshdeck::inventory::nodeset::{NoGroups, expand, fold};

const EXPRESSIONS: &[&str] = &[
    "web[01-20,30]",
    "n[1-9/2]",
    "n[0-20/5]",
    "rack[1-2]n[1-4]",
    "rack[1-2]-n[01-03]x",
    "n[1-10]!n[3-5]",
    "n[1-10]&n[5-15]",
    "n[1-10]^n[5-15]",
    "n[1-4]!n2,n2",
    "n[1-4]&n[2-3]^n[3-5]",
    "a1,b2,a1",
    "x[098-102]",
    "x[8-12]",
    "db[1-3],web[1-2]!web1",
];

fn nodeset_available() -> bool {
    Command::new("nodeset")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn theirs(expr: &str) -> BTreeSet<String> {
    let out = Command::new("nodeset")
        .arg("-e")
        .arg(expr)
        .output()
        .expect("run nodeset");
    assert!(
        out.status.success(),
        "nodeset -e {expr}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
fn expansions_match_clustershell() {
    if !nodeset_available() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "ClusterShell's nodeset is missing under CI; scripts/test installs it"
        );
        eprintln!("skipping: ClusterShell's nodeset is not installed");
        return;
    }
    for expr in EXPRESSIONS {
        let ours: BTreeSet<String> = expand(expr, &NoGroups)
            .unwrap_or_else(|e| panic!("{e}"))
            .into_vec()
            .into_iter()
            .collect();
        assert_eq!(ours, theirs(expr), "expression {expr}");
    }
}

#[test]
fn our_folding_expands_back_the_same_in_clustershell() {
    if !nodeset_available() {
        eprintln!("skipping: ClusterShell's nodeset is not installed");
        return;
    }
    for expr in EXPRESSIONS {
        let names = expand(expr, &NoGroups).unwrap().into_vec();
        let folded = fold(&names);
        let want: BTreeSet<String> = names.into_iter().collect();
        assert_eq!(theirs(&folded), want, "{expr} folded to {folded}");
    }
}
