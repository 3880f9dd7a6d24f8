//! Payload segments: AES-256-GCM, each segment encrypted on its own.
//!
//! Byte layout of one encrypted segment, as the OpenTDF spec defines it for
//! `AES-256-GCM` with `isStreamable: true`:
//!
//! ```text
//! nonce (12 bytes, random) || ciphertext (same length as the plaintext) || tag (16 bytes)
//! ```
//!
//! There is no associated data. Every segment gets a fresh random nonce from
//! the operating system, as the OpenTDF SDKs do; a package uses a fresh data
//! key and at most [`crate::limits::MAX_SEGMENTS`] segments, far below the
//! 2^32 random nonces NIST SP 800-38D allows per key.
//!
//! Integrity, from the outside in:
//!
//! - segment hash (`segmentHashAlg: GMAC`): the segment's GCM tag, its last 16
//!   bytes (`HS256`: HMAC-SHA256 of the whole encrypted segment under the data key);
//! - root signature (`rootSignature.alg: HS256`): HMAC-SHA256 under the data
//!   key of the concatenation of all segment hashes, in order;
//! - in files without `schemaVersion` (before 4.3.0) each hash is stored, and
//!   concatenated, as lowercase hex text instead of raw bytes.

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::key_access::{aes256gcm_open, aes256gcm_seal, DataKey, GCM_NONCE_LEN, GCM_TAG_LEN};

/// Bytes an encrypted segment adds to its plaintext: nonce and tag.
pub const SEGMENT_OVERHEAD: u64 = (GCM_NONCE_LEN + GCM_TAG_LEN) as u64;

/// Errors of segment encryption and decryption.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SegmentError {
    /// The segment did not authenticate. Deliberately opaque.
    #[error("authentication failed")]
    AuthenticationFailed,
    /// The encrypted segment is shorter than nonce and tag.
    #[error("encrypted segment of {0} bytes is shorter than its 28 bytes of nonce and tag")]
    TooShort(usize),
    /// The operating system's random number generator failed.
    #[error("random number generator failed: {0}")]
    Random(getrandom::Error),
}

/// How segment hashes and the root signature are encoded in a manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashEncoding {
    /// Raw bytes (schema 4.3.0 and later).
    Raw,
    /// Lowercase hex text of the bytes (files without `schemaVersion`).
    Hex,
}

impl HashEncoding {
    /// Encodes `bytes` as the manifest stores them (before base64).
    pub fn encode(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            HashEncoding::Raw => bytes.to_vec(),
            HashEncoding::Hex => hex::encode(bytes).into_bytes(),
        }
    }
}

/// Encrypts one segment with a fresh random nonce; returns `nonce || ciphertext || tag`.
///
/// # Errors
///
/// [`SegmentError::Random`] when no randomness is available.
pub fn encrypt_segment(key: &DataKey, plaintext: &[u8]) -> Result<Vec<u8>, SegmentError> {
    let mut nonce = [0u8; GCM_NONCE_LEN];
    getrandom::getrandom(&mut nonce).map_err(SegmentError::Random)?;
    let sealed = aes256gcm_seal(key.as_bytes(), &nonce, b"", plaintext).map_err(|_| SegmentError::AuthenticationFailed)?;
    let mut out = Vec::with_capacity(GCM_NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Encrypts one segment into `out` (cleared first), reusing its allocation:
/// the streaming writer calls this for every segment with the same buffer.
///
/// # Errors
///
/// [`SegmentError::Random`] when no randomness is available.
pub fn encrypt_segment_into(key: &DataKey, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), SegmentError> {
    let mut nonce = [0u8; GCM_NONCE_LEN];
    getrandom::getrandom(&mut nonce).map_err(SegmentError::Random)?;
    out.clear();
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let cipher = Aes256Gcm::new(key.as_bytes().into());
    let tag = cipher
        .encrypt_in_place_detached(Nonce::from_slice(&nonce), b"", &mut out[GCM_NONCE_LEN..])
        .map_err(|_| SegmentError::AuthenticationFailed)?;
    out.extend_from_slice(&tag);
    Ok(())
}

/// Encrypts one segment in place. `buffer` starts with [`GCM_NONCE_LEN`]
/// bytes of room for the nonce, followed by the plaintext. On return it
/// contains `nonce || ciphertext || tag`, so no copy and no allocation
/// happen per segment.
///
/// # Errors
///
/// [`SegmentError::TooShort`] when `buffer` has no room for the nonce and
/// [`SegmentError::Random`] when no randomness is available.
pub fn encrypt_segment_in_place(key: &DataKey, buffer: &mut Vec<u8>) -> Result<(), SegmentError> {
    if buffer.len() < GCM_NONCE_LEN {
        return Err(SegmentError::TooShort(buffer.len()));
    }
    let (nonce, plaintext) = buffer.split_at_mut(GCM_NONCE_LEN);
    getrandom::getrandom(nonce).map_err(SegmentError::Random)?;
    let cipher = Aes256Gcm::new(key.as_bytes().into());
    let tag = cipher
        .encrypt_in_place_detached(Nonce::from_slice(nonce), b"", plaintext)
        .map_err(|_| SegmentError::AuthenticationFailed)?;
    buffer.extend_from_slice(&tag);
    Ok(())
}

/// Decrypts one `nonce || ciphertext || tag` segment in place after checking
/// its tag, and returns the plaintext part of `encrypted`. On failure the
/// buffer holds unauthenticated bytes that must not be used.
///
/// # Errors
///
/// [`SegmentError::TooShort`] for fewer than 28 bytes and
/// [`SegmentError::AuthenticationFailed`] when the tag does not verify.
pub fn decrypt_segment_in_place<'a>(key: &DataKey, encrypted: &'a mut [u8]) -> Result<&'a [u8], SegmentError> {
    if encrypted.len() < SEGMENT_OVERHEAD as usize {
        return Err(SegmentError::TooShort(encrypted.len()));
    }
    let (nonce, rest) = encrypted.split_at_mut(GCM_NONCE_LEN);
    let (ciphertext, tag) = rest.split_at_mut(rest.len() - GCM_TAG_LEN);
    let cipher = Aes256Gcm::new(key.as_bytes().into());
    cipher
        .decrypt_in_place_detached(Nonce::from_slice(nonce), b"", ciphertext, Tag::from_slice(tag))
        .map_err(|_| SegmentError::AuthenticationFailed)?;
    Ok(ciphertext)
}

/// Decrypts one `nonce || ciphertext || tag` segment after checking its tag.
///
/// # Errors
///
/// [`SegmentError::TooShort`] for fewer than 28 bytes and
/// [`SegmentError::AuthenticationFailed`] when the tag does not verify.
pub fn decrypt_segment(key: &DataKey, encrypted: &[u8]) -> Result<Zeroizing<Vec<u8>>, SegmentError> {
    if encrypted.len() < SEGMENT_OVERHEAD as usize {
        return Err(SegmentError::TooShort(encrypted.len()));
    }
    let (nonce, sealed) = encrypted.split_at(GCM_NONCE_LEN);
    aes256gcm_open(key.as_bytes(), nonce, b"", sealed).map_err(|_| SegmentError::AuthenticationFailed)
}

/// Computes the GMAC segment hash: the GCM tag, the last 16 bytes.
///
/// # Errors
///
/// [`SegmentError::TooShort`] for fewer than 28 bytes.
pub fn gmac_hash(encrypted: &[u8]) -> Result<[u8; GCM_TAG_LEN], SegmentError> {
    if encrypted.len() < SEGMENT_OVERHEAD as usize {
        return Err(SegmentError::TooShort(encrypted.len()));
    }
    let mut tag = [0u8; GCM_TAG_LEN];
    tag.copy_from_slice(&encrypted[encrypted.len() - GCM_TAG_LEN..]);
    Ok(tag)
}

/// Computes HMAC-SHA256 under the data key: the `HS256` segment hash and
/// the root signature.
pub fn hmac_sha256(key: &DataKey, message: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).expect("HMAC-SHA256 accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Checks a decoded segment hash (raw or hex text) against the bytes it
/// should encode, in constant time.
pub fn hash_matches(stored: &[u8], expected: &[u8]) -> bool {
    let encoding = if stored.len() == expected.len() { HashEncoding::Raw } else { HashEncoding::Hex };
    let encoded = encoding.encode(expected);
    // Hex text may be uppercase in some writers; compare case-insensitively.
    let stored = if encoding == HashEncoding::Hex { stored.to_ascii_lowercase() } else { stored.to_vec() };
    stored.len() == encoded.len() && bool::from(stored.ct_eq(&encoded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_round_trip_and_tamper() {
        let key = DataKey::from_bytes([7; 32]);
        let encrypted = encrypt_segment(&key, b"segment text").expect("encrypt");
        assert_eq!(encrypted.len(), 12 + 12 + 16);
        assert_eq!(&*decrypt_segment(&key, &encrypted).expect("decrypt"), b"segment text");
        for index in 0..encrypted.len() {
            let mut tampered = encrypted.clone();
            tampered[index] ^= 0x01;
            assert!(decrypt_segment(&key, &tampered).is_err(), "byte {index}");
        }
        assert!(matches!(decrypt_segment(&key, &encrypted[..27]), Err(SegmentError::TooShort(27))));
        assert!(decrypt_segment(&DataKey::from_bytes([8; 32]), &encrypted).is_err());
    }

    #[test]
    fn in_place_functions_match_the_allocating_ones() {
        let key = DataKey::from_bytes([9; 32]);
        let mut buffer = Vec::new();
        encrypt_segment_into(&key, b"in place", &mut buffer).expect("encrypt");
        assert_eq!(&*decrypt_segment(&key, &buffer).expect("decrypt"), b"in place");
        let mut copy = buffer.clone();
        assert_eq!(decrypt_segment_in_place(&key, &mut copy).expect("decrypt in place"), b"in place");
        let mut tampered = buffer.clone();
        tampered[14] ^= 1;
        assert!(decrypt_segment_in_place(&key, &mut tampered).is_err());
        encrypt_segment_into(&key, b"", &mut buffer).expect("encrypt empty");
        assert_eq!(buffer.len(), 28);
        let mut in_place = vec![0u8; GCM_NONCE_LEN];
        in_place.extend_from_slice(b"in place");
        encrypt_segment_in_place(&key, &mut in_place).expect("encrypt in place");
        assert_eq!(in_place.len(), 12 + 8 + 16);
        assert_eq!(&*decrypt_segment(&key, &in_place).expect("decrypt"), b"in place");
        assert!(matches!(encrypt_segment_in_place(&key, &mut vec![0u8; 11]), Err(SegmentError::TooShort(11))));
    }

    #[test]
    fn nonces_differ() {
        let key = DataKey::from_bytes([7; 32]);
        let a = encrypt_segment(&key, b"x").expect("encrypt");
        let b = encrypt_segment(&key, b"x").expect("encrypt");
        assert_ne!(a[..12], b[..12]);
    }

    #[test]
    fn gmac_hash_is_the_tag_and_matches_both_encodings() {
        let key = DataKey::from_bytes([1; 32]);
        let encrypted = encrypt_segment(&key, b"").expect("encrypt");
        let tag = gmac_hash(&encrypted).expect("tag");
        assert_eq!(tag, encrypted[12..28]);
        assert!(hash_matches(&tag, &tag));
        assert!(hash_matches(hex::encode(tag).as_bytes(), &tag));
        assert!(hash_matches(hex::encode_upper(tag).as_bytes(), &tag));
        let mut wrong = tag;
        wrong[0] ^= 1;
        assert!(!hash_matches(&wrong, &tag));
        assert!(!hash_matches(&tag[..15], &tag));
    }
}
