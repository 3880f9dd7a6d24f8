//! Package handles: a parsed package, and a package the decision point
//! permitted, which holds its data key and decrypts on request.
//!
//! Opening runs the core's steps in order: parse, unwrap the data key with
//! the reader's key, verify every signature under it, ask the decision
//! point, and only on Permit hand out a handle that can decrypt.

use js_sys::Uint8Array;
use serde::Serialize;
use time::OffsetDateTime;
use valise_core::assertions::{Marking, Provenance};
use valise_core::decision::{self, Decision, DecisionInput, Obligation, Permit};
use valise_core::label::{EffectiveRights, ForwardScope};
use valise_core::open::{OpenError, Package as CorePackage, VerifiedPackage};
use valise_core::trust_list::StalePolicy;
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use crate::archive::ArchiveReader;
use crate::error::{open_error, to_js, BindingError, BindingResult, ErrorKind, ReasonView};
use crate::identity::Identity;
use crate::trust::TrustList;

/// A parsed package: structure and manifest checked, nothing decrypted.
#[wasm_bindgen]
pub struct Package {
    inner: CorePackage,
    /// The page's archive, read in place (`archive.rs`).
    archive: Uint8Array,
}

/// Options of [`Package::open`], from JavaScript.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct OpenOptions {
    now_ms: f64,
    last_seen_ms: Option<f64>,
    #[serde(default)]
    stale: StalePolicy,
    highest_trust_version_seen: Option<u64>,
    /// When the trust list was last fetched from the network; the offline
    /// lease in the package's rights counts from it.
    trust_fetched_ms: Option<f64>,
}

/// Unverified summary of a package, before it is opened.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PackageSummary {
    package_id: String,
    key_ids: Vec<String>,
    media_type: Option<String>,
}

/// The rights the portal enforces, flattened for JavaScript.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RightsView {
    view: bool,
    print: bool,
    copy: bool,
    forward: bool,
    forward_scope: ForwardScope,
    forward_orgs: Vec<String>,
    export: bool,
    watermark: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    not_before: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    not_after: Option<OffsetDateTime>,
    offline_lease_seconds: Option<u64>,
    events_required: bool,
    events_url: Option<String>,
}

/// The label as the reader sees it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LabelView {
    /// The effective TLP level, without the "TLP:" prefix.
    tlp: &'static str,
    /// The level the package carries, when the marking made it stricter.
    package_tlp: &'static str,
    marking: Option<Marking>,
    mapped_tlp: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OriginatorView {
    org: Option<String>,
    organization_name: Option<String>,
    author: Option<String>,
    kid: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VerifiedView {
    /// Every ES256 assertion binding verified with the originator's key from the trust list.
    originator_signature: bool,
    /// The signed provenance carries per-segment and whole-plaintext digests.
    content_digests: bool,
}

/// Everything the document screen shows.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OpenedMetadata {
    package_id: String,
    community: Option<String>,
    label: Option<LabelView>,
    rights: RightsView,
    watermark: Option<String>,
    warnings: Vec<ReasonView>,
    obligations: Vec<Obligation>,
    originator: OriginatorView,
    verified: VerifiedView,
    media_type: String,
    file_name: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    created: Option<OffsetDateTime>,
    key_id: Option<String>,
    plaintext_size: u64,
    segment_count: usize,
}

#[wasm_bindgen]
impl Package {
    /// Parses package bytes (a ZTDF ZIP archive). The module keeps a
    /// reference to `bytes` and copies only the ZIP directory and the
    /// manifest. `decryptAll` later reads the payload from the same array,
    /// so the page must not change or transfer it before then.
    ///
    /// # Errors
    ///
    /// `MalformedPackage` naming what is wrong; `Unsupported` for features
    /// the viewer does not implement.
    pub fn parse(bytes: Uint8Array) -> Result<Package, JsValue> {
        let inner = CorePackage::parse(&mut ArchiveReader::new(&bytes)).map_err(|error| open_error(&error))?;
        Ok(Package { inner, archive: bytes })
    }

    /// Returns `{ packageId, keyIds, mediaType }`, unverified.
    #[wasm_bindgen(unchecked_return_type = "PackageSummary")]
    pub fn summary(&self) -> Result<JsValue, JsValue> {
        let manifest = self.inner.manifest();
        let summary = PackageSummary {
            package_id: self.inner.policy().uuid.clone(),
            key_ids: manifest.encryption_information.key_access.iter().filter_map(|object| object.kid().map(str::to_owned)).collect(),
            media_type: manifest.payload.mime_type.clone(),
        };
        to_js(&summary)
    }

    /// Unwraps, verifies and decides. On Permit returns a handle that can
    /// decrypt; this package handle gives its bytes to it and cannot open
    /// again.
    ///
    /// `options` is `{ nowMs, lastSeenMs?, stale: "warn"|"deny", highestTrustVersionSeen?, trustFetchedMs? }`.
    ///
    /// # Errors
    ///
    /// `KeyRequired` for a locked identity; `KeyMismatch` (with the
    /// `not_recipient` reason) when the key opens no key access object;
    /// `Integrity` when a signature, binding or digest fails;
    /// `AccessDenied` with every reason of the decision point.
    pub fn open(
        &mut self,
        identity: &Identity,
        trust: &TrustList,
        #[wasm_bindgen(unchecked_param_type = "OpenOptions")] options: JsValue,
    ) -> Result<OpenedPackage, JsValue> {
        let options: OpenOptions =
            serde_wasm_bindgen::from_value(options).map_err(|error| BindingError::new(ErrorKind::Internal, format!("invalid open options: {error}")))?;
        Ok(self.open_inner(identity, trust, &options)?)
    }
}

impl Package {
    fn open_inner(&mut self, identity: &Identity, trust: &TrustList, options: &OpenOptions) -> BindingResult<OpenedPackage> {
        let key = identity.key()?;
        let credential = identity.credential();
        let (_, reader_kid) = credential.key_access_key();
        let now = crate::time::from_millis(options.now_ms)?;
        let last_seen = options.last_seen_ms.map(crate::time::from_millis).transpose()?;
        let trust_fetched = options.trust_fetched_ms.map(crate::time::from_millis).transpose()?;
        let policy = self.inner.policy();
        let data_attributes: Vec<String> = policy.attribute_fqns();
        let dissem: Vec<String> = policy.dissem().to_vec();

        let unwrapped = match self.inner.unwrap(key, Some(reader_kid)) {
            Ok(unwrapped) => unwrapped,
            Err(error @ (OpenError::NotRecipient | OpenError::MissingSplits { .. })) => {
                // Ask the decision point for its sentence and next step.
                let input = DecisionInput {
                    package_id: &policy.uuid,
                    community: None,
                    label: None,
                    rights: None,
                    provenance: None,
                    originator_signature_valid: false,
                    originator_kid: None,
                    unwrapped_kid: None,
                    data_attributes: &data_attributes,
                    dissem: &dissem,
                    trust: trust.inner(),
                    credential: Some(credential),
                    credential_rejected: None,
                    now,
                    last_seen,
                    stale_policy: options.stale,
                    highest_trust_version_seen: options.highest_trust_version_seen,
                };
                let mut failure = open_error(&error);
                if let Decision::Deny(reasons) = decision::decide(&input) {
                    failure.reasons = reasons.iter().map(ReasonView::from).collect();
                }
                return Err(failure);
            }
            Err(error) => return Err(open_error(&error)),
        };

        let trust_list = trust.inner();
        let verified = self
            .inner
            .verify(&unwrapped.data_key, &|kid| trust_list.signing_key(kid).map(|found| p256::ecdsa::VerifyingKey::from(found.key)))
            .map_err(|error| open_error(&error))?;

        let input = DecisionInput {
            package_id: &verified.package_id,
            community: verified.provenance.as_ref().and_then(|provenance| provenance.community.as_deref()),
            label: verified.label.as_ref(),
            rights: verified.rights.as_ref(),
            provenance: verified.provenance.as_ref(),
            originator_signature_valid: verified.originator_signature_valid,
            originator_kid: verified.originator_kid.as_deref(),
            unwrapped_kid: Some(unwrapped.kid.as_deref().unwrap_or(reader_kid)),
            data_attributes: &data_attributes,
            dissem: &dissem,
            trust: trust_list,
            credential: Some(credential),
            credential_rejected: None,
            now,
            last_seen,
            stale_policy: options.stale,
            highest_trust_version_seen: options.highest_trust_version_seen,
        };
        let permit = match decision::decide_offline(&input, trust_fetched) {
            Decision::Permit(permit) => permit,
            Decision::Deny(reasons) => {
                let mut failure = BindingError::denied(reasons.iter().map(ReasonView::from).collect());
                failure.event = Some(Box::new(crate::events::event_context(&verified)));
                return Err(failure);
            }
        };
        let metadata = opened_metadata(&verified, &permit, trust, unwrapped.kid.clone());
        let stream = crate::stream::Streaming::new(&self.inner, &verified, &unwrapped.data_key);
        let archive = std::mem::replace(&mut self.archive, Uint8Array::new_with_length(0));
        Ok(OpenedPackage { verified, archive, metadata, stream })
    }
}

fn rights_view(rights: &EffectiveRights, permit: &Permit, verified: &VerifiedPackage) -> RightsView {
    let signed = verified.rights.as_ref();
    RightsView {
        view: rights.view,
        print: rights.print,
        copy: rights.copy,
        forward: rights.forward != ForwardScope::None,
        forward_scope: rights.forward,
        forward_orgs: permit.forward_orgs.clone(),
        export: rights.export,
        watermark: rights.watermark,
        not_before: signed.and_then(|rights| rights.not_before),
        not_after: signed.and_then(|rights| rights.not_after),
        offline_lease_seconds: signed.and_then(|rights| rights.offline_lease_seconds),
        events_required: signed.is_some_and(|rights| rights.events.required),
        events_url: signed.and_then(|rights| rights.events.url.clone()),
    }
}

fn opened_metadata(verified: &VerifiedPackage, permit: &Permit, trust: &TrustList, key_id: Option<String>) -> OpenedMetadata {
    let provenance: Option<&Provenance> = verified.provenance.as_ref();
    let org = provenance.map(|provenance| provenance.originator.org.clone());
    let organization_name = org.as_deref().and_then(|org| trust.inner().member(org)).map(|member| member.name.clone());
    OpenedMetadata {
        package_id: verified.package_id.clone(),
        community: provenance.and_then(|provenance| provenance.community.clone()),
        label: permit.label.as_ref().map(|label| LabelView {
            tlp: label.effective.as_str(),
            package_tlp: label.package_tlp.as_str(),
            marking: label.marking.clone(),
            mapped_tlp: label.mapped_tlp.map(|tlp| tlp.as_str()),
        }),
        rights: rights_view(&permit.rights, permit, verified),
        watermark: permit.watermark.clone(),
        warnings: permit.warnings.iter().map(ReasonView::from).collect(),
        obligations: permit.obligations.clone(),
        originator: OriginatorView {
            org,
            organization_name,
            author: provenance.and_then(|provenance| provenance.originator.author.clone()),
            kid: verified.originator_kid.clone(),
        },
        verified: VerifiedView { originator_signature: verified.originator_signature_valid, content_digests: provenance.is_some() },
        media_type: provenance
            .map(|provenance| provenance.media_type.clone())
            .or_else(|| verified.media_type.clone())
            .unwrap_or_else(|| "application/octet-stream".to_owned()),
        file_name: provenance.and_then(|provenance| provenance.file_name.clone()),
        created: provenance.map(|provenance| provenance.created),
        key_id,
        plaintext_size: verified.plaintext_size(),
        segment_count: verified.segments.len(),
    }
}

/// A package the decision point permitted. It keeps the data key (inside
/// the verified package) until it is freed.
#[wasm_bindgen]
pub struct OpenedPackage {
    pub(crate) verified: VerifiedPackage,
    /// The page's archive; empty once its buffer went to the decryption worker.
    archive: Uint8Array,
    metadata: OpenedMetadata,
    /// The plan and key of the streaming path (`stream.rs`, `webcrypto.rs`).
    pub(crate) stream: Option<crate::stream::Streaming>,
}

#[wasm_bindgen]
impl OpenedPackage {
    /// Returns the metadata the document screen shows.
    #[wasm_bindgen(unchecked_return_type = "OpenedMetadata")]
    pub fn metadata(&self) -> Result<JsValue, JsValue> {
        to_js(&self.metadata)
    }

    /// Decrypts the whole payload. Every segment is checked (size, segment
    /// hash, signed digest, GCM tag) before it is released, and the
    /// whole-plaintext digest under the originator's signature at the end.
    ///
    /// # Errors
    ///
    /// `Integrity` on any mismatch; nothing is returned then. `Internal`
    /// when the package bytes went to the decryption worker
    /// (`decryptStream` transfers them).
    #[wasm_bindgen(js_name = decryptAll)]
    pub fn decrypt_all(&self) -> Result<Vec<u8>, JsValue> {
        // NOTE: this is the path of a page without a Worker or WebCrypto; it
        // returns nothing before the whole-plaintext digest matched, so
        // pdf.js cannot start on the first pages here as it can on the stream.
        let (payload_offset, payload_size) = self.verified.payload_range();
        let payload_end = payload_offset.saturating_add(payload_size);
        if u64::from(self.archive.length()) < payload_end {
            return Err(BindingError::new(
                ErrorKind::Internal,
                format!("the package bytes hold {} of {payload_end} bytes: they were transferred to the decryption worker or changed", self.archive.length()),
            )
            .into());
        }
        let capacity = usize::try_from(self.verified.plaintext_size()).unwrap_or(0);
        let mut plaintext = Zeroizing::new(Vec::with_capacity(capacity));
        self.verified.decrypt_to(&mut ArchiveReader::new(&self.archive), &mut *plaintext).map_err(|error| open_error(&error))?;
        Ok(std::mem::take(&mut *plaintext))
    }
}
