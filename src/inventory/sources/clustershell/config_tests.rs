use super::*;

fn parse(text: &str) -> Result<Ini, SourceError> {
    let mut ini = Ini::default();
    ini.merge(Path::new("/g.conf"), text)?;
    Ok(ini)
}

#[test]
fn sections_options_and_continuations() {
    let ini = parse(
        "# comment\n[Main]\ndefault: local\n\n[local]\nmap = sed -n 's/^$GROUP:\\(.*\\)/\\1/p' f\nlist=cut -d: -f1 f\n  | sort\n; c\nAll = echo x\n",
    )
    .unwrap();
    assert_eq!(ini.get_raw("Main", "default").unwrap().text, "local");
    let map = ini.get_raw("local", "map").unwrap();
    assert_eq!(map.text, "sed -n 's/^$GROUP:\\(.*\\)/\\1/p' f");
    assert_eq!(map.origin, Origin::new("/g.conf", 6));
    assert_eq!(
        ini.get_raw("local", "list").unwrap().text,
        "cut -d: -f1 f\n| sort"
    );
    // Option names are case-insensitive, as ConfigParser lowercases them.
    assert_eq!(ini.get_raw("local", "all").unwrap().text, "echo x");
}

#[test]
fn defaults_are_seen_in_every_section() {
    let ini = parse("[DEFAULT]\ncache_time = 5\n[a]\nmap = x\n").unwrap();
    assert_eq!(ini.get_raw("a", "cache_time").unwrap().text, "5");
    assert_eq!(ini.sections.len(), 1);
}

#[test]
fn later_files_win_per_key() {
    let mut ini = Ini::default();
    ini.merge(Path::new("/a"), "[s]\nmap = one\nall = a\n")
        .unwrap();
    ini.merge(Path::new("/b"), "[s]\nmap = two\n").unwrap();
    assert_eq!(ini.get_raw("s", "map").unwrap().text, "two");
    assert_eq!(ini.get_raw("s", "all").unwrap().text, "a");
}

#[test]
fn errors_name_the_line() {
    let cases = [
        ("map = x\n", 1, "before any [section]"),
        ("[a]\nmap = x\n[a]\n", 3, "twice"),
        ("[a]\nmap = x\nMAP = y\n", 3, "twice"),
        ("[a]\njust words\n", 2, "not `key = value`"),
        ("[a]\n = v\n", 2, "without a name"),
    ];
    for (text, line, what) in cases {
        let e = parse(text).expect_err(text).to_string();
        assert!(e.starts_with(&format!("/g.conf:{line}: ")), "{e}");
        assert!(e.contains(what), "{e}");
    }
}

#[test]
fn interpolation_as_configparser() {
    let ini = parse("[Main]\nbase = /x\nconfdir = %(base)s/conf 100%%\nbad = 5%\n").unwrap();
    assert_eq!(
        ini.get("Main", "confdir").unwrap().unwrap().text,
        "/x/conf 100%"
    );
    assert!(ini.get("Main", "bad").is_err());
}

#[test]
fn template_substitution_as_python() {
    let vars = [("GROUP", "web"), ("CFGDIR", "/c")];
    assert_eq!(
        substitute("$CFGDIR/f ${GROUP}x $$GROUP $group $NOPE $", &vars),
        "/c/f webx $GROUP $group $NOPE $"
    );
    assert_eq!(substitute("${GROUP", &vars), "${GROUP");
    assert_eq!(substitute("$GROUPS", &vars), "$GROUPS");
}

#[test]
fn normpath_and_words() {
    assert_eq!(normpath("/a/./b/../c/"), PathBuf::from("/a/c"));
    assert_eq!(normpath("/../a"), PathBuf::from("/a"));
    assert_eq!(normpath("a/../.."), PathBuf::from(".."));
    let o = Origin::new("/g", 1);
    assert_eq!(
        shell_words("a 'b c' \"d\\\"e\" f\\ g", &o).unwrap(),
        ["a", "b c", "d\"e", "f g"]
    );
    assert!(shell_words("'open", &o).is_err());
}

#[test]
fn paths_in_clustershell_order() {
    let p = default_paths(Some(Path::new("/h")), None, Some(Path::new("/c")));
    assert_eq!(
        p,
        [
            PathBuf::from("/etc/clustershell/groups.conf"),
            PathBuf::from("/h/.local/etc/clustershell/groups.conf"),
            PathBuf::from("/h/.config/clustershell/groups.conf"),
            PathBuf::from("/c/groups.conf"),
        ]
    );
    let p = default_paths(Some(Path::new("/h")), Some(Path::new("/x")), None);
    assert_eq!(p[2], PathBuf::from("/x/clustershell/groups.conf"));
}
