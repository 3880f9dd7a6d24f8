// The reference decryption of an encrypted key file for the tests: the
// `pbkdf2` crate derives the key and the `cbc` crate decrypts, the two
// steps WebCrypto runs for the browser viewer. The unit tests of
// `keys/encrypted.rs` and `tests/key_files.rs` both include this file.

use super::{EncryptedPrivateKey, KeyDerivation, Pbkdf2Hash};

/// Derives the key with the `pbkdf2` crate and decrypts with the `cbc`
/// crate, the two steps WebCrypto runs for the browser viewer. Returns
/// `None` when the padding check fails.
pub(crate) fn decrypt_outside(encrypted: &EncryptedPrivateKey, passphrase: &[u8]) -> Option<Vec<u8>> {
    use cbc::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};

    let KeyDerivation::Pbkdf2 {
        hash,
        salt,
        iterations,
    } = encrypted.kdf()
    else {
        panic!("expected PBKDF2, got {:?}", encrypted.kdf());
    };
    let mut key = vec![0u8; encrypted.aes_key_len()];
    #[allow(unreachable_patterns, reason = "`Pbkdf2Hash` is non-exhaustive, so only the crate itself can match it without a wildcard")]
    match hash {
        Pbkdf2Hash::Sha1 => {
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(passphrase, salt, *iterations, &mut key)
        }
        Pbkdf2Hash::Sha224 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha224>(passphrase, salt, *iterations, &mut key)
        }
        Pbkdf2Hash::Sha256 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(passphrase, salt, *iterations, &mut key)
        }
        Pbkdf2Hash::Sha384 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha384>(passphrase, salt, *iterations, &mut key)
        }
        Pbkdf2Hash::Sha512 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha512>(passphrase, salt, *iterations, &mut key)
        }
        other => panic!("unexpected hash {other:?}"),
    }
    let iv = encrypted.iv();
    let ciphertext = encrypted.ciphertext();
    match key.len() {
        16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(&key, iv)
            .expect("key and IV lengths")
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            .ok(),
        24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(&key, iv)
            .expect("key and IV lengths")
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            .ok(),
        _ => cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, iv)
            .expect("key and IV lengths")
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            .ok(),
    }
}

