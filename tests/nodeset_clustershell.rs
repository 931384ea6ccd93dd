//! Our node-set expansion must agree with ClusterShell's `nodeset -e`
//! (Debian package `clustershell`, installed by scripts/test).

use std::collections::BTreeSet;
use std::process::Command;

use sshdeck::inventory::nodeset::{MAX_NODES, NoGroups, expand, fold};

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

/// ClusterShell's own test inputs (see the file's header for how they were
/// taken from its suite).
const SUITE_INPUTS: &str = include_str!("data/clustershell_inputs.txt");

/// Inputs of ClusterShell's suite where we differ on purpose, each with
/// why. Inputs that expand past MAX_NODES are a difference by rule, not
/// listed here.
const DELIBERATE: &[(&str, &str)] = &[
    (
        "tigrou 0, tigrou [1],tigrou [2-3]",
        "a blank inside a name is refused: no host name holds one (README)",
    ),
    (
        "  ",
        "an all-blank node set is an error, not an empty set: `-H ' '` selecting nothing is a mistake",
    ),
];

/// Evaluates every input in one python process, with the interpreter and
/// ClusterShell package that `nodeset` itself runs on. Prints, per input,
/// the size and a digest of the sorted names, or the error.
const ORACLE: &str = r#"
import hashlib, json, sys
from ClusterShell.NodeSet import NodeSet, RESOLVER_NOGROUP
out = []
for expr in json.load(sys.stdin):
    try:
        # No group resolver, like our NoGroups: with one, `*` and `?` would
        # match against whatever groups.conf this machine has.
        names = sorted(NodeSet(expr, resolver=RESOLVER_NOGROUP))
    except Exception as e:
        out.append({"err": "%s: %s" % (type(e).__name__, e)})
        continue
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()
    out.append({"n": len(names), "sha": digest, "head": names[:5]})
json.dump(out, sys.stdout)
"#;

/// The interpreter named by `nodeset`'s `#!` line, so the oracle imports
/// the same ClusterShell the CLI does.
fn nodeset_python() -> Option<String> {
    let path = std::env::var_os("PATH")?;
    let script = std::env::split_paths(&path)
        .map(|d| d.join("nodeset"))
        .find(|p| p.is_file())?;
    let text = std::fs::read_to_string(script).ok()?;
    let shebang = text.lines().next()?.strip_prefix("#!")?;
    let mut words = shebang.split_whitespace();
    let first = words.next()?;
    // `#!/usr/bin/env python3` names the interpreter in its second word.
    if first.ends_with("/env") {
        words.next().map(str::to_string)
    } else {
        Some(first.to_string())
    }
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Set { n: usize, sha: String },
    Refused,
}

fn clustershell_outcomes(inputs: &[&str]) -> Vec<(Outcome, String)> {
    use std::io::Write;
    let python = nodeset_python().expect("nodeset's #! line names no interpreter");
    let mut child = Command::new(&python)
        .arg("-c")
        .arg(ORACLE)
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {python}: {e}"));
    let json = serde_json::to_vec(inputs).expect("inputs as JSON");
    child
        .stdin
        .take()
        .expect("oracle stdin")
        .write_all(&json)
        .expect("write to the oracle");
    let out = child.wait_with_output().expect("oracle output");
    assert!(
        out.status.success(),
        "{python} with ClusterShell.NodeSet: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<serde_json::Value> =
        serde_json::from_slice(&out.stdout).expect("the oracle prints JSON");
    assert_eq!(answers.len(), inputs.len(), "one answer per input");
    answers
        .into_iter()
        .map(|a| match a.get("err") {
            Some(e) => (Outcome::Refused, e.to_string()),
            None => (
                Outcome::Set {
                    n: a["n"].as_u64().expect("n") as usize,
                    sha: a["sha"].as_str().expect("sha").to_string(),
                },
                a["head"].to_string(),
            ),
        })
        .collect()
}

/// Size and digest of sorted names, as the oracle prints them.
fn outcome_of(mut names: Vec<String>) -> Outcome {
    use sha2::{Digest, Sha256};
    names.sort();
    let sha = Sha256::digest(names.join("\n").as_bytes());
    Outcome::Set {
        n: names.len(),
        sha: sha.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// Our outcome, what to show if it differs, and (for sets small enough
/// to check quickly) our fold of the names.
fn our_outcome(expr: &str) -> (Outcome, String, Option<String>) {
    match expand(expr, &NoGroups) {
        Ok(set) => {
            let names = set.into_vec();
            let head = format!("{:?}", &names[..names.len().min(5)]);
            let folded = (!names.is_empty() && names.len() <= 10_000).then(|| fold(&names));
            (outcome_of(names), head, folded)
        }
        Err(e) => (Outcome::Refused, e.to_string(), None),
    }
}

#[test]
fn clustershell_suite_inputs_agree() {
    if nodeset_python().is_none() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "ClusterShell's nodeset is missing under CI; scripts/test installs it"
        );
        eprintln!("skipping: ClusterShell's nodeset is not installed");
        return;
    }
    let inputs: Vec<&str> = SUITE_INPUTS
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert!(inputs.len() > 800, "the data file lost its inputs");
    // Python works while we expand ours: the test stays well under 20 s.
    let oracle = std::thread::spawn({
        let inputs = inputs.clone();
        move || clustershell_outcomes(&inputs)
    });
    let ours: Vec<(Outcome, String, Option<String>)> =
        inputs.iter().map(|e| our_outcome(e)).collect();
    let theirs = oracle.join().expect("the oracle thread");
    // Our fold of every set we agree on must expand back to it, with our
    // parser and with ClusterShell's.
    let folds: Vec<(&str, &str, &Outcome)> = inputs
        .iter()
        .zip(&ours)
        .zip(&theirs)
        .filter(|((_, (got, ..)), (want, _))| got == want)
        .filter_map(|((e, (got, _, folded)), _)| Some((*e, folded.as_deref()?, got)))
        .collect();
    assert!(folds.len() > 600, "too few sets to check folding on");
    let folded_texts: Vec<&str> = folds.iter().map(|(_, f, _)| *f).collect();
    let theirs_back = clustershell_outcomes(&folded_texts);
    for ((expr, folded, want), (back, why)) in folds.iter().zip(theirs_back) {
        let ours_back = expand(folded, &NoGroups).map(|s| outcome_of(s.into_vec()));
        assert_eq!(
            ours_back.as_ref(),
            Ok(*want),
            "{expr:?} folds to {folded:?}"
        );
        assert_eq!(
            &back, *want,
            "{expr:?} folds to {folded:?}, ClusterShell: {why}"
        );
    }
    let mut differ = Vec::new();
    let mut too_big = 0;
    for ((expr, (want, why_want)), (got, why_got, _)) in inputs.iter().zip(theirs).zip(ours) {
        if got == want {
            continue;
        }
        let past_limit = matches!(want, Outcome::Set { n, .. } if n > MAX_NODES);
        if past_limit && got == Outcome::Refused {
            too_big += 1;
            continue;
        }
        differ.push((
            *expr,
            format!("ours {got:?} {why_got} / theirs {want:?} {why_want}"),
        ));
    }
    eprintln!(
        "{} of {} inputs agree; {too_big} past MAX_NODES",
        inputs.len() - differ.len() - too_big,
        inputs.len()
    );
    let unexplained: Vec<_> = differ
        .iter()
        .filter(|(e, _)| !DELIBERATE.iter().any(|(d, _)| d == e))
        .collect();
    let stale: Vec<_> = DELIBERATE
        .iter()
        .filter(|(d, _)| !differ.iter().any(|(e, _)| e == d))
        .collect();
    for (expr, how) in &unexplained {
        eprintln!("DIFF {expr:?}: {how}");
    }
    assert!(
        unexplained.is_empty(),
        "{} unexplained differences",
        unexplained.len()
    );
    assert!(
        stale.is_empty(),
        "listed differences that agree now: {stale:?}"
    );
}

/// Beyond ClusterShell's suite: inputs it accepts and we refuse on
/// purpose, each with why. The test checks both halves, so an entry goes
/// stale loudly if either side changes.
const WE_REFUSE_THEY_ACCEPT: &[(&str, &str)] = &[
    (
        "n[5-1-3]",
        "ClusterShell drops what comes before a sign and reads -1..3; we refuse rather than guess",
    ),
    (
        "n1[-5]",
        "digits before '[' would land between a sign and its number (ClusterShell gives n1..n15)",
    ),
    (
        "n[+5]",
        "a number is ASCII digits only (Python's int() takes a sign)",
    ),
    (
        "n[1_0]",
        "a number is ASCII digits only (Python's int() takes '_')",
    ),
    (
        "n[99999999999999999999]",
        "numbers stop at i64; ClusterShell goes to 1e100",
    ),
];

#[test]
fn deliberate_refusals_beyond_the_suite() {
    let oracle = nodeset_python().is_some();
    assert!(
        oracle || std::env::var("CI").as_deref() != Ok("true"),
        "ClusterShell's nodeset is missing under CI; scripts/test installs it"
    );
    let inputs: Vec<&str> = WE_REFUSE_THEY_ACCEPT.iter().map(|(e, _)| *e).collect();
    if oracle {
        for (expr, (theirs, why)) in inputs.iter().zip(clustershell_outcomes(&inputs)) {
            assert_ne!(
                theirs,
                Outcome::Refused,
                "ClusterShell refuses {expr:?} now: {why}"
            );
        }
    }
    for (expr, reason) in WE_REFUSE_THEY_ACCEPT {
        assert!(
            expand(expr, &NoGroups).is_err(),
            "we accept {expr:?} ({reason})"
        );
    }
}
