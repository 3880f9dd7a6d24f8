//! Key files: PKCS#8, SEC1 and SPKI PEM, plain or passphrase-encrypted.
//!
//! Private keys are read from what OpenSSL 3 writes (`openssl genpkey`,
//! `openssl pkcs8 -topk8 -v2 aes-256-cbc`, `openssl ec`) and written so
//! that OpenSSL reads them back. Encrypted files use PBES2 (RFC 8018 §6.2):
//! PBKDF2 (HMAC with SHA-1 or SHA-2) or scrypt to derive the key, AES-CBC to
//! encrypt the PKCS#8 structure. Decryption needs the `pbes2` feature; a
//! build without it parses encrypted files with
//! [`read_encrypted_private_key_pem`] and leaves the decryption to its
//! caller ([`encrypted`]).

pub mod encrypted;

pub use encrypted::{
    private_key_from_decrypted_pkcs8, read_encrypted_private_key_pem, EncryptedPrivateKey,
    KeyDerivation, Pbkdf2Hash,
};

use crate::jws::{base64url_encode, coordinates};
use p256::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use pkcs8::der::asn1::ObjectIdentifier;
#[cfg(feature = "pbes2")]
use pkcs8::pkcs5::pbes2;
use pkcs8::LineEnding;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// PBKDF2-HMAC-SHA256 iteration count of the key files Valise writes.
///
/// 600,000 is the OWASP Password Storage Cheat Sheet figure for
/// PBKDF2-HMAC-SHA256: it makes each passphrase guess cost as much as
/// 600,000 HMAC computations while an unlock stays under a second, even in
/// the browser.
/// Measured with `cargo test -p valise-core --test key_files unlock_timing
/// -- --ignored --nocapture` on a shared two-core AMD EPYC Linux machine,
/// fastest of 3 unlocks: 115 ms in a debug build (dependencies are built
/// with opt-level 2) and 93 ms in a release build (opt-level 3, LTO off).
/// In WebAssembly (a small cdylib calling [`read_private_key_pem`], built
/// for `wasm32-unknown-unknown` with opt-level 3 and LTO, run in Node.js
/// 20 on the same machine) one unlock took 769 ms, the cost a browser pays
/// once per session.
pub const PBKDF2_ITERATIONS: u32 = 600_000;

/// Maximum PBKDF2 iteration count accepted when reading: RFC 8018 §4.2
/// names 10,000,000 for especially critical keys. Larger counts only serve
/// to stall the reader.
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// Maximum scrypt memory (128 · r · N bytes, RFC 7914 §2) accepted when
/// reading: 256 MiB, which a browser tab can still allocate. OpenSSL's
/// default (N = 16384, r = 8) needs 16 MiB.
pub const MAX_SCRYPT_MEMORY: u64 = 256 * 1024 * 1024;

/// Maximum scrypt parallelization `p` accepted when reading.
pub const MAX_SCRYPT_PARALLELIZATION: u16 = 16;

/// Maximum length in bytes of a PEM key file. An RSA-8192 private key is
/// about 6.4 KB of PEM, so anything beyond this is not a key file.
pub const MAX_KEY_FILE_LEN: usize = 64 * 1024;

/// Minimum RSA modulus size in bits accepted when reading.
pub const MIN_RSA_BITS: usize = 2048;

/// Length in bytes of the PBKDF2 salt written (RFC 8018 §4.1 recommends at
/// least 8).
#[cfg(feature = "pbes2")]
const PBKDF2_SALT_LEN: usize = 16;

/// `id-ecPublicKey` (RFC 5480 §2.1.1).
const EC_PUBLIC_KEY_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `secp256r1`, the named curve P-256 (RFC 5480 §2.1.1.1).
const P256_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// `rsaEncryption` (RFC 8017 appendix C).
const RSA_ENCRYPTION_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// PEM labels (RFC 7468 and SEC1).
const LABEL_PRIVATE_KEY: &str = "PRIVATE KEY";
const LABEL_ENCRYPTED_PRIVATE_KEY: &str = "ENCRYPTED PRIVATE KEY";
const LABEL_EC_PRIVATE_KEY: &str = "EC PRIVATE KEY";
const LABEL_RSA_PRIVATE_KEY: &str = "RSA PRIVATE KEY";
const LABEL_PUBLIC_KEY: &str = "PUBLIC KEY";
/// The PEM labels of the private key files read.
const PRIVATE_KEY_LABELS: [&str; 4] = [
    LABEL_PRIVATE_KEY,
    LABEL_ENCRYPTED_PRIVATE_KEY,
    LABEL_EC_PRIVATE_KEY,
    LABEL_RSA_PRIVATE_KEY,
];

/// Errors from reading and writing key files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file is encrypted and no passphrase was given.
    #[error("the key file is encrypted and needs a passphrase")]
    PassphraseRequired,
    /// The passphrase does not decrypt the file.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// An empty passphrase was given for writing.
    #[error("the passphrase is empty")]
    EmptyPassphrase,
    /// The key type, curve, cipher or key derivation is not supported.
    #[error("unsupported key or algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The file is not a well-formed PEM key.
    #[error("malformed key file: {0}")]
    Malformed(String),
    /// The file is longer than [`MAX_KEY_FILE_LEN`].
    #[error("key file of {len} bytes exceeds the maximum of {max} bytes")]
    TooLarge {
        /// Length of the input.
        len: usize,
        /// The maximum accepted.
        max: usize,
    },
    /// The file contains an RSA key, and this build of the core was compiled
    /// without its `rsa` feature (the browser viewer reads P-256 keys only).
    #[error("RSA keys are not supported by this build, which reads P-256 keys only")]
    RsaNotBuilt,
    /// A key file is encrypted, and this build of the core was compiled
    /// without its `pbes2` feature: the caller decrypts it with
    /// [`read_encrypted_private_key_pem`] and
    /// [`private_key_from_decrypted_pkcs8`].
    #[error("this build does not decrypt or encrypt key files (the core's `pbes2` feature is off)")]
    Pbes2NotBuilt,
    /// A key file contains a plain private key where an encrypted one was
    /// expected.
    #[error("the key file is not encrypted with a passphrase")]
    NotEncrypted,
    /// The operating system's random number generator failed.
    #[error("random number generator failed: {0}")]
    Random(getrandom::Error),
}

/// A private key read from a key file.
///
/// # Security
///
/// Both key types zeroize their secret on drop; `Debug` prints only the
/// key type.
#[allow(
    clippy::large_enum_variant,
    reason = "a key is loaded once per session, so the size of the RSA variant does not matter"
)]
pub enum PrivateKey {
    /// A P-256 key (ECDH key access and ES256 signing).
    P256(p256::SecretKey),
    /// An RSA key (the `wrapped` key access objects of stock OpenTDF files).
    #[cfg(feature = "rsa")]
    Rsa(rsa::RsaPrivateKey),
}

impl PrivateKey {
    /// Returns the P-256 key, or `None` for an RSA key.
    pub fn into_p256(self) -> Option<p256::SecretKey> {
        match self {
            PrivateKey::P256(key) => Some(key),
            #[cfg(feature = "rsa")]
            PrivateKey::Rsa(_) => None,
        }
    }

    /// Returns the matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::P256(key) => PublicKey::P256(key.public_key()),
            #[cfg(feature = "rsa")]
            PrivateKey::Rsa(key) => PublicKey::Rsa(key.to_public_key()),
        }
    }
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrivateKey::P256(_) => f.write_str("PrivateKey::P256(<redacted>)"),
            #[cfg(feature = "rsa")]
            PrivateKey::Rsa(_) => f.write_str("PrivateKey::Rsa(<redacted>)"),
        }
    }
}

/// A public key read from an SPKI ("PUBLIC KEY") PEM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    /// A P-256 public key.
    P256(p256::PublicKey),
    /// An RSA public key.
    #[cfg(feature = "rsa")]
    Rsa(rsa::RsaPublicKey),
}

/// Reads a private key from PEM text: PKCS#8 "PRIVATE KEY" or "ENCRYPTED
/// PRIVATE KEY" (PBES2 with PBKDF2 or scrypt, and AES-CBC), as
/// written by OpenSSL 3 and by [`write_private_key_pem`], SEC1 "EC PRIVATE
/// KEY" and PKCS#1 "RSA PRIVATE KEY". Keys are P-256 or RSA of at least
/// 2048 bits. Other PEM blocks in the file, such as "EC PARAMETERS" or a
/// certificate, are ignored.
///
/// # Errors
///
/// - [`KeyFileError::PassphraseRequired`]: the file is encrypted and
///   `passphrase` is `None`.
/// - [`KeyFileError::WrongPassphrase`]: the decryption fails its padding
///   check or yields no valid PKCS#8 structure.
/// - [`KeyFileError::UnsupportedAlgorithm`]: another curve or key type, a
///   cipher or key derivation other than the above, legacy OpenSSL PEM
///   encryption (`Proc-Type` headers), or key derivation parameters above
///   [`MAX_PBKDF2_ITERATIONS`] or [`MAX_SCRYPT_MEMORY`].
/// - [`KeyFileError::Malformed`] and [`KeyFileError::TooLarge`]: not a PEM
///   key file.
/// - [`KeyFileError::Pbes2NotBuilt`]: an encrypted file in a build without
///   the `pbes2` feature.
///
/// # Security
///
/// The decoded DER and the decrypted key bytes are zeroized on drop.
/// Valise keeps no copy of the passphrase, so the caller stays responsible
/// for zeroizing its own buffer. NOTE: `pkcs5` 0.7 leaves the derived
/// AES key in a stack buffer it does not zeroize.
pub fn read_private_key_pem(
    pem: &str,
    passphrase: Option<&[u8]>,
) -> Result<PrivateKey, KeyFileError> {
    let (label, der) = decode_single_pem(pem, &PRIVATE_KEY_LABELS)?;
    match label.as_str() {
        LABEL_PRIVATE_KEY => private_key_from_pkcs8(&der).map_err(|e| match e {
            KeyFileError::WrongPassphrase => {
                KeyFileError::Malformed("invalid PKCS#8 private key".to_owned())
            }
            other => other,
        }),
        LABEL_ENCRYPTED_PRIVATE_KEY => {
            let passphrase = passphrase.ok_or(KeyFileError::PassphraseRequired)?;
            let encrypted = EncryptedPrivateKey::from_der(&der)?;
            decrypt_private_key(&encrypted, passphrase)
        }
        LABEL_EC_PRIVATE_KEY => p256::SecretKey::from_sec1_der(&der)
            .map(PrivateKey::P256)
            .map_err(|e| {
                KeyFileError::Malformed(format!("EC PRIVATE KEY is not a valid P-256 key: {e}"))
            }),
        #[cfg(feature = "rsa")]
        LABEL_RSA_PRIVATE_KEY => {
            use rsa::pkcs1::DecodeRsaPrivateKey;
            let key = rsa::RsaPrivateKey::from_pkcs1_der(&der).map_err(|e| {
                KeyFileError::Malformed(format!("RSA PRIVATE KEY is not valid PKCS#1: {e}"))
            })?;
            check_rsa_size(&key)?;
            Ok(PrivateKey::Rsa(key))
        }
        #[cfg(not(feature = "rsa"))]
        LABEL_RSA_PRIVATE_KEY => Err(rsa_unsupported()),
        other => Err(KeyFileError::Malformed(format!(
            "PEM label {other:?} is not a private key, expected \"{LABEL_PRIVATE_KEY}\" or \"{LABEL_ENCRYPTED_PRIVATE_KEY}\""
        ))),
    }
}

/// Parses a plain PKCS#8 `PrivateKeyInfo`. Any structural failure is
/// reported as [`KeyFileError::WrongPassphrase`], which the caller of a
/// plain file turns into [`KeyFileError::Malformed`].
fn private_key_from_pkcs8(der: &[u8]) -> Result<PrivateKey, KeyFileError> {
    let info = pkcs8::PrivateKeyInfo::try_from(der).map_err(|_| KeyFileError::WrongPassphrase)?;
    let oid = info.algorithm.oid;
    if oid == EC_PUBLIC_KEY_OID {
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|_| KeyFileError::WrongPassphrase)?;
        if curve != P256_OID {
            return Err(KeyFileError::UnsupportedAlgorithm(format!(
                "EC curve {curve}, only P-256 ({P256_OID}) is supported"
            )));
        }
        p256::SecretKey::try_from(info)
            .map(PrivateKey::P256)
            .map_err(|_| KeyFileError::WrongPassphrase)
    } else if oid == RSA_ENCRYPTION_OID {
        rsa_private_key_from_pkcs8(info)
    } else {
        Err(KeyFileError::UnsupportedAlgorithm(format!(
            "private key algorithm {oid}, expected P-256 or RSA"
        )))
    }
}

#[cfg(feature = "rsa")]
fn rsa_private_key_from_pkcs8(info: pkcs8::PrivateKeyInfo<'_>) -> Result<PrivateKey, KeyFileError> {
    let key = rsa::RsaPrivateKey::try_from(info).map_err(|_| KeyFileError::WrongPassphrase)?;
    check_rsa_size(&key)?;
    Ok(PrivateKey::Rsa(key))
}

/// Reports an RSA key as not built in. An encrypted file has already been
/// decrypted here, so a wrong passphrase is still reported as one.
#[cfg(not(feature = "rsa"))]
fn rsa_private_key_from_pkcs8(_info: pkcs8::PrivateKeyInfo<'_>) -> Result<PrivateKey, KeyFileError> {
    Err(rsa_unsupported())
}

#[cfg(not(feature = "rsa"))]
fn rsa_unsupported() -> KeyFileError {
    KeyFileError::RsaNotBuilt
}

#[cfg(feature = "rsa")]
fn check_rsa_size(key: &rsa::RsaPrivateKey) -> Result<(), KeyFileError> {
    use rsa::traits::PublicKeyParts;
    let bits = key.n().bits();
    if bits < MIN_RSA_BITS {
        return Err(KeyFileError::UnsupportedAlgorithm(format!(
            "RSA key of {bits} bits, at least {MIN_RSA_BITS} required"
        )));
    }
    Ok(())
}

#[cfg(feature = "pbes2")]
fn decrypt_private_key(
    encrypted: &EncryptedPrivateKey,
    passphrase: &[u8],
) -> Result<PrivateKey, KeyFileError> {
    let decrypted = encrypted.decrypt(passphrase)?;
    private_key_from_decrypted_pkcs8(&decrypted)
}

#[cfg(not(feature = "pbes2"))]
fn decrypt_private_key(
    _encrypted: &EncryptedPrivateKey,
    _passphrase: &[u8],
) -> Result<PrivateKey, KeyFileError> {
    Err(KeyFileError::Pbes2NotBuilt)
}

/// Writes a P-256 private key as PKCS#8 PEM: "PRIVATE KEY" without a
/// passphrase, "ENCRYPTED PRIVATE KEY" with one (PBES2 with
/// PBKDF2-HMAC-SHA256, [`PBKDF2_ITERATIONS`] iterations, a random 16-byte
/// salt, and AES-256-CBC with a random IV). `openssl pkcs8 -in FILE
/// -passin pass:...` reads the result.
///
/// # Errors
///
/// Returns [`KeyFileError::EmptyPassphrase`] for `Some(b"")`,
/// [`KeyFileError::Random`] when no randomness is available, and
/// [`KeyFileError::Pbes2NotBuilt`] for a passphrase in a build without the
/// `pbes2` feature.
pub fn write_private_key_pem(
    key: &p256::SecretKey,
    passphrase: Option<&[u8]>,
) -> Result<Zeroizing<String>, KeyFileError> {
    let Some(passphrase) = passphrase else {
        return key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyFileError::Malformed(format!("PKCS#8 encoding failed: {e}")));
    };
    if passphrase.is_empty() {
        return Err(KeyFileError::EmptyPassphrase);
    }
    encrypt_private_key(key, passphrase)
}

#[cfg(not(feature = "pbes2"))]
fn encrypt_private_key(
    _key: &p256::SecretKey,
    _passphrase: &[u8],
) -> Result<Zeroizing<String>, KeyFileError> {
    Err(KeyFileError::Pbes2NotBuilt)
}

#[cfg(feature = "pbes2")]
fn encrypt_private_key(
    key: &p256::SecretKey,
    passphrase: &[u8],
) -> Result<Zeroizing<String>, KeyFileError> {
    let mut salt = [0u8; PBKDF2_SALT_LEN];
    let mut iv = [0u8; encrypted::AES_CBC_IV_LEN];
    getrandom::getrandom(&mut salt).map_err(KeyFileError::Random)?;
    getrandom::getrandom(&mut iv).map_err(KeyFileError::Random)?;
    let parameters = pbes2::Parameters::pbkdf2_sha256_aes256cbc(PBKDF2_ITERATIONS, &salt, &iv)
        .map_err(|e| KeyFileError::Malformed(format!("PBES2 parameters: {e}")))?;

    let plain = key
        .to_pkcs8_der()
        .map_err(|e| KeyFileError::Malformed(format!("PKCS#8 encoding failed: {e}")))?;
    let info = pkcs8::PrivateKeyInfo::try_from(plain.as_bytes())
        .map_err(|e| KeyFileError::Malformed(format!("PKCS#8 encoding failed: {e}")))?;
    let encrypted = info
        .encrypt_with_params(parameters, passphrase)
        .map_err(|e| KeyFileError::Malformed(format!("PKCS#8 encryption failed: {e}")))?;
    encrypted
        .to_pem(LABEL_ENCRYPTED_PRIVATE_KEY, LineEnding::LF)
        .map_err(|e| KeyFileError::Malformed(format!("PEM encoding failed: {e}")))
}

/// Reads an SPKI "PUBLIC KEY" PEM containing a P-256 or RSA public key.
///
/// # Errors
///
/// Returns [`KeyFileError::UnsupportedAlgorithm`] for other key types or
/// curves and [`KeyFileError::Malformed`] or [`KeyFileError::TooLarge`]
/// when the text is not such a PEM.
pub fn read_public_key_pem(pem: &str) -> Result<PublicKey, KeyFileError> {
    let (_, der) = decode_single_pem(pem, &[LABEL_PUBLIC_KEY])?;
    let info = pkcs8::spki::SubjectPublicKeyInfoRef::try_from(der.as_slice())
        .map_err(|e| KeyFileError::Malformed(format!("invalid SubjectPublicKeyInfo: {e}")))?;
    let oid = info.algorithm.oid;
    if oid == EC_PUBLIC_KEY_OID {
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|e| KeyFileError::Malformed(format!("EC key without a named curve: {e}")))?;
        if curve != P256_OID {
            return Err(KeyFileError::UnsupportedAlgorithm(format!(
                "EC curve {curve}, only P-256 ({P256_OID}) is supported"
            )));
        }
        p256::PublicKey::from_public_key_der(&der)
            .map(PublicKey::P256)
            .map_err(|e| KeyFileError::Malformed(format!("invalid P-256 public key: {e}")))
    } else if oid == RSA_ENCRYPTION_OID {
        #[cfg(not(feature = "rsa"))]
        return Err(rsa_unsupported());
        #[cfg(feature = "rsa")]
        rsa::RsaPublicKey::from_public_key_der(&der)
            .map(PublicKey::Rsa)
            .map_err(|e| KeyFileError::Malformed(format!("invalid RSA public key: {e}")))
    } else {
        Err(KeyFileError::UnsupportedAlgorithm(format!(
            "public key algorithm {oid}, expected P-256 or RSA"
        )))
    }
}

/// Writes a P-256 public key as an SPKI "PUBLIC KEY" PEM with LF line
/// endings.
pub fn write_public_key_pem(key: &p256::PublicKey) -> String {
    key.to_public_key_pem(LineEnding::LF)
        .expect("a valid P-256 point always encodes as SPKI")
}

/// Computes the RFC 7638 JWK thumbprint of a P-256 public key: SHA-256 over
/// `{"crv":"P-256","kty":"EC","x":...,"y":...}` (required members in
/// lexicographic order, no whitespace), base64url without padding. This is
/// the default `kid` of a key.
pub fn jwk_thumbprint(key: &p256::PublicKey) -> String {
    let (x, y) = coordinates(key);
    let canonical = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        base64url_encode(&x),
        base64url_encode(&y)
    );
    base64url_encode(&Sha256::digest(canonical.as_bytes()))
}

/// Maximum number of characters of a PEM label quoted in an error message.
const MAX_LABEL_IN_MESSAGE: usize = 40;

/// Finds the one PEM block of a key file whose label is in `expected_labels`,
/// ignoring other blocks (certificates, "EC PARAMETERS") and text around
/// them, and decodes it strictly (RFC 7468). Returns the label and the DER.
fn decode_single_pem(
    text: &str,
    expected_labels: &[&str],
) -> Result<(String, Zeroizing<Vec<u8>>), KeyFileError> {
    if text.len() > MAX_KEY_FILE_LEN {
        return Err(KeyFileError::TooLarge {
            len: text.len(),
            max: MAX_KEY_FILE_LEN,
        });
    }

    let mut matching: Vec<&str> = Vec::new();
    let mut other_labels: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let block_and_after = &rest[start..];
        let label = block_and_after["-----BEGIN ".len()..]
            .split("-----")
            .next()
            .unwrap_or_default();
        let label_excerpt: String = label.chars().take(MAX_LABEL_IN_MESSAGE).collect();
        let end_marker = format!("-----END {label}-----");
        let end = block_and_after.find(&end_marker).ok_or_else(|| {
            KeyFileError::Malformed(format!("PEM block {label_excerpt:?} has no END line"))
        })?;
        let block_len = end + end_marker.len();
        if expected_labels.contains(&label) {
            matching.push(&block_and_after[..block_len]);
        } else {
            other_labels.push(label_excerpt);
        }
        rest = &block_and_after[block_len..];
    }

    let block = match matching[..] {
        [block] => block,
        [] if other_labels.is_empty() => {
            return Err(KeyFileError::Malformed("no PEM block found".to_owned()));
        }
        [] => {
            return Err(KeyFileError::Malformed(format!(
                "found PEM blocks {other_labels:?}, expected one of {expected_labels:?}"
            )));
        }
        _ => {
            return Err(KeyFileError::Malformed(format!(
                "found {} key blocks, expected one",
                matching.len()
            )));
        }
    };
    if block.contains("Proc-Type:") {
        return Err(KeyFileError::UnsupportedAlgorithm(
            "legacy OpenSSL PEM encryption (Proc-Type header); convert the key with `openssl pkcs8 -topk8 -v2 aes-256-cbc`".to_owned(),
        ));
    }
    let (label, der) = pkcs8::der::pem::decode_vec(block.as_bytes())
        .map_err(|e| KeyFileError::Malformed(format!("invalid PEM: {e}")))?;
    Ok((label.to_owned(), Zeroizing::new(der)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p256_key(byte: u8) -> p256::SecretKey {
        p256::SecretKey::from_slice(&[byte; 32]).expect("valid scalar")
    }

    fn read_p256(pem: &str, passphrase: Option<&[u8]>) -> p256::SecretKey {
        read_private_key_pem(pem, passphrase)
            .expect("reads")
            .into_p256()
            .expect("a P-256 key")
    }

    #[test]
    fn plain_pkcs8_round_trip() {
        let key = p256_key(0x21);
        let pem = write_private_key_pem(&key, None).expect("writes");
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert_eq!(read_p256(&pem, None).to_bytes(), key.to_bytes());
        // A passphrase given for a plain file is ignored.
        assert_eq!(read_p256(&pem, Some(b"unused")).to_bytes(), key.to_bytes());
    }

    #[test]
    #[cfg(feature = "pbes2")]
    fn encrypted_pkcs8_round_trip() {
        let key = p256_key(0x22);
        let pem = write_private_key_pem(&key, Some(b"correct horse")).expect("writes");
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        assert_eq!(
            read_p256(&pem, Some(b"correct horse")).to_bytes(),
            key.to_bytes()
        );
    }

    #[test]
    #[cfg(feature = "pbes2")]
    fn encrypted_pkcs8_wrong_passphrase() {
        let pem = write_private_key_pem(&p256_key(0x23), Some(b"right")).expect("writes");
        assert!(matches!(
            read_private_key_pem(&pem, Some(b"wrong")),
            Err(KeyFileError::WrongPassphrase)
        ));
        assert!(matches!(
            read_private_key_pem(&pem, None),
            Err(KeyFileError::PassphraseRequired)
        ));
    }

    #[test]
    #[cfg(feature = "pbes2")]
    fn crlf_key_files_read() {
        let key = p256_key(0x2e);
        let pem = write_private_key_pem(&key, Some(b"pw")).expect("writes");
        let crlf = pem.replace('\n', "\r\n");
        assert_eq!(read_p256(&crlf, Some(b"pw")).to_bytes(), key.to_bytes());
        let public = write_public_key_pem(&key.public_key()).replace('\n', "\r\n");
        assert_eq!(
            read_public_key_pem(&public).expect("reads"),
            PublicKey::P256(key.public_key())
        );
    }

    #[test]
    #[cfg(feature = "pbes2")]
    fn encrypted_pkcs8_uses_declared_parameters() {
        let pem = write_private_key_pem(&p256_key(0x24), Some(b"pw")).expect("writes");
        let (_, der) = pkcs8::der::pem::decode_vec(pem.as_bytes()).expect("PEM");
        let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice()).expect("DER");
        let parameters = info.encryption_algorithm.pbes2().expect("PBES2");
        let pbkdf2 = parameters.kdf.pbkdf2().expect("PBKDF2");
        assert_eq!(pbkdf2.iteration_count, PBKDF2_ITERATIONS);
        assert_eq!(pbkdf2.prf, pbes2::Pbkdf2Prf::HmacWithSha256);
        assert_eq!(pbkdf2.salt.len(), PBKDF2_SALT_LEN);
        assert!(matches!(
            parameters.encryption,
            pbes2::EncryptionScheme::Aes256Cbc { .. }
        ));
    }

    #[test]
    #[cfg(feature = "pbes2")]
    fn encrypted_pkcs8_tampered_fails() {
        let pem = write_private_key_pem(&p256_key(0x25), Some(b"pw")).expect("writes");
        let (_, der) = pkcs8::der::pem::decode_vec(pem.as_bytes()).expect("PEM");
        let mut tampered = der.clone();
        // The last byte is in the final ciphertext block, so the CBC padding
        // or the inner DER breaks.
        let last = tampered.len() - 1;
        tampered[last] ^= 0x01;
        let document = pkcs8::Document::try_from(tampered).expect("outer DER intact");
        let tampered_pem = document
            .to_pem(LABEL_ENCRYPTED_PRIVATE_KEY, LineEnding::LF)
            .expect("PEM");
        assert!(matches!(
            read_private_key_pem(&tampered_pem, Some(b"pw")),
            Err(KeyFileError::WrongPassphrase)
        ));
    }

    #[test]
    #[cfg(feature = "pbes2")]
    fn excessive_kdf_cost_rejected() {
        use pkcs8::der::Encode;

        // Encrypts cheaply, then raises the declared iteration count: the
        // reader must reject the file before running PBKDF2.
        let key = p256_key(0x26);
        let der = key.to_pkcs8_der().expect("DER");
        let info = pkcs8::PrivateKeyInfo::try_from(der.as_bytes()).expect("PKCS#8");
        let salt = [1u8; 16];
        let iv = [2u8; 16];
        let cheap = pbes2::Parameters::pbkdf2_sha256_aes256cbc(1, &salt, &iv).expect("parameters");
        let encrypted = info.encrypt_with_params(cheap, b"pw").expect("encrypts");
        let mut outer =
            pkcs8::EncryptedPrivateKeyInfo::try_from(encrypted.as_bytes()).expect("parses");
        let pkcs8::pkcs5::EncryptionScheme::Pbes2(parameters) = &mut outer.encryption_algorithm
        else {
            panic!("expected PBES2");
        };
        let pbes2::Kdf::Pbkdf2(pbkdf2) = &mut parameters.kdf else {
            panic!("expected PBKDF2");
        };
        pbkdf2.iteration_count = MAX_PBKDF2_ITERATIONS + 1;
        let costly = pkcs8::Document::try_from(outer.to_der().expect("encodes")).expect("DER");
        let pem = costly
            .to_pem(LABEL_ENCRYPTED_PRIVATE_KEY, LineEnding::LF)
            .expect("PEM");
        let started = std::time::Instant::now();
        assert!(matches!(
            read_private_key_pem(&pem, Some(b"pw")),
            Err(KeyFileError::UnsupportedAlgorithm(_))
        ));
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
    }

    #[test]
    #[cfg(feature = "pbes2")]
    fn scrypt_pkcs8_reads() {
        let key = p256_key(0x27);
        let der = key.to_pkcs8_der().expect("DER");
        let info = pkcs8::PrivateKeyInfo::try_from(der.as_bytes()).expect("PKCS#8");
        let salt = [3u8; 16];
        let iv = [4u8; 16];
        // N = 2^10 keeps the test fast; OpenSSL's default is 2^14.
        let scrypt = pkcs8::pkcs5::scrypt::Params::new(10, 8, 1, 32).expect("scrypt params");
        let parameters =
            pbes2::Parameters::scrypt_aes256cbc(scrypt, &salt, &iv).expect("parameters");
        let encrypted = info
            .encrypt_with_params(parameters, b"pw")
            .expect("encrypts");
        let pem = encrypted
            .to_pem(LABEL_ENCRYPTED_PRIVATE_KEY, LineEnding::LF)
            .expect("PEM");
        assert_eq!(read_p256(&pem, Some(b"pw")).to_bytes(), key.to_bytes());
        assert!(matches!(
            read_private_key_pem(&pem, Some(b"wrong")),
            Err(KeyFileError::WrongPassphrase)
        ));
    }

    #[test]
    fn sec1_key_with_parameters_block_reads() {
        let key = p256_key(0x28);
        let sec1 = key.to_sec1_pem(LineEnding::LF).expect("SEC1 PEM");
        let with_parameters = format!(
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{}",
            sec1.as_str()
        );
        assert_eq!(read_p256(&with_parameters, None).to_bytes(), key.to_bytes());
    }

    #[test]
    fn key_beside_certificate_reads() {
        let key = p256_key(0x2f);
        let pem = write_private_key_pem(&key, None).expect("writes");
        let bundle = format!(
            "subject=CN = example\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n{}",
            pem.as_str()
        );
        assert_eq!(read_p256(&bundle, None).to_bytes(), key.to_bytes());
    }

    fn golden_rsa_pem() -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/opentdf/golden/golden-r1.pem");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {} ({e})", path.display()))
    }

    #[test]
    #[cfg(feature = "rsa")]
    fn rsa_golden_key_reads() {
        let key = read_private_key_pem(&golden_rsa_pem(), None).expect("reads");
        assert!(matches!(key, PrivateKey::Rsa(_)));
        assert!(matches!(key.public_key(), PublicKey::Rsa(_)));
        assert_eq!(format!("{key:?}"), "PrivateKey::Rsa(<redacted>)");
    }

    #[test]
    #[cfg(not(feature = "rsa"))]
    fn rsa_key_without_feature_rejected() {
        let result = read_private_key_pem(&golden_rsa_pem(), None);
        assert!(matches!(result, Err(KeyFileError::RsaNotBuilt)), "{result:?}");
    }

    #[test]
    fn malformed_files_rejected() {
        let cases = [
            "",
            "not a key",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ];
        for pem in cases {
            assert!(
                matches!(
                    read_private_key_pem(pem, None),
                    Err(KeyFileError::Malformed(_))
                ),
                "input {pem:?}"
            );
        }
        let key = write_private_key_pem(&p256_key(0x29), None).expect("writes");
        let twice = format!("{}{}", key.as_str(), key.as_str());
        assert!(matches!(
            read_private_key_pem(&twice, None),
            Err(KeyFileError::Malformed(_))
        ));
        let huge = "A".repeat(MAX_KEY_FILE_LEN + 1);
        assert!(matches!(
            read_private_key_pem(&huge, None),
            Err(KeyFileError::TooLarge { .. })
        ));
        let legacy = "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nAAAA\n-----END EC PRIVATE KEY-----\n";
        assert!(matches!(
            read_private_key_pem(legacy, Some(b"pw")),
            Err(KeyFileError::UnsupportedAlgorithm(_))
        ));
    }

    #[test]
    fn empty_passphrase_rejected_on_write() {
        assert!(matches!(
            write_private_key_pem(&p256_key(0x2a), Some(b"")),
            Err(KeyFileError::EmptyPassphrase)
        ));
    }

    #[test]
    fn public_key_round_trip() {
        let public = p256_key(0x2b).public_key();
        let pem = write_public_key_pem(&public);
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert_eq!(
            read_public_key_pem(&pem).expect("reads"),
            PublicKey::P256(public)
        );
        assert!(matches!(
            read_public_key_pem(&write_private_key_pem(&p256_key(0x2b), None).expect("writes")),
            Err(KeyFileError::Malformed(_))
        ));
    }

    #[test]
    fn public_key_other_curve_rejected() {
        // A secp384r1 public key (SPKI) written by `openssl ec -pubout`.
        let pem = "-----BEGIN PUBLIC KEY-----\nMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEdKUhb4rkCUi2FFMqi3mzceZvhGQTbw+d\nv8uponcWGCKH7LsuyFNT/Syo7qQpUbXsEVlCZOxu6PFFIICESJ9mLWJBLx92QpjA\nZbyzgSmtyHKRBUNHGScDEFjDDns3HFEf\n-----END PUBLIC KEY-----\n";
        assert!(matches!(
            read_public_key_pem(pem),
            Err(KeyFileError::UnsupportedAlgorithm(_))
        ));
    }

    #[test]
    fn thumbprint_matches_rfc7638_construction() {
        let public = p256_key(0x2c).public_key();
        let jwk = crate::jws::public_jwk(&public, "ignored");
        let canonical = serde_json::json!({
            "crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"],
        });
        // serde_json with `preserve_order` keeps insertion order, which is
        // lexicographic here, and writes no whitespace.
        let text = serde_json::to_string(&canonical).expect("JSON");
        let expected = base64url_encode(&Sha256::digest(text.as_bytes()));
        assert_eq!(jwk_thumbprint(&public), expected);
        // Computed independently with Python's `cryptography` and `hashlib`
        // for the scalar 0x2c2c...2c.
        assert_eq!(
            jwk_thumbprint(&public),
            "AB9Mft2c9aREw6soPELS8pg5LUVa2DVo-A__knXE07s"
        );
        assert_ne!(
            jwk_thumbprint(&public),
            jwk_thumbprint(&p256_key(0x2d).public_key())
        );
    }

    proptest::proptest! {
        #[test]
        fn read_never_panics(text in "\\PC{0,300}") {
            let _ = read_private_key_pem(&text, Some(b"pw"));
            let _ = read_public_key_pem(&text);
        }

        #[test]
        fn read_never_panics_on_pem_bodies(
            label in proptest::sample::select(vec![LABEL_PRIVATE_KEY, LABEL_ENCRYPTED_PRIVATE_KEY, LABEL_EC_PRIVATE_KEY, LABEL_RSA_PRIVATE_KEY, LABEL_PUBLIC_KEY]),
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
        ) {
            let pem = pkcs8::der::pem::encode_string(label, LineEnding::LF, &body).expect("PEM");
            let _ = read_private_key_pem(&pem, Some(b"pw"));
            let _ = read_public_key_pem(&pem);
        }
    }
}
