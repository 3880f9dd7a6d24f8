//! The trust list side of `valise seal`: recipients, originator, community,
//! attributes, dissemination list and marking, all resolved from a verified
//! trust list.
//!
//! Recipients come from `--to-org ORG` (the organization's key access keys
//! that are not revoked), `--to-person CREDENTIAL` (the person's key access
//! key from a credential file verified against the list) and `--to PUB.pem`.
//! When none is given and `--attr` is, the package is sealed for every active
//! member organization whose own attributes satisfy the required values: an
//! attribute-defined audience. Each person of those organizations then opens
//! with the organization's key and is judged by the attributes of their own
//! credential.

use std::path::PathBuf;

use clap::Args;
use valise_core::attributes::{self, AttributeFqn};
use valise_core::credential::VerifiedCredential;
use valise_core::jws;
use valise_core::label;
use valise_core::seal::{Recipient, SealOptions};
use valise_core::trust_list::{MemberStatus, VerifiedTrustList};

use crate::cmd::credential::read_credential;
use crate::cmd::trust::load_trust;
use crate::cmd::CliError;
use crate::state::State;
use crate::terminal::errln;

/// Options of `valise seal` that use the community trust list.
#[derive(Args, Debug, Default)]
pub(crate) struct TrustSealArgs {
    /// Community trust list: recipients, signer and attributes are checked against it.
    #[arg(long, value_name = "TRUST.json")]
    pub(crate) trust: Option<PathBuf>,
    /// Seal for a member organization's key access keys; repeatable.
    #[arg(long = "to-org", value_name = "ORG", requires = "trust")]
    pub(crate) to_orgs: Vec<String>,
    /// Seal for a person, given their credential file (NAME.credential.jws); repeatable.
    #[arg(long = "to-person", value_name = "CREDENTIAL", requires = "trust")]
    pub(crate) to_persons: Vec<PathBuf>,
    /// Attribute value FQN the reader must hold; repeatable.
    #[arg(long = "attr", value_name = "FQN", requires = "trust")]
    pub(crate) attributes: Vec<String>,
    /// Organization id, or ORG/PERSON, the package is limited to; repeatable.
    #[arg(long = "dissem", value_name = "ORG[/PERSON]", requires = "trust")]
    pub(crate) dissem: Vec<String>,
    /// Your organization's marking, SYSTEM:VALUE, for example "ACME:Confidential".
    #[arg(long, value_name = "SYSTEM:VALUE", requires = "trust")]
    pub(crate) marking: Option<String>,
    /// Expected fingerprint of the community root key.
    #[arg(long, value_name = "FINGERPRINT", requires = "trust", allow_hyphen_values = true)]
    pub(crate) root_fingerprint: Option<String>,
}

/// Completes seal options from the trust list when `--trust` is given, and
/// otherwise leaves them as they are.
pub(crate) fn apply(args: &TrustSealArgs, options: &mut SealOptions) -> Result<(), CliError> {
    let Some(trust_path) = &args.trust else {
        return Ok(());
    };
    let mut state = State::load()?;
    let trust = load_trust(trust_path, args.root_fingerprint.as_deref(), &mut state)?;

    apply_signer(&trust, options)?;
    options.community = Some(trust.community().to_owned());

    options.data_attributes = required_attributes(&trust, &args.attributes)?;
    options.dissem = dissem_entries(&trust, &args.dissem)?;

    if let Some(text) = &args.marking {
        apply_marking(&trust, text, options)?;
    }

    let explicit = !options.recipients.is_empty() || !args.to_orgs.is_empty() || !args.to_persons.is_empty();
    for org in &args.to_orgs {
        add_org(&trust, org, &mut options.recipients)?;
    }
    for path in &args.to_persons {
        let token = read_credential(path)?;
        let credential = VerifiedCredential::verify(&token, &trust)
            .map_err(|error| CliError::refused(format!("credential {} is not valid: {error}", path.display())))?;
        let (key, kid) = credential.key_access_key();
        push_recipient(&mut options.recipients, Recipient { public_key: *key, kid: kid.to_owned() });
    }
    if !explicit {
        if options.data_attributes.is_empty() {
            return Err(CliError::usage("no recipients")
                .hint("name them with --to-org ORG, --to-person CREDENTIAL or --to PUB.pem, or define the audience with --attr FQN"));
        }
        for org in audience_orgs(&trust, &options.data_attributes) {
            add_org(&trust, &org, &mut options.recipients)?;
        }
        if options.recipients.is_empty() {
            return Err(CliError::usage("no active member organization holds the required attributes")
                .hint("check the attributes with `valise trust show`"));
        }
    }

    state.record_list(&trust, super::trust::now());
    state.save()?;
    errln!(
        "community {} (trust list version {}), originator {} ({})",
        trust.community(),
        trust.version(),
        options.signer.org,
        options.signer.kid
    );
    for recipient in &options.recipients {
        let owner = trust
            .key_access_key(&recipient.kid)
            .map(|entry| format!("organization {}", entry.member.org))
            .unwrap_or_else(|| "person or --to key".to_owned());
        errln!("recipient {} ({owner})", recipient.kid);
    }
    Ok(())
}

/// Sets the signer's key id and organization from the trust list.
fn apply_signer(trust: &VerifiedTrustList, options: &mut SealOptions) -> Result<(), CliError> {
    let public = p256::PublicKey::from(options.signer.signing_key.verifying_key());
    let found = trust.list().members.iter().find_map(|member| {
        member.signing_keys.iter().find_map(|jwk| {
            let (listed, kid) = jws::public_key_from_jwk(jwk).ok()?;
            (listed == public).then(|| (member, kid.unwrap_or_default()))
        })
    });
    let Some((member, kid)) = found else {
        return Err(CliError::usage(format!("the signing key is not a key of any member of {}", trust.community()))
            .hint("sign with your organization's ORG.sign.key.pem from `valise member add`"));
    };
    if member.status != MemberStatus::Active {
        return Err(CliError::refused(format!("organization {} is {} and may not seal", member.org, member.status.as_str())));
    }
    if let Some(revocation) = trust.revocation(&kid) {
        return Err(CliError::refused(format!("the signing key {kid} was revoked on {}", super::trust::rfc3339(revocation.revoked))));
    }
    options.signer.kid = kid;
    options.signer.org = member.org.clone();
    Ok(())
}

/// Parses and checks the required attribute values: each must be defined by
/// the community.
fn required_attributes(trust: &VerifiedTrustList, texts: &[String]) -> Result<Vec<String>, CliError> {
    let mut required = Vec::new();
    for text in texts {
        let fqn = AttributeFqn::parse(text).map_err(|error| CliError::usage(error.to_string()))?;
        let defined = fqn.community() == trust.community()
            && trust.list().attribute(fqn.name()).is_some_and(|definition| definition.position(fqn.value()).is_some());
        if !defined {
            return Err(CliError::usage(format!("attribute {fqn} is not defined by community {}", trust.community()))
                .hint("see the defined attributes with `valise trust show`"));
        }
        let canonical = fqn.to_string();
        if !required.contains(&canonical) {
            required.push(canonical);
        }
    }
    Ok(required)
}

/// Sets the label marking; the marking must be in the originator's mapping.
fn apply_marking(trust: &VerifiedTrustList, text: &str, options: &mut SealOptions) -> Result<(), CliError> {
    let marking = label::parse_marking(text)
        .ok_or_else(|| CliError::usage(format!("invalid marking {text:?}")).hint("write it as SYSTEM:VALUE, for example \"ACME:Confidential\""))?;
    let mappings = trust.member(&options.signer.org).map(|member| member.label_mappings.as_slice()).unwrap_or_default();
    options.label.marking = Some(marking.clone());
    let harmonized = label::harmonize(&options.label, mappings);
    match harmonized.mapped_tlp {
        None => Err(CliError::usage(format!("marking {text} has no TLP mapping for {} in the trust list", options.signer.org))
            .hint("ask the community operator to run `valise member map-label`")),
        Some(mapped) => {
            if mapped != options.label.tlp {
                errln!(
                    "warning: marking {text} maps to {mapped} but the label is {}; readers get the stricter {}",
                    options.label.tlp, harmonized.effective
                );
            }
            Ok(())
        }
    }
}

fn push_recipient(recipients: &mut Vec<Recipient>, recipient: Recipient) {
    if !recipients.iter().any(|existing| existing.kid == recipient.kid) {
        recipients.push(recipient);
    }
}

/// Adds the usable key access keys of a member organization.
fn add_org(trust: &VerifiedTrustList, org: &str, recipients: &mut Vec<Recipient>) -> Result<(), CliError> {
    let Some(member) = trust.member(org) else {
        return Err(CliError::usage(format!("organization {org:?} is not a member of {}", trust.community()))
            .hint("list the members with `valise trust show`"));
    };
    if member.status != MemberStatus::Active {
        return Err(CliError::refused(format!("organization {org} is {}", member.status.as_str())));
    }
    let keys = trust.usable_key_access_keys(org);
    if keys.is_empty() {
        return Err(CliError::refused(format!("organization {org} has no key access key that is not revoked")));
    }
    for entry in keys {
        push_recipient(recipients, Recipient { public_key: *entry.key, kid: entry.kid.to_owned() });
    }
    Ok(())
}

/// Returns the active organizations whose own attributes meet the required
/// values.
fn audience_orgs(trust: &VerifiedTrustList, required: &[String]) -> Vec<String> {
    trust
        .list()
        .members
        .iter()
        .filter(|member| member.status == MemberStatus::Active)
        .filter(|member| {
            attributes::evaluate(trust.attribute_definitions(), trust.community(), required, &member.attributes).is_empty()
        })
        .map(|member| member.org.clone())
        .collect()
}

/// Checks the `--dissem` entries: an organization of the list, or
/// `ORG/PERSON` for a person of one. A bare person id is refused, because
/// person ids are unique only within their organization and the decision
/// point cannot tell whose person a bare id means.
fn dissem_entries(trust: &VerifiedTrustList, entries: &[String]) -> Result<Vec<String>, CliError> {
    for entry in entries {
        let org = entry.split_once('/').map_or(entry.as_str(), |(org, _)| org);
        let person_ok = entry.split_once('/').is_none_or(|(_, person)| !person.trim().is_empty());
        if trust.member(org).is_none() || !person_ok {
            return Err(CliError::usage(format!("--dissem {entry:?} names no organization of {}", trust.community()))
                .hint("use an organization id, or ORG/PERSON for one person of that organization"));
        }
    }
    Ok(entries.to_vec())
}
