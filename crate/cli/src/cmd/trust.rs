//! `valise trust show`, and the trust list loading that every trust command
//! shares: reading the file, choosing the pinned root key, verifying and
//! re-signing.

use std::path::{Path, PathBuf};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use valise_core::keys;
use valise_core::trust_list::{self, TrustAnchor, TrustList, TrustListError, VerifiedTrustList};

use crate::cmd::CliError;
use crate::key_files;
use crate::state::State;
use crate::terminal::{errln, outln};

/// Subcommands of `valise trust`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum TrustCommand {
    /// Verify a trust list and print a readable summary.
    Show(ShowArgs),
}

/// Arguments of `valise trust show`.
#[derive(Debug, clap::Args)]
pub(crate) struct ShowArgs {
    /// Trust list file (trust.json).
    pub(crate) trust: PathBuf,
    /// Expected RFC 7638 fingerprint of the community root key; by default
    /// the fingerprint pinned in the state file.
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) root_fingerprint: Option<String>,
}

/// Runs `valise trust ...`.
pub(crate) fn run(command: TrustCommand) -> Result<(), CliError> {
    match command {
        TrustCommand::Show(args) => show(&args),
    }
}

/// Formats a time as RFC 3339.
pub(crate) fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_else(|_| time.to_string())
}

/// Returns the current time, in whole seconds so that the times the CLI
/// writes read cleanly.
pub(crate) fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

/// Reads a trust list file (bounded while reading) and returns the compact JWS.
pub(crate) fn read_trust_token(path: &Path) -> Result<String, CliError> {
    let max = (trust_list::MAX_TRUST_LIST_BYTES * 2) as u64;
    let text = crate::cmd::read_bounded_text(path, "trust list", max)?;
    trust_list::decode_file(&text).map_err(|error| CliError::usage(format!("{}: {error}", path.display())))
}

fn verify_failure(path: &Path, error: TrustListError) -> CliError {
    let failure = CliError::refused(format!("trust list {} does not verify: {error}", path.display()));
    match error {
        TrustListError::RootKeyMismatch { .. } => failure
            .hint("the list is signed by another root key than the one pinned for this community")
            .hint("compare the fingerprint with the one the community operator published"),
        TrustListError::SignatureInvalid => failure
            .hint("the file was altered or damaged after the community operator signed it: fetch the trust list again from the community")
            .hint("then check that its root key fingerprint is the one the community operator published"),
        _ => failure,
    }
}

/// Loads and verifies a trust list with the pinned root key.
///
/// The anchor is `root_fingerprint` when given, else the fingerprint pinned
/// for the community in the state file. With neither, the list's own root key
/// is pinned on first use and a warning names its fingerprint.
pub(crate) fn load_trust(path: &Path, root_fingerprint: Option<&str>, state: &mut State) -> Result<VerifiedTrustList, CliError> {
    let token = read_trust_token(path)?;
    let (community, _) = trust_list::peek_community(&token).map_err(|error| CliError::usage(format!("{}: {error}", path.display())))?;
    let pinned = root_fingerprint.map(str::to_owned).or_else(|| state.communities.get(&community).and_then(|entry| entry.root_fingerprint.clone()));
    let first_use = pinned.is_none();
    let anchor = match pinned {
        Some(fingerprint) => TrustAnchor::Fingerprint(fingerprint),
        None => {
            // Trust on first use: verify with the key the list names.
            let list: TrustList = {
                let parts: Vec<&str> = token.split('.').collect();
                let payload = parts
                    .get(1)
                    .and_then(|payload| valise_core::jws::base64url_decode(payload).ok())
                    .ok_or_else(|| CliError::usage(format!("{}: malformed trust list", path.display())))?;
                serde_json::from_slice(&payload).map_err(|error| CliError::usage(format!("{}: malformed trust list: {error}", path.display())))?
            };
            let root = list.root_public_key().map_err(|error| CliError::usage(format!("{}: {error}", path.display())))?;
            TrustAnchor::Key(root)
        }
    };
    let verified = VerifiedTrustList::verify(&token, &anchor).map_err(|error| verify_failure(path, error))?;
    let seen = state.communities.get(verified.community());
    if let Some(seen_digest) = seen.filter(|entry| entry.highest_version == Some(verified.version())).and_then(|entry| entry.highest_digest.as_deref()) {
        if seen_digest != verified.content_digest() {
            return Err(CliError::refused(format!(
                "trust list {} is version {} of {}, but a different list with that version was already seen",
                path.display(),
                verified.version(),
                verified.community()
            ))
            .hint("get the current trust list from the community operator")
            .hint("an operator must raise the version every time the list changes"));
        }
    }
    if first_use {
        errln!(
            "warning: pinned root key {} for community {} on first use; compare it with the fingerprint the community operator published",
            verified.root_fingerprint(),
            verified.community()
        );
        state.community(verified.community()).root_fingerprint = Some(verified.root_fingerprint().to_owned());
    }
    Ok(verified)
}

/// Applies a change to a trust list as its operator: verifies the list with
/// the root key, applies `change`, raises the version, renews the issue and
/// next update times (keeping the validity period), signs and writes it.
pub(crate) fn edit_trust(
    path: &Path,
    root_key_path: &Path,
    change: impl FnOnce(&mut TrustList) -> Result<(), CliError>,
) -> Result<VerifiedTrustList, CliError> {
    let root = key_files::read_p256_key(root_key_path)?;
    let token = read_trust_token(path)?;
    let current = VerifiedTrustList::verify(&token, &TrustAnchor::Key(root.public_key()))
        .map_err(|error| verify_failure(path, error).hint(format!("is {} the root key of this community?", root_key_path.display())))?;
    let mut state = State::load()?;
    let seen = state.communities.get(current.community()).and_then(|entry| entry.highest_version);
    if let Some(seen) = seen.filter(|&seen| seen > current.version()) {
        return Err(CliError::usage(format!(
            "{} is version {}, but version {seen} was already seen; readers would reject the edited list as a rollback",
            path.display(),
            current.version()
        ))
        .hint("edit the newest trust list of the community"));
    }
    let mut list = current.list().clone();
    change(&mut list)?;
    let validity = list.next_update - list.issued;
    list.version += 1;
    list.issued = now();
    list.next_update = list.issued + validity;
    let signed = list.sign(&root).map_err(|error| CliError::usage(format!("cannot sign the trust list: {error}")))?;
    let verified = VerifiedTrustList::verify(&signed, &TrustAnchor::Key(root.public_key()))
        .map_err(|error| CliError::usage(format!("the re-signed trust list does not verify: {error}")))?;
    write_trust(path, &signed)?;
    state.community(verified.community()).root_fingerprint = Some(keys::jwk_thumbprint(&root.public_key()));
    state.record_list(&verified, now());
    state.save()?;
    outln!("trust list {} is now version {}", path.display(), verified.version());
    Ok(verified)
}

/// Writes a signed trust list file.
pub(crate) fn write_trust(path: &Path, token: &str) -> Result<(), CliError> {
    let text = trust_list::encode_file(token).map_err(|error| CliError::usage(error.to_string()))?;
    key_files::write_atomically(path, text.as_bytes())
}

fn show(args: &ShowArgs) -> Result<(), CliError> {
    let mut state = State::load()?;
    let trust = load_trust(&args.trust, args.root_fingerprint.as_deref(), &mut state)?;
    let seen = state.communities.get(trust.community()).and_then(|entry| entry.highest_version);
    let list = trust.list();
    let now = now();

    outln!("community    {} ({})", list.name, list.community);
    outln!("version      {}", list.version);
    outln!("issued       {}", rfc3339(list.issued));
    let freshness = if trust.is_stale(now) { "  STALE: a newer list was due" } else { "" };
    outln!("next update  {}{freshness}", rfc3339(list.next_update));
    outln!("root key     {} (signature verified)", trust.root_fingerprint());
    if let Err(error) = trust.check_rollback(seen) {
        outln!("WARNING      {error}");
    }

    outln!();
    outln!("members ({})", list.members.len());
    for member in &list.members {
        outln!("  {}  {}  sector {}  {}  {}", member.org, member.name, member.sector, member.country, member.status.as_str());
        for (kind, jwks) in [("signing", &member.signing_keys), ("key access", &member.key_access_keys)] {
            for jwk in jwks {
                let kid = jwk.get("kid").and_then(|kid| kid.as_str()).unwrap_or_default();
                let revoked = if trust.revocation(kid).is_some() { " (revoked)" } else { "" };
                outln!("    {kind} key {kid}{revoked}");
            }
        }
        for fqn in &member.attributes {
            outln!("    attribute {fqn}");
        }
        if !member.clients.is_empty() {
            outln!("    clients {}", member.clients.join(", "));
        }
        for mapping in &member.label_mappings {
            outln!("    marking {}:{} -> {}", mapping.system, mapping.value, mapping.tlp);
        }
    }

    outln!();
    outln!("attributes ({})", list.attributes.len());
    for definition in &list.attributes {
        outln!(
            "  {}/attr/{}  {}  {}",
            list.community,
            definition.name,
            definition.rule,
            definition.values.join(if definition.rule == valise_core::attributes::AttributeRule::Hierarchy { " > " } else { ", " })
        );
    }

    outln!();
    outln!("revoked keys ({})", list.revoked_keys.len());
    for revoked in &list.revoked_keys {
        let reason = revoked.reason.as_deref().map(|reason| format!("  {reason}")).unwrap_or_default();
        outln!("  {}  {}{reason}", revoked.kid, rfc3339(revoked.revoked));
    }

    state.record_list(&trust, now);
    state.save()
}
