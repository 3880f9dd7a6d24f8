//! The community trust list handle: a list whose signature verified against
//! one of the root key fingerprints the portal pins.

use serde::Serialize;
use time::OffsetDateTime;
use valise_core::trust_list::{self, TrustAnchor, TrustListError, VerifiedTrustList};
use wasm_bindgen::prelude::*;

use crate::error::{BindingError, BindingResult, ErrorKind};

/// A verified community trust list.
#[wasm_bindgen]
pub struct TrustList {
    inner: VerifiedTrustList,
    stale: bool,
}

/// Summary of a trust list for the portal.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TrustListSummary<'a> {
    community: &'a str,
    community_name: &'a str,
    version: u64,
    #[serde(with = "time::serde::rfc3339")]
    issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    next_update: OffsetDateTime,
    stale: bool,
    root_fingerprint: &'a str,
    members: usize,
}

impl TrustList {
    /// Verifies a trust list file against the pinned fingerprints.
    pub(crate) fn verify_text(text: &str, fingerprints: &[String], now: OffsetDateTime) -> BindingResult<TrustList> {
        if fingerprints.is_empty() {
            return Err(BindingError::new(
                ErrorKind::Integrity,
                "The portal pins no community root key, so no trust list can be accepted. Set rootKeyFingerprints in config.json.",
            ));
        }
        let token = trust_list::decode_file(text).map_err(trust_error)?;
        let mut last_error = None;
        for fingerprint in fingerprints {
            match VerifiedTrustList::verify(&token, &TrustAnchor::Fingerprint(fingerprint.clone())) {
                Ok(inner) => {
                    let stale = inner.is_stale(now);
                    return Ok(TrustList { inner, stale });
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.map_or_else(|| BindingError::new(ErrorKind::Integrity, "The trust list did not verify."), trust_error))
    }

    /// Returns the verified list.
    pub(crate) fn inner(&self) -> &VerifiedTrustList {
        &self.inner
    }
}

/// Maps a trust list failure to the error thrown to JavaScript.
fn trust_error(error: TrustListError) -> BindingError {
    match error {
        TrustListError::RootKeyMismatch { .. } | TrustListError::SignatureInvalid => BindingError::new(
            ErrorKind::Integrity,
            format!("The community trust list is not signed by a root key this portal trusts: {error}."),
        ),
        other => BindingError::new(ErrorKind::MalformedPackage, format!("The community trust list is invalid: {other}.")),
    }
}

#[wasm_bindgen]
impl TrustList {
    /// Verifies a trust list file against the pinned root key fingerprints
    /// (RFC 7638 JWK thumbprints). Rollback and staleness are judged by the
    /// decision point when a package is opened.
    ///
    /// # Errors
    ///
    /// `Integrity` when no pinned key signed it; `MalformedPackage` when the
    /// document is invalid.
    pub fn verify(text: &str, root_fingerprints: Vec<String>, now_ms: f64) -> Result<TrustList, JsValue> {
        let now = crate::time::from_millis(now_ms)?;
        Ok(TrustList::verify_text(text, &root_fingerprints, now)?)
    }

    /// Returns `{ community, communityName, version, issuedAt, nextUpdate, stale, rootFingerprint, members }`.
    #[wasm_bindgen(unchecked_return_type = "TrustListSummary")]
    pub fn summary(&self) -> Result<JsValue, JsValue> {
        let list = self.inner.list();
        let summary = TrustListSummary {
            community: self.inner.community(),
            community_name: &list.name,
            version: self.inner.version(),
            issued_at: list.issued,
            next_update: list.next_update,
            stale: self.stale,
            root_fingerprint: self.inner.root_fingerprint(),
            members: list.members.len(),
        };
        crate::error::to_js(&summary)
    }
}
