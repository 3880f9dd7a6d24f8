//! Runs every test vector in `tests/vectors/` (one scenario per file) and
//! checks its outcome against the file's `expected`: `opens`, `malformed`,
//! `wrong_key` or `integrity_failure`. The files are written by
//! `cargo run -p valise-core --example gen_vectors`.

use std::path::PathBuf;

use base64::Engine as _;
use serde_json::Value;
use valise_core::keys::{self, PublicKey};
use valise_core::open::{open_bytes, OpenError, RecipientKey};

fn outcome(error: &OpenError) -> &'static str {
    match error {
        OpenError::NotRecipient | OpenError::MissingSplits { .. } => "wrong_key",
        OpenError::IntegrityFailure => "integrity_failure",
        _ => "malformed",
    }
}

/// Runs one vector file; returns a description of the mismatch, if any.
fn run(path: &PathBuf) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let vector: Value = serde_json::from_str(&text).map_err(|e| format!("invalid JSON: {e}"))?;
    let field = |name: &str| vector[name].as_str().ok_or_else(|| format!("missing string member {name:?}"));
    let expected = field("expected")?;
    let base64 = base64::engine::general_purpose::STANDARD;
    let package = base64.decode(field("packageBase64")?).map_err(|e| format!("packageBase64: {e}"))?;
    let key = keys::read_private_key_pem(field("recipientPrivateKeyPem")?, None).map_err(|e| format!("recipient key: {e}"))?;
    let signer = match keys::read_public_key_pem(field("signerPublicKeyPem")?).map_err(|e| format!("signer key: {e}"))? {
        PublicKey::P256(key) => p256::ecdsa::VerifyingKey::from(&key),
        PublicKey::Rsa(_) => return Err("signer key is not P-256".into()),
    };
    let signer_kid = field("signerKid")?.to_owned();
    let lookup = move |kid: &str| (kid == signer_kid).then_some(signer);

    match open_bytes(&package, RecipientKey::from(&key), None, &lookup) {
        Ok((verified, plaintext)) => {
            if expected != "opens" {
                return Err(format!("expected {expected}, but the package opened"));
            }
            let wanted = base64.decode(field("plaintextBase64")?).map_err(|e| format!("plaintextBase64: {e}"))?;
            if *plaintext != wanted {
                return Err("opened to another plaintext".into());
            }
            if !verified.originator_signature_valid {
                return Err("opened, but the signer did not verify".into());
            }
            Ok(())
        }
        Err(error) if outcome(&error) == expected => Ok(()),
        Err(error) => Err(format!("expected {expected}, got {} ({error})", outcome(&error))),
    }
}

#[test]
fn every_vector_gives_its_expected_outcome() {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", folder.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 10, "expected the generated vectors in {}", folder.display());

    let mut failures = Vec::new();
    for path in &paths {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match run(path) {
            Ok(()) => println!("ok   {name}"),
            Err(reason) => {
                println!("FAIL {name}: {reason}");
                failures.push(format!("{name}: {reason}"));
            }
        }
    }
    assert!(failures.is_empty(), "vectors failed:\n{}", failures.join("\n"));
}

#[test]
fn outcomes_cover_the_closed_set() {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors");
    let mut seen = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&folder).expect("list vectors").flatten() {
        if entry.path().extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("read vector");
        let vector: Value = serde_json::from_str(&text).expect("vector JSON");
        let expected = vector["expected"].as_str().expect("expected").to_owned();
        assert!(["opens", "malformed", "wrong_key", "integrity_failure"].contains(&expected.as_str()), "{}: {expected}", entry.path().display());
        seen.insert(expected);
    }
    assert_eq!(seen.len(), 4, "every outcome has at least one vector: {seen:?}");
}
