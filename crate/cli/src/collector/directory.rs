//! Reader directories of the collector: the sources of readers' signing keys.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use p256::ecdsa::VerifyingKey;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use valise_core::credential::VerifiedCredential;
use valise_core::events::{DirectoryError, ReaderDirectory, ReaderKey, ReaderLookup};
use valise_core::jws;
use valise_core::trust_list::VerifiedTrustList;

use crate::cmd::CliError;

/// Most readers a readers file may list.
const MAX_READERS: usize = 100_000;

/// Most bytes of a readers file.
const MAX_READERS_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A fixed list of reader signing keys, read from a JSON file:
///
/// ```json
/// { "community": "fincert",
///   "readers": [ { "kid": "...", "org": "acme", "person": "alice",
///                  "publicKeyJwk": { "kty": "EC", "crv": "P-256", "x": "...", "y": "..." } } ] }
/// ```
///
/// For a collector that serves a closed group without a community trust
/// list. The `valisecred` attribute of events is ignored.
pub(crate) struct StaticDirectory {
    readers: HashMap<String, ReaderKey>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadersFile {
    community: String,
    readers: Vec<ReaderEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReaderEntry {
    kid: String,
    org: String,
    person: String,
    public_key_jwk: serde_json::Value,
}

impl StaticDirectory {
    /// Reads a readers file.
    pub(crate) fn load(path: &Path) -> Result<StaticDirectory, CliError> {
        let shown = path.display();
        let size = std::fs::metadata(path)
            .map_err(|e| CliError::usage(format!("cannot read the readers file {shown}: {e}")))?
            .len();
        if size > MAX_READERS_FILE_BYTES {
            return Err(CliError::usage(format!(
                "the readers file {shown} is {size} bytes, more than the maximum of {MAX_READERS_FILE_BYTES}"
            )));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::usage(format!("cannot read the readers file {shown}: {e}")))?;
        Self::parse(&text).map_err(|message| {
            CliError::usage(format!("the readers file {shown} is invalid: {message}"))
        })
    }

    /// Parses the JSON of a readers file.
    pub(crate) fn parse(text: &str) -> Result<StaticDirectory, String> {
        let file: ReadersFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if file.readers.len() > MAX_READERS {
            return Err(format!(
                "it lists {} readers, more than the maximum of {MAX_READERS}",
                file.readers.len()
            ));
        }
        let mut readers = HashMap::with_capacity(file.readers.len());
        for (index, entry) in file.readers.into_iter().enumerate() {
            let (key, _) = jws::public_key_from_jwk(&entry.public_key_jwk)
                .map_err(|e| format!("readers[{index}].publicKeyJwk: {e}"))?;
            // The same syntax as in credentials, so a report cannot show one
            // reader under another organization's name.
            if !valise_core::trust_list::is_valid_org_id(&entry.org) {
                return Err(format!("readers[{index}].org {:?} is not a valid organization id", entry.org));
            }
            if !valise_core::credential::is_valid_person_id(&entry.person) {
                return Err(format!("readers[{index}].person {:?} is not a valid person id", entry.person));
            }
            let reader = ReaderKey {
                key: VerifyingKey::from(key),
                community: file.community.clone(),
                org: entry.org,
                person: entry.person,
            };
            if readers.insert(entry.kid.clone(), reader).is_some() {
                return Err(format!("readers[{index}].kid {:?} is listed twice", entry.kid));
            }
        }
        Ok(StaticDirectory { readers })
    }
}

impl StaticDirectory {
    /// Makes a directory from keys already in memory.
    pub(crate) fn from_keys(readers: HashMap<String, ReaderKey>) -> StaticDirectory {
        StaticDirectory { readers }
    }
}

impl ReaderDirectory for StaticDirectory {
    fn resolve(&self, lookup: &ReaderLookup<'_>) -> Result<ReaderKey, DirectoryError> {
        self.readers
            .get(lookup.kid)
            .cloned()
            .ok_or_else(|| DirectoryError::UnknownKey(lookup.kid.to_owned()))
    }
}

/// Most verified credentials kept in memory; the cache is emptied when full.
const MAX_CACHED_CREDENTIALS: usize = 10_000;

/// Readers vouched for by the community trust list. Each event carries the
/// reader's credential (`valisecred`). The credential must verify against
/// the list (signed by a signing key of the reader's organization, the
/// organization active, no key revoked), be valid at the event's time, and
/// name the key that signed the event.
///
/// NOTE: the list is read once at start; restart the collector to pick up a
/// new version (new members, revocations).
pub(crate) struct TrustDirectory {
    trust: VerifiedTrustList,
    /// Verified credentials by the SHA-256 of their token, so each one is
    /// verified once rather than once per event.
    cache: Mutex<HashMap<[u8; 32], Result<VerifiedCredential, String>>>,
}

impl TrustDirectory {
    /// Wraps a verified trust list.
    pub(crate) fn new(trust: VerifiedTrustList) -> TrustDirectory {
        TrustDirectory {
            trust,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn verify_credential(&self, token: &str) -> Result<VerifiedCredential, String> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Ok(cache) = self.cache.lock() {
            if let Some(cached) = cache.get(&digest) {
                return cached.clone();
            }
        }
        let result = VerifiedCredential::verify(token, &self.trust).map_err(|e| e.to_string());
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_CACHED_CREDENTIALS {
                cache.clear();
            }
            cache.insert(digest, result.clone());
        }
        result
    }
}

impl ReaderDirectory for TrustDirectory {
    fn resolve(&self, lookup: &ReaderLookup<'_>) -> Result<ReaderKey, DirectoryError> {
        let token = lookup.credential.ok_or_else(|| {
            DirectoryError::CredentialRejected("the event carries no credential (valisecred)".into())
        })?;
        let credential = self
            .verify_credential(token)
            .map_err(DirectoryError::CredentialRejected)?;
        let (key, kid) = credential.signing_key();
        if kid != lookup.kid {
            return Err(DirectoryError::CredentialRejected(format!(
                "the event is signed with key {:?} but the credential names signing key {kid:?}",
                lookup.kid
            )));
        }
        if !credential.is_valid_at(lookup.time) {
            return Err(DirectoryError::CredentialRejected(format!(
                "the credential of {} is not valid at the event time",
                credential.person()
            )));
        }
        Ok(ReaderKey {
            key: VerifyingKey::from(*key),
            community: credential.community().to_owned(),
            org: credential.org().to_owned(),
            person: credential.person().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readers_file(org: &str, person: &str) -> String {
        let key = p256::SecretKey::random(&mut rand_core::OsRng);
        serde_json::json!({
            "community": "https://cert.example",
            "readers": [{
                "kid": "k1",
                "org": org,
                "person": person,
                "publicKeyJwk": valise_core::jws::public_jwk(&key.public_key(), "k1"),
            }],
        })
        .to_string()
    }

    #[test]
    fn unsafe_reader_ids_rejected() {
        assert!(StaticDirectory::parse(&readers_file("beta-bank", "alice@bank.example")).is_ok());
        for (org, person) in [("beta-bank", "alpha-cert/alice"), ("beta-bank", "../alice"), ("beta-bank", "alice\u{200b}"), ("a/b", "alice")] {
            let error = StaticDirectory::parse(&readers_file(org, person)).err();
            assert!(error.as_deref().is_some_and(|e| e.contains("is not a valid")), "{org}/{person}: {error:?}");
        }
    }
}
