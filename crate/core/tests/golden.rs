//! Stock OpenTDF files (copied into `tests/opentdf/`, see its README) open
//! offline with the published RSA key `golden-r1` and give the plaintext
//! the upstream test suite expects; the parse-only files parse.

use std::path::PathBuf;

use rsa::pkcs8::DecodePrivateKey as _;
use valise_core::open::{open_bytes, BindingStatus, OpenError, Package, RecipientKey};

fn opentdf_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/opentdf")
}

fn read(path: &str) -> Vec<u8> {
    let full = opentdf_dir().join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
}

fn golden_key() -> rsa::RsaPrivateKey {
    let pem = String::from_utf8(read("golden/golden-r1.pem")).expect("PEM is text");
    rsa::RsaPrivateKey::from_pkcs8_pem(&pem).expect("golden-r1 key")
}

fn no_signer(_: &str) -> Option<p256::ecdsa::VerifyingKey> {
    None
}

fn open_golden(name: &str) -> (valise_core::open::VerifiedPackage, Vec<u8>) {
    let key = golden_key();
    let (verified, plaintext) = open_bytes(&read(&format!("golden/{name}")), RecipientKey::Rsa(&key), Some("golden-r1"), &no_signer)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    (verified, plaintext.to_vec())
}

#[test]
fn small_java_opens_to_zeros() {
    let (verified, plaintext) = open_golden("small-java-4.3.0-e0f8caf.tdf");
    assert_eq!(plaintext, vec![0u8; 5120]);
    assert!(verified.label.is_none(), "stock files are unlabelled");
    assert_eq!(verified.assertions.len(), 1);
    assert_eq!(verified.assertions[0].status, BindingStatus::VerifiedDataKey);
}

#[test]
fn no_splitids_opens_to_zeros() {
    let (verified, plaintext) = open_golden("no-splitids-java.tdf");
    assert_eq!(plaintext, vec![0u8; 5120]);
    assert_eq!(verified.assertions[0].status, BindingStatus::VerifiedDataKey);
}

#[test]
fn json_object_assertions_open_to_text() {
    let (verified, plaintext) = open_golden("with-json-object-assertions-java.tdf");
    assert_eq!(plaintext, b"text");
    assert_eq!(verified.assertions.len(), 2);
    assert!(verified.assertions.iter().all(|a| a.status == BindingStatus::VerifiedDataKey));
}

#[test]
fn key_management_no_split_opens_to_hello() {
    let (verified, plaintext) = open_golden("key-management-no-split-golden.tdf");
    assert_eq!(plaintext, b"hello\n");
    assert_eq!(verified.media_type.as_deref(), Some("text/plain; charset=utf-8"));
}

#[test]
fn xstext_opens_to_102_bytes_of_text() {
    let (_, plaintext) = open_golden("xstext-java-v0.7.5-94b161d53-DSP2.0.2_and_2.0.3.tdf");
    assert_eq!(plaintext.len(), 102);
    assert!(std::str::from_utf8(&plaintext).is_ok());
}

#[test]
fn golden_with_wrong_key_is_not_a_recipient() {
    let other = p256::SecretKey::from_slice(&[0x11; 32]).expect("key");
    let bytes = read("golden/small-java-4.3.0-e0f8caf.tdf");
    let package = Package::parse_bytes(&bytes).expect("parse");
    assert!(matches!(package.unwrap(&other, None), Err(OpenError::NotRecipient)));
}

#[test]
fn parse_only_files_parse() {
    let ec = Package::parse_bytes(&read("parse-only/platform-sample-ec-wrapped.tdf")).expect("ec-wrapped sample");
    let object = &ec.manifest().encryption_information.key_access[0];
    assert_eq!(object.kind, "ec-wrapped");
    assert_eq!(object.kid(), Some("e1"));
    let split = Package::parse_bytes(&read("parse-only/tdf-valid.tdf")).expect("two-split sample");
    let sids: Vec<&str> = split.manifest().encryption_information.key_access.iter().map(|o| o.split_id()).collect();
    assert_eq!(sids, ["a", "b"]);
}
