//! Passphrase-protected key files, decrypted with WebCrypto. The core parses
//! the PBES2 file and checks its parameters here ([`KeyFile::parse`]). The
//! portal's JavaScript (`www/src/core.js`) then runs PBKDF2 and AES-CBC in
//! the browser's `crypto.subtle` with those parameters, and
//! `Identity.unlock` or `EventSigner.unlock` reads the decrypted PKCS#8
//! structure. So the module carries no PBKDF2, HMAC-SHA-1, SHA-512, scrypt
//! or AES-CBC code, and PBKDF2 runs in native code.

use valise_core::keys::{self, EncryptedPrivateKey, KeyDerivation, KeyFileError, Pbkdf2Hash, PrivateKey};
use wasm_bindgen::prelude::*;
use zeroize::Zeroize;

use crate::error::{BindingError, BindingResult, ErrorKind};

/// The OpenSSL command that re-encrypts a key file with a key derivation
/// the viewer supports.
const REENCRYPT_COMMAND: &str = "openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -iter 600000 -in KEY.pem -out NEW.key.pem";

/// Key file being read, named in the error messages.
#[derive(Clone, Copy)]
pub(crate) enum KeyFileRole {
    /// The identity's key access key (NAME.key.pem).
    Identity,
    /// The event signing key (NAME.sign.key.pem).
    Signing,
}

impl KeyFileRole {
    /// Prefixes a message about the signing key file with its name.
    fn name_in(self, mut error: BindingError) -> BindingError {
        if let KeyFileRole::Signing = self {
            error.message = format!("Signing key file: {}", error.message);
        }
        error
    }
}

/// The parameters of an encrypted key file, for WebCrypto: PBKDF2 with
/// `hash`, `salt` and `iterations` derives an AES-CBC key of `keyBits`,
/// which decrypts `ciphertext` with `iv` to the PKCS#8 structure. None of
/// them is secret.
#[wasm_bindgen]
pub struct KeyFile {
    encrypted: EncryptedPrivateKey,
    hash: &'static str,
    salt: Vec<u8>,
    iterations: u32,
}

#[wasm_bindgen]
impl KeyFile {
    /// Parses an encrypted PKCS#8 key file and checks that WebCrypto can
    /// decrypt it. `signing` names the signing key file in the messages.
    ///
    /// # Errors
    ///
    /// `Passphrase` for a key file without a passphrase. `Unsupported` for a
    /// key file encrypted with scrypt or PBKDF2-HMAC-SHA-224, which WebCrypto
    /// lacks, with an encryption scheme other than PBES2 and AES-CBC, or with
    /// parameters above the reader's bounds. `MalformedPackage` for a file
    /// that is not a PEM key file.
    pub fn parse(key_pem: &str, signing: bool) -> Result<KeyFile, JsValue> {
        let role = if signing { KeyFileRole::Signing } else { KeyFileRole::Identity };
        Ok(KeyFile::parse_inner(key_pem).map_err(|error| role.name_in(error))?)
    }

    /// The PBKDF2 hash as WebCrypto names it: "SHA-1", "SHA-256", "SHA-384"
    /// or "SHA-512".
    #[wasm_bindgen(getter)]
    pub fn hash(&self) -> String {
        self.hash.to_owned()
    }

    /// The PBKDF2 salt.
    #[wasm_bindgen(getter)]
    pub fn salt(&self) -> Vec<u8> {
        self.salt.clone()
    }

    /// The PBKDF2 iteration count.
    #[wasm_bindgen(getter)]
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// The AES key length in bits: 128, 192 or 256.
    #[wasm_bindgen(getter, js_name = keyBits)]
    pub fn key_bits(&self) -> u32 {
        u32::try_from(self.encrypted.aes_key_len() * 8).unwrap_or(0)
    }

    /// The AES-CBC initialization vector.
    #[wasm_bindgen(getter)]
    pub fn iv(&self) -> Vec<u8> {
        self.encrypted.iv().to_vec()
    }

    /// The encrypted PKCS#8 structure (AES-CBC with PKCS#7 padding).
    #[wasm_bindgen(getter)]
    pub fn ciphertext(&self) -> Vec<u8> {
        self.encrypted.ciphertext().to_vec()
    }
}

impl KeyFile {
    fn parse_inner(key_pem: &str) -> BindingResult<KeyFile> {
        let encrypted = keys::read_encrypted_private_key_pem(key_pem).map_err(|error| key_file_error(&error))?;
        let (hash, salt, iterations) = match encrypted.kdf() {
            KeyDerivation::Pbkdf2 { hash, salt, iterations } => (webcrypto_hash(*hash)?, salt.clone(), *iterations),
            KeyDerivation::Scrypt { .. } => {
                return Err(BindingError::new(
                    ErrorKind::Unsupported,
                    format!("This key file is encrypted with scrypt, which the browser cannot compute. Re-encrypt it with PBKDF2, for example with: {REENCRYPT_COMMAND}"),
                ));
            }
            _ => {
                return Err(BindingError::new(
                    ErrorKind::Unsupported,
                    format!("This key file uses a key derivation the viewer does not support. Re-encrypt it with: {REENCRYPT_COMMAND}"),
                ));
            }
        };
        Ok(KeyFile { encrypted, hash, salt, iterations })
    }
}

/// Reads the private key from the PKCS#8 structure that WebCrypto decrypted,
/// then overwrites `pkcs8` with zeros. wasm-bindgen copies a `&mut [u8]`
/// argument back into the caller's `Uint8Array`, so the zeros reach the
/// JavaScript copy too. An empty `pkcs8` means the decryption failed.
///
/// # Errors
///
/// `WrongPassphrase` when the bytes are not a PKCS#8 structure (a wrong
/// passphrase whose padding check happened to pass, or an empty buffer),
/// and the other errors of [`keys::private_key_from_decrypted_pkcs8`].
pub(crate) fn read_decrypted(pkcs8: &mut [u8]) -> Result<PrivateKey, KeyFileError> {
    let key = keys::private_key_from_decrypted_pkcs8(pkcs8);
    pkcs8.zeroize();
    key
}

/// Returns the WebCrypto name of a PBKDF2 hash, or an `Unsupported` error
/// for SHA-224, which WebCrypto does not define.
fn webcrypto_hash(hash: Pbkdf2Hash) -> BindingResult<&'static str> {
    match hash {
        Pbkdf2Hash::Sha1 | Pbkdf2Hash::Sha256 | Pbkdf2Hash::Sha384 | Pbkdf2Hash::Sha512 => Ok(hash.name()),
        other => Err(BindingError::new(
            ErrorKind::Unsupported,
            format!("This key file derives its key with PBKDF2-HMAC-{}, which the browser cannot compute. Re-encrypt it with: {REENCRYPT_COMMAND}", other.name()),
        )),
    }
}

/// Maps a key file failure to the error thrown to JavaScript.
pub(crate) fn key_file_error(error: &KeyFileError) -> BindingError {
    match error {
        KeyFileError::WrongPassphrase => BindingError::new(ErrorKind::Passphrase, "The passphrase is wrong. Type it again; it is case-sensitive."),
        KeyFileError::PassphraseRequired => BindingError::new(ErrorKind::Passphrase, "This key file needs its passphrase."),
        KeyFileError::NotEncrypted => BindingError::new(
            ErrorKind::Passphrase,
            "This key file is not protected by a passphrase. The viewer only imports encrypted key files: encrypt it first, e.g. with openssl pkcs8 -topk8 -v2 aes-256-cbc.",
        ),
        KeyFileError::RsaNotBuilt => {
            BindingError::new(ErrorKind::Unsupported, "The key file contains an RSA key, but the viewer reads P-256 keys only.")
        }
        KeyFileError::UnsupportedAlgorithm(algorithm) => {
            BindingError::new(ErrorKind::Unsupported, format!("The key file uses {algorithm}, which the viewer does not support."))
        }
        KeyFileError::Malformed(detail) => BindingError::new(
            ErrorKind::MalformedPackage,
            format!("The key file is not a PEM private key ({detail}). Choose the NAME.key.pem file your organization issued to you."),
        ),
        other => BindingError::new(ErrorKind::MalformedPackage, format!("The key file cannot be read: {other}.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_key_file_is_unsupported() {
        let error = key_file_error(&KeyFileError::RsaNotBuilt);
        assert_eq!(error.kind, ErrorKind::Unsupported);
        assert!(error.message.contains("RSA"), "{}", error.message);
    }

    #[test]
    fn wrong_passphrase_is_passphrase_error() {
        let error = key_file_error(&KeyFileError::WrongPassphrase);
        assert_eq!(error.kind, ErrorKind::Passphrase);
    }

    #[test]
    fn unencrypted_key_file_is_passphrase_error() {
        let error = key_file_error(&KeyFileError::NotEncrypted);
        assert_eq!(error.kind, ErrorKind::Passphrase);
        assert!(error.message.contains("not protected by a passphrase"), "{}", error.message);
    }

    #[test]
    fn public_key_file_is_named() {
        let error = key_file_error(&KeyFileError::Malformed("found PEM blocks [\"PUBLIC KEY\"]".to_owned()));
        assert_eq!(error.kind, ErrorKind::MalformedPackage);
        assert!(error.message.contains("PUBLIC KEY"), "{}", error.message);
        assert!(error.message.contains("NAME.key.pem"), "{}", error.message);
    }

    #[test]
    fn sha224_is_unsupported() {
        let error = webcrypto_hash(Pbkdf2Hash::Sha224).expect_err("rejected");
        assert_eq!(error.kind, ErrorKind::Unsupported);
        assert!(error.message.contains("hmacWithSHA256"), "{}", error.message);
        assert_eq!(webcrypto_hash(Pbkdf2Hash::Sha512).expect("supported"), "SHA-512");
    }

    #[test]
    fn decrypted_buffer_is_zeroized() {
        let mut garbage = vec![0x30, 0x03, 0x02, 0x01, 0x00];
        let result = read_decrypted(&mut garbage);
        assert!(matches!(result, Err(KeyFileError::WrongPassphrase)));
        assert!(garbage.iter().all(|&byte| byte == 0));
    }
}
