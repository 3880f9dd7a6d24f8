//! The community trust list: who the members are, their keys, attributes and
//! label mappings, signed by the community root key.
//!
//! The list travels as a compact JWS (ES256, `typ` [`TRUST_LIST_TYPE`]) whose
//! payload is the JSON of [`TrustList`] (schema: `docs/trust-list.schema.json`).
//! The payload carries the root public key as a JWK so that a reader who
//! pinned only the root key's RFC 7638 thumbprint can verify it.
//!
//! [`VerifiedTrustList`] can only be built by [`VerifiedTrustList::verify`]:
//! signature by the pinned root key, then every invariant of
//! [`TrustList::validate`]. Rollback (an older version than one already seen)
//! and staleness (past `nextUpdate`) depend on the reader's state and clock,
//! so the decision point checks them with [`VerifiedTrustList::check_rollback`]
//! and [`VerifiedTrustList::is_stale`].
//!
//! Keys stay listed after they are revoked and members stay listed after they
//! depart, so a package or credential signed by them is recognised and refused
//! as revoked instead of being reported as unknown.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::attributes::{self, AttributeDefinition, AttributeFqn, DefinitionError, FqnError};
use crate::json_strict;
use crate::jws::{self, JwsError};
use crate::keys;
use crate::label::LabelMapping;

/// JWS `typ` of a signed trust list.
pub const TRUST_LIST_TYPE: &str = "valise-trust-list+jws";

/// Maximum size of a signed trust list, checked before decoding.
pub const MAX_TRUST_LIST_BYTES: usize = 4 * 1024 * 1024;

/// Maximum number of members of one community.
pub const MAX_MEMBERS: usize = 10_000;

/// Maximum number of keys of one kind (signing or key access) per member.
pub const MAX_KEYS_PER_MEMBER: usize = 64;

/// Maximum number of attribute definitions of one community.
pub const MAX_ATTRIBUTES: usize = 1024;

/// Maximum length of an organization id.
pub const MAX_ORG_ID_LEN: usize = 128;

/// Status of a member organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberStatus {
    /// A member in good standing.
    Active,
    /// Temporarily not trusted: its signatures and credentials are refused.
    Suspended,
    /// No longer a member: its signatures and credentials are refused.
    Departed,
}

impl MemberStatus {
    /// Returns the status as the trust list spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Active => "active",
            MemberStatus::Suspended => "suspended",
            MemberStatus::Departed => "departed",
        }
    }
}

/// A member organization of the community.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Member {
    /// Organization id, unique in the list (letters, digits, `.`, `-`, `_`).
    pub org: String,
    /// Display name.
    pub name: String,
    /// Sector, free text (for example `energy`).
    pub sector: String,
    /// ISO 3166-1 alpha-2 country code, uppercase.
    pub country: String,
    /// Membership status.
    pub status: MemberStatus,
    /// Public keys that sign packages and member credentials (P-256 JWK with `kid`).
    pub signing_keys: Vec<serde_json::Value>,
    /// Organization-wide public keys that packages are encrypted to (P-256 JWK with `kid`).
    pub key_access_keys: Vec<serde_json::Value>,
    /// Attribute values the organization holds and may grant to its people.
    pub attributes: Vec<AttributeFqn>,
    /// Organization ids of the declared clients (TLP:AMBER may reach them).
    pub clients: Vec<String>,
    /// The organization's internal markings and their TLP levels.
    pub label_mappings: Vec<LabelMapping>,
}

/// A revoked key id and when it was revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RevokedKey {
    /// Key id as listed in a member's keys.
    pub kid: String,
    /// Revocation time.
    #[serde(with = "time::serde::rfc3339")]
    pub revoked: OffsetDateTime,
    /// Optional reason, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The payload of a signed trust list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrustList {
    /// Community id, `https://HOST[/PATH]` in canonical lowercase form; the
    /// prefix of every attribute FQN of the community.
    pub community: String,
    /// Display name.
    pub name: String,
    /// Version, starting at 1; every re-signed list has a higher one.
    pub version: u64,
    /// Issue time.
    #[serde(with = "time::serde::rfc3339")]
    pub issued: OffsetDateTime,
    /// Time by which a newer list is expected; later, the list is stale.
    #[serde(with = "time::serde::rfc3339")]
    pub next_update: OffsetDateTime,
    /// Community root public key (P-256 JWK, `kid` its RFC 7638 thumbprint).
    pub root_key: serde_json::Value,
    /// Member organizations.
    pub members: Vec<Member>,
    /// Revoked key ids.
    pub revoked_keys: Vec<RevokedKey>,
    /// Attribute definitions.
    pub attributes: Vec<AttributeDefinition>,
}

/// A broken invariant of a trust list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidTrustList {
    /// The community id breaks the FQN grammar or is not lowercase.
    #[error("invalid community id {id:?}: {reason}")]
    CommunityId {
        /// The id as listed.
        id: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The version is 0.
    #[error("version must be at least 1")]
    VersionZero,
    /// `nextUpdate` is not after `issued`.
    #[error("nextUpdate {next_update} is not after issued {issued}")]
    NextUpdateNotAfterIssued {
        /// Issue time (RFC 3339).
        issued: String,
        /// Next update time (RFC 3339).
        next_update: String,
    },
    /// The root key JWK is not a P-256 public key.
    #[error("invalid root key: {0}")]
    RootKey(String),
    /// A count is above its maximum.
    #[error("{what}: {count} exceeds the maximum of {max}")]
    TooMany {
        /// What was counted.
        what: String,
        /// Count found.
        count: usize,
        /// Maximum.
        max: usize,
    },
    /// An organization id is empty, too long or has a forbidden character.
    #[error("invalid organization id {0:?}: use 1 to 128 letters, digits, '.', '-' or '_'")]
    OrgId(String),
    /// Two members share an organization id.
    #[error("organization {0:?} is listed twice")]
    DuplicateOrg(String),
    /// A required text field is empty.
    #[error("organization {org:?}: {field} is empty")]
    EmptyField {
        /// Organization id.
        org: String,
        /// Field name.
        field: &'static str,
    },
    /// The country is not two uppercase letters.
    #[error("organization {org:?}: country {country:?} is not an ISO 3166-1 alpha-2 code (two uppercase letters)")]
    Country {
        /// Organization id.
        org: String,
        /// Country as listed.
        country: String,
    },
    /// A member key is not a P-256 JWK with a `kid`.
    #[error("organization {org:?}: {kind} key {index} is invalid: {reason}")]
    Key {
        /// Organization id.
        org: String,
        /// `signing` or `key access`.
        kind: &'static str,
        /// Index in the key list.
        index: usize,
        /// Why it is invalid.
        reason: String,
    },
    /// Two keys in the list share a `kid`.
    #[error("key id {0:?} is listed twice")]
    DuplicateKid(String),
    /// An attribute definition is invalid.
    #[error("{0}")]
    Attribute(#[from] DefinitionError),
    /// Two attribute definitions share a name.
    #[error("attribute {0:?} is defined twice")]
    DuplicateAttribute(String),
    /// A member attribute is of another community or is not defined.
    #[error("organization {org:?}: attribute {fqn} is not defined by this community")]
    UndefinedMemberAttribute {
        /// Organization id.
        org: String,
        /// Attribute FQN.
        fqn: String,
    },
    /// A member maps one marking twice.
    #[error("organization {org:?}: marking {system}:{value} is mapped twice")]
    DuplicateMapping {
        /// Organization id.
        org: String,
        /// Marking system.
        system: String,
        /// Marking value.
        value: String,
    },
    /// A key id is revoked twice.
    #[error("key id {0:?} is revoked twice")]
    DuplicateRevocation(String),
}

/// Error from signing, reading or verifying a trust list.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustListError {
    /// The signed list is larger than [`MAX_TRUST_LIST_BYTES`].
    #[error("trust list of {0} bytes exceeds the maximum of {MAX_TRUST_LIST_BYTES} bytes")]
    TooLarge(usize),
    /// The JWS or its JSON payload is malformed.
    #[error("malformed trust list: {0}")]
    Malformed(String),
    /// The JWS `typ` is not [`TRUST_LIST_TYPE`].
    #[error("the JWS type is {0:?}, expected {TRUST_LIST_TYPE:?}")]
    WrongType(Option<String>),
    /// The root key in the list is not the pinned one.
    #[error("the trust list is signed by root key {found}, expected the pinned key {expected}")]
    RootKeyMismatch {
        /// Pinned fingerprint.
        expected: String,
        /// Fingerprint of the key in the list.
        found: String,
    },
    /// The signature does not verify.
    #[error("the trust list signature is invalid")]
    SignatureInvalid,
    /// An invariant is broken.
    #[error("invalid trust list: {0}")]
    Invalid(#[from] InvalidTrustList),
    /// The list is older than one already seen.
    #[error("trust list version {found} is older than version {seen} already seen")]
    Rollback {
        /// Highest version already seen.
        seen: u64,
        /// Version of this list.
        found: u64,
    },
}

/// The key a reader trusts to sign the community's trust list.
#[derive(Debug, Clone)]
pub enum TrustAnchor {
    /// RFC 7638 JWK thumbprint (SHA-256, base64url) of the root public key.
    Fingerprint(String),
    /// The root public key itself.
    Key(p256::PublicKey),
}

impl TrustAnchor {
    fn matches(&self, key: &p256::PublicKey) -> Result<(), TrustListError> {
        let found = keys::jwk_thumbprint(key);
        let expected = match self {
            TrustAnchor::Fingerprint(fingerprint) => fingerprint.clone(),
            TrustAnchor::Key(pinned) => keys::jwk_thumbprint(pinned),
        };
        if found == expected {
            Ok(())
        } else {
            Err(TrustListError::RootKeyMismatch { expected, found })
        }
    }
}

/// Checks an organization id: 1 to [`MAX_ORG_ID_LEN`] ASCII letters, digits,
/// `.`, `-` or `_`.
pub fn is_valid_org_id(org: &str) -> bool {
    !org.is_empty()
        && org.len() <= MAX_ORG_ID_LEN
        && org.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

fn check_count(what: &str, count: usize, max: usize) -> Result<(), InvalidTrustList> {
    if count > max {
        return Err(InvalidTrustList::TooMany { what: what.to_owned(), count, max });
    }
    Ok(())
}

/// Parses a member key JWK and returns the key and its `kid`.
fn parse_member_key(
    org: &str,
    kind: &'static str,
    index: usize,
    jwk: &serde_json::Value,
) -> Result<(p256::PublicKey, String), InvalidTrustList> {
    let invalid = |reason: String| InvalidTrustList::Key { org: org.to_owned(), kind, index, reason };
    let (key, kid) = jws::public_key_from_jwk(jwk).map_err(|error| invalid(error.to_string()))?;
    match kid {
        Some(kid) if !kid.is_empty() => Ok((key, kid)),
        _ => Err(invalid("no kid".to_owned())),
    }
}

impl TrustList {
    /// Creates version 1 of an empty list for a new community.
    ///
    /// # Errors
    ///
    /// Returns [`InvalidTrustList`] when the community id is invalid or the
    /// validity is not positive.
    pub fn new(
        community: &str,
        name: &str,
        root: &p256::PublicKey,
        issued: OffsetDateTime,
        validity: time::Duration,
    ) -> Result<TrustList, InvalidTrustList> {
        let list = TrustList {
            community: attributes::parse_community_id(community).map_err(|error| {
                InvalidTrustList::CommunityId { id: community.to_owned(), reason: error.to_string() }
            })?,
            name: name.to_owned(),
            version: 1,
            issued,
            next_update: issued + validity,
            root_key: jws::public_jwk(root, &keys::jwk_thumbprint(root)),
            members: Vec::new(),
            revoked_keys: Vec::new(),
            attributes: Vec::new(),
        };
        list.validate()?;
        Ok(list)
    }

    /// Returns the root public key.
    ///
    /// # Errors
    ///
    /// Returns [`InvalidTrustList::RootKey`] when the JWK is not a P-256 key.
    pub fn root_public_key(&self) -> Result<p256::PublicKey, InvalidTrustList> {
        jws::public_key_from_jwk(&self.root_key)
            .map(|(key, _)| key)
            .map_err(|error| InvalidTrustList::RootKey(error.to_string()))
    }

    /// Returns the member with this organization id.
    pub fn member(&self, org: &str) -> Option<&Member> {
        self.members.iter().find(|member| member.org == org)
    }

    /// Returns the member with this organization id, for editing.
    pub fn member_mut(&mut self, org: &str) -> Option<&mut Member> {
        self.members.iter_mut().find(|member| member.org == org)
    }

    /// Returns the attribute definition with this name.
    pub fn attribute(&self, name: &str) -> Option<&AttributeDefinition> {
        self.attributes.iter().find(|definition| definition.name == name)
    }

    /// Checks every invariant of the list: community id, version, times,
    /// bounds, unique organization ids and key ids, valid P-256 JWKs with
    /// `kid`, valid and unique attribute definitions, member attributes
    /// defined by this community, unique label mappings and revocations.
    ///
    /// # Errors
    ///
    /// Returns the first broken invariant.
    pub fn validate(&self) -> Result<(), InvalidTrustList> {
        let canonical = attributes::parse_community_id(&self.community).map_err(|error: FqnError| {
            InvalidTrustList::CommunityId { id: self.community.clone(), reason: error.to_string() }
        })?;
        if canonical != self.community {
            return Err(InvalidTrustList::CommunityId {
                id: self.community.clone(),
                reason: "not in lowercase canonical form".to_owned(),
            });
        }
        if self.version == 0 {
            return Err(InvalidTrustList::VersionZero);
        }
        if self.next_update <= self.issued {
            return Err(InvalidTrustList::NextUpdateNotAfterIssued {
                issued: self.issued.to_string(),
                next_update: self.next_update.to_string(),
            });
        }
        self.root_public_key()?;
        check_count("members", self.members.len(), MAX_MEMBERS)?;
        check_count("attribute definitions", self.attributes.len(), MAX_ATTRIBUTES)?;

        let mut names = BTreeSet::new();
        for definition in &self.attributes {
            definition.validate()?;
            if !names.insert(definition.name.as_str()) {
                return Err(InvalidTrustList::DuplicateAttribute(definition.name.clone()));
            }
        }

        let mut orgs = BTreeSet::new();
        let mut kids = BTreeSet::new();
        for member in &self.members {
            self.validate_member(member)?;
            if !orgs.insert(member.org.as_str()) {
                return Err(InvalidTrustList::DuplicateOrg(member.org.clone()));
            }
            let signing = member.signing_keys.iter().enumerate().map(|(i, jwk)| ("signing", i, jwk));
            let key_access = member.key_access_keys.iter().enumerate().map(|(i, jwk)| ("key access", i, jwk));
            for (kind, index, jwk) in signing.chain(key_access) {
                let (_, kid) = parse_member_key(&member.org, kind, index, jwk)?;
                if !kids.insert(kid.clone()) {
                    return Err(InvalidTrustList::DuplicateKid(kid));
                }
            }
        }

        let mut revoked = BTreeSet::new();
        for revocation in &self.revoked_keys {
            if !revoked.insert(revocation.kid.as_str()) {
                return Err(InvalidTrustList::DuplicateRevocation(revocation.kid.clone()));
            }
        }
        Ok(())
    }

    fn validate_member(&self, member: &Member) -> Result<(), InvalidTrustList> {
        if !is_valid_org_id(&member.org) {
            return Err(InvalidTrustList::OrgId(member.org.clone()));
        }
        for (field, text) in [("name", &member.name), ("sector", &member.sector)] {
            if text.trim().is_empty() {
                return Err(InvalidTrustList::EmptyField { org: member.org.clone(), field });
            }
        }
        let country = member.country.as_bytes();
        if country.len() != 2 || !country.iter().all(u8::is_ascii_uppercase) {
            return Err(InvalidTrustList::Country { org: member.org.clone(), country: member.country.clone() });
        }
        check_count("signing keys", member.signing_keys.len(), MAX_KEYS_PER_MEMBER)?;
        check_count("key access keys", member.key_access_keys.len(), MAX_KEYS_PER_MEMBER)?;
        check_count("clients", member.clients.len(), MAX_MEMBERS)?;
        for client in &member.clients {
            if !is_valid_org_id(client) {
                return Err(InvalidTrustList::OrgId(client.clone()));
            }
        }
        for fqn in &member.attributes {
            let defined = fqn.community() == self.community
                && self.attribute(fqn.name()).is_some_and(|d| d.position(fqn.value()).is_some());
            if !defined {
                return Err(InvalidTrustList::UndefinedMemberAttribute {
                    org: member.org.clone(),
                    fqn: fqn.to_string(),
                });
            }
        }
        let mut markings = BTreeSet::new();
        for mapping in &member.label_mappings {
            if !markings.insert((mapping.system.as_str(), mapping.value.as_str())) {
                return Err(InvalidTrustList::DuplicateMapping {
                    org: member.org.clone(),
                    system: mapping.system.clone(),
                    value: mapping.value.clone(),
                });
            }
        }
        Ok(())
    }

    /// Validates the list and signs it with the community root key.
    ///
    /// # Errors
    ///
    /// Returns [`TrustListError::Invalid`] for a broken invariant and
    /// [`TrustListError::RootKeyMismatch`] when `root` is not the list's root
    /// key.
    pub fn sign(&self, root: &p256::SecretKey) -> Result<String, TrustListError> {
        self.validate()?;
        let listed = self.root_public_key()?;
        TrustAnchor::Key(listed).matches(&root.public_key())?;
        let payload = serde_json::to_vec(self).map_err(|error| TrustListError::Malformed(error.to_string()))?;
        let signing_key = p256::ecdsa::SigningKey::from(root);
        let kid = keys::jwk_thumbprint(&listed);
        Ok(jws::sign_es256(&signing_key, Some(&kid), Some(TRUST_LIST_TYPE), &payload))
    }
}

/// A member key found by its `kid`.
#[derive(Debug, Clone, Copy)]
pub struct MemberKey<'a> {
    /// The member that lists the key.
    pub member: &'a Member,
    /// The public key.
    pub key: &'a p256::PublicKey,
    /// The key id.
    pub kid: &'a str,
}

/// A trust list whose root signature and invariants are verified.
#[derive(Debug, Clone)]
pub struct VerifiedTrustList {
    list: TrustList,
    token: String,
    root_fingerprint: String,
    /// kid -> (member index, key), for signing keys.
    signing_keys: HashMap<String, (usize, p256::PublicKey)>,
    /// kid -> (member index, key), for key access keys.
    key_access_keys: HashMap<String, (usize, p256::PublicKey)>,
}

/// The part of the payload read before the signature is verified: only the
/// root key, so that the signature can be checked with it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RootKeyOnly {
    root_key: serde_json::Value,
}

/// A compact JWS split into its decoded parts.
struct TokenParts<'a> {
    header: jws::JwsHeader,
    payload: Vec<u8>,
    signature: Vec<u8>,
    signing_input: &'a str,
}

/// Maximum size of a JWS header, checked before parsing it.
const MAX_HEADER_BYTES: usize = 4096;

/// Splits a compact JWS of up to [`MAX_TRUST_LIST_BYTES`].
///
/// The generic [`jws::decode_unverified`] bounds tokens at
/// [`jws::MAX_TOKEN_LEN`] (64 KiB), which a community of a few dozen members
/// already exceeds, so the trust list splits its own token with its own
/// bound and verifies the signature with [`jws::verify_es256_raw`].
fn split_token(token: &str) -> Result<TokenParts<'_>, TrustListError> {
    if token.len() > MAX_TRUST_LIST_BYTES {
        return Err(TrustListError::TooLarge(token.len()));
    }
    let pieces: Vec<&str> = token.split('.').collect();
    let [header_b64, payload_b64, signature_b64] = pieces[..] else {
        return Err(TrustListError::Malformed(format!("compact JWS has {} parts, expected 3", pieces.len())));
    };
    let malformed = |part: &str, error: JwsError| TrustListError::Malformed(format!("{part}: {error}"));
    let header_bytes = jws::base64url_decode(header_b64).map_err(|error| malformed("header", error))?;
    let header_value = json_strict::parse_value(&header_bytes, MAX_HEADER_BYTES)
        .map_err(|error| TrustListError::Malformed(format!("header: {error}")))?;
    if header_value.get("crit").is_some() {
        return Err(TrustListError::Malformed("unsupported critical header parameters".to_owned()));
    }
    let header: jws::JwsHeader = serde_json::from_value(header_value)
        .map_err(|error| TrustListError::Malformed(format!("header: {error}")))?;
    let payload = jws::base64url_decode(payload_b64).map_err(|error| malformed("payload", error))?;
    let signature = jws::base64url_decode(signature_b64).map_err(|error| malformed("signature", error))?;
    let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
    Ok(TokenParts { header, payload, signature, signing_input })
}

impl VerifiedTrustList {
    /// Verifies a signed trust list against a pinned root key and checks its
    /// invariants.
    ///
    /// # Errors
    ///
    /// [`TrustListError::TooLarge`] before decoding; `Malformed`, `WrongType`,
    /// `RootKeyMismatch`, `SignatureInvalid` or `Invalid` otherwise.
    pub fn verify(token: &str, anchor: &TrustAnchor) -> Result<VerifiedTrustList, TrustListError> {
        let token = token.trim();
        let parts = split_token(token)?;
        if parts.header.alg != jws::ALG_ES256 {
            return Err(TrustListError::Malformed(format!("unsupported JWS algorithm {:?}", parts.header.alg)));
        }
        if parts.header.typ.as_deref() != Some(TRUST_LIST_TYPE) {
            return Err(TrustListError::WrongType(parts.header.typ));
        }
        let root_only: RootKeyOnly = json_strict::from_slice(&parts.payload, MAX_TRUST_LIST_BYTES)
            .map_err(|error| TrustListError::Malformed(error.to_string()))?;
        let (root, _) = jws::public_key_from_jwk(&root_only.root_key)
            .map_err(|error| TrustListError::Malformed(format!("root key: {error}")))?;
        anchor.matches(&root)?;
        jws::verify_es256_raw(parts.signing_input.as_bytes(), &parts.signature, &p256::ecdsa::VerifyingKey::from(&root))
            .map_err(|error| match error {
                JwsError::SignatureInvalid => TrustListError::SignatureInvalid,
                other => TrustListError::Malformed(other.to_string()),
            })?;
        let list: TrustList = json_strict::from_slice(&parts.payload, MAX_TRUST_LIST_BYTES)
            .map_err(|error| TrustListError::Malformed(error.to_string()))?;
        list.validate()?;
        Self::index(list, token.to_owned())
    }

    fn index(list: TrustList, token: String) -> Result<VerifiedTrustList, TrustListError> {
        let root_fingerprint = keys::jwk_thumbprint(&list.root_public_key()?);
        let mut signing_keys = HashMap::new();
        let mut key_access_keys = HashMap::new();
        for (member_index, member) in list.members.iter().enumerate() {
            for (index, jwk) in member.signing_keys.iter().enumerate() {
                let (key, kid) = parse_member_key(&member.org, "signing", index, jwk)?;
                signing_keys.insert(kid, (member_index, key));
            }
            for (index, jwk) in member.key_access_keys.iter().enumerate() {
                let (key, kid) = parse_member_key(&member.org, "key access", index, jwk)?;
                key_access_keys.insert(kid, (member_index, key));
            }
        }
        Ok(VerifiedTrustList { list, token, root_fingerprint, signing_keys, key_access_keys })
    }

    /// Returns the verified list.
    pub fn list(&self) -> &TrustList {
        &self.list
    }

    /// Returns the signed form, exactly as verified.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Returns the community id.
    pub fn community(&self) -> &str {
        &self.list.community
    }

    /// Returns the version.
    pub fn version(&self) -> u64 {
        self.list.version
    }

    /// Returns the RFC 7638 thumbprint of the root key.
    pub fn root_fingerprint(&self) -> &str {
        &self.root_fingerprint
    }

    /// Returns the member with this organization id.
    pub fn member(&self, org: &str) -> Option<&Member> {
        self.list.member(org)
    }

    /// Finds a signing key by `kid`, revoked or not.
    pub fn signing_key(&self, kid: &str) -> Option<MemberKey<'_>> {
        self.signing_keys.get_key_value(kid).map(|(kid, (member, key))| MemberKey {
            member: &self.list.members[*member],
            key,
            kid,
        })
    }

    /// Finds a key access key by `kid`, revoked or not.
    pub fn key_access_key(&self, kid: &str) -> Option<MemberKey<'_>> {
        self.key_access_keys.get_key_value(kid).map(|(kid, (member, key))| MemberKey {
            member: &self.list.members[*member],
            key,
            kid,
        })
    }

    /// Returns the revocation of a key id, if it is revoked.
    pub fn revocation(&self, kid: &str) -> Option<&RevokedKey> {
        self.list.revoked_keys.iter().find(|revoked| revoked.kid == kid)
    }

    /// Returns the key access keys of an active member that are not revoked.
    pub fn usable_key_access_keys(&self, org: &str) -> Vec<MemberKey<'_>> {
        let mut found: Vec<MemberKey<'_>> = self
            .key_access_keys
            .keys()
            .filter_map(|kid| self.key_access_key(kid))
            .filter(|entry| entry.member.org == org && entry.member.status == MemberStatus::Active)
            .filter(|entry| self.revocation(entry.kid).is_none())
            .collect();
        found.sort_by(|a, b| a.kid.cmp(b.kid));
        found
    }

    /// Returns the attribute definitions.
    pub fn attribute_definitions(&self) -> &[AttributeDefinition] {
        &self.list.attributes
    }

    /// Reports whether the list is past its `nextUpdate` at `now`.
    pub fn is_stale(&self, now: OffsetDateTime) -> bool {
        now > self.list.next_update
    }

    /// Checks that this list is not older than the highest version seen.
    ///
    /// # Errors
    ///
    /// Returns [`TrustListError::Rollback`] when `highest_seen` is greater
    /// than this list's version.
    pub fn check_rollback(&self, highest_seen: Option<u64>) -> Result<(), TrustListError> {
        match highest_seen {
            Some(seen) if seen > self.list.version => Err(TrustListError::Rollback { seen, found: self.list.version }),
            _ => Ok(()),
        }
    }
}

/// Writes a signed trust list as a file: the flattened JWS JSON
/// serialization of RFC 7515 section 7.2.2 (`protected`, `payload`,
/// `signature`), which carries exactly the bytes of the compact form.
///
/// # Errors
///
/// Returns [`TrustListError::Malformed`] when `token` is not three
/// dot-separated parts.
pub fn encode_file(token: &str) -> Result<String, TrustListError> {
    let pieces: Vec<&str> = token.trim().split('.').collect();
    let [protected, payload, signature] = pieces[..] else {
        return Err(TrustListError::Malformed(format!("compact JWS has {} parts, expected 3", pieces.len())));
    };
    let document = serde_json::json!({ "protected": protected, "payload": payload, "signature": signature });
    serde_json::to_string_pretty(&document)
        .map(|mut text| {
            text.push('\n');
            text
        })
        .map_err(|error| TrustListError::Malformed(error.to_string()))
}

/// Reads a trust list file, either the flattened JWS JSON serialization
/// written by [`encode_file`] or a compact JWS, and returns the compact form.
///
/// # Errors
///
/// Returns [`TrustListError::TooLarge`] before parsing and
/// [`TrustListError::Malformed`] for anything else than the two forms.
pub fn decode_file(text: &str) -> Result<String, TrustListError> {
    // The JSON form is about a third longer than the compact one.
    if text.len() > MAX_TRUST_LIST_BYTES + MAX_TRUST_LIST_BYTES / 2 {
        return Err(TrustListError::TooLarge(text.len()));
    }
    let trimmed = text.trim();
    if !trimmed.starts_with('{') {
        return Ok(trimmed.to_owned());
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Flattened {
        protected: String,
        payload: String,
        signature: String,
    }
    let flattened: Flattened = json_strict::from_slice(trimmed.as_bytes(), text.len())
        .map_err(|error| TrustListError::Malformed(format!("trust list file: {error}")))?;
    Ok(format!("{}.{}.{}", flattened.protected, flattened.payload, flattened.signature))
}

/// Reads the community id and version of a signed list without verifying
/// it, to find the pinned root key fingerprint and the stored state of that
/// community. Never trust the result.
///
/// # Errors
///
/// Returns [`TrustListError::Malformed`] when the token or payload cannot be
/// decoded.
pub fn peek_community(token: &str) -> Result<(String, u64), TrustListError> {
    #[derive(Deserialize)]
    struct Peek {
        community: String,
        version: u64,
    }
    let parts = split_token(token.trim())?;
    let peek: Peek = serde_json::from_slice(&parts.payload).map_err(|error| TrustListError::Malformed(error.to_string()))?;
    Ok((peek.community, peek.version))
}

/// Whether a stale trust list still allows access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StalePolicy {
    /// A stale list allows access with a warning.
    #[default]
    Warn,
    /// A stale list denies access.
    Deny,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const COMMUNITY: &str = "https://cert.example/community";

    fn key() -> p256::SecretKey {
        p256::SecretKey::random(&mut rand_core::OsRng)
    }

    fn member(org: &str, signing: &p256::PublicKey) -> Member {
        Member {
            org: org.to_owned(),
            name: format!("{org} Ltd"),
            sector: "energy".into(),
            country: "FR".into(),
            status: MemberStatus::Active,
            signing_keys: vec![jws::public_jwk(signing, &format!("{org}-sign"))],
            key_access_keys: vec![jws::public_jwk(&key().public_key(), &format!("{org}-ka"))],
            attributes: vec![],
            clients: vec![],
            label_mappings: vec![],
        }
    }

    fn list(root: &p256::SecretKey) -> TrustList {
        let mut list = TrustList::new(
            COMMUNITY,
            "Example CERT community",
            &root.public_key(),
            datetime!(2026-12-01 00:00 UTC),
            time::Duration::days(30),
        )
        .expect("valid list");
        list.members.push(member("acme", &key().public_key()));
        list
    }

    #[test]
    fn sign_and_verify_by_fingerprint() {
        let root = key();
        let token = list(&root).sign(&root).expect("sign");
        let anchor = TrustAnchor::Fingerprint(keys::jwk_thumbprint(&root.public_key()));
        let verified = VerifiedTrustList::verify(&token, &anchor).expect("verify");
        assert_eq!(verified.community(), COMMUNITY);
        assert_eq!(verified.signing_key("acme-sign").map(|k| k.member.org.as_str()), Some("acme"));
        assert!(verified.signing_key("acme-ka").is_none());
        assert_eq!(verified.usable_key_access_keys("acme").len(), 1);
    }

    #[test]
    fn other_root_is_rejected() {
        let root = key();
        let token = list(&root).sign(&root).expect("sign");
        let anchor = TrustAnchor::Key(key().public_key());
        assert!(matches!(
            VerifiedTrustList::verify(&token, &anchor),
            Err(TrustListError::RootKeyMismatch { .. })
        ));
    }

    #[test]
    fn substituted_root_key_is_rejected() {
        // An attacker re-signs the list with their own key and puts that key
        // in the payload: the pinned fingerprint no longer matches.
        let root = key();
        let attacker = key();
        let mut forged = list(&root);
        forged.root_key = jws::public_jwk(&attacker.public_key(), "x");
        let token = forged.sign(&attacker).expect("sign");
        let anchor = TrustAnchor::Fingerprint(keys::jwk_thumbprint(&root.public_key()));
        assert!(matches!(
            VerifiedTrustList::verify(&token, &anchor),
            Err(TrustListError::RootKeyMismatch { .. })
        ));
    }

    #[test]
    fn tampered_payload_is_rejected() {
        let root = key();
        let token = list(&root).sign(&root).expect("sign");
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut changed = list(&root);
        changed.version = 99;
        use base64::Engine;
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&changed).expect("json"));
        let anchor = TrustAnchor::Key(root.public_key());
        assert!(matches!(
            VerifiedTrustList::verify(&parts.join("."), &anchor),
            Err(TrustListError::SignatureInvalid)
        ));
    }

    #[test]
    fn rollback_and_staleness() {
        let root = key();
        let mut newer = list(&root);
        newer.version = 3;
        let verified = VerifiedTrustList::verify(&newer.sign(&root).expect("sign"), &TrustAnchor::Key(root.public_key()))
            .expect("verify");
        assert!(verified.check_rollback(Some(3)).is_ok());
        assert!(verified.check_rollback(None).is_ok());
        assert!(matches!(verified.check_rollback(Some(4)), Err(TrustListError::Rollback { seen: 4, found: 3 })));
        assert!(!verified.is_stale(datetime!(2026-12-31 00:00 UTC)));
        assert!(verified.is_stale(datetime!(2026-12-31 00:00:01 UTC)));
    }

    #[test]
    fn invariants_are_checked() {
        let root = key();
        let signing = key().public_key();

        let mut duplicate_org = list(&root);
        duplicate_org.members.push(member("acme", &signing));
        assert!(matches!(duplicate_org.validate(), Err(InvalidTrustList::DuplicateOrg(_))));

        let mut duplicate_kid = list(&root);
        let mut other = member("other", &signing);
        other.signing_keys = duplicate_kid.members[0].signing_keys.clone();
        duplicate_kid.members.push(other);
        assert!(matches!(duplicate_kid.validate(), Err(InvalidTrustList::DuplicateKid(_))));

        let mut undefined_attribute = list(&root);
        undefined_attribute.members[0].attributes =
            vec![AttributeFqn::parse("https://cert.example/community/attr/sector/value/energy").expect("fqn")];
        assert!(matches!(
            undefined_attribute.validate(),
            Err(InvalidTrustList::UndefinedMemberAttribute { .. })
        ));

        let mut country = list(&root);
        country.members[0].country = "fr".into();
        assert!(matches!(country.validate(), Err(InvalidTrustList::Country { .. })));

        let mut no_kid = list(&root);
        no_kid.members[0].signing_keys = vec![jws::public_jwk(&signing, "")];
        assert!(matches!(no_kid.validate(), Err(InvalidTrustList::Key { .. })));

        let mut upper = list(&root);
        upper.community = "https://CERT.example".into();
        assert!(matches!(upper.validate(), Err(InvalidTrustList::CommunityId { .. })));
    }

    #[test]
    fn list_larger_than_a_jws_token_verifies() {
        let root = key();
        let mut large = list(&root);
        for index in 0..200 {
            large.members.push(member(&format!("org-{index}"), &key().public_key()));
        }
        let token = large.sign(&root).expect("sign");
        assert!(token.len() > jws::MAX_TOKEN_LEN, "the list is {} bytes", token.len());
        let verified = VerifiedTrustList::verify(&token, &TrustAnchor::Key(root.public_key())).expect("verify");
        assert_eq!(verified.list().members.len(), 201);
    }

    #[test]
    fn file_forms_round_trip() {
        let root = key();
        let token = list(&root).sign(&root).expect("sign");
        let file = encode_file(&token).expect("encode");
        assert_eq!(decode_file(&file).expect("decode json"), token);
        assert_eq!(decode_file(&format!("{token}\n")).expect("decode compact"), token);
        assert_eq!(peek_community(&token).expect("peek"), (COMMUNITY.to_owned(), 1));
        assert!(decode_file(r#"{"protected":"a","payload":"b","signature":"c","x":1}"#).is_err());
    }

    #[test]
    fn credential_type_is_not_a_trust_list() {
        let root = key();
        let payload = serde_json::to_vec(&list(&root)).expect("json");
        let token = jws::sign_es256(&p256::ecdsa::SigningKey::from(&root), None, Some("other"), &payload);
        assert!(matches!(
            VerifiedTrustList::verify(&token, &TrustAnchor::Key(root.public_key())),
            Err(TrustListError::WrongType(_))
        ));
    }
}
