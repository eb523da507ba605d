use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Logs go to stderr (stdout carries plans and JSON); RUST_LOG tunes them, e.g.
    // RUST_LOG=sessionops=debug to see every retry. Nothing logged carries a secret.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    sessionops::cli::run(sessionops::cli::Cli::parse())
}
