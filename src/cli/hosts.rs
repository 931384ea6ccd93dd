//! `sshdeck hosts`: what the inventory resolves to, for people and scripts.

use std::io::Write;
use std::process::ExitCode;

use super::CliError;
use super::args::{GlobalArgs, HostsArgs};
use super::setup;

pub fn hosts(g: &GlobalArgs, a: &HostsArgs) -> Result<ExitCode, CliError> {
    let inv = setup::inventory(g)?;
    let targets = match &a.selector {
        Some(s) => inv.select(s)?,
        None => inv.all().unwrap_or_default(),
    };
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
