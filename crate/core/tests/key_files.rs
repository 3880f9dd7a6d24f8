//! Key files exchanged with OpenSSL: keys made by the `openssl` command line
//! import, and keys Valise writes open in `openssl`.
//!
//! These tests run the `openssl` binary (OpenSSL 3). When it is missing they
//! fail with a message saying to install it.

#![allow(clippy::panic, reason = "a test reports a failure by panicking")]

use std::path::{Path, PathBuf};
use std::process::Command;

use valise_core::keys::{
    private_key_from_decrypted_pkcs8, read_encrypted_private_key_pem, read_private_key_pem,
    read_public_key_pem, write_private_key_pem, write_public_key_pem, EncryptedPrivateKey,
    KeyDerivation, KeyFileError, Pbkdf2Hash, PrivateKey, PublicKey,
};

const PASSPHRASE: &str = "correct horse battery staple";

/// Runs `openssl` with the given arguments and returns its standard output.
/// Panics with the command's standard error when it fails.
fn openssl(args: &[&str]) -> String {
    let output = Command::new("openssl").args(args).output().unwrap_or_else(|e| {
        panic!(
            "cannot run `openssl` ({e}): install OpenSSL 3 (Debian: `apt-get install openssl`) to run the key file tests"
        )
    });
    assert!(
        output.status.success(),
        "openssl {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("openssl prints UTF-8")
}

/// Returns whether `openssl` succeeds, for the runs that are expected to fail.
fn openssl_succeeds(args: &[&str]) -> bool {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("`openssl` runs (install OpenSSL 3)")
        .status
        .success()
}

/// Creates an empty scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("key_files")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch folder");
    dir
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("scratch paths are UTF-8")
}

fn read_file(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn p256_of(key: PrivateKey) -> p256::SecretKey {
    match key {
        PrivateKey::P256(key) => key,
        other => panic!("expected a P-256 key, got {other:?}"),
    }
}

/// Generates a P-256 key with `openssl genpkey` and returns its path.
fn openssl_p256_key(dir: &Path) -> PathBuf {
    let plain = dir.join("plain.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        path_str(&plain),
    ]);
    plain
}

#[test]
fn openssl_encrypted_p256_imports() {
    let dir = scratch("openssl_encrypted_p256_imports");
    let plain = openssl_p256_key(&dir);
    let reference = p256_of(read_private_key_pem(&read_file(&plain), None).expect("plain key"));

    let passout = format!("pass:{PASSPHRASE}");
    let ciphers: [&[&str]; 3] = [
        &["-v2", "aes-256-cbc"],
        &["-v2", "aes-128-cbc"],
        &["-scrypt"],
    ];
    for (index, cipher) in ciphers.iter().enumerate() {
        let encrypted = dir.join(format!("encrypted-{index}.pem"));
        let mut args = vec!["pkcs8", "-topk8", "-in", path_str(&plain)];
        args.extend_from_slice(cipher);
        args.extend_from_slice(&["-passout", &passout, "-out", path_str(&encrypted)]);
        openssl(&args);

        let text = read_file(&encrypted);
        assert!(
            text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
            "{cipher:?}"
        );
        let imported =
            p256_of(read_private_key_pem(&text, Some(PASSPHRASE.as_bytes())).expect("imports"));
        assert_eq!(imported.to_bytes(), reference.to_bytes(), "{cipher:?}");

        let wrong = read_private_key_pem(&text, Some(b"wrong passphrase"));
        assert!(
            matches!(wrong, Err(KeyFileError::WrongPassphrase)),
            "{cipher:?}: {wrong:?}"
        );
        let missing = read_private_key_pem(&text, None);
        assert!(
            matches!(missing, Err(KeyFileError::PassphraseRequired)),
            "{cipher:?}"
        );
    }
}

#[path = "support/decrypt_outside.rs"]
mod decrypt_outside;
use decrypt_outside::decrypt_outside;

#[test]
fn openssl_encrypted_keys_split_decrypt() {
    let dir = scratch("openssl_encrypted_keys_split_decrypt");
    let plain = openssl_p256_key(&dir);
    let reference = p256_of(read_private_key_pem(&read_file(&plain), None).expect("plain key"));
    let passout = format!("pass:{PASSPHRASE}");

    let cases = [
        ("hmacWithSHA1", Pbkdf2Hash::Sha1, "aes-256-cbc", 32),
        ("hmacWithSHA224", Pbkdf2Hash::Sha224, "aes-128-cbc", 16),
        ("hmacWithSHA256", Pbkdf2Hash::Sha256, "aes-192-cbc", 24),
        ("hmacWithSHA384", Pbkdf2Hash::Sha384, "aes-256-cbc", 32),
        ("hmacWithSHA512", Pbkdf2Hash::Sha512, "aes-256-cbc", 32),
    ];
    for (prf, hash, cipher, aes_key_len) in cases {
        let encrypted_path = dir.join(format!("{prf}-{cipher}.pem"));
        openssl(&[
            "pkcs8",
            "-topk8",
            "-in",
            path_str(&plain),
            "-v2",
            cipher,
            "-v2prf",
            prf,
            "-iter",
            "4096",
            "-passout",
            &passout,
            "-out",
            path_str(&encrypted_path),
        ]);
        let text = read_file(&encrypted_path);

        let encrypted = read_encrypted_private_key_pem(&text).expect("parses");
        let KeyDerivation::Pbkdf2 {
            hash: read_hash,
            iterations,
            ..
        } = encrypted.kdf()
        else {
            panic!("{prf}: expected PBKDF2, got {:?}", encrypted.kdf());
        };
        assert_eq!(*read_hash, hash, "{prf}");
        assert_eq!(*iterations, 4096, "{prf}");
        assert_eq!(encrypted.aes_key_len(), aes_key_len, "{prf} {cipher}");

        let plaintext = decrypt_outside(&encrypted, PASSPHRASE.as_bytes()).expect("padding");
        let outside = p256_of(private_key_from_decrypted_pkcs8(&plaintext).expect("reads"));
        assert_eq!(outside.to_bytes(), reference.to_bytes(), "{prf} {cipher}");

        // The core's own decryption (the `pbes2` feature) reads the same key.
        let inside =
            p256_of(read_private_key_pem(&text, Some(PASSPHRASE.as_bytes())).expect("reads"));
        assert_eq!(inside.to_bytes(), reference.to_bytes(), "{prf} {cipher}");
    }

    let scrypt_path = dir.join("scrypt.pem");
    openssl(&[
        "pkcs8",
        "-topk8",
        "-in",
        path_str(&plain),
        "-scrypt",
        "-passout",
        &passout,
        "-out",
        path_str(&scrypt_path),
    ]);
    let encrypted = read_encrypted_private_key_pem(&read_file(&scrypt_path)).expect("parses");
    let KeyDerivation::Scrypt {
        cost,
        block_size,
        parallelization,
        ..
    } = encrypted.kdf()
    else {
        panic!("expected scrypt, got {:?}", encrypted.kdf());
    };
    // OpenSSL 3's defaults for `-scrypt`.
    assert_eq!((*cost, *block_size, *parallelization), (16_384, 8, 1));
}

#[test]
fn openssl_sec1_and_public_keys_import() {
    let dir = scratch("openssl_sec1_and_public_keys_import");
    let plain = openssl_p256_key(&dir);
    let reference = p256_of(read_private_key_pem(&read_file(&plain), None).expect("plain key"));

    let sec1 = openssl(&["ec", "-in", path_str(&plain)]);
    assert!(sec1.starts_with("-----BEGIN EC PRIVATE KEY-----"));
    let from_sec1 = p256_of(read_private_key_pem(&sec1, None).expect("SEC1 key"));
    assert_eq!(from_sec1.to_bytes(), reference.to_bytes());

    let public_pem = openssl(&["pkey", "-in", path_str(&plain), "-pubout"]);
    let public = read_public_key_pem(&public_pem).expect("SPKI");
    assert_eq!(public, PublicKey::P256(reference.public_key()));
    assert_eq!(write_public_key_pem(&reference.public_key()), public_pem);
}

#[test]
fn openssl_rsa_key_imports() {
    let dir = scratch("openssl_rsa_key_imports");
    let plain = dir.join("rsa.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        path_str(&plain),
    ]);
    let encrypted = openssl(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-in",
        path_str(&plain),
        "-passout",
        &format!("pass:{PASSPHRASE}"),
    ]);
    let key = read_private_key_pem(&encrypted, Some(PASSPHRASE.as_bytes())).expect("imports");
    assert!(matches!(key, PrivateKey::Rsa(_)));
    let public_pem = openssl(&["pkey", "-in", path_str(&plain), "-pubout"]);
    assert_eq!(
        read_public_key_pem(&public_pem).expect("SPKI"),
        key.public_key()
    );
}

#[test]
fn openssl_small_rsa_key_rejected() {
    let dir = scratch("openssl_small_rsa_key_rejected");
    let plain = dir.join("rsa1024.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:1024",
        "-out",
        path_str(&plain),
    ]);
    let result = read_private_key_pem(&read_file(&plain), None);
    assert!(
        matches!(result, Err(KeyFileError::UnsupportedAlgorithm(_))),
        "{result:?}"
    );
}

#[test]
fn openssl_other_curve_rejected() {
    let dir = scratch("openssl_other_curve_rejected");
    let plain = dir.join("p384.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-out",
        path_str(&plain),
    ]);
    let result = read_private_key_pem(&read_file(&plain), None);
    assert!(
        matches!(result, Err(KeyFileError::UnsupportedAlgorithm(_))),
        "{result:?}"
    );
}

#[test]
fn written_key_opens_in_openssl() {
    let dir = scratch("written_key_opens_in_openssl");
    let key = p256::SecretKey::random(&mut rand_core::OsRng);
    let written = write_private_key_pem(&key, Some(PASSPHRASE.as_bytes())).expect("writes");
    let path = dir.join("valise.pem");
    std::fs::write(&path, written.as_bytes()).expect("write key file");

    let decrypted = openssl(&[
        "pkcs8",
        "-in",
        path_str(&path),
        "-passin",
        &format!("pass:{PASSPHRASE}"),
    ]);
    assert!(decrypted.starts_with("-----BEGIN PRIVATE KEY-----"));
    let decrypted_path = dir.join("decrypted.pem");
    std::fs::write(&decrypted_path, &decrypted).expect("write decrypted key");

    let public_pem = openssl(&["ec", "-in", path_str(&decrypted_path), "-pubout"]);
    assert_eq!(public_pem, write_public_key_pem(&key.public_key()));

    let parameters = openssl(&["asn1parse", "-in", path_str(&path)]);
    assert!(parameters.contains("PBES2"), "{parameters}");
    assert!(parameters.contains("PBKDF2"), "{parameters}");
    assert!(parameters.contains("hmacWithSHA256"), "{parameters}");
    assert!(parameters.contains("aes-256-cbc"), "{parameters}");

    assert!(!openssl_succeeds(&[
        "pkcs8",
        "-in",
        path_str(&path),
        "-passin",
        "pass:wrong passphrase",
    ]));
    assert!(matches!(
        read_private_key_pem(&written, Some(b"wrong passphrase")),
        Err(KeyFileError::WrongPassphrase)
    ));
}

#[test]
fn written_plain_key_opens_in_openssl() {
    let dir = scratch("written_plain_key_opens_in_openssl");
    let key = p256::SecretKey::random(&mut rand_core::OsRng);
    let written = write_private_key_pem(&key, None).expect("writes");
    let path = dir.join("plain.pem");
    std::fs::write(&path, written.as_bytes()).expect("write key file");
    let public_pem = openssl(&["ec", "-in", path_str(&path), "-pubout"]);
    assert_eq!(public_pem, write_public_key_pem(&key.public_key()));
}

/// Prints how long one unlock of a key file written by Valise takes. Run
/// with `--ignored --nocapture`, in a debug and a release build.
#[test]
#[ignore = "a measurement, not a check"]
fn unlock_timing() {
    let key = p256::SecretKey::random(&mut rand_core::OsRng);
    let written = write_private_key_pem(&key, Some(PASSPHRASE.as_bytes())).expect("writes");
    let mut fastest = std::time::Duration::MAX;
    for _ in 0..3 {
        let started = std::time::Instant::now();
        let unlocked = read_private_key_pem(&written, Some(PASSPHRASE.as_bytes())).expect("reads");
        fastest = fastest.min(started.elapsed());
        assert_eq!(p256_of(unlocked).to_bytes(), key.to_bytes());
    }
    println!(
        "one unlock ({} PBKDF2-HMAC-SHA256 iterations): fastest of 3 runs {} ms",
        valise_core::keys::PBKDF2_ITERATIONS,
        fastest.as_millis()
    );
}
