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

fn source(dir: &std::path::Path, map: &str, list: Option<&str>, all: Option<&str>) -> UpcallSource {
    let up = |c: &str, line| Upcall {
        command: c.to_string(),
        origin: Origin::new("/g.conf", line),
    };
    UpcallSource::new(
        "local".into(),
        up(map, 2),
        all.map(|c| up(c, 3)),
        list.map(|c| up(c, 4)),
        dir.to_path_buf(),
        Some(DEFAULT_CACHE_TIME),
    )
}

#[test]
fn variables_are_substituted_and_words_joined() {
    let dir = tempfile::tempdir().unwrap();
    let s = source(
        dir.path(),
        "echo \"$SOURCE-$GROUP\"; echo \"  b  c\"; pwd",
        None,
        None,
    );
    let def = s.group("web").unwrap().unwrap();
    let cwd = dir.path().canonicalize().unwrap();
    assert_eq!(
        set(&def.nodes),
        set(&format!("local-web,b,c,{}", cwd.display()))
    );
    assert_eq!(def.origin, Origin::new("/g.conf", 2));
    let s = source(dir.path(), "echo $CFGDIR", None, None);
    assert_eq!(
        s.group("x").unwrap().unwrap().nodes,
        dir.path().display().to_string()
    );
}

#[test]
fn a_failing_upcall_gives_its_status_and_stderr_tail() {
    let dir = tempfile::tempdir().unwrap();
    let s = source(
        dir.path(),
        "echo first >&2; echo 'no such group' >&2; exit 3",
        None,
        None,
    );
    let e = s.group("web").unwrap_err().to_string();
    assert!(e.contains("/g.conf:2"), "{e}");
    assert!(e.contains("exit status 3"), "{e}");
    assert!(e.contains("first | no such group"), "{e}");
}

#[test]
fn stdin_is_empty_and_a_slow_upcall_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let s = source(dir.path(), "cat; echo done", None, None);
    assert_eq!(s.group("g").unwrap().unwrap().nodes, "done");
    let mut s = source(dir.path(), "sleep 30 & sleep 30", None, None);
    s.timeout = Duration::from_millis(200);
    let started = Instant::now();
    let e = s.group("g").unwrap_err().to_string();
    assert!(e.contains("did not finish"), "{e}");
    // The background sleep, killed with its group, no longer holds the pipe.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn answers_are_cached_for_cache_time() {
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("count");
    let map = format!("echo x >> {}; echo n1", count.display());
    let runs = || std::fs::read_to_string(&count).unwrap().lines().count();
    let s = source(dir.path(), &map, None, None);
    s.group("a").unwrap();
    s.group("a").unwrap();
    assert_eq!(runs(), 1);
    s.group("b").unwrap();
    assert_eq!(runs(), 2);
    let mut s = source(dir.path(), &map, None, None);
    s.cache_time = Some(Duration::ZERO);
    s.group("a").unwrap();
    s.group("a").unwrap();
    assert_eq!(runs(), 4);
}

#[test]
fn unsafe_group_names_never_reach_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let s = source(dir.path(), "echo $GROUP", None, None);
    for bad in ["a;touch x", "$(id)", "a b", "`id`", "-n", "a'b", "*", ""] {
        let e = s.group(bad).expect_err(bad).to_string();
        assert!(e.contains("/g.conf:2"), "{e}");
    }
    assert!(!dir.path().join("x").exists());
}

#[test]
fn list_and_all_with_clustershells_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let s = source(
        dir.path(),
        "echo n-$GROUP",
        Some("echo a b; echo 'r[1-2]'"),
        None,
    );
    assert_eq!(s.group_names().unwrap().unwrap(), ["a", "b", "r1", "r2"]);
    assert_eq!(
        set(&s.all_nodes().unwrap().unwrap()),
        set("n-a,n-b,n-r1,n-r2")
    );
    let s = source(dir.path(), "echo n", None, Some("echo x y"));
    assert_eq!(s.group_names().unwrap(), None);
    assert_eq!(set(&s.all_nodes().unwrap().unwrap()), set("x,y"));
    let s = source(dir.path(), "echo n", None, None);
    assert_eq!(s.all_nodes().unwrap(), None);
    let s = source(dir.path(), "echo n", Some("echo 'a,b'"), None);
    assert!(
        s.group_names()
            .unwrap_err()
            .to_string()
            .contains("/g.conf:4")
    );
}
