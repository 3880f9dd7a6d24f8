//! Passphrase-encrypted PKCS#8 key files (PBES2, RFC 8018 §6.2), split in
//! two steps so that the key derivation and decryption can run outside the
//! core: [`read_encrypted_private_key_pem`] parses the file and checks its
//! parameters, a caller derives the AES key and decrypts the ciphertext
//! (the core itself with its `pbes2` feature, the browser viewer with
//! WebCrypto), and [`private_key_from_decrypted_pkcs8`] reads the result.

use pkcs8::pkcs5::pbes2;
#[cfg(feature = "pbes2")]
use zeroize::Zeroizing;

use super::{
    decode_single_pem, private_key_from_pkcs8, KeyFileError, PrivateKey,
    LABEL_ENCRYPTED_PRIVATE_KEY, MAX_PBKDF2_ITERATIONS, MAX_SCRYPT_MEMORY,
    MAX_SCRYPT_PARALLELIZATION, PRIVATE_KEY_LABELS,
};

/// Length in bytes of the AES-CBC IV (the AES block size).
pub const AES_CBC_IV_LEN: usize = 16;

/// Hash function of the HMAC that PBKDF2 uses as its pseudorandom function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pbkdf2Hash {
    /// `hmacWithSHA1`, the default of RFC 8018 when the parameters name none.
    Sha1,
    /// `hmacWithSHA224`.
    Sha224,
    /// `hmacWithSHA256`, which Valise writes.
    Sha256,
    /// `hmacWithSHA384`.
    Sha384,
    /// `hmacWithSHA512`.
    Sha512,
}

impl Pbkdf2Hash {
    /// Returns the hash name as WebCrypto spells it ("SHA-256").
    pub fn name(self) -> &'static str {
        match self {
            Pbkdf2Hash::Sha1 => "SHA-1",
            Pbkdf2Hash::Sha224 => "SHA-224",
            Pbkdf2Hash::Sha256 => "SHA-256",
            Pbkdf2Hash::Sha384 => "SHA-384",
            Pbkdf2Hash::Sha512 => "SHA-512",
        }
    }

    #[cfg(feature = "pbes2")]
    fn prf(self) -> pbes2::Pbkdf2Prf {
        match self {
            Pbkdf2Hash::Sha1 => pbes2::Pbkdf2Prf::HmacWithSha1,
            Pbkdf2Hash::Sha224 => pbes2::Pbkdf2Prf::HmacWithSha224,
            Pbkdf2Hash::Sha256 => pbes2::Pbkdf2Prf::HmacWithSha256,
            Pbkdf2Hash::Sha384 => pbes2::Pbkdf2Prf::HmacWithSha384,
            Pbkdf2Hash::Sha512 => pbes2::Pbkdf2Prf::HmacWithSha512,
        }
    }
}

/// Key derivation function of an encrypted key file, with parameters that
/// passed the reader's bounds ([`MAX_PBKDF2_ITERATIONS`],
/// [`MAX_SCRYPT_MEMORY`], [`MAX_SCRYPT_PARALLELIZATION`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyDerivation {
    /// PBKDF2 (RFC 8018 §5.2).
    Pbkdf2 {
        /// Hash function of the HMAC.
        hash: Pbkdf2Hash,
        /// Salt.
        salt: Vec<u8>,
        /// Iteration count, from 1 to [`MAX_PBKDF2_ITERATIONS`].
        iterations: u32,
    },
    /// scrypt (RFC 7914).
    Scrypt {
        /// Salt.
        salt: Vec<u8>,
        /// CPU/memory cost `N`.
        cost: u64,
        /// Block size `r`.
        block_size: u16,
        /// Parallelization `p`.
        parallelization: u16,
    },
}

/// The parsed content of an "ENCRYPTED PRIVATE KEY" file: the key
/// derivation, the AES-CBC key length and IV, and the ciphertext, which
/// decrypts (with PKCS#7 padding) to a PKCS#8 `PrivateKeyInfo`.
///
/// Only the readers of this module make one, so its parameters are always
/// within the reader's bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedPrivateKey {
    kdf: KeyDerivation,
    aes_key_len: usize,
    iv: [u8; AES_CBC_IV_LEN],
    ciphertext: Vec<u8>,
}

impl EncryptedPrivateKey {
    /// Returns the key derivation function and its parameters.
    pub fn kdf(&self) -> &KeyDerivation {
        &self.kdf
    }

    /// Returns the AES key length in bytes: 16, 24 or 32 (AES-128-CBC,
    /// AES-192-CBC or AES-256-CBC).
    pub fn aes_key_len(&self) -> usize {
        self.aes_key_len
    }

    /// Returns the AES-CBC initialization vector.
    pub fn iv(&self) -> &[u8; AES_CBC_IV_LEN] {
        &self.iv
    }

    /// Returns the encrypted PKCS#8 structure.
    pub fn ciphertext(&self) -> &[u8] {
        &self.ciphertext
    }

    /// Parses a DER `EncryptedPrivateKeyInfo` and checks its parameters.
    pub(super) fn from_der(der: &[u8]) -> Result<Self, KeyFileError> {
        let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der).map_err(|e| {
            KeyFileError::Malformed(format!("invalid ENCRYPTED PRIVATE KEY structure: {e}"))
        })?;
        let Some(parameters) = info.encryption_algorithm.pbes2() else {
            return Err(KeyFileError::UnsupportedAlgorithm(format!(
                "encryption scheme {}, only PBES2 is supported",
                info.encryption_algorithm.oid()
            )));
        };
        let kdf = key_derivation(&parameters.kdf)?;

        let (aes_key_len, iv) = match parameters.encryption {
            pbes2::EncryptionScheme::Aes128Cbc { iv } => (16, iv),
            pbes2::EncryptionScheme::Aes192Cbc { iv } => (24, iv),
            pbes2::EncryptionScheme::Aes256Cbc { iv } => (32, iv),
            // DES, with pkcs5 features the core leaves off.
            other => {
                return Err(KeyFileError::UnsupportedAlgorithm(format!(
                    "PBES2 algorithm {}",
                    other.oid()
                )))
            }
        };
        // A key length stated in the key derivation parameters must match
        // the cipher's (RFC 8018 appendix A.2).
        if let Some(declared) = parameters.kdf.key_length() {
            if usize::from(declared) != aes_key_len {
                return Err(KeyFileError::Malformed(format!(
                    "invalid parameters for PBES2 algorithm {}",
                    parameters.kdf.oid()
                )));
            }
        }

        Ok(EncryptedPrivateKey {
            kdf,
            aes_key_len,
            iv: *iv,
            ciphertext: info.encrypted_data.to_vec(),
        })
    }

    /// Derives the AES key from the passphrase and decrypts the PKCS#8
    /// structure, which [`private_key_from_decrypted_pkcs8`] then reads.
    ///
    /// # Errors
    ///
    /// [`KeyFileError::WrongPassphrase`] when the CBC padding check fails;
    /// [`KeyFileError::Malformed`] for scrypt parameters that scrypt
    /// rejects (a cost `N` that is not a power of two).
    ///
    /// # Security
    ///
    /// The returned plaintext is zeroized on drop. NOTE: `pkcs5` 0.7 leaves
    /// the derived AES key in a stack buffer it does not zeroize.
    #[cfg(feature = "pbes2")]
    pub fn decrypt(&self, passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
        let kdf = match &self.kdf {
            KeyDerivation::Pbkdf2 {
                hash,
                salt,
                iterations,
            } => pbes2::Kdf::Pbkdf2(pbes2::Pbkdf2Params {
                salt,
                iteration_count: *iterations,
                key_length: None,
                prf: hash.prf(),
            }),
            KeyDerivation::Scrypt {
                salt,
                cost,
                block_size,
                parallelization,
            } => pbes2::Kdf::Scrypt(pbes2::ScryptParams {
                salt,
                cost_parameter: *cost,
                block_size: *block_size,
                parallelization: *parallelization,
                key_length: None,
            }),
        };
        let encryption = match self.aes_key_len {
            16 => pbes2::EncryptionScheme::Aes128Cbc { iv: &self.iv },
            24 => pbes2::EncryptionScheme::Aes192Cbc { iv: &self.iv },
            _ => pbes2::EncryptionScheme::Aes256Cbc { iv: &self.iv },
        };
        let parameters = pbes2::Parameters { kdf, encryption };

        let mut buffer = Zeroizing::new(self.ciphertext.clone());
        let plaintext_len = parameters
            .decrypt_in_place(passphrase, &mut buffer)
            .map_err(|e| match e {
                pkcs8::pkcs5::Error::UnsupportedAlgorithm { oid } => {
                    KeyFileError::UnsupportedAlgorithm(format!("PBES2 algorithm {oid}"))
                }
                pkcs8::pkcs5::Error::AlgorithmParametersInvalid { oid } => {
                    KeyFileError::Malformed(format!("invalid parameters for PBES2 algorithm {oid}"))
                }
                // A CBC padding failure is what a wrong passphrase produces.
                _ => KeyFileError::WrongPassphrase,
            })?
            .len();
        buffer.truncate(plaintext_len);
        Ok(buffer)
    }
}

/// Reads the encryption parameters and ciphertext of an "ENCRYPTED PRIVATE
/// KEY" PEM (PBES2 with PBKDF2 or scrypt, and AES-CBC) without decrypting
/// it, for a caller that derives the key and decrypts elsewhere. Other PEM
/// blocks in the file are ignored, as in [`super::read_private_key_pem`].
///
/// # Errors
///
/// - [`KeyFileError::NotEncrypted`]: the file contains a plain private key.
/// - [`KeyFileError::UnsupportedAlgorithm`]: an encryption scheme other than
///   PBES2 with AES-CBC, a key derivation other than PBKDF2 or scrypt, or
///   parameters above [`MAX_PBKDF2_ITERATIONS`], [`MAX_SCRYPT_MEMORY`] or
///   [`MAX_SCRYPT_PARALLELIZATION`].
/// - [`KeyFileError::Malformed`] and [`KeyFileError::TooLarge`]: not a PEM
///   key file, or inconsistent parameters.
pub fn read_encrypted_private_key_pem(pem: &str) -> Result<EncryptedPrivateKey, KeyFileError> {
    let (label, der) = decode_single_pem(pem, &PRIVATE_KEY_LABELS)?;
    if label != LABEL_ENCRYPTED_PRIVATE_KEY {
        return Err(KeyFileError::NotEncrypted);
    }
    EncryptedPrivateKey::from_der(&der)
}

/// Reads the PKCS#8 `PrivateKeyInfo` that an [`EncryptedPrivateKey`]
/// decrypted to.
///
/// # Errors
///
/// [`KeyFileError::WrongPassphrase`] when the plaintext is not a valid
/// PKCS#8 structure. A wrong passphrase produces that when the padding
/// check happens to pass. [`KeyFileError::UnsupportedAlgorithm`] for a key
/// other than P-256 or RSA, and [`KeyFileError::RsaNotBuilt`] for an RSA
/// key in a build without the `rsa` feature.
pub fn private_key_from_decrypted_pkcs8(der: &[u8]) -> Result<PrivateKey, KeyFileError> {
    private_key_from_pkcs8(der)
}

/// Copies the key derivation parameters after checking that their cost is
/// bounded, so that a file cannot make the reader run for minutes or
/// allocate gigabytes.
fn key_derivation(kdf: &pbes2::Kdf<'_>) -> Result<KeyDerivation, KeyFileError> {
    match kdf {
        pbes2::Kdf::Pbkdf2(params) => {
            if params.iteration_count > MAX_PBKDF2_ITERATIONS {
                return Err(KeyFileError::UnsupportedAlgorithm(format!(
                    "PBKDF2 iteration count {}, at most {MAX_PBKDF2_ITERATIONS} accepted",
                    params.iteration_count
                )));
            }
            if params.iteration_count == 0 {
                return Err(KeyFileError::Malformed(
                    "PBKDF2 iteration count 0, at least 1 required".to_owned(),
                ));
            }
            let hash = match params.prf {
                pbes2::Pbkdf2Prf::HmacWithSha1 => Pbkdf2Hash::Sha1,
                pbes2::Pbkdf2Prf::HmacWithSha224 => Pbkdf2Hash::Sha224,
                pbes2::Pbkdf2Prf::HmacWithSha256 => Pbkdf2Hash::Sha256,
                pbes2::Pbkdf2Prf::HmacWithSha384 => Pbkdf2Hash::Sha384,
                pbes2::Pbkdf2Prf::HmacWithSha512 => Pbkdf2Hash::Sha512,
                // `Pbkdf2Prf` is non-exhaustive; pkcs5 0.7 has the five above.
                other => {
                    return Err(KeyFileError::UnsupportedAlgorithm(format!(
                        "PBKDF2 pseudorandom function {}",
                        other.oid()
                    )))
                }
            };
            Ok(KeyDerivation::Pbkdf2 {
                hash,
                salt: params.salt.to_vec(),
                iterations: params.iteration_count,
            })
        }
        pbes2::Kdf::Scrypt(params) => {
            let memory = 128u64
                .saturating_mul(u64::from(params.block_size))
                .saturating_mul(params.cost_parameter);
            if memory > MAX_SCRYPT_MEMORY {
                return Err(KeyFileError::UnsupportedAlgorithm(format!(
                    "scrypt N = {}, r = {} needs {memory} bytes, at most {MAX_SCRYPT_MEMORY} accepted",
                    params.cost_parameter, params.block_size
                )));
            }
            if params.parallelization > MAX_SCRYPT_PARALLELIZATION {
                return Err(KeyFileError::UnsupportedAlgorithm(format!(
                    "scrypt p = {}, at most {MAX_SCRYPT_PARALLELIZATION} accepted",
                    params.parallelization
                )));
            }
            Ok(KeyDerivation::Scrypt {
                salt: params.salt.to_vec(),
                cost: params.cost_parameter,
                block_size: params.block_size,
                parallelization: params.parallelization,
            })
        }
        // `Kdf` is non-exhaustive; pkcs5 0.7 has PBKDF2 and scrypt.
        other => Err(KeyFileError::UnsupportedAlgorithm(format!(
            "key derivation {}",
            other.oid()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{read_private_key_pem, write_private_key_pem};
    use pkcs8::der::Encode;
    use pkcs8::LineEnding;

    const SALT: [u8; 16] = [5; 16];
    const IV: [u8; AES_CBC_IV_LEN] = [6; AES_CBC_IV_LEN];
    const CIPHERTEXT: [u8; 32] = [7; 32];

    /// Encodes an "ENCRYPTED PRIVATE KEY" PEM with the given parameters
    /// around a ciphertext, without encrypting anything.
    fn encrypted_pem(kdf: pbes2::Kdf<'_>, encryption: pbes2::EncryptionScheme<'_>) -> String {
        let info = pkcs8::EncryptedPrivateKeyInfo {
            encryption_algorithm: pkcs8::pkcs5::EncryptionScheme::Pbes2(pbes2::Parameters {
                kdf,
                encryption,
            }),
            encrypted_data: &CIPHERTEXT,
        };
        let der = info.to_der().expect("encodes");
        pkcs8::der::pem::encode_string(LABEL_ENCRYPTED_PRIVATE_KEY, LineEnding::LF, &der)
            .expect("PEM")
    }

    fn pbkdf2_kdf(
        prf: pbes2::Pbkdf2Prf,
        iteration_count: u32,
        key_length: Option<u16>,
    ) -> pbes2::Kdf<'static> {
        pbes2::Kdf::Pbkdf2(pbes2::Pbkdf2Params {
            salt: &SALT,
            iteration_count,
            key_length,
            prf,
        })
    }

    fn scrypt_kdf(
        cost_parameter: u64,
        block_size: u16,
        parallelization: u16,
    ) -> pbes2::Kdf<'static> {
        pbes2::Kdf::Scrypt(pbes2::ScryptParams {
            salt: &SALT,
            cost_parameter,
            block_size,
            parallelization,
            key_length: None,
        })
    }

    #[test]
    fn pbkdf2_parameters_described() {
        let hashes = [
            (pbes2::Pbkdf2Prf::HmacWithSha1, Pbkdf2Hash::Sha1),
            (pbes2::Pbkdf2Prf::HmacWithSha224, Pbkdf2Hash::Sha224),
            (pbes2::Pbkdf2Prf::HmacWithSha256, Pbkdf2Hash::Sha256),
            (pbes2::Pbkdf2Prf::HmacWithSha384, Pbkdf2Hash::Sha384),
            (pbes2::Pbkdf2Prf::HmacWithSha512, Pbkdf2Hash::Sha512),
        ];
        let ciphers = [
            (pbes2::EncryptionScheme::Aes128Cbc { iv: &IV }, 16),
            (pbes2::EncryptionScheme::Aes192Cbc { iv: &IV }, 24),
            (pbes2::EncryptionScheme::Aes256Cbc { iv: &IV }, 32),
        ];
        for (prf, hash) in hashes {
            for (encryption, aes_key_len) in ciphers {
                let pem = encrypted_pem(pbkdf2_kdf(prf, 1234, None), encryption);
                let encrypted = read_encrypted_private_key_pem(&pem).expect("parses");
                let expected = KeyDerivation::Pbkdf2 {
                    hash,
                    salt: SALT.to_vec(),
                    iterations: 1234,
                };
                assert_eq!(encrypted.kdf(), &expected, "{prf:?}");
                assert_eq!(encrypted.aes_key_len(), aes_key_len, "{prf:?}");
                assert_eq!(encrypted.iv(), &IV);
                assert_eq!(encrypted.ciphertext(), &CIPHERTEXT[..]);
            }
        }
    }

    #[test]
    fn pbkdf2_iteration_bounds_checked() {
        let aes256 = pbes2::EncryptionScheme::Aes256Cbc { iv: &IV };
        let sha256 = pbes2::Pbkdf2Prf::HmacWithSha256;

        let at_max = encrypted_pem(pbkdf2_kdf(sha256, MAX_PBKDF2_ITERATIONS, None), aes256);
        assert!(read_encrypted_private_key_pem(&at_max).is_ok());

        let above_max = encrypted_pem(pbkdf2_kdf(sha256, MAX_PBKDF2_ITERATIONS + 1, None), aes256);
        let result = read_encrypted_private_key_pem(&above_max);
        assert!(
            matches!(result, Err(KeyFileError::UnsupportedAlgorithm(_))),
            "{result:?}"
        );

        let zero = encrypted_pem(pbkdf2_kdf(sha256, 0, None), aes256);
        let result = read_encrypted_private_key_pem(&zero);
        assert!(
            matches!(result, Err(KeyFileError::Malformed(_))),
            "{result:?}"
        );
    }

    #[test]
    fn scrypt_parameters_described_and_bounded() {
        let aes256 = pbes2::EncryptionScheme::Aes256Cbc { iv: &IV };

        let pem = encrypted_pem(scrypt_kdf(16_384, 8, 1), aes256);
        let encrypted = read_encrypted_private_key_pem(&pem).expect("parses");
        let expected = KeyDerivation::Scrypt {
            salt: SALT.to_vec(),
            cost: 16_384,
            block_size: 8,
            parallelization: 1,
        };
        assert_eq!(encrypted.kdf(), &expected);

        // 128 · r · N = 512 MiB, above MAX_SCRYPT_MEMORY.
        let costly = encrypted_pem(scrypt_kdf(1 << 19, 8, 1), aes256);
        let result = read_encrypted_private_key_pem(&costly);
        assert!(
            matches!(result, Err(KeyFileError::UnsupportedAlgorithm(_))),
            "{result:?}"
        );

        let parallel = encrypted_pem(
            scrypt_kdf(16_384, 8, MAX_SCRYPT_PARALLELIZATION + 1),
            aes256,
        );
        let result = read_encrypted_private_key_pem(&parallel);
        assert!(
            matches!(result, Err(KeyFileError::UnsupportedAlgorithm(_))),
            "{result:?}"
        );
    }

    #[test]
    fn declared_key_length_must_match_cipher() {
        let sha256 = pbes2::Pbkdf2Prf::HmacWithSha256;
        let aes256 = pbes2::EncryptionScheme::Aes256Cbc { iv: &IV };

        let matching = encrypted_pem(pbkdf2_kdf(sha256, 1000, Some(32)), aes256);
        assert!(read_encrypted_private_key_pem(&matching).is_ok());

        let mismatched = encrypted_pem(pbkdf2_kdf(sha256, 1000, Some(16)), aes256);
        let result = read_encrypted_private_key_pem(&mismatched);
        assert!(
            matches!(result, Err(KeyFileError::Malformed(_))),
            "{result:?}"
        );
    }

    #[test]
    fn plain_key_file_not_encrypted() {
        let key = p256::SecretKey::from_slice(&[0x31; 32]).expect("valid scalar");
        let pem = write_private_key_pem(&key, None).expect("writes");
        let result = read_encrypted_private_key_pem(&pem);
        assert!(
            matches!(result, Err(KeyFileError::NotEncrypted)),
            "{result:?}"
        );
    }

    #[test]
    fn decrypted_garbage_is_wrong_passphrase() {
        let result = private_key_from_decrypted_pkcs8(&CIPHERTEXT);
        assert!(
            matches!(result, Err(KeyFileError::WrongPassphrase)),
            "{result:?}"
        );
    }

    #[test]
    #[cfg(not(feature = "pbes2"))]
    fn encryption_needs_pbes2_feature() {
        let pem = encrypted_pem(
            pbkdf2_kdf(pbes2::Pbkdf2Prf::HmacWithSha256, 1000, None),
            pbes2::EncryptionScheme::Aes256Cbc { iv: &IV },
        );
        let result = read_private_key_pem(&pem, Some(b"pw"));
        assert!(
            matches!(result, Err(KeyFileError::Pbes2NotBuilt)),
            "{result:?}"
        );

        let key = p256::SecretKey::from_slice(&[0x32; 32]).expect("valid scalar");
        let result = write_private_key_pem(&key, Some(b"pw"));
        assert!(
            matches!(result, Err(KeyFileError::Pbes2NotBuilt)),
            "{result:?}"
        );
    }

    #[cfg(feature = "pbes2")]
    mod decrypt_outside {
        include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/decrypt_outside.rs"));
    }
    #[cfg(feature = "pbes2")]
    use decrypt_outside::decrypt_outside;

    #[test]
    #[cfg(feature = "pbes2")]
    fn split_decryption_matches_core() {
        use p256::pkcs8::EncodePrivateKey;

        let key = p256::SecretKey::from_slice(&[0x33; 32]).expect("valid scalar");
        let der = key.to_pkcs8_der().expect("DER");
        let info = pkcs8::PrivateKeyInfo::try_from(der.as_bytes()).expect("PKCS#8");
        let prfs = [
            pbes2::Pbkdf2Prf::HmacWithSha1,
            pbes2::Pbkdf2Prf::HmacWithSha224,
            pbes2::Pbkdf2Prf::HmacWithSha256,
            pbes2::Pbkdf2Prf::HmacWithSha384,
            pbes2::Pbkdf2Prf::HmacWithSha512,
        ];
        let ciphers = [
            pbes2::EncryptionScheme::Aes128Cbc { iv: &IV },
            pbes2::EncryptionScheme::Aes192Cbc { iv: &IV },
            pbes2::EncryptionScheme::Aes256Cbc { iv: &IV },
        ];
        for prf in prfs {
            for encryption in ciphers {
                let parameters = pbes2::Parameters {
                    kdf: pbkdf2_kdf(prf, 1000, None),
                    encryption,
                };
                let pem = info
                    .encrypt_with_params(parameters, b"pw")
                    .expect("encrypts")
                    .to_pem(LABEL_ENCRYPTED_PRIVATE_KEY, LineEnding::LF)
                    .expect("PEM");
                let case = format!("{prf:?} {:?}", encryption.oid());

                let encrypted = read_encrypted_private_key_pem(&pem).expect("parses");
                let plaintext = decrypt_outside(&encrypted, b"pw").expect("padding");
                let outside = private_key_from_decrypted_pkcs8(&plaintext)
                    .expect("reads")
                    .into_p256()
                    .expect("P-256");
                assert_eq!(outside.to_bytes(), key.to_bytes(), "{case}");

                let inside = read_private_key_pem(&pem, Some(b"pw"))
                    .expect("reads")
                    .into_p256()
                    .expect("P-256");
                assert_eq!(inside.to_bytes(), key.to_bytes(), "{case}");

                // A wrong passphrase fails the padding check or, about once
                // in 256 tries, yields bytes that are not PKCS#8.
                if let Some(garbage) = decrypt_outside(&encrypted, b"wrong") {
                    let result = private_key_from_decrypted_pkcs8(&garbage);
                    assert!(
                        matches!(result, Err(KeyFileError::WrongPassphrase)),
                        "{case}: {result:?}"
                    );
                }
            }
        }
    }
}
