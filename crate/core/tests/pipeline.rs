//! The threaded segment loops of seal and open: many segments round-trip
//! in order, and a bad segment stops the output before its first byte.

mod common;

use std::io::Cursor;

use common::{options, recipient, secret, signer_lookup};
use valise_core::open::{OpenError, Package, VerifiedPackage};
use valise_core::seal::seal_bytes;

/// Segment size of the test options, and bytes added to each segment.
const SEGMENT: usize = 1024;
const OVERHEAD: usize = 28;

fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 253) as u8).collect()
}

fn verify(package: &[u8]) -> VerifiedPackage {
    let parsed = Package::parse(&mut Cursor::new(package)).expect("parse");
    let unwrapped = parsed.unwrap(&secret(1), Some("r1")).expect("unwrap");
    parsed.verify(&unwrapped.data_key, &signer_lookup).expect("verify")
}

#[test]
fn open_many_segments_in_order() {
    // 37 full segments and a partial one: more than the buffers in flight.
    let input = plaintext(37 * SEGMENT + 300);
    let package = seal_bytes(&options(vec![recipient(1, "r1")]), &input).expect("seal");
    let verified = verify(&package);
    assert_eq!(verified.segments.len(), 38);
    let mut out = Vec::new();
    assert_eq!(verified.decrypt_to(&mut Cursor::new(&package), &mut out).expect("decrypt"), input.len() as u64);
    assert_eq!(out, input);
}

#[test]
fn open_output_stops_before_bad_segment() {
    let input = plaintext(12 * SEGMENT);
    let package = seal_bytes(&options(vec![recipient(1, "r1")]), &input).expect("seal");
    let verified = verify(&package);
    let (offset, _) = verified.payload_range();
    for bad in [0usize, 1, 5, 11] {
        let mut tampered = package.clone();
        // A byte of ciphertext in the middle of segment `bad`.
        let at = usize::try_from(offset).expect("offset") + bad * (SEGMENT + OVERHEAD) + 12 + SEGMENT / 2;
        tampered[at] ^= 0x40;
        let mut out = Vec::new();
        let error = verified.decrypt_to(&mut Cursor::new(&tampered), &mut out).expect_err("tampered segment accepted");
        assert!(matches!(error, OpenError::IntegrityFailure), "segment {bad}: {error}");
        assert_eq!(out, input[..bad * SEGMENT], "segment {bad}: output is not the verified prefix");
    }
}

#[test]
fn open_short_payload_is_rejected() {
    let input = plaintext(6 * SEGMENT);
    let package = seal_bytes(&options(vec![recipient(1, "r1")]), &input).expect("seal");
    let verified = verify(&package);
    let (offset, size) = verified.payload_range();
    let cut = usize::try_from(offset + size).expect("end") - 100;
    let mut out = Vec::new();
    let error = verified.decrypt_to(&mut Cursor::new(&package[..cut]), &mut out).expect_err("short payload was accepted");
    assert!(matches!(error, OpenError::IntegrityFailure), "{error}");
    assert!(out.len() <= 5 * SEGMENT);
}
