//! `graph-sim`: the Microsoft Graph simulator on its own (the same as `sessionops sim`).

use clap::Parser;

/// Runs the Microsoft Graph simulator.
#[derive(Debug, Parser)]
#[command(name = "graph-sim", version, about, long_about = None, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    args: graph_sim::cli::Args,
}

fn main() -> std::process::ExitCode {
    graph_sim::cli::run(Cli::parse().args)
}
