//! Member credentials: a member organization's signed statement about one of
//! its people.
//!
//! A credential is a compact JWS (ES256, `typ` [`CREDENTIAL_TYPE`], `kid` one
//! of the organization's signing keys in the trust list) whose payload is the
//! JSON of [`Credential`] (schema: `docs/credential.schema.json`). It names the
//! person, the organization, the attribute values the organization grants the
//! person, the person's key access and signing public keys and a validity
//! window, so that organizations renew their attestations periodically.
//!
//! What an organization may grant: the attribute values the trust list gives
//! the organization, and for a `hierarchy` attribute also any value below a
//! value the organization holds. A credential that grants more is invalid as
//! a whole, because it shows that the issuer is not following the community's
//! rules.
//!
//! [`VerifiedCredential::verify`] checks the signature and the issuer's
//! standing in one trust list, but not the validity window: the decision point
//! checks the window at its own `now` and reports an expired credential with a
//! reason of its own. The decision point also re-checks the standing against
//! the trust list it judges with ([`VerifiedCredential::standing_problems`]),
//! because a reader may hold a credential verified against an older list.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::attributes::{AttributeFqn, AttributeRule};
use crate::json_strict;
use crate::jws::{self, JwsError};
use crate::trust_list::{MemberStatus, VerifiedTrustList};

/// JWS `typ` of a member credential.
pub const CREDENTIAL_TYPE: &str = "valise-credential+jws";

/// Maximum size of a signed credential, checked before decoding.
pub const MAX_CREDENTIAL_BYTES: usize = 64 * 1024;

/// Maximum number of attribute values in one credential.
pub const MAX_CREDENTIAL_ATTRIBUTES: usize = 256;

/// Maximum length of a person id.
pub const MAX_PERSON_ID_LEN: usize = 256;

/// The payload of a member credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Credential {
    /// Community id the credential is valid in.
    pub community: String,
    /// Person id, unique within the organization (for example an email address).
    pub person: String,
    /// Person's display name, used in watermarks.
    pub name: String,
    /// Issuing organization id.
    pub org: String,
    /// Attribute values granted to the person.
    pub attributes: Vec<AttributeFqn>,
    /// Person's key access public key (P-256 JWK with `kid`).
    pub key_access_key: serde_json::Value,
    /// Person's signing public key (P-256 JWK with `kid`), for access events.
    pub signing_key: serde_json::Value,
    /// Issue time.
    #[serde(with = "time::serde::rfc3339")]
    pub issued: OffsetDateTime,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

/// Why a credential does not hold in a trust list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StandingProblem {
    /// The credential is for another community.
    #[error("the credential is for community {credential:?}, not {list:?}")]
    CommunityMismatch {
        /// Community named by the credential.
        credential: String,
        /// Community of the trust list.
        list: String,
    },
    /// The signing key is not a signing key of the issuing organization in
    /// this trust list.
    #[error("the credential's signing key {kid:?} is not a key of organization {org:?} in this trust list")]
    UnknownSigner {
        /// Key id of the signature.
        kid: String,
        /// Organization the credential names.
        org: String,
    },
    /// The issuing organization is suspended or departed.
    #[error("organization {org:?} is {status}, so its credentials are no longer valid")]
    OrganizationNotActive {
        /// Organization id.
        org: String,
        /// Its status.
        status: &'static str,
    },
    /// A key of the credential (issuer or person) is revoked.
    #[error("key {kid:?} was revoked on {revoked}")]
    KeyRevoked {
        /// Revoked key id.
        kid: String,
        /// Revocation time (RFC 3339).
        revoked: String,
    },
    /// The credential grants a value the organization may not grant.
    #[error("organization {org:?} may not grant {fqn}")]
    AttributeNotGrantable {
        /// Organization id.
        org: String,
        /// Attribute value FQN.
        fqn: String,
    },
}

/// Error from issuing, reading or verifying a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// The signed credential is larger than [`MAX_CREDENTIAL_BYTES`].
    #[error("credential of {0} bytes exceeds the maximum of {MAX_CREDENTIAL_BYTES} bytes")]
    TooLarge(usize),
    /// The JWS or its JSON payload is malformed.
    #[error("malformed credential: {0}")]
    Malformed(String),
    /// The JWS `typ` is not [`CREDENTIAL_TYPE`].
    #[error("the JWS type is {0:?}, expected {CREDENTIAL_TYPE:?}")]
    WrongType(Option<String>),
    /// The JWS header has no `kid`.
    #[error("the credential names no signing key (no kid)")]
    MissingKid,
    /// The signature does not verify.
    #[error("the credential signature is invalid")]
    SignatureInvalid,
    /// A field breaks its rules (empty id, bad key, window, too many values).
    #[error("invalid credential: {0}")]
    Invalid(String),
    /// The issuer's standing in the trust list does not hold.
    #[error("{0}")]
    Standing(#[from] StandingProblem),
}

impl Credential {
    /// Checks the fields that do not depend on a trust list: non-empty ids and
    /// name, the person's keys, the window and the number of attributes.
    ///
    /// # Errors
    ///
    /// Returns [`CredentialError::Invalid`] naming the field.
    pub fn validate(&self) -> Result<(), CredentialError> {
        let invalid = |text: String| Err(CredentialError::Invalid(text));
        if self.person.trim().is_empty()
            || self.person.len() > MAX_PERSON_ID_LEN
            || self.person.chars().any(char::is_control)
        {
            return invalid(format!("person id {:?} must be 1 to {MAX_PERSON_ID_LEN} printable characters", self.person));
        }
        if self.name.trim().is_empty() || self.name.chars().any(char::is_control) {
            return invalid(format!("name {:?} must be printable and not empty", self.name));
        }
        if self.not_after <= self.not_before {
            return invalid(format!("notAfter {} is not after notBefore {}", self.not_after, self.not_before));
        }
        if self.attributes.len() > MAX_CREDENTIAL_ATTRIBUTES {
            return invalid(format!(
                "{} attribute values exceed the maximum of {MAX_CREDENTIAL_ATTRIBUTES}",
                self.attributes.len()
            ));
        }
        person_key("keyAccessKey", &self.key_access_key)?;
        person_key("signingKey", &self.signing_key)?;
        Ok(())
    }

    /// Validates the credential and signs it with an organization signing key.
    ///
    /// # Errors
    ///
    /// Returns [`CredentialError::Invalid`] when [`Credential::validate`] fails.
    pub fn sign(&self, org_key: &p256::SecretKey, kid: &str) -> Result<String, CredentialError> {
        self.validate()?;
        let payload = serde_json::to_vec(self).map_err(|error| CredentialError::Malformed(error.to_string()))?;
        let signing_key = p256::ecdsa::SigningKey::from(org_key);
        Ok(jws::sign_es256(&signing_key, Some(kid), Some(CREDENTIAL_TYPE), &payload))
    }
}

fn person_key(field: &str, jwk: &serde_json::Value) -> Result<(p256::PublicKey, String), CredentialError> {
    let (key, kid) = jws::public_key_from_jwk(jwk)
        .map_err(|error| CredentialError::Invalid(format!("{field}: {error}")))?;
    match kid {
        Some(kid) if !kid.is_empty() => Ok((key, kid)),
        _ => Err(CredentialError::Invalid(format!("{field} has no kid"))),
    }
}

/// Reports whether `org` may grant `fqn` under the rule in the module
/// documentation.
fn may_grant(trust: &VerifiedTrustList, org: &str, fqn: &AttributeFqn) -> bool {
    let Some(member) = trust.member(org) else {
        return false;
    };
    if member.attributes.contains(fqn) {
        return true;
    }
    let Some(definition) = trust.list().attribute(fqn.name()) else {
        return false;
    };
    if fqn.community() != trust.community() || definition.rule != AttributeRule::Hierarchy {
        return false;
    }
    let Some(requested) = definition.position(fqn.value()) else {
        return false;
    };
    member
        .attributes
        .iter()
        .filter(|held| held.community() == fqn.community() && held.name() == fqn.name())
        .filter_map(|held| definition.position(held.value()))
        .any(|held| held <= requested)
}

/// A credential whose signature and standing in a trust list are verified.
#[derive(Debug, Clone)]
pub struct VerifiedCredential {
    credential: Credential,
    token: String,
    signer_kid: String,
    key_access_kid: String,
    key_access_key: p256::PublicKey,
    signing_kid: String,
    signing_key: p256::PublicKey,
}

impl VerifiedCredential {
    /// Verifies a signed credential against a trust list: the signature by a
    /// signing key the list gives the issuing organization, the fields, and
    /// the standing (see [`VerifiedCredential::standing_problems`]). The
    /// validity window is not checked here.
    ///
    /// # Errors
    ///
    /// [`CredentialError::TooLarge`] before decoding; otherwise the first
    /// problem found.
    pub fn verify(token: &str, trust: &VerifiedTrustList) -> Result<VerifiedCredential, CredentialError> {
        let token = token.trim();
        if token.len() > MAX_CREDENTIAL_BYTES {
            return Err(CredentialError::TooLarge(token.len()));
        }
        let (header, _) = jws::decode_unverified(token).map_err(|error| CredentialError::Malformed(error.to_string()))?;
        if header.typ.as_deref() != Some(CREDENTIAL_TYPE) {
            return Err(CredentialError::WrongType(header.typ));
        }
        let kid = header.kid.ok_or(CredentialError::MissingKid)?;
        let signer = trust.signing_key(&kid).ok_or_else(|| StandingProblem::UnknownSigner {
            kid: kid.clone(),
            org: String::from("(unknown)"),
        })?;
        let verified = jws::verify_es256(token, &p256::ecdsa::VerifyingKey::from(signer.key)).map_err(|error| match error {
            JwsError::SignatureInvalid => CredentialError::SignatureInvalid,
            other => CredentialError::Malformed(other.to_string()),
        })?;
        let credential: Credential = json_strict::from_slice(&verified.payload, MAX_CREDENTIAL_BYTES)
            .map_err(|error| CredentialError::Malformed(error.to_string()))?;
        credential.validate()?;
        let (key_access_key, key_access_kid) = person_key("keyAccessKey", &credential.key_access_key)?;
        let (signing_key, signing_kid) = person_key("signingKey", &credential.signing_key)?;
        let verified = VerifiedCredential {
            credential,
            token: token.to_owned(),
            signer_kid: kid,
            key_access_kid,
            key_access_key,
            signing_kid,
            signing_key,
        };
        if let Some(problem) = verified.standing_problems(trust).into_iter().next() {
            return Err(problem.into());
        }
        Ok(verified)
    }

    /// Returns every reason the credential does not hold in `trust`: another
    /// community, a signer that is not a key of the issuing organization, an
    /// organization that is not active, a revoked issuer or person key, or an
    /// attribute value the organization may not grant. Empty when it holds.
    pub fn standing_problems(&self, trust: &VerifiedTrustList) -> Vec<StandingProblem> {
        let credential = &self.credential;
        let mut problems = Vec::new();
        if credential.community != trust.community() {
            problems.push(StandingProblem::CommunityMismatch {
                credential: credential.community.clone(),
                list: trust.community().to_owned(),
            });
            // Nothing else of another community's credential can be judged here.
            return problems;
        }
        let signer_matches = trust
            .signing_key(&self.signer_kid)
            .is_some_and(|signer| signer.member.org == credential.org);
        if !signer_matches {
            problems.push(StandingProblem::UnknownSigner { kid: self.signer_kid.clone(), org: credential.org.clone() });
        }
        if let Some(member) = trust.member(&credential.org) {
            if member.status != MemberStatus::Active {
                problems.push(StandingProblem::OrganizationNotActive {
                    org: member.org.clone(),
                    status: member.status.as_str(),
                });
            }
        }
        for kid in [&self.signer_kid, &self.key_access_kid, &self.signing_kid] {
            if let Some(revocation) = trust.revocation(kid) {
                problems.push(StandingProblem::KeyRevoked {
                    kid: kid.clone(),
                    revoked: revocation.revoked.to_string(),
                });
            }
        }
        for fqn in &credential.attributes {
            if !may_grant(trust, &credential.org, fqn) {
                problems.push(StandingProblem::AttributeNotGrantable {
                    org: credential.org.clone(),
                    fqn: fqn.to_string(),
                });
            }
        }
        problems
    }

    /// Reports whether `now` is inside the validity window.
    pub fn is_valid_at(&self, now: OffsetDateTime) -> bool {
        self.credential.not_before <= now && now <= self.credential.not_after
    }

    /// Returns the verified payload.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// Returns the signed form, exactly as verified.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Returns the community id.
    pub fn community(&self) -> &str {
        &self.credential.community
    }

    /// Returns the person id.
    pub fn person(&self) -> &str {
        &self.credential.person
    }

    /// Returns the organization id.
    pub fn org(&self) -> &str {
        &self.credential.org
    }

    /// Returns the attribute values granted to the person.
    pub fn attributes(&self) -> &[AttributeFqn] {
        &self.credential.attributes
    }

    /// Returns the key id of the organization key that signed the credential.
    pub fn signer_kid(&self) -> &str {
        &self.signer_kid
    }

    /// Returns the person's key access key and its id.
    pub fn key_access_key(&self) -> (&p256::PublicKey, &str) {
        (&self.key_access_key, &self.key_access_kid)
    }

    /// Returns the person's signing key and its id.
    pub fn signing_key(&self) -> (&p256::PublicKey, &str) {
        (&self.signing_key, &self.signing_kid)
    }
}
