//! Tests of config.rs: parsing, and errors naming file:line:col.

use super::*;

fn err(text: &str) -> String {
    Config::parse(Path::new("/etc/x.toml"), text)
        .expect_err("should fail")
        .to_string()
}

#[test]
fn parses_hosts_and_defaults() {
    let c = Config::parse(
        Path::new("c.toml"),
        "[defaults]\nuser = \"ops\"\nconnect_timeout = 2.5\n\n[[hosts]]\nname = \"web1\"\naddress = \"10.0.0.1\"\nport = 2222\n",
    )
    .unwrap();
    assert_eq!(c.defaults.user.as_deref(), Some("ops"));
    let web1 = c.hosts.iter().find(|h| h.name.get_ref() == "web1");
    assert_eq!(web1.and_then(|h| h.port), Some(2222));
}

#[test]
fn tilde_paths_expand_to_home() {
    let c = Config::parse(
        Path::new("c"),
        "[defaults]\nidentity_files = [\"~/.ssh/k\", \"/abs\"]\n",
    )
    .unwrap();
    let home = crate::engine::connection::target::home_dir().unwrap();
    assert_eq!(
        c.defaults.identity_files,
        vec![home.join(".ssh/k"), PathBuf::from("/abs")]
    );
}

#[test]
fn example_config_is_valid() {
    let text = include_str!("../../config.example.toml");
    let c = Config::parse(Path::new("config.example.toml"), text).unwrap();
    assert_eq!(c.hosts.len(), 4);
    assert_eq!(c.group_map()["all"], "@web,db1");
}

#[test]
fn syntax_error_names_file_line_col() {
    assert!(
        err("[defaults]\nuser = \n").starts_with("/etc/x.toml:2:"),
        "{}",
        err("[defaults]\nuser = \n")
    );
}

#[test]
fn expect_rules_compile_and_bad_patterns_name_their_line() {
    let c = Config::parse(
        Path::new("c"),
        "[[expect]]\npattern = '\\[sudo\\] password for .*:'\nsecret = \"sudo\"\nfailure = \"Sorry\"\n",
    )
    .unwrap();
    let rules = c.expect_rules();
    assert_eq!(rules.len(), 1);
    assert!(rules[0].pattern.is_match("[sudo] password for bob:"));
    let e = err("\n[[expect]]\nsecret = \"x\"\npattern = \"(unclosed\"\n");
    assert!(
        e.starts_with("/etc/x.toml:4:11: not a valid regular expression"),
        "{e}"
    );
    assert!(!e.contains('\n'), "{e}");
    let e = err("[[expect]]\nsecret = \" \"\npattern = \"x\"\n");
    assert!(
        e.starts_with("/etc/x.toml:2:10: secret name is empty"),
        "{e}"
    );
    let e = err("[[expect]]\nsecret = \"s\"\n");
    assert!(e.contains("missing field `pattern`"), "{e}");
}

#[test]
fn unknown_key_names_its_position() {
    let e = err("[[hosts]]\nname = \"a\"\nadress = \"x\"\n");
    assert!(e.starts_with("/etc/x.toml:3:1:"), "{e}");
    assert!(e.contains("adress"), "{e}");
}

#[test]
fn wrong_type_names_its_position() {
    let e = err("[[hosts]]\nname = \"a\"\nport = \"ssh\"\n");
    assert!(e.starts_with("/etc/x.toml:3:8:"), "{e}");
}

#[test]
fn duplicate_host_points_at_second_definition() {
    let e = err("[[hosts]]\nname = \"a\"\n[[hosts]]\nname = \"a\"\n");
    assert!(e.starts_with("/etc/x.toml:4:8:"), "{e}");
    assert!(e.contains("first at line 2"), "{e}");
}

#[test]
fn bad_policy_names_its_value() {
    let e = err("[defaults]\nhost_key_policy = \"yolo\"\n");
    assert!(
        e.starts_with("/etc/x.toml:2:19:") && e.contains("yolo"),
        "{e}"
    );
}

#[test]
fn bad_group_expression_points_into_the_string() {
    let e = err("[groups]\nweb = \"web[1-\"\n");
    assert!(e.starts_with("/etc/x.toml:2:"), "{e}");
    assert!(e.contains("group \"web\""), "{e}");
}

#[test]
fn unknown_group_reference_is_an_error() {
    let e = err("[groups]\nall = \"@nope\"\n");
    assert!(e.contains("unknown group @nope"), "{e}");
}

#[test]
fn zero_scrollback_and_empty_jump_are_refused() {
    assert!(err("[defaults]\nscrollback = 0\n").starts_with("/etc/x.toml:2:14:"));
    let e = err("[[hosts]]\nname = \"a\"\njump = \" \"\n");
    assert!(e.contains("jump is empty"), "{e}");
}

#[test]
fn groups_tags_and_jumps_parse() {
    let c = Config::parse(
        Path::new("c"),
        "[groups]\nweb = \"web[1-2]\"\n[[hosts]]\nname = \"web1\"\ntags = [\"prod\"]\njump = \"bastion\"\n",
    )
    .unwrap();
    assert_eq!(c.group_map()["web"], "web[1-2]");
    assert_eq!(c.hosts[0].tags, ["prod"]);
    assert_eq!(c.hosts[0].jump.as_deref(), Some("bastion"));
}

#[test]
fn bad_numbers_are_refused() {
    assert!(err("[defaults]\nconcurrency = 0\n").starts_with("/etc/x.toml:2:15:"));
    assert!(err("[defaults]\ncommand_timeout = -1\n").starts_with("/etc/x.toml:2:19:"));
}
