//! `sshdeck hosts`: what the inventory resolves to, for people and scripts.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use super::CliError;
use super::args::{GlobalArgs, HostsArgs};
use super::setup;
use crate::inventory::resolve::HostInfo;
use crate::text::sanitize::visible_name;

pub fn hosts(g: &GlobalArgs, a: &HostsArgs) -> Result<ExitCode, CliError> {
    let inv = setup::inventory(g)?;
    if a.ssh_g {
        return dump_ssh_config(&inv, g, a);
    }
    let targets = setup::select(&inv, &a.hosts, a.selector.as_deref(), true)?;
    let rows = inv.describe(&targets);
    let mut out = std::io::stdout().lock();
    if a.json {
        return print_json(&mut out, &rows);
    }
    if rows.is_empty() {
        let _ = writeln!(
            out,
            "No hosts. Add [[hosts]] to the config file or Host entries to ~/.ssh/config."
        );
        return Ok(ExitCode::SUCCESS);
    }
    print_table(&mut out, &rows);
    // On stderr, where notes go, so the table stays rows of hosts.
    for clash in inv.group_clashes() {
        eprintln!("sshdeck: note: {}", visible_name(&clash.to_string()));
    }
    print_unused_entries(&mut out, &rows);
    Ok(ExitCode::SUCCESS)
}

/// The hosts as a JSON array, one versioned item per host.
fn print_json(out: &mut impl Write, rows: &[HostInfo]) -> Result<ExitCode, CliError> {
    let items: Vec<_> = rows
        .iter()
        .map(|host| super::json_out::HostsItem {
            schema_version: super::json_out::SCHEMA_VERSION,
            host,
        })
        .collect();
    let text = serde_json::to_string_pretty(&items)
        .map_err(|e| CliError::BadArg(format!("cannot encode hosts as JSON: {e}")))?;
    let _ = writeln!(out, "{}", escape_json_controls(&text));
    Ok(ExitCode::SUCCESS)
}

/// The column titles of the table.
const TABLE_HEAD: [&str; 8] = [
    "NAME", "ADDRESS", "PORT", "USER", "JUMP", "TAGS", "SOURCE", "FROM",
];

/// The hosts as an aligned table, one row per host.
fn print_table(out: &mut impl Write, rows: &[HostInfo]) {
    // The table is for people, on a terminal or in a pager: every value
    // from a config file is shown with its controls escaped, whatever
    // stdout is. Scripts read `--json`, where JSON escapes them.
    let table: Vec<[String; 8]> = rows.iter().map(table_row).collect();
    let mut widths = TABLE_HEAD.map(str::len);
    for row in &table {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut print = |cells: &[&str]| {
        let line: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    };
    print(&TABLE_HEAD);
    for row in &table {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        print(&cells);
    }
}

/// One host's cells, in the order of `TABLE_HEAD`, controls escaped.
fn table_row(r: &HostInfo) -> [String; 8] {
    [
        r.name.clone(),
        r.address.clone(),
        r.port.to_string(),
        r.user.clone(),
        if r.jump.is_empty() {
            "-".into()
        } else {
            r.jump.join(",")
        },
        if r.tags.is_empty() {
            "-".into()
        } else {
            r.tags.join(",")
        },
        serde_json::to_value(r.source)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        r.origin.clone().unwrap_or_else(|| "-".into()),
    ]
    .map(|cell| visible_name(&cell))
}

/// A host several sources name takes its settings from the first, in
/// the merge order README's "Where hosts come from" gives; say which
/// entries were not used, so an edit to one of them is not a surprise.
fn print_unused_entries(out: &mut impl Write, rows: &[HostInfo]) {
    for r in rows.iter().filter(|r| !r.also.is_empty()) {
        let also: Vec<String> = r.also.iter().map(|o| visible_name(o)).collect();
        let _ = writeln!(
            out,
            "{}: settings from {}; also named in {} (not used)",
            visible_name(&r.name),
            visible_name(r.origin.as_deref().unwrap_or("-")),
            also.join(", ")
        );
    }
}

/// JSON with the characters serde_json leaves raw escaped as `\uXXXX`:
/// C1 controls (U+0080-U+009F, which some terminals obey as escape
/// sequences), DEL and bidi overrides. serde_json already escapes the C0
/// controls, and these can only stand inside strings, so the value a
/// script reads is the same.
fn escape_json_controls(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if (c.is_control() && u32::from(c) >= 0x7f) || crate::text::sanitize::is_bidi_control(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// `sshdeck hosts -G NAMES`: each name's ssh_config resolution in `ssh -G`'s
/// words, for the directives sshdeck honours, to compare with OpenSSH.
fn dump_ssh_config(
    inv: &crate::inventory::resolve::Inventory,
    g: &GlobalArgs,
    a: &HostsArgs,
) -> Result<ExitCode, CliError> {
    use crate::inventory::hostspec::HostSpec;
    use crate::inventory::resolve::ResolveError;
    use crate::inventory::shell_safe;
    use crate::inventory::ssh_config::Query;
    let Some(ssh) = inv.ssh_config() else {
        return Err(CliError::BadArg(
            "no ssh_config is read (-F none): nothing to resolve".into(),
        ));
    };
    let names: Vec<String> = match a.hosts.hosts.as_ref().or(a.selector.as_ref()) {
        Some(selector) if !a.hosts.all => {
            crate::inventory::nodeset::expand(selector, &crate::inventory::nodeset::NoGroups)
                .map_err(|e| CliError::BadArg(e.to_string()))?
                .into_vec()
        }
        // No names (or -a): every host of the inventory, as the help says.
        _ => {
            let all = inv.host_names();
            if all.is_empty() {
                return Err(CliError::BadArg(
                    "-G: the inventory names no host; name one: sshdeck hosts -G web1,db2".into(),
                ));
            }
            all
        }
    };
    let mut out = std::io::stdout().lock();
    // On a terminal, config values are shown with controls escaped, as
    // server text is; piped, they stay exactly as `ssh -G` would print
    // them, for scripts that compare the two.
    let show = |v: &str| -> String {
        if std::io::stdout().is_terminal() {
            visible_name(v)
        } else {
            v.to_string()
        }
    };
    for name in &names {
        let spec = HostSpec::parse(name).map_err(|e| CliError::BadArg(format!("host {e}")))?;
        // Resolving runs `Match exec`: the names are checked first.
        shell_safe::check_spec(&spec, "-H").map_err(ResolveError::from)?;
        if let Some(u) = &g.user {
            shell_safe::check_user(u, "-l").map_err(ResolveError::from)?;
        }
        let q = Query {
            host: spec.host.clone(),
            user: spec.user.clone().or_else(|| g.user.clone()),
            port: spec.port.or(g.port),
            jump: g.jump.clone(),
        };
        let r = ssh.resolve(&q)?;
        let _ = writeln!(out, "host {}", show(&spec.host));
        for (k, v) in r.ssh_g() {
            let _ = writeln!(out, "{k} {}", show(&v));
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_its_value_without_raw_controls() {
        let v = serde_json::json!({ "a": "x\u{1b}[2J\u{9b}31m\u{202e}\u{7f}y" });
        let text = escape_json_controls(&serde_json::to_string(&v).unwrap_or_default());
        assert!(!text.chars().any(|c| c.is_control()), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back, v);
    }
}
