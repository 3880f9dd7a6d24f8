//! The reader's identity: a private key decrypted from its passphrase-
//! protected key file, and the credential the reader's organization signed
//! for it. The key lives only in this module's memory and is zeroized when
//! the identity is locked or dropped (`p256::SecretKey` zeroizes on drop).

use serde::Serialize;
use time::OffsetDateTime;
use valise_core::credential::VerifiedCredential;
use valise_core::keys::{KeyFileError, PrivateKey};
use wasm_bindgen::prelude::*;

use crate::error::{BindingError, BindingResult, ErrorKind, ReasonView};
use crate::keyfile::{self, key_file_error};
use crate::trust::TrustList;

/// An unlocked identity.
#[wasm_bindgen]
pub struct Identity {
    key: Option<p256::SecretKey>,
    credential: VerifiedCredential,
}

/// Summary of an identity for the portal (no key material).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IdentitySummary<'a> {
    person: &'a str,
    name: &'a str,
    organization: &'a str,
    organization_name: Option<&'a str>,
    community: &'a str,
    key_id: &'a str,
    attributes: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    not_after: OffsetDateTime,
}

impl Identity {
    /// Returns the private key, or `KeyRequired` once locked.
    pub(crate) fn key(&self) -> BindingResult<&p256::SecretKey> {
        self.key.as_ref().ok_or_else(|| BindingError::new(ErrorKind::KeyRequired, "The identity is locked: unlock it to open packages."))
    }

    /// Returns the verified credential.
    pub(crate) fn credential(&self) -> &VerifiedCredential {
        &self.credential
    }

    fn unlock_inner(pkcs8: &mut [u8], credential: &str, trust: &TrustList) -> BindingResult<Identity> {
        // The module is built without the core's `rsa` feature, so an RSA key
        // file fails as `RsaNotBuilt`. A build with the feature returns the key.
        let key = match keyfile::read_decrypted(pkcs8).map(PrivateKey::into_p256) {
            Ok(Some(key)) => key,
            Ok(None) | Err(KeyFileError::RsaNotBuilt) => {
                return Err(BindingError::new(ErrorKind::Unsupported, "This key file contains an RSA key, but the viewer needs the P-256 key issued for the community."));
            }
            Err(error) => return Err(key_file_error(&error)),
        };
        let credential = VerifiedCredential::verify(credential, trust.inner()).map_err(|error| {
            let reason = valise_core::decision::Reason::credential_refused(&error);
            let mut failure = BindingError::denied(vec![ReasonView::from(&reason)]);
            failure.message = format!("The credential cannot be used: {error}.");
            failure
        })?;
        let (credential_key, _) = credential.key_access_key();
        if credential_key != &key.public_key() {
            return Err(BindingError::new(
                ErrorKind::KeyMismatch,
                "The credential was issued for another key than this key file. Choose the credential that came with this key file.",
            ));
        }
        Ok(Identity { key: Some(key), credential })
    }
}

#[wasm_bindgen]
impl Identity {
    /// Reads the private key from the PKCS#8 structure that WebCrypto
    /// decrypted with the parameters of a [`crate::keyfile::KeyFile`], and
    /// checks that the credential verifies against the trust list and names
    /// this key. `pkcs8` is overwritten with zeros, in wasm memory and in
    /// the caller's array; an empty `pkcs8` means the decryption failed.
    ///
    /// # Errors
    ///
    /// `Passphrase` for a wrong passphrase (bytes that are not PKCS#8);
    /// `AccessDenied` (reason `credential_invalid`) for a credential that
    /// does not verify; `KeyMismatch` when the credential names another
    /// key; `Unsupported` for a key type other than P-256.
    pub fn unlock(pkcs8: &mut [u8], credential: &str, trust: &TrustList) -> Result<Identity, JsValue> {
        Ok(Identity::unlock_inner(pkcs8, credential, trust)?)
    }

    /// Returns `{ person, name, organization, organizationName, community, keyId, attributes, notAfter }`.
    #[wasm_bindgen(unchecked_return_type = "IdentitySummary")]
    pub fn summary(&self, trust: &TrustList) -> Result<JsValue, JsValue> {
        let credential = self.credential.credential();
        let (_, key_id) = self.credential.key_access_key();
        let summary = IdentitySummary {
            person: &credential.person,
            name: &credential.name,
            organization: &credential.org,
            organization_name: trust.inner().member(&credential.org).map(|member| member.name.as_str()),
            community: &credential.community,
            key_id,
            attributes: credential.attributes.iter().map(ToString::to_string).collect(),
            not_after: credential.not_after,
        };
        crate::error::to_js(&summary)
    }

    /// Tells whether the key was zeroized by `lock()`.
    #[wasm_bindgen(getter, js_name = isLocked)]
    pub fn is_locked(&self) -> bool {
        self.key.is_none()
    }

    /// Drops the private key, which zeroizes it.
    pub fn lock(&mut self) {
        self.key = None;
    }
}
