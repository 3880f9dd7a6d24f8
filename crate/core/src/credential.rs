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
use time::format_description::well_known::Rfc3339;
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

/// Checks a person id: 1 to [`MAX_PERSON_ID_LEN`] ASCII letters, digits,
/// `.`, `_`, `-`, `+` or `@`, starting with a letter or digit, so an email
/// address fits.
///
/// # Security
///
/// Viewers and reports show a reader as `ORG/PERSON`, and dissemination
/// lists match that form. A `/` in a person id (`alpha-cert/alice`) would
/// let one organization issue a name that reads as another organization's
/// person, and invisible or look-alike characters would do the same
/// without a `/`. Internationalised email addresses are therefore not
/// accepted as person ids.
pub fn is_valid_person_id(person: &str) -> bool {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+' | b'@');
    person.len() <= MAX_PERSON_ID_LEN
        && person.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric)
        && person.bytes().all(allowed)
}

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
    /// The signing key is not in this trust list at all.
    #[error("the credential's signing key {kid:?} is not in the trust list of {community}")]
    SignerNotListed {
        /// Key id of the signature.
        kid: String,
        /// Community of the trust list.
        community: String,
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
    /// Checks the fields that do not depend on a trust list: the person id and
    /// organization id syntax ([`is_valid_person_id`],
    /// [`crate::trust_list::is_valid_org_id`]), a non-empty name, the person's
    /// keys, the window and the number of attributes.
    ///
    /// # Errors
    ///
    /// Returns [`CredentialError::Invalid`] naming the field.
    pub fn validate(&self) -> Result<(), CredentialError> {
        let invalid = |text: String| Err(CredentialError::Invalid(text));
        if !is_valid_person_id(&self.person) {
            return invalid(format!(
                "person id {:?} must be 1 to {MAX_PERSON_ID_LEN} ASCII letters, digits, '.', '_', '-', '+' or '@', starting with a letter or digit",
                self.person
            ));
        }
        if !crate::trust_list::is_valid_org_id(&self.org) {
            return invalid(format!(
                "organization id {:?} must be 1 to {} ASCII letters, digits, '.', '-' or '_'",
                self.org,
                crate::trust_list::MAX_ORG_ID_LEN
            ));
        }
        if self.name.trim().is_empty() || self.name.chars().any(char::is_control) {
            return invalid(format!("name {:?} must be printable and not empty", self.name));
        }
        if self.not_after <= self.not_before {
            let rfc3339 = |time: OffsetDateTime| time.format(&Rfc3339).unwrap_or_else(|_| time.to_string());
            return invalid(format!(
                "notAfter {} is not after notBefore {}",
                rfc3339(self.not_after),
                rfc3339(self.not_before)
            ));
        }
        if self.attributes.len() > MAX_CREDENTIAL_ATTRIBUTES {
            return invalid(format!(
                "{} attribute values exceed the maximum of {MAX_CREDENTIAL_ATTRIBUTES}",
                self.attributes.len()
            ));
        }
        let (key_access, key_access_kid) = person_key("keyAccessKey", &self.key_access_key)?;
        let (signing, signing_kid) = person_key("signingKey", &self.signing_key)?;
        // One P-256 key must not serve for both ECDH and ECDSA, and one kid
        // must not name two keys.
        if key_access == signing || key_access_kid == signing_kid {
            return invalid("keyAccessKey and signingKey must be two keys with two key ids".to_owned());
        }
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
        let signer = trust
            .signing_key(&kid)
            .ok_or_else(|| StandingProblem::SignerNotListed { kid: kid.clone(), community: trust.community().to_owned() })?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn credential() -> Credential {
        let key = || p256::SecretKey::random(&mut rand_core::OsRng).public_key();
        Credential {
            community: "https://cert.example/community".into(),
            person: "alice@acme.example".into(),
            name: "Alice".into(),
            org: "acme".into(),
            attributes: vec![],
            key_access_key: jws::public_jwk(&key(), "ka"),
            signing_key: jws::public_jwk(&key(), "sig"),
            issued: datetime!(2026-12-01 00:00 UTC),
            not_before: datetime!(2026-12-01 00:00 UTC),
            not_after: datetime!(2027-01-01 00:00 UTC),
        }
    }

    #[test]
    fn one_key_for_both_roles_rejected() {
        let mut same_key = credential();
        same_key.signing_key = jws::public_jwk(&jws::public_key_from_jwk(&same_key.key_access_key).expect("jwk").0, "sig");
        assert!(matches!(same_key.validate(), Err(CredentialError::Invalid(_))));

        let mut same_kid = credential();
        same_kid.signing_key["kid"] = "ka".into();
        assert!(matches!(same_kid.validate(), Err(CredentialError::Invalid(_))));

        assert!(credential().validate().is_ok());
    }

    #[test]
    fn schema_matches_serialized_credential() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/credential.schema.json");
        let text = std::fs::read_to_string(&path).expect("docs/credential.schema.json is readable");
        let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
        let properties: std::collections::BTreeSet<&String> =
            schema["properties"].as_object().expect("properties").keys().collect();
        let value = serde_json::to_value(credential()).expect("serialise");
        let keys: std::collections::BTreeSet<&String> = value.as_object().expect("object").keys().collect();
        assert_eq!(keys, properties);
        for required in schema["required"].as_array().expect("required") {
            assert!(keys.contains(&required.as_str().expect("name").to_owned()), "{required}");
        }
    }

    #[test]
    fn validate_rejects_bad_fields() {
        assert_eq!(credential().validate(), Ok(()));

        let mut window = credential();
        window.not_after = window.not_before;
        assert!(matches!(window.validate(), Err(CredentialError::Invalid(_))));

        let mut person = credential();
        person.person = " ".into();
        assert!(matches!(person.validate(), Err(CredentialError::Invalid(_))));

        let mut org = credential();
        org.org = "acme/x".into();
        assert!(matches!(org.validate(), Err(CredentialError::Invalid(_))));

        let mut no_kid = credential();
        no_kid.key_access_key.as_object_mut().expect("object").remove("kid");
        assert!(matches!(no_kid.validate(), Err(CredentialError::Invalid(_))));
    }

    #[test]
    fn person_id_syntax() {
        for valid in ["alice", "alice@acme.example", "a.b_c-d+e@x.example", "7", &"a".repeat(MAX_PERSON_ID_LEN)] {
            assert!(is_valid_person_id(valid), "{valid:?}");
        }
        let too_long = "a".repeat(MAX_PERSON_ID_LEN + 1);
        for invalid in [
            "",
            "alpha-cert/alice",
            "../alice",
            ".alice",
            "-alice",
            "@acme",
            "ali ce",
            "alice\u{200b}",
            "\u{2060}alice",
            "alice\u{feff}",
            "al\u{202e}ice",
            "alice\n",
            "ali\\ce",
            "аlice",
            too_long.as_str(),
        ] {
            assert!(!is_valid_person_id(invalid), "{invalid:?}");
            let mut credential = credential();
            credential.person = invalid.to_owned();
            assert!(matches!(credential.validate(), Err(CredentialError::Invalid(_))), "{invalid:?}");
        }
    }

    /// Returns a verified list with member `acme` and acme's signing key.
    fn acme_trust() -> (VerifiedTrustList, p256::SecretKey) {
        let root = p256::SecretKey::random(&mut rand_core::OsRng);
        let org = p256::SecretKey::random(&mut rand_core::OsRng);
        let mut list = crate::trust_list::TrustList::new(
            "https://cert.example/community",
            "Example",
            &root.public_key(),
            datetime!(2026-12-01 00:00 UTC),
            time::Duration::days(30),
        )
        .expect("list");
        list.members.push(crate::trust_list::Member {
            org: "acme".into(),
            name: "ACME".into(),
            sector: "energy".into(),
            country: "DE".into(),
            status: MemberStatus::Active,
            signing_keys: vec![jws::public_jwk(&org.public_key(), "acme-sign")],
            key_access_keys: vec![],
            attributes: vec![],
            clients: vec![],
            label_mappings: vec![],
        });
        let trust = VerifiedTrustList::verify(
            &list.sign(&root).expect("sign"),
            &crate::trust_list::TrustAnchor::Key(root.public_key()),
        )
        .expect("verify");
        (trust, org)
    }

    #[test]
    fn foreign_person_id_rejected_on_verify() {
        // Another program may sign a credential without our validation.
        let (trust, org) = acme_trust();
        let signer = p256::ecdsa::SigningKey::from(&org);
        for person in ["alpha-cert/alice", "../alice", "alice\u{200b}"] {
            let mut credential = credential();
            credential.person = person.to_owned();
            let payload = serde_json::to_vec(&credential).expect("json");
            let token = jws::sign_es256(&signer, Some("acme-sign"), Some(CREDENTIAL_TYPE), &payload);
            let error = VerifiedCredential::verify(&token, &trust).err();
            assert!(matches!(&error, Some(CredentialError::Invalid(message)) if message.contains("person id")), "{person:?}: {error:?}");
        }
    }

    #[test]
    fn window_bounds_are_inclusive() {
        let (trust, org) = acme_trust();
        let token = credential().sign(&org, "acme-sign").expect("sign");
        let verified = VerifiedCredential::verify(&token, &trust).expect("verify");
        assert!(verified.is_valid_at(datetime!(2026-12-01 00:00 UTC)));
        assert!(verified.is_valid_at(datetime!(2027-01-01 00:00 UTC)));
        assert!(!verified.is_valid_at(datetime!(2027-01-01 00:00:01 UTC)));
        assert!(!verified.is_valid_at(datetime!(2026-11-30 23:59:59 UTC)));

        let mut tampered: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut changed = credential();
        changed.name = "Mallory".into();
        tampered[1] = jws::base64url_encode(&serde_json::to_vec(&changed).expect("json"));
        assert_eq!(VerifiedCredential::verify(&tampered.join("."), &trust).err(), Some(CredentialError::SignatureInvalid));
    }
}
