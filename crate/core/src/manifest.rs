//! The ZTDF manifest (`0.manifest.json`), schema 4.3.0, and the variants
//! stock OpenTDF writers produce.
//!
//! Differences the reader accepts, seen in files written by the OpenTDF SDKs:
//!
//! - no top-level `schemaVersion`: a file from before 4.3.0, whose
//!   `rootSignature.sig`, segment `hash` and `policyBinding.hash` are base64
//!   of lowercase hex text rather than base64 of the raw bytes, and whose
//!   assertion bindings concatenate hex text (see [`Manifest::is_legacy`]);
//! - `method.IsStreamable` capitalised (kept as written, in `extra`);
//! - `kid: ""` on a key access object (treated as no `kid`);
//! - `segmentSize` and `encryptedSegmentSize` missing on a segment (the
//!   defaults apply).
//!
//! Members this model does not name are kept in each struct's `extra` map, so
//! a manifest survives a parse and re-write with all of its content. The
//! model is parsed with [`crate::json_strict`], which rejects duplicate keys.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::json_strict;
use crate::limits::{MAX_ASSERTIONS, MAX_KEY_ACCESS_OBJECTS, MAX_MANIFEST_BYTES, MAX_SEGMENTS, MAX_SEGMENT_BYTES};
use crate::segments::SEGMENT_OVERHEAD;

/// `schemaVersion` this implementation writes.
pub const SCHEMA_VERSION: &str = "4.3.0";

/// Key access object type: data key wrapped by ECDH on P-256.
pub const KEY_ACCESS_EC_WRAPPED: &str = "ec-wrapped";
/// Key access object type: data key wrapped with RSA-OAEP.
pub const KEY_ACCESS_WRAPPED: &str = "wrapped";

/// A parsed manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Manifest schema version; absent in files from before 4.3.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// Keys, policy, cipher and integrity information.
    pub encryption_information: EncryptionInformation,
    /// Where the payload is.
    pub payload: PayloadReference,
    /// Assertions; absent in some stock files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertions: Option<Vec<Assertion>>,
    /// Members this model does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `encryptionInformation`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionInformation {
    /// Always `split`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The policy object: base64 of its JSON text.
    pub policy: String,
    /// Key access objects: one per recipient key (or per key split).
    pub key_access: Vec<KeyAccess>,
    /// Payload cipher.
    pub method: Method,
    /// Segment table and root signature.
    pub integrity_information: IntegrityInformation,
    /// Members this model does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A key access object: the data key (or a split of it) wrapped for one key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyAccess {
    /// `ec-wrapped` or `wrapped`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Key access server URL (informative when opening offline).
    pub url: String,
    /// Always `kas`.
    pub protocol: String,
    /// The wrapped key, base64.
    pub wrapped_key: String,
    /// HMAC of the policy under the data key.
    pub policy_binding: PolicyBinding,
    /// Encrypted metadata for a key access server; not used offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_metadata: Option<String>,
    /// Key id of the recipient key; stock files may hold `""`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Split id: objects with equal `sid` are alternatives for one split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Ephemeral public key of an `ec-wrapped` object, SPKI PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_public_key: Option<String>,
    /// Key access object schema version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// Members this model does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl KeyAccess {
    /// Returns the `kid`, treating `""` as absent.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref().filter(|kid| !kid.is_empty())
    }

    /// Returns the split id, treating `""` and absence alike as the default split.
    pub fn split_id(&self) -> &str {
        self.sid.as_deref().unwrap_or("")
    }
}

/// `policyBinding`: an object `{alg, hash}` since 4.x, a bare base64 string before.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PolicyBinding {
    /// `{ "alg": "HS256", "hash": base64 }`.
    Object {
        /// Always `HS256`.
        alg: String,
        /// Base64 of the HMAC (raw, or hex text in legacy files).
        hash: String,
        /// Members this model does not name.
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// A bare base64 string (oldest writers).
    Bare(String),
}

impl PolicyBinding {
    /// Returns the base64 HMAC text.
    pub fn hash(&self) -> &str {
        match self {
            PolicyBinding::Object { hash, .. } => hash,
            PolicyBinding::Bare(hash) => hash,
        }
    }

    /// Returns the algorithm (`HS256` for a bare string).
    pub fn alg(&self) -> &str {
        match self {
            PolicyBinding::Object { alg, .. } => alg,
            PolicyBinding::Bare(_) => "HS256",
        }
    }
}

/// `encryptionInformation.method`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Method {
    /// Always `AES-256-GCM`.
    pub algorithm: String,
    /// Unused by segmented payloads (each segment carries its nonce); often `""`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iv: Option<String>,
    /// Whether the payload is segmented. Some writers spell it `IsStreamable`,
    /// which stays in `extra` as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_streamable: Option<bool>,
    /// Members this model does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Method {
    /// Returns `isStreamable` (or its capitalised spelling).
    pub fn streamable(&self) -> Option<bool> {
        self.is_streamable.or_else(|| self.extra.get("IsStreamable").and_then(Value::as_bool))
    }
}

/// `encryptionInformation.integrityInformation`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrityInformation {
    /// HMAC of the concatenated segment hashes under the data key.
    pub root_signature: RootSignature,
    /// `GMAC` (the segment's GCM tag) or `HS256` (HMAC of the segment).
    pub segment_hash_alg: String,
    /// Plaintext size of every segment but the last, unless it states its own.
    pub segment_size_default: u64,
    /// `segmentSizeDefault` plus the 28 bytes of nonce and tag.
    pub encrypted_segment_size_default: u64,
    /// The segments, in payload order.
    pub segments: Vec<Segment>,
    /// Members this model does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `rootSignature`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RootSignature {
    /// Always `HS256`.
    pub alg: String,
    /// Base64 of the HMAC (raw, or hex text in legacy files).
    pub sig: String,
    /// Members this model does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of the segment table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Segment {
    /// Base64 of the segment hash (raw, or hex text in legacy files).
    pub hash: String,
    /// Plaintext size; the default applies when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_size: Option<u64>,
    /// Encrypted size; the default applies when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_segment_size: Option<u64>,
    /// Members this model does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `payload`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayloadReference {
    /// Always `reference`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Always `0.payload`.
    pub url: String,
    /// Always `zip`.
    pub protocol: String,
    /// Media type of the plaintext.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Always `true`.
    pub is_encrypted: bool,
    /// Members this model does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An assertion: a statement about the package, bound to it by a JWS.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assertion {
    /// Identifier, unique within the manifest.
    pub id: String,
    /// `handling` or `other`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `tdo` or `payload`.
    pub scope: String,
    /// `encrypted` or `unencrypted`.
    pub applies_to_state: String,
    /// The statement.
    pub statement: Statement,
    /// The binding; absent for an unbound assertion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<Binding>,
    /// Members this model does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `assertion.statement`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// Format of `value`, such as `json-structured` or `string`.
    pub format: String,
    /// Schema URN of `value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The value: a string or a JSON object.
    pub value: Value,
    /// Members this model does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `assertion.binding`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Binding {
    /// `jws` (stock files write `JWS`).
    pub method: String,
    /// Compact JWS.
    pub signature: String,
    /// Members this model does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Errors of parsing and checking a manifest.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// Not strict JSON, or not the manifest structure.
    #[error("invalid manifest: {0}")]
    Json(#[from] json_strict::JsonError),
    /// A field has a value the format does not allow.
    #[error("invalid manifest: {0}")]
    Invalid(String),
    /// A feature this reader does not support.
    #[error("unsupported manifest feature: {0}")]
    Unsupported(String),
    /// A count or size exceeds a limit of the profile.
    #[error("manifest {what} of {size} exceeds the limit of {limit}")]
    TooLarge {
        /// What is too large.
        what: &'static str,
        /// Its value.
        size: u64,
        /// The limit.
        limit: u64,
    },
}

/// One segment with its sizes resolved and its hash decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentEntry {
    /// Offset of the encrypted segment within the payload.
    pub payload_offset: u64,
    /// Encrypted size: nonce, ciphertext and tag.
    pub encrypted_size: u64,
    /// Plaintext size.
    pub plaintext_size: u64,
    /// The decoded `hash` bytes: 16 raw bytes, or 32 hex characters in a legacy file.
    pub hash: Vec<u8>,
}

/// Decodes standard base64 and names the field on failure.
pub(crate) fn decode_base64(text: &str, field: &str) -> Result<Vec<u8>, ManifestError> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| ManifestError::Invalid(format!("{field} is not base64: {e}")))
}

impl Manifest {
    /// Parses and checks a manifest. Returns the model and the strict JSON
    /// tree it came from (the tree is what assertion and manifest hashes are
    /// computed over, so no member is lost to the model).
    ///
    /// # Errors
    ///
    /// [`ManifestError`] for invalid JSON, duplicate keys, a missing member,
    /// or any check of [`Manifest::check`].
    pub fn parse(bytes: &[u8]) -> Result<(Manifest, Value), ManifestError> {
        let value = json_strict::parse_value(bytes, MAX_MANIFEST_BYTES)?;
        let manifest: Manifest = serde_json::from_value(value.clone())
            .map_err(|e| ManifestError::Json(json_strict::JsonError::Invalid(e.to_string())))?;
        manifest.check()?;
        Ok((manifest, value))
    }

    /// Serialises the manifest as compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // A tree of strings, numbers, maps and lists always serialises.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Returns whether this is a file from before schema 4.3.0 (no
    /// top-level `schemaVersion`), whose assertion bindings concatenate hex
    /// text instead of raw hash bytes.
    pub fn is_legacy(&self) -> bool {
        self.schema_version.as_deref().is_none_or(str::is_empty)
    }

    /// Returns the assertions (empty when absent).
    pub fn assertions(&self) -> &[Assertion] {
        self.assertions.as_deref().unwrap_or(&[])
    }

    /// Checks the fixed values and the limits.
    ///
    /// # Errors
    ///
    /// [`ManifestError::Invalid`], [`ManifestError::Unsupported`] or
    /// [`ManifestError::TooLarge`] naming the field.
    pub fn check(&self) -> Result<(), ManifestError> {
        let info = &self.encryption_information;
        if info.kind != "split" {
            return Err(ManifestError::Unsupported(format!("encryptionInformation.type {:?}", info.kind)));
        }
        if info.method.algorithm != "AES-256-GCM" {
            return Err(ManifestError::Unsupported(format!("method.algorithm {:?}", info.method.algorithm)));
        }
        if info.method.streamable() == Some(false) {
            return Err(ManifestError::Unsupported("a payload that is not segmented (isStreamable false)".into()));
        }
        let integrity = &info.integrity_information;
        if integrity.root_signature.alg != "HS256" {
            return Err(ManifestError::Unsupported(format!("rootSignature.alg {:?}", integrity.root_signature.alg)));
        }
        if integrity.segment_hash_alg != "GMAC" && integrity.segment_hash_alg != "HS256" {
            return Err(ManifestError::Unsupported(format!("segmentHashAlg {:?}", integrity.segment_hash_alg)));
        }
        let payload = &self.payload;
        if payload.kind != "reference" || payload.url != crate::container::PAYLOAD_NAME || payload.protocol != "zip" {
            return Err(ManifestError::Unsupported(format!(
                "payload reference type {:?}, url {:?}, protocol {:?}",
                payload.kind, payload.url, payload.protocol
            )));
        }
        if !payload.is_encrypted {
            return Err(ManifestError::Unsupported("payload.isEncrypted false".into()));
        }
        if info.key_access.is_empty() {
            return Err(ManifestError::Invalid("no key access object".into()));
        }
        if info.key_access.len() > MAX_KEY_ACCESS_OBJECTS {
            return Err(ManifestError::TooLarge {
                what: "key access object count",
                size: info.key_access.len() as u64,
                limit: MAX_KEY_ACCESS_OBJECTS as u64,
            });
        }
        if integrity.segments.len() > MAX_SEGMENTS {
            return Err(ManifestError::TooLarge { what: "segment count", size: integrity.segments.len() as u64, limit: MAX_SEGMENTS as u64 });
        }
        if self.assertions().len() > MAX_ASSERTIONS {
            return Err(ManifestError::TooLarge { what: "assertion count", size: self.assertions().len() as u64, limit: MAX_ASSERTIONS as u64 });
        }
        let mut ids = std::collections::HashSet::new();
        for assertion in self.assertions() {
            if !ids.insert(assertion.id.as_str()) {
                return Err(ManifestError::Invalid(format!("duplicate assertion id {:?}", assertion.id)));
            }
        }
        self.segment_table()?;
        Ok(())
    }

    /// Resolves the segment table: sizes (defaults applied), offsets and
    /// decoded hashes.
    ///
    /// # Errors
    ///
    /// [`ManifestError`] when a size is over [`MAX_SEGMENT_BYTES`], an
    /// encrypted size is not the plaintext size plus 28, or a hash is not
    /// base64 of 16 raw bytes or 32 hex characters (GMAC), 32 raw bytes or 64
    /// hex characters (HS256).
    pub fn segment_table(&self) -> Result<Vec<SegmentEntry>, ManifestError> {
        let integrity = &self.encryption_information.integrity_information;
        let raw_len = if integrity.segment_hash_alg == "GMAC" { 16 } else { 32 };
        let mut offset = 0u64;
        let mut table = Vec::with_capacity(integrity.segments.len());
        for (index, segment) in integrity.segments.iter().enumerate() {
            let plaintext_size = segment.segment_size.unwrap_or(integrity.segment_size_default);
            let encrypted_size = segment.encrypted_segment_size.unwrap_or(integrity.encrypted_segment_size_default);
            if plaintext_size > MAX_SEGMENT_BYTES {
                return Err(ManifestError::TooLarge { what: "segment size", size: plaintext_size, limit: MAX_SEGMENT_BYTES });
            }
            if encrypted_size != plaintext_size + SEGMENT_OVERHEAD {
                return Err(ManifestError::Invalid(format!(
                    "segment {index}: encrypted size {encrypted_size} is not the plaintext size {plaintext_size} plus {SEGMENT_OVERHEAD}"
                )));
            }
            let hash = decode_base64(&segment.hash, &format!("segment {index} hash"))?;
            let hex_ok = hash.len() == 2 * raw_len && hash.iter().all(u8::is_ascii_hexdigit);
            if hash.len() != raw_len && !hex_ok {
                return Err(ManifestError::Invalid(format!("segment {index}: hash of {} bytes", hash.len())));
            }
            table.push(SegmentEntry { payload_offset: offset, encrypted_size, plaintext_size, hash });
            offset += encrypted_size;
        }
        Ok(table)
    }
}

/// Claims of an assertion binding JWS.
///
/// `assertionHash` and `assertionSig` are OpenTDF's (schema 4.3.0);
/// `manifestHash` is the community profile's addition, present in the ES256
/// bindings of the profile assertions: it covers every manifest member
/// outside `assertions`, so no key access object, policy, segment entry or
/// payload member can change under the originator's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingClaims {
    /// Lowercase hex SHA-256 of the assertion without its binding (see [`assertion_hash`]).
    pub assertion_hash: String,
    /// Base64 of the aggregate hash followed by the assertion hash (raw
    /// bytes; hex text of the assertion hash in legacy files).
    pub assertion_sig: String,
    /// Lowercase hex SHA-256 of the manifest without `assertions` (see [`manifest_hash`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_hash: Option<String>,
    /// Claims this model does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn canonical_json(value: &Value) -> Result<Vec<u8>, ManifestError> {
    serde_json_canonicalizer::to_vec(value).map_err(|e| ManifestError::Invalid(format!("cannot canonicalise JSON: {e}")))
}

/// Computes the assertion hash as OpenTDF 4.3.0 defines it: SHA-256 of the
/// RFC 8785 (JCS) form of the assertion object without its `binding`
/// member, where a `statement.value` that is not a string is first replaced
/// by the JCS text of that value.
///
/// # Errors
///
/// [`ManifestError::Invalid`] when `assertion` is not a JSON object.
pub fn assertion_hash(assertion: &Value) -> Result<[u8; 32], ManifestError> {
    use sha2::Digest as _;
    let Value::Object(members) = assertion else {
        return Err(ManifestError::Invalid("assertion is not a JSON object".into()));
    };
    let mut members = members.clone();
    members.remove("binding");
    if let Some(Value::Object(statement)) = members.get_mut("statement") {
        if let Some(value) = statement.get_mut("value") {
            if !value.is_string() {
                let text = String::from_utf8(canonical_json(value)?)
                    .map_err(|_| ManifestError::Invalid("canonical JSON is not UTF-8".into()))?;
                *value = Value::String(text);
            }
        }
    }
    Ok(sha2::Sha256::digest(canonical_json(&Value::Object(members))?).into())
}

/// Computes the profile's manifest hash: SHA-256 of the RFC 8785 (JCS) form
/// of the manifest object with its `assertions` member removed.
///
/// # Errors
///
/// [`ManifestError::Invalid`] when `manifest` is not a JSON object.
pub fn manifest_hash(manifest: &Value) -> Result<[u8; 32], ManifestError> {
    use sha2::Digest as _;
    let Value::Object(members) = manifest else {
        return Err(ManifestError::Invalid("manifest is not a JSON object".into()));
    };
    let mut members = members.clone();
    members.remove("assertions");
    Ok(sha2::Sha256::digest(canonical_json(&Value::Object(members))?).into())
}

/// Builds `assertionSig` before base64: the aggregate hash (the stored
/// segment hashes concatenated) followed by the assertion hash, raw, or as
/// hex text in a legacy file.
pub fn assertion_sig_input(aggregate: &[u8], assertion_hash: &[u8; 32], legacy: bool) -> Vec<u8> {
    let mut input = aggregate.to_vec();
    if legacy {
        input.extend_from_slice(hex::encode(assertion_hash).as_bytes());
    } else {
        input.extend_from_slice(assertion_hash);
    }
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    const STOCK_LEGACY: &str = r#"{"encryptionInformation":{"type":"split","policy":"e30=","keyAccess":[{"type":"wrapped","url":"http://kas","protocol":"kas","wrappedKey":"AAAA","policyBinding":{"alg":"HS256","hash":"MDA="},"encryptedMetadata":"","kid":"","sid":""}],"method":{"algorithm":"AES-256-GCM","IsStreamable":true},"integrityInformation":{"rootSignature":{"alg":"HS256","sig":"MDA="},"segmentHashAlg":"GMAC","segmentSizeDefault":2097152,"encryptedSegmentSizeDefault":2097180,"segments":[{"hash":"MDc3NmJmNjgzNThkMjRkMWQ4NWNlY2ZiODRhNjQxZTE=","segmentSize":5120,"encryptedSegmentSize":5148}]}},"payload":{"type":"reference","url":"0.payload","protocol":"zip","mimeType":"application/octet-stream","isEncrypted":true},"assertions":[],"futureMember":{"x":1}}"#;

    #[test]
    fn stock_legacy_manifest_parses_and_round_trips() {
        let (manifest, value) = Manifest::parse(STOCK_LEGACY.as_bytes()).expect("parse");
        assert!(manifest.is_legacy());
        assert_eq!(manifest.encryption_information.method.streamable(), Some(true));
        assert_eq!(manifest.encryption_information.key_access[0].kid(), None);
        let table = manifest.segment_table().expect("table");
        assert_eq!(table[0].hash, b"0776bf68358d24d1d85cecfb84a641e1");
        // Re-writing keeps every member, including the unknown ones.
        let rewritten: Value = serde_json::from_slice(&manifest.to_json()).expect("json");
        assert_eq!(rewritten, value);
    }

    #[test]
    fn assertion_hash_matches_opentdf_example() {
        // The example of the OpenTDF assertion spec (section "Assertion Hash
        // Computation"), whose expected hash is given there.
        let assertion = serde_json::json!({
            "id": "424ff3a3-50ca-4f01-a2ae-ef851cd3cac0",
            "type": "handling",
            "scope": "tdo",
            "appliesToState": "encrypted",
            "statement": {
                "format": "json+stanag5636",
                "schema": "urn:nato:stanag:5636:A:1:elements:json",
                "value": "{\"ocl\":{\"pol\":\"62c76c68-d73d-4628-8ccc-4c1e18118c22\",\"cls\":\"SECRET\",\"catl\":[{\"type\":\"P\",\"name\":\"Releasable To\",\"vals\":[\"usa\"]}],\"dcr\":\"2024-10-21T20:47:36Z\"},\"context\":{\"@base\":\"urn:nato:stanag:5636:A:1:elements:json\"}}"
            }
        });
        assert_eq!(
            hex::encode(assertion_hash(&assertion).expect("hash")),
            "4a447a13c5a32730d20bdf7feecb9ffe16649bc731914b574d80035a3927f860"
        );
        // The binding is not part of the hash; an object value hashes as its JCS text.
        let mut bound = assertion.clone();
        bound["binding"] = serde_json::json!({"method": "jws", "signature": "x"});
        assert_eq!(assertion_hash(&bound).expect("hash"), assertion_hash(&assertion).expect("hash"));
        let object = serde_json::json!({"id": "a", "statement": {"value": {"b": 1, "a": [true]}}});
        let text = serde_json::json!({"id": "a", "statement": {"value": "{\"a\":[true],\"b\":1}"}});
        assert_eq!(assertion_hash(&object).expect("hash"), assertion_hash(&text).expect("hash"));
    }

    #[test]
    fn manifest_hash_ignores_assertions_only() {
        let (_, value) = Manifest::parse(STOCK_LEGACY.as_bytes()).expect("parse");
        let mut other = value.clone();
        other["assertions"] = serde_json::json!([{"id": "x"}]);
        assert_eq!(manifest_hash(&value).expect("hash"), manifest_hash(&other).expect("hash"));
        other["payload"]["mimeType"] = "text/plain".into();
        assert_ne!(manifest_hash(&value).expect("hash"), manifest_hash(&other).expect("hash"));
    }

    #[test]
    fn rejects_duplicate_and_bad_values() {
        let duplicate = STOCK_LEGACY.replacen(r#""protocol":"zip""#, r#""protocol":"zip","protocol":"zip""#, 1);
        assert!(Manifest::parse(duplicate.as_bytes()).is_err());
        let bad_size = STOCK_LEGACY.replace(r#""encryptedSegmentSize":5148"#, r#""encryptedSegmentSize":5149"#);
        assert!(Manifest::parse(bad_size.as_bytes()).is_err());
        let not_zip = STOCK_LEGACY.replace(r#""url":"0.payload""#, r#""url":"https://example.org/p""#);
        assert!(Manifest::parse(not_zip.as_bytes()).is_err());
        let huge_segment = STOCK_LEGACY
            .replace(r#""segmentSize":5120,"encryptedSegmentSize":5148"#, r#""segmentSize":17179869184,"encryptedSegmentSize":17179869212"#);
        assert!(matches!(Manifest::parse(huge_segment.as_bytes()), Err(ManifestError::TooLarge { .. })));
        let no_keys = STOCK_LEGACY.replace(
            r#"[{"type":"wrapped","url":"http://kas","protocol":"kas","wrappedKey":"AAAA","policyBinding":{"alg":"HS256","hash":"MDA="},"encryptedMetadata":"","kid":"","sid":""}]"#,
            "[]",
        );
        assert!(Manifest::parse(no_keys.as_bytes()).is_err());
    }
}
