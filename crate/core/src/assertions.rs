//! The three assertion statements of the Valise community profile: the
//! handling label, the usage rights and the provenance.
//!
//! Each travels as a ZTDF assertion whose `statement.value` is the JSON object
//! serialised from the types below (`format: "json-structured"`, field names
//! in camelCase), and is bound to the package by an ES256 JWS of the
//! originator's signing key. The types reject unknown fields: a `v1` schema
//! is closed, and a later version gets a new schema URN.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Assertion `id` of the label statement.
pub const LABEL_ID: &str = "valise-label";
/// Assertion `id` of the usage rights statement.
pub const RIGHTS_ID: &str = "valise-rights";
/// Assertion `id` of the provenance statement.
pub const PROVENANCE_ID: &str = "valise-provenance";

/// `statement.schema` of the label statement.
pub const LABEL_SCHEMA: &str = "urn:valise:label:v1";
/// `statement.schema` of the usage rights statement.
pub const RIGHTS_SCHEMA: &str = "urn:valise:rights:v1";
/// `statement.schema` of the provenance statement.
pub const PROVENANCE_SCHEMA: &str = "urn:valise:provenance:v1";

/// `statement.format` of every profile statement: the value is a JSON object.
pub const STATEMENT_FORMAT: &str = "json-structured";

/// Traffic Light Protocol 2.0 level of a package.
///
/// Serialised without the `TLP:` prefix (`"AMBER+STRICT"`); [`fmt::Display`]
/// adds it (`"TLP:AMBER+STRICT"`), as TLP 2.0 asks for text shown to people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tlp {
    /// `TLP:CLEAR`: no limit on disclosure.
    #[serde(rename = "CLEAR")]
    Clear,
    /// `TLP:GREEN`: disclosure within the community.
    #[serde(rename = "GREEN")]
    Green,
    /// `TLP:AMBER`: the recipient's organization and its clients.
    #[serde(rename = "AMBER")]
    Amber,
    /// `TLP:AMBER+STRICT`: the recipient's organization only.
    #[serde(rename = "AMBER+STRICT")]
    AmberStrict,
    /// `TLP:RED`: named recipients only.
    #[serde(rename = "RED")]
    Red,
}

impl Tlp {
    /// Every level, from the least to the most restrictive.
    pub const ALL: [Tlp; 5] = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red];

    /// Returns the TLP 2.0 level name without the `TLP:` prefix, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "CLEAR",
            Tlp::Green => "GREEN",
            Tlp::Amber => "AMBER",
            Tlp::AmberStrict => "AMBER+STRICT",
            Tlp::Red => "RED",
        }
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TLP:{}", self.as_str())
    }
}

/// Error of [`Tlp::from_str`]: the text is not a TLP 2.0 level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid TLP level {0:?}: expected one of TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED")]
pub struct InvalidTlp(pub String);

impl FromStr for Tlp {
    type Err = InvalidTlp;

    /// Parses `TLP:AMBER`, `amber` or `AMBER+STRICT` (prefix optional, any
    /// case). TLP 1.0 `WHITE` is rejected: TLP 2.0 replaced it by `CLEAR`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let upper = text.trim().to_ascii_uppercase();
        let level = upper.strip_prefix("TLP:").unwrap_or(&upper);
        Tlp::ALL
            .into_iter()
            .find(|tlp| tlp.as_str() == level)
            .ok_or_else(|| InvalidTlp(text.to_owned()))
    }
}

/// The originator's own marking, kept next to the TLP level it maps to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Marking {
    /// Marking system of the originator (for example an organization's scheme).
    pub system: String,
    /// Marking value in that system, for example `Confidential`.
    pub value: String,
}

/// Value of the `valise-label` assertion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Label {
    /// TLP 2.0 level: the ceiling of the usage rights.
    pub tlp: Tlp,
    /// Originator's own marking, if any.
    pub marking: Option<Marking>,
}

/// Access-event reporting requested by the originator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventsPolicy {
    /// Endpoint that collects access events, if any.
    pub url: Option<String>,
    /// Whether the document must not open when an event cannot be queued.
    pub required: bool,
}

/// Value of the `valise-rights` assertion: what the originator allows.
///
/// The label's ceiling still applies: the decision point takes the narrower
/// of the two.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rights {
    /// Viewing; always `true` in a valid statement.
    pub view: bool,
    /// Printing.
    pub print: bool,
    /// Copying text out of the viewer.
    pub copy: bool,
    /// Forwarding the package to others.
    pub forward: bool,
    /// Saving the plaintext outside the viewer.
    pub export: bool,
    /// Whether the viewer overlays the reader's identity on the document.
    pub watermark: bool,
    /// Start of the validity window.
    #[serde(with = "time::serde::rfc3339::option")]
    pub not_before: Option<OffsetDateTime>,
    /// End of the validity window.
    #[serde(with = "time::serde::rfc3339::option")]
    pub not_after: Option<OffsetDateTime>,
    /// Seconds a package may stay open offline after the last online check.
    pub offline_lease_seconds: Option<u64>,
    /// Access-event reporting.
    pub events: EventsPolicy,
}

impl Rights {
    /// Returns rights that allow everything, with no window and no reporting;
    /// the label's ceiling narrows them at decision time.
    pub fn all() -> Rights {
        Rights {
            view: true,
            print: true,
            copy: true,
            forward: true,
            export: true,
            watermark: false,
            not_before: None,
            not_after: None,
            offline_lease_seconds: None,
            events: EventsPolicy { url: None, required: false },
        }
    }
}

/// Originator of a package, as named in the provenance statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Originator {
    /// Organization id of the originator in the community trust list.
    pub org: String,
    /// Person who sealed the package, if named.
    pub author: Option<String>,
    /// Key id of the signing key that binds the assertions.
    pub kid: String,
}

/// Value of the `valise-provenance` assertion.
///
/// The digests are what prove the content is the originator's: the GCM tags
/// alone do not, because every recipient knows the data key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Provenance {
    /// Community the package was sealed in, if any.
    pub community: Option<String>,
    /// Who sealed the package.
    pub originator: Originator,
    /// Sealing time.
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// Media type of the plaintext, for example `application/pdf`.
    pub media_type: String,
    /// Original file name, if the originator chose to keep it.
    pub file_name: Option<String>,
    /// SHA-256 of the whole plaintext (lowercase hex in JSON).
    #[serde(with = "hex_digest")]
    pub plaintext_sha256: [u8; 32],
    /// SHA-256 of each encrypted segment `nonce || ciphertext || tag`, in
    /// payload order (lowercase hex in JSON).
    #[serde(with = "hex_digest_list")]
    pub segment_sha256: Vec<[u8; 32]>,
    /// Key ids of the original recipients' key access keys.
    pub recipients: Vec<String>,
}

/// Serde helpers for a SHA-256 digest written as 64 lowercase hex characters.
mod hex_digest {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(digest: &[u8; 32], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(digest))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(deserializer)?;
        parse(&text).map_err(D::Error::custom)
    }

    /// Parses exactly 64 lowercase hex characters; uppercase is rejected so
    /// that each digest has one encoding.
    pub(super) fn parse(text: &str) -> Result<[u8; 32], String> {
        if text.len() != 64 || text.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(format!("invalid SHA-256 digest {text:?}: expected 64 lowercase hex characters"));
        }
        let mut digest = [0u8; 32];
        hex::decode_to_slice(text, &mut digest)
            .map_err(|_| format!("invalid SHA-256 digest {text:?}: expected 64 lowercase hex characters"))?;
        Ok(digest)
    }
}

/// Serde helpers for a list of SHA-256 digests in hex.
mod hex_digest_list {
    use serde::{de::Error as _, ser::SerializeSeq, Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(digests: &[[u8; 32]], serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(digests.len()))?;
        for digest in digests {
            seq.serialize_element(&hex::encode(digest))?;
        }
        seq.end()
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<[u8; 32]>, D::Error> {
        let texts = Vec::<String>::deserialize(deserializer)?;
        texts
            .into_iter()
            .map(|text| super::hex_digest::parse(&text).map_err(D::Error::custom))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn tlp_display_and_parse() {
        assert_eq!(Tlp::AmberStrict.to_string(), "TLP:AMBER+STRICT");
        assert_eq!("TLP:AMBER".parse::<Tlp>(), Ok(Tlp::Amber));
        assert_eq!("amber+strict".parse::<Tlp>(), Ok(Tlp::AmberStrict));
        assert_eq!("RED".parse::<Tlp>(), Ok(Tlp::Red));
        assert!("TLP:WHITE".parse::<Tlp>().is_err());
        assert!("TLP:".parse::<Tlp>().is_err());
    }

    #[test]
    fn label_round_trip() {
        let label = Label {
            tlp: Tlp::AmberStrict,
            marking: Some(Marking { system: "ACME".into(), value: "Confidential".into() }),
        };
        let json = serde_json::to_string(&label).expect("serialise");
        assert_eq!(json, r#"{"tlp":"AMBER+STRICT","marking":{"system":"ACME","value":"Confidential"}}"#);
        assert_eq!(serde_json::from_str::<Label>(&json).expect("parse"), label);
    }

    #[test]
    fn label_rejects_unknown_field_and_level() {
        assert!(serde_json::from_str::<Label>(r#"{"tlp":"RED","marking":null,"x":1}"#).is_err());
        assert!(serde_json::from_str::<Label>(r#"{"tlp":"WHITE","marking":null}"#).is_err());
        assert!(serde_json::from_str::<Label>(r#"{"tlp":"TLP:RED","marking":null}"#).is_err());
    }

    #[test]
    fn rights_round_trip() {
        let rights = Rights {
            print: false,
            not_after: Some(datetime!(2027-01-31 12:00:00 UTC)),
            offline_lease_seconds: Some(86_400),
            events: EventsPolicy { url: Some("https://events.example.org/v1".into()), required: true },
            ..Rights::all()
        };
        let json = serde_json::to_value(&rights).expect("serialise");
        assert_eq!(json["notAfter"], "2027-01-31T12:00:00Z");
        assert_eq!(json["notBefore"], serde_json::Value::Null);
        assert_eq!(json["offlineLeaseSeconds"], 86_400);
        assert_eq!(json["events"]["required"], true);
        assert_eq!(serde_json::from_value::<Rights>(json).expect("parse"), rights);
    }

    #[test]
    fn rights_reject_missing_field() {
        let mut json = serde_json::to_value(Rights::all()).expect("serialise");
        json.as_object_mut().expect("object").remove("copy");
        assert!(serde_json::from_value::<Rights>(json).is_err());
    }

    fn provenance() -> Provenance {
        Provenance {
            community: Some("example-isac".into()),
            originator: Originator { org: "cert-a".into(), author: None, kid: "k1".into() },
            created: datetime!(2026-12-04 20:00:00 UTC),
            media_type: "application/pdf".into(),
            file_name: Some("report.pdf".into()),
            plaintext_sha256: [0xab; 32],
            segment_sha256: vec![[0x01; 32], [0xfe; 32]],
            recipients: vec!["r1".into(), "r2".into()],
        }
    }

    #[test]
    fn provenance_round_trip() {
        let value = provenance();
        let json = serde_json::to_value(&value).expect("serialise");
        assert_eq!(json["plaintextSha256"], "ab".repeat(32));
        assert_eq!(json["segmentSha256"][1], "fe".repeat(32));
        assert_eq!(json["originator"]["author"], serde_json::Value::Null);
        assert_eq!(json["created"], "2026-12-04T20:00:00Z");
        assert_eq!(serde_json::from_value::<Provenance>(json).expect("parse"), value);
    }

    #[test]
    fn provenance_rejects_bad_digest() {
        for bad in ["AB".repeat(32), "ab".repeat(31), "zz".repeat(32)] {
            let mut json = serde_json::to_value(provenance()).expect("serialise");
            json["plaintextSha256"] = bad.clone().into();
            assert!(serde_json::from_value::<Provenance>(json).is_err(), "accepted {bad}");
        }
    }
}
