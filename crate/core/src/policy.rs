//! The ZTDF policy object: the package id and the audience it names.
//!
//! The manifest carries it as base64 of its JSON text in
//! `encryptionInformation.policy`; every key access object binds that exact
//! base64 string with HMAC-SHA256 under the data key. Shape, from the OpenTDF
//! spec (`schema/OpenTDF/policy.md`):
//!
//! ```json
//! { "uuid": "…", "body": { "dataAttributes": [ { "attribute": "https://example.org/attr/x/value/y" } ], "dissem": [ "alice@example.org" ] } }
//! ```
//!
//! Stock OpenTDF files write `null` for both lists when empty; that `null`
//! survives a round trip, as do members this model does not name.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::json_strict;

/// Member of the policy `body` that names the community profile a package
/// was sealed under. The policy binding covers it, so removing it is
/// tampering; stock readers ignore it.
pub const PROFILE_MEMBER: &str = "valiseProfile";

/// Value of [`PROFILE_MEMBER`] for this version of the profile.
pub const PROFILE_V1: &str = "urn:valise:profile:v1";

/// A policy object: `uuid` plus `body`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Package id, a UUID in text form.
    pub uuid: String,
    /// Audience of the package.
    pub body: PolicyBody,
    /// Members this model does not name, kept when re-writing.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The `body` of a policy object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyBody {
    /// Attribute values a reader must be entitled to; `None` is JSON `null`.
    pub data_attributes: Option<Vec<DataAttribute>>,
    /// Identities the package is disseminated to; `None` is JSON `null`.
    pub dissem: Option<Vec<String>>,
    /// Members this model does not name, kept when re-writing.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One entry of `body.dataAttributes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataAttribute {
    /// Attribute value FQN, `https://<namespace>/attr/<name>/value/<value>`.
    pub attribute: String,
    /// Other members (`displayName`, `isDefault`, `pubKey`, `kasURL` in stock
    /// files), kept when re-writing.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Errors of [`Policy::from_base64`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The policy string is not standard base64.
    #[error("invalid policy: not base64 ({0})")]
    Base64(#[from] base64::DecodeError),
    /// The decoded policy is not a valid policy object.
    #[error("invalid policy object: {0}")]
    Json(#[from] json_strict::JsonError),
    /// The policy names a profile this reader does not know.
    #[error("the policy names profile {0}, which this reader does not support")]
    UnknownProfile(String),
}

impl Policy {
    /// Creates a policy with the given id and audience; empty lists are
    /// written as `[]`.
    pub fn new(uuid: String, data_attributes: Vec<String>, dissem: Vec<String>) -> Policy {
        let data_attributes = data_attributes
            .into_iter()
            .map(|attribute| DataAttribute { attribute, extra: serde_json::Map::new() })
            .collect();
        Policy {
            uuid,
            body: PolicyBody { data_attributes: Some(data_attributes), dissem: Some(dissem), extra: serde_json::Map::new() },
            extra: serde_json::Map::new(),
        }
    }

    /// Creates a policy as [`Policy::new`] does, marked as sealed under the
    /// community profile ([`PROFILE_MEMBER`]).
    pub fn new_profile(uuid: String, data_attributes: Vec<String>, dissem: Vec<String>) -> Policy {
        let mut policy = Policy::new(uuid, data_attributes, dissem);
        policy.body.extra.insert(PROFILE_MEMBER.to_owned(), serde_json::Value::String(PROFILE_V1.to_owned()));
        policy
    }

    /// Returns whether the policy names the community profile.
    ///
    /// # Errors
    ///
    /// [`PolicyError::UnknownProfile`] when [`PROFILE_MEMBER`] is present
    /// with another value than [`PROFILE_V1`]: a reader that does not know
    /// the profile cannot honour its rights.
    pub fn profile_marker(&self) -> Result<bool, PolicyError> {
        match self.body.extra.get(PROFILE_MEMBER) {
            None => Ok(false),
            Some(serde_json::Value::String(text)) if text == PROFILE_V1 => Ok(true),
            Some(other) => Err(PolicyError::UnknownProfile(other.to_string())),
        }
    }

    /// Decodes the manifest's `encryptionInformation.policy` string.
    ///
    /// # Errors
    ///
    /// [`PolicyError`] when the text is not base64, or not a strict JSON
    /// policy object (duplicate keys, missing `uuid` or `body`).
    pub fn from_base64(policy: &str) -> Result<Policy, PolicyError> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(policy)?;
        Ok(json_strict::from_slice(&bytes, crate::limits::MAX_MANIFEST_BYTES)?)
    }

    /// Encodes the policy as the manifest carries it: base64 of its JSON text.
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.to_json())
    }

    /// Returns the compact JSON text of the policy.
    pub fn to_json(&self) -> String {
        // Serialising a tree of strings, maps and lists cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Returns the attribute value FQNs of `body.dataAttributes` (empty for `null`).
    pub fn attribute_fqns(&self) -> Vec<String> {
        self.body
            .data_attributes
            .iter()
            .flatten()
            .map(|entry| entry.attribute.clone())
            .collect()
    }

    /// Returns `body.dissem` (empty for `null`).
    pub fn dissem(&self) -> &[String] {
        self.body.dissem.as_deref().unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The policy string of the stock file `key-management-no-split-golden.tdf`.
    const STOCK_NULLS: &str = "eyJ1dWlkIjoiMTA2YjQzMWUtYzQ4NS0xMWYwLWE1YWEtYTZhNzU0ZTc5ZDI0IiwiYm9keSI6eyJkYXRhQXR0cmlidXRlcyI6bnVsbCwiZGlzc2VtIjpudWxsfX0=";

    #[test]
    fn stock_nulls_round_trip() {
        let policy = Policy::from_base64(STOCK_NULLS).expect("parse");
        assert_eq!(policy.uuid, "106b431e-c485-11f0-a5aa-a6a754e79d24");
        assert_eq!(policy.body.data_attributes, None);
        assert!(policy.attribute_fqns().is_empty());
        assert!(policy.dissem().is_empty());
        assert_eq!(policy.to_base64(), STOCK_NULLS);
    }

    #[test]
    fn attributes_and_unknown_members_round_trip() {
        let text = r#"{"uuid":"u1","body":{"dataAttributes":[{"attribute":"https://example.org/attr/sector/value/energy","displayName":"","isDefault":false}],"dissem":["a@example.org"],"future":1},"tag":"x"}"#;
        let policy: Policy = json_strict::from_slice(text.as_bytes(), 4096).expect("parse");
        assert_eq!(policy.attribute_fqns(), ["https://example.org/attr/sector/value/energy"]);
        assert_eq!(policy.dissem(), ["a@example.org"]);
        assert_eq!(policy.to_json(), text);
    }

    #[test]
    fn profile_marker_round_trips() {
        let policy = Policy::new_profile("u3".into(), vec![], vec![]);
        assert_eq!(
            policy.to_json(),
            r#"{"uuid":"u3","body":{"dataAttributes":[],"dissem":[],"valiseProfile":"urn:valise:profile:v1"}}"#
        );
        let back = Policy::from_base64(&policy.to_base64()).expect("parse");
        assert!(back.profile_marker().expect("known profile"));
        assert!(!Policy::new("u4".into(), vec![], vec![]).profile_marker().expect("no marker"));
        let mut other = back;
        other.body.extra.insert(PROFILE_MEMBER.into(), serde_json::json!("urn:valise:profile:v9"));
        assert!(matches!(other.profile_marker(), Err(PolicyError::UnknownProfile(_))));
    }

    #[test]
    fn new_writes_empty_lists() {
        let policy = Policy::new("u2".into(), vec![], vec![]);
        assert_eq!(policy.to_json(), r#"{"uuid":"u2","body":{"dataAttributes":[],"dissem":[]}}"#);
        let back = Policy::from_base64(&policy.to_base64()).expect("parse");
        assert_eq!(back, policy);
    }

    #[test]
    fn rejects_duplicate_key_and_bad_base64() {
        let duplicate = base64::engine::general_purpose::STANDARD
            .encode(r#"{"uuid":"a","uuid":"b","body":{"dataAttributes":null,"dissem":null}}"#);
        assert!(matches!(Policy::from_base64(&duplicate), Err(PolicyError::Json(_))));
        assert!(matches!(Policy::from_base64("not base64!"), Err(PolicyError::Base64(_))));
        let missing_body = base64::engine::general_purpose::STANDARD.encode(r#"{"uuid":"a"}"#);
        assert!(Policy::from_base64(&missing_body).is_err());
    }
}
