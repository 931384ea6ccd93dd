//! `sshdeck hosts`: what the inventory resolves to, for people and scripts.

use std::io::Write;
use std::process::ExitCode;

use super::CliError;
use super::args::{GlobalArgs, HostsArgs};
use super::setup;

pub fn hosts(g: &GlobalArgs, a: &HostsArgs) -> Result<ExitCode, CliError> {
    let inv = setup::inventory(g)?;
    if a.ssh_g {
        return dump_ssh_config(&inv, g, a);
    }
    let targets = setup::select(&inv, &a.hosts, a.selector.as_deref(), true)?;
    let rows = inv.describe(&targets);
    let mut out = std::io::stdout().lock();
    if a.json {
        let text = serde_json::to_string_pretty(&rows)
            .map_err(|e| CliError::BadArg(format!("cannot encode hosts as JSON: {e}")))?;
        let _ = writeln!(out, "{text}");
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        let _ = writeln!(
            out,
            "No hosts. Add [[hosts]] to the config file or Host entries to ~/.ssh/config."
        );
        return Ok(ExitCode::SUCCESS);
    }
    let table: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
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
            ]
        })
        .collect();
    let head = ["NAME", "ADDRESS", "PORT", "USER", "JUMP", "TAGS", "SOURCE"];
    let mut widths = head.map(str::len);
    for row in &table {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let print = |out: &mut dyn Write, cells: &[&str]| {
        let line: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    };
    print(&mut out, &head);
    for row in &table {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        print(&mut out, &cells);
    }
    Ok(ExitCode::SUCCESS)
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
    let Some(selector) = a.hosts.hosts.as_ref().or(a.selector.as_ref()) else {
        return Err(CliError::BadArg(
            "-G needs host names: sshdeck hosts -G web1,db2".into(),
        ));
    };
    let names = crate::inventory::nodeset::expand(selector, &crate::inventory::nodeset::NoGroups)
        .map_err(|e| CliError::BadArg(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    for name in names.iter() {
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
        let _ = writeln!(out, "host {}", spec.host);
        for (k, v) in r.ssh_g() {
            let _ = writeln!(out, "{k} {v}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
