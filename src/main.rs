//! `sessionops`: Microsoft 365 / Entra ID session control as code (see README).

use std::process::ExitCode;

use clap::Parser;
use sessionops::cli::{Cli, Command};
use sessionops_operator::LogFormat;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr (stdout carries plans and JSON); RUST_LOG tunes them, e.g.
    // RUST_LOG=sessionops=debug to see every retry. Nothing logged carries a secret. The
    // operator logs at info, as JSON unless --log-format text.
    let (default_level, json) = match &cli.command {
        Command::Operator(args) => ("info", args.log_format == LogFormat::Json),
        _ => ("warn", false),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| default_level.into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        logs.json()
            .flatten_event(true)
            .with_current_span(false)
            .init();
    } else {
        logs.init();
    }
    sessionops::cli::run(
        cli,
        #[cfg(feature = "sim")]
        sessionops::demo::run,
    )
}
