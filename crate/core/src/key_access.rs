//! Key access: wrapping and unwrapping the payload key, and the policy binding.
//!
//! A ZTDF package encrypts its payload with one random AES-256 key, the data
//! key. Each key access object in the manifest carries that key wrapped for
//! one recipient:
//!
//! - `ec-wrapped` (what Valise writes): an ephemeral P-256 key agreement with
//!   the recipient's key, HKDF-SHA256, then AES-256-GCM over the data key.
//!   The layout matches the OpenTDF SDKs (`lib/ocrypto` in opentdf/platform),
//!   so stock files and ours open the same way.
//! - `wrapped` (stock OpenTDF files): RSA-OAEP to the recipient's RSA key.
//!
//! The policy binding ties the (base64) policy to the data key with
//! HMAC-SHA256, so a key access object cannot be moved to another policy.
//!
//! [`aes256gcm_open`] and [`aes256gcm_seal`] are the single AES-256-GCM
//! primitive of the crate: the key unwrap and the payload segments both go
//! through them.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use p256::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Length in bytes of the data key (AES-256).
pub const DATA_KEY_LEN: usize = 32;

/// Length in bytes of an AES-GCM nonce. Only the 96-bit nonce of NIST SP
/// 800-38D §8.2 is accepted: it is the only size ZTDF uses.
pub const GCM_NONCE_LEN: usize = 12;

/// Length in bytes of an AES-GCM authentication tag. Only the full 128-bit
/// tag is used; shorter tags are never produced or accepted.
pub const GCM_TAG_LEN: usize = 16;

/// SHA-256("TDF"), the HKDF salt of ec-wrapped key access objects
/// (`tdfSalt` in the OpenTDF SDKs).
pub const EC_WRAP_HKDF_SALT: [u8; 32] = [
    0xaa, 0x17, 0xcf, 0x44, 0x58, 0x5f, 0xe1, 0x5f, 0xd6, 0x34, 0xc2, 0x7b, 0x95, 0x12, 0xd8, 0x42,
    0xb4, 0x2a, 0xf1, 0xba, 0xc6, 0x17, 0x8d, 0x92, 0x16, 0x1e, 0xdb, 0x4e, 0x2a, 0xbf, 0x81, 0x97,
];

/// HKDF info of ec-wrapped key access objects: empty, as the OpenTDF SDKs
/// pass no info for TDF3 key wrapping.
pub const EC_WRAP_HKDF_INFO: &[u8] = b"";

/// Length in bytes of an ec-wrapped `wrappedKey`: nonce, encrypted data key
/// and tag (see [`EcWrapped`]).
pub const EC_WRAPPED_KEY_LEN: usize = GCM_NONCE_LEN + DATA_KEY_LEN + GCM_TAG_LEN;

/// Maximum length in characters of an `ephemeralPublicKey` value. A P-256
/// SPKI PEM is 178 characters; the bound only stops oversized input early.
const MAX_EPHEMERAL_KEY_TEXT_LEN: usize = 1024;

/// Errors from wrapping and unwrapping the data key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyAccessError {
    /// The wrapped key or the ephemeral public key is not well formed.
    #[error("malformed key access object: {0}")]
    Malformed(String),
    /// The key does not open this key access object, or the wrapped key was
    /// altered. Deliberately opaque.
    #[error("unwrap failed")]
    UnwrapFailed,
    /// AES-GCM authentication failed. Deliberately opaque.
    #[error("authentication failed")]
    AuthenticationFailed,
    /// An AES-GCM nonce has a size other than 12 bytes.
    #[error("unsupported AES-GCM nonce length {0} bytes, expected 12")]
    UnsupportedNonceLength(usize),
    /// An AES-GCM ciphertext is shorter than its 16-byte tag.
    #[error("AES-GCM ciphertext of {0} bytes is shorter than the 16-byte tag")]
    CiphertextTooShort(usize),
    /// A public key is not a valid P-256 point (not on the curve, the
    /// identity, another curve, or badly encoded).
    #[error("invalid P-256 public key: {0}")]
    InvalidPublicKey(String),
    /// HKDF was asked for more output than it can produce (255 blocks).
    #[error("HKDF output of {0} bytes is too long")]
    HkdfOutputTooLong(usize),
    /// The operating system's random number generator failed.
    #[error("random number generator failed: {0}")]
    Random(getrandom::Error),
    /// The key access object has a `type` other than `ec-wrapped` and
    /// `wrapped`.
    #[error("unsupported key access type {0:?}, expected \"ec-wrapped\" or \"wrapped\"")]
    UnsupportedType(String),
    /// The private key is of a type that cannot open this key access object.
    #[error("a {key} key cannot open a {key_access_type:?} key access object")]
    KeyTypeMismatch {
        /// The private key type, `P-256` or `RSA`.
        key: &'static str,
        /// The key access object's `type`.
        key_access_type: String,
    },
}

/// The 32-byte AES-256 payload key ("data key").
///
/// # Security
///
/// The bytes are zeroized on drop and `Debug` prints nothing of them.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; DATA_KEY_LEN]>);

impl DataKey {
    /// Generates a fresh random data key from the operating system's random
    /// number generator.
    ///
    /// # Errors
    ///
    /// Returns the `getrandom` error when no randomness is available.
    pub fn generate() -> Result<DataKey, getrandom::Error> {
        let mut bytes = Zeroizing::new([0u8; DATA_KEY_LEN]);
        getrandom::getrandom(bytes.as_mut())?;
        Ok(DataKey(bytes))
    }

    /// Wraps existing key bytes.
    pub fn from_bytes(bytes: [u8; DATA_KEY_LEN]) -> DataKey {
        DataKey(Zeroizing::new(bytes))
    }

    /// Returns the raw key bytes.
    pub fn as_bytes(&self) -> &[u8; DATA_KEY_LEN] {
        &self.0
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// An ec-wrapped data key, as written in a key access object.
///
/// `wrapped_key` (the manifest's `wrappedKey`, base64) is 60 bytes:
///
/// ```text
/// nonce (12) || AES-256-GCM ciphertext of the data key (32) || tag (16)
/// ```
///
/// The AES key is `HKDF-SHA256(salt = SHA-256("TDF"), ikm = x-coordinate of
/// ECDH(ephemeral, recipient), info = "")`, 32 bytes; there is no associated
/// data. `ephemeral_public_key_pem` (the manifest's `ephemeralPublicKey`) is
/// the ephemeral P-256 public key as an SPKI PEM ("BEGIN PUBLIC KEY").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EcWrapped {
    /// Nonce, ciphertext and tag (60 bytes).
    pub wrapped_key: Vec<u8>,
    /// The ephemeral public key, SPKI PEM with LF line endings.
    pub ephemeral_public_key_pem: String,
}

/// Wraps a data key for a P-256 recipient key (`ec-wrapped`).
///
/// # Errors
///
/// Returns [`KeyAccessError::Random`] when no randomness is available.
pub fn wrap_ec(recipient: &p256::PublicKey, key: &DataKey) -> Result<EcWrapped, KeyAccessError> {
    let ephemeral = random_secret_key()?;
    let shared = ecdh_raw(&ephemeral, recipient);
    let wrapping_key = derive_ec_wrapping_key(&shared)?;

    let mut nonce = [0u8; GCM_NONCE_LEN];
    getrandom::getrandom(&mut nonce).map_err(KeyAccessError::Random)?;
    let sealed = aes256gcm_seal(&wrapping_key, &nonce, b"", key.as_bytes())?;

    let mut wrapped_key = Vec::with_capacity(EC_WRAPPED_KEY_LEN);
    wrapped_key.extend_from_slice(&nonce);
    wrapped_key.extend_from_slice(&sealed);

    let ephemeral_public_key_pem = ephemeral
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| KeyAccessError::InvalidPublicKey(e.to_string()))?;
    Ok(EcWrapped {
        wrapped_key,
        ephemeral_public_key_pem,
    })
}

/// Unwraps an ec-wrapped data key with the recipient's P-256 private key.
///
/// # Errors
///
/// Returns [`KeyAccessError::Malformed`] when `wrapped_key` is not 60 bytes
/// and [`KeyAccessError::UnwrapFailed`] when authentication fails (wrong key
/// or altered data).
pub fn unwrap_ec(
    recipient: &p256::SecretKey,
    ephemeral_public_key: &p256::PublicKey,
    wrapped_key: &[u8],
) -> Result<DataKey, KeyAccessError> {
    if wrapped_key.len() != EC_WRAPPED_KEY_LEN {
        return Err(KeyAccessError::Malformed(format!(
            "ec-wrapped key is {} bytes, expected {EC_WRAPPED_KEY_LEN}",
            wrapped_key.len()
        )));
    }
    let shared = ecdh_raw(recipient, ephemeral_public_key);
    let wrapping_key = derive_ec_wrapping_key(&shared)?;

    let (nonce, sealed) = wrapped_key.split_at(GCM_NONCE_LEN);
    let plaintext = aes256gcm_open(&wrapping_key, nonce, b"", sealed)
        .map_err(|_| KeyAccessError::UnwrapFailed)?;
    data_key_from_slice(&plaintext).ok_or(KeyAccessError::UnwrapFailed)
}

/// Parses the `ephemeralPublicKey` of an ec-wrapped key access object.
///
/// Accepts an SPKI PEM (what OpenTDF and Valise write) and, for other
/// writers, base64 of an SPKI DER or of a SEC1 point (compressed or
/// uncompressed).
///
/// # Errors
///
/// Returns [`KeyAccessError::InvalidPublicKey`] when the text has none of
/// these or the point is not a valid P-256 public key.
pub fn parse_ephemeral_public_key(text: &str) -> Result<p256::PublicKey, KeyAccessError> {
    if text.len() > MAX_EPHEMERAL_KEY_TEXT_LEN {
        return Err(KeyAccessError::InvalidPublicKey(format!(
            "ephemeral public key text is {} characters, at most {MAX_EPHEMERAL_KEY_TEXT_LEN} allowed",
            text.len()
        )));
    }
    let trimmed = text.trim();
    if trimmed.starts_with("-----BEGIN") {
        return p256::PublicKey::from_public_key_pem(trimmed)
            .map_err(|e| KeyAccessError::InvalidPublicKey(format!("SPKI PEM: {e}")));
    }
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(trimmed)
        .map_err(|e| KeyAccessError::InvalidPublicKey(format!("not PEM and not base64: {e}")))?;
    parse_p256_public_key_bytes(&bytes)
}

/// Parses a P-256 public key given as SPKI DER or as a SEC1 point
/// (compressed or uncompressed). The point is checked to lie on the curve.
fn parse_p256_public_key_bytes(bytes: &[u8]) -> Result<p256::PublicKey, KeyAccessError> {
    // A DER SEQUENCE starts with 0x30; a SEC1 point starts with 0x02, 0x03 or 0x04.
    if bytes.first() == Some(&0x30) {
        p256::PublicKey::from_public_key_der(bytes)
            .map_err(|e| KeyAccessError::InvalidPublicKey(format!("SPKI DER: {e}")))
    } else {
        p256::PublicKey::from_sec1_bytes(bytes).map_err(|_| {
            KeyAccessError::InvalidPublicKey(format!(
                "{} bytes are not a valid SEC1 P-256 point",
                bytes.len()
            ))
        })
    }
}

/// Computes the raw ECDH shared secret (the x-coordinate) between a P-256
/// private key and a public key given as SPKI DER or SEC1 point bytes,
/// through the same parsing and key agreement as [`unwrap_ec`].
///
/// Exposed for the Wycheproof test suite.
///
/// # Errors
///
/// Returns [`KeyAccessError::InvalidPublicKey`] when the public key does not
/// parse or is not on P-256.
#[doc(hidden)]
pub fn ecdh_shared_secret(
    secret: &p256::SecretKey,
    public_key: &[u8],
) -> Result<Zeroizing<[u8; 32]>, KeyAccessError> {
    let public = parse_p256_public_key_bytes(public_key)?;
    Ok(ecdh_raw(secret, &public))
}

fn ecdh_raw(secret: &p256::SecretKey, public: &p256::PublicKey) -> Zeroizing<[u8; 32]> {
    let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public.as_affine());
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(shared.raw_secret_bytes());
    out
}

fn derive_ec_wrapping_key(shared: &[u8; 32]) -> Result<Zeroizing<[u8; 32]>, KeyAccessError> {
    let okm = hkdf_sha256(&EC_WRAP_HKDF_SALT, shared, EC_WRAP_HKDF_INFO, DATA_KEY_LEN)?;
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&okm);
    Ok(key)
}

/// Derives `len` bytes with HKDF-SHA256 (RFC 5869), extract then expand.
/// This is the HKDF call of the ec-wrapped key unwrap, exposed for the
/// Wycheproof test suite.
///
/// # Errors
///
/// Returns [`KeyAccessError::HkdfOutputTooLong`] when `len` exceeds
/// 255 × 32 bytes.
#[doc(hidden)]
pub fn hkdf_sha256(
    salt: &[u8],
    ikm: &[u8],
    info: &[u8],
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, KeyAccessError> {
    let hkdf = Hkdf::<Sha256>::new(Some(salt), ikm);
    let mut okm = Zeroizing::new(vec![0u8; len]);
    hkdf.expand(info, &mut okm)
        .map_err(|_| KeyAccessError::HkdfOutputTooLong(len))?;
    Ok(okm)
}

/// Generates a P-256 private key from the operating system's random number
/// generator, without the panicking `OsRng` path.
fn random_secret_key() -> Result<p256::SecretKey, KeyAccessError> {
    loop {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(bytes.as_mut()).map_err(KeyAccessError::Random)?;
        // Rejects zero and values not below the group order (probability
        // about 2^-32), in which case the loop draws again.
        if let Ok(key) = p256::SecretKey::from_slice(bytes.as_ref()) {
            return Ok(key);
        }
    }
}

fn data_key_from_slice(bytes: &[u8]) -> Option<DataKey> {
    let array: [u8; DATA_KEY_LEN] = bytes.try_into().ok()?;
    Some(DataKey::from_bytes(array))
}

/// Decrypts and authenticates AES-256-GCM: `ciphertext_and_tag` is the
/// ciphertext followed by the 16-byte tag.
///
/// Only 12-byte nonces and 16-byte tags are supported, the sizes ZTDF uses.
/// A shorter tag cannot be distinguished from ciphertext, so it fails
/// authentication.
///
/// # Errors
///
/// Returns [`KeyAccessError::UnsupportedNonceLength`] for a nonce that is
/// not 12 bytes, [`KeyAccessError::CiphertextTooShort`] when the input
/// cannot hold a tag, and [`KeyAccessError::AuthenticationFailed`] when the
/// tag does not verify.
pub fn aes256gcm_open(
    key: &[u8; 32],
    nonce: &[u8],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KeyAccessError> {
    if nonce.len() != GCM_NONCE_LEN {
        return Err(KeyAccessError::UnsupportedNonceLength(nonce.len()));
    }
    if ciphertext_and_tag.len() < GCM_TAG_LEN {
        return Err(KeyAccessError::CiphertextTooShort(ciphertext_and_tag.len()));
    }
    let cipher = Aes256Gcm::new(key.into());
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext_and_tag,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| KeyAccessError::AuthenticationFailed)
}

/// Encrypts with AES-256-GCM and returns the ciphertext followed by the
/// 16-byte tag. The caller supplies a nonce that is never reused with
/// this key.
///
/// # Errors
///
/// Returns [`KeyAccessError::UnsupportedNonceLength`] for a nonce that is
/// not 12 bytes.
pub fn aes256gcm_seal(
    key: &[u8; 32],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, KeyAccessError> {
    if nonce.len() != GCM_NONCE_LEN {
        return Err(KeyAccessError::UnsupportedNonceLength(nonce.len()));
    }
    let cipher = Aes256Gcm::new(key.into());
    cipher
        .encrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        // aes-gcm fails only for plaintexts over 2^36 - 32 bytes (64 GiB),
        // far above a data key or a payload segment.
        .map_err(|_| KeyAccessError::Malformed("plaintext too long for AES-GCM".to_owned()))
}

/// Unwraps a `wrapped` (RSA) data key: tries RSA-OAEP with SHA-1 and then
/// with SHA-256 (stock OpenTDF files use either; MGF1 uses the same hash).
///
/// # Errors
///
/// Returns [`KeyAccessError::Malformed`] when the wrapped key is not the
/// size of the modulus, and [`KeyAccessError::UnwrapFailed`] when neither
/// padding opens it or the result is not a 32-byte key.
///
/// # Panics
///
/// Panics if the operating system's random number generator fails, which
/// the RSA blinding draws from through `rand_core::OsRng`.
///
/// # Security
///
/// The RSA operation is blinded. Both paddings are tried before the result
/// is looked at, and the error does not say which one failed. Unwrapping
/// happens on the reader's machine, where no remote party can observe
/// padding failures. NOTE: `rsa` 0.9 is not constant time (RUSTSEC-2023-0071,
/// the Marvin attack), which matters only where an attacker can time many
/// decryptions, so never expose this function as a decryption service.
#[cfg(feature = "rsa")]
pub fn unwrap_rsa(
    recipient: &rsa::RsaPrivateKey,
    wrapped_key: &[u8],
) -> Result<DataKey, KeyAccessError> {
    use rsa::traits::PublicKeyParts;
    let modulus_len = recipient.size();
    if wrapped_key.len() != modulus_len {
        return Err(KeyAccessError::Malformed(format!(
            "RSA-wrapped key is {} bytes, expected {modulus_len} (the modulus size)",
            wrapped_key.len()
        )));
    }
    let mut rng = rand_core::OsRng;
    let attempts = [
        recipient.decrypt_blinded(&mut rng, rsa::Oaep::new::<sha1::Sha1>(), wrapped_key),
        recipient.decrypt_blinded(&mut rng, rsa::Oaep::new::<Sha256>(), wrapped_key),
    ];
    let plaintext = attempts
        .into_iter()
        .flatten()
        .next()
        .map(Zeroizing::new)
        .ok_or(KeyAccessError::UnwrapFailed)?;
    data_key_from_slice(&plaintext).ok_or(KeyAccessError::UnwrapFailed)
}

/// The `type` of a key access object wrapped with ECDH on P-256.
pub const KEY_ACCESS_TYPE_EC_WRAPPED: &str = "ec-wrapped";

/// The `type` of a key access object wrapped with RSA-OAEP.
pub const KEY_ACCESS_TYPE_WRAPPED: &str = "wrapped";

/// Unwraps the data key of one key access object with a private key of
/// either type: [`unwrap_ec`] for `ec-wrapped` (which needs the
/// `ephemeralPublicKey` text) and [`unwrap_rsa`] for `wrapped`.
///
/// # Errors
///
/// Returns [`KeyAccessError::UnsupportedType`] for other object types,
/// [`KeyAccessError::KeyTypeMismatch`] when the key cannot open this type
/// of object, [`KeyAccessError::Malformed`] or
/// [`KeyAccessError::InvalidPublicKey`] for a missing or invalid ephemeral
/// key, and the errors of [`unwrap_ec`] and [`unwrap_rsa`].
///
/// # Panics
///
/// As [`unwrap_rsa`], when the operating system's random number generator
/// fails.
pub fn unwrap_with(
    key: &crate::keys::PrivateKey,
    key_access_type: &str,
    wrapped_key: &[u8],
    ephemeral_public_key: Option<&str>,
) -> Result<DataKey, KeyAccessError> {
    use crate::keys::PrivateKey;
    match (key_access_type, key) {
        (KEY_ACCESS_TYPE_EC_WRAPPED, PrivateKey::P256(secret)) => {
            let text = ephemeral_public_key.ok_or_else(|| {
                KeyAccessError::Malformed("ec-wrapped object has no ephemeralPublicKey".to_owned())
            })?;
            let ephemeral = parse_ephemeral_public_key(text)?;
            unwrap_ec(secret, &ephemeral, wrapped_key)
        }
        #[cfg(feature = "rsa")]
        (KEY_ACCESS_TYPE_WRAPPED, PrivateKey::Rsa(private)) => unwrap_rsa(private, wrapped_key),
        (KEY_ACCESS_TYPE_WRAPPED, PrivateKey::P256(_)) => Err(KeyAccessError::KeyTypeMismatch {
            key: "P-256",
            key_access_type: key_access_type.to_owned(),
        }),
        #[cfg(feature = "rsa")]
        (KEY_ACCESS_TYPE_EC_WRAPPED, PrivateKey::Rsa(_)) => Err(KeyAccessError::KeyTypeMismatch {
            key: "RSA",
            key_access_type: key_access_type.to_owned(),
        }),
        (other, _) => Err(KeyAccessError::UnsupportedType(other.to_owned())),
    }
}

/// Computes the policy binding: HMAC-SHA256 keyed with the data key over the
/// base64 policy string exactly as the manifest contains it.
pub fn policy_binding(key: &DataKey, policy_base64: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .expect("HMAC-SHA256 accepts keys of any length");
    mac.update(policy_base64.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Length of a policy binding written as lowercase or uppercase hex, the
/// encoding of files without a top-level `schemaVersion` (before 4.3.0).
const HEX_BINDING_LEN: usize = 64;

/// Checks a policy binding. `binding` is the manifest's
/// `policyBinding.hash` after base64 decoding: either the raw 32-byte HMAC
/// or its 64-character hex text (legacy files).
///
/// # Security
///
/// The comparison runs in constant time.
pub fn verify_policy_binding(key: &DataKey, policy_base64: &str, binding: &[u8]) -> bool {
    let expected = policy_binding(key, policy_base64);
    let given: [u8; 32] = match binding.len() {
        32 => match binding.try_into() {
            Ok(raw) => raw,
            Err(_) => return false,
        },
        HEX_BINDING_LEN => {
            let mut decoded = [0u8; 32];
            // The hex text comes from the manifest and is public, so a
            // data-dependent decoder leaks nothing secret.
            if hex::decode_to_slice(binding, &mut decoded).is_err() {
                return false;
            }
            decoded
        }
        _ => return false,
    };
    expected.ct_eq(&given).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    use sha2::Digest;

    fn random_p256() -> p256::SecretKey {
        random_secret_key().expect("randomness available in tests")
    }

    #[test]
    fn salt_is_sha256_of_tdf() {
        assert_eq!(EC_WRAP_HKDF_SALT, <[u8; 32]>::from(Sha256::digest(b"TDF")));
    }

    #[test]
    fn data_key_debug_is_redacted() {
        let key = DataKey::from_bytes([0xab; 32]);
        let shown = format!("{key:?}");
        assert!(!shown.contains("ab"), "{shown}");
        assert!(!shown.contains("171"), "{shown}");
    }

    #[test]
    fn data_keys_are_random() {
        let a = DataKey::generate().expect("random");
        let b = DataKey::generate().expect("random");
        assert_ne!(a.as_bytes(), b.as_bytes());
    }

    #[test]
    fn ec_wrap_round_trip() {
        let recipient = random_p256();
        let key = DataKey::generate().expect("random");
        let wrapped = wrap_ec(&recipient.public_key(), &key).expect("wrap");
        assert_eq!(wrapped.wrapped_key.len(), EC_WRAPPED_KEY_LEN);
        assert!(wrapped
            .ephemeral_public_key_pem
            .starts_with("-----BEGIN PUBLIC KEY-----\n"));

        let ephemeral =
            parse_ephemeral_public_key(&wrapped.ephemeral_public_key_pem).expect("parse");
        let unwrapped = unwrap_ec(&recipient, &ephemeral, &wrapped.wrapped_key).expect("unwrap");
        assert_eq!(unwrapped.as_bytes(), key.as_bytes());
    }

    #[test]
    fn ec_unwrap_independent_vector() {
        // Written by Python `cryptography` 48.0.0 (OpenSSL): recipient scalar
        // 0x4141...41, ephemeral scalar 0x4242...42, ECDH, HKDF-SHA256 with
        // salt SHA-256("TDF") and empty info, AES-256-GCM with nonce
        // 000102...0b over the data key 00 01 02 ... 1f.
        let recipient = p256::SecretKey::from_slice(&[0x41; 32]).expect("valid scalar");
        let ephemeral = parse_ephemeral_public_key(
            "-----BEGIN PUBLIC KEY-----\n\
             MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOtOGGpViE5JRa7WT7wVYPtLlhm9c\n\
             tiYKMBcjf9ibkK/Qlhx+NwdaZ5GjnGH1YpWwK20mVnthXmCqQe4cjoM4jQ==\n\
             -----END PUBLIC KEY-----\n",
        )
        .expect("parse");
        let wrapped = base64::engine::general_purpose::STANDARD
            .decode(
                "AAECAwQFBgcICQoLFDKgCx0c5N9ZwyJhiBEErDJTB6i3PQ3opfN5nGaHG2f0J97tIvPTXxikHp4eXFgb",
            )
            .expect("base64");
        let key = unwrap_ec(&recipient, &ephemeral, &wrapped).expect("unwraps");
        let expected: Vec<u8> = (0u8..32).collect();
        assert_eq!(key.as_bytes().as_slice(), expected.as_slice());

        let mut tampered = wrapped.clone();
        tampered[20] ^= 0x01;
        assert!(matches!(
            unwrap_ec(&recipient, &ephemeral, &tampered),
            Err(KeyAccessError::UnwrapFailed)
        ));
    }

    #[test]
    fn unwrap_with_dispatches_on_type() {
        use crate::keys::PrivateKey;
        let recipient = random_p256();
        let key = DataKey::generate().expect("random");
        let wrapped = wrap_ec(&recipient.public_key(), &key).expect("wrap");
        let private = PrivateKey::P256(recipient);
        let unwrapped = unwrap_with(
            &private,
            KEY_ACCESS_TYPE_EC_WRAPPED,
            &wrapped.wrapped_key,
            Some(&wrapped.ephemeral_public_key_pem),
        )
        .expect("unwraps");
        assert_eq!(unwrapped.as_bytes(), key.as_bytes());

        let missing = unwrap_with(
            &private,
            KEY_ACCESS_TYPE_EC_WRAPPED,
            &wrapped.wrapped_key,
            None,
        );
        assert!(matches!(missing, Err(KeyAccessError::Malformed(_))));
        let mismatch = unwrap_with(
            &private,
            KEY_ACCESS_TYPE_WRAPPED,
            &wrapped.wrapped_key,
            None,
        );
        assert!(matches!(
            mismatch,
            Err(KeyAccessError::KeyTypeMismatch { key: "P-256", .. })
        ));
        let remote = unwrap_with(&private, "remote", &wrapped.wrapped_key, None);
        assert!(matches!(remote, Err(KeyAccessError::UnsupportedType(t)) if t == "remote"));

        #[cfg(feature = "rsa")]
        {
            let rsa = PrivateKey::Rsa(golden_rsa_key());
            let rsa_on_ec = unwrap_with(
                &rsa,
                KEY_ACCESS_TYPE_EC_WRAPPED,
                &wrapped.wrapped_key,
                Some(&wrapped.ephemeral_public_key_pem),
            );
            assert!(matches!(
                rsa_on_ec,
                Err(KeyAccessError::KeyTypeMismatch { key: "RSA", .. })
            ));
        }
    }

    #[test]
    fn ec_unwrap_tampered_fails() {
        let recipient = random_p256();
        let key = DataKey::generate().expect("random");
        let wrapped = wrap_ec(&recipient.public_key(), &key).expect("wrap");
        let ephemeral =
            parse_ephemeral_public_key(&wrapped.ephemeral_public_key_pem).expect("parse");
        for index in [0, GCM_NONCE_LEN, EC_WRAPPED_KEY_LEN - 1] {
            let mut tampered = wrapped.wrapped_key.clone();
            tampered[index] ^= 0x01;
            let result = unwrap_ec(&recipient, &ephemeral, &tampered);
            assert!(
                matches!(result, Err(KeyAccessError::UnwrapFailed)),
                "byte {index}"
            );
        }
    }

    #[test]
    fn ec_unwrap_wrong_key_fails() {
        let recipient = random_p256();
        let other = random_p256();
        let key = DataKey::generate().expect("random");
        let wrapped = wrap_ec(&recipient.public_key(), &key).expect("wrap");
        let ephemeral =
            parse_ephemeral_public_key(&wrapped.ephemeral_public_key_pem).expect("parse");
        let result = unwrap_ec(&other, &ephemeral, &wrapped.wrapped_key);
        assert!(matches!(result, Err(KeyAccessError::UnwrapFailed)));
    }

    #[test]
    fn ec_unwrap_wrong_ephemeral_key_fails() {
        let recipient = random_p256();
        let key = DataKey::generate().expect("random");
        let wrapped = wrap_ec(&recipient.public_key(), &key).expect("wrap");
        let result = unwrap_ec(
            &recipient,
            &random_p256().public_key(),
            &wrapped.wrapped_key,
        );
        assert!(matches!(result, Err(KeyAccessError::UnwrapFailed)));
    }

    #[test]
    fn ec_unwrap_rejects_wrong_length() {
        let recipient = random_p256();
        let ephemeral = random_p256().public_key();
        for len in [0, 44, 59, 61] {
            let result = unwrap_ec(&recipient, &ephemeral, &vec![0u8; len]);
            assert!(
                matches!(result, Err(KeyAccessError::Malformed(_))),
                "len {len}"
            );
        }
    }

    #[test]
    fn ephemeral_key_accepts_sec1_and_der() {
        let public = random_p256().public_key();
        let engine = base64::engine::general_purpose::STANDARD;
        let compressed = engine.encode(public.to_encoded_point(true).as_bytes());
        let uncompressed = engine.encode(public.to_encoded_point(false).as_bytes());
        let der = engine.encode(public.to_public_key_der().expect("der").as_bytes());
        for text in [compressed, uncompressed, der] {
            assert_eq!(parse_ephemeral_public_key(&text).expect("parse"), public);
        }
    }

    #[test]
    fn ephemeral_key_rejects_point_off_curve() {
        let public = random_p256().public_key();
        let mut point = public.to_encoded_point(false).as_bytes().to_vec();
        point[64] ^= 0x01;
        let text = base64::engine::general_purpose::STANDARD.encode(&point);
        assert!(matches!(
            parse_ephemeral_public_key(&text),
            Err(KeyAccessError::InvalidPublicKey(_))
        ));
    }

    #[test]
    fn ephemeral_key_rejects_oversized_text() {
        let text = "A".repeat(MAX_EPHEMERAL_KEY_TEXT_LEN + 1);
        assert!(parse_ephemeral_public_key(&text).is_err());
    }

    #[test]
    fn stock_ec_wrapped_ephemeral_key_parses() {
        // The `ephemeralPublicKey` of the stock OpenTDF sample
        // `platform-sample-ec-wrapped.tdf` (opentdf/platform `sample.tdf`).
        let pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEkL/I/RObRv7R0uSnl5W1Rx6EiHsi\nzsg13dcbsOJ3ZD3vEOJcXv5hOh126CI9Un6poPzUIyHRzsQfcdWQx5+hfw==\n-----END PUBLIC KEY-----\n";
        assert!(parse_ephemeral_public_key(pem).is_ok());
    }

    #[test]
    fn ephemeral_key_accepts_crlf_pem() {
        let public = random_p256().public_key();
        let pem = public.to_public_key_pem(LineEnding::CRLF).expect("PEM");
        assert!(pem.contains("\r\n"));
        assert_eq!(parse_ephemeral_public_key(&pem).expect("parse"), public);
    }

    #[test]
    fn gcm_round_trip_and_tamper() {
        let key = [7u8; 32];
        let nonce = [9u8; 12];
        let sealed = aes256gcm_seal(&key, &nonce, b"aad", b"secret text").expect("seal");
        assert_eq!(sealed.len(), 11 + GCM_TAG_LEN);
        let opened = aes256gcm_open(&key, &nonce, b"aad", &sealed).expect("open");
        assert_eq!(opened.as_slice(), b"secret text");

        let mut tampered = sealed.clone();
        tampered[0] ^= 0x80;
        assert!(matches!(
            aes256gcm_open(&key, &nonce, b"aad", &tampered),
            Err(KeyAccessError::AuthenticationFailed)
        ));
        assert!(matches!(
            aes256gcm_open(&key, &nonce, b"other", &sealed),
            Err(KeyAccessError::AuthenticationFailed)
        ));
    }

    #[test]
    fn gcm_rejects_other_nonce_sizes() {
        let key = [7u8; 32];
        for len in [0, 8, 11, 13, 16] {
            assert!(matches!(
                aes256gcm_open(&key, &vec![0u8; len], b"", &[0u8; 32]),
                Err(KeyAccessError::UnsupportedNonceLength(n)) if n == len
            ));
            assert!(aes256gcm_seal(&key, &vec![0u8; len], b"", b"x").is_err());
        }
        assert!(matches!(
            aes256gcm_open(&key, &[0u8; 12], b"", &[0u8; 15]),
            Err(KeyAccessError::CiphertextTooShort(15))
        ));
    }

    #[test]
    fn hkdf_rfc5869_case_1() {
        // RFC 5869 appendix A.1.
        let ikm = [0x0b; 22];
        let salt = hex::decode("000102030405060708090a0b0c").expect("hex");
        let info = hex::decode("f0f1f2f3f4f5f6f7f8f9").expect("hex");
        let okm = hkdf_sha256(&salt, &ikm, &info, 42).expect("hkdf");
        assert_eq!(
            hex::encode(okm.as_slice()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
        assert!(matches!(
            hkdf_sha256(&salt, &ikm, &info, 255 * 32 + 1),
            Err(KeyAccessError::HkdfOutputTooLong(_))
        ));
    }

    #[test]
    fn policy_binding_accepts_raw_and_hex() {
        let key = DataKey::from_bytes([3u8; 32]);
        let policy = "eyJ1dWlkIjoiYSJ9";
        let raw = policy_binding(&key, policy);
        assert!(verify_policy_binding(&key, policy, &raw));
        let lower = hex::encode(raw);
        assert!(verify_policy_binding(&key, policy, lower.as_bytes()));
        let upper = lower.to_uppercase();
        assert!(verify_policy_binding(&key, policy, upper.as_bytes()));
    }

    #[test]
    fn policy_binding_rejects_tampering() {
        let key = DataKey::from_bytes([3u8; 32]);
        let policy = "eyJ1dWlkIjoiYSJ9";
        let raw = policy_binding(&key, policy);
        assert!(!verify_policy_binding(&key, "eyJ1dWlkIjoiYiJ9", &raw));
        assert!(!verify_policy_binding(
            &DataKey::from_bytes([4u8; 32]),
            policy,
            &raw
        ));
        let mut flipped = raw;
        flipped[31] ^= 1;
        assert!(!verify_policy_binding(&key, policy, &flipped));
        let mut hex_text = hex::encode(raw).into_bytes();
        hex_text[0] = b'z';
        assert!(!verify_policy_binding(&key, policy, &hex_text));
        assert!(!verify_policy_binding(&key, policy, &raw[..31]));
        assert!(!verify_policy_binding(&key, policy, b""));
    }

    #[cfg(feature = "rsa")]
    fn golden_dir() -> std::path::PathBuf {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/opentdf/golden");
        assert!(dir.exists(), "OpenTDF golden files not found at {}", dir.display());
        dir
    }

    #[cfg(feature = "rsa")]
    fn golden_rsa_key() -> rsa::RsaPrivateKey {
        let pem =
            std::fs::read_to_string(golden_dir().join("golden-r1.pem")).expect("golden-r1.pem");
        <rsa::RsaPrivateKey as rsa::pkcs8::DecodePrivateKey>::from_pkcs8_pem(&pem).expect("RSA key")
    }

    /// Reads `0.manifest.json` out of a stored (uncompressed) ZIP entry
    /// without a ZIP library: enough for the stock golden files.
    #[cfg(feature = "rsa")]
    fn manifest_of(tdf: &[u8]) -> serde_json::Value {
        let name = b"0.manifest.json";
        let mut offset = 0;
        while offset + 30 <= tdf.len() {
            if tdf[offset..offset + 4] == [0x50, 0x4b, 0x03, 0x04] {
                let u16_at = |i: usize| u16::from_le_bytes([tdf[i], tdf[i + 1]]) as usize;
                let name_len = u16_at(offset + 26);
                let extra_len = u16_at(offset + 28);
                let entry_name = &tdf[offset + 30..offset + 30 + name_len];
                let data_start = offset + 30 + name_len + extra_len;
                if entry_name == name {
                    assert_eq!(u16_at(offset + 8), 0, "manifest entry is stored");
                    let mut de = serde_json::Deserializer::from_slice(&tdf[data_start..]);
                    return serde::Deserialize::deserialize(&mut de).expect("manifest JSON");
                }
            }
            offset += 1;
        }
        panic!("no 0.manifest.json in the file");
    }

    #[test]
    #[cfg(feature = "rsa")]
    fn golden_rsa_unwrap_and_binding() {
        let private = golden_rsa_key();
        let tdf =
            std::fs::read(golden_dir().join("small-java-4.3.0-e0f8caf.tdf")).expect("golden file");
        let manifest = manifest_of(&tdf);
        let info = &manifest["encryptionInformation"];
        let policy = info["policy"].as_str().expect("policy");
        let kao = &info["keyAccess"][0];
        let engine = base64::engine::general_purpose::STANDARD;
        let wrapped = engine
            .decode(kao["wrappedKey"].as_str().expect("wrappedKey"))
            .expect("base64");
        let binding = engine
            .decode(kao["policyBinding"]["hash"].as_str().expect("hash"))
            .expect("base64");

        let key = unwrap_rsa(&private, &wrapped).expect("golden key unwraps");
        assert!(verify_policy_binding(&key, policy, &binding));

        let mut tampered = wrapped.clone();
        tampered[100] ^= 0x01;
        assert!(matches!(
            unwrap_rsa(&private, &tampered),
            Err(KeyAccessError::UnwrapFailed)
        ));
        assert!(matches!(
            unwrap_rsa(&private, &wrapped[1..]),
            Err(KeyAccessError::Malformed(_))
        ));
        let mut other_policy = policy.to_owned();
        other_policy.push('A');
        assert!(!verify_policy_binding(&key, &other_policy, &binding));
    }

    #[test]
    #[cfg(feature = "rsa")]
    fn golden_files_unwrap_and_bind() {
        let private = crate::keys::PrivateKey::Rsa(golden_rsa_key());
        let engine = base64::engine::general_purpose::STANDARD;
        let mut opened = 0;
        for entry in std::fs::read_dir(golden_dir()).expect("golden folder") {
            let path = entry.expect("folder entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("tdf") {
                continue;
            }
            let manifest = manifest_of(&std::fs::read(&path).expect("golden file"));
            let info = &manifest["encryptionInformation"];
            let policy = info["policy"].as_str().expect("policy");
            let mut file_opened = false;
            for kao in info["keyAccess"].as_array().expect("keyAccess") {
                let wrapped = engine
                    .decode(kao["wrappedKey"].as_str().expect("wrappedKey"))
                    .expect("base64");
                let binding = engine
                    .decode(kao["policyBinding"]["hash"].as_str().expect("hash"))
                    .expect("base64");
                let kind = kao["type"].as_str().expect("type");
                // Splits for other key access servers carry short wrapped
                // keys that this RSA key cannot open.
                match unwrap_with(&private, kind, &wrapped, None) {
                    Ok(key) => {
                        assert!(
                            verify_policy_binding(&key, policy, &binding),
                            "{}: policy binding",
                            path.display()
                        );
                        file_opened = true;
                    }
                    Err(KeyAccessError::Malformed(_)) => {}
                    Err(e) => panic!("{}: {e}", path.display()),
                }
            }
            assert!(
                file_opened,
                "{}: no key access object opened",
                path.display()
            );
            opened += 1;
        }
        assert_eq!(opened, 5, "expected the five stock golden files");
    }

    #[test]
    #[cfg(feature = "rsa")]
    fn rsa_unwrap_sha256_oaep() {
        let private = golden_rsa_key();
        let public = private.to_public_key();
        let key = DataKey::from_bytes([0x5a; 32]);
        let mut rng = rand_core::OsRng;
        let wrapped = public
            .encrypt(&mut rng, rsa::Oaep::new::<Sha256>(), key.as_bytes())
            .expect("encrypt");
        assert_eq!(
            unwrap_rsa(&private, &wrapped).expect("unwrap").as_bytes(),
            key.as_bytes()
        );
    }

    proptest::proptest! {
        #[test]
        fn ephemeral_key_parse_never_panics(text in "\\PC{0,200}") {
            let _ = parse_ephemeral_public_key(&text);
        }

        #[test]
        fn ec_unwrap_rejects_random_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, EC_WRAPPED_KEY_LEN)) {
            let recipient = p256::SecretKey::from_slice(&[0x31; 32]).expect("valid scalar");
            let ephemeral = p256::SecretKey::from_slice(&[0x32; 32]).expect("valid scalar").public_key();
            proptest::prop_assert!(matches!(
                unwrap_ec(&recipient, &ephemeral, &bytes),
                Err(KeyAccessError::UnwrapFailed)
            ));
        }
    }
}
