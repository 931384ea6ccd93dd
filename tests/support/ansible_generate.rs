//! Random Ansible inventories for tests/ansible_oracle.rs: groups nested
//! at random, variables at every level, priorities, group_vars and
//! host_vars files, written as INI or YAML.

use std::path::Path;

type Vars = Vec<(&'static str, String)>;

#[derive(Default)]
struct Group {
    hosts: Vec<(String, Vars)>,
    vars: Vars,
    children: Vec<usize>,
}

/// A random inventory, written as INI for odd seeds and YAML for even
/// ones, with group_vars and host_vars files.
pub fn generate(dir: &Path, seed: u64) {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    fn vars(rnd: &mut dyn FnMut(u64) -> u64, who: &str) -> Vars {
        let choices: [(&'static str, String); 5] = [
            ("ansible_user", format!("u_{who}")),
            ("ansible_port", format!("{}", 1000 + rnd(9000))),
            ("ansible_host", format!("{who}.example")),
            ("ansible_ssh_user", format!("su_{who}")),
            ("ansible_private_key_file", format!("/keys/{who}")),
        ];
        choices.into_iter().filter(|_| rnd(3) == 0).collect()
    }
    let all_vars = if rnd(2) == 0 {
        vars(&mut rnd, "all")
    } else {
        Vec::new()
    };
    let mut top = Vec::new();
    let mut groups: Vec<Group> = (0..7).map(|_| Group::default()).collect();
    let mut files: Vec<(String, Vars)> = Vec::new();
    for (g, group) in groups.iter_mut().enumerate() {
        for h in 0..12 {
            if rnd(4) == 0 {
                group
                    .hosts
                    .push((format!("h{h}"), vars(&mut rnd, &format!("h{h}g{g}"))));
            }
        }
        group.vars = vars(&mut rnd, &format!("g{g}"));
        if rnd(2) == 0 {
            group
                .vars
                .push(("ansible_group_priority", rnd(4).to_string()));
        }
        group.children = (g + 1..7).filter(|_| rnd(4) == 0).collect();
        if rnd(3) == 0 {
            files.push((
                format!("group_vars/g{g}.yml"),
                vars(&mut rnd, &format!("gv{g}")),
            ));
        }
    }
    for h in 0..12 {
        // Named without a group: ungrouped, unless a group has it too.
        if rnd(2) == 0 {
            top.push(format!("h{h}"));
        }
        if rnd(4) == 0 {
            files.push((
                format!("host_vars/h{h}.yml"),
                vars(&mut rnd, &format!("hv{h}")),
            ));
        }
    }
    if rnd(2) == 0 {
        files.push(("group_vars/all.yml".into(), vars(&mut rnd, "gvall")));
    }
    let (name, text) = if seed % 2 == 1 {
        ("hosts.ini", ini_of(&all_vars, &top, &groups))
    } else {
        ("hosts.yml", yaml_of(&all_vars, &top, &groups))
    };
    std::fs::write(dir.join(name), text).unwrap();
    for (name, vars) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let body: String = vars.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
        std::fs::write(p, format!("---\n{body}")).unwrap();
    }
}

fn ini_of(all_vars: &Vars, top: &[String], groups: &[Group]) -> String {
    let line = |vars: &Vars, sep: &str, end: &str| -> String {
        vars.iter()
            .map(|(k, v)| format!("{k}{sep}{v}{end}"))
            .collect()
    };
    let mut out: String = top.iter().map(|h| format!("{h}\n")).collect();
    out.push_str(&format!("[all:vars]\n{}", line(all_vars, "=", "\n")));
    for (g, group) in groups.iter().enumerate() {
        out.push_str(&format!("[g{g}]\n"));
        for (h, vars) in &group.hosts {
            out.push_str(&format!("{h} {}\n", line(vars, "=", " ")));
        }
        out.push_str(&format!("[g{g}:vars]\n{}", line(&group.vars, "=", "\n")));
        out.push_str(&format!("[g{g}:children]\n"));
        for c in &group.children {
            out.push_str(&format!("g{c}\n"));
        }
    }
    out
}

fn yaml_of(all_vars: &Vars, top: &[String], groups: &[Group]) -> String {
    let map = |vars: &Vars| -> String {
        let items: Vec<String> = vars.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        format!("{{{}}}", items.join(", "))
    };
    let mut out = format!("all:\n  vars: {}\n  hosts:\n", map(all_vars));
    for h in top {
        out.push_str(&format!("    {h}:\n"));
    }
    for (g, group) in groups.iter().enumerate() {
        out.push_str(&format!("g{g}:\n  vars: {}\n  hosts:\n", map(&group.vars)));
        for (h, vars) in &group.hosts {
            out.push_str(&format!("    {h}: {}\n", map(vars)));
        }
        out.push_str("  children:\n");
        for c in &group.children {
            out.push_str(&format!("    g{c}:\n"));
        }
    }
    out
}
