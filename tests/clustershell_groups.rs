//! Our ClusterShell group sources must resolve groups as ClusterShell's
//! `nodeset` does (Debian package `clustershell`, installed by
//! scripts/test), each case with CLUSTERSHELL_CFGDIR at a groups.conf
//! written here. Both read /etc/clustershell/groups.conf too, as
//! ClusterShell always does: the files merge, the later winning per key.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use sshdeck::inventory::nodeset::expand;
use sshdeck::inventory::sources::GroupSource;
use sshdeck::inventory::sources::clustershell::{SourceGroups, config, group_expr, load_from};

fn nodeset_available() -> bool {
    let ok = Command::new("nodeset")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "ClusterShell's nodeset is missing under CI; scripts/test installs it"
        );
        eprintln!("skipping: ClusterShell's nodeset is not installed");
    }
    ok
}

struct Case {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    cfgdir: PathBuf,
}

impl Case {
    fn new(files: &[(&str, &str)]) -> Case {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let cfgdir = tmp.path().join("cfg");
        std::fs::create_dir_all(&home).unwrap();
        for (name, text) in files {
            let p = cfgdir.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        Case {
            _tmp: tmp,
            home,
            cfgdir,
        }
    }

    fn sources(&self) -> Vec<Box<dyn GroupSource>> {
        let paths = config::default_paths(Some(&self.home), None, Some(&self.cfgdir));
        load_from(&paths).unwrap_or_else(|e| panic!("{e}"))
    }

    fn nodeset(&self, args: &[&str]) -> Result<BTreeSet<String>, String> {
        let out = Command::new("nodeset")
            .args(args)
            .env("HOME", &self.home)
            .env_remove("XDG_CONFIG_HOME")
            .env("CLUSTERSHELL_CFGDIR", &self.cfgdir)
            .output()
            .expect("run nodeset");
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect())
    }

    fn ours(&self, expr: &str) -> Result<BTreeSet<String>, String> {
        let sources = self.sources();
        expand(expr, &SourceGroups(&sources))
            .map(|s| s.into_vec().into_iter().collect())
            .map_err(|e| e.to_string())
    }

    /// Both expand `expr` to the same nodes.
    fn agree(&self, expr: &str) {
        let theirs = self
            .nodeset(&["-e", expr])
            .unwrap_or_else(|e| panic!("nodeset -e {expr}: {e}"));
        assert!(!theirs.is_empty(), "a case should name nodes: {expr}");
        assert_eq!(
            self.ours(expr).unwrap_or_else(|e| panic!("{e}")),
            theirs,
            "{expr}"
        );
        let folded = self.nodeset(&["-f", expr]).unwrap();
        assert_eq!(folded.len(), 1, "nodeset -f {expr}: {folded:?}");
    }

    /// `nodeset -l` (or `-s src -l`) lists the names we list.
    fn lists_agree(&self, source: Option<&str>) {
        let mut args = vec![];
        if let Some(s) = source {
            args.extend(["-s", s]);
        }
        args.push("-l");
        let theirs = self.nodeset(&args).unwrap();
        let sources = self.sources();
        let src = match source {
            Some(name) => sources.iter().find(|s| s.name() == name).unwrap(),
            None => &sources[0],
        };
        let prefix = source.map_or("@".to_string(), |s| format!("@{s}:"));
        let ours: BTreeSet<String> = src
            .group_names()
            .unwrap()
            .unwrap()
            .into_iter()
            .map(|g| format!("{prefix}{g}"))
            .collect();
        assert_eq!(ours, theirs, "{args:?}");
    }
}

const MAIN: &str = "[Main]\ndefault: local\nconfdir: $CFGDIR/conf.d\nautodir: $CFGDIR/groups.d\n";
// /etc's groups.conf gives [local] an `all`: ours replaces it. [fallback]
// has none, so `@fallback:*` is every listed group's nodes.
const LOCAL: &str = "[local]\nmap: sed -n 's/^$GROUP: //p' $CFGDIR/data\nlist: sed -n 's/^\\([a-z0-9]*\\):.*/\\1/p' $CFGDIR/data\nall: sed -n 's/^[a-z0-9]*: //p' $CFGDIR/data\n[fallback]\nmap: sed -n 's/^$GROUP: //p' $CFGDIR/data\nlist: sed -n 's/^\\([a-z0-9]*\\):.*/\\1/p' $CFGDIR/data\n";
const DATA: &str =
    "web: web[01-04] db1\ndb: db[1-2]\nfront: @web x1\nrack1: n[1-3]\nrack2: n[4-5]\n";

fn upcall_case() -> Case {
    Case::new(&[
        ("groups.conf", &format!("{MAIN}\n{LOCAL}")),
        ("data", DATA),
        (
            "groups.d/roles.yaml",
            "roles:\n  web: r[1-3]\n  all: r[1-5]\n  both: '@web,z9'\n",
        ),
    ])
}

#[test]
fn upcall_groups_match_nodeset() {
    if !nodeset_available() {
        return;
    }
    let c = upcall_case();
    for expr in [
        "@web",
        "@local:web",
        "@front",
        "@rack[1-2]",
        "@web!db1,@db",
        "@*",
        "@local:*",
        "@fallback:*",
        "@fallback:front",
    ] {
        c.agree(expr);
    }
    c.lists_agree(None);
    c.lists_agree(Some("local"));
    c.lists_agree(Some("fallback"));
}

#[test]
fn yaml_groups_and_a_name_two_sources_share_match_nodeset() {
    if !nodeset_available() {
        return;
    }
    let c = upcall_case();
    for expr in ["@roles:web", "@roles:*", "@roles:both", "@web,@roles:web"] {
        c.agree(expr);
    }
    // The same name in two sources: the default source's for `@web`.
    assert_ne!(c.ours("@web").unwrap(), c.ours("@roles:web").unwrap());
    c.lists_agree(Some("roles"));
}

#[test]
fn sections_naming_two_sources_and_cfgdir_match_nodeset() {
    if !nodeset_available() {
        return;
    }
    let c = Case::new(&[
        (
            "groups.conf",
            "[Main]\ndefault: b\nconfdir: $CFGDIR/parts\nautodir: $CFGDIR/none\n",
        ),
        (
            "parts/ab.conf",
            "[a,b]\nmap: sed -n \"s/^$SOURCE-$GROUP: //p\" $CFGDIR/table\nall: sed -n \"s/^$SOURCE-[a-z]*: //p\" $CFGDIR/table\n",
        ),
        ("parts/table", "a-g: a[1-2]\nb-g: b[1-3]\nb-h: b9\n"),
    ]);
    for expr in ["@g", "@a:g", "@b:g", "@*", "@a:*"] {
        c.agree(expr);
    }
}

#[test]
fn a_failing_upcall_fails_both() {
    if !nodeset_available() {
        return;
    }
    let c = Case::new(&[(
        "groups.conf",
        "[Main]\ndefault: bad\nconfdir: $CFGDIR/x\nautodir: $CFGDIR/x\n[bad]\nmap: echo 'no table here' >&2; exit 4\n",
    )]);
    assert!(c.nodeset(&["-e", "@g"]).is_err());
    let e = c.ours("@g").unwrap_err();
    assert!(
        e.contains("exit status 4") && e.contains("no table here"),
        "{e}"
    );
    assert!(e.contains("groups.conf:6"), "{e}");
}

#[test]
fn cache_time_is_honoured() {
    let c = Case::new(&[(
        "groups.conf",
        "[Main]\ndefault: n\nconfdir: $CFGDIR/x\nautodir: $CFGDIR/x\n[n]\nmap: echo run >> $CFGDIR/runs; echo n1\ncache_time: 600\n[z]\nmap: echo run >> $CFGDIR/zruns; echo n1\ncache_time: 0\n",
    )]);
    let runs = |f: &str| {
        std::fs::read_to_string(c.cfgdir.join(f))
            .unwrap()
            .lines()
            .count()
    };
    let sources = c.sources();
    let defs: Vec<_> = (0..2)
        .map(|_| group_expr(&sources, "g").unwrap().unwrap())
        .collect();
    assert_eq!(defs[0].nodes, "n1");
    assert_eq!(defs[0], defs[1]);
    assert_eq!(runs("runs"), 1);
    for _ in 0..2 {
        group_expr(&sources, "z:g").unwrap().unwrap();
    }
    assert_eq!(runs("zruns"), 2);
}
