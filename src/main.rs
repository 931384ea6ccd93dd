use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // `SSHDECK_COMPLETE=bash sshdeck -- …` is the shell asking for
    // completions: answered before anything else runs.
    sshdeck::cli::handle_completion_request();
    sshdeck::cli::main(sshdeck::cli::Cli::parse())
}
