//! `valise community init`: a new community with its root key and an empty
//! signed trust list.

use std::path::PathBuf;

use valise_core::keys;
use valise_core::trust_list::TrustList;

use crate::cmd::trust::{now, write_trust};
use crate::cmd::CliError;
use crate::key_files;
use crate::state::State;
use crate::terminal::outln;

/// Subcommands of `valise community`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum CommunityCommand {
    /// Create a community: root key (encrypted key file) and an empty signed trust list.
    Init(InitArgs),
}

/// Arguments of `valise community init`.
#[derive(Debug, clap::Args)]
pub(crate) struct InitArgs {
    /// Display name of the community.
    #[arg(long)]
    pub(crate) name: String,
    /// Folder to create root.key.pem and trust.json in.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Community id, https://HOST[/PATH]; the prefix of its attribute FQNs.
    /// Default: https://NAME.invalid with the name in lowercase and dashes.
    #[arg(long)]
    pub(crate) id: Option<String>,
    /// Days until the trust list is due for renewal (nextUpdate).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) validity_days: u16,
    /// Replace what this machine's state file pinned for the community id
    /// (root key fingerprint, highest trust list version seen) by the new
    /// community. Without it, init rejects an id the state file contains.
    #[arg(long)]
    pub(crate) replace_pin: bool,
}

/// Runs `valise community ...`.
pub(crate) fn run(command: CommunityCommand) -> Result<(), CliError> {
    match command {
        CommunityCommand::Init(args) => init(&args),
    }
}

/// Turns a display name into a DNS label: lowercase letters, digits and `-`.
fn slug(name: &str) -> String {
    let mut slug = String::new();
    for character in name.chars() {
        if character.is_ascii_alphanumeric() {
            slug.push(character.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let trimmed: String = slug.trim_matches('-').chars().take(63).collect();
    let trimmed = trimmed.trim_end_matches('-').to_owned();
    if trimmed.is_empty() { "community".to_owned() } else { trimmed }
}

fn init(args: &InitArgs) -> Result<(), CliError> {
    super::check_display_name("--name", &args.name)?;
    let id = args.id.clone().unwrap_or_else(|| format!("https://{}.invalid", slug(&args.name)));
    let root_path = args.out.join("root.key.pem");
    let trust_path = args.out.join("trust.json");
    key_files::ensure_absent(&root_path)?;
    key_files::ensure_absent(&trust_path)?;
    let mut state = State::load()?;
    if !args.replace_pin {
        ensure_unpinned(&state, &id)?;
    }

    let root = key_files::generate_key();
    let list = TrustList::new(
        &id,
        &args.name,
        &root.public_key(),
        now(),
        time::Duration::days(i64::from(args.validity_days)),
    )
    .map_err(|error| CliError::usage(format!("cannot create the trust list: {error}")).hint("the id looks like https://cert.example/community"))?;
    let token = list.sign(&root).map_err(|error| CliError::usage(format!("cannot sign the trust list: {error}")))?;

    let passphrase = key_files::new_passphrase("the community root key")?;
    std::fs::create_dir_all(&args.out)
        .map_err(|error| CliError::usage(format!("cannot create {}: {error}", args.out.display())))?;
    key_files::write_new_key(&root_path, &root, &passphrase)?;
    write_trust(&trust_path, &token)?;

    let fingerprint = keys::jwk_thumbprint(&root.public_key());
    // A replaced pin starts from nothing: the old community's highest
    // version would make this list's version 1 a rollback.
    state.communities.remove(&list.community);
    state.community(&list.community).root_fingerprint = Some(fingerprint.clone());
    state.record(&list.community, list.version, now());
    state.save()?;

    outln!("created community {} ({})", list.name, list.community);
    outln!("root key      {}", root_path.display());
    outln!("trust list    {} (version 1, empty)", trust_path.display());
    outln!("root key fingerprint (RFC 7638): {fingerprint}");
    outln!("Publish this fingerprint to the members: readers pin it to verify the trust list.");
    Ok(())
}

/// Rejects a community id that the state file already contains: its pinned
/// root key and highest version seen belong to another community, so the new
/// trust list would fail verification or be taken for a rollback.
fn ensure_unpinned(state: &State, id: &str) -> Result<(), CliError> {
    let Some(known) = state.communities.get(id) else {
        return Ok(());
    };
    let fingerprint = known.root_fingerprint.as_deref().unwrap_or("none");
    let version = known.highest_version.map_or_else(|| "none".to_owned(), |version| version.to_string());
    let state_file = crate::state::state_path()?;
    Err(CliError::usage(format!(
        "community id {id} is already pinned on this machine (root key {fingerprint}, highest trust list version seen {version})"
    ))
    .hint("choose another id with --id https://HOST/PATH")
    .hint("to start this community anew, pass --replace-pin: it forgets the old root key and versions, and every member must pin the new root key")
    .hint(format!("the state file is {}", state_file.display())))
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slug_of_names() {
        assert_eq!(slug("Energy ISAC"), "energy-isac");
        assert_eq!(slug("  --CERT  Nord--"), "cert-nord");
        assert_eq!(slug("***"), "community");
    }
}
