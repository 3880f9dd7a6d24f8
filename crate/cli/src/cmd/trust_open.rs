//! The trust list side of `valise open`: verify the package against the
//! community trust list, run the decision point with the reader's identity,
//! print the decision with every reason, and write the plaintext only on a
//! permit that includes the export right.
//!
//! The reader's state file supplies the highest trust list version seen and
//! the latest time seen for the community, and is updated after every
//! decision, permit or deny.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use clap::Args;
use valise_core::credential::{CredentialError, VerifiedCredential};
use valise_core::decision::{self, Decision, DecisionInput, Obligation, Permit, Reason, ReasonCode};
use valise_core::events::EventDraft;
use valise_core::jws;
use valise_core::keys::{self, PrivateKey};
use valise_core::label::{ForwardScope, HarmonizedLabel};
use valise_core::open::{OpenError, Package, RecipientKey, Unwrapped};
use valise_core::trust_list::{StalePolicy, VerifiedTrustList};

use crate::cmd::credential::{identity_file, read_credential};
use crate::cmd::open::{verify_expecting, SignedByOther, Verification};
use crate::cmd::trust::load_trust;
use crate::cmd::{open_error, read_private_key, CliError, CliResult, PendingOutput};
use crate::key_files::read_p256_key;
use crate::outbox;
use crate::state::State;
use crate::terminal::{errln, outln};

/// Options of `valise open` that use the community trust list.
#[derive(Args, Debug, Default)]
pub(crate) struct TrustOpenArgs {
    /// Trust list of a community you belong to; repeat for several communities.
    #[arg(long = "trust", value_name = "TRUST.json")]
    pub(crate) trust: Vec<PathBuf>,
    /// Your identity NAME (NAME.key.pem and NAME.credential.jws); repeat for several communities.
    #[arg(long = "identity", value_name = "NAME", requires = "trust")]
    pub(crate) identities: Vec<PathBuf>,
    /// Handling of a trust list past its next update: warn or deny.
    #[arg(long, value_enum, default_value = "warn", requires = "trust")]
    pub(crate) stale: StaleArg,
    /// Print the decision as JSON instead of text.
    #[arg(long, requires = "trust")]
    pub(crate) json: bool,
}

/// Stale trust list policy as the command line spells it.
#[derive(Clone, Copy, Debug, Default, clap::ValueEnum)]
pub(crate) enum StaleArg {
    /// Open with a warning.
    #[default]
    Warn,
    /// Refuse.
    Deny,
}

/// A credential of the reader: verified, or the reason it is not.
struct HeldCredential {
    community: Option<String>,
    verified: Result<VerifiedCredential, CredentialError>,
}

/// Reads the community a credential names, without verifying it.
fn credential_community(token: &str) -> Option<String> {
    let (_, payload) = jws::decode_unverified(token).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    value.get("community")?.as_str().map(str::to_owned)
}

/// Tries each key on the package and returns the first that opens it, with
/// the key id of the reader's key (see [`reader_kid`]).
fn unwrap_with(
    package: &Package,
    keys: &[PrivateKey],
    lists: &[VerifiedTrustList],
    credentials: &[VerifiedCredential],
    path: &Path,
) -> Result<Option<(Unwrapped, String)>, CliError> {
    for key in keys {
        let public = match key {
            PrivateKey::P256(secret) => Some(secret.public_key()),
            _ => None,
        };
        let thumbprint = public.as_ref().map(keys::jwk_thumbprint);
        match package.unwrap(RecipientKey::from(key), thumbprint.as_deref()) {
            Ok(unwrapped) => {
                let kid = match &public {
                    Some(public) => reader_kid(public, unwrapped.kid.as_deref(), lists, credentials),
                    // RSA keys open stock files only; no trust list names them.
                    None => unwrapped.kid.clone().unwrap_or_default(),
                };
                return Ok(Some((unwrapped, kid)));
            }
            Err(OpenError::NotRecipient) => continue,
            Err(error) => return Err(open_error(error, path)),
        }
    }
    Ok(None)
}

/// Returns the key id of the reader's key access key, as the decision point
/// needs it for revocation, key ownership and TLP:RED named recipients.
///
/// The `kid` of the key access object that opened is only a claim. Only the
/// profile's signed assertions bind it, so in a file without them anyone may
/// rewrite it (to an unrevoked key of the same organization, to hide that the
/// reader's own key is revoked). The claim is kept when a trust list or a
/// credential gives that id to this very key, or when it is the key's
/// thumbprint. Otherwise the id is the one a list or credential gives the
/// key, else its thumbprint.
fn reader_kid(public: &p256::PublicKey, claimed: Option<&str>, lists: &[VerifiedTrustList], credentials: &[VerifiedCredential]) -> String {
    let listed = |kid: &str| {
        lists.iter().any(|list| list.key_access_key(kid).is_some_and(|entry| entry.key == public))
            || credentials.iter().any(|credential| credential.key_access_key() == (public, kid))
    };
    let thumbprint = keys::jwk_thumbprint(public);
    if let Some(kid) = claimed.filter(|kid| *kid == thumbprint || listed(kid)) {
        return kid.to_owned();
    }
    let from_lists = lists.iter().find_map(|list| {
        list.list()
            .members
            .iter()
            .flat_map(|member| &member.key_access_keys)
            .filter_map(|jwk| jws::public_key_from_jwk(jwk).ok())
            .find(|(key, _)| key == public)
            .and_then(|(_, kid)| kid)
    });
    let from_credentials = || credentials.iter().map(VerifiedCredential::key_access_key).find(|(key, _)| *key == public).map(|(_, kid)| kid.to_owned());
    from_lists.or_else(from_credentials).unwrap_or(thumbprint)
}

/// Runs `valise open` with `--trust`.
pub(crate) fn run(package_path: &Path, extra_key: Option<&Path>, output: Option<&Path>, replace: bool, args: &TrustOpenArgs) -> CliResult {
    let mut state = State::load()?;
    let lists = args.trust.iter().map(|path| load_trust(path, None, &mut state)).collect::<Result<Vec<VerifiedTrustList>, CliError>>()?;

    // The reader's keys: each identity's key access key, then --key.
    let mut reader_keys = Vec::new();
    let mut held = Vec::new();
    for prefix in &args.identities {
        let token = read_credential(&identity_file(prefix, ".credential.jws"))?;
        let community = credential_community(&token);
        let verified = match lists.iter().find(|list| Some(list.community()) == community.as_deref()) {
            Some(list) => VerifiedCredential::verify(&token, list),
            None => Err(CredentialError::Invalid(format!(
                "it is for community {}, and no --trust list of that community was given",
                community.as_deref().unwrap_or("(unreadable)")
            ))),
        };
        held.push(HeldCredential { community, verified });
        reader_keys.push(PrivateKey::P256(read_p256_key(&identity_file(prefix, ".key.pem"))?));
    }
    if let Some(path) = extra_key {
        reader_keys.push(read_private_key(path)?);
    }
    if reader_keys.is_empty() {
        return Err(CliError::usage("no key to open the package with").hint("pass --identity NAME or --key KEY.pem"));
    }

    let file = File::open(package_path).map_err(|error| CliError::usage(format!("cannot read {}: {error}", package_path.display())))?;
    let mut reader = BufReader::new(file);
    let package = Package::parse(&mut reader).map_err(|error| open_error(error, package_path))?;
    let credentials: Vec<VerifiedCredential> = held.iter().filter_map(|credential| credential.verified.as_ref().ok().cloned()).collect();
    let unwrapped = unwrap_with(&package, &reader_keys, &lists, &credentials, package_path)?;

    // First pass: any list may supply the key that checks the signatures,
    // only to read which community the package names.
    let any_list = |kid: &str| lists.iter().find_map(|list| list.signing_key(kid)).map(|entry| p256::ecdsa::VerifyingKey::from(entry.key));
    let preliminary = match &unwrapped {
        Some((unwrapped, _)) => Some(verify_expecting(&package, unwrapped, &any_list, package_path)?),
        None => None,
    };
    let unwrapped_kid = unwrapped.as_ref().map(|(_, kid)| kid.as_str());

    // The community only selects which list judges the package, so a claim
    // (signed by a key no list verified) may select it too; the judging
    // list then refuses claims as unverified.
    let preliminary_package = preliminary.as_ref().map(Verification::package);
    let package_community =
        preliminary_package.and_then(|v| v.provenance.as_ref().or(v.claimed_profile.as_ref().map(|c| &c.provenance))).and_then(|p| p.community.clone());
    let preliminary_kid = preliminary_package.and_then(|v| v.originator_kid.clone());
    let now = crate::cmd::trust::now();
    let package_id = package.policy().uuid.clone();

    let selection = decision::select_community(package_community.as_deref(), preliminary_kid.as_deref(), unwrapped_kid, &lists, &credentials);
    // Second pass: the signatures count only when they verify with a key of
    // the list that judges the package. Each list is its own security
    // domain, and key ids are names chosen by each community's operator: a
    // key that another community lists under the same kid must not vouch for
    // this community's originator.
    let judged = match (&selection, &unwrapped) {
        (Ok((trust, _)), Some((unwrapped, _))) => {
            let judging_list = |kid: &str| trust.signing_key(kid).map(|entry| p256::ecdsa::VerifyingKey::from(entry.key));
            Some(verify_expecting(&package, unwrapped, &judging_list, package_path)?)
        }
        _ => preliminary,
    };
    // A signature that does not verify with the key the judging list gives
    // its key id is a reason to deny, naming both, and not damage.
    let (verified, mut signed_by_other) = match judged {
        Some(Verification::Expected(verified)) => (Some(verified), None),
        Some(Verification::SignedByOther(other)) => {
            let reason = selection.as_ref().ok().map(|(trust, _)| signed_by_other_reason(&other, trust));
            (Some(other.package), reason)
        }
        None => (None, None),
    };
    let provenance = verified.as_ref().and_then(|v| v.provenance.as_ref());
    let package_community = provenance.and_then(|p| p.community.as_deref());
    let originator_kid = verified.as_ref().and_then(|v| v.originator_kid.as_deref());

    // The identity whose credential the decision used signs the access events.
    let mut signer: Option<(PathBuf, VerifiedCredential)> = None;
    let decision = match selection {
        Err(reason) => Decision::Deny(vec![reason]),
        Ok((trust, credential)) => {
            let community_state = state.communities.get(trust.community()).cloned().unwrap_or_default();
            // A credential of this community that failed verification is a
            // reason of its own when no valid one took its place, and the
            // decision then judges no attribute for the reader.
            let rejected = match credential {
                Some(_) => None,
                None => {
                    held.iter().find(|c| c.community.as_deref() == Some(trust.community())).or_else(|| held.first()).and_then(|c| c.verified.as_ref().err())
                }
            };
            let data_attributes = package.policy().attribute_fqns();
            let input = DecisionInput {
                package_id: &package_id,
                community: package_community,
                label: verified.as_ref().and_then(|v| v.label.as_ref()),
                rights: verified.as_ref().and_then(|v| v.rights.as_ref()),
                provenance,
                originator_signature_valid: verified.as_ref().is_some_and(|v| v.originator_signature_valid),
                originator_kid,
                unwrapped_kid,
                data_attributes: &data_attributes,
                dissem: package.policy().dissem(),
                trust,
                credential,
                credential_rejected: rejected,
                now,
                last_seen: community_state.last_seen,
                stale_policy: match args.stale {
                    StaleArg::Warn => StalePolicy::Warn,
                    StaleArg::Deny => StalePolicy::Deny,
                },
                highest_trust_version_seen: community_state.highest_version,
            };
            let mut decision = decision::decide(&input);
            // A credential of another community is passed only so the decision
            // names it; it signs no event for this community.
            signer = credential.filter(|used| used.community() == trust.community()).and_then(|used| {
                let index = held.iter().position(|h| h.verified.as_ref().is_ok_and(|c| c.token() == used.token()))?;
                Some((args.identities.get(index)?.clone(), used.clone()))
            });
            // Statements whose signature no key of the judging list verified
            // are claims: the decision saw none of them, so it may have
            // judged the package as unlabelled. It has rights all the same.
            if let Some(reason) = signed_by_other.take() {
                decision = decision.deny_also(reason);
            } else if let Some(claimed) = verified.as_ref().and_then(|v| v.claimed_profile.as_ref()) {
                let originator = &claimed.provenance.originator;
                decision = decision.deny_also(Reason::new(
                    ReasonCode::OriginatorUnknown,
                    format!(
                        "The package claims to come from {} with signing key {}, which is not in the trust list of {}, so its label and rights cannot be checked.",
                        originator.org,
                        originator.kid,
                        trust.community()
                    ),
                    "Get the current trust list, or ask the community operator whether the originator is a member.",
                ));
            }
            state.record_list(trust, now);
            decision
        }
    };
    state.save()?;

    if args.json {
        let json = serde_json::to_string_pretty(&decision).map_err(|error| CliError::usage(format!("cannot encode the decision: {error}")))?;
        crate::terminal::write_stdout(&format!("{}\n", crate::terminal::escape_json(&json)));
    } else {
        print_decision(&decision, package_path);
    }

    let event = EventDraft::from_decision(&package_id, &decision, verified.as_ref().and_then(|v| v.label.as_ref()), provenance);
    let events_policy = verified.as_ref().and_then(|v| v.rights.as_ref()).map(|rights| rights.events.clone());
    let signer = signer.as_ref().map(|(prefix, credential)| (prefix.as_path(), credential));

    let permit = match decision {
        Decision::Deny(reasons) => {
            if let Err(error) = outbox::report_decision(signer, events_policy.as_ref(), &event) {
                errln!("warning: the refusal was not reported: {}", error.message);
            }
            return Err(CliError::refused(format!("access to {} denied ({} reason(s) above)", package_path.display(), reasons.len())));
        }
        Decision::Permit(permit) => permit,
    };
    let Some(output) = output else {
        // Without -o nothing is released, so no `opened` event is due. The
        // payload is still authenticated, so "permit" never stands for a
        // damaged package.
        if let Some(verified) = &verified {
            verified.decrypt_to(&mut reader, &mut std::io::sink()).map_err(|error| open_error(error, package_path))?;
            outln!("payload verified ({} bytes); nothing written and no access event sent: pass -o OUTPUT to write the plaintext", verified.plaintext_size());
        }
        return Ok(());
    };
    if !permit.rights.export {
        let error = CliError::refused(format!("the package may be viewed but not exported, so {} was not written", crate::cmd::output_name(output)))
            .hint("open it in the Valise viewer, which enforces the rights");
        if permit.label.is_none() {
            return Err(error.hint(
                "for an unlabelled stock OpenTDF file, its key holder may write the plaintext without --trust: valise open PACKAGE --key KEY.pem --export-unlabelled -o OUTPUT",
            ));
        }
        return Err(error);
    }
    // The plaintext is released only once its event is queued, when the
    // originator requires events.
    outbox::report_decision(signer, events_policy.as_ref(), &event).map_err(|error| {
        let required = permit.obligations.iter().any(|o| matches!(o, Obligation::AccessEventsRequired { .. }));
        if required {
            CliError::refused(format!("{}, so {} was not written", error.message, crate::cmd::output_name(output)))
        } else {
            error
        }
    })?;
    let Some(verified) = verified else {
        return Err(CliError::refused("the package was not opened"));
    };
    let mut pending = PendingOutput::create(output, replace)?;
    {
        let mut writer = BufWriter::with_capacity(1 << 20, pending.file());
        verified.decrypt_to(&mut reader, &mut writer).map_err(|error| open_error(error, package_path))?;
        writer.flush().map_err(|error| CliError::usage(format!("cannot write {}: {error}", crate::cmd::output_name(output))))?;
    }
    pending.commit()?;
    outln!("wrote {} ({} bytes)", crate::cmd::output_name(output), verified.plaintext_size());
    Ok(())
}

/// Builds the `signature_invalid` reason for a package whose signature does
/// not verify with the key the judging list gives the key id it names.
fn signed_by_other_reason(other: &SignedByOther, trust: &VerifiedTrustList) -> Reason {
    let kid = other.package.originator_kid.as_deref().unwrap_or("(none)");
    let holder = trust.signing_key(kid).map(|entry| entry.member.org.clone());
    let named = match &holder {
        Some(org) => format!("The package names signing key {kid}, which the trust list of {} gives to {org}", trust.community()),
        None => format!("The package names signing key {kid}"),
    };
    let actual = match &other.embedded_thumbprint {
        Some(thumbprint) => format!("its signature was made with another key ({thumbprint})"),
        None => "its signature was made with another key".to_owned(),
    };
    Reason::new(
        ReasonCode::SignatureInvalid,
        format!("{named}, but {actual}: someone else signed it."),
        format!("Do not trust its content; ask {} whether it sent this package.", holder.as_deref().unwrap_or("the sender")),
    )
}

fn label_text(label: &HarmonizedLabel) -> String {
    let mut text = label.package_tlp.to_string();
    if let Some(marking) = &label.marking {
        let mapped = label.mapped_tlp.map(|tlp| tlp.to_string()).unwrap_or_else(|| "no mapping".to_owned());
        text.push_str(&format!(", marking {}:{} ({mapped})", marking.system, marking.value));
    }
    if label.effective != label.package_tlp {
        text.push_str(&format!(", handled as {}", label.effective));
    }
    text
}

fn print_reasons(reasons: &[Reason]) {
    for reason in reasons {
        outln!("  {}: {}", reason.code, reason.message);
        outln!("    next step: {}", reason.next_step);
    }
}

fn print_permit(permit: &Permit) {
    match &permit.label {
        Some(label) => outln!("label: {}", label_text(label)),
        None => outln!("label: none (unlabelled)"),
    }
    let rights = &permit.rights;
    let mut allowed = vec!["view"];
    for (name, granted) in [("print", rights.print), ("copy", rights.copy), ("export", rights.export)] {
        if granted {
            allowed.push(name);
        }
    }
    let forward = match rights.forward {
        ForwardScope::None => "no forwarding".to_owned(),
        ForwardScope::Organization => format!("forward within {}", permit.forward_orgs.join(", ")),
        ForwardScope::OrganizationAndClients => format!("forward to {}", permit.forward_orgs.join(", ")),
        ForwardScope::Community => "forward within the community".to_owned(),
        ForwardScope::Anyone => "forward to anyone".to_owned(),
    };
    outln!("rights: {}; {forward}", allowed.join(", "));
    if let Some(watermark) = &permit.watermark {
        outln!("watermark: {watermark}");
    }
    for obligation in &permit.obligations {
        match obligation {
            Obligation::AccessEventsRequired { url } => outln!("obligation: access events required ({url})"),
            Obligation::AccessEventsRequested { url } => outln!("obligation: access events requested ({url})"),
            Obligation::OfflineLease { seconds } => outln!("obligation: offline lease of {seconds} s"),
            other => outln!("obligation: {other:?}"),
        }
    }
    if !permit.warnings.is_empty() {
        outln!("warnings:");
        print_reasons(&permit.warnings);
    }
}

fn print_decision(decision: &Decision, package: &Path) {
    match decision {
        Decision::Permit(permit) => {
            outln!("decision: permit ({})", package.display());
            print_permit(permit);
        }
        Decision::Deny(reasons) => {
            outln!("decision: deny ({})", package.display());
            outln!("reasons:");
            print_reasons(reasons);
        }
    }
}
