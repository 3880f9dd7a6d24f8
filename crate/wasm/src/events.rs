//! Access events in the browser: an event signer holding the reader's
//! signing key, and the event context of a package (its id, label,
//! originator and the collector its rights name).
//!
//! The portal keeps the chain state in its outbox (IndexedDB), passes it to
//! [`EventSigner::sign`] and stores the state the call returns in the same
//! transaction as the signed event, so the chain and the queue never
//! disagree.

use serde::{Deserialize, Serialize};
use valise_core::events::{self, ChainState, EventDraft, EventKind, EventLabel, OriginatorRef, Outcome, ReaderIdentity, RightsInForce};
use valise_core::keys::{KeyFileError, PrivateKey};
use valise_core::open::VerifiedPackage;
use wasm_bindgen::prelude::*;

use crate::error::{to_js, BindingError, BindingResult, ErrorKind};
use crate::identity::Identity;
use crate::package::OpenedPackage;

/// Prefix of the agent ids the portal chooses, so a collector's operator can
/// tell browser chains from CLI chains (`cli-`).
const AGENT_PREFIX: &str = "web-";

/// The event facts of a verified package, for the portal to build events.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventContext {
    package_id: String,
    label: Option<EventLabel>,
    originator: Option<OriginatorRef>,
    /// The collector named by the signed rights assertion, if any.
    events_url: Option<String>,
    /// Whether the rights require the event to be queued before the
    /// document is shown.
    events_required: bool,
}

/// Builds the event context of a package whose signatures verified.
pub(crate) fn event_context(verified: &VerifiedPackage) -> EventContext {
    let events = verified.rights.as_ref().map(|rights| &rights.events);
    EventContext {
        package_id: verified.package_id.clone(),
        label: verified.label.as_ref().map(EventLabel::from),
        originator: verified.provenance.as_ref().map(OriginatorRef::from),
        events_url: events.and_then(|events| events.url.clone()),
        events_required: events.is_some_and(|events| events.required),
    }
}

/// The event to sign, from JavaScript.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DraftInput {
    kind: EventKind,
    package_id: String,
    decision: Outcome,
    #[serde(default)]
    reasons: Vec<String>,
    rights: Option<RightsInForce>,
    label: Option<EventLabel>,
    originator: Option<OriginatorRef>,
}

/// The chain state the outbox stores: the installation's agent id and the
/// core's [`ChainState`].
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StoredChain {
    agent: String,
    seq: u64,
    prev_hash: String,
}

/// The result of [`EventSigner::sign`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignedView {
    id: String,
    kind: EventKind,
    /// The signed event, canonical JSON, ready to queue as it is.
    event: String,
    /// The chain state after this event; store it with the event.
    chain: StoredChain,
}

/// The reader's signing key and the facts an event states about the reader.
///
/// # Security
///
/// The key is the one the reader's credential names as its signing key;
/// it zeroizes on drop and on [`EventSigner::lock`].
#[wasm_bindgen]
pub struct EventSigner {
    reader: Option<ReaderIdentity>,
}

impl EventSigner {
    fn unlock_inner(pkcs8: &mut [u8], identity: &Identity) -> BindingResult<EventSigner> {
        // Read (and zeroize) the key first, so `pkcs8` is zeroized even for a
        // locked identity.
        let key = crate::keyfile::read_decrypted(pkcs8).map(PrivateKey::into_p256);
        // A locked identity has no verified reader to sign for.
        identity.key()?;
        let key = match key {
            Ok(Some(key)) => key,
            Ok(None) | Err(KeyFileError::RsaNotBuilt) => {
                return Err(BindingError::new(ErrorKind::Unsupported, "The signing key file contains an RSA key, but events are signed with the P-256 signing key of your credential."));
            }
            Err(error) => {
                let mut failure = crate::keyfile::key_file_error(&error);
                failure.message = format!("Signing key file: {}", failure.message);
                return Err(failure);
            }
        };
        let credential = identity.credential();
        let (expected, kid) = credential.signing_key();
        if &key.public_key() != expected {
            return Err(BindingError::new(
                ErrorKind::KeyMismatch,
                "The signing key file does not belong to this credential. Choose the NAME.sign.key.pem issued with it.",
            ));
        }
        let reader = ReaderIdentity {
            signing_key: p256::ecdsa::SigningKey::from(&key),
            kid: kid.to_owned(),
            community: credential.community().to_owned(),
            org: credential.org().to_owned(),
            person: credential.person().to_owned(),
            agent: String::new(),
            credential: Some(credential.token().to_owned()),
        };
        Ok(EventSigner { reader: Some(reader) })
    }

    fn sign_inner(&mut self, draft: DraftInput, chain: Option<StoredChain>, now_ms: f64) -> BindingResult<SignedView> {
        let reader = self
            .reader
            .as_mut()
            .ok_or_else(|| BindingError::new(ErrorKind::KeyRequired, "The event signing key is locked: unlock your identity again."))?;
        let (agent, mut state) = match chain {
            Some(stored) => (stored.agent, ChainState { seq: stored.seq, prev_hash: stored.prev_hash }),
            None => (new_agent()?, ChainState::default()),
        };
        reader.agent = agent;
        let time = crate::time::from_millis(now_ms)?;
        let id = events::event_id_from_random(random_bytes::<16>()?);
        let kind = draft.kind;
        let draft = EventDraft {
            kind,
            package_id: draft.package_id,
            decision: draft.decision,
            reasons: draft.reasons,
            rights: draft.rights,
            label: draft.label,
            originator: draft.originator,
        };
        let signed = events::sign_event(&draft, reader, &mut state, &id, time)
            .map_err(|error| BindingError::new(ErrorKind::Internal, format!("the access event could not be signed: {error}")))?;
        Ok(SignedView {
            id: signed.id,
            kind,
            event: signed.json,
            chain: StoredChain { agent: reader.agent.clone(), seq: state.seq, prev_hash: state.prev_hash },
        })
    }
}

#[wasm_bindgen]
impl EventSigner {
    /// Reads the reader's signing key from the PKCS#8 structure that
    /// WebCrypto decrypted with the parameters of a
    /// [`crate::keyfile::KeyFile`] (parsed with `signing` set), and checks
    /// that it is the signing key the identity's credential names. `pkcs8`
    /// is overwritten with zeros, in wasm memory and in the caller's array;
    /// an empty `pkcs8` means the decryption failed.
    ///
    /// # Errors
    ///
    /// `KeyRequired` for a locked identity; `Passphrase` for a wrong
    /// passphrase (bytes that are not PKCS#8); `KeyMismatch` when the key is
    /// not the credential's signing key; `Unsupported` for an RSA key.
    pub fn unlock(pkcs8: &mut [u8], identity: &Identity) -> Result<EventSigner, JsValue> {
        Ok(EventSigner::unlock_inner(pkcs8, identity)?)
    }

    /// Signs one event. `draft` is `{ kind, packageId, decision, reasons,
    /// rights, label, originator }`; `chain` is the stored
    /// `{ agent, seq, prevHash }`, or `null` before the first event of this
    /// browser profile (a new agent id is chosen). Returns
    /// `{ id, kind, event, chain }` with the chain state that follows.
    ///
    /// # Errors
    ///
    /// `KeyRequired` after `lock()`; `Internal` for a draft or chain state
    /// the core rejects, which only a caller bug produces.
    #[wasm_bindgen(unchecked_return_type = "SignedEvent")]
    pub fn sign(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "EventDraftInput")] draft: JsValue,
        #[wasm_bindgen(unchecked_param_type = "EventChain | null")] chain: JsValue,
        now_ms: f64,
    ) -> Result<JsValue, JsValue> {
        let draft: DraftInput = serde_wasm_bindgen::from_value(draft)
            .map_err(|error| BindingError::new(ErrorKind::Internal, format!("invalid event draft: {error}")))?;
        let chain: Option<StoredChain> = serde_wasm_bindgen::from_value(chain)
            .map_err(|error| BindingError::new(ErrorKind::Internal, format!("invalid event chain state: {error}")))?;
        to_js(&self.sign_inner(draft, chain, now_ms)?)
    }

    /// Drops the signing key, which zeroizes it.
    pub fn lock(&mut self) {
        self.reader = None;
    }
}

#[wasm_bindgen]
impl OpenedPackage {
    /// Returns `{ packageId, label, originator, eventsUrl, eventsRequired }`
    /// for the events of this package.
    #[wasm_bindgen(js_name = eventContext, unchecked_return_type = "EventContext")]
    pub fn event_context(&self) -> Result<JsValue, JsValue> {
        to_js(&event_context(&self.verified))
    }
}

/// Chooses the id of this browser profile's chain: the prefix and 12 random
/// hex digits, as the CLI does with its own prefix.
fn new_agent() -> BindingResult<String> {
    let bytes = random_bytes::<6>()?;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(format!("{AGENT_PREFIX}{hex}"))
}

fn random_bytes<const N: usize>() -> BindingResult<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes)
        .map_err(|error| BindingError::new(ErrorKind::Internal, format!("the browser's random number source failed: {error}")))?;
    Ok(bytes)
}
