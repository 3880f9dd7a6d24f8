//! A serialisable summary of a package for people and tools, made without
//! any private key: what the manifest declares, which signatures verified,
//! and which could not be checked without a key.
//!
//! The summary never contains key material: no wrapped key, ephemeral key,
//! policy binding or signature bytes, only their kinds and key ids.

use serde::Serialize;
use serde_json::Value;

use crate::assertions::{Label, Provenance, Rights, LABEL_ID, PROVENANCE_ID, RIGHTS_ID};
use crate::open::{BindingStatus, OpenError, Package};

/// The summary of one package.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inspection {
    /// Manifest `schemaVersion` (absent in files from before 4.3.0).
    pub schema_version: Option<String>,
    /// Whether the file uses the pre-4.3.0 hex encodings.
    pub legacy_encoding: bool,
    /// Package id: the policy's `uuid`.
    pub package_id: String,
    /// Attribute value FQNs of the policy.
    pub data_attributes: Vec<String>,
    /// Dissemination list of the policy.
    pub dissem: Vec<String>,
    /// `payload.mimeType`.
    pub media_type: Option<String>,
    /// Payload geometry.
    pub payload: PayloadSummary,
    /// Key access objects.
    pub key_access: Vec<KeyAccessSummary>,
    /// Assertions and how their bindings checked.
    pub assertions: Vec<AssertionSummary>,
    /// Whether the package carries the community profile's statements.
    pub profile: bool,
    /// The label statement as written (trust it only if its binding verified).
    pub label: Option<Label>,
    /// The rights statement as written.
    pub rights: Option<Rights>,
    /// The provenance statement as written.
    pub provenance: Option<Provenance>,
    /// Signing key id of the profile statements.
    pub signer_kid: Option<String>,
    /// Overall state of the originator's signature.
    pub signer: SignerState,
    /// The root signature and segment hashes need the data key: never checked here.
    pub root_signature: &'static str,
}

/// Payload geometry.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PayloadSummary {
    /// Segment count.
    pub segment_count: usize,
    /// Default plaintext segment size.
    pub segment_size_default: u64,
    /// `GMAC` or `HS256`.
    pub segment_hash_alg: String,
    /// Plaintext size.
    pub plaintext_size: u64,
    /// Encrypted payload size.
    pub encrypted_size: u64,
}

/// One key access object, without its key material.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyAccessSummary {
    /// `ec-wrapped` or `wrapped`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Recipient key id, if any.
    pub kid: Option<String>,
    /// Split id (`""` for the default split).
    pub split_id: String,
    /// Key access server URL as written.
    pub url: String,
}

/// One assertion and the state of its binding.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssertionSummary {
    /// Assertion id.
    pub id: String,
    /// `handling` or `other`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Statement schema.
    pub schema: Option<String>,
    /// JWS `alg` of the binding (empty when unbound).
    pub alg: String,
    /// JWS `kid` of the binding.
    pub kid: Option<String>,
    /// State of the binding.
    pub status: BindingStatus,
}

/// Overall state of the originator's signature over the profile statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SignerState {
    /// Every profile binding verified with a key the caller trusts.
    Verified,
    /// The bindings verify with the key embedded in the package, which no
    /// trust list or `--signer` vouched for.
    Unverified,
    /// No key was available to check the bindings.
    NotChecked,
    /// A binding does not verify, or a profile statement is missing from a
    /// package whose policy names the profile: the package was altered.
    Invalid,
    /// The package has no profile statements (a stock OpenTDF file).
    Unsigned,
}

/// Summarises a package. `originator_key` maps a signing `kid` to a trusted
/// public key, as for [`Package::verify`].
///
/// # Errors
///
/// [`OpenError`] only for failures that are not binding failures (those are
/// reported as [`BindingStatus::Invalid`]).
pub fn inspect(package: &Package, originator_key: &dyn Fn(&str) -> Option<p256::ecdsa::VerifyingKey>) -> Result<Inspection, OpenError> {
    let manifest = package.manifest();
    let assertion_values = package.manifest_value().get("assertions").and_then(Value::as_array).cloned().unwrap_or_default();
    let manifest_digest = crate::manifest::manifest_hash(package.manifest_value())?;
    let aggregate = package.aggregate_hash();

    let mut assertions = Vec::new();
    for (assertion, value) in manifest.assertions().iter().zip(&assertion_values) {
        let (alg, kid, status) =
            match package.check_binding(assertion, value, None, originator_key, &aggregate, manifest.is_legacy(), &manifest_digest) {
                Ok(check) => (check.alg, check.kid, check.status),
                Err(OpenError::IntegrityFailure) => {
                    let header = assertion.binding.as_ref().and_then(|b| crate::jws::decode_unverified_within(&b.signature, crate::limits::MAX_JWS_BYTES).ok()).map(|(h, _)| h);
                    let alg = header.as_ref().map(|h| h.alg.clone()).unwrap_or_default();
                    (alg, header.and_then(|h| h.kid), BindingStatus::Invalid)
                }
                Err(other) => return Err(other),
            };
        assertions.push(AssertionSummary {
            id: assertion.id.clone(),
            kind: assertion.kind.clone(),
            schema: assertion.statement.schema.clone(),
            alg,
            kid,
            status,
        });
    }

    let statement = |id: &str| manifest.assertions().iter().find(|a| a.id == id).map(|a| a.statement.value.clone());
    let label = statement(LABEL_ID).and_then(|v| serde_json::from_value(v).ok());
    let rights = statement(RIGHTS_ID).and_then(|v| serde_json::from_value(v).ok());
    let provenance: Option<Provenance> = statement(PROVENANCE_ID).and_then(|v| serde_json::from_value(v).ok());
    let profile_ids = [LABEL_ID, RIGHTS_ID, PROVENANCE_ID];
    let profile_checks: Vec<&AssertionSummary> = assertions.iter().filter(|a| profile_ids.contains(&a.id.as_str())).collect();
    // A policy that names the profile (or a profile this reader does not
    // know) with any profile statement missing: the statements were removed.
    let marked = package.policy().profile_marker().unwrap_or(true);
    let all_present = profile_ids.iter().all(|id| profile_checks.iter().any(|a| a.id == *id));
    let signer = if marked && !all_present {
        SignerState::Invalid
    } else if profile_checks.is_empty() {
        SignerState::Unsigned
    } else if profile_checks.iter().any(|a| a.status == BindingStatus::Invalid || a.alg != crate::jws::ALG_ES256) {
        SignerState::Invalid
    } else if profile_checks.iter().all(|a| a.status == BindingStatus::VerifiedSigner) {
        SignerState::Verified
    } else if profile_checks.iter().any(|a| a.status == BindingStatus::KeyUnavailable) {
        SignerState::NotChecked
    } else {
        SignerState::Unverified
    };

    let info = &manifest.encryption_information;
    let segments = package.segments();
    Ok(Inspection {
        schema_version: manifest.schema_version.clone(),
        legacy_encoding: manifest.is_legacy(),
        package_id: package.policy().uuid.clone(),
        data_attributes: package.policy().attribute_fqns(),
        dissem: package.policy().dissem().to_vec(),
        media_type: manifest.payload.mime_type.clone(),
        payload: PayloadSummary {
            segment_count: segments.len(),
            segment_size_default: info.integrity_information.segment_size_default,
            segment_hash_alg: info.integrity_information.segment_hash_alg.clone(),
            plaintext_size: segments.iter().map(|s| s.plaintext_size).sum(),
            encrypted_size: segments.iter().map(|s| s.encrypted_size).sum(),
        },
        key_access: info
            .key_access
            .iter()
            .map(|o| KeyAccessSummary { kind: o.kind.clone(), kid: o.kid().map(str::to_owned), split_id: o.split_id().to_owned(), url: o.url.clone() })
            .collect(),
        profile: !profile_checks.is_empty(),
        signer_kid: profile_checks.first().and_then(|a| a.kid.clone()),
        assertions,
        label,
        rights,
        provenance,
        signer,
        root_signature: "not checked: needs the data key (open the package to check it)",
    })
}
