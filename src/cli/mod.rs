//! Headless commands. They drive the same engine as the TUI and print for
//! people (streaming lines, gathered groups) or for scripts (NDJSON).

mod args;
mod completions;
mod copy;
mod error;
mod facts;
mod gather;
mod hosts;
mod hosts_file;
mod jobs;
mod json_out;
mod manpage;
pub(crate) mod outcome;
mod outdir;
mod priority;
mod progress;
mod prompt;
mod recipe;
pub(crate) mod rerun;
mod run;
mod sessions;
mod setup;
mod shared_output;
mod stop_signals;
mod stream;
mod tui;

pub use args::{Cli, Command};
pub use completions::handle_completion_request;
pub use error::CliError;

use std::process::ExitCode;

/// Exit status after Ctrl-C, as shells report a SIGINT death (128 + 2).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Run the parsed command line; errors are printed here, once, plainly.
/// One socket per connected host: a 1,000-host fleet needs more than the
/// 1,024 open files many systems allow a process by default. Raise the
/// soft limit to the hard one, as OpenSSH's own tools and most servers do.
fn raise_open_files_limit() {
    // SAFETY: getrlimit/setrlimit on our own process with a valid struct.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

pub fn main(cli: Cli) -> ExitCode {
    raise_open_files_limit();
    // A panic while a secret is asked must not leave echo off either.
    let earlier = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        prompt::restore_terminal();
        earlier(info);
    }));
    // A session's client only moves bytes between the terminal and the
    // socket: one thread, which also polls the socket itself, so a frame
    // reaches the terminal without waking a second thread (BENCHMARKS.md,
    // "Sessions").
    let mut builder = if cli.session_client() {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder.enable_all();
    if cli.session_server() {
        builder.on_thread_start(priority::lower_this_thread);
    }
    let rt = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sshdeck: error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &cli.global.log
        && let Err(e) = crate::logging::init(path)
    {
        eprintln!("sshdeck: error: --log {}: {e}", path.display());
        return ExitCode::from(2);
    }
    let result = rt.block_on(async {
        match &cli.command {
            Some(Command::Run(a)) if a.detach => jobs::detach(a),
            Some(Command::Run(a)) => run::run(&cli.global, a).await,
            Some(Command::Jobs) => jobs::list(),
            Some(Command::Wait(a)) => jobs::wait(a).await,
            Some(Command::KillJob(a)) => jobs::kill(a),
            Some(Command::JobRun(a)) => jobs::supervise(a),
            Some(Command::Hosts(a)) => hosts::hosts(&cli.global, a),
            Some(Command::Facts(a)) => facts::facts(&cli.global, a).await,
            Some(Command::Recipe(a)) => recipe::recipe(&cli.global, a).await,
            Some(Command::Put(a)) => copy::copy(&cli.global, a, copy::Direction::Put).await,
            Some(Command::Get(a)) => copy::copy(&cli.global, a, copy::Direction::Get).await,
            Some(Command::Attach(a)) => sessions::attach(a).await,
            Some(Command::Ls) => sessions::ls().await,
            Some(Command::KillSession(a)) => sessions::kill_session(a).await,
            Some(Command::Tui(a)) => sessions::open_tui(&cli.global, a, false).await,
            Some(Command::Demo(a)) => {
                let login = match a.login {
                    args::DemoLoginArg::Key => crate::demo::DemoLogin::Key,
                    args::DemoLoginArg::Password => crate::demo::DemoLogin::Password,
                    args::DemoLoginArg::KeyboardInteractive => {
                        crate::demo::DemoLogin::KeyboardInteractive
                    }
                };
                sessions::open_demo(a, login).await
            }
            Some(Command::Completions(a)) => completions::print(&a.shell),
            Some(Command::Man) => completions::man(),
            None => sessions::open_tui(&cli.global, &args::TuiArgs::default(), true).await,
        }
    });
    // A question left unanswered (Ctrl-C, the hosts all done) must not
    // leave the terminal without echo.
    prompt::restore_terminal();
    // Host tasks may still be closing connections; don't wait for them.
    rt.shutdown_background();
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sshdeck: error: {e}");
            ExitCode::from(2)
        }
    }
}
