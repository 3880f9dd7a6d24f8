use std::collections::HashMap;

use p256::ecdsa::SigningKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::macros::datetime;

use super::*;

/// A named edit of a signed event.
type Change = (&'static str, Box<dyn Fn(&mut Value)>);

/// Directory over a fixed map of key ids, standing in for the trust list.
struct Directory(HashMap<String, ReaderKey>);

impl ReaderDirectory for Directory {
    fn resolve(&self, lookup: &ReaderLookup<'_>) -> Result<ReaderKey, DirectoryError> {
        self.0
            .get(lookup.kid)
            .cloned()
            .ok_or_else(|| DirectoryError::UnknownKey(lookup.kid.to_owned()))
    }
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).expect("a constant scalar in range is a valid key")
}

fn reader(seed: u8, org: &str, person: &str) -> ReaderIdentity {
    ReaderIdentity {
        signing_key: key(seed),
        kid: format!("kid-{person}"),
        community: "fincert".into(),
        org: org.into(),
        person: person.into(),
        agent: "cli-1".into(),
        credential: Some("eyJhbGciOiJFUzI1NiJ9.e30.c2ln".into()),
    }
}

fn directory(readers: &[&ReaderIdentity]) -> Directory {
    let mut map = HashMap::new();
    for reader in readers {
        map.insert(
            reader.kid.clone(),
            ReaderKey {
                key: *reader.signing_key.verifying_key(),
                community: reader.community.clone(),
                org: reader.org.clone(),
                person: reader.person.clone(),
            },
        );
    }
    Directory(map)
}

fn draft(kind: EventKind) -> EventDraft {
    EventDraft {
        kind,
        package_id: "5b0c1f2e-9a53-4c1e-8d7f-2a4b6c8d0e1f".into(),
        decision: if kind == EventKind::Denied {
            Outcome::Deny
        } else {
            Outcome::Permit
        },
        reasons: if kind == EventKind::Denied {
            vec!["not_recipient".into()]
        } else {
            vec![]
        },
        rights: Some(RightsInForce {
            view: true,
            print: false,
            copy: false,
            forward: false,
            export: false,
            watermark: true,
        }),
        label: Some(EventLabel {
            tlp: "AMBER".into(),
            marking: Some("ACME Confidential".into()),
        }),
        originator: Some(OriginatorRef {
            org: "globex".into(),
            kid: Some("kid-globex".into()),
        }),
    }
}

fn id(n: u8) -> String {
    event_id_from_random([n; 16])
}

const TIME: OffsetDateTime = datetime!(2026-12-04 20:15:00 UTC);

fn sign_one(reader: &ReaderIdentity, chain: &mut ChainState, n: u8) -> SignedEvent {
    sign_event(&draft(EventKind::Opened), reader, chain, &id(n), TIME).expect("the draft is valid")
}

/// Parses a signed event, lets `change` edit it, and serialises it again.
fn edited(event: &SignedEvent, change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value: Value = serde_json::from_str(&event.json).expect("signed events are JSON");
    change(&mut value);
    serde_json::to_vec(&value).expect("a Value serialises")
}

#[test]
fn signed_event_verifies() {
    let alice = reader(1, "acme", "alice");
    let mut chain = ChainState::default();
    let signed = sign_one(&alice, &mut chain, 1);
    let verified = verify_event(signed.json.as_bytes(), &directory(&[&alice])).expect("verifies");

    assert_eq!(verified.id, signed.id);
    assert_eq!(verified.kind, EventKind::Opened);
    assert_eq!(verified.source, "valise://fincert/acme/alice/cli-1");
    assert_eq!(verified.subject, "5b0c1f2e-9a53-4c1e-8d7f-2a4b6c8d0e1f");
    assert_eq!(verified.time, TIME);
    assert_eq!(verified.kid, "kid-alice");
    assert_eq!(verified.data.seq, 1);
    assert_eq!(verified.data.prev_hash, "0".repeat(64));
    assert_eq!(verified.hash, signed.hash);
    assert_eq!(verified.canonical, signed.json);
    let digest: [u8; 32] = Sha256::digest(signed.json.as_bytes()).into();
    assert_eq!(signed.hash, digest);
}

#[test]
fn signed_event_has_cloudevents_attributes() {
    let alice = reader(1, "acme", "alice");
    let signed = sign_one(&alice, &mut ChainState::default(), 1);
    let value: Value = serde_json::from_str(&signed.json).expect("JSON");
    assert_eq!(value["specversion"], "1.0");
    assert_eq!(value["type"], "org.valise.access.opened");
    assert_eq!(value["datacontenttype"], "application/json");
    assert_eq!(value["time"], "2026-12-04T20:15:00Z");
    assert_eq!(value["data"]["reader"], json!({"org": "acme", "person": "alice"}));
    assert_eq!(value["valisecred"], "eyJhbGciOiJFUzI1NiJ9.e30.c2ln");
    let signature = value["valisesig"].as_str().expect("a string");
    assert_eq!(signature.split('.').nth(1), Some(""), "the payload is detached");
    // Version 4 UUID from the random bytes.
    assert_eq!(signed.id.as_bytes()[14], b'4');
}

#[test]
fn chain_links_consecutive_events() {
    let alice = reader(1, "acme", "alice");
    let mut chain = ChainState::default();
    let first = sign_one(&alice, &mut chain, 1);
    assert_eq!(chain.seq, 1);
    assert_eq!(chain.prev_hash, hex::encode(first.hash));
    let second = sign_one(&alice, &mut chain, 2);
    let verified = verify_event(second.json.as_bytes(), &directory(&[&alice])).expect("verifies");
    assert_eq!(verified.data.seq, 2);
    assert_eq!(verified.data.prev_hash, hex::encode(first.hash));
    assert_eq!(chain.seq, 2);
    assert_eq!(chain.prev_hash, hex::encode(second.hash));
}

#[test]
fn chain_state_unchanged_on_error() {
    let alice = reader(1, "acme", "alice");
    let mut chain = ChainState::default();
    let result = sign_event(&draft(EventKind::Opened), &alice, &mut chain, "not-a-uuid", TIME);
    assert!(matches!(result, Err(EventError::InvalidDraft(_))));
    assert_eq!(chain, ChainState::default());
}

#[test]
fn every_kind_round_trips() {
    let alice = reader(1, "acme", "alice");
    let dir = directory(&[&alice]);
    let mut chain = ChainState::default();
    for (n, kind) in EventKind::ALL.into_iter().enumerate() {
        let n = u8::try_from(n).expect("nine kinds");
        let signed = sign_event(&draft(kind), &alice, &mut chain, &id(n), TIME).expect("signs");
        let verified = verify_event(signed.json.as_bytes(), &dir).expect("verifies");
        assert_eq!(verified.kind, kind);
        assert_eq!(EventKind::from_event_type(&kind.event_type()), Some(kind));
    }
    assert_eq!(EventKind::from_event_type("org.valise.access.unknown"), None);
    assert_eq!(EventKind::from_event_type("opened"), None);
}

#[test]
fn reordered_members_still_verify() {
    let alice = reader(1, "acme", "alice");
    let signed = sign_one(&alice, &mut ChainState::default(), 1);
    let value: Value = serde_json::from_str(&signed.json).expect("JSON");
    // Pretty-printed with members in insertion order: same canonical bytes.
    let mut reversed = serde_json::Map::new();
    for (name, member) in value.as_object().expect("object").iter().rev() {
        reversed.insert(name.clone(), member.clone());
    }
    let bytes = serde_json::to_vec_pretty(&Value::Object(reversed)).expect("serialises");
    let verified = verify_event(&bytes, &directory(&[&alice])).expect("verifies");
    assert_eq!(verified.hash, signed.hash);
}

#[test]
fn altered_members_fail_signature() {
    let alice = reader(1, "acme", "alice");
    let dir = directory(&[&alice]);
    let signed = sign_one(&alice, &mut ChainState::default(), 1);
    let changes: Vec<Change> = vec![
        ("subject", Box::new(|v| v["subject"] = json!("other-package"))),
        ("decision", Box::new(|v| v["data"]["decision"] = json!("deny"))),
        ("type", Box::new(|v| v["type"] = json!("org.valise.access.denied"))),
        ("time", Box::new(|v| v["time"] = json!("2026-12-04T20:15:01Z"))),
        ("rights", Box::new(|v| v["data"]["rights"]["print"] = json!(true))),
        ("label", Box::new(|v| v["data"]["label"]["tlp"] = json!("CLEAR"))),
        ("reasons", Box::new(|v| v["data"]["reasons"] = json!(["expired"]))),
        ("id", Box::new(|v| v["id"] = json!(event_id_from_random([9; 16])))),
        ("credential", Box::new(|v| v["valisecred"] = json!("x.y.z"))),
        ("agent", Box::new(|v| v["source"] = json!("valise://fincert/acme/alice/cli-2"))),
        ("originator", Box::new(|v| v["data"]["originator"] = Value::Null)),
    ];
    for (name, change) in changes {
        let bytes = edited(&signed, change);
        assert_eq!(
            verify_event(&bytes, &dir),
            Err(EventError::SignatureInvalid),
            "altered {name}"
        );
    }
}

#[test]
fn altered_signature_fails() {
    let alice = reader(1, "acme", "alice");
    let signed = sign_one(&alice, &mut ChainState::default(), 1);
    let bytes = edited(&signed, |v| {
        let signature = v["valisesig"].as_str().expect("string").to_owned();
        let (head, last) = signature.split_at(signature.len() - 2);
        let flipped = if last == "AA" { "AB" } else { "AA" };
        v["valisesig"] = json!(format!("{head}{flipped}"));
    });
    assert_eq!(
        verify_event(&bytes, &directory(&[&alice])),
        Err(EventError::SignatureInvalid)
    );
}

#[test]
fn key_of_other_member_fails() {
    let alice = reader(1, "acme", "alice");
    let mallory = reader(2, "evil", "mallory");
    // Mallory signs with her own key but names Alice's key id.
    let mut forger = reader(2, "acme", "alice");
    forger.kid = alice.kid.clone();
    let forged = sign_one(&forger, &mut ChainState::default(), 1);
    assert_eq!(
        verify_event(forged.json.as_bytes(), &directory(&[&alice, &mallory])),
        Err(EventError::SignatureInvalid)
    );

    // Mallory signs with her own key id and claims to be Alice.
    let mut impostor = reader(2, "acme", "alice");
    impostor.kid = mallory.kid.clone();
    let forged = sign_one(&impostor, &mut ChainState::default(), 1);
    assert!(matches!(
        verify_event(forged.json.as_bytes(), &directory(&[&alice, &mallory])),
        Err(EventError::ReaderMismatch { field: "org", .. })
    ));
}

#[test]
fn unknown_key_rejected() {
    let alice = reader(1, "acme", "alice");
    let signed = sign_one(&alice, &mut ChainState::default(), 1);
    let result = verify_event(signed.json.as_bytes(), &directory(&[]));
    assert_eq!(
        result,
        Err(EventError::UnknownReader(DirectoryError::UnknownKey("kid-alice".into())))
    );
    assert_eq!(result.err().map(|e| e.code()), Some("unknown_reader"));
}

#[test]
fn missing_signature_rejected() {
    let alice = reader(1, "acme", "alice");
    let signed = sign_one(&alice, &mut ChainState::default(), 1);
    let bytes = edited(&signed, |v| {
        v.as_object_mut().expect("object").remove("valisesig");
    });
    assert_eq!(
        verify_event(&bytes, &directory(&[&alice])),
        Err(EventError::MissingSignature)
    );
}

#[test]
fn attached_payload_rejected() {
    let alice = reader(1, "acme", "alice");
    let signed = sign_one(&alice, &mut ChainState::default(), 1);
    let bytes = edited(&signed, |v| {
        let signature = v["valisesig"].as_str().expect("string").replace("..", ".e30.");
        v["valisesig"] = json!(signature);
    });
    assert!(matches!(
        verify_event(&bytes, &directory(&[&alice])),
        Err(EventError::Malformed(_))
    ));
}

#[test]
fn malformed_events_rejected() {
    let alice = reader(1, "acme", "alice");
    let dir = directory(&[&alice]);
    let signed = sign_one(&alice, &mut ChainState::default(), 1);
    let changes: Vec<Change> = vec![
        ("specversion", Box::new(|v| v["specversion"] = json!("0.3"))),
        ("unknown type", Box::new(|v| v["type"] = json!("org.valise.access.peeked"))),
        ("foreign type", Box::new(|v| v["type"] = json!("com.example.opened"))),
        ("uppercase id", Box::new(|v| v["id"] = json!("ABABABAB-ABAB-4BAB-ABAB-ABABABABABAB"))),
        ("time", Box::new(|v| v["time"] = json!("yesterday"))),
        ("datacontenttype", Box::new(|v| v["datacontenttype"] = json!("text/plain"))),
        ("empty subject", Box::new(|v| v["subject"] = json!(""))),
        ("extra attribute", Box::new(|v| v["dataschema"] = json!("urn:x"))),
        ("extra data member", Box::new(|v| v["data"]["note"] = json!("x"))),
        ("source scheme", Box::new(|v| v["source"] = json!("https://fincert/acme/alice/cli-1"))),
        ("source segments", Box::new(|v| v["source"] = json!("valise://fincert/acme/alice"))),
        ("reader differs", Box::new(|v| v["data"]["reader"]["person"] = json!("bob"))),
        ("seq zero", Box::new(|v| v["data"]["seq"] = json!(0))),
        ("seq float", Box::new(|v| v["data"]["seq"] = json!(1.5))),
        ("seq huge", Box::new(|v| v["data"]["seq"] = json!(u64::MAX))),
        ("prevHash length", Box::new(|v| v["data"]["prevHash"] = json!("00"))),
        ("prevHash first", Box::new(|v| v["data"]["prevHash"] = json!("1".repeat(64)))),
        ("reason code", Box::new(|v| v["data"]["reasons"] = json!(["Not Recipient"]))),
        ("decision", Box::new(|v| v["data"]["decision"] = json!("maybe"))),
        ("tlp", Box::new(|v| v["data"]["label"]["tlp"] = json!("TLP:AMBER"))),
        ("signature type", Box::new(|v| v["valisesig"] = json!(42))),
        ("signature shape", Box::new(|v| v["valisesig"] = json!("a.b"))),
    ];
    for (name, change) in changes {
        let bytes = edited(&signed, change);
        let result = verify_event(&bytes, &dir);
        assert!(
            matches!(result, Err(EventError::Malformed(_))),
            "{name}: {result:?}"
        );
    }
}

#[test]
fn duplicate_member_rejected() {
    let alice = reader(1, "acme", "alice");
    let signed = sign_one(&alice, &mut ChainState::default(), 1);
    let duplicated = signed
        .json
        .replacen("{\"data\"", "{\"subject\":\"x\",\"data\"", 1);
    assert_ne!(duplicated, signed.json);
    let result = verify_event(duplicated.as_bytes(), &directory(&[&alice]));
    assert!(
        matches!(&result, Err(EventError::Malformed(m)) if m.contains("duplicate")),
        "{result:?}"
    );
}

#[test]
fn deep_nesting_rejected() {
    let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
    let result = parse_batch(deep.as_bytes(), 10);
    assert!(
        matches!(&result, Err(EventError::Malformed(m)) if m.contains("deeper")),
        "{result:?}"
    );
    let shallow = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(parse_batch(shallow.as_bytes(), 10).is_ok());
}

#[test]
fn oversized_event_rejected() {
    let alice = reader(1, "acme", "alice");
    let signed = sign_one(&alice, &mut ChainState::default(), 1);
    let bytes = edited(&signed, |v| v["valisecred"] = json!("a".repeat(MAX_EVENT_BYTES)));
    assert!(matches!(
        verify_event(&bytes, &directory(&[&alice])),
        Err(EventError::TooLarge { .. })
    ));
    let mut big = reader(1, "acme", "alice");
    big.credential = Some("a".repeat(MAX_EVENT_BYTES));
    let result = sign_event(&draft(EventKind::Opened), &big, &mut ChainState::default(), &id(1), TIME);
    assert!(matches!(result, Err(EventError::TooLarge { .. })), "{result:?}");
}

#[test]
fn trailing_bytes_rejected() {
    let alice = reader(1, "acme", "alice");
    let signed = sign_one(&alice, &mut ChainState::default(), 1);
    let bytes = format!("{} {{}}", signed.json);
    assert!(matches!(
        verify_event(bytes.as_bytes(), &directory(&[&alice])),
        Err(EventError::Malformed(_))
    ));
}

#[test]
fn batch_parsing_bounds() {
    assert_eq!(parse_batch(b"[{},{}]", 2).map(|v| v.len()), Ok(2));
    assert_eq!(parse_batch(b"{}", 2).map(|v| v.len()), Ok(1));
    assert!(matches!(parse_batch(b"[{},{},{}]", 2), Err(EventError::Malformed(_))));
    assert!(matches!(parse_batch(b"\"text\"", 2), Err(EventError::Malformed(_))));
    assert!(matches!(parse_batch(b"[{\"a\":1,\"a\":2}]", 2), Err(EventError::Malformed(_))));
    assert!(matches!(parse_batch(b"[{}", 2), Err(EventError::Malformed(_))));
}

#[test]
fn canonical_form_sorts_by_utf16() {
    // RFC 8785 section 3.2.3: members sorted by UTF-16 code units, so
    // U+1F600 (a surrogate pair starting 0xD83D) sorts before U+FB33.
    let value = json!({
        "\u{20ac}": "Euro Sign",
        "\r": "Carriage Return",
        "\u{fb33}": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\u{1f600}": "Emoji: Grinning Face",
        "\u{80}": "Control",
        "\u{f6}": "Latin Small Letter O With Diaeresis"
    });
    let text = String::from_utf8(canonical_bytes(&value).expect("canonical")).expect("UTF-8");
    let order: Vec<&str> = ["\\r", "1", "\u{80}", "\u{f6}", "\u{20ac}", "\u{1f600}", "\u{fb33}"]
        .to_vec();
    let mut last = 0;
    for name in order {
        let at = text.find(&format!("\"{name}\":")).expect("member present");
        assert!(at >= last, "{name:?} out of order in {text}");
        last = at;
    }
}

#[test]
fn canonical_form_of_literals() {
    let value = json!({"b": [true, false, null, -5, 0, 9007199254740991_u64], "a": "tab\tquote\"\u{1}é/"});
    let text = String::from_utf8(canonical_bytes(&value).expect("canonical")).expect("UTF-8");
    assert_eq!(
        text,
        "{\"a\":\"tab\\tquote\\\"\\u0001é/\",\"b\":[true,false,null,-5,0,9007199254740991]}"
    );
    assert!(canonical_bytes(&json!(1.5)).is_err());
    assert!(canonical_bytes(&json!(9007199254740992_u64)).is_err());
    assert!(canonical_bytes(&json!(-9007199254740992_i64)).is_err());
}

#[test]
fn source_round_trips_with_escapes() {
    let source = EventSource {
        community: "fin cert".into(),
        org: "acme".into(),
        person: "alice@acme.example".into(),
        agent: "web-1".into(),
    };
    let text = source.to_string();
    assert_eq!(text, "valise://fin%20cert/acme/alice%40acme.example/web-1");
    assert_eq!(EventSource::parse(&text), Ok(source));
    for bad in [
        "valise://a/b/c",
        "valise://a/b/c/d/e",
        "valise://a//c/d",
        "valise://a/b/c/%4",
        "valise://a/b/c/%41",
        "valise://a/b/c/%2f",
        "valise://a/b/c/d@e",
        "valise://a/b/c/%FF",
    ] {
        assert!(EventSource::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn identity_debug_hides_key() {
    let alice = reader(1, "acme", "alice");
    let text = format!("{alice:?}");
    assert!(text.contains("kid-alice"));
    assert!(!text.contains("signing_key"));
    assert!(!text.contains("credential"));
}

#[test]
fn draft_fields_are_checked() {
    let alice = reader(1, "acme", "alice");
    let mut chain = ChainState::default();
    let mut empty_package = draft(EventKind::Opened);
    empty_package.package_id = String::new();
    let mut bad_reason = draft(EventKind::Denied);
    bad_reason.reasons = vec!["Bad Reason".into()];
    for bad in [empty_package, bad_reason] {
        assert!(matches!(
            sign_event(&bad, &alice, &mut chain, &id(1), TIME),
            Err(EventError::InvalidDraft(_))
        ));
    }
    let mut exhausted = ChainState {
        seq: MAX_SAFE_INTEGER,
        prev_hash: "ab".repeat(32),
    };
    assert!(matches!(
        sign_event(&draft(EventKind::Opened), &alice, &mut exhausted, &id(1), TIME),
        Err(EventError::InvalidDraft(_))
    ));
}

#[test]
fn draft_from_denial() {
    use crate::decision::{Decision, Reason, ReasonCode};
    let decision = Decision::Deny(vec![Reason::new(ReasonCode::NotRecipient, "not for you", "ask")]);
    let draft = EventDraft::from_decision("pkg", &decision, None, None);
    assert_eq!(draft.kind, EventKind::Denied);
    assert_eq!(draft.decision, Outcome::Deny);
    assert_eq!(draft.reasons, vec!["not_recipient".to_owned()]);
    assert_eq!(draft.rights, None);
    let alice = reader(1, "acme", "alice");
    let signed = sign_event(&draft, &alice, &mut ChainState::default(), &id(1), TIME).expect("signs");
    assert!(verify_event(signed.json.as_bytes(), &directory(&[&alice])).is_ok());
}

#[test]
fn rights_from_effective_rights() {
    let rights = RightsInForce::from(&crate::label::EffectiveRights::view_only());
    assert!(rights.view);
    assert!(!rights.print);
    assert!(!rights.copy);
    assert!(!rights.forward);
    assert!(!rights.export);
}
