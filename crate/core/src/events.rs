//! Access events: what happened to a package at a reader, signed by that
//! reader and chained per reader installation.
//!
//! An access event is a CloudEvents 1.0 event in the structured JSON mode
//! (`application/cloudevents+json`). The viewer emits one for each decision
//! and each enforced action (opened, denied, print blocked, ...), signs it
//! with the reader's ES256 signing key and links it to the previous event of
//! the same reader installation by hash. A collector verifies the signature
//! against the key named by the reader's credential, stores the event once
//! per id and flags gaps and forks in the chain.
//!
//! Wire format (`docs/events.md` has the full description):
//!
//! ```json
//! {
//!   "specversion": "1.0",
//!   "id": "0f8e3c5a-6f1e-4c55-9a57-1f0d4c3e2b1a",
//!   "source": "valise://fincert/acme/alice/cli-3f2a",
//!   "type": "org.valise.access.opened",
//!   "time": "2026-12-04T20:15:00Z",
//!   "subject": "<package id: the policy uuid>",
//!   "datacontenttype": "application/json",
//!   "data": {
//!     "decision": "permit", "reasons": [],
//!     "rights": { "view": true, "print": false, ... },
//!     "reader": { "org": "acme", "person": "alice" },
//!     "label": { "tlp": "AMBER", "marking": null },
//!     "originator": { "org": "globex", "kid": "..." },
//!     "seq": 1, "prevHash": "0000...0000"
//!   },
//!   "valisecred": "<the reader's credential, compact JWS>",
//!   "valisesig": "<ES256 compact JWS with a detached payload>"
//! }
//! ```
//!
//! The signature covers the canonical bytes (RFC 8785 JSON Canonicalization
//! Scheme) of the event without `valisesig`. The chain hash of an event is the
//! SHA-256 of the canonical bytes of the whole event, `valisesig` included.
//!
//! Nothing here reads the clock or a random source: callers pass the event id
//! (or 16 random bytes to make one) and the time.

use std::fmt;

use p256::ecdsa::{SigningKey, VerifyingKey};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::assertions::{Label, Provenance};
use crate::decision::Decision;
use crate::jws;
use crate::label::{EffectiveRights, ForwardScope};

/// CloudEvents specification version of every access event.
pub const SPEC_VERSION: &str = "1.0";

/// Reverse-DNS prefix of the CloudEvents `type` of access events.
pub const TYPE_PREFIX: &str = "org.valise.access.";

/// Media type of the `data` member (CloudEvents `datacontenttype`).
pub const DATA_CONTENT_TYPE: &str = "application/json";

/// Media type of one event in the CloudEvents structured JSON mode.
pub const EVENT_MEDIA_TYPE: &str = "application/cloudevents+json";

/// Media type of a batch of events (CloudEvents JSON batch format).
pub const BATCH_MEDIA_TYPE: &str = "application/cloudevents-batch+json";

/// CloudEvents extension attribute holding the reader's signature. Extension
/// names are lowercase ASCII letters and digits only (CloudEvents 1.0,
/// "Attribute Naming Convention").
pub const SIGNATURE_ATTRIBUTE: &str = "valisesig";

/// CloudEvents extension attribute holding the reader's credential (compact
/// JWS), so a collector can verify the reader without a directory of people.
pub const CREDENTIAL_ATTRIBUTE: &str = "valisecred";

/// JWS `typ` header value of event signatures.
pub const SIGNATURE_TYPE: &str = "valise-event+jws";

/// URI scheme of the `source` attribute: `valise://COMMUNITY/ORG/PERSON/AGENT`.
pub const SOURCE_SCHEME: &str = "valise://";

/// Maximum size in bytes of one serialised event. A credential is a few
/// kilobytes at most, so 32 KiB leaves room without letting one event grow
/// without bound.
pub const MAX_EVENT_BYTES: usize = 32 * 1024;

/// Maximum nesting depth of JSON arrays and objects in an event. The deepest
/// member of the format (`data.label.marking`) is at depth 3.
pub const MAX_DEPTH: usize = 8;

/// Maximum number of reason codes in one event.
pub const MAX_REASONS: usize = 32;

/// Maximum length in bytes of an identifier (package id, org, person, agent,
/// kid, reason code, label text).
pub const MAX_IDENTIFIER_BYTES: usize = 256;

/// Largest integer JSON can carry exactly in every implementation
/// (2^53 - 1, RFC 8785 section 3.2.2.3 and I-JSON, RFC 7493).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// TLP 2.0 values an event's label may carry, without the `TLP:` prefix.
pub const TLP_VALUES: [&str; 5] = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"];

/// The `prevHash` of the first event of a chain: 32 zero bytes.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// The kind of access event, carried in the CloudEvents `type` attribute as
/// `org.valise.access.<kind>`.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The package was decrypted and shown.
    Opened,
    /// The decision point refused access, for the reasons listed in the event.
    Denied,
    /// The reader tried to print and the rights forbid it.
    PrintBlocked,
    /// The reader printed the document.
    Printed,
    /// The reader tried to copy text and the rights forbid it.
    CopyBlocked,
    /// The reader exported the plaintext to a file.
    Exported,
    /// The reader forwarded the package.
    Forwarded,
    /// The viewer found its watermark removed from the page.
    WatermarkRemoved,
    /// The package was refused or closed because its validity window ended.
    Expired,
}

impl EventKind {
    /// Every kind, in declaration order.
    pub const ALL: [EventKind; 9] = [
        EventKind::Opened,
        EventKind::Denied,
        EventKind::PrintBlocked,
        EventKind::Printed,
        EventKind::CopyBlocked,
        EventKind::Exported,
        EventKind::Forwarded,
        EventKind::WatermarkRemoved,
        EventKind::Expired,
    ];

    /// Returns the kind's name, e.g. `print_blocked`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Opened => "opened",
            EventKind::Denied => "denied",
            EventKind::PrintBlocked => "print_blocked",
            EventKind::Printed => "printed",
            EventKind::CopyBlocked => "copy_blocked",
            EventKind::Exported => "exported",
            EventKind::Forwarded => "forwarded",
            EventKind::WatermarkRemoved => "watermark_removed",
            EventKind::Expired => "expired",
        }
    }

    /// Returns the CloudEvents `type`, e.g. `org.valise.access.print_blocked`.
    pub fn event_type(self) -> String {
        format!("{TYPE_PREFIX}{}", self.as_str())
    }

    /// Parses a CloudEvents `type` of an access event.
    pub fn from_event_type(event_type: &str) -> Option<EventKind> {
        let name = event_type.strip_prefix(TYPE_PREFIX)?;
        EventKind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Outcome recorded in an event: whether the action was allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The action was allowed (opened, printed, exported, forwarded).
    Permit,
    /// The action was refused (denied, print or copy blocked, expired).
    Deny,
}

impl Outcome {
    /// Returns `permit` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Permit => "permit",
            Outcome::Deny => "deny",
        }
    }
}

/// Usage rights in force when the event happened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RightsInForce {
    /// The reader may view the document.
    pub view: bool,
    /// The reader may print.
    pub print: bool,
    /// The reader may copy text.
    pub copy: bool,
    /// The reader may forward the package.
    pub forward: bool,
    /// The reader may export the plaintext.
    pub export: bool,
    /// The viewer shows a watermark.
    pub watermark: bool,
}

/// Reader named by an event: organization id and person id as the
/// community's trust list and the reader's credential name them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderRef {
    /// Organization id of the reader's member organization.
    pub org: String,
    /// Person id from the reader's credential.
    pub person: String,
}

/// Label of the package as the viewer showed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventLabel {
    /// TLP 2.0 value without the `TLP:` prefix (`CLEAR`, `GREEN`, `AMBER`,
    /// `AMBER+STRICT`, `RED`).
    pub tlp: String,
    /// The originator's own marking as displayed, e.g. `ACME Confidential`.
    pub marking: Option<String>,
}

/// Originator of the package, from its signed provenance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OriginatorRef {
    /// Organization id of the originator.
    pub org: String,
    /// Key id of the originator's signing key.
    pub kid: Option<String>,
}

/// The `data` member of an access event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventData {
    /// Whether the action was allowed.
    pub decision: Outcome,
    /// Stable reason codes (snake_case) of a denial or of warnings.
    pub reasons: Vec<String>,
    /// Rights in force, `None` when access was denied before any were known.
    pub rights: Option<RightsInForce>,
    /// The reader.
    pub reader: ReaderRef,
    /// The package's label, `None` for an unlabelled (stock OpenTDF) package.
    pub label: Option<EventLabel>,
    /// The package's originator, `None` when the package has no provenance.
    pub originator: Option<OriginatorRef>,
    /// Position of the event in its reader's chain, starting at 1.
    pub seq: u64,
    /// Chain hash of the previous event of the same source, lowercase hex;
    /// 64 zeros for the first event.
    pub prev_hash: String,
}

/// Caller-supplied part of an event: everything but the reader, the chain
/// and the signature, which [`sign_event`] adds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventDraft {
    /// The kind of event.
    pub kind: EventKind,
    /// Package id (the policy uuid), the CloudEvents `subject`.
    pub package_id: String,
    /// Whether the action was allowed.
    pub decision: Outcome,
    /// Reason codes, snake_case.
    pub reasons: Vec<String>,
    /// Rights in force.
    pub rights: Option<RightsInForce>,
    /// The package's label.
    pub label: Option<EventLabel>,
    /// The package's originator.
    pub originator: Option<OriginatorRef>,
}

impl From<&EffectiveRights> for RightsInForce {
    fn from(rights: &EffectiveRights) -> RightsInForce {
        RightsInForce {
            view: rights.view,
            print: rights.print,
            copy: rights.copy,
            forward: rights.forward != ForwardScope::None,
            export: rights.export,
            watermark: rights.watermark,
        }
    }
}

impl From<&Label> for EventLabel {
    fn from(label: &Label) -> EventLabel {
        EventLabel {
            tlp: label.tlp.as_str().to_owned(),
            marking: label
                .marking
                .as_ref()
                .map(|marking| format!("{} {}", marking.system, marking.value)),
        }
    }
}

impl From<&Provenance> for OriginatorRef {
    fn from(provenance: &Provenance) -> OriginatorRef {
        OriginatorRef {
            org: provenance.originator.org.clone(),
            kid: Some(provenance.originator.kid.clone()),
        }
    }
}

impl EventDraft {
    /// Builds the `opened` or `denied` event of a decision: the decision's
    /// reason codes (deny reasons, or the warnings of a permit), the
    /// effective rights of a permit, and the package's label and originator.
    pub fn from_decision(
        package_id: &str,
        decision: &Decision,
        label: Option<&Label>,
        provenance: Option<&Provenance>,
    ) -> EventDraft {
        let (kind, outcome, reasons, rights) = match decision {
            Decision::Permit(permit) => (
                EventKind::Opened,
                Outcome::Permit,
                &permit.warnings,
                Some(RightsInForce::from(&permit.rights)),
            ),
            Decision::Deny(reasons) => (EventKind::Denied, Outcome::Deny, reasons, None),
        };
        EventDraft {
            kind,
            package_id: package_id.to_owned(),
            decision: outcome,
            reasons: reasons
                .iter()
                .map(|reason| reason.code.as_str().to_owned())
                .collect(),
            rights,
            label: label.map(EventLabel::from),
            originator: provenance.map(OriginatorRef::from),
        }
    }
}

/// The signing reader: who signs and which installation's chain the event
/// extends.
///
/// # Security
///
/// Holds the reader's private signing key. [`SigningKey`] zeroizes itself on
/// drop, and `Debug` prints neither the key nor the credential.
pub struct ReaderIdentity {
    /// The reader's ES256 signing key (the one the credential names).
    pub signing_key: SigningKey,
    /// Key id of the signing key, as the credential names it.
    pub kid: String,
    /// Community id.
    pub community: String,
    /// Organization id of the reader's member organization.
    pub org: String,
    /// Person id from the credential.
    pub person: String,
    /// Id of this installation (a browser profile or a CLI home), chosen at
    /// random once; each installation keeps its own chain.
    pub agent: String,
    /// The reader's credential (compact JWS), sent in `valisecred`.
    pub credential: Option<String>,
}

impl fmt::Debug for ReaderIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReaderIdentity")
            .field("kid", &self.kid)
            .field("community", &self.community)
            .field("org", &self.org)
            .field("person", &self.person)
            .field("agent", &self.agent)
            .finish_non_exhaustive()
    }
}

impl ReaderIdentity {
    /// Returns the CloudEvents `source` of this reader installation.
    pub fn source(&self) -> String {
        EventSource {
            community: self.community.clone(),
            org: self.org.clone(),
            person: self.person.clone(),
            agent: self.agent.clone(),
        }
        .to_string()
    }
}

/// A parsed `source` attribute: `valise://COMMUNITY/ORG/PERSON/AGENT`, each
/// segment percent-encoded (every byte outside RFC 3986 "unreserved").
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EventSource {
    /// Community id.
    pub community: String,
    /// Organization id.
    pub org: String,
    /// Person id.
    pub person: String,
    /// Installation id.
    pub agent: String,
}

impl fmt::Display for EventSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{SOURCE_SCHEME}{}/{}/{}/{}",
            percent_encode(&self.community),
            percent_encode(&self.org),
            percent_encode(&self.person),
            percent_encode(&self.agent)
        )
    }
}

impl EventSource {
    /// Parses a `source` attribute.
    ///
    /// # Errors
    ///
    /// [`EventError::Malformed`] when the scheme is not `valise://`, there
    /// are not exactly four non-empty segments, or a percent escape is
    /// invalid.
    pub fn parse(source: &str) -> Result<EventSource, EventError> {
        let malformed = |why: &str| EventError::Malformed(format!("source {source:?}: {why}"));
        let rest = source
            .strip_prefix(SOURCE_SCHEME)
            .ok_or_else(|| malformed("expected the valise:// scheme"))?;
        let segments: Vec<&str> = rest.split('/').collect();
        let [community, org, person, agent] = segments.as_slice() else {
            return Err(malformed("expected valise://COMMUNITY/ORG/PERSON/AGENT"));
        };
        let decode = |segment: &str| -> Result<String, EventError> {
            let value = percent_decode(segment).ok_or_else(|| malformed("invalid percent escape"))?;
            if value.is_empty() {
                return Err(malformed("empty segment"));
            }
            Ok(value)
        };
        Ok(EventSource {
            community: decode(community)?,
            org: decode(org)?,
            person: decode(person)?,
            agent: decode(agent)?,
        })
    }
}

/// Position of a reader installation's chain: the last sequence number used
/// and the chain hash of the last event signed.
///
/// The caller persists it after each [`sign_event`] (the browser in
/// IndexedDB, the CLI under its home folder), after the event itself is
/// queued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChainState {
    /// Sequence number of the last event signed; 0 before the first.
    pub seq: u64,
    /// Chain hash of the last event signed, lowercase hex; zeros before the
    /// first.
    pub prev_hash: String,
}

impl Default for ChainState {
    fn default() -> Self {
        ChainState {
            seq: 0,
            prev_hash: hex::encode(GENESIS_HASH),
        }
    }
}

/// A signed event ready to queue and send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedEvent {
    /// Event id (a UUID).
    pub id: String,
    /// The event as canonical JSON (RFC 8785), signature included.
    pub json: String,
    /// Chain hash: SHA-256 of `json`.
    pub hash: [u8; 32],
    /// Sequence number of the event in its chain.
    pub seq: u64,
}

/// An event whose signature and reader were verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedEvent {
    /// Event id.
    pub id: String,
    /// The raw `source` attribute.
    pub source: String,
    /// The parsed source.
    pub reader: EventSource,
    /// The kind of event.
    pub kind: EventKind,
    /// Event time as the reader's clock stated it, RFC 3339.
    pub time: OffsetDateTime,
    /// Package id.
    pub subject: String,
    /// The `data` member.
    pub data: EventData,
    /// Key id of the key that signed the event.
    pub kid: String,
    /// The event as canonical JSON (RFC 8785), signature included.
    pub canonical: String,
    /// Chain hash: SHA-256 of `canonical`.
    pub hash: [u8; 32],
}

/// Signing key and identity of a reader, as a [`ReaderDirectory`] vouches
/// for them.
#[derive(Clone, Debug)]
pub struct ReaderKey {
    /// The reader's signing public key.
    pub key: VerifyingKey,
    /// Community id.
    pub community: String,
    /// Organization id.
    pub org: String,
    /// Person id.
    pub person: String,
}

/// Inputs a [`ReaderDirectory`] resolves a signer from.
#[derive(Clone, Copy, Debug)]
pub struct ReaderLookup<'a> {
    /// `kid` from the signature header.
    pub kid: &'a str,
    /// The `valisecred` attribute, if present.
    pub credential: Option<&'a str>,
    /// The event's time, for checking the credential's validity window.
    pub time: OffsetDateTime,
}

/// Failure of a [`ReaderDirectory`] to vouch for a signer.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// No reader with this key id is known.
    #[error("unknown reader key {0:?}")]
    UnknownKey(String),
    /// The credential failed verification against the trust list.
    #[error("credential rejected: {0}")]
    CredentialRejected(String),
}

/// Source of the readers' signing keys: the community trust list plus the
/// credential carried in each event, or a fixed list of keys.
pub trait ReaderDirectory {
    /// Returns the signing key and identity of the reader that signed with
    /// `lookup.kid`.
    ///
    /// # Errors
    ///
    /// [`DirectoryError`] when the key is unknown or the credential is not
    /// valid.
    fn resolve(&self, lookup: &ReaderLookup<'_>) -> Result<ReaderKey, DirectoryError>;
}

/// Why an event could not be signed or verified.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The serialised event is larger than [`MAX_EVENT_BYTES`].
    #[error("event is {size} bytes, more than the maximum of {max}")]
    TooLarge {
        /// Size of the event.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The event is not valid JSON or breaks the event format; the message
    /// names the member.
    #[error("malformed event: {0}")]
    Malformed(String),
    /// The event has no `valisesig` attribute.
    #[error("event is not signed (no {SIGNATURE_ATTRIBUTE} attribute)")]
    MissingSignature,
    /// The directory does not know the signing key or rejected the
    /// credential.
    #[error("unknown reader: {0}")]
    UnknownReader(DirectoryError),
    /// The identity in the event differs from the one the credential vouches
    /// for.
    #[error("event names {field} {claimed:?} but the signing key belongs to {actual:?}")]
    ReaderMismatch {
        /// `community`, `org` or `person`.
        field: &'static str,
        /// Value in the event.
        claimed: String,
        /// Value from the directory.
        actual: String,
    },
    /// The signature did not verify.
    #[error("signature verification failed")]
    SignatureInvalid,
    /// The draft or the reader identity cannot make a valid event.
    #[error("invalid event draft: {0}")]
    InvalidDraft(String),
}

impl EventError {
    /// Returns a stable snake_case code for the error, for API responses and
    /// logs.
    pub fn code(&self) -> &'static str {
        match self {
            EventError::TooLarge { .. } => "too_large",
            EventError::Malformed(_) => "malformed",
            EventError::MissingSignature => "missing_signature",
            EventError::UnknownReader(DirectoryError::UnknownKey(_)) => "unknown_reader",
            EventError::UnknownReader(_) => "credential_rejected",
            EventError::ReaderMismatch { .. } => "reader_mismatch",
            EventError::SignatureInvalid => "bad_signature",
            EventError::InvalidDraft(_) => "invalid_draft",
        }
    }
}

/// Makes an event id (a version 4 UUID, lowercase hyphenated) from 16 random
/// bytes.
pub fn event_id_from_random(bytes: [u8; 16]) -> String {
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// Signs an access event and advances the reader's chain.
///
/// `id` must be a UUID (see [`event_id_from_random`]); `time` is converted to
/// UTC. On success `chain` contains the new event's sequence number and hash.
/// On error it is unchanged.
///
/// # Errors
///
/// [`EventError::InvalidDraft`] when a field is empty, too long or not of the
/// expected form, or the chain's sequence number is exhausted.
pub fn sign_event(
    draft: &EventDraft,
    reader: &ReaderIdentity,
    chain: &mut ChainState,
    id: &str,
    time: OffsetDateTime,
) -> Result<SignedEvent, EventError> {
    let invalid = EventError::InvalidDraft;
    let seq = chain
        .seq
        .checked_add(1)
        .filter(|seq| *seq <= MAX_SAFE_INTEGER)
        .ok_or_else(|| invalid("the chain's sequence number is exhausted".into()))?;
    check_prev_hash(seq, &chain.prev_hash).map_err(|e| invalid(e.to_string()))?;
    let uuid = uuid::Uuid::try_parse(id).map_err(|_| invalid(format!("event id {id:?} is not a UUID")))?;
    let time = time
        .to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(|e| invalid(format!("time cannot be written as RFC 3339: {e}")))?;

    let data = EventData {
        decision: draft.decision,
        reasons: draft.reasons.clone(),
        rights: draft.rights,
        reader: ReaderRef {
            org: reader.org.clone(),
            person: reader.person.clone(),
        },
        label: draft.label.clone(),
        originator: draft.originator.clone(),
        seq,
        prev_hash: chain.prev_hash.clone(),
    };
    let wire = WireEvent {
        specversion: SPEC_VERSION.into(),
        id: uuid.hyphenated().to_string(),
        source: reader.source(),
        event_type: draft.kind.event_type(),
        time,
        subject: draft.package_id.clone(),
        datacontenttype: DATA_CONTENT_TYPE.into(),
        data,
        valisecred: reader.credential.clone(),
    };
    check_fields(&wire, &EventSource::parse(&wire.source).map_err(|e| invalid(e.to_string()))?)
        .map_err(|e| invalid(e.to_string()))?;
    check_identifier("kid", &reader.kid).map_err(|e| invalid(e.to_string()))?;

    let Value::Object(mut object) =
        serde_json::to_value(&wire).map_err(|e| invalid(format!("cannot serialise the event: {e}")))?
    else {
        return Err(invalid("the event did not serialise to a JSON object".into()));
    };
    let unsigned = canonical_bytes(&Value::Object(object.clone()))?;
    let signature = sign_detached(&reader.signing_key, &reader.kid, &unsigned);
    object.insert(SIGNATURE_ATTRIBUTE.into(), Value::String(signature));
    let signed = canonical_bytes(&Value::Object(object))?;
    if signed.len() > MAX_EVENT_BYTES {
        return Err(EventError::TooLarge {
            size: signed.len(),
            max: MAX_EVENT_BYTES,
        });
    }
    let hash: [u8; 32] = Sha256::digest(&signed).into();
    let json = String::from_utf8(signed)
        .map_err(|_| invalid("canonical JSON is not UTF-8".into()))?;

    chain.seq = seq;
    chain.prev_hash = hex::encode(hash);
    Ok(SignedEvent {
        id: wire.id,
        json,
        hash,
        seq,
    })
}

/// Verifies one serialised event: bounded strict parsing, the event format,
/// the signer through `directory`, the identity in the event against the
/// signer's, then the signature.
///
/// # Errors
///
/// [`EventError`] naming the first check that failed; a bad signature is
/// reported as the opaque [`EventError::SignatureInvalid`].
pub fn verify_event(
    bytes: &[u8],
    directory: &dyn ReaderDirectory,
) -> Result<VerifiedEvent, EventError> {
    if bytes.len() > MAX_EVENT_BYTES {
        return Err(EventError::TooLarge {
            size: bytes.len(),
            max: MAX_EVENT_BYTES,
        });
    }
    let value = parse_strict(bytes)?;
    verify_event_value(value, directory)
}

/// Verifies one event already parsed by [`parse_batch`].
///
/// # Errors
///
/// As [`verify_event`].
pub fn verify_event_value(
    value: Value,
    directory: &dyn ReaderDirectory,
) -> Result<VerifiedEvent, EventError> {
    let Value::Object(mut object) = value else {
        return Err(EventError::Malformed("an event must be a JSON object".into()));
    };
    let signature = match object.remove(SIGNATURE_ATTRIBUTE) {
        Some(Value::String(signature)) => signature,
        Some(_) => {
            return Err(EventError::Malformed(format!(
                "{SIGNATURE_ATTRIBUTE} must be a string"
            )))
        }
        None => return Err(EventError::MissingSignature),
    };
    let unsigned = canonical_bytes(&Value::Object(object.clone()))?;
    if unsigned.len() + signature.len() > MAX_EVENT_BYTES {
        return Err(EventError::TooLarge {
            size: unsigned.len() + signature.len(),
            max: MAX_EVENT_BYTES,
        });
    }

    let wire: WireEvent = serde_json::from_value(Value::Object(object.clone()))
        .map_err(|e| EventError::Malformed(e.to_string()))?;
    let source = EventSource::parse(&wire.source)?;
    let (kind, time) = check_fields(&wire, &source)?;

    let kid = signature_kid(&signature)?;
    let lookup = ReaderLookup {
        kid: &kid,
        credential: wire.valisecred.as_deref(),
        time,
    };
    let signer = directory.resolve(&lookup).map_err(EventError::UnknownReader)?;
    for (field, claimed, actual) in [
        ("community", &source.community, &signer.community),
        ("org", &source.org, &signer.org),
        ("person", &source.person, &signer.person),
    ] {
        if claimed != actual {
            return Err(EventError::ReaderMismatch {
                field,
                claimed: claimed.clone(),
                actual: actual.clone(),
            });
        }
    }
    verify_detached(&signature, &unsigned, &signer.key)?;

    object.insert(SIGNATURE_ATTRIBUTE.into(), Value::String(signature));
    let canonical = canonical_bytes(&Value::Object(object))?;
    let hash: [u8; 32] = Sha256::digest(&canonical).into();
    let canonical = String::from_utf8(canonical)
        .map_err(|_| EventError::Malformed("canonical JSON is not UTF-8".into()))?;
    Ok(VerifiedEvent {
        id: wire.id,
        source: wire.source,
        reader: source,
        kind,
        time,
        subject: wire.subject,
        data: wire.data,
        kid,
        canonical,
        hash,
    })
}

/// Parses a request body holding either one event (a JSON object) or a batch
/// (a JSON array of objects), strictly and within bounds, and returns the
/// events still unverified, each with its serialised size.
///
/// # Errors
///
/// [`EventError::Malformed`] when the body is not such JSON, has duplicate
/// keys, nests deeper than allowed or contains more than `max_events` events;
/// [`EventError::TooLarge`] when an event is larger than
/// [`MAX_EVENT_BYTES`].
pub fn parse_batch(bytes: &[u8], max_events: usize) -> Result<Vec<Value>, EventError> {
    let value = parse_strict(bytes)?;
    let events = match value {
        Value::Array(events) => events,
        object @ Value::Object(_) => vec![object],
        _ => {
            return Err(EventError::Malformed(
                "the body must be an event object or an array of events".into(),
            ))
        }
    };
    if events.len() > max_events {
        return Err(EventError::Malformed(format!(
            "the batch contains {} events, more than the maximum of {max_events}",
            events.len()
        )));
    }
    Ok(events)
}

/// Returns the chain hash of an event (SHA-256 of its canonical bytes), hex.
pub fn hash_hex(hash: &[u8; 32]) -> String {
    hex::encode(hash)
}

/// Serde form of the event, without `valisesig`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEvent {
    specversion: String,
    id: String,
    source: String,
    #[serde(rename = "type")]
    event_type: String,
    time: String,
    subject: String,
    datacontenttype: String,
    data: EventData,
    #[serde(skip_serializing_if = "Option::is_none")]
    valisecred: Option<String>,
}

/// Checks every field of the format and returns the kind and time.
fn check_fields(
    wire: &WireEvent,
    source: &EventSource,
) -> Result<(EventKind, OffsetDateTime), EventError> {
    let malformed = EventError::Malformed;
    if wire.specversion != SPEC_VERSION {
        return Err(malformed(format!(
            "specversion {:?} is not {SPEC_VERSION:?}",
            wire.specversion
        )));
    }
    let id = uuid::Uuid::try_parse(&wire.id)
        .map_err(|_| malformed(format!("id {:?} is not a UUID", wire.id)))?;
    if id.hyphenated().to_string() != wire.id {
        return Err(malformed(format!(
            "id {:?} is not a lowercase hyphenated UUID",
            wire.id
        )));
    }
    let kind = EventKind::from_event_type(&wire.event_type)
        .ok_or_else(|| malformed(format!("unknown event type {:?}", wire.event_type)))?;
    let time = OffsetDateTime::parse(&wire.time, &Rfc3339)
        .map_err(|_| malformed(format!("time {:?} is not RFC 3339", wire.time)))?;
    if wire.datacontenttype != DATA_CONTENT_TYPE {
        return Err(malformed(format!(
            "datacontenttype {:?} is not {DATA_CONTENT_TYPE:?}",
            wire.datacontenttype
        )));
    }
    check_identifier("subject", &wire.subject)?;
    for (name, value) in [
        ("source community", &source.community),
        ("source org", &source.org),
        ("source person", &source.person),
        ("source agent", &source.agent),
    ] {
        check_identifier(name, value)?;
    }

    let data = &wire.data;
    if data.reader.org != source.org || data.reader.person != source.person {
        return Err(malformed(format!(
            "data.reader {}/{} differs from the source {}/{}",
            data.reader.org, data.reader.person, source.org, source.person
        )));
    }
    if data.reasons.len() > MAX_REASONS {
        return Err(malformed(format!(
            "data.reasons holds {} codes, more than the maximum of {MAX_REASONS}",
            data.reasons.len()
        )));
    }
    for (index, reason) in data.reasons.iter().enumerate() {
        let valid = !reason.is_empty()
            && reason.len() <= 64
            && reason
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(malformed(format!(
                "data.reasons[{index}] {reason:?} is not a snake_case code"
            )));
        }
    }
    if let Some(label) = &data.label {
        if !TLP_VALUES.contains(&label.tlp.as_str()) {
            return Err(malformed(format!(
                "data.label.tlp {:?} is not one of {}",
                label.tlp,
                TLP_VALUES.join(", ")
            )));
        }
        if let Some(marking) = &label.marking {
            check_identifier("data.label.marking", marking)?;
        }
    }
    if let Some(originator) = &data.originator {
        check_identifier("data.originator.org", &originator.org)?;
        if let Some(kid) = &originator.kid {
            check_identifier("data.originator.kid", kid)?;
        }
    }
    if data.seq == 0 || data.seq > MAX_SAFE_INTEGER {
        return Err(malformed(format!(
            "data.seq {} is outside 1..=2^53-1",
            data.seq
        )));
    }
    check_prev_hash(data.seq, &data.prev_hash)?;
    Ok((kind, time))
}

/// Checks that `prev_hash` is 64 lowercase hex digits, all zeros exactly when
/// `seq` is 1.
fn check_prev_hash(seq: u64, prev_hash: &str) -> Result<(), EventError> {
    let is_hex = prev_hash.len() == 64
        && prev_hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !is_hex {
        return Err(EventError::Malformed(format!(
            "data.prevHash {prev_hash:?} is not 64 lowercase hex digits"
        )));
    }
    let genesis = prev_hash.bytes().all(|b| b == b'0');
    if genesis != (seq == 1) {
        return Err(EventError::Malformed(format!(
            "data.prevHash must be all zeros exactly for data.seq 1 (seq {seq})"
        )));
    }
    Ok(())
}

fn check_identifier(name: &str, value: &str) -> Result<(), EventError> {
    if value.is_empty() || value.len() > MAX_IDENTIFIER_BYTES {
        return Err(EventError::Malformed(format!(
            "{name} must be 1 to {MAX_IDENTIFIER_BYTES} bytes long (got {})",
            value.len()
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(EventError::Malformed(format!(
            "{name} {value:?} contains a control character"
        )));
    }
    Ok(())
}

/// Signs `payload` as a compact JWS with a detached payload (RFC 7515
/// appendix F): `header..signature`.
fn sign_detached(key: &SigningKey, kid: &str, payload: &[u8]) -> String {
    let token = jws::sign_es256(key, Some(kid), Some(SIGNATURE_TYPE), payload);
    let mut parts = token.split('.');
    let header = parts.next().unwrap_or_default();
    let signature = parts.nth(1).unwrap_or_default();
    format!("{header}..{signature}")
}

/// Splits a detached compact JWS into its header and signature parts.
fn split_detached(signature: &str) -> Result<(&str, &str), EventError> {
    let malformed = || {
        EventError::Malformed(format!(
            "{SIGNATURE_ATTRIBUTE} is not a compact JWS with a detached payload"
        ))
    };
    let mut parts = signature.split('.');
    let (Some(header), Some(""), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    if header.is_empty() || sig.is_empty() {
        return Err(malformed());
    }
    Ok((header, sig))
}

/// Reads the `kid` of the signature header, checking `alg` and `typ`.
fn signature_kid(signature: &str) -> Result<String, EventError> {
    let (header, sig) = split_detached(signature)?;
    // The header is read through the JWS module with an empty payload, so
    // the same bounded decoder checks it as everywhere else.
    let (header, _) = jws::decode_unverified(&format!("{header}..{sig}"))
        .map_err(|e| EventError::Malformed(format!("{SIGNATURE_ATTRIBUTE}: {e}")))?;
    if header.alg != "ES256" {
        return Err(EventError::Malformed(format!(
            "{SIGNATURE_ATTRIBUTE} alg {:?} is not ES256",
            header.alg
        )));
    }
    if header.typ.as_deref() != Some(SIGNATURE_TYPE) {
        return Err(EventError::Malformed(format!(
            "{SIGNATURE_ATTRIBUTE} typ {:?} is not {SIGNATURE_TYPE:?}",
            header.typ
        )));
    }
    let kid = header
        .kid
        .ok_or_else(|| EventError::Malformed(format!("{SIGNATURE_ATTRIBUTE} has no kid")))?;
    check_identifier("kid", &kid)?;
    Ok(kid)
}

/// Verifies a detached ES256 JWS over `payload`.
fn verify_detached(signature: &str, payload: &[u8], key: &VerifyingKey) -> Result<(), EventError> {
    let (header, sig) = split_detached(signature)?;
    let encoded = jws::base64url_encode(payload);
    let token = format!("{header}.{encoded}.{sig}");
    jws::verify_es256(&token, key).map_err(|_| EventError::SignatureInvalid)?;
    Ok(())
}

/// Serialises a JSON value in the RFC 8785 canonical form (JCS).
///
/// Object members are sorted by the UTF-16 code units of their names, and no
/// whitespace is written. Strings use the shortest JSON escapes, with
/// lowercase `\u00xx` for other control characters, which is how serde_json
/// writes strings. Numbers are limited to integers of magnitude at most
/// 2^53 - 1, whose ECMAScript form is their plain decimal digits. Events carry
/// no other numbers, so a fraction or a larger integer is rejected instead of
/// being formatted.
///
/// # Errors
///
/// [`EventError::Malformed`] for a number outside that range.
pub fn canonical_bytes(value: &Value) -> Result<Vec<u8>, EventError> {
    let mut out = Vec::with_capacity(512);
    write_canonical(value, &mut out)?;
    Ok(out)
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) -> Result<(), EventError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => {
            let text = if let Some(n) = number.as_u64().filter(|n| *n <= MAX_SAFE_INTEGER) {
                n.to_string()
            } else if let Some(n) = number
                .as_i64()
                .filter(|n| n.unsigned_abs() <= MAX_SAFE_INTEGER)
            {
                n.to_string()
            } else {
                return Err(EventError::Malformed(format!(
                    "number {number} is not an integer within 2^53 - 1"
                )));
            };
            out.extend_from_slice(text.as_bytes());
        }
        Value::String(text) => write_string(text, out)?,
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push(b'{');
            for (index, (name, member)) in sorted.into_iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_string(name, out)?;
                out.push(b':');
                write_canonical(member, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(text: &str, out: &mut Vec<u8>) -> Result<(), EventError> {
    serde_json::to_writer(&mut *out, text)
        .map_err(|e| EventError::Malformed(format!("cannot write a string: {e}")))
}

/// Parses JSON with duplicate member names rejected and nesting bounded by
/// [`MAX_DEPTH`]. The caller bounds the input size.
fn parse_strict(bytes: &[u8]) -> Result<Value, EventError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue { depth: 0 }
        .deserialize(&mut deserializer)
        .map_err(|e| EventError::Malformed(e.to_string()))?;
    deserializer
        .end()
        .map_err(|e| EventError::Malformed(e.to_string()))?;
    Ok(value)
}

/// Builds a [`Value`] like serde_json does, but rejects duplicate member
/// names and nesting deeper than [`MAX_DEPTH`].
struct StrictValue {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom(format!("number {value} is not finite")))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let depth = self.nested::<A::Error>()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue { depth })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let depth = self.nested::<A::Error>()?;
        let mut members = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if members.contains_key(&name) {
                return Err(de::Error::custom(format!("duplicate member name {name:?}")));
            }
            let member = map.next_value_seed(StrictValue { depth })?;
            members.insert(name, member);
        }
        Ok(Value::Object(members))
    }
}

impl StrictValue {
    /// Returns the depth of the members of an array or object at this level.
    fn nested<E: de::Error>(&self) -> Result<usize, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format!(
                "JSON nests deeper than the maximum of {MAX_DEPTH}"
            )));
        }
        Ok(self.depth + 1)
    }
}

/// Percent-encodes every byte outside RFC 3986 "unreserved".
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes percent escapes; rejects a bad escape, invalid UTF-8 and any
/// byte that [`percent_encode`] would have escaped, so each source has one
/// spelling.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'%' {
            let digits = bytes.get(index + 1..index + 3)?;
            let digits = std::str::from_utf8(digits).ok()?;
            if digits.bytes().any(|b| b.is_ascii_lowercase()) {
                return None;
            }
            let decoded = u8::from_str_radix(digits, 16).ok()?;
            if decoded.is_ascii_alphanumeric() || matches!(decoded, b'-' | b'.' | b'_' | b'~') {
                return None;
            }
            out.push(decoded);
            index += 3;
        } else if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte);
            index += 1;
        } else {
            return None;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests;
