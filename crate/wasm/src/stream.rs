//! Streaming decryption: the checks that let a Web Worker release a
//! package's plaintext segment by segment.
//!
//! The main thread parses, unwraps, verifies and decides as usual. For a
//! permitted package it then hands a worker a [`StreamPlan`] (where each
//! segment lies in the archive and the digests the verified manifest and
//! the originator's signed provenance expect) and the data key as a
//! non-extractable WebCrypto key (`webcrypto.rs`). The worker runs its own
//! instance of this module and, for every segment, asks a
//! [`SegmentChecker`] to check the encrypted bytes (size, GMAC segment
//! hash, SHA-256 in the signed provenance) before it decrypts them, and
//! feeds the plaintext back so the checker can compare the whole-plaintext
//! digest at the end.
//!
//! Packages whose segment hashes are HMACs under the data key (`HS256`)
//! have no plan: the checker would need the key, so they take the
//! whole-payload path of `OpenedPackage.decryptAll`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use valise_core::key_access::DataKey;
use valise_core::open::{Package as CorePackage, VerifiedPackage};
use valise_core::segments::{gmac_hash, hash_matches};
use wasm_bindgen::prelude::*;

use crate::error::{to_js, BindingError, BindingResult, ErrorKind};
use crate::package::OpenedPackage;

/// One segment of a [`StreamPlan`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PlannedSegment {
    /// Offset of the encrypted segment in the package archive.
    offset: u64,
    /// Nonce, ciphertext and tag.
    encrypted_size: u64,
    plaintext_size: u64,
    /// The manifest's segment hash as stored (raw GMAC tag or hex text), in hex.
    hash: String,
    /// SHA-256 of the encrypted segment from the signed provenance, in hex.
    sha256: Option<String>,
}

/// What a worker needs to decrypt and check a verified package segment by
/// segment. It holds no secret: every value comes from the verified
/// manifest or the signed provenance.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StreamPlan {
    segments: Vec<PlannedSegment>,
    plaintext_size: u64,
    /// SHA-256 of the whole plaintext from the signed provenance, in hex.
    plaintext_sha256: Option<String>,
}

impl StreamPlan {
    /// Builds the plan of a verified package; `None` when its segment
    /// hashes are HMACs under the data key.
    pub(crate) fn new(package: &CorePackage, verified: &VerifiedPackage) -> Option<StreamPlan> {
        if package.manifest().encryption_information.integrity_information.segment_hash_alg != "GMAC" {
            return None;
        }
        let (payload_offset, _) = verified.payload_range();
        let digests = verified.provenance.as_ref().map(|provenance| &provenance.segment_sha256);
        let segments = verified
            .segments
            .iter()
            .enumerate()
            .map(|(index, entry)| PlannedSegment {
                offset: payload_offset + entry.payload_offset,
                encrypted_size: entry.encrypted_size,
                plaintext_size: entry.plaintext_size,
                hash: hex::encode(&entry.hash),
                sha256: digests.and_then(|digests| digests.get(index)).map(hex::encode),
            })
            .collect();
        Some(StreamPlan {
            segments,
            plaintext_size: verified.plaintext_size(),
            plaintext_sha256: verified.provenance.as_ref().map(|provenance| hex::encode(provenance.plaintext_sha256)),
        })
    }
}

/// The streaming state an [`OpenedPackage`] keeps: the plan, and the data
/// key until `segmentKey()` hands it to WebCrypto.
pub(crate) struct Streaming {
    pub(crate) plan: StreamPlan,
    pub(crate) key: Option<DataKey>,
}

impl Streaming {
    /// Prepares streaming for a verified package; `None` when it must be
    /// decrypted whole.
    pub(crate) fn new(package: &CorePackage, verified: &VerifiedPackage, key: &DataKey) -> Option<Streaming> {
        StreamPlan::new(package, verified).map(|plan| Streaming { plan, key: Some(DataKey::from_bytes(*key.as_bytes())) })
    }
}

#[wasm_bindgen]
impl OpenedPackage {
    /// Returns the plan a worker decrypts by (`StreamPlan`), or `null` when
    /// the package must be decrypted whole with `decryptAll`.
    #[wasm_bindgen(js_name = streamPlan, unchecked_return_type = "StreamPlan | null")]
    pub fn stream_plan(&self) -> Result<JsValue, JsValue> {
        match &self.stream {
            Some(streaming) => to_js(&streaming.plan),
            None => Ok(JsValue::NULL),
        }
    }
}

fn integrity(what: &str, index: usize) -> BindingError {
    // The message names the check and the segment, never any byte of it.
    BindingError::new(ErrorKind::Integrity, format!("The package was altered or damaged: segment {index} failed its {what} check."))
}

fn decode_hex(text: &str, what: &str) -> BindingResult<Vec<u8>> {
    hex::decode(text).map_err(|error| BindingError::new(ErrorKind::Internal, format!("invalid {what} in the stream plan: {error}")))
}

/// Checks, inside a worker, the segments of one package against its plan.
#[wasm_bindgen]
pub struct SegmentChecker {
    plan: StreamPlan,
    hashes: Vec<Vec<u8>>,
    digests: Option<Vec<[u8; 32]>>,
    plaintext_sha256: Option<[u8; 32]>,
    plaintext_digest: Sha256,
    /// Index of the next segment whose plaintext the digest expects.
    next: usize,
    failed: bool,
}

#[wasm_bindgen]
impl SegmentChecker {
    /// Creates a checker from the plan `OpenedPackage.streamPlan()` returned.
    ///
    /// # Errors
    ///
    /// `Internal` when the plan is not one this module wrote.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "StreamPlan")] plan: JsValue) -> Result<SegmentChecker, JsValue> {
        Ok(Self::from_plan(serde_wasm_bindgen::from_value(plan).map_err(|error| {
            BindingError::new(ErrorKind::Internal, format!("invalid stream plan: {error}"))
        })?)?)
    }

    /// Number of segments.
    #[wasm_bindgen(getter, js_name = segmentCount)]
    pub fn segment_count(&self) -> usize {
        self.plan.segments.len()
    }

    /// Checks encrypted segment `index` (nonce, ciphertext and tag) before
    /// it is decrypted: its size, its GMAC segment hash and, for a profile
    /// package, its SHA-256 in the signed provenance. The GCM tag itself is
    /// checked by the decryption.
    ///
    /// # Errors
    ///
    /// `Integrity` naming the segment and the check that failed.
    #[wasm_bindgen(js_name = checkEncrypted)]
    pub fn check_encrypted(&mut self, index: usize, encrypted: &[u8]) -> Result<(), JsValue> {
        Ok(self.check_encrypted_inner(index, encrypted)?)
    }

    /// Feeds the plaintext of segment `index`, in order, to the digest of
    /// the whole plaintext.
    ///
    /// # Errors
    ///
    /// `Integrity` when the segment comes out of order or has the wrong size.
    #[wasm_bindgen(js_name = absorbPlaintext)]
    pub fn absorb_plaintext(&mut self, index: usize, plaintext: &[u8]) -> Result<(), JsValue> {
        Ok(self.absorb_inner(index, plaintext)?)
    }

    /// Checks that every segment was absorbed and, for a profile package,
    /// that the whole plaintext matches the originator's signed digest.
    ///
    /// # Errors
    ///
    /// `Integrity` on a missing segment or a digest mismatch.
    pub fn finish(&mut self) -> Result<(), JsValue> {
        Ok(self.finish_inner()?)
    }
}

impl SegmentChecker {
    fn from_plan(plan: StreamPlan) -> BindingResult<SegmentChecker> {
        let hashes = plan.segments.iter().map(|segment| decode_hex(&segment.hash, "segment hash")).collect::<BindingResult<Vec<_>>>()?;
        let digests = match plan.plaintext_sha256 {
            Some(_) => Some(
                plan.segments
                    .iter()
                    .map(|segment| {
                        let text = segment.sha256.as_deref().ok_or_else(|| BindingError::new(ErrorKind::Internal, "stream plan lacks a segment digest"))?;
                        <[u8; 32]>::try_from(decode_hex(text, "segment digest")?)
                            .map_err(|_| BindingError::new(ErrorKind::Internal, "segment digest in the stream plan is not 32 bytes"))
                    })
                    .collect::<BindingResult<Vec<_>>>()?,
            ),
            None => None,
        };
        let plaintext_sha256 = match plan.plaintext_sha256.as_deref() {
            Some(text) => Some(
                <[u8; 32]>::try_from(decode_hex(text, "plaintext digest")?)
                    .map_err(|_| BindingError::new(ErrorKind::Internal, "plaintext digest in the stream plan is not 32 bytes"))?,
            ),
            None => None,
        };
        Ok(SegmentChecker { plan, hashes, digests, plaintext_sha256, plaintext_digest: Sha256::new(), next: 0, failed: false })
    }

    fn fail(&mut self, what: &str, index: usize) -> BindingError {
        self.failed = true;
        integrity(what, index)
    }

    fn check_encrypted_inner(&mut self, index: usize, encrypted: &[u8]) -> BindingResult<()> {
        if self.failed {
            return Err(integrity("earlier", index));
        }
        let Some(segment) = self.plan.segments.get(index) else {
            return Err(BindingError::new(ErrorKind::Internal, format!("segment index {index} out of range (0..{})", self.plan.segments.len())));
        };
        if encrypted.len() as u64 != segment.encrypted_size {
            return Err(self.fail("size", index));
        }
        let hash_ok = match gmac_hash(encrypted) {
            Ok(tag) => self.hashes.get(index).is_some_and(|stored| hash_matches(stored, &tag)),
            Err(_) => false,
        };
        if !hash_ok {
            return Err(self.fail("segment hash", index));
        }
        if let Some(digests) = &self.digests {
            let digest: [u8; 32] = Sha256::digest(encrypted).into();
            let matches = digests.get(index).is_some_and(|expected| bool::from(expected.ct_eq(&digest)));
            if !matches {
                return Err(self.fail("signed digest", index));
            }
        }
        Ok(())
    }

    fn absorb_inner(&mut self, index: usize, plaintext: &[u8]) -> BindingResult<()> {
        if self.failed {
            return Err(integrity("earlier", index));
        }
        if index != self.next {
            return Err(BindingError::new(ErrorKind::Internal, format!("segment {index} absorbed out of order (expected {})", self.next)));
        }
        let expected = self.plan.segments.get(index).map(|segment| segment.plaintext_size);
        if expected != Some(plaintext.len() as u64) {
            return Err(self.fail("plaintext size", index));
        }
        self.plaintext_digest.update(plaintext);
        self.next += 1;
        Ok(())
    }

    fn finish_inner(&mut self) -> BindingResult<()> {
        if self.failed {
            return Err(integrity("earlier", self.next));
        }
        if self.next != self.plan.segments.len() {
            return Err(self.fail("completeness", self.next));
        }
        if let Some(expected) = self.plaintext_sha256 {
            let digest: [u8; 32] = std::mem::take(&mut self.plaintext_digest).finalize().into();
            if !bool::from(expected.ct_eq(&digest)) {
                self.failed = true;
                return Err(BindingError::new(ErrorKind::Integrity, "The package was altered or damaged: the whole plaintext does not match the signed digest."));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(encrypted: &[&[u8]], plaintexts: &[&[u8]]) -> StreamPlan {
        let mut whole = Sha256::new();
        for plaintext in plaintexts {
            whole.update(plaintext);
        }
        StreamPlan {
            segments: encrypted
                .iter()
                .zip(plaintexts)
                .map(|(encrypted, plaintext)| PlannedSegment {
                    offset: 0,
                    encrypted_size: encrypted.len() as u64,
                    plaintext_size: plaintext.len() as u64,
                    hash: hex::encode(&encrypted[encrypted.len() - 16..]),
                    sha256: Some(hex::encode(Sha256::digest(encrypted))),
                })
                .collect(),
            plaintext_size: plaintexts.iter().map(|p| p.len() as u64).sum(),
            plaintext_sha256: Some(hex::encode(whole.finalize())),
        }
    }

    #[test]
    fn accepts_matching_segments_in_order() {
        let encrypted = [[7u8; 40], [9u8; 40]];
        let mut checker = SegmentChecker::from_plan(plan(&[&encrypted[0], &encrypted[1]], &[b"first segment", b"second"])).expect("plan");
        checker.check_encrypted_inner(1, &encrypted[1]).expect("segment 1");
        checker.check_encrypted_inner(0, &encrypted[0]).expect("segment 0");
        checker.absorb_inner(0, b"first segment").expect("absorb 0");
        checker.absorb_inner(1, b"second").expect("absorb 1");
        checker.finish_inner().expect("finish");
    }

    #[test]
    fn rejects_altered_segment_and_stays_failed() {
        let encrypted = [[7u8; 40], [9u8; 40]];
        let mut checker = SegmentChecker::from_plan(plan(&[&encrypted[0], &encrypted[1]], &[b"a", b"b"])).expect("plan");
        let mut altered = encrypted[0];
        altered[14] ^= 1;
        assert!(checker.check_encrypted_inner(0, &altered).is_err());
        assert!(checker.check_encrypted_inner(1, &encrypted[1]).is_err());
    }

    #[test]
    fn rejects_wrong_plaintext_digest_and_missing_segment() {
        let encrypted = [[7u8; 40], [9u8; 40]];
        let mut checker = SegmentChecker::from_plan(plan(&[&encrypted[0], &encrypted[1]], &[b"a", b"b"])).expect("plan");
        checker.absorb_inner(0, b"a").expect("absorb 0");
        assert!(checker.finish_inner().is_err());
        let mut checker = SegmentChecker::from_plan(plan(&[&encrypted[0], &encrypted[1]], &[b"a", b"b"])).expect("plan");
        checker.absorb_inner(0, b"a").expect("absorb 0");
        checker.absorb_inner(1, b"c").expect("same size");
        assert!(checker.finish_inner().is_err());
        let mut checker = SegmentChecker::from_plan(plan(&[&encrypted[0], &encrypted[1]], &[b"a", b"b"])).expect("plan");
        assert!(checker.absorb_inner(1, b"b").is_err());
    }
}
