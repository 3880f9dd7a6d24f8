//! Tampering with a small sealed package: every byte flipped in turn and
//! every truncation is refused, except bytes that carry no meaning, which
//! must open to the identical verified content. Splicing tests live in
//! `roundtrip.rs`.

mod common;

use std::collections::BTreeMap;

use common::{options, recipient, secret, signer_lookup};
use valise_core::open::{open_bytes, RecipientKey, VerifiedPackage};
use valise_core::seal::seal_bytes;

/// Opens with recipient 1; returns the plaintext and the verified statements as JSON text.
fn open(bytes: &[u8]) -> Option<(Vec<u8>, String)> {
    let key = secret(1);
    let (verified, plaintext) = open_bytes(bytes, RecipientKey::P256(&key), None, &signer_lookup).ok()?;
    Some((plaintext.to_vec(), statements(&verified)))
}

fn statements(verified: &VerifiedPackage) -> String {
    serde_json::json!({
        "id": verified.package_id,
        "label": verified.label,
        "rights": verified.rights,
        "provenance": verified.provenance,
        "signer": verified.originator_signature_valid,
    })
    .to_string()
}

fn u16_at(bytes: &[u8], at: usize) -> usize {
    usize::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> usize {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
}

/// Lists the bytes that carry no meaning for a reader, each with the reason.
///
/// - "version needed to extract" in local and central headers: advisory; the
///   reader decides by the fields themselves (stock writers even disagree
///   between the two headers);
/// - "version made by", internal and external attributes in the central
///   directory: describe the writing host and file permissions, never used;
/// - modification time and date in both headers: the reader ignores them and
///   the writer fixes them at the DOS epoch.
fn harmless_bytes(bytes: &[u8]) -> BTreeMap<usize, &'static str> {
    let mut harmless = BTreeMap::new();
    let eocd = bytes.len() - 22;
    let cd_offset = u32_at(bytes, eocd + 16);
    let entries = u16_at(bytes, eocd + 10);
    let mut at = cd_offset;
    for _ in 0..entries {
        assert_eq!(&bytes[at..at + 4], b"PK\x01\x02", "central header at {at}");
        for offset in at + 4..at + 6 {
            harmless.insert(offset, "central version made by (unused)");
        }
        for offset in at + 6..at + 8 {
            harmless.insert(offset, "central version needed (advisory)");
        }
        for offset in at + 12..at + 16 {
            harmless.insert(offset, "central modification time and date (unused)");
        }
        for offset in at + 36..at + 42 {
            harmless.insert(offset, "central internal and external attributes (unused)");
        }
        let local = u32_at(bytes, at + 42);
        assert_eq!(&bytes[local..local + 4], b"PK\x03\x04", "local header at {local}");
        for offset in local + 4..local + 6 {
            harmless.insert(offset, "local version needed (advisory)");
        }
        for offset in local + 10..local + 14 {
            harmless.insert(offset, "local modification time and date (unused)");
        }
        at += 46 + u16_at(bytes, at + 28) + u16_at(bytes, at + 30) + u16_at(bytes, at + 32);
    }
    harmless
}

fn small_package() -> Vec<u8> {
    seal_bytes(&options(vec![recipient(1, "r1"), recipient(2, "r2")]), b"TLP:AMBER indicator list: 203.0.113.7").expect("seal")
}

#[test]
fn every_flipped_byte_is_refused_or_harmless() {
    let package = small_package();
    let original = open(&package).expect("the untouched package opens");
    let harmless = harmless_bytes(&package);
    assert_eq!(harmless.len(), 2 * (2 + 2 + 4 + 6 + 2 + 4), "two entries' worth of harmless bytes");

    let mut opened_anyway = Vec::new();
    for index in 0..package.len() {
        for mask in [0x01u8, 0xff] {
            let mut tampered = package.clone();
            tampered[index] ^= mask;
            match (open(&tampered), harmless.get(&index)) {
                (None, _) => {}
                (Some(result), Some(_)) => assert_eq!(result, original, "harmless byte {index} changed the verified content"),
                (Some(_), None) => opened_anyway.push((index, mask)),
            }
        }
    }
    assert!(opened_anyway.is_empty(), "flips that opened although the byte carries meaning: {opened_anyway:?}");
}

#[test]
fn harmless_bytes_do_open_identically() {
    // The bytes declared harmless really are: each flip opens to the same content.
    let package = small_package();
    let original = open(&package).expect("open");
    for (index, reason) in harmless_bytes(&package) {
        let mut tampered = package.clone();
        tampered[index] ^= 0xff;
        assert_eq!(open(&tampered).as_ref(), Some(&original), "byte {index} ({reason})");
    }
}

#[test]
fn every_truncation_is_refused() {
    let package = small_package();
    for len in 0..package.len() {
        assert!(open(&package[..len]).is_none(), "truncated to {len} bytes");
    }
}

#[test]
fn appended_byte_is_refused() {
    let mut package = small_package();
    package.push(0);
    assert!(open(&package).is_none());
}
