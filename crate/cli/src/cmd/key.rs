//! `valise key revoke`: revoke a member or person key in the trust list.

use std::path::PathBuf;

use valise_core::trust_list::RevokedKey;

use crate::cmd::trust::{edit_trust, now};
use crate::cmd::CliError;
use crate::terminal::outln;

/// Subcommands of `valise key`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum KeyCommand {
    /// Revoke a key id and re-sign the trust list.
    Revoke(RevokeArgs),
}

/// Arguments of `valise key revoke`.
#[derive(Debug, clap::Args)]
pub(crate) struct RevokeArgs {
    /// Trust list file.
    #[arg(long)]
    pub(crate) trust: PathBuf,
    /// Community root key file.
    #[arg(long)]
    pub(crate) root_key: PathBuf,
    /// Key id to revoke: a member's signing or key access key, or a person's key.
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) kid: String,
    /// Reason, recorded in the list for people.
    #[arg(long)]
    pub(crate) reason: Option<String>,
}

/// Runs `valise key ...`.
pub(crate) fn run(command: KeyCommand) -> Result<(), CliError> {
    match command {
        KeyCommand::Revoke(args) => revoke(&args),
    }
}

fn revoke(args: &RevokeArgs) -> Result<(), CliError> {
    if args.kid.trim().is_empty() {
        return Err(CliError::usage("the key id is empty"));
    }
    let mut member_key = false;
    edit_trust(&args.trust, &args.root_key, |list| {
        if list.revoked_keys.iter().any(|revoked| revoked.kid == args.kid) {
            return Err(CliError::usage(format!("key {} is already revoked", args.kid)));
        }
        member_key = list.members.iter().any(|member| {
            member
                .signing_keys
                .iter()
                .chain(&member.key_access_keys)
                .any(|jwk| jwk.get("kid").and_then(|kid| kid.as_str()) == Some(args.kid.as_str()))
        });
        list.revoked_keys.push(RevokedKey { kid: args.kid.clone(), revoked: now(), reason: args.reason.clone() });
        Ok(())
    })?;
    if member_key {
        outln!("revoked member key {}", args.kid);
    } else {
        outln!("revoked key {} (not a member key: recorded as a person's key)", args.kid);
    }
    Ok(())
}
