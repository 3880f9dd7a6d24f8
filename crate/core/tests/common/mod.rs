//! Helpers shared by the integration tests: deterministic keys and seal options.

#![allow(dead_code, reason = "each test file uses a different subset")]

use p256::ecdsa::{SigningKey, VerifyingKey};
use time::macros::datetime;
use valise_core::assertions::{Label, Marking, Rights, Tlp};
use valise_core::seal::{Recipient, SealOptions, Signer};

/// Returns a P-256 key derived from one byte (test keys only).
pub(crate) fn secret(seed: u8) -> p256::SecretKey {
    let mut bytes = [seed; 32];
    bytes[0] = 0x01;
    p256::SecretKey::from_slice(&bytes).expect("valid scalar")
}

pub(crate) fn recipient(seed: u8, kid: &str) -> Recipient {
    Recipient { public_key: secret(seed).public_key(), kid: kid.into() }
}

pub(crate) fn signing_key() -> SigningKey {
    SigningKey::from(secret(0x51))
}

pub(crate) fn signer_lookup(kid: &str) -> Option<VerifyingKey> {
    (kid == "signer-1").then(|| *signing_key().verifying_key())
}

pub(crate) fn options(recipients: Vec<Recipient>) -> SealOptions {
    SealOptions {
        recipients,
        signer: Signer { signing_key: signing_key(), kid: "signer-1".into(), org: "cert-a".into(), author: Some("Ana".into()) },
        label: Label { tlp: Tlp::Amber, marking: Some(Marking { system: "CERT-A".into(), value: "Restricted".into() }) },
        rights: Rights { print: false, ..Rights::all() },
        community: Some("example-isac".into()),
        media_type: "application/pdf".into(),
        file_name: Some("report.pdf".into()),
        created: datetime!(2026-12-04 20:00:00 UTC),
        segment_size: 1024,
        data_attributes: vec!["https://example.org/attr/sector/value/energy".into()],
        dissem: vec![],
        kas_url: String::new(),
        embed_signer_jwk: true,
    }
}
