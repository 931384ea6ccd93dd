use super::*;

/// A node set's names, sorted: answers are compared as sets, since they
/// come back folded (`n1,n2` as `n[1-2]`).
fn set(nodes: &str) -> Vec<String> {
    let mut v = crate::inventory::nodeset::expand(nodes, &crate::inventory::nodeset::NoGroups)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_vec();
    v.sort();
    v
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

fn names(sources: &[Box<dyn GroupSource>]) -> Vec<&str> {
    sources.iter().map(|s| s.name()).collect()
}

#[test]
fn no_file_is_no_source() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        load_from(&[dir.path().join("groups.conf")])
            .unwrap()
            .is_empty()
    );
}

#[test]
fn confdir_autodir_then_groups_conf_with_the_default_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "conf.d/b.conf",
        "[Main]\nmap = nothing\n[part]\nmap = echo $CFGDIR\n",
    );
    write(d, "conf.d/.hidden.conf", "[hidden]\nmap = x\n");
    write(d, "groups.d/roles.yaml", "roles:\n  web: w[1-2]\n");
    let conf = write(
        d,
        "groups.conf",
        "[Main]\ndefault = two\nconfdir = $CFGDIR/conf.d $CFGDIR/missing\nautodir = '$CFGDIR/groups.d'\n[one,two]\nmap = echo $SOURCE\n",
    );
    let s = load_from(&[conf]).unwrap();
    assert_eq!(names(&s), ["two", "part", "roles", "one"]);
    // A confdir part's $CFGDIR is its own directory.
    let part = group_expr(&s, "part:x").unwrap().unwrap();
    assert_eq!(part.nodes, d.join("conf.d").display().to_string());
    assert_eq!(group_expr(&s, "g").unwrap().unwrap().nodes, "two");
    assert_eq!(
        group_expr(&s, "roles:web").unwrap().unwrap().nodes,
        "w[1-2]"
    );
    assert_eq!(group_expr(&s, "nosource:web").unwrap(), None);
    assert_eq!(group_expr(&s, "roles:nope").unwrap(), None);
}

#[test]
fn config_errors_name_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "file", "");
    let cases = [
        (
            "[Main]\ndefault = nope\n[a]\nmap = x\n",
            ":2: default group source not found",
        ),
        ("[a]\nall = x\n", ":1: section [a] has no map upcall"),
        ("[a]\nmap = x\ncache_time = soon\n", ":3: cache_time"),
        ("[Main]\nautodir = $CFGDIR/file\n", ":2: autodir"),
        (
            "[a,a]\nmap = x\n",
            ":1: group source \"a\" is already defined at",
        ),
    ];
    for (text, want) in cases {
        let conf = write(d, "groups.conf", text);
        let e = load_from(&[conf])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains(want), "{text:?}: {e}");
    }
}

#[test]
fn star_ranges_and_nested_groups_stay_in_their_source() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "groups.d/a.yaml",
        "s1:\n  g: '@h,user@x'\n  h: n1\n  all: '@g'\ns2:\n  h: other\n  r1: a\n  r2: b\n",
    );
    let conf = write(
        d,
        "groups.conf",
        "[Main]\nautodir = $CFGDIR/groups.d\ndefault = s2\n",
    );
    let s = load_from(&[conf]).unwrap();
    assert_eq!(
        group_expr(&s, "s1:g").unwrap().unwrap().nodes,
        "@s1:h,user@x"
    );
    assert_eq!(group_expr(&s, "s1:*").unwrap().unwrap().nodes, "@s1:g");
    assert_eq!(
        set(&group_expr(&s, "*").unwrap().unwrap().nodes),
        set("other,a,b")
    );
    assert_eq!(group_expr(&s, "r[1-2]").unwrap().unwrap().nodes, "a,b");
    let set = expand("@s1:*,@r[1-2]", &SourceGroups(&s))
        .unwrap()
        .into_vec();
    assert_eq!(set, ["n1", "user@x", "a", "b"]);
}

#[test]
fn groupsdir_wins_over_confdir_and_an_empty_default_is_the_first_source() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "g.d/g.conf", "[fromgroupsdir]\nmap = echo g\n");
    write(d, "c.d/c.conf", "[fromconfdir]\nmap = echo c\n");
    let conf = write(
        d,
        "groups.conf",
        "[Main]\ndefault =\ngroupsdir = $CFGDIR/g.d\nconfdir = $CFGDIR/c.d\n[own]\nmap = echo o\n",
    );
    let s = load_from(&[conf]).unwrap();
    assert_eq!(names(&s), ["fromgroupsdir", "own"]);
    assert_eq!(group_expr(&s, "x").unwrap().unwrap().nodes, "g");
}

#[test]
fn a_file_that_cannot_be_read_is_an_error_a_missing_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let conf = write(d, "groups.conf", "[a]\nmap = echo a\n");
    let not_text = write(d, "bin.conf", "[a]\nmap = \u{0}");
    std::fs::write(&not_text, [0xff, 0xfe]).unwrap();
    let e = load_from(&[conf.clone(), not_text])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("bin.conf: cannot read: not UTF-8"), "{e}");
    let s = load_from(&[d.join("missing.conf"), conf]).unwrap();
    assert_eq!(names(&s), ["a"]);
}
