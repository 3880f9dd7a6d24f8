//! Wycheproof test vectors (C2SP/wycheproof `testvectors_v1/`, copied to
//! `tests/wycheproof/` with their licence) run through the same functions
//! the package code calls:
//!
//! - ECDSA P-256/SHA-256 in IEEE P1363 form through `jws::verify_es256_raw`,
//!   which `jws::verify_es256` calls after splitting a token.
//! - ECDSA in DER form: the core has no DER signature path, so every case,
//!   valid DER or not, must be rejected by the JWS path.
//! - ECDH P-256 (SPKI, SEC1 point and JWK public keys) through
//!   `key_access::ecdh_shared_secret`, the parsing and key agreement of
//!   `unwrap_ec`, and `jws::public_key_from_jwk` for JWK keys.
//! - AES-256-GCM through `key_access::aes256gcm_open` and `aes256gcm_seal`,
//!   the primitive of the key unwrap and of the payload segments.
//! - HKDF-SHA256 through `key_access::hkdf_sha256`, the HKDF call of the
//!   key unwrap.
//! - Compact JWS (HS256 and ES256 groups) through `jws::verify_hs256` and
//!   `jws::verify_es256`.
//!
//! Verdicts: a `valid` case must be accepted with the expected output, an
//! `invalid` case must be rejected. An `acceptable` case is legal input
//! that implementations may reject (a compressed point, a BER encoding, an
//! explicitly encoded curve). Valise may reject it, but when it accepts it
//! the output must be the expected one. Each file reports every mismatch
//! with its `tcId`, then the counts.

#![allow(clippy::panic, reason = "a test reports a failure by panicking")]

use std::io::Read as _;
use std::path::PathBuf;

use serde_json::Value;
use valise_core::jws::{self, JwsError};
use valise_core::key_access::{self, KeyAccessError};
use valise_core::keys::{self, PublicKey};

fn vector_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/wycheproof");
    assert!(
        dir.is_dir(),
        "Wycheproof vectors not found at {}: they belong in the repository's tests/wycheproof folder",
        dir.display()
    );
    dir
}

/// Reads a vector file, gunzipping `*.json.gz`.
fn load(name: &str) -> Value {
    let path = vector_dir().join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let text = if name.ends_with(".gz") {
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut text)
            .unwrap_or_else(|e| panic!("gunzip {name}: {e}"));
        text
    } else {
        bytes
    };
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("parse {name}: {e}"))
}

fn groups(file: &Value) -> &[Value] {
    file["testGroups"].as_array().expect("testGroups array")
}

fn tests(group: &Value) -> &[Value] {
    group["tests"].as_array().expect("tests array")
}

fn text<'a>(value: &'a Value, name: &str) -> &'a str {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("member {name} is not a string in {value}"))
}

fn hex_field(value: &Value, name: &str) -> Vec<u8> {
    hex::decode(text(value, name)).unwrap_or_else(|e| panic!("member {name} is not hex: {e}"))
}

/// The verdict of one case, from the `result` member.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Verdict {
    Valid,
    Invalid,
    Acceptable,
}

fn verdict(case: &Value) -> Verdict {
    match text(case, "result") {
        "valid" => Verdict::Valid,
        "invalid" => Verdict::Invalid,
        "acceptable" => Verdict::Acceptable,
        other => panic!("unknown result {other:?} in tcId {}", case["tcId"]),
    }
}

/// Counts outcomes and collects mismatches for one vector file.
#[derive(Default)]
struct Report {
    file: &'static str,
    passed: usize,
    acceptable_accepted: usize,
    acceptable_rejected: usize,
    /// Cases not compared with the file's verdict: unsupported sizes or
    /// algorithms, and the documented exceptions.
    skipped: usize,
    mismatches: Vec<String>,
}

impl Report {
    fn new(file: &'static str) -> Report {
        Report {
            file,
            ..Report::default()
        }
    }

    /// Records a case: `outcome` is `Ok(true)` when accepted with the
    /// expected output, `Ok(false)` when accepted with another output, and
    /// `Err(reason)` when rejected.
    fn record(&mut self, case: &Value, outcome: Result<bool, String>) {
        let id = &case["tcId"];
        let comment = case["comment"].as_str().unwrap_or_default();
        match (verdict(case), outcome) {
            (Verdict::Valid, Ok(true)) | (Verdict::Invalid, Err(_)) => self.passed += 1,
            (Verdict::Acceptable, Ok(true)) => self.acceptable_accepted += 1,
            (Verdict::Acceptable, Err(_)) => self.acceptable_rejected += 1,
            (Verdict::Valid, Err(reason)) => self.mismatches.push(format!(
                "tcId {id} ({comment}): valid case rejected: {reason}"
            )),
            (Verdict::Invalid, Ok(_)) => self
                .mismatches
                .push(format!("tcId {id} ({comment}): invalid case accepted")),
            (verdict, Ok(false)) => self.mismatches.push(format!(
                "tcId {id} ({comment}): {verdict:?} case accepted with a wrong output"
            )),
        }
    }

    fn finish(self) {
        println!(
            "{}: {} passed, acceptable {} accepted and {} rejected, {} not compared (unsupported or documented exception)",
            self.file,
            self.passed,
            self.acceptable_accepted,
            self.acceptable_rejected,
            self.skipped
        );
        assert!(
            self.mismatches.is_empty(),
            "{}: {} mismatches:\n{}",
            self.file,
            self.mismatches.len(),
            self.mismatches.join("\n")
        );
        assert!(self.passed > 0, "{}: no case ran", self.file);
    }
}

/// Parses a big-endian private scalar of any length (Wycheproof adds a
/// leading zero byte when the top bit is set) into a P-256 secret key.
fn secret_key(bytes: &[u8]) -> p256::SecretKey {
    let significant: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    assert!(significant.len() <= 32, "private key longer than 32 bytes");
    let mut padded = [0u8; 32];
    padded[32 - significant.len()..].copy_from_slice(&significant);
    p256::SecretKey::from_slice(&padded).expect("Wycheproof private keys are valid scalars")
}

#[test]
fn ecdsa_p256_sha256_p1363() {
    let name = "ecdsa_secp256r1_sha256_p1363_test.json.gz";
    let file = load(name);
    let mut report = Report::new("ecdsa_secp256r1_sha256_p1363_test");
    for group in groups(&file) {
        let key = match keys::read_public_key_pem(text(group, "publicKeyPem")) {
            Ok(PublicKey::P256(key)) => p256::ecdsa::VerifyingKey::from(key),
            other => panic!("{name}: group public key does not load: {other:?}"),
        };
        for case in tests(group) {
            let msg = hex_field(case, "msg");
            let sig = hex_field(case, "sig");
            let outcome = jws::verify_es256_raw(&msg, &sig, &key)
                .map(|()| true)
                .map_err(|e| e.to_string());
            report.record(case, outcome);
        }
    }
    report.finish();
}

#[test]
fn ecdsa_p256_sha256_der_rejected() {
    // The core verifies ES256 only, whose signatures are raw r || s. A DER
    // signature is never accepted, even when it is valid DER.
    let file = load("ecdsa_secp256r1_sha256_test.json.gz");
    let mut rejected = 0;
    let mut accepted = Vec::new();
    for group in groups(&file) {
        let key = match keys::read_public_key_pem(text(group, "publicKeyPem")) {
            Ok(PublicKey::P256(key)) => p256::ecdsa::VerifyingKey::from(key),
            other => panic!("group public key does not load: {other:?}"),
        };
        for case in tests(group) {
            let msg = hex_field(case, "msg");
            let sig = hex_field(case, "sig");
            match jws::verify_es256_raw(&msg, &sig, &key) {
                Err(_) => rejected += 1,
                Ok(()) => accepted.push(case["tcId"].to_string()),
            }
        }
    }
    println!("ecdsa_secp256r1_sha256_test (DER): {rejected} cases rejected by the ES256 path");
    assert!(
        accepted.is_empty(),
        "DER-form signatures accepted by the ES256 path: tcId {}",
        accepted.join(", ")
    );
    assert!(rejected > 0);
}

fn ecdh_outcome(
    result: Result<zeroize::Zeroizing<[u8; 32]>, KeyAccessError>,
    expected: &[u8],
) -> Result<bool, String> {
    result
        .map(|shared| shared.as_slice() == expected)
        .map_err(|e| e.to_string())
}

#[test]
fn ecdh_p256_spki() {
    let file = load("ecdh_secp256r1_test.json.gz");
    let mut report = Report::new("ecdh_secp256r1_test");
    for group in groups(&file) {
        for case in tests(group) {
            let secret = secret_key(&hex_field(case, "private"));
            let public = hex_field(case, "public");
            let result = key_access::ecdh_shared_secret(&secret, &public);
            report.record(case, ecdh_outcome(result, &hex_field(case, "shared")));
        }
    }
    report.finish();
}

#[test]
fn ecdh_p256_ecpoint() {
    let file = load("ecdh_secp256r1_ecpoint_test.json");
    let mut report = Report::new("ecdh_secp256r1_ecpoint_test");
    for group in groups(&file) {
        for case in tests(group) {
            let secret = secret_key(&hex_field(case, "private"));
            let public = hex_field(case, "public");
            let result = key_access::ecdh_shared_secret(&secret, &public);
            report.record(case, ecdh_outcome(result, &hex_field(case, "shared")));
        }
    }
    report.finish();
}

#[test]
fn ecdh_p256_webcrypto_jwk() {
    let file = load("ecdh_secp256r1_webcrypto_test.json.gz");
    let mut report = Report::new("ecdh_secp256r1_webcrypto_test");
    for group in groups(&file) {
        for case in tests(group) {
            let d = jws::base64url_decode(text(&case["private"], "d")).expect("private d");
            let secret = secret_key(&d);
            let outcome = match jws::public_key_from_jwk(&case["public"]) {
                Err(e) => Err(e.to_string()),
                Ok((public, _kid)) => {
                    let point = p256::EncodedPoint::from(public);
                    let result = key_access::ecdh_shared_secret(&secret, point.as_bytes());
                    ecdh_outcome(result, &hex_field(case, "shared"))
                }
            };
            report.record(case, outcome);
        }
    }
    report.finish();
}

#[test]
fn aes_256_gcm() {
    let file = load("aes_gcm_test.keysize256.derived.json");
    let mut report = Report::new("aes_gcm_test.keysize256.derived");
    for group in groups(&file) {
        assert_eq!(group["keySize"], 256, "only 256-bit groups are expected");
        for case in tests(group) {
            let id = &case["tcId"];
            let key: [u8; 32] = hex_field(case, "key").try_into().expect("32-byte key");
            let iv = hex_field(case, "iv");
            let aad = hex_field(case, "aad");
            let msg = hex_field(case, "msg");
            let tag = hex_field(case, "tag");
            let mut sealed = hex_field(case, "ct");
            sealed.extend_from_slice(&tag);
            let result = key_access::aes256gcm_open(&key, &iv, &aad, &sealed);

            if iv.len() != key_access::GCM_NONCE_LEN || tag.len() != key_access::GCM_TAG_LEN {
                // Sizes the format never uses: rejected whatever the verdict.
                match result {
                    Err(KeyAccessError::UnsupportedNonceLength(len)) if len == iv.len() => {
                        report.skipped += 1;
                    }
                    other => report.mismatches.push(format!(
                        "tcId {id}: {}-byte nonce, {}-byte tag not rejected as unsupported: {other:?}",
                        iv.len(),
                        tag.len()
                    )),
                }
                continue;
            }

            if verdict(case) == Verdict::Valid {
                match key_access::aes256gcm_seal(&key, &iv, &aad, &msg) {
                    Ok(ours) if ours == sealed => {}
                    other => report.mismatches.push(format!(
                        "tcId {id}: encryption does not give ct || tag: {other:?}"
                    )),
                }
            }
            let outcome = result
                .map(|plaintext| plaintext.as_slice() == msg.as_slice())
                .map_err(|e| e.to_string());
            report.record(case, outcome);
        }
    }
    report.finish();
}

#[test]
fn hkdf_sha256() {
    let file = load("hkdf_sha256_test.json");
    let mut report = Report::new("hkdf_sha256_test");
    for group in groups(&file) {
        for case in tests(group) {
            let size = case["size"].as_u64().expect("size") as usize;
            let result = key_access::hkdf_sha256(
                &hex_field(case, "salt"),
                &hex_field(case, "ikm"),
                &hex_field(case, "info"),
                size,
            );
            let expected = hex_field(case, "okm");
            let outcome = result
                .map(|okm| okm.as_slice() == expected.as_slice())
                .map_err(|e| e.to_string());
            report.record(case, outcome);
        }
    }
    report.finish();
}

/// A compact JWS verifier bound to one group's key.
type Verifier = dyn Fn(&str) -> Result<jws::VerifiedJws, JwsError>;

/// Cases the file marks valid that Valise rejects on purpose: a `?`
/// inserted into the base64url header (372) or payload (373). The MAC
/// covers the text as sent, but RFC 7515 §2 allows only the base64url
/// alphabet, and Valise decodes strictly.
const JWS_STRICTER_THAN_FILE: [u64; 2] = [372, 373];

/// Cases the file marks invalid whose token is byte for byte the token of
/// the valid case 357 (`invalidBase64Padding`, `invalidBase64PaddingInPayload`:
/// the padding they describe is not in the file). No verifier can reject
/// them and accept 357, so they are skipped after checking that they are
/// still identical.
const JWS_SAME_AS_VALID_357: [u64; 2] = [367, 370];

#[test]
fn compact_jws_hs256_and_es256() {
    let file = load("json_web_signature_test.json.gz");
    let mut report = Report::new("json_web_signature_test");
    let token_of = |wanted: u64| -> String {
        groups(&file)
            .iter()
            .flat_map(tests)
            .find(|case| case["tcId"].as_u64() == Some(wanted))
            .map(|case| text(case, "jws").to_owned())
            .unwrap_or_else(|| panic!("tcId {wanted} not in the file"))
    };
    for id in JWS_SAME_AS_VALID_357 {
        assert_eq!(
            token_of(id),
            token_of(357),
            "tcId {id} now differs from tcId 357: run it as a normal case"
        );
    }
    for group in groups(&file) {
        let private = &group["private"];
        let verify: Box<Verifier> = match (private["kty"].as_str(), private["alg"].as_str()) {
            (Some("oct"), Some("HS256")) => {
                let key = jws::base64url_decode(text(private, "k")).expect("HS256 key");
                Box::new(move |token| jws::verify_hs256(token, &key))
            }
            (Some("EC"), Some("ES256")) => {
                let (public, _kid) =
                    jws::public_key_from_jwk(&group["public"]).expect("ES256 public JWK");
                let key = p256::ecdsa::VerifyingKey::from(public);
                Box::new(move |token| jws::verify_es256(token, &key))
            }
            _ => {
                // RSA, P-521 and key-type mismatch groups: algorithms
                // Valise does not implement.
                report.skipped += tests(group).len();
                continue;
            }
        };
        for case in tests(group) {
            let id = case["tcId"].as_u64().expect("tcId");
            if JWS_SAME_AS_VALID_357.contains(&id) {
                report.skipped += 1;
                continue;
            }
            let outcome = verify(text(case, "jws"))
                .map(|_| true)
                .map_err(|e| e.to_string());
            if JWS_STRICTER_THAN_FILE.contains(&id) {
                match outcome {
                    Err(_) => report.skipped += 1,
                    Ok(_) => report
                        .mismatches
                        .push(format!("tcId {id}: non-base64url character accepted")),
                }
                continue;
            }
            report.record(case, outcome);
        }
    }
    report.finish();
}
