//! Seal then open: identical bytes, typed statements, second recipient,
//! non-recipient, and packages spliced from two others.

mod common;

use std::io::Cursor;
use std::path::PathBuf;

use base64::Engine;
use common::{options, recipient, secret, signer_lookup};
use valise_core::assertions::Tlp;
use valise_core::open::{open_bytes, BindingStatus, OpenError, Package, RecipientKey};
use valise_core::seal::seal_bytes;

fn open_with(bytes: &[u8], seed: u8) -> Result<Vec<u8>, OpenError> {
    let key = secret(seed);
    open_bytes(bytes, RecipientKey::P256(&key), None, &signer_lookup).map(|(_, plaintext)| plaintext.to_vec())
}

#[test]
fn report_pdf_round_trip() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/documents/TA14-353A_wiper.pdf");
    let pdf = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let package = seal_bytes(&options(vec![recipient(1, "r1"), recipient(2, "r2")]), &pdf).expect("seal");
    let key = secret(1);
    let (verified, plaintext) = open_bytes(&package, RecipientKey::P256(&key), Some("r1"), &signer_lookup).expect("open");
    assert_eq!(*plaintext, pdf);
    assert!(verified.originator_signature_valid);
    assert_eq!(verified.originator_kid.as_deref(), Some("signer-1"));
    assert_eq!(verified.label.as_ref().map(|l| l.tlp), Some(Tlp::Amber));
    assert_eq!(verified.rights.as_ref().map(|r| r.print), Some(false));
    let provenance = verified.provenance.as_ref().expect("provenance");
    assert_eq!(provenance.recipients, ["r1", "r2"]);
    assert_eq!(provenance.segment_sha256.len(), pdf.len().div_ceil(1024));
    assert!(verified.assertions.iter().all(|a| a.status == BindingStatus::VerifiedSigner));
}

#[test]
fn second_recipient_opens() {
    let package = seal_bytes(&options(vec![recipient(1, "r1"), recipient(2, "r2")]), b"shared text").expect("seal");
    assert_eq!(open_with(&package, 2).expect("second recipient"), b"shared text");
}

#[test]
fn non_recipient_is_refused() {
    let package = seal_bytes(&options(vec![recipient(1, "r1")]), b"secret").expect("seal");
    let error = open_with(&package, 3).expect_err("not a recipient");
    assert!(matches!(error, OpenError::NotRecipient), "{error}");
    assert!(error.to_string().contains("not a recipient"));
}

#[test]
fn empty_file_round_trip() {
    let package = seal_bytes(&options(vec![recipient(1, "r1")]), b"").expect("seal");
    assert_eq!(open_with(&package, 1).expect("open"), b"");
    let parsed = Package::parse_bytes(&package).expect("parse");
    assert_eq!(parsed.segments().len(), 1);
}

#[test]
fn segment_boundaries_round_trip() {
    for len in [1usize, 1023, 1024, 1025, 4096, 5000] {
        let plaintext: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let package = seal_bytes(&options(vec![recipient(1, "r1")]), &plaintext).expect("seal");
        assert_eq!(open_with(&package, 1).expect("open"), plaintext, "length {len}");
    }
}

#[test]
fn many_segments_round_trip() {
    // Each assertion binding contains every segment hash: 3,000 segments make
    // bindings of about 85 KB each, and the package must still open.
    let plaintext: Vec<u8> = (0..3000 * 1024).map(|i| (i % 251) as u8).collect();
    let package = seal_bytes(&options(vec![recipient(1, "r1")]), &plaintext).expect("seal");
    let key = secret(1);
    let (verified, opened) = open_bytes(&package, RecipientKey::P256(&key), None, &signer_lookup).expect("open");
    assert_eq!(*opened, plaintext);
    assert_eq!(verified.segments.len(), 3000);
    assert!(verified.assertions.iter().all(|a| a.status == BindingStatus::VerifiedSigner));
}

#[test]
fn unknown_signer_is_reported_not_trusted() {
    let package = seal_bytes(&options(vec![recipient(1, "r1")]), b"text").expect("seal");
    let key = secret(1);
    let (verified, _) = open_bytes(&package, RecipientKey::P256(&key), None, &|_| None).expect("open");
    assert!(!verified.originator_signature_valid);
    assert!(verified.assertions.iter().all(|a| a.status == BindingStatus::EmbeddedKeyOnly));
    // Statements under a signature no caller key checked are claims only.
    assert!(verified.label.is_none() && verified.rights.is_none() && verified.provenance.is_none());
    assert!(verified.has_profile);
    let claimed = verified.claimed_profile.as_ref().expect("claimed statements");
    assert_eq!(claimed.label.tlp, Tlp::Amber);
    assert!(!claimed.rights.print);
}

#[test]
fn verified_statements_are_not_claims() {
    let package = seal_bytes(&options(vec![recipient(1, "r1")]), b"text").expect("seal");
    let key = secret(1);
    let (verified, _) = open_bytes(&package, RecipientKey::P256(&key), None, &signer_lookup).expect("open");
    assert!(verified.claimed_profile.is_none());
    assert!(verified.has_profile && verified.label.is_some());
}

#[test]
fn stripped_profile_is_an_integrity_failure() {
    let package = seal_bytes(&options(vec![recipient(1, "r1")]), b"labelled text").expect("seal");
    let (payload, mut manifest) = parts(&package);
    manifest.as_object_mut().expect("object").remove("assertions");
    let stripped = rebuild(&payload, &manifest);
    let error = open_with(&stripped, 1).expect_err("stripped package");
    assert!(matches!(error, OpenError::IntegrityFailure), "{error}");
}

#[test]
fn wrong_signer_key_is_an_integrity_failure() {
    let package = seal_bytes(&options(vec![recipient(1, "r1")]), b"text").expect("seal");
    let key = secret(1);
    let other = *p256::ecdsa::SigningKey::from(secret(0x77)).verifying_key();
    let error = open_bytes(&package, RecipientKey::P256(&key), None, &|_| Some(other)).expect_err("wrong signer");
    assert!(matches!(error, OpenError::IntegrityFailure), "{error}");
}

/// Splits a package into (payload entry bytes, manifest bytes) by re-reading its container.
fn parts(bytes: &[u8]) -> (Vec<u8>, serde_json::Value) {
    let package = Package::parse_bytes(bytes).expect("parse");
    let payload = &package.container().payload;
    let start = payload.data_offset as usize;
    (bytes[start..start + payload.size as usize].to_vec(), package.manifest_value().clone())
}

fn rebuild(payload: &[u8], manifest: &serde_json::Value) -> Vec<u8> {
    let mut writer = valise_core::container::ContainerWriter::new(Vec::new(), payload.len() as u64).expect("writer");
    writer.write_payload(payload).expect("payload");
    writer.finish(&serde_json::to_vec(manifest).expect("json")).expect("finish")
}

#[test]
fn damaged_wrapped_key_is_an_integrity_failure() {
    let package = seal_bytes(&options(vec![recipient(1, "r1")]), b"text").expect("seal");
    let (payload, mut manifest) = parts(&package);
    let object = &mut manifest["encryptionInformation"]["keyAccess"][0];
    let mut wrapped = base64::engine::general_purpose::STANDARD.decode(object["wrappedKey"].as_str().expect("wrappedKey")).expect("base64");
    wrapped[5] ^= 1;
    object["wrappedKey"] = base64::engine::general_purpose::STANDARD.encode(&wrapped).into();
    let damaged = rebuild(&payload, &manifest);
    let key = secret(1);
    // The object names the reader's key id, so the package was sealed for them.
    let named = open_bytes(&damaged, RecipientKey::P256(&key), Some("r1"), &signer_lookup).expect_err("damaged key");
    assert!(matches!(named, OpenError::IntegrityFailure), "{named}");
    // Without a key id, nothing shows that the object was the reader's.
    let unnamed = open_bytes(&damaged, RecipientKey::P256(&key), None, &signer_lookup).expect_err("damaged key");
    assert!(matches!(unnamed, OpenError::NotRecipient), "{unnamed}");
}

#[test]
fn rebuilt_package_still_opens() {
    // The splicing helpers themselves keep a package valid.
    let package = seal_bytes(&options(vec![recipient(1, "r1")]), b"first").expect("seal");
    let (payload, manifest) = parts(&package);
    assert_eq!(open_with(&rebuild(&payload, &manifest), 1).expect("open"), b"first");
}

#[test]
fn swapped_manifest_is_refused() {
    let first = seal_bytes(&options(vec![recipient(1, "r1")]), b"first package").expect("seal");
    let second = seal_bytes(&options(vec![recipient(1, "r1")]), b"other package").expect("seal");
    let (payload, _) = parts(&first);
    let (_, manifest) = parts(&second);
    let error = open_with(&rebuild(&payload, &manifest), 1).expect_err("swapped manifest");
    assert!(matches!(error, OpenError::IntegrityFailure), "{error}");
}

#[test]
fn swapped_assertion_is_refused() {
    let first = seal_bytes(&options(vec![recipient(1, "r1")]), b"first package").expect("seal");
    let mut other_options = options(vec![recipient(1, "r1")]);
    other_options.label.tlp = Tlp::Clear;
    let second = seal_bytes(&other_options, b"first package").expect("seal");
    let (payload, mut manifest) = parts(&first);
    let (_, donor) = parts(&second);
    for index in 0..3 {
        let mut spliced = manifest.clone();
        spliced["assertions"][index] = donor["assertions"][index].clone();
        let error = open_with(&rebuild(&payload, &spliced), 1).expect_err("swapped assertion");
        assert!(matches!(error, OpenError::IntegrityFailure), "assertion {index}: {error}");
    }
    // Dropping the label altogether is refused too.
    manifest["assertions"].as_array_mut().expect("array").remove(0);
    assert!(open_with(&rebuild(&payload, &manifest), 1).is_err());
}

#[test]
fn streaming_decrypt_matches_in_memory() {
    let plaintext = vec![0x5a; 10_000];
    let package = seal_bytes(&options(vec![recipient(1, "r1")]), &plaintext).expect("seal");
    let parsed = Package::parse(&mut Cursor::new(&package)).expect("parse");
    let unwrapped = parsed.unwrap(&secret(1), Some("r1")).expect("unwrap");
    assert_eq!(unwrapped.kid.as_deref(), Some("r1"));
    let verified = parsed.verify(&unwrapped.data_key, &signer_lookup).expect("verify");
    let mut out = Vec::new();
    assert_eq!(verified.decrypt_to(&mut Cursor::new(&package), &mut out).expect("decrypt"), 10_000);
    assert_eq!(out, plaintext);
}

#[test]
fn unhinted_key_trials_are_capped() {
    use valise_core::limits::MAX_UNHINTED_KEY_TRIALS;
    let count = MAX_UNHINTED_KEY_TRIALS as u8 + 4;
    let recipients = (1..=count).map(|seed| recipient(seed, &format!("r{seed}"))).collect();
    let package = seal_bytes(&options(recipients), b"many recipients").expect("seal");
    let parsed = Package::parse_bytes(&package).expect("parse");

    // Within the limit, trying every object finds the reader's.
    let within = secret(MAX_UNHINTED_KEY_TRIALS as u8);
    parsed.unwrap(RecipientKey::P256(&within), None).expect("found by trying");
    // Past it, the reader must name its key id.
    let last = secret(count);
    let error = parsed.unwrap(RecipientKey::P256(&last), None).expect_err("too many trials");
    assert!(matches!(error, OpenError::NotRecipient), "{error}");
    let error = parsed.unwrap(RecipientKey::P256(&last), Some("wrong-kid")).expect_err("hint matches nothing");
    assert!(matches!(error, OpenError::NotRecipient), "{error}");
    parsed.unwrap(RecipientKey::P256(&last), Some(&format!("r{count}"))).expect("found by kid");
}

#[test]
fn duplicate_recipients_are_refused_at_seal() {
    let same_kid = seal_bytes(&options(vec![recipient(1, "r1"), recipient(2, "r1")]), b"x").expect_err("duplicate kid");
    assert!(same_kid.to_string().contains("duplicate recipient key id \"r1\""), "{same_kid}");
    let same_key = seal_bytes(&options(vec![recipient(1, "r1"), recipient(1, "r2")]), b"x").expect_err("duplicate key");
    assert!(same_key.to_string().contains("\"r1\" and \"r2\" are the same public key"), "{same_key}");
}
