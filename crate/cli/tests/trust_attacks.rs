//! CLI tests of `valise open --trust` against hostile packages and trust
//! lists: each builds the attacker's file with the core library and checks
//! that the reader is refused.

mod common;

use std::path::Path;

use common::{community, exits, text, valise, PASSPHRASE};

use valise_core::assertions::{Label, Rights, Tlp};
use valise_core::credential::Credential;
use valise_core::jws;
use valise_core::keys::{self, PrivateKey};
use valise_core::limits::DEFAULT_SEGMENT_BYTES;
use valise_core::seal::{self, Recipient, SealOptions, Signer};
use valise_core::trust_list::{self, TrustList};

fn read_p256(path: &Path) -> p256::SecretKey {
    let pem = std::fs::read_to_string(path).expect("key file");
    let key = keys::read_private_key_pem(&pem, Some(PASSPHRASE.as_bytes())).expect("key reads");
    let PrivateKey::P256(key) = key else {
        unreachable!("valise writes P-256 keys only");
    };
    key
}

/// Reads the payload of a trust list file without verifying it.
fn read_list(path: &Path) -> TrustList {
    let token = trust_list::decode_file(&std::fs::read_to_string(path).expect("trust list")).expect("decodes");
    let payload = token.split('.').nth(1).expect("payload part");
    serde_json::from_slice(&jws::base64url_decode(payload).expect("base64url")).expect("trust list JSON")
}

/// Reads the payload of a credential file without verifying it.
fn read_credential(path: &Path) -> Credential {
    let token = std::fs::read_to_string(path).expect("credential");
    let (_, payload) = jws::decode_unverified(token.trim()).expect("decodes");
    serde_json::from_slice(&payload).expect("credential JSON")
}

fn seal_options(recipient: Recipient, signer: Signer, community: &str, tlp: Tlp) -> SealOptions {
    SealOptions {
        recipients: vec![recipient],
        signer,
        label: Label { tlp, marking: None },
        rights: Rights::all(),
        community: Some(community.to_owned()),
        media_type: "text/plain".into(),
        file_name: None,
        created: time::OffsetDateTime::now_utc(),
        segment_size: DEFAULT_SEGMENT_BYTES,
        data_attributes: vec![],
        dissem: vec![],
        kas_url: String::new(),
        embed_signer_jwk: false,
    }
}

#[test]
fn foreign_community_key_rejected() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    community(dir, "north", "https://north.example", "grid-north");
    community(dir, "south", "https://south.example", "grid-south");

    // The operator of north (or a member that chooses its own key ids) lists
    // an attacker key under the key id of a south member's signing key.
    let south = read_list(&dir.join("south/trust.json"));
    let victim_kid = south.members[0].signing_keys[0]["kid"].as_str().expect("kid").to_owned();
    let attacker = p256::SecretKey::random(&mut rand_core::OsRng);
    let mut north = read_list(&dir.join("north/trust.json"));
    north.members[0].signing_keys.push(jws::public_jwk(&attacker.public_key(), &victim_kid));
    north.version += 1;
    let token = north.sign(&read_p256(&dir.join("north/root.key.pem"))).expect("re-signs");
    std::fs::write(dir.join("north/trust.json"), trust_list::encode_file(&token).expect("encodes")).expect("writes");

    // The attacker seals a south package in the name of the south member.
    let alice = read_credential(&dir.join("south/alice.credential.jws"));
    let (alice_key, alice_kid) = jws::public_key_from_jwk(&alice.key_access_key).expect("alice key");
    let options = seal_options(
        Recipient { public_key: alice_key, kid: alice_kid.expect("kid") },
        Signer { signing_key: p256::ecdsa::SigningKey::from(&attacker), kid: victim_kid, org: "grid-south".into(), author: None },
        "https://south.example",
        Tlp::Green,
    );
    let forged = seal::seal_bytes(&options, b"forged advisory").expect("seals");
    std::fs::write(dir.join("forged.tdf"), forged).expect("writes");

    let output = exits(dir, 1, &[
        "open", "forged.tdf", "--trust", "north/trust.json", "--trust", "south/trust.json", "--identity", "south/alice",
    ]);
    assert!(output.contains("decision: deny"), "{output}");
    assert!(output.contains("signature_invalid"), "{output}");
    assert!(output.contains("gives to grid-south"), "{output}");
}

#[test]
fn impersonated_signer_named_in_denial() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    community(dir, "south", "https://south.example", "grid-south");

    // The attacker names the member's signing key id, embeds its own public
    // key and signs with it.
    let south = read_list(&dir.join("south/trust.json"));
    let member_kid = south.members[0].signing_keys[0]["kid"].as_str().expect("kid").to_owned();
    let attacker = p256::SecretKey::random(&mut rand_core::OsRng);
    let alice = read_credential(&dir.join("south/alice.credential.jws"));
    let (alice_key, alice_kid) = jws::public_key_from_jwk(&alice.key_access_key).expect("alice key");
    let mut options = seal_options(
        Recipient { public_key: alice_key, kid: alice_kid.expect("kid") },
        Signer { signing_key: p256::ecdsa::SigningKey::from(&attacker), kid: member_kid.clone(), org: "grid-south".into(), author: None },
        "https://south.example",
        Tlp::Green,
    );
    options.embed_signer_jwk = true;
    std::fs::write(dir.join("forged.tdf"), seal::seal_bytes(&options, b"forged advisory").expect("seals")).expect("writes");

    let output = exits(dir, 1, &["open", "forged.tdf", "--trust", "south/trust.json", "--identity", "south/alice"]);
    assert!(output.contains("decision: deny"), "{output}");
    assert!(output.contains("signature_invalid"), "{output}");
    assert!(output.contains(&format!("names signing key {member_kid}")), "{output}");
    assert!(output.contains("gives to grid-south"), "{output}");
    assert!(output.contains(&keys::jwk_thumbprint(&attacker.public_key())), "{output}");
    assert!(!output.contains("integrity check failed"), "{output}");

    // Under a trust list the list names the originator's key, so a
    // --signer of the reader's choosing is a usage error, not ignored.
    std::fs::write(dir.join("attacker.pub.pem"), keys::write_public_key_pem(&attacker.public_key())).expect("writes");
    let conflict = exits(dir, 2, &[
        "open", "forged.tdf", "--trust", "south/trust.json", "--identity", "south/alice", "--signer", "attacker.pub.pem",
    ]);
    assert!(conflict.contains("cannot be used with"), "{conflict}");
}

/// Rewrites a package's manifest with `change`, keeping its payload.
fn rewrite_manifest(path: &Path, change: impl FnOnce(&mut serde_json::Value)) {
    use valise_core::container::{Container, ContainerWriter};
    let bytes = std::fs::read(path).expect("package");
    let mut reader = std::io::Cursor::new(&bytes);
    let container = Container::read(&mut reader).expect("container");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&container.read_manifest(&mut reader).expect("manifest")).expect("manifest JSON");
    change(&mut manifest);
    let start = usize::try_from(container.payload.data_offset).expect("offset");
    let end = start + usize::try_from(container.payload.size).expect("size");
    let mut writer = ContainerWriter::new(Vec::new(), container.payload.size).expect("writer");
    writer.write_payload(&bytes[start..end]).expect("payload");
    let rewritten = writer.finish(&serde_json::to_vec(&manifest).expect("JSON")).expect("finish");
    std::fs::write(path, rewritten).expect("writes");
}

#[test]
fn revoked_key_renamed_kid_rejected() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    community(dir, "south", "https://south.example", "grid-south");
    std::fs::write(dir.join("note.txt"), "for alice").expect("write input");
    exits(dir, 0, &[
        "seal", "note.txt", "--trust", "south/trust.json", "--sign-key", "south/grid-south.sign.key.pem", "--label", "TLP:GREEN",
        "--to-person", "south/alice.credential.jws", "-o", "note.tdf",
    ]);
    let alice = read_credential(&dir.join("south/alice.credential.jws"));
    let alice_kid = alice.key_access_key["kid"].as_str().expect("kid").to_owned();
    exits(dir, 0, &["key", "revoke", "--trust", "south/trust.json", "--root-key", "south/root.key.pem", "--kid", &alice_kid]);
    let open = ["open", "note.tdf", "--trust", "south/trust.json", "--key", "south/alice.key.pem"];
    let refused = exits(dir, 1, &open);
    assert!(refused.contains("credential_invalid"), "{refused}");

    // Alice strips the profile assertions and renames her key access object
    // after an unrevoked key of her organization. The policy, bound to the
    // key access object, names the profile, so the copy does not pass for
    // an unlabelled file: it fails as altered.
    let org_kid = read_list(&dir.join("south/trust.json")).members[0].key_access_keys[0]["kid"]
        .as_str()
        .expect("kid")
        .to_owned();
    rewrite_manifest(&dir.join("note.tdf"), |manifest| {
        manifest["assertions"] = serde_json::json!([]);
        manifest["encryptionInformation"]["keyAccess"][0]["kid"] = org_kid.clone().into();
    });
    let output = exits(dir, 1, &open);
    assert!(output.contains("integrity check failed"), "{output}");
    assert!(!output.contains("decision: permit"), "{output}");
}

#[test]
fn same_version_fork_rejected() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    community(dir, "south", "https://south.example", "grid-south");
    let current = std::fs::read_to_string(dir.join("south/trust.json")).expect("trust list");
    let token = trust_list::decode_file(&current).expect("decodes");

    // The same content with the other valid ECDSA signature is the same list.
    let (input, signature) = token.rsplit_once('.').expect("three parts");
    let signature = p256::ecdsa::Signature::from_slice(&jws::base64url_decode(signature).expect("b64")).expect("signature");
    let (r, s) = signature.split_scalars();
    let flipped = p256::ecdsa::Signature::from_scalars(r, -*s).expect("valid scalars");
    let twin = format!("{input}.{}", jws::base64url_encode(&flipped.to_bytes()));
    std::fs::write(dir.join("twin.json"), trust_list::encode_file(&twin).expect("encodes")).expect("writes");
    exits(dir, 0, &["trust", "show", "twin.json"]);

    // A list signed by the root key with other content but the same version
    // (here without the member's revocation history, say) is refused.
    let mut fork = read_list(&dir.join("south/trust.json"));
    fork.name = "South, another edition".into();
    let forked = fork.sign(&read_p256(&dir.join("south/root.key.pem"))).expect("signs");
    std::fs::write(dir.join("fork.json"), trust_list::encode_file(&forked).expect("encodes")).expect("writes");
    let output = exits(dir, 1, &["trust", "show", "fork.json"]);
    assert!(output.contains("a different list with that version was already seen"), "{output}");
}

#[test]
fn dissem_person_needs_org() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    community(dir, "south", "https://south.example", "grid-south");
    std::fs::write(dir.join("note.txt"), "for alice").expect("write input");
    let seal = |dissem: &str| {
        let args = [
            "seal", "note.txt", "--trust", "south/trust.json", "--sign-key", "south/grid-south.sign.key.pem", "--label",
            "TLP:GREEN", "--to-person", "south/alice.credential.jws", "--dissem", dissem, "-o", "note.tdf",
        ];
        valise(dir, &args)
    };

    // A bare person id could be any organization's person.
    let bare = seal("alice@example.org");
    assert_eq!(bare.status.code(), Some(2), "{}", text(&bare));
    assert!(text(&bare).contains("ORG/PERSON"), "{}", text(&bare));
    assert!(!dir.join("note.tdf").exists());

    let sealed = seal("grid-south/alice@example.org");
    assert_eq!(sealed.status.code(), Some(0), "{}", text(&sealed));
    let opened = exits(dir, 0, &["open", "note.tdf", "--trust", "south/trust.json", "--identity", "south/alice"]);
    assert!(opened.contains("decision: permit"), "{opened}");
}
