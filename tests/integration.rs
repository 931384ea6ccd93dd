//! The integration tests, built as one binary (as ripgrep does): each file
//! under tests/ is a module of this crate, so the suite links once instead
//! of once per file. Every module's first line says what it covers; the
//! shared harness (sshd farm, simulated fleet, tmux, pty, fault relay,
//! hostile hosts) is `support`.
//!
//! A new test file goes in tests/ and gets a `mod` line below, in
//! alphabetical order; it reaches the harness with `use crate::support;`.
//! Run one module with `cargo test --test integration MODULE::`.
//!
//! Two files stay binaries of their own (Cargo.toml's other `[[test]]`s):
//! `fleet` and `hostile` check a child's peak memory with wait4(2), and
//! Linux charges a child started with vfork (as `Command` does) with the
//! high-water mark of the process that started it. In this process, which
//! runs every other file's tests, that mark is no longer the child's own.

mod support;

mod ansible_oracle;
mod app_update;
mod auth_trust;
mod boundary_farm;
mod cli_conventions;
mod cli_copy;
mod cli_inventory;
mod cli_run;
mod clustershell_groups;
mod config_text;
mod config_workflows;
mod demo_logins_e2e;
mod demo_server;
mod detached_jobs;
mod docs_truth;
mod engine_exec;
mod facts_recipes;
mod farm_example;
mod faults;
mod files_queue;
mod fuzz_regressions;
mod group_folders_e2e;
mod hostile_boundary;
mod hostile_hosts;
mod inventory_sources;
mod json_schema;
mod keymap;
mod late_answers;
mod load;
mod log_file;
mod narrow_screens;
mod nodeset_clustershell;
mod readme_commands;
mod recordings;
mod secrets_audit;
mod sessions_e2e;
mod shell_names;
mod shells;
mod shells_tab;
mod ssh_config_directives;
mod ssh_config_oracle;
mod stop_farm;
mod transfers;
mod tui_e2e;
mod tui_transfers_e2e;
mod tui_views_e2e;
mod ui_files_snapshots;
mod ui_snapshots;
mod ui_views_snapshots;
mod workflows_tab;
