//! Generates the test vectors in `tests/vectors/`: one scenario per file,
//! each with its expected outcome. Run from the repository root:
//!
//! ```text
//! cargo run -p valise-core --example gen_vectors
//! ```
//!
//! Keys are fixed so the files name the same keys on every run; nonces and
//! data keys are fresh, so the package bytes change on each run.

use std::path::PathBuf;

use base64::Engine as _;
use serde_json::{json, Value};
use time::macros::datetime;
use valise_core::assertions::{Label, Rights, Tlp};
use valise_core::container::ContainerWriter;
use valise_core::keys;
use valise_core::open::Package;
use valise_core::seal::{seal_bytes, Recipient, SealOptions, Signer};

const GENERATOR: &str = "cargo run -p valise-core --example gen_vectors";

fn secret(seed: u8) -> p256::SecretKey {
    let mut bytes = [seed; 32];
    bytes[0] = 0x01;
    p256::SecretKey::from_slice(&bytes).expect("valid scalar")
}

fn signing_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from(secret(0x51))
}

fn options(recipients: &[(u8, &str)], segment_size: u64) -> SealOptions {
    SealOptions {
        recipients: recipients.iter().map(|(seed, kid)| Recipient { public_key: secret(*seed).public_key(), kid: (*kid).into() }).collect(),
        signer: Signer { signing_key: signing_key(), kid: "signer-1".into(), org: "cert-a".into(), author: Some("Ana Analyst".into()) },
        // TLP:CLEAR with export, so that `valise open` without a trust
        // list may write the "opens" vectors out.
        label: Label { tlp: Tlp::Clear, marking: None },
        rights: Rights { print: false, ..Rights::all() },
        community: Some("example-isac".into()),
        media_type: "text/plain".into(),
        file_name: Some("indicators.txt".into()),
        created: datetime!(2026-12-04 12:00:00 UTC),
        segment_size,
        data_attributes: vec![],
        dissem: vec![],
        kas_url: String::new(),
        embed_signer_jwk: false,
    }
}

/// Splits a package into its payload entry and its manifest JSON.
fn parts(package: &[u8]) -> (Vec<u8>, Value) {
    let parsed = Package::parse_bytes(package).expect("parse");
    let entry = &parsed.container().payload;
    let start = entry.data_offset as usize;
    (package[start..start + entry.size as usize].to_vec(), parsed.manifest_value().clone())
}

fn rebuild(payload: &[u8], manifest: &[u8]) -> Vec<u8> {
    let mut writer = ContainerWriter::new(Vec::new(), payload.len() as u64).expect("writer");
    writer.write_payload(payload).expect("payload");
    writer.finish(manifest).expect("finish")
}

struct Vector {
    name: &'static str,
    description: &'static str,
    expected: &'static str,
    key_seed: u8,
    package: Vec<u8>,
    plaintext: Option<Vec<u8>>,
}

fn main() {
    let text = b"203.0.113.7 beacon; 198.51.100.23 staging; report follows.\n".repeat(40);
    let one = seal_bytes(&options(&[(1, "r1")], 1024), &text).expect("seal");
    let two = seal_bytes(&options(&[(1, "r1"), (2, "r2")], 1024), b"for two recipients").expect("seal");
    let other = seal_bytes(&options(&[(1, "r1")], 1024), &text).expect("seal");
    let (payload, manifest) = parts(&one);

    let mut vectors = vec![
        Vector { name: "opens-multi-segment", description: "Three segments of 1024 bytes (the last shorter), one recipient.", expected: "opens", key_seed: 1, package: one.clone(), plaintext: Some(text.clone()) },
        Vector { name: "opens-empty", description: "Empty plaintext: one segment of nonce and tag only.", expected: "opens", key_seed: 1, package: seal_bytes(&options(&[(1, "r1")], 1024), b"").expect("seal"), plaintext: Some(Vec::new()) },
        Vector { name: "opens-second-recipient", description: "Two ec-wrapped key access objects in one split; opened with the second recipient's key.", expected: "opens", key_seed: 2, package: two.clone(), plaintext: Some(b"for two recipients".to_vec()) },
        Vector { name: "wrong-key-non-recipient", description: "A P-256 key that no key access object was wrapped for.", expected: "wrong_key", key_seed: 3, package: two.clone(), plaintext: None },
    ];

    let mut flipped = one.clone();
    let start = Package::parse_bytes(&one).expect("parse").container().payload.data_offset as usize;
    flipped[start + 20] ^= 0x01;
    vectors.push(Vector { name: "integrity-ciphertext-bit", description: "One ciphertext bit of the first segment flipped.", expected: "integrity_failure", key_seed: 1, package: flipped, plaintext: None });

    let mut tag = one.clone();
    tag[start + 1024 + 28 - 1] ^= 0x80;
    vectors.push(Vector { name: "integrity-segment-tag", description: "The last byte of the first segment's GCM tag flipped.", expected: "integrity_failure", key_seed: 1, package: tag, plaintext: None });

    let (_, other_manifest) = parts(&other);
    vectors.push(Vector { name: "integrity-swapped-manifest", description: "The payload of one package with the manifest of another package of the same size, sealed for the same key.", expected: "integrity_failure", key_seed: 1, package: rebuild(&payload, &serde_json::to_vec(&other_manifest).expect("json")), plaintext: None });

    let mut relabelled = manifest.clone();
    relabelled["assertions"][0]["statement"]["value"]["tlp"] = json!("GREEN");
    vectors.push(Vector { name: "integrity-label-changed", description: "The label statement changed from CLEAR to GREEN after signing.", expected: "integrity_failure", key_seed: 1, package: rebuild(&payload, &serde_json::to_vec(&relabelled).expect("json")), plaintext: None });

    let mut swapped_assertion = manifest.clone();
    swapped_assertion["assertions"][2] = other_manifest["assertions"][2].clone();
    vectors.push(Vector { name: "integrity-swapped-provenance", description: "The provenance assertion, with its valid binding, taken from another package.", expected: "integrity_failure", key_seed: 1, package: rebuild(&payload, &serde_json::to_vec(&swapped_assertion).expect("json")), plaintext: None });

    let mut mime = manifest.clone();
    mime["payload"]["mimeType"] = json!("text/html");
    vectors.push(Vector { name: "integrity-media-type-changed", description: "payload.mimeType changed: covered by the manifest hash in every profile binding.", expected: "integrity_failure", key_seed: 1, package: rebuild(&payload, &serde_json::to_vec(&mime).expect("json")), plaintext: None });

    let mut policy = manifest.clone();
    let new_policy = base64::engine::general_purpose::STANDARD.encode(r#"{"uuid":"00000000-0000-4000-8000-000000000000","body":{"dataAttributes":[],"dissem":[]}}"#);
    policy["encryptionInformation"]["policy"] = json!(new_policy);
    vectors.push(Vector { name: "integrity-policy-changed", description: "The policy replaced: its binding under the data key no longer matches.", expected: "integrity_failure", key_seed: 1, package: rebuild(&payload, &serde_json::to_vec(&policy).expect("json")), plaintext: None });

    let mut root = manifest.clone();
    root["encryptionInformation"]["integrityInformation"]["rootSignature"]["sig"] = json!(base64::engine::general_purpose::STANDARD.encode([0u8; 32]));
    vectors.push(Vector { name: "integrity-root-signature", description: "rootSignature.sig replaced by 32 zero bytes.", expected: "integrity_failure", key_seed: 1, package: rebuild(&payload, &serde_json::to_vec(&root).expect("json")), plaintext: None });

    let mut duplicate = serde_json::to_string(&manifest).expect("json");
    duplicate = duplicate.replacen(r#""schemaVersion":"4.3.0""#, r#""schemaVersion":"4.3.0","schemaVersion":"4.3.0""#, 1);
    vectors.push(Vector { name: "malformed-duplicate-key", description: "The manifest repeats a member name.", expected: "malformed", key_seed: 1, package: rebuild(&payload, duplicate.as_bytes()), plaintext: None });

    let mut missing = manifest.clone();
    missing["assertions"].as_array_mut().expect("array").remove(1);
    vectors.push(Vector { name: "integrity-missing-rights", description: "The rights assertion removed: the policy names the profile, so all three statements must be present.", expected: "integrity_failure", key_seed: 1, package: rebuild(&payload, &serde_json::to_vec(&missing).expect("json")), plaintext: None });

    let mut stripped = manifest.clone();
    stripped.as_object_mut().expect("object").remove("assertions");
    vectors.push(Vector { name: "integrity-profile-stripped", description: "All three profile assertions removed: the policy still names the profile, so the package must not open as an unlabelled stock file.", expected: "integrity_failure", key_seed: 1, package: rebuild(&payload, &serde_json::to_vec(&stripped).expect("json")), plaintext: None });

    let mut sizes = manifest.clone();
    sizes["encryptionInformation"]["integrityInformation"]["segments"][0]["encryptedSegmentSize"] = json!(1024 + 29);
    vectors.push(Vector { name: "malformed-segment-size", description: "An encrypted segment size that is not the plaintext size plus 28.", expected: "malformed", key_seed: 1, package: rebuild(&payload, &serde_json::to_vec(&sizes).expect("json")), plaintext: None });

    let mut renamed = one.clone();
    let name = b"0.manifest.json";
    let positions: Vec<usize> = renamed.windows(name.len()).enumerate().filter(|(_, w)| w == name).map(|(i, _)| i).collect();
    for position in positions {
        renamed[position] = b'1';
    }
    vectors.push(Vector { name: "malformed-unexpected-entry", description: "The manifest entry renamed to 1.manifest.json in both headers.", expected: "malformed", key_seed: 1, package: renamed, plaintext: None });

    vectors.push(Vector { name: "malformed-truncated", description: "The package cut in the middle of the payload.", expected: "malformed", key_seed: 1, package: one[..one.len() / 2].to_vec(), plaintext: None });

    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors");
    std::fs::create_dir_all(&folder).expect("create tests/vectors");
    let signer_pem = keys::write_public_key_pem(&p256::PublicKey::from(signing_key().verifying_key()));
    for vector in vectors {
        let key_pem = keys::write_private_key_pem(&secret(vector.key_seed), None).expect("key PEM");
        let mut file = json!({
            "description": vector.description,
            "expected": vector.expected,
            "generator": GENERATOR,
            "recipientPrivateKeyPem": key_pem.as_str(),
            "signerKid": "signer-1",
            "signerPublicKeyPem": signer_pem,
            "packageBase64": base64::engine::general_purpose::STANDARD.encode(&vector.package),
        });
        if let Some(plaintext) = vector.plaintext {
            file["plaintextBase64"] = json!(base64::engine::general_purpose::STANDARD.encode(plaintext));
        }
        let path = folder.join(format!("{}.json", vector.name));
        std::fs::write(&path, serde_json::to_string_pretty(&file).expect("json") + "\n").expect("write vector");
        println!("wrote {}", path.display());
    }
}
