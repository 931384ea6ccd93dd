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
    // Blanks around terms and inside brackets are stripped.
    " a , b ",
    "n[ 1-3 ]",
    "n[1 - 3, 5]",
    // Negative numbers.
    "n[-5]",
    "n[-5-3]",
    // Digits before '[' start the range's numbers (not a stepped one's).
    "prod-2[10-320]",
    "n1[0-20]",
    "n1[0-20/5]",
    "n0[1-2]",
    "n1[5,7]",
];

/// Inputs ClusterShell refuses: ours must refuse them too.
const REFUSED: &[&str] = &[
    "n[1-044]",
    "0[7-10]",
    "n00[8-10]",
    "n[01-100]",
    "n[3/2]",
    "!a",
    "n[1-2]3[4-5]",
    "a,,b",
    "n[1-3],",
    ",a",
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
fn what_clustershell_refuses_we_refuse() {
    assert!(
        nodeset_available() || std::env::var("CI").as_deref() != Ok("true"),
        "ClusterShell's nodeset is missing under CI; scripts/test installs it"
    );
    for expr in REFUSED {
        if nodeset_available() {
            let out = Command::new("nodeset")
                .arg("-e")
                .arg(expr)
                .output()
                .expect("run nodeset");
            assert!(!out.status.success(), "ClusterShell accepts {expr:?} now");
        }
        assert!(
            expand(expr, &NoGroups).is_err(),
            "we accept {expr:?}: {:?}",
            expand(expr, &NoGroups).map(|s| s.into_vec())
        );
    }
}

/// The one difference we keep: ClusterShell keeps `a b` as one node with
/// a blank in its name; no host name holds one, so we refuse it.
#[test]
fn a_blank_inside_a_name_is_refused() {
    let e = expand("a b", &NoGroups).expect_err("a blank in a host name");
    assert!(e.to_string().contains("whitespace"), "{e}");
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
