//! Table-driven tests of the decision point: one case per reason code, each
//! built from a permitted baseline by changing the one input the reason is
//! about, and asserting the exact set of codes.

use rand_core::OsRng;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use valise_core::assertions::{EventsPolicy, Label, Marking, Originator, Provenance, Rights, Tlp};
use valise_core::attributes::{AttributeDefinition, AttributeFqn, AttributeRule};
use valise_core::credential::{Credential, CredentialError, StandingProblem, VerifiedCredential};
use valise_core::decision::{decide, decide_offline, select_community, Decision, DecisionInput, Obligation, ReasonCode};
use valise_core::jws;
use valise_core::label::{ForwardScope, LabelMapping, MarkingStatus};
use valise_core::trust_list::{Member, MemberStatus, RevokedKey, StalePolicy, TrustAnchor, TrustList, VerifiedTrustList};

const COMMUNITY: &str = "https://cert.example/community";
const OTHER_COMMUNITY: &str = "https://isac.example";
const ISSUED: OffsetDateTime = datetime!(2026-12-01 00:00 UTC);
const NOW: OffsetDateTime = datetime!(2026-12-10 12:00 UTC);

fn new_key() -> p256::SecretKey {
    p256::SecretKey::random(&mut OsRng)
}

fn fqn(community: &str, name: &str, value: &str) -> AttributeFqn {
    AttributeFqn::new(community, name, value).expect("valid FQN")
}

/// Keys and lists of one test community.
struct World {
    root: p256::SecretKey,
    list: TrustList,
    acme_sign: p256::SecretKey,
    bank_sign: p256::SecretKey,
    gone_sign: p256::SecretKey,
    bob_key_access: p256::SecretKey,
}

fn member(org: &str, sector: &str, signing: &[(&p256::SecretKey, &str)]) -> Member {
    Member {
        org: org.to_owned(),
        name: format!("{org} Ltd"),
        sector: sector.to_owned(),
        country: "DE".into(),
        status: MemberStatus::Active,
        signing_keys: signing.iter().map(|(key, kid)| jws::public_jwk(&key.public_key(), kid)).collect(),
        key_access_keys: vec![jws::public_jwk(&new_key().public_key(), &format!("{org}-ka"))],
        attributes: vec![],
        clients: vec![],
        label_mappings: vec![],
    }
}

impl World {
    fn new(community: &str) -> World {
        let root = new_key();
        let acme_sign = new_key();
        let acme_old = new_key();
        let bank_sign = new_key();
        let gone_sign = new_key();
        let mut list = TrustList::new(community, "Example community", &root.public_key(), ISSUED, Duration::days(30)).expect("valid list");
        list.attributes = vec![
            AttributeDefinition { name: "sector".into(), rule: AttributeRule::AnyOf, values: vec!["energy".into(), "finance".into()] },
            AttributeDefinition { name: "level".into(), rule: AttributeRule::Hierarchy, values: vec!["top".into(), "high".into(), "low".into()] },
        ];
        let mut acme = member("acme", "energy", &[(&acme_sign, "acme-sign"), (&acme_old, "acme-old")]);
        acme.attributes = vec![fqn(community, "sector", "energy"), fqn(community, "level", "top")];
        acme.label_mappings = vec![LabelMapping { system: "ACME".into(), value: "Confidential".into(), tlp: Tlp::Amber }];
        let mut bank = member("bank", "finance", &[(&bank_sign, "bank-sign")]);
        bank.attributes = vec![fqn(community, "sector", "finance"), fqn(community, "level", "high")];
        bank.clients = vec!["bank-client".into()];
        let mut gone = member("gone", "energy", &[(&gone_sign, "gone-sign")]);
        gone.status = MemberStatus::Departed;
        list.members = vec![acme, bank, gone];
        list.revoked_keys = vec![RevokedKey { kid: "acme-old".into(), revoked: ISSUED, reason: None }];
        World { root, list, acme_sign, bank_sign, gone_sign, bob_key_access: new_key() }
    }

    fn verified(&self) -> VerifiedTrustList {
        self.verify(&self.list)
    }

    fn verify(&self, list: &TrustList) -> VerifiedTrustList {
        let token = list.sign(&self.root).expect("sign trust list");
        VerifiedTrustList::verify(&token, &TrustAnchor::Key(self.root.public_key())).expect("verify trust list")
    }

    /// Bob at the bank: sector finance, level high, valid all of December.
    fn bob_credential(&self) -> Credential {
        let community = &self.list.community;
        Credential {
            community: community.clone(),
            person: "bob@bank.example".into(),
            name: "Bob Example".into(),
            org: "bank".into(),
            attributes: vec![fqn(community, "sector", "finance"), fqn(community, "level", "high")],
            key_access_key: jws::public_jwk(&self.bob_key_access.public_key(), "bob-ka"),
            signing_key: jws::public_jwk(&new_key().public_key(), "bob-sign"),
            issued: ISSUED,
            not_before: ISSUED,
            not_after: datetime!(2026-12-31 00:00 UTC),
        }
    }

    fn issue(&self, credential: &Credential, trust: &VerifiedTrustList) -> Result<VerifiedCredential, CredentialError> {
        let signing = match credential.org.as_str() {
            "bank" => (&self.bank_sign, "bank-sign"),
            "gone" => (&self.gone_sign, "gone-sign"),
            _ => (&self.acme_sign, "acme-sign"),
        };
        let token = credential.sign(signing.0, signing.1).expect("sign credential");
        VerifiedCredential::verify(&token, trust)
    }
}

/// The package and reader facts of one case, owned so that a case can change
/// any of them.
#[derive(Clone)]
struct Case {
    community: Option<String>,
    label: Option<Label>,
    rights: Option<Rights>,
    provenance: Option<Provenance>,
    signature_valid: bool,
    originator_kid: Option<String>,
    unwrapped_kid: Option<String>,
    data_attributes: Vec<String>,
    dissem: Vec<String>,
    now: OffsetDateTime,
    last_seen: Option<OffsetDateTime>,
    stale_policy: StalePolicy,
    highest_seen: Option<u64>,
    credential_rejected: Option<CredentialError>,
}

fn baseline() -> Case {
    Case {
        community: Some(COMMUNITY.into()),
        label: Some(Label { tlp: Tlp::Amber, marking: None }),
        rights: Some(Rights::all()),
        provenance: Some(Provenance {
            community: Some(COMMUNITY.into()),
            originator: Originator { org: "acme".into(), author: Some("alice@acme.example".into()), kid: "acme-sign".into() },
            created: ISSUED,
            media_type: "text/plain".into(),
            file_name: None,
            plaintext_sha256: [0; 32],
            segment_sha256: vec![],
            recipients: vec!["bob-ka".into()],
        }),
        signature_valid: true,
        originator_kid: Some("acme-sign".into()),
        unwrapped_kid: Some("bob-ka".into()),
        data_attributes: vec![],
        dissem: vec![],
        now: NOW,
        last_seen: Some(NOW - Duration::hours(1)),
        stale_policy: StalePolicy::Deny,
        highest_seen: Some(1),
        credential_rejected: None,
    }
}

impl Case {
    /// Builds the decision input of this case for `trust` and `credential`.
    fn input<'a>(&'a self, trust: &'a VerifiedTrustList, credential: Option<&'a VerifiedCredential>) -> DecisionInput<'a> {
        DecisionInput {
            package_id: "6c5e2c3e-0b7c-4a47-9c52-1f6a1c3d9e01",
            community: self.community.as_deref(),
            label: self.label.as_ref(),
            rights: self.rights.as_ref(),
            provenance: self.provenance.as_ref(),
            originator_signature_valid: self.signature_valid,
            originator_kid: self.originator_kid.as_deref(),
            unwrapped_kid: self.unwrapped_kid.as_deref(),
            data_attributes: &self.data_attributes,
            dissem: &self.dissem,
            trust,
            credential,
            credential_rejected: self.credential_rejected.as_ref(),
            now: self.now,
            last_seen: self.last_seen,
            stale_policy: self.stale_policy,
            highest_trust_version_seen: self.highest_seen,
        }
    }
}

fn run(case: &Case, trust: &VerifiedTrustList, credential: Option<&VerifiedCredential>) -> Decision {
    decide(&case.input(trust, credential))
}

/// Returns the test community, its verified list and Bob's verified credential.
fn world_with_bob() -> (World, VerifiedTrustList, VerifiedCredential) {
    let world = World::new(COMMUNITY);
    let trust = world.verified();
    let credential = world.issue(&world.bob_credential(), &trust).expect("valid credential");
    (world, trust, credential)
}

fn set_originator(case: &mut Case, org: &str, kid: &str) {
    case.originator_kid = Some(kid.into());
    if let Some(provenance) = case.provenance.as_mut() {
        provenance.originator.org = org.into();
        provenance.originator.kid = kid.into();
    }
}

fn rights(case: &mut Case) -> &mut Rights {
    case.rights.as_mut().expect("baseline has rights")
}

#[test]
fn baseline_permits() {
    let (_, trust, credential) = world_with_bob();
    let decision = run(&baseline(), &trust, Some(&credential));
    let Decision::Permit(permit) = decision else {
        panic!("baseline should be permitted: {decision:?}");
    };
    assert!(permit.warnings.is_empty(), "{:?}", permit.warnings);
    assert_eq!(permit.rights.forward, ForwardScope::OrganizationAndClients);
    assert!(permit.rights.print);
    assert!(!permit.rights.copy, "AMBER ceiling removes copy");
    assert!(!permit.rights.export, "AMBER ceiling removes export");
    assert_eq!(permit.forward_orgs, vec!["bank".to_owned(), "bank-client".to_owned()]);
    let watermark = permit.watermark.expect("AMBER requires a watermark");
    assert!(watermark.contains("Bob Example (bank)"), "{watermark}");
    assert!(watermark.contains("2026-12-10T12:00:00Z"), "{watermark}");
    assert!(watermark.contains("6c5e2c3e-0b7c-4a47-9c52-1f6a1c3d9e01"), "{watermark}");
}

/// One row per deny reason: a name, the change to the baseline, and the
/// exact codes expected.
#[test]
fn each_reason_code_has_a_case() {
    let (world, trust, credential) = world_with_bob();

    // Bank suspended in a newer list: Bob's credential no longer holds.
    let mut suspended_list = world.list.clone();
    suspended_list.version = 2;
    suspended_list.member_mut("bank").expect("bank").status = MemberStatus::Suspended;
    let suspended_trust = world.verify(&suspended_list);

    // A credential that ended before NOW.
    let mut short = world.bob_credential();
    short.not_after = datetime!(2026-12-05 00:00 UTC);
    let expired_credential = world.issue(&short, &trust).expect("valid but expired credential");

    // A credential that outlives the trust list.
    let mut long = world.bob_credential();
    long.not_after = datetime!(2027-06-01 00:00 UTC);
    let long_credential = world.issue(&long, &trust).expect("valid credential");

    // Name, change to the baseline, judging list and reader credential when
    // they differ from the baseline's, and the exact codes expected.
    type Change = fn(&mut Case);
    type Row<'a> = (&'a str, Change, Option<&'a VerifiedTrustList>, Option<&'a VerifiedCredential>, Vec<ReasonCode>);
    let table: Vec<Row<'_>> = vec![
        ("not_recipient", |c| c.unwrapped_kid = None, None, None, vec![ReasonCode::NotRecipient]),
        ("originator_unknown", |c| set_originator(c, "acme", "unknown-kid"), None, None, vec![ReasonCode::OriginatorUnknown]),
        (
            "originator_unknown with unverifiable signature",
            |c| {
                set_originator(c, "acme", "unknown-kid");
                c.signature_valid = false;
            },
            None,
            None,
            vec![ReasonCode::OriginatorUnknown],
        ),
        ("originator claims another org", |c| set_originator(c, "bank", "acme-sign"), None, None, vec![ReasonCode::OriginatorUnknown]),
        ("originator_revoked key", |c| set_originator(c, "acme", "acme-old"), None, None, vec![ReasonCode::OriginatorRevoked]),
        ("originator_revoked departed org", |c| set_originator(c, "gone", "gone-sign"), None, None, vec![ReasonCode::OriginatorRevoked]),
        ("signature_invalid", |c| c.signature_valid = false, None, None, vec![ReasonCode::SignatureInvalid]),
        (
            "trust_list_stale",
            |c| {
                c.now = datetime!(2027-01-01 00:00 UTC);
                c.last_seen = None;
            },
            None,
            Some(&long_credential),
            vec![ReasonCode::TrustListStale],
        ),
        ("trust_list_rollback", |c| c.highest_seen = Some(2), None, None, vec![ReasonCode::TrustListRollback]),
        ("credential_invalid", |_| {}, Some(&suspended_trust), None, vec![ReasonCode::CredentialInvalid]),
        ("credential_expired", |_| {}, None, Some(&expired_credential), vec![ReasonCode::CredentialExpired]),
        ("attribute_missing", |c| c.data_attributes = vec![format!("{COMMUNITY}/attr/sector/value/energy")], None, None, vec![ReasonCode::AttributeMissing]),
        (
            "attribute_missing hierarchy",
            |c| c.data_attributes = vec![format!("{COMMUNITY}/attr/level/value/top")],
            None,
            None,
            vec![ReasonCode::AttributeMissing],
        ),
        (
            "attribute_missing undefined",
            |c| c.data_attributes = vec![format!("{COMMUNITY}/attr/sector/value/water")],
            None,
            None,
            vec![ReasonCode::AttributeMissing],
        ),
        ("not_in_dissem", |c| c.dissem = vec!["carol@acme.example".into()], None, None, vec![ReasonCode::NotInDissem]),
        ("not_yet_valid", |c| rights(c).not_before = Some(NOW + Duration::days(1)), None, None, vec![ReasonCode::NotYetValid]),
        ("expired", |c| rights(c).not_after = Some(NOW - Duration::days(1)), None, None, vec![ReasonCode::Expired]),
        ("clock_moved_back", |c| c.last_seen = Some(NOW + Duration::hours(1)), None, None, vec![ReasonCode::ClockMovedBack]),
        (
            "label_unknown",
            |c| c.label = Some(Label { tlp: Tlp::Amber, marking: Some(Marking { system: "ACME".into(), value: "Secret".into() }) }),
            None,
            None,
            vec![ReasonCode::LabelUnknown],
        ),
        (
            "community_mismatch",
            |c| {
                c.community = Some(OTHER_COMMUNITY.into());
                if let Some(provenance) = c.provenance.as_mut() {
                    provenance.community = Some(OTHER_COMMUNITY.into());
                }
            },
            None,
            None,
            vec![ReasonCode::CommunityMismatch],
        ),
        (
            "not_named_recipient",
            |c| {
                c.label = Some(Label { tlp: Tlp::Red, marking: None });
                c.provenance.as_mut().expect("provenance").recipients = vec!["someone-else".into()];
            },
            None,
            None,
            vec![ReasonCode::NotNamedRecipient],
        ),
        ("assertion_missing", |c| c.rights = None, None, None, vec![ReasonCode::AssertionMissing]),
        ("events_endpoint_missing", |c| rights(c).events = EventsPolicy { url: None, required: true }, None, None, vec![ReasonCode::EventsEndpointMissing]),
        (
            "several reasons at once",
            |c| {
                c.unwrapped_kid = None;
                c.signature_valid = false;
                rights(c).not_after = Some(NOW - Duration::days(1));
                c.dissem = vec!["nobody".into()];
            },
            None,
            None,
            vec![ReasonCode::NotRecipient, ReasonCode::SignatureInvalid, ReasonCode::NotInDissem, ReasonCode::Expired],
        ),
    ];

    for (name, change, trust_override, credential_override, expected) in table {
        let mut case = baseline();
        change(&mut case);
        let judging = trust_override.unwrap_or(&trust);
        let reader = credential_override.unwrap_or(&credential);
        let decision = run(&case, judging, Some(reader));
        let mut expected = expected;
        expected.sort();
        assert_eq!(decision.deny_codes(), expected, "case {name}: {decision:#?}");
        if let Decision::Deny(reasons) = &decision {
            for reason in reasons {
                assert!(!reason.message.is_empty(), "case {name}: {reason:?}");
                assert!(!reason.next_step.is_empty(), "case {name}: {reason:?}");
            }
        }
    }
}

#[test]
fn attribute_missing_names_attribute_and_value() {
    let (_, trust, credential) = world_with_bob();
    let mut case = baseline();
    case.data_attributes = vec![format!("{COMMUNITY}/attr/sector/value/energy")];
    let Decision::Deny(reasons) = run(&case, &trust, Some(&credential)) else {
        panic!("expected a denial");
    };
    assert_eq!(reasons.len(), 1);
    assert!(reasons[0].message.contains("https://cert.example/community/attr/sector/value/energy"), "{}", reasons[0].message);
}

#[test]
fn rejected_credential_skips_attributes() {
    let (_, trust, _) = world_with_bob();
    let mut case = baseline();
    case.data_attributes = vec![format!("{COMMUNITY}/attr/sector/value/energy")];
    case.dissem = vec!["bank".into()];

    // A reader without any credential is judged on the attributes and the
    // dissemination list.
    assert_eq!(run(&case, &trust, None).deny_codes(), vec![ReasonCode::AttributeMissing, ReasonCode::NotInDissem]);

    // A credential that failed verification is the only reason.
    case.credential_rejected = Some(CredentialError::Standing(StandingProblem::OrganizationNotActive { org: "bank".into(), status: "departed" }));
    let Decision::Deny(reasons) = run(&case, &trust, None) else {
        panic!("expected a denial");
    };
    assert_eq!(reasons.iter().map(|reason| reason.code).collect::<Vec<_>>(), vec![ReasonCode::CredentialInvalid]);
    assert!(reasons[0].message.contains("\"bank\""), "{}", reasons[0].message);
    // Its organization cannot issue a credential that holds, so the next step is the operator.
    assert!(reasons[0].next_step.contains("community operator"), "{}", reasons[0].next_step);

    // The same for a stock package without the profile assertions.
    case.label = None;
    case.rights = None;
    case.provenance = None;
    case.originator_kid = None;
    case.signature_valid = false;
    assert_eq!(run(&case, &trust, None).deny_codes(), vec![ReasonCode::CredentialInvalid]);
}

#[test]
fn stale_list_warns_under_warn_policy() {
    let world = World::new(COMMUNITY);
    let trust = world.verified();
    let mut long = world.bob_credential();
    long.not_after = datetime!(2027-06-01 00:00 UTC);
    let credential = world.issue(&long, &trust).expect("valid credential");
    let mut case = baseline();
    case.now = datetime!(2027-01-02 00:00 UTC);
    case.stale_policy = StalePolicy::Warn;
    let Decision::Permit(permit) = run(&case, &trust, Some(&credential)) else {
        panic!("a stale list under Warn should permit");
    };
    let codes: Vec<ReasonCode> = permit.warnings.iter().map(|w| w.code).collect();
    assert_eq!(codes, vec![ReasonCode::TrustListStale]);
}

#[test]
fn departed_org_credentials_are_invalid() {
    let world = World::new(COMMUNITY);
    let trust = world.verified();
    let mut credential = world.bob_credential();
    credential.org = "gone".into();
    credential.attributes = vec![];
    let result = world.issue(&credential, &trust);
    assert!(matches!(result, Err(CredentialError::Standing(StandingProblem::OrganizationNotActive { .. }))), "{result:?}");
}

#[test]
fn revoked_signer_credentials_are_invalid() {
    let world = World::new(COMMUNITY);
    let mut list = world.list.clone();
    list.revoked_keys.push(RevokedKey { kid: "bank-sign".into(), revoked: ISSUED, reason: Some("lost".into()) });
    let trust = world.verify(&list);
    let result = world.issue(&world.bob_credential(), &trust);
    assert!(matches!(result, Err(CredentialError::Standing(StandingProblem::KeyRevoked { .. }))), "{result:?}");
}

#[test]
fn over_granting_credential_is_invalid() {
    let world = World::new(COMMUNITY);
    let trust = world.verified();
    let mut credential = world.bob_credential();
    credential.attributes.push(fqn(COMMUNITY, "sector", "energy"));
    let result = world.issue(&credential, &trust);
    assert!(matches!(result, Err(CredentialError::Standing(StandingProblem::AttributeNotGrantable { .. }))), "{result:?}");
    // A lower value of a hierarchy the organization holds may be granted.
    let mut lower = world.bob_credential();
    lower.attributes = vec![fqn(COMMUNITY, "level", "low")];
    assert!(world.issue(&lower, &trust).is_ok());
}

#[test]
fn credential_signed_by_another_org_key_is_invalid() {
    let world = World::new(COMMUNITY);
    let trust = world.verified();
    // The bank's credential signed with acme's key.
    let token = world.bob_credential().sign(&world.acme_sign, "acme-sign").expect("sign");
    let result = VerifiedCredential::verify(&token, &trust);
    assert!(matches!(result, Err(CredentialError::Standing(StandingProblem::UnknownSigner { .. }))), "{result:?}");
    // The right kid with the wrong key.
    let forged = world.bob_credential().sign(&world.acme_sign, "bank-sign").expect("sign");
    assert_eq!(VerifiedCredential::verify(&forged, &trust).err(), Some(CredentialError::SignatureInvalid));
}

#[test]
fn rolled_back_list_is_refused() {
    let world = World::new(COMMUNITY);
    let mut newer = world.list.clone();
    newer.version = 5;
    let newer = world.verify(&newer);
    let older = world.verified();
    assert!(newer.check_rollback(Some(5)).is_ok());
    assert!(older.check_rollback(Some(newer.version())).is_err());
    let credential = world.issue(&world.bob_credential(), &older).expect("valid credential");
    let mut case = baseline();
    case.highest_seen = Some(newer.version());
    assert_eq!(run(&case, &older, Some(&credential)).deny_codes(), vec![ReasonCode::TrustListRollback]);
}

#[test]
fn red_permits_named_recipient_view_only() {
    let (_, trust, credential) = world_with_bob();
    let mut case = baseline();
    case.label = Some(Label { tlp: Tlp::Red, marking: None });
    let Decision::Permit(permit) = run(&case, &trust, Some(&credential)) else {
        panic!("named recipient should be permitted");
    };
    assert!(permit.rights.view);
    assert!(!permit.rights.print);
    assert!(!permit.rights.copy);
    assert!(!permit.rights.export);
    assert_eq!(permit.rights.forward, ForwardScope::None);
    assert!(permit.watermark.is_some());
}

#[test]
fn rights_narrow_but_never_widen() {
    let (_, trust, credential) = world_with_bob();

    let mut clear = baseline();
    clear.label = Some(Label { tlp: Tlp::Clear, marking: None });
    rights(&mut clear).print = false;
    rights(&mut clear).events = EventsPolicy { url: Some("https://events.acme.example/v1".into()), required: true };
    rights(&mut clear).offline_lease_seconds = Some(3600);
    let Decision::Permit(permit) = run(&clear, &trust, Some(&credential)) else {
        panic!("CLEAR should be permitted");
    };
    assert!(!permit.rights.print, "the rights assertion removed print");
    assert!(permit.rights.export);
    assert!(permit.rights.copy);
    assert_eq!(permit.rights.forward, ForwardScope::Anyone);
    assert!(permit.watermark.is_none());
    assert_eq!(
        permit.obligations,
        vec![Obligation::AccessEventsRequired { url: "https://events.acme.example/v1".into() }, Obligation::OfflineLease { seconds: 3600 }]
    );

    let mut green = baseline();
    green.label = Some(Label { tlp: Tlp::Green, marking: None });
    let Decision::Permit(permit) = run(&green, &trust, Some(&credential)) else {
        panic!("GREEN should be permitted");
    };
    assert!(!permit.rights.export, "GREEN ceiling has no export even when the rights allow it");
    assert_eq!(permit.rights.forward, ForwardScope::Community);
    assert_eq!(permit.forward_orgs, vec!["acme".to_owned(), "bank".to_owned()]);
}

#[test]
fn marking_mismatch_takes_stricter_and_shows_both() {
    let (_, trust, credential) = world_with_bob();
    let mut case = baseline();
    case.label = Some(Label { tlp: Tlp::Green, marking: Some(Marking { system: "ACME".into(), value: "Confidential".into() }) });
    let Decision::Permit(permit) = run(&case, &trust, Some(&credential)) else {
        panic!("a mismatch is a warning, not a denial");
    };
    let label = permit.label.expect("labelled");
    assert_eq!(label.status, MarkingStatus::Disagrees);
    assert_eq!(label.package_tlp, Tlp::Green);
    assert_eq!(label.mapped_tlp, Some(Tlp::Amber));
    assert_eq!(label.effective, Tlp::Amber);
    assert!(!permit.rights.copy, "the AMBER ceiling applies");
    assert_eq!(permit.warnings.iter().map(|w| w.code).collect::<Vec<_>>(), vec![ReasonCode::LabelMismatch]);
}

#[test]
fn stock_package_is_view_only_unlabelled() {
    let world = World::new(COMMUNITY);
    let trust = world.verified();
    let mut case = baseline();
    case.community = None;
    case.label = None;
    case.rights = None;
    case.provenance = None;
    case.originator_kid = None;
    // The open path reports no ES256 signature for a stock file.
    case.signature_valid = false;
    case.data_attributes = vec!["https://example.com/attr/classification/value/s".into()];
    let Decision::Permit(permit) = run(&case, &trust, None) else {
        panic!("a stock package should open view only");
    };
    assert_eq!(permit.rights, valise_core::label::EffectiveRights::view_only());
    assert_eq!(permit.warnings.iter().map(|w| w.code).collect::<Vec<_>>(), vec![ReasonCode::Unlabelled]);
    assert!(permit.warnings[0].message.contains("1 attribute value(s)"), "{}", permit.warnings[0].message);

    // Attributes of the judging community are still evaluated.
    case.data_attributes = vec![format!("{COMMUNITY}/attr/sector/value/energy")];
    assert_eq!(run(&case, &trust, None).deny_codes(), vec![ReasonCode::AttributeMissing]);

    // Without the data key the policy is not authenticated: only
    // not_recipient is reported.
    case.unwrapped_kid = None;
    assert_eq!(run(&case, &trust, None).deny_codes(), vec![ReasonCode::NotRecipient]);
}

#[test]
fn key_of_another_reader_is_refused() {
    let (_, trust, credential) = world_with_bob();
    let mut case = baseline();
    case.unwrapped_kid = Some("acme-ka".into());
    case.provenance.as_mut().expect("provenance").recipients.push("acme-ka".into());
    assert_eq!(run(&case, &trust, Some(&credential)).deny_codes(), vec![ReasonCode::CredentialInvalid]);

    // The organization-wide key of the reader's own organization is fine.
    case.unwrapped_kid = Some("bank-ka".into());
    assert!(matches!(run(&case, &trust, Some(&credential)), Decision::Permit(_)));
}

#[test]
fn other_community_never_counts() {
    let home = World::new(COMMUNITY);
    let other = World::new(OTHER_COMMUNITY);
    let home_trust = home.verified();
    let other_trust = other.verified();
    let home_credential = home.issue(&home.bob_credential(), &home_trust).expect("home credential");
    let other_credential = other.issue(&other.bob_credential(), &other_trust).expect("other credential");

    // A package of the home community that requires finance: the other
    // community's finance attribute does not count.
    let mut case = baseline();
    case.data_attributes = vec![format!("{COMMUNITY}/attr/sector/value/finance")];
    let decision = run(&case, &home_trust, Some(&other_credential));
    assert_eq!(decision.deny_codes(), vec![ReasonCode::CommunityMismatch]);

    // Selection picks the home list and the home credential.
    let lists = [other_trust.clone(), home_trust.clone()];
    let credentials = [other_credential.clone(), home_credential.clone()];
    let (list, credential) = select_community(Some(COMMUNITY), Some("acme-sign"), Some("bob-ka"), &lists, &credentials).expect("selected");
    assert_eq!(list.community(), COMMUNITY);
    assert_eq!(credential.map(VerifiedCredential::community), Some(COMMUNITY));
    assert!(matches!(run(&case, list, credential), Decision::Permit(_)));

    // The other community's originator key is unknown in the home list, even
    // under the same kid.
    let unknown = select_community(Some("https://nowhere.example"), None, None, &lists, &credentials);
    assert_eq!(unknown.map(|_| ()).map_err(|reason| reason.code), Err(ReasonCode::CommunityMismatch));
}

#[test]
fn foreign_credential_reports_mismatch() {
    let home = World::new(COMMUNITY);
    let other = World::new(OTHER_COMMUNITY);
    let home_trust = home.verified();
    let other_trust = other.verified();
    let other_credential = other.issue(&other.bob_credential(), &other_trust).expect("other credential");
    let lists = [home_trust.clone()];
    let credentials = [other_credential.clone()];

    // The reader holds only a credential of another community: selection
    // still passes it on, so the decision names the real reason.
    let (list, credential) = select_community(Some(COMMUNITY), Some("acme-sign"), Some("bob-ka"), &lists, &credentials).expect("selected");
    assert_eq!(credential.map(VerifiedCredential::community), Some(OTHER_COMMUNITY));

    type Change = fn(&mut Case);
    let rows: [(&str, Change); 4] = [
        ("no attributes", |_| {}),
        ("attribute", |c| c.data_attributes = vec![format!("{COMMUNITY}/attr/sector/value/finance")]),
        ("dissem", |c| c.dissem = vec!["bob@bank.example".into()]),
        ("unlabelled dissem", |c| {
            c.community = None;
            c.label = None;
            c.rights = None;
            c.provenance = None;
            c.originator_kid = None;
            c.signature_valid = false;
            c.dissem = vec!["bob@bank.example".into()];
        }),
    ];
    for (name, change) in rows {
        let mut case = baseline();
        change(&mut case);
        let decision = run(&case, list, credential);
        assert_eq!(decision.deny_codes(), vec![ReasonCode::CommunityMismatch], "{name}: {decision:?}");
    }

    // A stock package that needs no credential still opens view only.
    let mut case = baseline();
    case.community = None;
    case.label = None;
    case.rights = None;
    case.provenance = None;
    case.originator_kid = None;
    case.signature_valid = false;
    assert!(matches!(run(&case, list, credential), Decision::Permit(_)));
}

#[test]
fn unlabelled_dissem_enforced() {
    // The profile assertions are not bound to the policy, so anyone can strip
    // them from a sealed package. The dissem list is covered by the policy
    // binding, so it must still restrict who opens the stripped copy.
    let (_, trust, credential) = world_with_bob();
    let mut case = baseline();
    case.community = None;
    case.label = None;
    case.rights = None;
    case.provenance = None;
    case.originator_kid = None;
    case.signature_valid = false;
    case.dissem = vec!["carol@bank.example".into()];
    assert_eq!(run(&case, &trust, Some(&credential)).deny_codes(), vec![ReasonCode::NotInDissem]);
    assert_eq!(run(&case, &trust, None).deny_codes(), vec![ReasonCode::NotInDissem]);

    // The reader's person id or organization on the list opens it view only.
    for listed in ["bob@bank.example", "bank"] {
        case.dissem = vec![listed.into()];
        let Decision::Permit(permit) = run(&case, &trust, Some(&credential)) else {
            panic!("{listed} is on the dissemination list");
        };
        assert_eq!(permit.rights, valise_core::label::EffectiveRights::view_only());
    }
}

#[test]
fn dissem_spoof_by_other_org() {
    // Person ids are chosen by each organization: acme may issue a credential
    // whose person id is bank's organization id, or the id of bank's Bob.
    let world = World::new(COMMUNITY);
    let trust = world.verified();
    let impostor = |person: &str| {
        let mut credential = world.bob_credential();
        credential.org = "acme".into();
        credential.person = person.into();
        credential.attributes = vec![];
        world.issue(&credential, &trust).expect("acme may issue credentials to its people")
    };
    let bob = world.issue(&world.bob_credential(), &trust).expect("valid credential");
    let mut case = baseline();

    case.dissem = vec!["bank".into()];
    assert_eq!(run(&case, &trust, Some(&impostor("bank"))).deny_codes(), vec![ReasonCode::NotInDissem]);
    assert!(matches!(run(&case, &trust, Some(&bob)), Decision::Permit(_)));

    case.dissem = vec!["bank/bob@bank.example".into()];
    assert_eq!(run(&case, &trust, Some(&impostor("bob@bank.example"))).deny_codes(), vec![ReasonCode::NotInDissem]);
    assert!(matches!(run(&case, &trust, Some(&bob)), Decision::Permit(_)));
}

#[test]
fn departed_org_key_rejected() {
    // Without a credential, the organization key alone opened packages
    // sealed to the member before it departed.
    let world = World::new(COMMUNITY);
    let trust = world.verified();
    let mut case = baseline();
    case.unwrapped_kid = Some("gone-ka".into());
    case.provenance.as_mut().expect("provenance").recipients = vec!["gone-ka".into()];
    assert_eq!(run(&case, &trust, None).deny_codes(), vec![ReasonCode::CredentialInvalid]);

    // The key of an active member still opens it.
    case.unwrapped_kid = Some("bank-ka".into());
    assert!(matches!(run(&case, &trust, None), Decision::Permit(_)));
}

#[test]
fn offline_lease_counts_from_the_last_online_fetch() {
    let (_, trust, credential) = world_with_bob();
    let mut case = baseline();
    rights(&mut case).offline_lease_seconds = Some(3600);
    let decide_at = |case: &Case, fetched: Option<OffsetDateTime>| decide_offline(&case.input(&trust, Some(&credential)), fetched);

    let within = decide_at(&case, Some(NOW - Duration::minutes(59)));
    assert!(matches!(within, Decision::Permit(_)), "{within:?}");
    assert!(matches!(decide_at(&case, None), Decision::Permit(_)), "no record of a fetch: no lease to count");

    let past = decide_at(&case, Some(NOW - Duration::minutes(61)));
    assert_eq!(past.deny_codes(), vec![ReasonCode::OfflineLeaseExpired], "{past:#?}");
    let Decision::Deny(reasons) = past else { unreachable!() };
    assert!(reasons[0].message.contains("3600 seconds"), "{}", reasons[0].message);
    assert_eq!(ReasonCode::OfflineLeaseExpired.as_str(), "offline_lease_expired");

    // Without a lease in the rights, a fetch long ago does not matter.
    rights(&mut case).offline_lease_seconds = None;
    assert!(matches!(decide_at(&case, Some(NOW - Duration::days(30))), Decision::Permit(_)));
}
