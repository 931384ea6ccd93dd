use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    sshdeck::cli::main(sshdeck::cli::Cli::parse())
}
