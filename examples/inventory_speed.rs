//! Inventory speed, in-process: what `scripts/bench-inventory` measures.
//!
//!     inventory_speed [--inventory PATH]... [--select EXPR]... [--rounds N]
//!
//! Prints one `name ms` line per measure:
//! - `ansible_load`: reading every `--inventory` path into one inventory;
//! - `clustershell_load`: reading ClusterShell's groups.conf (from the
//!   usual places, or `$CLUSTERSHELL_CFGDIR`);
//! - per `--select`: `select_first` (upcalls run) and `select_cached`
//!   (the best of N rounds once upcalls are cached), with the host count.

use std::path::PathBuf;
use std::time::Instant;

use sshdeck::inventory::config::Config;
use sshdeck::inventory::resolve::{ExtraSources, Inventory, Overrides};
use sshdeck::inventory::sources::{ansible, clustershell};

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut selects: Vec<String> = Vec::new();
    let mut rounds = 5usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = args.next();
        match (a.as_str(), value) {
            ("--inventory", Some(v)) => paths.push(v.into()),
            ("--select", Some(v)) => selects.push(v),
            ("--rounds", Some(v)) => rounds = v.parse().unwrap_or(5).max(1),
            _ => {
                eprintln!(
                    "usage: inventory_speed [--inventory PATH]... [--select EXPR]... [--rounds N]"
                );
                std::process::exit(2);
            }
        }
    }
    let t = Instant::now();
    let ansible = if paths.is_empty() {
        None
    } else {
        match ansible::load(&paths) {
            Ok(inv) => Some(inv),
            Err(e) => {
                eprintln!("inventory_speed: {e}");
                std::process::exit(1);
            }
        }
    };
    if ansible.is_some() {
        println!("ansible_load {:.1}", ms(t));
    }
    let t = Instant::now();
    let clustershell = match clustershell::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("inventory_speed: {e}");
            std::process::exit(1);
        }
    };
    println!("clustershell_load {:.1}", ms(t));
    let inv = Inventory::with_sources(
        Config::default(),
        None,
        Overrides::default(),
        ExtraSources {
            ansible,
            clustershell,
        },
    );
    for sel in &selects {
        let t = Instant::now();
        let n = match inv.select(sel) {
            Ok(v) => v.len(),
            Err(e) => {
                eprintln!("inventory_speed: {sel}: {e}");
                std::process::exit(1);
            }
        };
        println!("select_first {:.1} {n} {sel}", ms(t));
        let best = (0..rounds)
            .map(|_| {
                let t = Instant::now();
                let _ = inv.select(sel);
                ms(t)
            })
            .fold(f64::INFINITY, f64::min);
        println!("select_cached {best:.1} {n} {sel}");
    }
}
