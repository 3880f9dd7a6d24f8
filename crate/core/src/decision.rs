//! The access decision point: one pure function that the browser, the CLI and
//! the tests share.
//!
//! [`decide`] takes what the open path verified about a package, the trust
//! list of the package's community, the reader's credential, the current time
//! and the reader's stored state, and returns either a [`Permit`] (effective
//! rights, watermark text, obligations, warnings) or a [`Decision::Deny`] with
//! every reason that applies. Each [`Reason`] has a stable snake_case
//! [`ReasonCode`], a sentence for a person and a next step.
//!
//! Rights are the ceiling of the effective TLP level ([`label::ceiling`])
//! narrowed by the package's rights assertion, never widened. TLP:RED is for
//! named recipients only: the key that opened the package must be one of the
//! recipients listed in the signed provenance.
//!
//! A package without any of the profile's assertions (a stock OpenTDF file)
//! opens view only with an `unlabelled` warning. Its data attributes of the
//! judging community and its dissemination list are still evaluated; other
//! attributes are not, and the warning says so. Its assertion
//! bindings (HS256 under the data key) are checked by the open path, which
//! fails before any decision when they do not verify, so
//! `originator_signature_valid` is not consulted for it.
//!
//! Several communities: [`select_community`] picks the trust list named by the
//! package and the reader's credential of that same community. Keys and
//! attributes of another community never count, because [`decide`] looks up
//! every key and attribute in the one list it is given.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::assertions::{Label, Provenance, Rights, Tlp};
use crate::attributes::{self, AttributeFqn, Unmet};
use crate::credential::{CredentialError, StandingProblem, VerifiedCredential};
use crate::label::{self, EffectiveRights, ForwardScope, HarmonizedLabel, MarkingStatus};
use crate::trust_list::{MemberStatus, StalePolicy, VerifiedTrustList};

/// How far the clock may go back from the last time seen before the decision
/// point reports `clock_moved_back`: time synchronisation steps a clock back
/// by seconds, not minutes.
pub const CLOCK_SKEW_TOLERANCE: time::Duration = time::Duration::minutes(5);

/// Everything the decision point needs, as plain references so that it does
/// not depend on the package format's types beyond the assertions.
#[derive(Debug, Clone, Copy)]
pub struct DecisionInput<'a> {
    /// Package id (the policy `uuid`).
    pub package_id: &'a str,
    /// Community named by the provenance.
    pub community: Option<&'a str>,
    /// Verified label assertion.
    pub label: Option<&'a Label>,
    /// Verified rights assertion.
    pub rights: Option<&'a Rights>,
    /// Verified provenance assertion.
    pub provenance: Option<&'a Provenance>,
    /// Whether every ES256 assertion binding verified.
    pub originator_signature_valid: bool,
    /// Key id of the key that signed the assertions.
    pub originator_kid: Option<&'a str>,
    /// Key id of the key access object the reader's key opened; `None` when
    /// the reader's key opened none.
    pub unwrapped_kid: Option<&'a str>,
    /// The policy's `dataAttributes` FQNs.
    pub data_attributes: &'a [String],
    /// The policy's `dissem` list (person or organization ids).
    pub dissem: &'a [String],
    /// Trust list of the package's community.
    pub trust: &'a VerifiedTrustList,
    /// Reader's credential in that community.
    pub credential: Option<&'a VerifiedCredential>,
    /// Why the credential the reader gave failed verification, when it did:
    /// `credential` is then `None` for that reason, not because the reader
    /// has none. The decision denies with `credential_invalid` and judges
    /// neither the data attributes nor the dissemination list, whose reasons
    /// would hide the real one.
    pub credential_rejected: Option<&'a CredentialError>,
    /// Current time.
    pub now: OffsetDateTime,
    /// Latest time this reader's viewer recorded for the community.
    pub last_seen: Option<OffsetDateTime>,
    /// Whether a stale trust list denies or warns.
    pub stale_policy: StalePolicy,
    /// Highest trust list version this reader has seen for the community.
    pub highest_trust_version_seen: Option<u64>,
}

/// Stable code of a deny reason or a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReasonCode {
    /// The reader's key opens no key access object of the package.
    NotRecipient,
    /// The originator's signing key or organization is not in the trust list,
    /// or the key belongs to another organization than the one named.
    OriginatorUnknown,
    /// The originator's key is revoked or its organization is not active.
    OriginatorRevoked,
    /// An assertion binding does not verify.
    SignatureInvalid,
    /// The trust list is past its next update.
    TrustListStale,
    /// The trust list is older than one already seen.
    TrustListRollback,
    /// The reader's credential does not hold in this trust list.
    CredentialInvalid,
    /// The reader's credential is past its validity.
    CredentialExpired,
    /// The reader lacks a required attribute value.
    AttributeMissing,
    /// The reader is not on the package's dissemination list.
    NotInDissem,
    /// The package's validity window has not started.
    NotYetValid,
    /// The package's validity window has ended.
    Expired,
    /// The clock is earlier than a time already seen.
    ClockMovedBack,
    /// The originator's marking has no TLP mapping in the trust list.
    LabelUnknown,
    /// The package, trust list or credential name different communities.
    CommunityMismatch,
    /// A TLP:RED package was opened with a key not named in its provenance.
    NotNamedRecipient,
    /// The package has some but not all of the label, rights and provenance.
    AssertionMissing,
    /// Access events are required but the package names no endpoint.
    EventsEndpointMissing,
    /// The trust list was last fetched online longer ago than the package's
    /// offline lease allows.
    OfflineLeaseExpired,
    /// Warning: the package has no label, rights or provenance.
    Unlabelled,
    /// Warning: the marking maps to another TLP level than the package's.
    LabelMismatch,
}

impl ReasonCode {
    /// Returns the code as serialised (`not_recipient`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::NotRecipient => "not_recipient",
            ReasonCode::OriginatorUnknown => "originator_unknown",
            ReasonCode::OriginatorRevoked => "originator_revoked",
            ReasonCode::SignatureInvalid => "signature_invalid",
            ReasonCode::TrustListStale => "trust_list_stale",
            ReasonCode::TrustListRollback => "trust_list_rollback",
            ReasonCode::CredentialInvalid => "credential_invalid",
            ReasonCode::CredentialExpired => "credential_expired",
            ReasonCode::AttributeMissing => "attribute_missing",
            ReasonCode::NotInDissem => "not_in_dissem",
            ReasonCode::NotYetValid => "not_yet_valid",
            ReasonCode::Expired => "expired",
            ReasonCode::ClockMovedBack => "clock_moved_back",
            ReasonCode::LabelUnknown => "label_unknown",
            ReasonCode::CommunityMismatch => "community_mismatch",
            ReasonCode::NotNamedRecipient => "not_named_recipient",
            ReasonCode::AssertionMissing => "assertion_missing",
            ReasonCode::EventsEndpointMissing => "events_endpoint_missing",
            ReasonCode::OfflineLeaseExpired => "offline_lease_expired",
            ReasonCode::Unlabelled => "unlabelled",
            ReasonCode::LabelMismatch => "label_mismatch",
        }
    }
}

impl std::fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason of a denial, or a warning of a permit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    /// Stable code.
    pub code: ReasonCode,
    /// Sentence for a person: the problem found.
    pub message: String,
    /// Sentence for a person: the next step to take.
    pub next_step: String,
}

impl Reason {
    /// Builds a reason.
    pub fn new(code: ReasonCode, message: impl Into<String>, next_step: impl Into<String>) -> Reason {
        Reason { code, message: message.into(), next_step: next_step.into() }
    }

    /// Builds the `credential_invalid` reason for a credential that failed
    /// verification, with the next step its cause calls for: a check of the
    /// chosen file when it cannot be read, the community operator when the
    /// organization is not active.
    pub fn credential_refused(error: &CredentialError) -> Reason {
        let next_step = match error {
            CredentialError::TooLarge(_) | CredentialError::Malformed(_) | CredentialError::WrongType(_) => {
                "Check that you chose your credential file, NAME.credential.jws. If you did, ask your organization to issue you a new credential."
            }
            CredentialError::Standing(problem) => standing_next_step(problem),
            _ => REISSUE_CREDENTIAL,
        };
        Reason::new(ReasonCode::CredentialInvalid, format!("Your credential could not be verified: {error}."), next_step)
    }
}

/// Something the viewer must do while it shows the package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "code")]
#[non_exhaustive]
pub enum Obligation {
    /// Access events must be queued for this endpoint, or the package must
    /// not open.
    AccessEventsRequired {
        /// Endpoint URL.
        url: String,
    },
    /// Access events should be sent to this endpoint; failure does not block.
    AccessEventsRequested {
        /// Endpoint URL.
        url: String,
    },
    /// The package may stay open offline for this long after the last
    /// online check.
    OfflineLease {
        /// Lease in seconds.
        seconds: u64,
    },
}

/// A granted access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permit {
    /// Rights granted to the reader.
    pub rights: EffectiveRights,
    /// Text the viewer overlays on screen and in print, when required.
    pub watermark: Option<String>,
    /// Duties of the viewer while it shows the package.
    pub obligations: Vec<Obligation>,
    /// Warnings to show the reader.
    pub warnings: Vec<Reason>,
    /// The label as the reader sees it (TLP level, marking and its mapping);
    /// `None` for an unlabelled package.
    pub label: Option<HarmonizedLabel>,
    /// Organization ids the reader may forward the package to, when the
    /// forward scope is limited to known organizations.
    pub forward_orgs: Vec<String>,
}

/// The outcome of [`decide`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "decision", content = "detail")]
pub enum Decision {
    /// Access granted.
    Permit(Permit),
    /// Access refused, with every reason that applies (never empty).
    Deny(Vec<Reason>),
}

impl Decision {
    /// Returns the deny reason codes, sorted; empty for a permit.
    pub fn deny_codes(&self) -> Vec<ReasonCode> {
        match self {
            Decision::Permit(_) => Vec::new(),
            Decision::Deny(reasons) => {
                let mut codes: Vec<ReasonCode> = reasons.iter().map(|reason| reason.code).collect();
                codes.sort();
                codes.dedup();
                codes
            }
        }
    }

    /// Adds a deny reason, turning a permit into a denial.
    pub fn deny_also(self, reason: Reason) -> Decision {
        match self {
            Decision::Permit(_) => Decision::Deny(vec![reason]),
            Decision::Deny(mut reasons) => {
                reasons.insert(0, reason);
                Decision::Deny(reasons)
            }
        }
    }
}

fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_else(|_| time.to_string())
}

/// Reasons collected while deciding.
#[derive(Default)]
struct Collected {
    deny: Vec<Reason>,
    warnings: Vec<Reason>,
}

impl Collected {
    fn deny(&mut self, code: ReasonCode, message: String, next_step: &str) {
        self.deny.push(Reason::new(code, message, next_step));
    }

    fn warn(&mut self, code: ReasonCode, message: String, next_step: &str) {
        self.warnings.push(Reason::new(code, message, next_step));
    }
}

/// Decides like [`decide`] and also enforces the package's offline lease:
/// `trust_fetched_online` is when the viewer last fetched the trust list from
/// the network (`None` when it does not track it, for example a command-line
/// run that reads the list from a file). Past `offlineLeaseSeconds` after that
/// time, the decision denies with `offline_lease_expired`, together with any
/// other reason.
pub fn decide_offline(input: &DecisionInput<'_>, trust_fetched_online: Option<OffsetDateTime>) -> Decision {
    let decision = decide(input);
    match offline_lease_reason(input.rights, trust_fetched_online, input.now) {
        Some(reason) => decision.deny_also(reason),
        None => decision,
    }
}

/// Returns the `offline_lease_expired` reason when the rights set an offline
/// lease and `now` is past it, counted from `trust_fetched_online`.
pub fn offline_lease_reason(rights: Option<&Rights>, trust_fetched_online: Option<OffsetDateTime>, now: OffsetDateTime) -> Option<Reason> {
    let seconds = rights?.offline_lease_seconds?;
    let fetched = trust_fetched_online?;
    let lease = time::Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX));
    let ends = fetched.checked_add(lease)?;
    (now > ends).then(|| {
        Reason::new(
            ReasonCode::OfflineLeaseExpired,
            format!(
                "This package may be opened offline for {seconds} seconds after the trust list was last fetched online, on {}; that lease ended on {}.",
                rfc3339(fetched),
                rfc3339(ends)
            ),
            "Connect to the network and reload the viewer so it fetches the current trust list.",
        )
    })
}

/// Decides whether the reader may open the package and with which rights.
pub fn decide(input: &DecisionInput<'_>) -> Decision {
    let mut collected = Collected::default();
    if let Some(error) = input.credential_rejected {
        collected.deny.push(Reason::credential_refused(error));
    }
    check_reader_state(input, &mut collected);
    check_recipient(input, &mut collected);

    let labelled = input.label.is_some() || input.rights.is_some() || input.provenance.is_some();
    if !labelled {
        return decide_unlabelled(input, collected);
    }

    let (Some(label), Some(rights), Some(provenance)) = (input.label, input.rights, input.provenance) else {
        let missing: Vec<&str> = [(input.label.is_none(), "label"), (input.rights.is_none(), "rights"), (input.provenance.is_none(), "provenance")]
            .into_iter()
            .filter_map(|(absent, name)| absent.then_some(name))
            .collect();
        collected.deny(
            ReasonCode::AssertionMissing,
            format!("The package lacks its {} assertion, so its handling rules cannot be trusted.", missing.join(" and ")),
            "Ask the originator to seal the package again.",
        );
        return Decision::Deny(collected.deny);
    };

    check_community(input, &mut collected);
    check_signature(input, &mut collected);
    let originator_mappings = check_originator(input, provenance, &mut collected);
    let reader = check_credential(input, &mut collected);
    // A credential that does not hold has already produced its own reason,
    // such as `community_mismatch`, and a rejected one got
    // `credential_invalid` at the start. Judging attributes and the
    // dissemination list without it would only add reasons that hide the
    // real one.
    let no_credential_given = input.credential.is_none() && input.credential_rejected.is_none();
    if no_credential_given || reader.is_some() {
        check_attributes(input, reader, input.data_attributes, &mut collected);
        check_dissem(input, reader, &mut collected);
    }
    check_window(input, rights, &mut collected);

    let harmonized = label::harmonize(label, originator_mappings);
    match harmonized.status {
        MarkingStatus::Unknown => collected.deny(
            ReasonCode::LabelUnknown,
            format!("The originator's marking {} has no TLP mapping in the trust list, so its meaning is unknown.", marking_text(&harmonized)),
            "Ask the community operator to add the marking to the originator's label mapping.",
        ),
        MarkingStatus::Disagrees => collected.warn(
            ReasonCode::LabelMismatch,
            format!(
                "The package is labelled {} but its marking {} maps to {}; the stricter {} applies.",
                harmonized.package_tlp,
                marking_text(&harmonized),
                harmonized.mapped_tlp.map(|tlp| tlp.to_string()).unwrap_or_default(),
                harmonized.effective
            ),
            "Tell the originator that the label and the marking disagree.",
        ),
        MarkingStatus::NoMarking | MarkingStatus::Agrees => {}
    }

    if harmonized.effective == Tlp::Red {
        let named = input.unwrapped_kid.is_some_and(|kid| provenance.recipients.iter().any(|recipient| recipient == kid));
        if input.unwrapped_kid.is_some() && !named {
            collected.deny(
                ReasonCode::NotNamedRecipient,
                "The package is TLP:RED and your key is not among its named recipients.".to_owned(),
                "Ask the originator to seal the package for you by name.",
            );
        }
    }

    if rights.events.required && rights.events.url.is_none() {
        collected.deny(
            ReasonCode::EventsEndpointMissing,
            "The package requires access events but names no endpoint to send them to.".to_owned(),
            "Ask the originator to seal the package again with an events endpoint.",
        );
    }

    if !collected.deny.is_empty() {
        return Decision::Deny(collected.deny);
    }

    let effective = label::ceiling(harmonized.effective).narrow(rights);
    let mut obligations = Vec::new();
    if let Some(url) = &rights.events.url {
        obligations.push(if rights.events.required {
            Obligation::AccessEventsRequired { url: url.clone() }
        } else {
            Obligation::AccessEventsRequested { url: url.clone() }
        });
    }
    if let Some(seconds) = rights.offline_lease_seconds {
        obligations.push(Obligation::OfflineLease { seconds });
    }
    Decision::Permit(Permit {
        rights: effective,
        watermark: effective.watermark.then(|| watermark_text(input, reader)),
        obligations,
        warnings: collected.warnings,
        label: Some(harmonized),
        forward_orgs: forward_orgs(input.trust, reader, effective.forward),
    })
}

fn marking_text(harmonized: &HarmonizedLabel) -> String {
    harmonized.marking.as_ref().map(|marking| format!("{}:{}", marking.system, marking.value)).unwrap_or_default()
}

/// Checks the trust list version, its freshness and the clock.
fn check_reader_state(input: &DecisionInput<'_>, collected: &mut Collected) {
    let trust = input.trust;
    if let Some(seen) = input.highest_trust_version_seen {
        if seen > trust.version() {
            collected.deny(
                ReasonCode::TrustListRollback,
                format!("The trust list is version {}, older than version {seen} already seen; it may have been replaced by an old copy.", trust.version()),
                "Get the current trust list from the community operator.",
            );
        }
    }
    if trust.is_stale(input.now) {
        let message = format!(
            "The trust list of {} was due for renewal on {}; revocations since then are not known.",
            trust.community(),
            rfc3339(trust.list().next_update)
        );
        let next_step = "Get the current trust list from the community operator.";
        match input.stale_policy {
            StalePolicy::Deny => collected.deny(ReasonCode::TrustListStale, message, next_step),
            StalePolicy::Warn => collected.warn(ReasonCode::TrustListStale, message, next_step),
        }
    }
    if let Some(last_seen) = input.last_seen {
        if input.now + CLOCK_SKEW_TOLERANCE < last_seen {
            collected.deny(
                ReasonCode::ClockMovedBack,
                format!("The clock shows {}, earlier than {} already seen, so validity windows cannot be trusted.", rfc3339(input.now), rfc3339(last_seen)),
                "Set the computer's clock to the correct time.",
            );
        }
    }
}

/// Checks that the reader's key opened the package and that the key is not
/// revoked.
fn check_recipient(input: &DecisionInput<'_>, collected: &mut Collected) {
    match input.unwrapped_kid {
        None => collected.deny(
            ReasonCode::NotRecipient,
            "None of your keys can open this package: it was not sealed for you.".to_owned(),
            "Ask the originator to seal it for you or your organization.",
        ),
        Some(kid) => {
            if let Some(revocation) = input.trust.revocation(kid) {
                collected.deny(
                    ReasonCode::CredentialInvalid,
                    format!("The key {kid} that opened the package was revoked on {}.", rfc3339(revocation.revoked)),
                    "Ask your organization for a new key and credential.",
                );
            }
            // An organization key of a suspended or departed member opens
            // what was sealed to it before, but the member's standing ends
            // its access as it ends its people's credentials.
            if let Some(entry) = input.trust.key_access_key(kid).filter(|entry| entry.member.status != MemberStatus::Active) {
                collected.deny(
                    ReasonCode::CredentialInvalid,
                    format!(
                        "The key {kid} that opened the package belongs to {}, which is {} in the community.",
                        entry.member.org,
                        entry.member.status.as_str()
                    ),
                    "Ask the community operator about your organization's membership.",
                );
            }
        }
    }
}

/// Checks the originator's signature. Only a key listed in the judging list
/// can have been checked, so an unknown key is left to `originator_unknown`.
fn check_signature(input: &DecisionInput<'_>, collected: &mut Collected) {
    let key_known = input.originator_kid.is_some_and(|kid| input.trust.signing_key(kid).is_some());
    if !input.originator_signature_valid && key_known {
        collected.deny(
            ReasonCode::SignatureInvalid,
            "The originator's signature on the package's assertions does not verify: it was altered or forged.".to_owned(),
            "Do not trust this copy; ask the originator for the package again.",
        );
    }
}

fn decide_unlabelled(input: &DecisionInput<'_>, mut collected: Collected) -> Decision {
    // Without the data key nothing of the package is authenticated (the
    // policy binding and the assertions need it), so nothing else is judged.
    if input.unwrapped_kid.is_none() {
        return Decision::Deny(collected.deny);
    }
    let community = input.trust.community();
    let (ours, foreign): (Vec<String>, Vec<String>) =
        input.data_attributes.iter().cloned().partition(|text| AttributeFqn::parse(text).is_ok_and(|fqn| fqn.community() == community));
    let reader = input.credential.filter(|credential| credential_holds(input, credential));
    let credential_needed = !ours.is_empty() || !input.dissem.is_empty();
    let credential_unusable = input.credential_rejected.is_some() || (input.credential.is_some() && reader.is_none());
    if credential_needed && credential_unusable {
        // Report why the credential does not count, not the attributes or
        // dissemination entry it was needed for.
        check_credential(input, &mut collected);
    } else {
        check_attributes(input, reader, &ours, &mut collected);
        // The dissemination list is covered by the policy binding, so it is the
        // originator's word even without the profile assertions. Anyone can strip
        // those assertions from a sealed package, because they are not bound to
        // the policy, so skipping `dissem` here would open the stripped copy for
        // every holder of a recipient key.
        check_dissem(input, reader, &mut collected);
    }
    if !collected.deny.is_empty() {
        return Decision::Deny(collected.deny);
    }

    let mut message =
        String::from("The package has no Valise label, rights or provenance: its originator cannot be checked against the trust list, so it opens view only.");
    if !foreign.is_empty() {
        message.push_str(&format!(" {} attribute value(s) of other namespaces were not evaluated.", foreign.len()));
    }
    collected.warn(ReasonCode::Unlabelled, message, "Treat the content as unverified.");
    Decision::Permit(Permit {
        rights: EffectiveRights::view_only(),
        watermark: None,
        obligations: Vec::new(),
        warnings: collected.warnings,
        label: None,
        forward_orgs: Vec::new(),
    })
}

fn check_community(input: &DecisionInput<'_>, collected: &mut Collected) {
    let list = input.trust.community();
    let package = input.community.or_else(|| input.provenance.and_then(|p| p.community.as_deref()));
    if let Some(package) = package {
        let canonical = attributes::parse_community_id(package).unwrap_or_else(|_| package.to_owned());
        if canonical != list {
            collected.deny(
                ReasonCode::CommunityMismatch,
                format!("The package belongs to community {package}, but it is being judged by the trust list of {list}."),
                "Open it with the trust list of the package's community.",
            );
        }
    }
}

/// Checks the originator and returns its label mappings (empty when the
/// originator is unknown).
fn check_originator<'a>(input: &DecisionInput<'a>, provenance: &'a Provenance, collected: &mut Collected) -> &'a [crate::label::LabelMapping] {
    let claimed = &provenance.originator;
    let Some(kid) = input.originator_kid else {
        collected.deny(
            ReasonCode::OriginatorUnknown,
            "The package's assertions name no signing key, so the originator cannot be identified.".to_owned(),
            "Ask the originator to seal the package again.",
        );
        return &[];
    };
    if claimed.kid != kid {
        collected.deny(
            ReasonCode::OriginatorUnknown,
            format!("The provenance names key {} but the assertions are signed by key {kid}.", claimed.kid),
            "Do not trust this copy; ask the originator for the package again.",
        );
        return &[];
    }
    let Some(entry) = input.trust.signing_key(kid) else {
        collected.deny(
            ReasonCode::OriginatorUnknown,
            format!("The signing key {kid} of {} is not in the trust list of {}, so the signature cannot be checked.", claimed.org, input.trust.community()),
            "Get the current trust list, or ask the community operator whether the originator is a member.",
        );
        return &[];
    };
    if entry.member.org != claimed.org {
        collected.deny(
            ReasonCode::OriginatorUnknown,
            format!("The package claims to come from {} but is signed with a key of {}.", claimed.org, entry.member.org),
            "Do not trust this copy; report it to the community operator.",
        );
        return &[];
    }
    if let Some(revocation) = input.trust.revocation(kid) {
        collected.deny(
            ReasonCode::OriginatorRevoked,
            format!("The originator's signing key {kid} of {} was revoked on {}.", entry.member.org, rfc3339(revocation.revoked)),
            "Ask the originator to seal the package again with a current key.",
        );
    }
    if entry.member.status != MemberStatus::Active {
        collected.deny(
            ReasonCode::OriginatorRevoked,
            format!("The originator {} is {} in the community, so its packages are no longer trusted.", entry.member.org, entry.member.status.as_str()),
            "Ask the community operator whether the content can still be relied on.",
        );
    }
    &entry.member.label_mappings
}

/// Reports whether a credential holds in the judging list at `now`, and the
/// key that opened the package is the person's or their organization's.
fn credential_holds(input: &DecisionInput<'_>, credential: &VerifiedCredential) -> bool {
    credential.standing_problems(input.trust).is_empty() && credential.is_valid_at(input.now) && key_belongs_to_reader(input, credential)
}

fn key_belongs_to_reader(input: &DecisionInput<'_>, credential: &VerifiedCredential) -> bool {
    match input.unwrapped_kid {
        None => true,
        Some(kid) => kid == credential.key_access_key().1 || input.trust.key_access_key(kid).is_some_and(|entry| entry.member.org == credential.org()),
    }
}

/// The next step for a credential its organization can replace.
const REISSUE_CREDENTIAL: &str = "Ask your organization to issue you a new credential.";

/// Returns the next step for a credential that does not hold in the trust
/// list. An organization that is suspended or departed cannot issue one that
/// holds, so only the community operator can help.
fn standing_next_step(problem: &StandingProblem) -> &'static str {
    match problem {
        StandingProblem::OrganizationNotActive { .. } => {
            "Your organization is not an active member of the community, so it cannot issue you a valid credential. Contact the community operator."
        }
        _ => REISSUE_CREDENTIAL,
    }
}

/// Checks the reader's credential and returns it when it holds, so that its
/// attributes and ids count.
fn check_credential<'a>(input: &DecisionInput<'a>, collected: &mut Collected) -> Option<&'a VerifiedCredential> {
    let credential = input.credential?;
    for problem in credential.standing_problems(input.trust) {
        match problem {
            StandingProblem::CommunityMismatch { credential: theirs, list } => collected.deny(
                ReasonCode::CommunityMismatch,
                format!("Your credential is for community {theirs}, but the package is judged by the trust list of {list}."),
                "Use your credential of the package's community.",
            ),
            other => collected.deny(ReasonCode::CredentialInvalid, format!("Your credential is not valid: {other}."), standing_next_step(&other)),
        }
    }
    let window = credential.credential();
    if input.now > window.not_after {
        collected.deny(
            ReasonCode::CredentialExpired,
            format!("Your credential expired on {}.", rfc3339(window.not_after)),
            "Ask your organization to renew your credential.",
        );
    } else if input.now < window.not_before {
        collected.deny(
            ReasonCode::CredentialInvalid,
            format!("Your credential is not valid before {}.", rfc3339(window.not_before)),
            "Check the computer's clock, or wait until the credential becomes valid.",
        );
    }
    if !key_belongs_to_reader(input, credential) {
        collected.deny(
            ReasonCode::CredentialInvalid,
            format!(
                "The key that opened the package ({}) belongs neither to {} nor to organization {}.",
                input.unwrapped_kid.unwrap_or_default(),
                credential.person(),
                credential.org()
            ),
            "Open the package with your own key and credential.",
        );
    }
    credential_holds(input, credential).then_some(credential)
}

fn check_attributes(input: &DecisionInput<'_>, reader: Option<&VerifiedCredential>, required: &[String], collected: &mut Collected) {
    let entitlements = reader.map(VerifiedCredential::attributes).unwrap_or_default();
    let unmet = attributes::evaluate(input.trust.attribute_definitions(), input.trust.community(), required, entitlements);
    for entry in unmet {
        let next_step = match entry {
            Unmet::Unknown { .. } => "Ask the originator which attribute was meant; the trust list does not define it.",
            _ => "Ask your organization whether you should hold this attribute, or ask the originator to widen the audience.",
        };
        collected.deny(ReasonCode::AttributeMissing, format!("Attribute missing: {}.", entry.describe()), next_step);
    }
}

fn check_dissem(input: &DecisionInput<'_>, reader: Option<&VerifiedCredential>, collected: &mut Collected) {
    if input.dissem.is_empty() {
        return;
    }
    let listed = reader.is_some_and(|credential| input.dissem.iter().any(|entry| dissem_names(input.trust, entry, credential)));
    if !listed {
        collected.deny(
            ReasonCode::NotInDissem,
            format!("The package is limited to {} and you are not on that list.", input.dissem.join(", ")),
            "Ask the originator to add you or your organization to the dissemination list.",
        );
    }
}

/// Reports whether one dissemination entry names the reader.
///
/// An entry is an organization id, `ORG/PERSON` (a person of that
/// organization), or a bare person id. Person ids are chosen by each
/// organization and are unique only within it. So a bare entry that is an
/// organization id of the list never matches a person, because any member
/// could issue a credential whose person id is another organization's id.
/// And `ORG/PERSON` matches only a credential issued by `ORG`.
fn dissem_names(trust: &VerifiedTrustList, entry: &str, credential: &VerifiedCredential) -> bool {
    if entry == credential.org() {
        return true;
    }
    if let Some((org, person)) = entry.split_once('/') {
        if crate::trust_list::is_valid_org_id(org) {
            return org == credential.org() && person == credential.person();
        }
    }
    trust.member(entry).is_none() && entry == credential.person()
}

fn check_window(input: &DecisionInput<'_>, rights: &Rights, collected: &mut Collected) {
    if let Some(not_before) = rights.not_before {
        if input.now < not_before {
            collected.deny(ReasonCode::NotYetValid, format!("The package may not be opened before {}.", rfc3339(not_before)), "Open it again after that time.");
        }
    }
    if let Some(not_after) = rights.not_after {
        if input.now > not_after {
            collected.deny(ReasonCode::Expired, format!("The package expired on {}.", rfc3339(not_after)), "Ask the originator for a current version.");
        }
    }
}

/// Formats the watermark: reader name, organization, time and package id.
fn watermark_text(input: &DecisionInput<'_>, reader: Option<&VerifiedCredential>) -> String {
    let who = match reader {
        Some(credential) => format!("{} ({})", credential.credential().name, credential.org()),
        None => format!("key {}", input.unwrapped_kid.unwrap_or("unknown")),
    };
    format!("{who} · {} · {}", rfc3339(input.now), input.package_id)
}

fn forward_orgs(trust: &VerifiedTrustList, reader: Option<&VerifiedCredential>, scope: ForwardScope) -> Vec<String> {
    let Some(reader) = reader else {
        return Vec::new();
    };
    let own = reader.org().to_owned();
    match scope {
        ForwardScope::None | ForwardScope::Anyone => Vec::new(),
        ForwardScope::Organization => vec![own],
        ForwardScope::OrganizationAndClients => {
            let mut orgs = vec![own];
            if let Some(member) = trust.member(reader.org()) {
                orgs.extend(member.clients.iter().cloned());
            }
            orgs
        }
        ForwardScope::Community => {
            trust.list().members.iter().filter(|member| member.status == MemberStatus::Active).map(|member| member.org.clone()).collect()
        }
    }
}

/// Selects the trust list and credential that judge a package when a reader
/// belongs to several communities.
///
/// The package's community selects the list. A package that names no
/// community is judged by the only list when there is one, else by the list
/// that contains its originator key. The credential must be of the same
/// community; among several, the one whose key or organization's key opened
/// the package is preferred. When the reader holds no credential of that
/// community, a credential of another community is returned (again the one
/// whose key opened the package first), so that [`decide`] denies with
/// `community_mismatch` instead of judging the reader as holding none.
///
/// # Errors
///
/// Returns a `community_mismatch` [`Reason`] when no list matches.
pub fn select_community<'a>(
    package_community: Option<&str>,
    originator_kid: Option<&str>,
    unwrapped_kid: Option<&str>,
    lists: &'a [VerifiedTrustList],
    credentials: &'a [VerifiedCredential],
) -> Result<(&'a VerifiedTrustList, Option<&'a VerifiedCredential>), Reason> {
    let list = match package_community {
        Some(community) => {
            let canonical = attributes::parse_community_id(community).unwrap_or_else(|_| community.to_owned());
            lists.iter().find(|list| list.community() == canonical)
        }
        None if lists.len() == 1 => lists.first(),
        None => originator_kid.and_then(|kid| lists.iter().find(|list| list.signing_key(kid).is_some())),
    };
    let Some(list) = list else {
        let known: Vec<&str> = lists.iter().map(VerifiedTrustList::community).collect();
        return Err(Reason::new(
            ReasonCode::CommunityMismatch,
            format!(
                "The package belongs to community {}, and you hold trust lists only for {}.",
                package_community.unwrap_or("(not named)"),
                if known.is_empty() { "no community".to_owned() } else { known.join(", ") }
            ),
            "Get the trust list of the package's community.",
        ));
    };
    let same_community: Vec<&VerifiedCredential> = credentials.iter().filter(|credential| credential.community() == list.community()).collect();
    let candidates = if same_community.is_empty() { credentials.iter().collect() } else { same_community };
    let by_key = unwrapped_kid.and_then(|kid| {
        candidates
            .iter()
            .copied()
            .find(|credential| credential.key_access_key().1 == kid || list.key_access_key(kid).is_some_and(|entry| entry.member.org == credential.org()))
    });
    Ok((list, by_key.or_else(|| candidates.first().copied())))
}
