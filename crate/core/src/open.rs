//! Opening a package, step by step, so that the access decision runs between
//! verification and decryption and the browser can decrypt segment by segment:
//!
//! 1. [`Package::parse`]: container and strict manifest, bounded;
//! 2. [`Package::unwrap`]: find the key access object(s) the reader's key
//!    opens and check the policy binding; yields the data key;
//! 3. [`Package::verify`]: root signature, segment table and every assertion
//!    binding; yields a [`VerifiedPackage`] with the typed label, rights and
//!    provenance;
//! 4. the decision point (not here);
//! 5. [`VerifiedPackage::decrypt_segment`] or [`VerifiedPackage::decrypt_to`]:
//!    each segment is released only after its GCM tag, its segment hash and,
//!    in a profile package, the SHA-256 in the signed provenance all match.
//!
//! # Security
//!
//! Integrity failures are reported as one opaque
//! [`OpenError::IntegrityFailure`]; the detail goes to `tracing` at debug level.

use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::assertions::{
    Label, Provenance, Rights, LABEL_ID, LABEL_SCHEMA, PROVENANCE_ID, PROVENANCE_SCHEMA, RIGHTS_ID, RIGHTS_SCHEMA,
    STATEMENT_FORMAT,
};
use crate::container::{Container, ContainerError};
use crate::json_strict;
use crate::jws::{self, JwsHeader};
use crate::key_access::{self, DataKey, KeyAccessError, GCM_NONCE_LEN};
use crate::keys::PrivateKey;
use crate::limits::{MAX_JWS_BYTES, MAX_PAYLOAD_BYTES, MAX_UNHINTED_KEY_TRIALS};
use crate::manifest::{
    self, assertion_hash, assertion_sig_input, manifest_hash, BindingClaims, KeyAccess, Manifest, ManifestError,
    SegmentEntry, KEY_ACCESS_EC_WRAPPED,
};
use crate::policy::{Policy, PolicyError};
use crate::segments::{decrypt_segment, decrypt_segment_in_place, gmac_hash, hash_matches, hmac_sha256};

/// Errors of opening a package.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The ZIP container is invalid.
    #[error(transparent)]
    Container(#[from] ContainerError),
    /// The manifest is invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The policy object is invalid.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The package is structurally invalid in another way (named in the message).
    #[error("invalid package: {0}")]
    Malformed(String),
    /// No key access object opens with the given key.
    #[error("not a recipient: no key access object of this package opens with this key")]
    NotRecipient,
    /// The key opens some key splits but the package needs others too.
    #[error("this key opens {opened} of the {needed} key splits; the others need other keys")]
    MissingSplits {
        /// Splits opened.
        opened: usize,
        /// Splits the package has.
        needed: usize,
    },
    /// A signature, binding, hash or tag did not verify. Deliberately opaque.
    #[error("integrity check failed: the package was altered or damaged")]
    IntegrityFailure,
    /// A feature this reader does not support.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Reading the package or writing the output failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

/// Logs the reason of an integrity failure at debug level and returns the opaque error.
fn integrity(detail: &str) -> OpenError {
    tracing::debug!(detail, "integrity check failed");
    OpenError::IntegrityFailure
}

/// A private key that may open key access objects: P-256 for `ec-wrapped`,
/// RSA for `wrapped`.
#[derive(Clone, Copy)]
pub enum RecipientKey<'a> {
    /// P-256 key for `ec-wrapped` objects.
    P256(&'a p256::SecretKey),
    /// RSA key for `wrapped` objects.
    #[cfg(feature = "rsa")]
    Rsa(&'a rsa::RsaPrivateKey),
}

impl<'a> From<&'a PrivateKey> for RecipientKey<'a> {
    fn from(key: &'a PrivateKey) -> Self {
        match key {
            PrivateKey::P256(key) => RecipientKey::P256(key),
            #[cfg(feature = "rsa")]
            PrivateKey::Rsa(key) => RecipientKey::Rsa(key),
        }
    }
}

impl<'a> From<&'a p256::SecretKey> for RecipientKey<'a> {
    fn from(key: &'a p256::SecretKey) -> Self {
        RecipientKey::P256(key)
    }
}

#[cfg(feature = "rsa")]
impl<'a> From<&'a rsa::RsaPrivateKey> for RecipientKey<'a> {
    fn from(key: &'a rsa::RsaPrivateKey) -> Self {
        RecipientKey::Rsa(key)
    }
}

/// A parsed package: container located, manifest and policy parsed and
/// checked, nothing decrypted or verified yet.
#[derive(Clone, Debug)]
pub struct Package {
    container: Container,
    manifest: Manifest,
    manifest_value: Value,
    policy: Policy,
    segments: Vec<SegmentEntry>,
}

/// Result of [`Package::unwrap`].
pub struct Unwrapped {
    /// The data key.
    pub data_key: DataKey,
    /// Indexes of the key access objects that opened, one per split.
    pub key_access_indexes: Vec<usize>,
    /// `kid` of the first object that opened, if it has one.
    pub kid: Option<String>,
}

impl std::fmt::Debug for Unwrapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unwrapped")
            .field("data_key", &"[redacted]")
            .field("key_access_indexes", &self.key_access_indexes)
            .field("kid", &self.kid)
            .finish()
    }
}

impl Package {
    /// Parses a package from a seekable reader: ZIP structure, manifest,
    /// policy, segment table, and their agreement with the payload size.
    ///
    /// # Errors
    ///
    /// [`OpenError::Container`], [`OpenError::Manifest`],
    /// [`OpenError::Policy`] or [`OpenError::Malformed`] naming what is wrong.
    pub fn parse<R: Read + Seek>(reader: &mut R) -> Result<Package, OpenError> {
        let container = Container::read(reader)?;
        let manifest_bytes = container.read_manifest(reader)?;
        let (manifest, manifest_value) = Manifest::parse(&manifest_bytes)?;
        let policy = Policy::from_base64(&manifest.encryption_information.policy)?;
        let segments = manifest.segment_table()?;
        let encrypted_total: u64 = segments.iter().map(|s| s.encrypted_size).sum();
        if encrypted_total != container.payload.size {
            return Err(OpenError::Malformed(format!(
                "segment table covers {encrypted_total} bytes but the payload entry has {}",
                container.payload.size
            )));
        }
        let plaintext_total: u64 = segments.iter().map(|s| s.plaintext_size).sum();
        if plaintext_total > MAX_PAYLOAD_BYTES {
            return Err(OpenError::Malformed(format!(
                "plaintext of {plaintext_total} bytes exceeds the limit of {MAX_PAYLOAD_BYTES} bytes"
            )));
        }
        Ok(Package { container, manifest, manifest_value, policy, segments })
    }

    /// Parses a package held in memory (see [`Package::parse`]).
    ///
    /// # Errors
    ///
    /// As [`Package::parse`].
    pub fn parse_bytes(bytes: &[u8]) -> Result<Package, OpenError> {
        Package::parse(&mut Cursor::new(bytes))
    }

    /// Returns the manifest model.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Returns the manifest as parsed JSON, with every member.
    pub fn manifest_value(&self) -> &Value {
        &self.manifest_value
    }

    /// Returns the policy object.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Returns the ZIP structure.
    pub fn container(&self) -> &Container {
        &self.container
    }

    /// Returns the resolved segment table.
    pub fn segments(&self) -> &[SegmentEntry] {
        &self.segments
    }

    /// Returns the aggregate hash: the stored segment hashes concatenated.
    pub(crate) fn aggregate_hash(&self) -> Vec<u8> {
        self.segments.iter().flat_map(|s| s.hash.iter().copied()).collect()
    }

    /// Finds the key access objects `key` opens and returns the data key.
    ///
    /// Objects that share a split id are alternatives: one per split must
    /// open, and the data key is the XOR of the split keys (a single split
    /// gives the key itself). Within a split, the object whose `kid` equals
    /// `kid_hint` is tried first, then the other objects of the key's type,
    /// at most [`MAX_UNHINTED_KEY_TRIALS`] of them in the whole package:
    /// each trial costs a private-key operation. Each object that opens must
    /// carry a valid policy binding.
    ///
    /// # Errors
    ///
    /// [`OpenError::IntegrityFailure`] when no object opens but one names
    /// `kid_hint` (it was damaged or altered).
    /// [`OpenError::NotRecipient`] when no object opens, or none within the
    /// trial limit; [`OpenError::MissingSplits`] when only some splits open;
    /// [`OpenError::IntegrityFailure`] when an object opens but its policy
    /// binding does not verify.
    pub fn unwrap<'k>(&self, key: impl Into<RecipientKey<'k>>, kid_hint: Option<&str>) -> Result<Unwrapped, OpenError> {
        let key = key.into();
        let objects = &self.manifest.encryption_information.key_access;
        let mut split_ids: Vec<&str> = Vec::new();
        for object in objects {
            if !split_ids.contains(&object.split_id()) {
                split_ids.push(object.split_id());
            }
        }

        let mut combined = [0u8; 32];
        let mut opened = Vec::new();
        let mut kid = None;
        let mut unhinted_trials = 0;
        // An object that names the reader's key id but does not unwrap with
        // that key was damaged or altered: the package was sealed for this
        // reader, so "not a recipient" would send them the wrong way.
        let mut hinted_failed = false;
        for split in &split_ids {
            let mut candidates: Vec<(usize, &KeyAccess)> =
                objects.iter().enumerate().filter(|(_, o)| o.split_id() == *split).collect();
            // Objects whose kid matches the hint first; the sort is stable.
            candidates.sort_by_key(|(_, o)| kid_hint.is_none() || o.kid() != kid_hint);
            for (index, object) in candidates {
                let hinted = kid_hint.is_some() && object.kid() == kid_hint;
                if !hinted && try_kind(key, object) {
                    if unhinted_trials == MAX_UNHINTED_KEY_TRIALS {
                        tracing::debug!(limit = MAX_UNHINTED_KEY_TRIALS, "stopped trying the key on key access objects");
                        return Err(OpenError::NotRecipient);
                    }
                    unhinted_trials += 1;
                }
                let Some(split_key) = try_unwrap(key, object)? else {
                    hinted_failed |= hinted;
                    continue;
                };
                let binding = manifest::decode_base64(object.policy_binding.hash(), "policyBinding.hash")?;
                if object.policy_binding.alg() != "HS256"
                    || !key_access::verify_policy_binding(&split_key, &self.manifest.encryption_information.policy, &binding)
                {
                    return Err(integrity("policy binding"));
                }
                for (byte, split_byte) in combined.iter_mut().zip(split_key.as_bytes()) {
                    *byte ^= split_byte;
                }
                if kid.is_none() {
                    kid = object.kid().map(str::to_owned);
                }
                opened.push(index);
                break;
            }
        }
        let data_key = DataKey::from_bytes(combined);
        combined.fill(0);
        if opened.is_empty() && hinted_failed {
            return Err(integrity("the key access object named for the reader's key did not unwrap"));
        }
        if opened.is_empty() {
            return Err(OpenError::NotRecipient);
        }
        if opened.len() != split_ids.len() {
            return Err(OpenError::MissingSplits { opened: opened.len(), needed: split_ids.len() });
        }
        Ok(Unwrapped { data_key, key_access_indexes: opened, kid })
    }

    /// Verifies the package under the data key: root signature and every
    /// assertion binding, and reads the profile's label, rights and
    /// provenance. They land in the verified fields only when every profile
    /// binding verified with a key from `originator_key`, and in
    /// [`VerifiedPackage::claimed_profile`] otherwise.
    ///
    /// `originator_key` maps a signing key id (`kid` of an ES256 binding) to
    /// the public key the caller trusts for it (from the trust list, or a
    /// `--signer` file); `None` when it has no key for that id.
    ///
    /// # Errors
    ///
    /// [`OpenError::IntegrityFailure`] when any signature, binding or hash
    /// fails, or when the policy names the profile and a profile assertion
    /// is missing; [`OpenError::Malformed`] when a profile assertion is
    /// missing from an unmarked package or its statement is invalid;
    /// [`OpenError::Policy`] when the policy names an unknown profile.
    pub fn verify(
        &self,
        data_key: &DataKey,
        originator_key: &dyn Fn(&str) -> Option<p256::ecdsa::VerifyingKey>,
    ) -> Result<VerifiedPackage, OpenError> {
        let legacy = self.manifest.is_legacy();
        let aggregate = self.aggregate_hash();

        // Root signature: HMAC-SHA256 of the concatenated stored segment hashes.
        let integrity_info = &self.manifest.encryption_information.integrity_information;
        let root = manifest::decode_base64(&integrity_info.root_signature.sig, "rootSignature.sig")?;
        if !hash_matches(&root, &hmac_sha256(data_key, &aggregate)) {
            return Err(integrity("root signature"));
        }

        let manifest_digest = manifest_hash(&self.manifest_value)?;
        let assertion_values = self.manifest_value.get("assertions").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut checks = Vec::new();
        for (assertion, value) in self.manifest.assertions().iter().zip(&assertion_values) {
            checks.push(self.check_binding(assertion, value, Some(data_key), originator_key, &aggregate, legacy, &manifest_digest)?);
        }

        // The policy, bound to every key access object, says whether the
        // originator used the profile: stripping the assertions from such a
        // package is tampering, not a stock file.
        let marked = self.policy.profile_marker().map_err(OpenError::Policy)?;
        if marked {
            let present = |id: &str| self.manifest.assertions().iter().any(|a| a.id == id);
            if !(present(LABEL_ID) && present(RIGHTS_ID) && present(PROVENANCE_ID)) {
                return Err(integrity("profile assertions missing from a package whose policy names the profile"));
            }
        }
        let profile = read_profile(&self.manifest, &checks, self.segments.len())?;
        let originator_signature_valid =
            profile.is_some() && checks.iter().filter(|c| c.alg == jws::ALG_ES256).all(|c| c.status == BindingStatus::VerifiedSigner);
        let has_profile = marked || profile.is_some();
        // The statements count as verified only when every profile
        // assertion verified with a key from the caller's lookup.
        let profile_verified = profile.is_some()
            && checks.iter().filter(|c| is_profile_id(&c.id)).all(|c| c.status == BindingStatus::VerifiedSigner);
        let originator_kid = profile.as_ref().map(|p| p.kid.clone());
        let (label, rights, provenance, claimed_profile) = match profile {
            Some(p) if profile_verified => (Some(p.label), Some(p.rights), Some(p.provenance), None),
            Some(p) => (None, None, None, Some(ClaimedProfile { label: p.label, rights: p.rights, provenance: p.provenance })),
            None => (None, None, None, None),
        };
        Ok(VerifiedPackage {
            data_key: data_key.clone(),
            package_id: self.policy.uuid.clone(),
            policy: self.policy.clone(),
            label,
            rights,
            provenance,
            claimed_profile,
            has_profile,
            media_type: self.manifest.payload.mime_type.clone(),
            segments: self.segments.clone(),
            assertions: checks,
            originator_kid,
            originator_signature_valid,
            payload_offset: self.container.payload.data_offset,
            payload_crc32: self.container.payload.crc32,
            hmac_segment_hash: integrity_info.segment_hash_alg == "HS256",
        })
    }

    /// Checks one assertion binding. Without the data key an HS256 binding
    /// is reported as [`BindingStatus::NeedsDataKey`] and not checked.
    #[allow(clippy::too_many_arguments, reason = "one internal step of verify and inspect")]
    pub(crate) fn check_binding(
        &self,
        assertion: &manifest::Assertion,
        value: &Value,
        data_key: Option<&DataKey>,
        originator_key: &dyn Fn(&str) -> Option<p256::ecdsa::VerifyingKey>,
        aggregate: &[u8],
        legacy: bool,
        manifest_digest: &[u8; 32],
    ) -> Result<AssertionCheck, OpenError> {
        let id = assertion.id.clone();
        let Some(binding) = &assertion.binding else {
            return Ok(AssertionCheck { id, alg: String::new(), kid: None, status: BindingStatus::Unbound });
        };
        if !binding.method.eq_ignore_ascii_case("jws") {
            return Err(OpenError::Unsupported(format!("assertion {id:?}: binding method {:?}", binding.method)));
        }
        if binding.signature.len() > MAX_JWS_BYTES {
            return Err(OpenError::Malformed(format!("assertion {id:?}: binding of {} bytes", binding.signature.len())));
        }
        let (header, _) = jws::decode_unverified_within(&binding.signature, MAX_JWS_BYTES).map_err(|_| integrity("binding JWS malformed"))?;
        let kid = header.kid.clone().filter(|k| !k.is_empty());
        let (status, payload) = match header.alg.as_str() {
            jws::ALG_HS256 => {
                let Some(data_key) = data_key else {
                    return Ok(AssertionCheck { id, alg: header.alg, kid, status: BindingStatus::NeedsDataKey });
                };
                let verified = jws::verify_hs256_within(&binding.signature, data_key.as_bytes(), MAX_JWS_BYTES).map_err(|_| integrity("HS256 binding"))?;
                (BindingStatus::VerifiedDataKey, verified.payload)
            }
            jws::ALG_ES256 => {
                let trusted = kid.as_deref().and_then(originator_key);
                match (trusted, embedded_key(&header)) {
                    (Some(key), _) => {
                        let verified = jws::verify_es256_within(&binding.signature, &key, MAX_JWS_BYTES).map_err(|_| integrity("ES256 binding"))?;
                        (BindingStatus::VerifiedSigner, verified.payload)
                    }
                    (None, Some(key)) => {
                        let verified = jws::verify_es256_within(&binding.signature, &key, MAX_JWS_BYTES).map_err(|_| integrity("ES256 binding, embedded key"))?;
                        (BindingStatus::EmbeddedKeyOnly, verified.payload)
                    }
                    (None, None) => {
                        let (_, payload) = jws::decode_unverified_within(&binding.signature, MAX_JWS_BYTES).map_err(|_| integrity("binding JWS malformed"))?;
                        (BindingStatus::KeyUnavailable, payload)
                    }
                }
            }
            // Another algorithm (RS256, ES384, ...) on a foreign assertion:
            // reported as not checked; such assertions are trusted for nothing.
            _ if !is_profile_id(&id) => return Ok(AssertionCheck { id, alg: header.alg, kid, status: BindingStatus::KeyUnavailable }),
            other => return Err(OpenError::Malformed(format!("assertion {id:?}: binding algorithm {other:?}, expected ES256"))),
        };

        let claims: BindingClaims = json_strict::from_slice(&payload, MAX_JWS_BYTES).map_err(|_| integrity("binding claims"))?;
        let expected_hash = assertion_hash(value)?;
        if !claims.assertion_hash.eq_ignore_ascii_case(&hex::encode(expected_hash)) {
            return Err(integrity("assertion hash"));
        }
        let sig = base64::engine::general_purpose::STANDARD
            .decode(&claims.assertion_sig)
            .map_err(|_| integrity("assertionSig not base64"))?;
        if sig != assertion_sig_input(aggregate, &expected_hash, legacy) {
            return Err(integrity("assertionSig"));
        }
        if header.alg == jws::ALG_ES256 && is_profile_id(&id) {
            match claims.manifest_hash {
                Some(hash) if hash == hex::encode(manifest_digest) => {}
                _ => return Err(integrity("manifest hash")),
            }
        }
        Ok(AssertionCheck { id, alg: header.alg, kid, status })
    }
}

fn is_profile_id(id: &str) -> bool {
    id == LABEL_ID || id == RIGHTS_ID || id == PROVENANCE_ID
}

/// Returns the public key in a JWS header's `jwk` member, if any and valid.
// NOTE: an `x5c` certificate chain is not read: without a trust anchor it
// would prove no more than `jwk`, so such a binding is reported as not checked.
fn embedded_key(header: &JwsHeader) -> Option<p256::ecdsa::VerifyingKey> {
    let jwk = header.other.get("jwk")?;
    let (key, _) = jws::public_key_from_jwk(jwk).ok()?;
    Some(p256::ecdsa::VerifyingKey::from(key))
}

/// Returns whether `key` is of the type `object` needs, so that trying it
/// costs a private-key operation.
fn try_kind(key: RecipientKey<'_>, object: &KeyAccess) -> bool {
    match (key, object.kind.as_str()) {
        (RecipientKey::P256(_), kind) => kind == KEY_ACCESS_EC_WRAPPED,
        #[cfg(feature = "rsa")]
        (RecipientKey::Rsa(_), kind) => kind == manifest::KEY_ACCESS_WRAPPED,
    }
}

/// Tries to open one key access object; `Ok(None)` when it is of another
/// type or does not open with this key.
fn try_unwrap(key: RecipientKey<'_>, object: &KeyAccess) -> Result<Option<DataKey>, OpenError> {
    let wrapped = manifest::decode_base64(&object.wrapped_key, "wrappedKey")?;
    let result = match (key, object.kind.as_str()) {
        (RecipientKey::P256(secret), KEY_ACCESS_EC_WRAPPED) => {
            let Some(ephemeral) = object.ephemeral_public_key.as_deref() else {
                return Err(OpenError::Malformed("ec-wrapped key access object without ephemeralPublicKey".into()));
            };
            let ephemeral = match key_access::parse_ephemeral_public_key(ephemeral) {
                Ok(point) => point,
                Err(_) => return Err(OpenError::Malformed("invalid ephemeralPublicKey".into())),
            };
            key_access::unwrap_ec(secret, &ephemeral, &wrapped)
        }
        #[cfg(feature = "rsa")]
        (RecipientKey::Rsa(secret), manifest::KEY_ACCESS_WRAPPED) => key_access::unwrap_rsa(secret, &wrapped),
        _ => return Ok(None),
    };
    match result {
        Ok(data_key) => Ok(Some(data_key)),
        // A wrapped key of the wrong size for this key: another recipient's.
        Err(KeyAccessError::UnwrapFailed | KeyAccessError::Malformed(_)) => Ok(None),
        Err(_) => Ok(None),
    }
}

/// Outcome of checking one assertion binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum BindingStatus {
    /// HS256 with the data key: proves only that someone holding the data
    /// key (any recipient) wrote it.
    VerifiedDataKey,
    /// ES256 with the originator key the caller supplied.
    VerifiedSigner,
    /// ES256 with the key embedded in the JWS header (`jwk`): consistent,
    /// but no trust list or user vouched for that key.
    EmbeddedKeyOnly,
    /// ES256 with no key available: the signature was not checked.
    KeyUnavailable,
    /// HS256, checked only with the data key, which the caller did not give.
    NeedsDataKey,
    /// The binding does not verify (reported by inspection; opening fails instead).
    Invalid,
    /// No binding: the assertion is not trusted for anything.
    Unbound,
}

/// The result of checking one assertion binding.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssertionCheck {
    /// Assertion id.
    pub id: String,
    /// JWS `alg` (empty when unbound).
    pub alg: String,
    /// JWS `kid`.
    pub kid: Option<String>,
    /// Outcome.
    pub status: BindingStatus,
}

struct Profile {
    label: Label,
    rights: Rights,
    provenance: Provenance,
    kid: String,
}

/// Reads the three profile statements, if the package has any of them.
fn read_profile(manifest: &Manifest, checks: &[AssertionCheck], segment_count: usize) -> Result<Option<Profile>, OpenError> {
    let find = |id: &str| manifest.assertions().iter().zip(checks).find(|(a, _)| a.id == id);
    let label = find(LABEL_ID);
    let rights = find(RIGHTS_ID);
    let provenance = find(PROVENANCE_ID);
    if label.is_none() && rights.is_none() && provenance.is_none() {
        return Ok(None);
    }
    let (Some(label), Some(rights), Some(provenance)) = (label, rights, provenance) else {
        return Err(OpenError::Malformed("a profile package needs all three of valise-label, valise-rights and valise-provenance".into()));
    };
    let mut kid = None;
    for ((assertion, check), kind, schema) in
        [(label, "handling", LABEL_SCHEMA), (rights, "other", RIGHTS_SCHEMA), (provenance, "other", PROVENANCE_SCHEMA)]
    {
        let statement = &assertion.statement;
        if assertion.kind != kind || assertion.scope != "tdo" || statement.format != STATEMENT_FORMAT || statement.schema.as_deref() != Some(schema) {
            return Err(OpenError::Malformed(format!("assertion {:?} does not follow schema {schema}", assertion.id)));
        }
        if check.alg != jws::ALG_ES256 {
            return Err(OpenError::Malformed(format!("assertion {:?} is not bound with ES256", assertion.id)));
        }
        let this_kid = check.kid.clone().ok_or_else(|| OpenError::Malformed(format!("assertion {:?} binding has no kid", assertion.id)))?;
        match &kid {
            None => kid = Some(this_kid),
            Some(first) if *first != this_kid => return Err(integrity("profile assertions signed by different keys")),
            Some(_) => {}
        }
    }
    let parse = |assertion: &manifest::Assertion| -> Result<Value, OpenError> {
        if !assertion.statement.value.is_object() {
            return Err(OpenError::Malformed(format!("assertion {:?}: statement value is not a JSON object", assertion.id)));
        }
        Ok(assertion.statement.value.clone())
    };
    let invalid = |id: &str, e: serde_json::Error| OpenError::Malformed(format!("assertion {id:?}: {e}"));
    let label: Label = serde_json::from_value(parse(label.0)?).map_err(|e| invalid(LABEL_ID, e))?;
    let rights: Rights = serde_json::from_value(parse(rights.0)?).map_err(|e| invalid(RIGHTS_ID, e))?;
    let provenance: Provenance = serde_json::from_value(parse(provenance.0)?).map_err(|e| invalid(PROVENANCE_ID, e))?;
    let kid = kid.unwrap_or_default();
    if provenance.originator.kid != kid {
        return Err(integrity("provenance names another signing key"));
    }
    if !rights.view {
        return Err(OpenError::Malformed("assertion \"valise-rights\": view must be true".into()));
    }
    if provenance.segment_sha256.len() != segment_count {
        return Err(integrity("provenance segment digest count"));
    }
    Ok(Some(Profile { label, rights, provenance, kid }))
}

/// The label, rights and provenance of a package whose profile assertions
/// did not all verify with a key the caller supplied (the signing key is
/// not in its trust list, or only embedded in the package). They are what
/// the package claims, not the originator's word: show them as unverified
/// claims, and never base an access decision on them.
#[derive(Clone, Debug)]
pub struct ClaimedProfile {
    /// The claimed label.
    pub label: Label,
    /// The claimed rights.
    pub rights: Rights,
    /// The claimed provenance.
    pub provenance: Provenance,
}

/// A package whose signatures and bindings verified under the data key.
pub struct VerifiedPackage {
    data_key: DataKey,
    /// Package id: the policy's `uuid`.
    pub package_id: String,
    /// The policy object.
    pub policy: Policy,
    /// The label, verified with the originator key the caller supplied;
    /// `None` for a stock file ("unlabelled") and when the signer is not
    /// verified (see [`VerifiedPackage::claimed_profile`]).
    pub label: Option<Label>,
    /// The usage rights, verified as the label; `None` for a stock file
    /// ("view only") and when the signer is not verified.
    pub rights: Option<Rights>,
    /// The provenance, verified as the label; `None` for a stock file and
    /// when the signer is not verified.
    pub provenance: Option<Provenance>,
    /// The profile statements when their signatures were not verified with
    /// a key the caller supplied; `None` when they verified or are absent.
    pub claimed_profile: Option<ClaimedProfile>,
    /// Whether the package uses the community profile: its policy names the
    /// profile, or it carries the profile assertions. Such a package has
    /// usage rights even when they could not be verified, so a caller
    /// without verified rights must not release its plaintext.
    pub has_profile: bool,
    /// `payload.mimeType`.
    pub media_type: Option<String>,
    /// The segment table.
    pub segments: Vec<SegmentEntry>,
    /// Outcome of each assertion binding check.
    pub assertions: Vec<AssertionCheck>,
    /// `kid` of the originator's signing key (profile packages).
    pub originator_kid: Option<String>,
    /// Whether every ES256 binding verified with a key the caller supplied.
    pub originator_signature_valid: bool,
    payload_offset: u64,
    payload_crc32: u32,
    hmac_segment_hash: bool,
}

impl std::fmt::Debug for VerifiedPackage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedPackage")
            .field("package_id", &self.package_id)
            .field("label", &self.label)
            .field("has_profile", &self.has_profile)
            .field("originator_kid", &self.originator_kid)
            .field("originator_signature_valid", &self.originator_signature_valid)
            .finish_non_exhaustive()
    }
}

impl VerifiedPackage {
    /// Returns the total plaintext size.
    pub fn plaintext_size(&self) -> u64 {
        self.segments.iter().map(|s| s.plaintext_size).sum()
    }

    /// Returns the offset of the payload in the archive and its size, for a
    /// caller that reads segments itself.
    pub fn payload_range(&self) -> (u64, u64) {
        (self.payload_offset, self.segments.iter().map(|s| s.encrypted_size).sum())
    }

    /// Decrypts segment `index` from its encrypted bytes. Nothing is
    /// returned unless the size, the segment hash, the SHA-256 in the signed
    /// provenance (profile packages) and the GCM tag all match.
    ///
    /// # Errors
    ///
    /// [`OpenError::Malformed`] for an index out of range;
    /// [`OpenError::IntegrityFailure`] for any mismatch.
    pub fn decrypt_segment(&self, index: usize, encrypted: &[u8]) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        let entry = self.check_segment(index, encrypted)?;
        let plaintext = decrypt_segment(&self.data_key, encrypted).map_err(|_| integrity("segment tag"))?;
        if plaintext.len() as u64 != entry.plaintext_size {
            return Err(integrity("segment plaintext size"));
        }
        Ok(plaintext)
    }

    /// Returns the provenance whose digests the payload must match: the
    /// verified one, else the claimed one (checking it costs nothing and
    /// still catches a payload changed under it).
    fn signed_digests(&self) -> Option<&Provenance> {
        self.provenance.as_ref().or(self.claimed_profile.as_ref().map(|c| &c.provenance))
    }

    /// Checks everything about an encrypted segment but its GCM tag: size,
    /// segment hash and, in a profile package, the signed SHA-256.
    fn check_segment(&self, index: usize, encrypted: &[u8]) -> Result<&SegmentEntry, OpenError> {
        let entry = self
            .segments
            .get(index)
            .ok_or_else(|| OpenError::Malformed(format!("segment index {index} out of range (0..{})", self.segments.len())))?;
        if encrypted.len() as u64 != entry.encrypted_size {
            return Err(integrity("segment size"));
        }
        let hash_ok = if self.hmac_segment_hash {
            hash_matches(&entry.hash, &hmac_sha256(&self.data_key, encrypted))
        } else {
            let tag = gmac_hash(encrypted).map_err(|_| integrity("segment too short"))?;
            hash_matches(&entry.hash, &tag)
        };
        if !hash_ok {
            return Err(integrity("segment hash"));
        }
        if let Some(provenance) = self.signed_digests() {
            let digest: [u8; 32] = Sha256::digest(encrypted).into();
            let expected = provenance.segment_sha256.get(index).ok_or_else(|| integrity("provenance digest missing"))?;
            if !bool::from(subtle::ConstantTimeEq::ct_eq(&digest[..], &expected[..])) {
                return Err(integrity("segment digest in provenance"));
            }
        }
        Ok(entry)
    }

    /// Checks and decrypts the encrypted segment `index` held in `buffer`, in
    /// place; returns the plaintext length (the plaintext starts after the
    /// nonce). The same checks as [`Self::decrypt_segment`], without an
    /// allocation. On failure `buffer` contains bytes that must not be used.
    fn open_segment_in_place(&self, index: usize, buffer: &mut [u8]) -> Result<usize, OpenError> {
        self.check_segment(index, buffer)?;
        let plaintext = decrypt_segment_in_place(&self.data_key, buffer).map_err(|_| integrity("segment tag"))?;
        Ok(plaintext.len())
    }

    /// Decrypts the whole payload from `reader` (the package archive) into
    /// `writer`, segment by segment. At the end it checks the payload CRC-32
    /// and, for a profile package, the SHA-256 of the whole plaintext;
    /// returns the plaintext size.
    ///
    /// Outside WebAssembly a package of several segments is decrypted by
    /// [`OPEN_WORKERS`] threads while the calling thread reads, writes in
    /// order and digests the plaintext; at most [`SEGMENTS_IN_FLIGHT`]
    /// segment buffers exist at once, so memory stays bounded by that many
    /// times the largest segment (8 MiB with the default 2 MiB segments).
    ///
    /// # Security
    ///
    /// A segment reaches `writer` only after its size, segment hash, signed
    /// SHA-256 (profile packages) and GCM tag all matched, and in order. The
    /// whole-plaintext digest is known only at the end: a caller writing to
    /// a file writes to a temporary file and renames it only on success (the
    /// CLI does).
    ///
    /// # Errors
    ///
    /// [`OpenError::IntegrityFailure`] for any mismatch, [`OpenError::Io`]
    /// when reading or writing fails or a worker thread cannot start.
    pub fn decrypt_to<R: Read + Seek, W: Write>(&self, reader: &mut R, writer: &mut W) -> Result<u64, OpenError> {
        reader.seek(SeekFrom::Start(self.payload_offset))?;
        let mut sink = PlaintextSink { digest: Sha256::new(), crc: crc32fast::Hasher::new(), total: 0 };
        // The sizes were bounded by MAX_SEGMENT_BYTES when the manifest was
        // parsed; buffers get the largest one up front so that they never
        // reallocate (and leave copies of plaintext behind).
        let capacity = self.segments.iter().map(|s| s.encrypted_size).max().unwrap_or(0) as usize;
        #[cfg(not(target_arch = "wasm32"))]
        let parallel = self.segments.len() > 1;
        #[cfg(target_arch = "wasm32")]
        let parallel = false;
        if parallel {
            #[cfg(not(target_arch = "wasm32"))]
            self.decrypt_parallel(reader, writer, &mut sink, capacity)?;
        } else {
            let mut buffer = Zeroizing::new(Vec::with_capacity(capacity));
            for (index, entry) in self.segments.iter().enumerate() {
                read_segment(reader, &mut buffer, entry.encrypted_size)?;
                sink.crc.update(&buffer);
                let plaintext_len = self.open_segment_in_place(index, &mut buffer)?;
                sink.write(writer, &buffer[GCM_NONCE_LEN..GCM_NONCE_LEN + plaintext_len])?;
            }
        }
        if sink.crc.finalize() != self.payload_crc32 {
            return Err(integrity("payload CRC-32"));
        }
        if let Some(provenance) = self.signed_digests() {
            let digest: [u8; 32] = sink.digest.finalize().into();
            if !bool::from(subtle::ConstantTimeEq::ct_eq(&digest[..], &provenance.plaintext_sha256[..])) {
                return Err(integrity("plaintext digest in provenance"));
            }
        }
        writer.flush()?;
        Ok(sink.total)
    }

    /// The threaded segment loop of [`Self::decrypt_to`]. Segment `i` goes
    /// to worker `i % OPEN_WORKERS`; each worker answers in the order it
    /// received, so the calling thread collects results in segment order
    /// without a reordering buffer. Channels hold at most
    /// [`SEGMENTS_IN_FLIGHT`] items, the number of buffers, so no send blocks.
    #[cfg(not(target_arch = "wasm32"))]
    fn decrypt_parallel<R: Read, W: Write>(&self, reader: &mut R, writer: &mut W, sink: &mut PlaintextSink, capacity: usize) -> Result<(), OpenError> {
        use std::sync::mpsc::sync_channel;
        type Done = (Zeroizing<Vec<u8>>, Result<usize, OpenError>);
        let worker_stopped = || OpenError::Io(io::Error::other("a segment worker thread stopped"));
        std::thread::scope(|scope| {
            let mut jobs = Vec::with_capacity(OPEN_WORKERS);
            let mut results = Vec::with_capacity(OPEN_WORKERS);
            for _ in 0..OPEN_WORKERS {
                let (job_sender, job_receiver) = sync_channel::<(usize, Zeroizing<Vec<u8>>)>(SEGMENTS_IN_FLIGHT);
                let (done_sender, done_receiver) = sync_channel::<Done>(SEGMENTS_IN_FLIGHT);
                std::thread::Builder::new().name("valise-open".into()).spawn_scoped(scope, move || {
                    for (index, mut buffer) in job_receiver {
                        let result = self.open_segment_in_place(index, &mut buffer);
                        if done_sender.send((buffer, result)).is_err() {
                            break;
                        }
                    }
                })?;
                jobs.push(job_sender);
                results.push(done_receiver);
            }
            let mut free: Vec<_> = (0..SEGMENTS_IN_FLIGHT).map(|_| Zeroizing::new(Vec::with_capacity(capacity))).collect();
            let count = self.segments.len();
            let (mut next_read, mut next_write) = (0, 0);
            while next_write < count {
                while next_read < count {
                    let Some(mut buffer) = free.pop() else { break };
                    read_segment(reader, &mut buffer, self.segments[next_read].encrypted_size)?;
                    sink.crc.update(&buffer);
                    jobs[next_read % OPEN_WORKERS].send((next_read, buffer)).map_err(|_| worker_stopped())?;
                    next_read += 1;
                }
                let (buffer, result) = results[next_write % OPEN_WORKERS].recv().map_err(|_| worker_stopped())?;
                let plaintext_len = result?;
                sink.write(writer, &buffer[GCM_NONCE_LEN..GCM_NONCE_LEN + plaintext_len])?;
                free.push(buffer);
                next_write += 1;
            }
            Ok(())
        })
    }
}

/// Threads that check and decrypt segments in [`VerifiedPackage::decrypt_to`].
pub const OPEN_WORKERS: usize = 2;

/// Segment buffers [`VerifiedPackage::decrypt_to`] holds at most at once:
/// one per worker, one being written and one being read.
pub const SEGMENTS_IN_FLIGHT: usize = OPEN_WORKERS + 2;

/// Where verified plaintext goes, in order: the whole-plaintext digest and
/// the writer. The CRC-32 covers the encrypted payload as stored.
struct PlaintextSink {
    digest: Sha256,
    crc: crc32fast::Hasher,
    total: u64,
}

impl PlaintextSink {
    fn write<W: Write>(&mut self, writer: &mut W, plaintext: &[u8]) -> Result<(), OpenError> {
        self.digest.update(plaintext);
        writer.write_all(plaintext)?;
        self.total += plaintext.len() as u64;
        Ok(())
    }
}

/// Reads one encrypted segment of `size` bytes into `buffer`.
fn read_segment<R: Read>(reader: &mut R, buffer: &mut Vec<u8>, size: u64) -> Result<(), OpenError> {
    buffer.resize(size as usize, 0);
    reader.read_exact(buffer).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => integrity("payload ends early"),
        _ => OpenError::Io(e),
    })
}

/// Opens a package held in memory with one key: parse, unwrap, verify and
/// decrypt, for callers that have no decision step of their own (the
/// browser runs the steps itself).
///
/// # Errors
///
/// Any [`OpenError`] of the steps.
pub fn open_bytes(
    bytes: &[u8],
    key: RecipientKey<'_>,
    kid_hint: Option<&str>,
    originator_key: &dyn Fn(&str) -> Option<p256::ecdsa::VerifyingKey>,
) -> Result<(VerifiedPackage, Zeroizing<Vec<u8>>), OpenError> {
    let package = Package::parse_bytes(bytes)?;
    let unwrapped = package.unwrap(key, kid_hint)?;
    let verified = package.verify(&unwrapped.data_key, originator_key)?;
    let mut plaintext = Zeroizing::new(Vec::with_capacity(usize::try_from(verified.plaintext_size()).unwrap_or(0)));
    verified.decrypt_to(&mut Cursor::new(bytes), &mut *plaintext)?;
    Ok((verified, plaintext))
}
