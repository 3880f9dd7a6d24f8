//! `valise credential issue`, and the identity files a person opens
//! packages with.
//!
//! An identity is three files with a common prefix NAME:
//!
//! - `NAME.key.pem`: the person's key access private key (encrypted PKCS#8),
//!   which opens packages sealed for the person;
//! - `NAME.sign.key.pem`: the person's signing private key (encrypted
//!   PKCS#8), which signs access events;
//! - `NAME.credential.jws`: the credential, public, which the person may give
//!   to originators so they can seal for them (`valise seal --to-person`).
//!
//! Separate files keep each key an ordinary OpenSSL-readable PEM file and let
//! the public credential travel without the private keys.

use std::path::{Path, PathBuf};

use valise_core::attributes::AttributeFqn;
use valise_core::credential::{self, Credential, VerifiedCredential};
use valise_core::jws;
use valise_core::keys;
use valise_core::trust_list::VerifiedTrustList;

use crate::cmd::trust::{load_trust, now, rfc3339};
use crate::cmd::CliError;
use crate::key_files;
use crate::state::State;
use crate::terminal::outln;

/// Subcommands of `valise credential`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum CredentialCommand {
    /// Create a person's keys and a credential signed by their organization.
    Issue(IssueArgs),
}

/// Arguments of `valise credential issue`.
#[derive(Debug, clap::Args)]
pub(crate) struct IssueArgs {
    /// Trust list file.
    #[arg(long)]
    pub(crate) trust: PathBuf,
    /// The organization's signing key file (ORG.sign.key.pem).
    #[arg(long)]
    pub(crate) org_key: PathBuf,
    /// Person id, unique in the organization (for example an email address).
    #[arg(long)]
    pub(crate) person: String,
    /// Person's display name, shown in watermarks.
    #[arg(long)]
    pub(crate) name: String,
    /// Attribute value FQN to grant; repeatable.
    #[arg(long = "attr")]
    pub(crate) attributes: Vec<String>,
    /// Validity in days from now.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) valid_for: u16,
    /// Identity prefix: writes NAME.key.pem, NAME.sign.key.pem and NAME.credential.jws.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Expected fingerprint of the community root key.
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) root_fingerprint: Option<String>,
}

/// Runs `valise credential ...`.
pub(crate) fn run(command: CredentialCommand) -> Result<(), CliError> {
    match command {
        CredentialCommand::Issue(args) => issue(&args),
    }
}

/// Returns the path of one identity file: the prefix with a suffix appended.
pub(crate) fn identity_file(prefix: &Path, suffix: &str) -> PathBuf {
    let mut text = prefix.as_os_str().to_owned();
    text.push(suffix);
    PathBuf::from(text)
}

/// Finds the member organization and key id of a signing key.
fn find_signer(trust: &VerifiedTrustList, key: &p256::PublicKey) -> Option<(String, String)> {
    trust.list().members.iter().find_map(|member| {
        member.signing_keys.iter().find_map(|jwk| {
            let (listed, kid) = jws::public_key_from_jwk(jwk).ok()?;
            (listed == *key).then(|| (member.org.clone(), kid.unwrap_or_default()))
        })
    })
}

fn issue(args: &IssueArgs) -> Result<(), CliError> {
    super::check_display_name("--name", &args.name)?;
    let key_access_path = identity_file(&args.out, ".key.pem");
    let signing_path = identity_file(&args.out, ".sign.key.pem");
    let credential_path = identity_file(&args.out, ".credential.jws");
    for path in [&key_access_path, &signing_path, &credential_path] {
        key_files::ensure_absent(path)?;
    }

    if !credential::is_valid_person_id(&args.person) {
        return Err(CliError::usage(format!("--person {:?} is not a valid person id", args.person)).hint(format!(
            "use 1 to {} ASCII letters, digits, '.', '_', '-', '+' or '@', starting with a letter or digit, e.g. alice@acme.example",
            credential::MAX_PERSON_ID_LEN
        )));
    }

    let mut state = State::load()?;
    let trust = load_trust(&args.trust, args.root_fingerprint.as_deref(), &mut state)?;
    let org_key = key_files::read_p256_key(&args.org_key)?;
    let (org, kid) = find_signer(&trust, &org_key.public_key()).ok_or_else(|| {
        CliError::usage(format!("{} is not a signing key of any member of {}", args.org_key.display(), trust.community()))
            .hint("use the organization's ORG.sign.key.pem created by `valise member add`")
    })?;
    let attributes = args
        .attributes
        .iter()
        .map(|text| AttributeFqn::parse(text).map_err(|error| CliError::usage(error.to_string())))
        .collect::<Result<Vec<_>, _>>()?;

    let person_key_access = key_files::generate_key();
    let person_signing = key_files::generate_key();
    let issued = now();
    let credential = Credential {
        community: trust.community().to_owned(),
        person: args.person.clone(),
        name: args.name.clone(),
        org: org.clone(),
        attributes,
        key_access_key: jws::public_jwk(&person_key_access.public_key(), &keys::jwk_thumbprint(&person_key_access.public_key())),
        signing_key: jws::public_jwk(&person_signing.public_key(), &keys::jwk_thumbprint(&person_signing.public_key())),
        issued,
        not_before: issued,
        not_after: issued + time::Duration::days(i64::from(args.valid_for)),
    };
    let token = credential.sign(&org_key, &kid).map_err(|error| CliError::usage(error.to_string()))?;
    // Verify before writing anything, so an over-granting or otherwise
    // invalid credential never reaches the person.
    VerifiedCredential::verify(&token, &trust).map_err(|error| {
        CliError::usage(format!("the credential would be invalid: {error}"))
            .hint("an organization may grant only the attribute values the trust list gives it (see `valise trust show`)")
    })?;

    let passphrase = key_files::new_passphrase(&format!("the keys of {}", args.person))?;
    if let Some(parent) = args.out.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|error| CliError::usage(format!("cannot create {}: {error}", parent.display())))?;
    }
    key_files::write_new_key(&key_access_path, &person_key_access, &passphrase)?;
    key_files::write_new_key(&signing_path, &person_signing, &passphrase)?;
    key_files::write_atomically(&credential_path, format!("{token}\n").as_bytes())?;
    state.record_list(&trust, issued);
    state.save()?;

    outln!("issued a credential for {} ({}) of {org}, valid until {}", args.name, args.person, rfc3339(credential.not_after));
    outln!("  key access key  {}", key_access_path.display());
    outln!("  signing key     {}", signing_path.display());
    outln!("  credential      {}", credential_path.display());
    Ok(())
}

/// Reads a credential file (bounded while reading).
pub(crate) fn read_credential(path: &Path) -> Result<String, CliError> {
    crate::cmd::read_bounded_text(path, "credential", credential::MAX_CREDENTIAL_BYTES as u64).map(|text| text.trim().to_owned())
}
