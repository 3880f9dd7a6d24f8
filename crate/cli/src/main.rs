//! `valise`: seal, open and inspect protected packages, run the community
//! trust list and collect access events.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod collector;

/// Valise: protected reports for information-sharing communities.
#[derive(Parser)]
#[command(name = "valise", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the access-event collector.
    Collector(cmd::collector::CollectorArgs),
    /// Read the access events a collector stored.
    Events(cmd::events::EventsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Collector(args) => cmd::collector::run(args),
        Command::Events(args) => cmd::events::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => error.report(),
    }
}
