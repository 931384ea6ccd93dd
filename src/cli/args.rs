//! Command-line syntax.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::engine::HostKeyPolicy;

/// The exit statuses, for the man page's EXIT STATUS list.
pub const EXIT_STATUSES: [(&str, &str); 4] = [
    ("0", "every host succeeded"),
    (
        "1",
        "at least one host failed (an exit status other than 0, a signal, a connection or authentication failure, a refused file name)",
    ),
    (
        "2",
        "bad usage or configuration (the message names the file and line)",
    ),
    (
        "130",
        "interrupted by Ctrl-C (what finished is still reported)",
    ),
];

/// What `-S` changes, after the list.
pub const EXIT_S_NOTE: &str = "With `run -S`, the status is instead the largest exit status of the command on any host, 255 for a host where it could not run (as clush -S).";

/// Shown by `--help`: the same as `EXIT_STATUSES` and `EXIT_S_NOTE`
/// (a test keeps them together; clap wants one constant here).
pub const EXIT_CODES: &str = "\
Exit status:
  0    every host succeeded
  1    at least one host failed (an exit status other than 0, a signal, a
       connection or authentication failure, a refused file name)
  2    bad usage or configuration (the message names the file and line)
  130  interrupted by Ctrl-C (what finished is still reported)
With `run -S`, the status is instead the largest exit status of the
command on any host, 255 for a host where it could not run (as clush -S).";

/// How every subcommand that works on hosts is told which: `-H` or `-a`
/// (facts, recipe, tui and hosts also take the node set as an argument,
/// as they did before `-H` was everywhere).
#[derive(Debug, Args, Clone, Default)]
pub struct HostSelection {
    /// Hosts: a node set of names and [user@]host[:port]
    /// (web[01-20]!web07,@db,admin@10.0.0.5:2222,[::1]:2222)
    // Completed from the inventory: completions.rs wires that in, so
    // this definition needs nothing of the completer.
    #[arg(short = 'H', long = "hosts", value_name = "HOSTS")]
    pub hosts: Option<String>,
    /// Every named host (config.toml and ssh_config)
    #[arg(short = 'a', long, conflicts_with_all = ["hosts", "hosts_file"])]
    pub all: bool,
    /// Hosts from a file, as pssh's -h reads it: one [user@]host[:port] per
    /// line, blank lines and # comments skipped; repeatable, adds to -H
    #[arg(long = "hosts-file", value_name = "FILE")]
    pub hosts_file: Vec<std::path::PathBuf>,
}

#[derive(Debug, Parser)]
#[command(
    name = "sshdeck",
    version,
    about = "Work on many SSH hosts at once",
    // A flag given twice takes the last value, as ssh's options do.
    args_override_self = true,
    after_long_help = EXIT_CODES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Without a command, sshdeck opens the TUI on every named host.
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Whether this process is a session's server: its clients'
    /// keystrokes then come before the engine's throughput (see
    /// `cli/priority.rs`).
    pub fn session_server(&self) -> bool {
        let serves = |s: &SessionArgs| s.serve.is_some() || s.serve_any;
        match &self.command {
            Some(Command::Tui(a)) => serves(&a.session),
            Some(Command::Demo(a)) => serves(&a.session),
            _ => false,
        }
    }

    /// Whether this process is only a session's client: it moves bytes
    /// between a terminal and a socket, and runs no engine.
    pub fn session_client(&self) -> bool {
        matches!(self.command, Some(Command::Attach(_))) || self.screen_in_process() == Some(false)
    }

    /// For the commands that open a screen: whether it runs here (with
    /// `--no-session`, or as a session's server) rather than as a client.
    fn screen_in_process(&self) -> Option<bool> {
        let in_process = |s: &SessionArgs| s.no_session || s.serve.is_some() || s.serve_any;
        match &self.command {
            None => Some(false),
            Some(Command::Tui(a)) => Some(in_process(&a.session)),
            Some(Command::Demo(a)) => Some(in_process(&a.session)),
            _ => None,
        }
    }
}

#[derive(Debug, Args, Default)]
pub struct GlobalArgs {
    /// Config file [default: $XDG_CONFIG_HOME/sshdeck/config.toml]
    #[arg(short = 'c', long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// known_hosts file to check host keys against; repeatable
    /// [default: ~/.ssh/known_hosts, ~/.ssh/known_hosts2, /etc/ssh/ssh_known_hosts, /etc/ssh/ssh_known_hosts2]
    #[arg(long = "known-hosts", global = true, value_name = "FILE")]
    pub known_hosts: Vec<PathBuf>,
    /// Identity (private key) file; repeatable [default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa]
    #[arg(short = 'i', long = "identity", global = true, value_name = "FILE")]
    pub identity: Vec<PathBuf>,
    /// Remote user for every host, over the config's and ssh_config's
    /// (a user@ in -H still wins)
    #[arg(short = 'l', long = "user", global = true)]
    pub user: Option<String>,
    /// Port for every host, over the config's and ssh_config's (a :port
    /// in -H still wins)
    #[arg(short = 'p', long, global = true)]
    pub port: Option<u16>,
    /// Seconds allowed to connect and authenticate [default: 10]
    #[arg(long = "connect-timeout", global = true, value_name = "SECS")]
    pub connect_timeout: Option<f64>,
    /// Most connection attempts in flight at once [default: 64]
    #[arg(long, global = true, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Unknown host keys: ask (default), accept-new (trust on first use and save), strict
    #[arg(long = "host-key-policy", global = true, value_name = "POLICY", value_parser = parse_policy)]
    pub host_key_policy: Option<HostKeyPolicy>,
    /// Never ask anything: unknown keys, passphrases and passwords fail instead
    #[arg(long, global = true)]
    pub batch: bool,
    /// Jump through these hosts (ProxyJump syntax: host1,user@host2:port); "none" disables
    #[arg(short = 'J', long = "jump", global = true, value_name = "HOSTS")]
    pub jump: Option<String>,
    /// OpenSSH client config to read instead of ~/.ssh/config and
    /// /etc/ssh/ssh_config (as `ssh -F`); "none" reads none
    #[arg(short = 'F', long = "ssh-config", global = true, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
    /// An Ansible inventory (INI or YAML file, directory, or executable
    /// script), as `ansible-inventory -i` takes it; repeatable, read after
    /// config.toml's `inventory`. Its groups are @groups
    #[arg(long = "inventory", global = true, value_name = "PATH")]
    pub inventory: Vec<PathBuf>,
    /// Do not offer ssh-agent keys
    #[arg(long = "no-agent", global = true)]
    pub no_agent: bool,
    /// Compress every connection (zlib), as `ssh -C`; ssh_config's
    /// Compression sets it per host
    #[arg(short = 'C', long = "compression", global = true)]
    pub compression: bool,
    /// Log engine events to FILE, for debugging: each connection attempt,
    /// auth result, host-key decision, command start and end, shell open
    /// and close, transfer start and end, prompt answered; secrets are
    /// never logged, nor a command typed with a leading space
    #[arg(long = "log", global = true, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    crate::engine::commands::command::parse_env(s).map_err(|e| e.to_string())
}

fn parse_policy(s: &str) -> Result<HostKeyPolicy, String> {
    HostKeyPolicy::parse(s).ok_or_else(|| format!("{s:?} is not one of ask, accept-new, strict"))
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command on many hosts and stream or gather the output
    #[command(after_long_help = EXIT_CODES)]
    Run(RunArgs),
    /// List the resolved inventory: config.toml, ssh_config, groups
    Hosts(HostsArgs),
    /// Copy local files to many hosts: put -H HOSTS [-r] LOCAL... REMOTE_DIR
    #[command(after_long_help = EXIT_CODES)]
    Put(CopyArgs),
    /// Copy files from many hosts into LOCAL_DIR/<host>/: get -H HOSTS [-r] REMOTE... LOCAL_DIR
    #[command(after_long_help = EXIT_CODES)]
    Get(CopyArgs),
    /// Open the TUI on a selection of hosts (default: every named host)
    Tui(TuiArgs),
    /// Try sshdeck on SSH hosts embedded in this process (127.0.0.1 only)
    Demo(DemoArgs),
    /// Run the facts collectors once on each host and print what they found
    Facts(FactsArgs),
    /// Run a recipe from the config on each host (no NAME: list recipes)
    Recipe(RecipeArgs),
    /// Print a shell completion script: source <(sshdeck completions bash)
    Completions(CompletionsArgs),
    /// Print the manual page (roff): sshdeck man | man -l -
    Man,
    /// Attach this terminal to a running session (sshdeck starts one)
    Attach(AttachArgs),
    /// List running sessions: their hosts, running commands and clients
    Ls,
    /// End a session (asks first while a command runs on its hosts)
    KillSession(KillSessionArgs),
    /// List the jobs started with `run --detach`
    Jobs,
    /// Wait for a detached job and print what `run` would have printed;
    /// exit with its status
    Wait(WaitArgs),
    /// Stop a detached job: its command is stopped on every host, as
    /// Ctrl-C stops `run`; `wait` then prints how it ended
    KillJob(KillJobArgs),
    /// Run one detached job (started by `run --detach`, not by hand)
    #[command(hide = true, name = "job-run")]
    JobRun(JobRunArgs),
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    /// The job's id, as `run --detach` printed it
    pub id: String,
    /// Keep the job's results afterwards (by default `wait` collects them)
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Args)]
pub struct KillJobArgs {
    /// The job's id, as `run --detach` printed it
    pub id: String,
}

#[derive(Debug, Args)]
pub struct JobRunArgs {
    /// The job's directory
    pub dir: PathBuf,
    /// The `sshdeck` arguments that run it
    #[arg(last = true)]
    pub argv: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// The session; without it, the only one running
    pub name: Option<String>,
    /// Watch: see the session but type nothing into it
    #[arg(long)]
    pub read_only: bool,
}

#[derive(Debug, Args)]
pub struct KillSessionArgs {
    pub name: String,
    /// End it even while a command runs (the command is stopped)
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh or fish
    #[arg(value_parser = ["bash", "zsh", "fish"])]
    pub shell: String,
}

#[derive(Debug, Args)]
pub struct FactsArgs {
    /// Without -H: every named host
    #[command(flatten)]
    pub hosts: HostSelection,
    /// The hosts, as a node set (the same as -H; kept for old scripts)
    #[arg(hide = true, conflicts_with_all = ["hosts", "all"])]
    pub selector: Option<String>,
    /// Print one JSON array of {schema_version, host, facts, errors} (the
    /// README's "JSON output" lists every command's fields)
    #[arg(long)]
    pub json: bool,
    /// Run only these collectors (comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub only: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RecipeArgs {
    /// The recipe's name in the config; without it, recipes are listed
    pub name: Option<String>,
    /// Without -H: every named host
    #[command(flatten)]
    pub hosts: HostSelection,
    /// The hosts, as a node set (the same as -H; kept for old scripts)
    #[arg(hide = true, conflicts_with_all = ["hosts", "all"])]
    pub selector: Option<String>,
    /// Show each host's expanded steps; connect to nothing
    #[arg(short = 'n', long = "dry-run")]
    pub dry_run: bool,
    /// Print what run and wait steps wrote to stdout
    #[arg(short = 'o', long = "show-output")]
    pub show_output: bool,
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    #[command(flatten)]
    pub hosts: HostSelection,
    /// Print one JSON object per host result, then a summary (NDJSON; every
    /// object has every field, see the README's "JSON output")
    #[arg(long)]
    pub json: bool,
    /// Copy directories recursively (symlinks are recreated as links, never followed)
    #[arg(short = 'r', long)]
    pub recursive: bool,
    /// Keep permission bits exactly (never setuid, setgid or sticky);
    /// without it they are masked by the umask. Modification times are always kept
    #[arg(long)]
    pub preserve: bool,
    /// Also recreate symlinks that resolve outside the copied tree (absolute,
    /// climbing out with .., or through other links); by default they are
    /// left out and reported
    #[arg(long = "unsafe-links")]
    pub unsafe_links: bool,
    /// Skip files whose destination has the same size and mtime
    #[arg(long = "skip-same")]
    pub skip_same: bool,
    /// Do not compare SHA-256 sums after copying (sizes are still checked)
    #[arg(long = "no-verify")]
    pub no_verify: bool,
    /// Sources, then the destination directory
    #[arg(required = true, num_args = 2.., value_name = "PATHS")]
    pub paths: Vec<String>,
}

#[derive(Debug, Args, Default)]
pub struct TuiArgs {
    /// Without -H: every named host; with it, those, pre-selected
    #[command(flatten)]
    pub hosts: HostSelection,
    /// The hosts, as a node set (the same as -H; kept for old scripts)
    #[arg(hide = true, conflicts_with_all = ["hosts", "all"])]
    pub selector: Option<String>,
    #[command(flatten)]
    pub record: RecordArgs,
    #[command(flatten)]
    pub session: SessionArgs,
}

/// The TUI runs as a session that outlives the terminal, unless told not to.
#[derive(Debug, Args, Default, Clone)]
pub struct SessionArgs {
    /// Name the session NAME (default: the first free number), or attach
    /// to session NAME when it runs. Detach with F12; `sshdeck attach`
    /// comes back
    #[arg(short = 's', long = "session", value_name = "NAME")]
    pub name: Option<String>,
    /// Run the screen in this process, without a session: it ends with
    /// the terminal
    #[arg(long, conflicts_with = "name")]
    pub no_session: bool,
    /// Be the server of session NAME (started by sshdeck itself)
    #[arg(long, hide = true, value_name = "NAME")]
    pub serve: Option<String>,
    /// Be the server of a new session under the first free name
    #[arg(long, hide = true, conflicts_with = "serve")]
    pub serve_any: bool,
}

#[derive(Debug, Args, Default)]
pub struct RecordArgs {
    /// Record shells as DIR/<host>-<time>.cast (asciicast v2) and command
    /// output as DIR/<host>.log [default: config record_dir]
    #[arg(long = "record", value_name = "DIR")]
    pub record: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many demo hosts to start
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u16).range(1..=200))]
    pub hosts: u16,
    /// How the demo hosts let you in: key (the demo's own key, nothing
    /// asked), password or keyboard-interactive (the password is "demo",
    /// asked once and used for every host)
    #[arg(long, value_enum, default_value_t = DemoLoginArg::Key)]
    pub login: DemoLoginArg,
    #[command(flatten)]
    pub record: RecordArgs,
    #[command(flatten)]
    pub session: SessionArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoLoginArg {
    Key,
    Password,
    KeyboardInteractive,
}

#[derive(Debug, Args)]
pub struct HostsArgs {
    /// Without -H: every named host
    #[command(flatten)]
    pub hosts: HostSelection,
    /// The hosts, as a node set (the same as -H)
    #[arg(hide = true, conflicts_with_all = ["hosts", "all"])]
    pub selector: Option<String>,
    /// Print one JSON array of host objects
    #[arg(long, conflicts_with = "ssh_g")]
    pub json: bool,
    /// Print how ssh_config resolves each named host (every host in the
    /// inventory when none is named), in `ssh -G`'s words, for the
    /// directives sshdeck honours (control characters escaped on a
    /// terminal, raw into a pipe)
    #[arg(short = 'G', long = "show-ssh-config")]
    pub ssh_g: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub hosts: HostSelection,
    /// Run on hosts of the last run (`sshdeck run`, or a command run in the
    /// TUI): failed, ok, differs (outside the largest group of identical
    /// results) or all
    #[arg(long = "hosts-from-last", value_name = "WHICH", value_enum,
          conflicts_with_all = ["hosts", "all", "hosts_file"])]
    pub hosts_from_last: Option<super::rerun::FromLast>,
    /// Exit with the largest exit status of the command on any host (255
    /// where it could not run), as clush -S
    #[arg(short = 'S', long = "max-exit")]
    pub max_exit: bool,
    /// Gather: group hosts by exit status and identical output, print once per group
    #[arg(short = 'b', long, conflicts_with = "json")]
    pub gather: bool,
    /// Print one JSON object per event line (NDJSON), for scripts; every
    /// object has every field (the README's "JSON output")
    #[arg(long)]
    pub json: bool,
    /// Also write each host's raw stdout and stderr to DIR/<host>.stdout/.stderr
    #[arg(long = "out-dir", value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Stop the command on a host after SECS seconds
    #[arg(short = 't', long = "timeout", value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Run under sudo; its password is asked once and answered on every host
    #[arg(long)]
    pub sudo: bool,
    /// Run in a login shell (bash -lc), so the host's profile sets PATH etc.
    #[arg(short = 'L', long)]
    pub login: bool,
    /// Allocate a pseudo-terminal (stderr is then merged into stdout)
    #[arg(long)]
    pub pty: bool,
    /// Set an environment variable for the command; repeatable
    #[arg(short = 'e', long = "env", value_name = "NAME=VALUE", value_parser = parse_env)]
    pub env: Vec<(String, String)>,
    /// Run in this remote directory
    #[arg(long = "cwd", value_name = "DIR")]
    pub cwd: Option<String>,
    /// Append each host's output, as plain text, to DIR/<host>.log
    #[arg(long = "log-dir", value_name = "DIR")]
    pub log_dir: Option<PathBuf>,
    /// Send the command no input (end-of-input at once). Without it, input
    /// piped or redirected into sshdeck goes to every host, then
    /// end-of-input; a terminal is never read
    #[arg(short = 'n', long = "no-stdin")]
    pub no_stdin: bool,
    /// Run as a job that outlives this shell: print its id and return at
    /// once; `sshdeck wait ID` prints the output, `sshdeck jobs` lists jobs
    #[arg(long)]
    pub detach: bool,
    /// The command, after `--`; its words are joined with spaces, as ssh does
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// clap checks flags for clashes only when a command is parsed; check
    /// every subcommand now, not when a user first types it.
    #[test]
    fn every_flag_is_unambiguous() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
