use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    sessionops::cli::run(sessionops::cli::Cli::parse())
}
