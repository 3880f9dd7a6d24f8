//! `valise`: seal, open and inspect protected packages, run the community
//! trust list and collect access events.
//!
//! This file contains the command enum and the dispatch only; each command
//! lives in its own module under `cmd/`.

mod cmd;
mod collector;
mod interrupt;
mod key_files;
mod outbox;
mod state;
mod terminal;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Seal, open and inspect protected packages (ZTDF, Valise community profile).
#[derive(Parser)]
#[command(name = "valise", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a P-256 key pair: NAME.key.pem (PKCS#8) and NAME.pub.pem (SPKI).
    Keygen(cmd::keygen::KeygenArgs),
    /// Encrypt a file for recipients, with a label and usage rights, signed by you.
    Seal(cmd::seal::SealArgs),
    /// Verify and decrypt a package with your private key.
    Open(cmd::open::OpenArgs),
    /// Show what a package declares and which signatures verify, without a private key.
    Inspect(cmd::inspect::InspectArgs),
    /// Run the access-event collector.
    Collector(cmd::collector::CollectorArgs),
    /// Report the access events a collector stored.
    Events(cmd::events::EventsArgs),
    /// Create a community: root key and an empty signed trust list.
    #[command(subcommand)]
    Community(cmd::community::CommunityCommand),
    /// Define attributes in the trust list.
    #[command(subcommand)]
    Attribute(cmd::attribute::AttributeCommand),
    /// Manage member organizations in the trust list.
    #[command(subcommand)]
    Member(cmd::member::MemberCommand),
    /// Revoke keys in the trust list.
    #[command(subcommand)]
    Key(cmd::key::KeyCommand),
    /// Issue member credentials.
    #[command(subcommand)]
    Credential(cmd::credential::CredentialCommand),
    /// Verify and summarise a trust list.
    #[command(subcommand)]
    Trust(cmd::trust::TrustCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The collector is a service and logs at info level by default.
    if !matches!(cli.command, Command::Collector(_)) {
        cmd::init_logging();
    }
    let result = match cli.command {
        Command::Keygen(args) => cmd::keygen::run(args),
        Command::Seal(args) => cmd::seal::run(args),
        Command::Open(args) => cmd::open::run(args),
        Command::Inspect(args) => cmd::inspect::run(args),
        Command::Collector(args) => cmd::collector::run(args),
        Command::Events(args) => cmd::events::run(args),
        Command::Community(command) => cmd::community::run(command),
        Command::Attribute(command) => cmd::attribute::run(command),
        Command::Member(command) => cmd::member::run(command),
        Command::Key(command) => cmd::key::run(command),
        Command::Credential(command) => cmd::credential::run(command),
        Command::Trust(command) => cmd::trust::run(command),
    };
    cmd::exit(result)
}
