//! Streaming decryption: the checks that let a Web Worker release a
//! package's plaintext segment by segment.
//!
//! The main thread parses, unwraps, verifies and decides as usual. For a
//! permitted package it then hands a worker a [`StreamPlan`] (where each
//! segment lies in the archive and the digests the verified manifest and
//! the originator's signed provenance expect) and the data key as a
//! non-extractable WebCrypto key (`webcrypto.rs`). The worker runs its own
//! instance of this module. For every segment, a [`SegmentChecker`] starts
//! WebCrypto's decryption and SHA-256 (`decryptSegment`), then compares
//! the tag check, size, GMAC segment hash and SHA-256 with the signed
//! values (`checkSegment`) before the worker releases the plaintext. The
//! signed whole-plaintext digest is checked in one of two places. The page can hash
//! the assembled plaintext and call `OpenedPackage.checkPlaintextDigest`
//! (after `leavePlaintextDigestToPage`). Otherwise the checker hashes the
//! plaintext in segment order as it goes (`addPlaintext`), and `finish`
//! compares that SHA-256 with the signed one.
//!
//! Packages whose segment hashes are HMACs under the data key (`HS256`)
//! have no plan: the checker would need the key, so they take the
//! whole-payload path of `OpenedPackage.decryptAll`.

use js_sys::{ArrayBuffer, Uint8Array};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use valise_core::key_access::{DataKey, GCM_TAG_LEN};
use valise_core::open::{Package as CorePackage, VerifiedPackage};
use valise_core::segments::hash_matches;
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
///
/// `decryptSegment` has `crypto.subtle.decrypt` check each segment's GCM
/// tag while `crypto.subtle.digest` computes the SHA-256 of the encrypted
/// bytes (native code, SHA extensions where the CPU has them). Then
/// `checkSegment` compares the results with what the verified manifest and
/// the signed provenance expect, before the worker may release the
/// plaintext.
#[wasm_bindgen]
pub struct SegmentChecker {
    plan: StreamPlan,
    hashes: Vec<Vec<u8>>,
    digests: Option<Vec<[u8; 32]>>,
    /// The signed SHA-256 of the whole plaintext, when the provenance has one.
    plaintext_digest: Option<[u8; 32]>,
    /// SHA-256 of the plaintext of segments `0..hashed`, fed in order.
    plaintext_hasher: Sha256,
    hashed: usize,
    passed: Vec<bool>,
    failed: bool,
    /// Turns a rejected decryption (a failed GCM tag check) into `undefined`;
    /// made on the first `decryptSegment` and reused for every segment.
    pub(crate) tag_failure: Option<Closure<dyn FnMut(JsValue)>>,
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

    /// Whether `checkSegment` needs the SHA-256 of each encrypted segment
    /// (a profile package, whose provenance signs them).
    #[wasm_bindgen(getter, js_name = needsDigest)]
    pub fn needs_digest(&self) -> bool {
        self.digests.is_some()
    }

    /// Checks segment `index` before its plaintext is released, with what
    /// `decryptSegment` resolved to for it. The decryption must have passed
    /// the GCM tag check (`plaintext` is not `undefined`). The encrypted
    /// segment's size, its GMAC segment hash (its last 16 bytes) and its
    /// SHA-256 (`digest`, when `needsDigest`) must match the verified
    /// manifest and the signed provenance, and so must the plaintext size.
    ///
    /// # Errors
    ///
    /// `Integrity` naming the segment and the check that failed; every
    /// later call fails too.
    #[wasm_bindgen(js_name = checkSegment)]
    pub fn check_segment(
        &mut self,
        index: usize,
        encrypted: &Uint8Array,
        #[wasm_bindgen(unchecked_param_type = "ArrayBuffer | undefined")] plaintext: Option<ArrayBuffer>,
        #[wasm_bindgen(unchecked_param_type = "ArrayBuffer | undefined")] digest: Option<ArrayBuffer>,
    ) -> Result<(), JsValue> {
        let Some(plaintext) = plaintext else {
            return Err(self.fail("tag", index).into());
        };
        let length = encrypted.length();
        // Only the tag is copied into the module, never the segment.
        let tag = encrypted.subarray(length.saturating_sub(GCM_TAG_LEN as u32), length).to_vec();
        let digest = digest.map(|digest| Uint8Array::new(&digest).to_vec());
        Ok(self.check_inner(index, f64::from(length), &tag, digest.as_deref(), plaintext.byte_length().into())?)
    }

    /// Returns whether `finish` checks the whole-plaintext digest, which needs
    /// every segment's plaintext passed to `addPlaintext` in order.
    #[wasm_bindgen(getter, js_name = needsPlaintext)]
    pub fn needs_plaintext(&self) -> bool {
        self.plaintext_digest.is_some()
    }

    /// Leaves the whole-plaintext digest to the page, which then hashes the
    /// assembled plaintext and calls `OpenedPackage.checkPlaintextDigest`:
    /// `finish` no longer checks it and `addPlaintext` is not needed. Every
    /// segment must still match its signed SHA-256 in `checkSegment`.
    #[wasm_bindgen(js_name = leavePlaintextDigestToPage)]
    pub fn leave_plaintext_digest_to_page(&mut self) {
        self.plaintext_digest = None;
    }

    /// Feeds the plaintext of segment `index`, which must have passed
    /// `checkSegment`, into the whole-plaintext SHA-256. Segments must come in
    /// order: `index` is the number of segments fed so far.
    ///
    /// # Errors
    ///
    /// `Internal` when `index` is out of order or the segment has not passed.
    #[wasm_bindgen(js_name = addPlaintext)]
    pub fn add_plaintext(&mut self, index: usize, plaintext: &[u8]) -> Result<(), JsValue> {
        Ok(self.add_plaintext_inner(index, plaintext)?)
    }

    /// Checks that every segment passed and, when the provenance signs one,
    /// that the plaintext fed to `addPlaintext` matches the whole-plaintext
    /// digest.
    ///
    /// # Errors
    ///
    /// `Integrity` naming the first segment that did not pass, or saying the
    /// whole plaintext does not match.
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
        let plaintext_digest = match plan.plaintext_sha256.as_deref() {
            Some(text) => Some(
                <[u8; 32]>::try_from(decode_hex(text, "plaintext digest")?)
                    .map_err(|_| BindingError::new(ErrorKind::Internal, "plaintext digest in the stream plan is not 32 bytes"))?,
            ),
            None => None,
        };
        let passed = vec![false; plan.segments.len()];
        Ok(SegmentChecker { plan, hashes, digests, plaintext_digest, plaintext_hasher: Sha256::new(), hashed: 0, passed, failed: false, tag_failure: None })
    }

    fn add_plaintext_inner(&mut self, index: usize, plaintext: &[u8]) -> BindingResult<()> {
        if index != self.hashed {
            return Err(BindingError::new(ErrorKind::Internal, format!("segment {index} was fed out of order, expected segment {}", self.hashed)));
        }
        if !self.passed.get(index).copied().unwrap_or(false) {
            return Err(BindingError::new(ErrorKind::Internal, format!("segment {index} was fed before it passed its checks")));
        }
        self.plaintext_hasher.update(plaintext);
        self.hashed += 1;
        Ok(())
    }

    fn fail(&mut self, what: &str, index: usize) -> BindingError {
        self.failed = true;
        integrity(what, index)
    }

    fn check_inner(&mut self, index: usize, encrypted_size: f64, tag: &[u8], sha256: Option<&[u8]>, plaintext_size: f64) -> BindingResult<()> {
        if self.failed {
            return Err(integrity("earlier", index));
        }
        let Some(segment) = self.plan.segments.get(index) else {
            return Err(BindingError::new(ErrorKind::Internal, format!("segment index {index} out of range (0..{})", self.plan.segments.len())));
        };
        // Sizes are below 2^53 (bounded when the manifest was parsed), so f64 is exact.
        #[allow(clippy::cast_precision_loss, reason = "segment sizes are bounded far below 2^53")]
        let (expected_encrypted, expected_plaintext) = (segment.encrypted_size as f64, segment.plaintext_size as f64);
        if encrypted_size != expected_encrypted {
            return Err(self.fail("size", index));
        }
        let hash_ok = tag.len() == 16 && self.hashes.get(index).is_some_and(|stored| hash_matches(stored, tag));
        if !hash_ok {
            return Err(self.fail("segment hash", index));
        }
        if let Some(digests) = &self.digests {
            let matches = match (digests.get(index), sha256) {
                (Some(expected), Some(digest)) => digest.len() == 32 && bool::from(expected[..].ct_eq(digest)),
                _ => false,
            };
            if !matches {
                return Err(self.fail("signed digest", index));
            }
        }
        if plaintext_size != expected_plaintext {
            return Err(self.fail("plaintext size", index));
        }
        if let Some(passed) = self.passed.get_mut(index) {
            *passed = true;
        }
        Ok(())
    }

    fn finish_inner(&mut self) -> BindingResult<()> {
        if self.failed {
            return Err(integrity("earlier", 0));
        }
        if let Some(index) = self.passed.iter().position(|passed| !passed) {
            return Err(integrity("completeness", index));
        }
        let Some(expected) = self.plaintext_digest else {
            return Ok(());
        };
        if self.hashed != self.plan.segments.len() {
            return Err(BindingError::new(
                ErrorKind::Internal,
                format!("only {} of {} segments were fed to the whole-plaintext digest", self.hashed, self.plan.segments.len()),
            ));
        }
        let actual = self.plaintext_hasher.clone().finalize();
        if bool::from(expected[..].ct_eq(&actual[..])) {
            Ok(())
        } else {
            self.failed = true;
            Err(BindingError::new(ErrorKind::Integrity, "The package was altered or damaged: the whole plaintext does not match the signed digest."))
        }
    }
}

#[wasm_bindgen]
impl OpenedPackage {
    /// Checks the SHA-256 of the whole plaintext, computed by the page with
    /// `crypto.subtle.digest` once every segment arrived, against the
    /// originator's signed digest. A stock package has none: it passes.
    ///
    /// # Errors
    ///
    /// `Integrity` on a mismatch.
    #[wasm_bindgen(js_name = checkPlaintextDigest)]
    pub fn check_plaintext_digest(&self, digest: &[u8]) -> Result<(), JsValue> {
        let Some(provenance) = &self.verified.provenance else {
            return Ok(());
        };
        if digest.len() == 32 && bool::from(provenance.plaintext_sha256[..].ct_eq(digest)) {
            Ok(())
        } else {
            Err(BindingError::new(ErrorKind::Integrity, "The package was altered or damaged: the whole plaintext does not match the signed digest.").into())
        }
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    /// Returns the plaintext whose SHA-256 the plans below sign: 24 bytes
    /// of 0xAB.
    fn signed_plaintext() -> [u8; 24] {
        [0xAB; 24]
    }

    fn plan(encrypted: &[&[u8]], plaintext_sizes: &[u64]) -> StreamPlan {
        StreamPlan {
            segments: encrypted
                .iter()
                .zip(plaintext_sizes)
                .map(|(encrypted, plaintext_size)| PlannedSegment {
                    offset: 0,
                    encrypted_size: encrypted.len() as u64,
                    plaintext_size: *plaintext_size,
                    hash: hex::encode(&encrypted[encrypted.len() - 16..]),
                    sha256: Some(hex::encode(Sha256::digest(encrypted))),
                })
                .collect(),
            plaintext_size: plaintext_sizes.iter().sum(),
            plaintext_sha256: Some(hex::encode(Sha256::digest(signed_plaintext()))),
        }
    }

    fn check(checker: &mut SegmentChecker, index: usize, encrypted: &[u8], plaintext_size: f64) -> BindingResult<()> {
        let digest: [u8; 32] = Sha256::digest(encrypted).into();
        checker.check_inner(index, encrypted.len() as f64, &encrypted[encrypted.len() - 16..], Some(&digest), plaintext_size)
    }

    #[test]
    fn accepts_matching_segments_in_any_order() {
        let encrypted = [[7u8; 40], [9u8; 40]];
        let mut checker = SegmentChecker::from_plan(plan(&[&encrypted[0], &encrypted[1]], &[12, 12])).expect("plan");
        assert!(checker.finish_inner().is_err(), "nothing checked yet");
        check(&mut checker, 1, &encrypted[1], 12.0).expect("segment 1");
        check(&mut checker, 0, &encrypted[0], 12.0).expect("segment 0");
        let plaintext = signed_plaintext();
        checker.add_plaintext_inner(0, &plaintext[..12]).expect("plaintext 0");
        checker.add_plaintext_inner(1, &plaintext[12..]).expect("plaintext 1");
        checker.finish_inner().expect("finish");
    }

    #[test]
    fn rejects_plaintext_that_differs_from_signed_digest() {
        let encrypted = [[7u8; 40], [9u8; 40]];
        let mut checker = SegmentChecker::from_plan(plan(&[&encrypted[0], &encrypted[1]], &[12, 12])).expect("plan");
        check(&mut checker, 0, &encrypted[0], 12.0).expect("segment 0");
        check(&mut checker, 1, &encrypted[1], 12.0).expect("segment 1");
        let mut plaintext = signed_plaintext();
        plaintext[20] ^= 1;
        checker.add_plaintext_inner(0, &plaintext[..12]).expect("plaintext 0");
        checker.add_plaintext_inner(1, &plaintext[12..]).expect("plaintext 1");
        let error = checker.finish_inner().expect_err("altered plaintext");
        assert!(matches!(error.kind, ErrorKind::Integrity), "{}", error.message);
    }

    #[test]
    fn page_digest_still_requires_segment_digests() {
        let encrypted = [[7u8; 40], [9u8; 40]];
        let mut checker = SegmentChecker::from_plan(plan(&[&encrypted[0], &encrypted[1]], &[12, 12])).expect("plan");
        checker.leave_plaintext_digest_to_page();
        assert!(!checker.needs_plaintext());
        assert!(checker.needs_digest(), "segment digests stay required");
        assert!(checker.check_inner(0, 40.0, &encrypted[0][24..], None, 12.0).is_err(), "a segment without its digest");
        let mut checker = SegmentChecker::from_plan(plan(&[&encrypted[0], &encrypted[1]], &[12, 12])).expect("plan");
        checker.leave_plaintext_digest_to_page();
        check(&mut checker, 0, &encrypted[0], 12.0).expect("segment 0");
        check(&mut checker, 1, &encrypted[1], 12.0).expect("segment 1");
        checker.finish_inner().expect("finish without feeding the plaintext");
    }

    #[test]
    fn rejects_plaintext_out_of_order_or_unchecked() {
        let encrypted = [[7u8; 40], [9u8; 40]];
        let mut checker = SegmentChecker::from_plan(plan(&[&encrypted[0], &encrypted[1]], &[12, 12])).expect("plan");
        let plaintext = signed_plaintext();
        assert!(checker.add_plaintext_inner(0, &plaintext[..12]).is_err(), "segment 0 has not passed");
        check(&mut checker, 0, &encrypted[0], 12.0).expect("segment 0");
        check(&mut checker, 1, &encrypted[1], 12.0).expect("segment 1");
        assert!(checker.add_plaintext_inner(1, &plaintext[12..]).is_err(), "segment 1 before segment 0");
        checker.add_plaintext_inner(0, &plaintext[..12]).expect("plaintext 0");
        assert!(checker.finish_inner().is_err(), "segment 1 was never fed");
    }

    #[test]
    fn rejects_altered_segment_and_stays_failed() {
        let encrypted = [[7u8; 40], [9u8; 40]];
        let mut checker = SegmentChecker::from_plan(plan(&[&encrypted[0], &encrypted[1]], &[12, 12])).expect("plan");
        let mut altered = encrypted[0];
        altered[14] ^= 1;
        assert!(check(&mut checker, 0, &altered, 12.0).is_err());
        assert!(check(&mut checker, 1, &encrypted[1], 12.0).is_err());
        assert!(checker.finish_inner().is_err());
    }

    #[test]
    fn rejects_wrong_tag_size_or_missing_digest() {
        let encrypted = [[7u8; 40], [9u8; 40]];
        let mut checker = SegmentChecker::from_plan(plan(&[&encrypted[0], &encrypted[1]], &[12, 12])).expect("plan");
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&encrypted[0][24..]);
        tag[0] ^= 1;
        let digest: [u8; 32] = Sha256::digest(encrypted[0]).into();
        assert!(checker.check_inner(0, 40.0, &tag, Some(&digest), 12.0).is_err());
        let mut checker = SegmentChecker::from_plan(plan(&[&encrypted[0], &encrypted[1]], &[12, 12])).expect("plan");
        assert!(checker.check_inner(0, 40.0, &encrypted[0][24..], None, 12.0).is_err());
        let mut checker = SegmentChecker::from_plan(plan(&[&encrypted[0], &encrypted[1]], &[12, 12])).expect("plan");
        assert!(check(&mut checker, 0, &encrypted[0], 11.0).is_err());
        let mut checker = SegmentChecker::from_plan(plan(&[&encrypted[0], &encrypted[1]], &[12, 12])).expect("plan");
        assert!(check(&mut checker, 0, &encrypted[0][..39], 12.0).is_err());
    }
}
