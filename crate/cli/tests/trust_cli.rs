//! CLI tests of the trust commands beyond the walk-through: several
//! communities, key revocation and suspension, and the state file.

mod common;

use common::{community, exits, ok};

/// Seals `note.txt` in `dir` to `output` as member `org` of the community in
/// `name/`, with `label` and the recipients and options in `extra`.
fn seal_note(dir: &std::path::Path, name: &str, org: &str, label: &str, extra: &[&str], output: &str) {
    let trust = format!("{name}/trust.json");
    let sign_key = format!("{name}/{org}.sign.key.pem");
    let mut args = vec!["seal", "note.txt", "--trust", &trust, "--sign-key", &sign_key, "--label", label];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-o", output]);
    ok(dir, &args);
}

#[test]
fn several_communities_stay_separate() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    community(dir, "north", "https://north.example", "grid-north");
    community(dir, "south", "https://south.example", "grid-south");
    std::fs::write(dir.join("note.txt"), "north only").expect("write input");

    seal_note(
        dir,
        "north",
        "grid-north",
        "TLP:GREEN",
        &["--to-person", "north/alice.credential.jws", "--attr", "https://north.example/attr/sector/value/energy"],
        "note.tdf",
    );

    // With both lists and both identities the package's community selects
    // the north list and the north credential.
    let both =
        ok(dir, &["open", "note.tdf", "--trust", "south/trust.json", "--trust", "north/trust.json", "--identity", "south/alice", "--identity", "north/alice"]);
    assert!(both.contains("decision: permit"), "{both}");

    // With only the south list, the package's community is unknown.
    let south_only = exits(dir, 1, &["open", "note.tdf", "--trust", "south/trust.json", "--identity", "south/alice", "--key", "north/alice.key.pem"]);
    assert!(south_only.contains("community_mismatch"), "{south_only}");

    // The south credential gives no attribute in the north community, and
    // the denial reports that instead of naming the attribute.
    let wrong_identity = exits(
        dir,
        1,
        &["open", "note.tdf", "--trust", "north/trust.json", "--trust", "south/trust.json", "--identity", "south/alice", "--key", "north/alice.key.pem"],
    );
    assert!(wrong_identity.contains("community_mismatch"), "{wrong_identity}");
    assert!(!wrong_identity.contains("attribute_missing"), "{wrong_identity}");

    // Without the south list the south credential cannot be verified at all.
    let unverified = exits(dir, 1, &["open", "note.tdf", "--trust", "north/trust.json", "--identity", "south/alice", "--key", "north/alice.key.pem"]);
    assert!(unverified.contains("credential_invalid"), "{unverified}");
}

#[test]
fn revoked_and_suspended_are_refused() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    community(dir, "isac", "https://isac.example", "acme");
    std::fs::write(dir.join("note.txt"), "hello").expect("write input");
    seal_note(dir, "isac", "acme", "TLP:CLEAR", &["--to-org", "acme"], "note.tdf");
    let opened = ok(dir, &["open", "note.tdf", "--trust", "isac/trust.json", "--identity", "isac/alice", "--key", "isac/acme.key.pem", "-o", "note.out"]);
    assert!(opened.contains("wrote note.out"), "{opened}");
    assert_eq!(std::fs::read_to_string(dir.join("note.out")).expect("exported"), "hello");

    // A package that requires access events is written out once its event
    // is queued; nothing listens on the collector port, so it stays queued.
    seal_note(dir, "isac", "acme", "TLP:CLEAR", &["--to-org", "acme", "--events-url", "http://127.0.0.1:9/v1", "--events-required"], "reported.tdf");
    let reported =
        ok(dir, &["open", "reported.tdf", "--trust", "isac/trust.json", "--identity", "isac/alice", "--key", "isac/acme.key.pem", "-o", "reported.out"]);
    assert!(reported.contains("access events required (http://127.0.0.1:9/v1)"), "{reported}");
    assert!(reported.contains("queued"), "{reported}");
    assert!(dir.join("reported.out").exists());
    assert_eq!(std::fs::read_dir(dir.join("home").join("outbox")).expect("an outbox").count(), 1);

    // Suspension refuses the originator and the credentials it issued.
    ok(dir, &["member", "set-status", "--trust", "isac/trust.json", "--root-key", "isac/root.key.pem", "--org", "acme", "--status", "suspended"]);
    let suspended = exits(dir, 1, &["open", "note.tdf", "--trust", "isac/trust.json", "--identity", "isac/alice", "--key", "isac/acme.key.pem"]);
    assert!(suspended.contains("originator_revoked"), "{suspended}");
    assert!(suspended.contains("credential_invalid"), "{suspended}");
    let sealing = exits(
        dir,
        1,
        &[
            "seal",
            "note.txt",
            "--trust",
            "isac/trust.json",
            "--sign-key",
            "isac/acme.sign.key.pem",
            "--label",
            "TLP:CLEAR",
            "--to-org",
            "acme",
            "-o",
            "again.tdf",
        ],
    );
    assert!(sealing.contains("suspended"), "{sealing}");

    // Back to active, then the organization's signing key is revoked.
    ok(dir, &["member", "set-status", "--trust", "isac/trust.json", "--root-key", "isac/root.key.pem", "--org", "acme", "--status", "active"]);
    let shown = ok(dir, &["trust", "show", "isac/trust.json"]);
    let kid = shown.lines().find_map(|line| line.trim().strip_prefix("signing key ")).expect("trust show lists the signing key").to_owned();
    ok(dir, &["key", "revoke", "--trust", "isac/trust.json", "--root-key", "isac/root.key.pem", "--kid", &kid, "--reason", "laptop lost"]);
    let revoked = exits(dir, 1, &["open", "note.tdf", "--trust", "isac/trust.json", "--identity", "isac/alice", "--key", "isac/acme.key.pem"]);
    assert!(revoked.contains("originator_revoked"), "{revoked}");
    assert!(revoked.contains("was revoked"), "{revoked}");
    assert!(ok(dir, &["trust", "show", "isac/trust.json"]).contains("(revoked)"));

    // Editing an older copy would produce a list readers reject.
    std::fs::copy(dir.join("isac/trust.json"), dir.join("copy.json")).expect("copy");
    ok(dir, &["member", "set-status", "--trust", "isac/trust.json", "--root-key", "isac/root.key.pem", "--org", "acme", "--status", "active"]);
    let stale_edit =
        exits(dir, 2, &["member", "set-status", "--trust", "copy.json", "--root-key", "isac/root.key.pem", "--org", "acme", "--status", "departed"]);
    assert!(stale_edit.contains("already seen"), "{stale_edit}");

    // The state file records the highest version seen.
    let state = std::fs::read_to_string(dir.join("home/state.json")).expect("state file");
    let state: serde_json::Value = serde_json::from_str(&state).expect("state is JSON");
    assert_eq!(state["communities"]["https://isac.example"]["highestVersion"], 7);
}

/// A credential that does not verify (tampered, or issued by an
/// organization that departed) is the reason given, without the
/// `attribute_missing` and `not_in_dissem` reasons of a reader who has none.
#[test]
fn rejected_credential_is_the_only_reader_reason() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    community(dir, "isac", "https://isac.example", "acme");
    std::fs::write(dir.join("note.txt"), "hello").expect("write input");
    seal_note(
        dir,
        "isac",
        "acme",
        "TLP:GREEN",
        &["--to-org", "acme", "--attr", "https://isac.example/attr/sector/value/energy", "--dissem", "acme"],
        "note.tdf",
    );

    let token = std::fs::read_to_string(dir.join("isac/alice.credential.jws")).expect("read");
    let token = token.trim();
    let signature_start = token.rfind('.').expect("a JWS") + 1;
    let position = signature_start + 10;
    let flipped = if &token[position..=position] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &token[..position], &token[position + 1..]);
    std::fs::write(dir.join("isac/mallory.credential.jws"), tampered).expect("write");
    std::fs::copy(dir.join("isac/alice.key.pem"), dir.join("isac/mallory.key.pem")).expect("copy");
    let forged = exits(dir, 1, &["open", "note.tdf", "--trust", "isac/trust.json", "--identity", "isac/mallory", "--key", "isac/acme.key.pem"]);
    assert!(forged.contains("credential_invalid"), "{forged}");
    assert!(!forged.contains("attribute_missing"), "{forged}");
    assert!(!forged.contains("not_in_dissem"), "{forged}");

    ok(dir, &["member", "set-status", "--trust", "isac/trust.json", "--root-key", "isac/root.key.pem", "--org", "acme", "--status", "departed"]);
    let departed = exits(dir, 1, &["open", "note.tdf", "--trust", "isac/trust.json", "--identity", "isac/alice", "--key", "isac/acme.key.pem"]);
    assert!(departed.contains("credential_invalid"), "{departed}");
    assert!(departed.contains("originator_revoked"), "{departed}");
    // A departed organization cannot issue a credential that holds.
    assert!(departed.contains("Contact the community operator"), "{departed}");
    assert!(!departed.contains("attribute_missing"), "{departed}");
    assert!(!departed.contains("not_in_dissem"), "{departed}");
}

#[test]
fn altered_trust_list_hints_refetch() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    community(dir, "isac", "https://isac.example", "acme");
    let text = std::fs::read_to_string(dir.join("isac/trust.json")).expect("read");
    let mut list: serde_json::Value = serde_json::from_str(&text).expect("a JSON trust list");
    let signature = list["signature"].as_str().expect("a signature").to_owned();
    let flipped = if &signature[10..11] == "A" { "B" } else { "A" };
    list["signature"] = format!("{}{flipped}{}", &signature[..10], &signature[11..]).into();
    std::fs::write(dir.join("altered.json"), list.to_string()).expect("write");

    let shown = exits(dir, 1, &["trust", "show", "altered.json"]);
    assert!(shown.contains("error: trust list altered.json does not verify: the trust list signature is invalid"), "{shown}");
    assert!(shown.contains("hint: the file was altered or damaged after the community operator signed it: fetch the trust list again"), "{shown}");
    assert!(shown.contains("hint: then check that its root key fingerprint"), "{shown}");
}

/// Without -o, `open --trust` prints the decision, and a permit must not
/// stand for a package whose payload was altered.
#[test]
fn decision_only_open_checks_payload() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    community(dir, "isac", "https://isac.example", "acme");
    std::fs::write(dir.join("note.txt"), "hello ".repeat(2000)).expect("write input");
    seal_note(dir, "isac", "acme", "TLP:CLEAR", &["--to-org", "acme"], "note.tdf");
    let open = ["open", "note.tdf", "--trust", "isac/trust.json", "--identity", "isac/alice", "--key", "isac/acme.key.pem"];
    let intact = ok(dir, &open);
    assert!(intact.contains("payload verified (12000 bytes)"), "{intact}");

    // The payload entry comes first in the archive; byte 2000 is ciphertext.
    let mut bytes = std::fs::read(dir.join("note.tdf")).expect("package");
    bytes[2000] ^= 0x01;
    std::fs::write(dir.join("note.tdf"), bytes).expect("write tampered package");
    let tampered = exits(dir, 1, &open);
    assert!(!tampered.contains("payload verified"), "{tampered}");
    assert!(tampered.contains("integrity"), "{tampered}");
}

#[test]
fn wrong_root_key_is_refused() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    ok(dir, &["community", "init", "--name", "One", "--id", "https://one.example", "--out", "one"]);
    ok(dir, &["community", "init", "--name", "Other", "--id", "https://other.example", "--out", "other"]);
    let refused = exits(
        dir,
        1,
        &["attribute", "add", "--trust", "one/trust.json", "--root-key", "other/root.key.pem", "--name", "sector", "--rule", "all-of", "--values", "energy"],
    );
    assert!(refused.contains("does not verify"), "{refused}");

    // A pinned fingerprint that does not match is refused.
    let pinned = exits(dir, 1, &["trust", "show", "one/trust.json", "--root-fingerprint", "AAAA"]);
    assert!(pinned.contains("pinned"), "{pinned}");

    // Base64url fingerprints and key ids may start with '-': they are values,
    // not options, so the refusal is the pin mismatch and not a usage error.
    let dashed = exits(dir, 1, &["trust", "show", "one/trust.json", "--root-fingerprint", "-ERe3lkee5FLCoHrgZ9BqNZ"]);
    assert!(dashed.contains("pinned"), "{dashed}");
}

/// A package signed by a key the trust list does not hold carries only
/// claimed statements: the decision must deny it, not open it as an
/// unlabelled file.
#[test]
fn unknown_signer_claims_are_denied() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    community(dir, "south", "https://south.example", "grid-south");
    let pem = std::fs::read_to_string(dir.join("south/alice.key.pem")).expect("alice key");
    let valise_core::keys::PrivateKey::P256(alice) =
        valise_core::keys::read_private_key_pem(&pem, Some(common::PASSPHRASE.as_bytes())).expect("decrypt alice key")
    else {
        panic!("alice's key is not P-256");
    };
    std::fs::write(dir.join("alice.pub.pem"), valise_core::keys::write_public_key_pem(&alice.public_key())).expect("write");
    std::fs::write(dir.join("note.txt"), "from outside").expect("write input");
    ok(dir, &["keygen", "--out", "mallory", "--no-encrypt"]);
    ok(dir, &["seal", "note.txt", "--to", "alice.pub.pem", "--sign-key", "mallory.key.pem", "--label", "TLP:CLEAR", "-o", "m.tdf"]);

    let output = exits(dir, 1, &["open", "m.tdf", "--trust", "south/trust.json", "--identity", "south/alice"]);
    assert!(output.contains("decision: deny"), "{output}");
    assert!(output.contains("originator_unknown"), "{output}");
}

#[test]
fn init_rejects_a_pinned_community_id() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    let id = "https://isac.example";
    ok(dir, &["community", "init", "--name", "ISAC", "--id", id, "--out", "old"]);
    ok(dir, &["attribute", "add", "--trust", "old/trust.json", "--root-key", "old/root.key.pem", "--name", "sector", "--rule", "any-of", "--values", "energy"]);

    // The state file pins the old root key and version 2 for this id: a
    // second community under it is refused, and nothing is created.
    let refused = exits(dir, 2, &["community", "init", "--name", "ISAC", "--id", id, "--out", "new"]);
    assert!(refused.contains("community id https://isac.example is already pinned"), "{refused}");
    assert!(refused.contains("highest trust list version seen 2"), "{refused}");
    assert!(refused.contains("hint: choose another id with --id"), "{refused}");
    assert!(refused.contains("--replace-pin"), "{refused}");
    assert!(!dir.join("new").exists(), "nothing created");

    // With --replace-pin the new community's version 1 is accepted, and the
    // old community's list no longer verifies under the pin.
    ok(dir, &["community", "init", "--name", "ISAC", "--id", id, "--out", "new", "--replace-pin"]);
    let shown = ok(dir, &["trust", "show", "new/trust.json"]);
    assert!(shown.contains("version      1"), "{shown}");
    let old = exits(dir, 1, &["trust", "show", "old/trust.json"]);
    assert!(old.contains("pinned"), "{old}");
}

#[test]
fn trust_show_escapes_bidi_controls() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    ok(dir, &["community", "init", "--name", "ISAC", "--id", "https://isac.example", "--out", "isac"]);
    // Display names with these characters are rejected when created, so a
    // marking, which is not a display name, carries them here.
    ok(
        dir,
        &[
            "member",
            "add",
            "--trust",
            "isac/trust.json",
            "--root-key",
            "isac/root.key.pem",
            "--org",
            "acme",
            "--name",
            "ACME",
            "--sector",
            "energy",
            "--country",
            "FR",
            "--label-map",
            "ACME:\u{202e}rewoP\u{202c} \u{2066}Grid\u{2069}=TLP:AMBER",
        ],
    );
    let shown = ok(dir, &["trust", "show", "isac/trust.json"]);
    assert!(shown.contains("ACME:\\u{202e}rewoP\\u{202c} \\u{2066}Grid\\u{2069}"), "{shown}");
    for control in ['\u{202e}', '\u{202c}', '\u{2066}', '\u{2069}'] {
        assert!(!shown.contains(control), "{control:?} in {shown}");
    }
}

/// An unlabelled stock file is view only under a trust list too, as in the
/// viewer and in the form without a trust list.
#[test]
fn stock_file_view_only_with_trust() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    community(dir, "south", "https://south.example", "grid-south");
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/opentdf/golden");
    let package = golden.join("key-management-no-split-golden.tdf");
    let key = golden.join("golden-r1.pem");
    let output = exits(
        dir,
        1,
        &[
            "open",
            package.to_str().expect("path"),
            "--trust",
            "south/trust.json",
            "--identity",
            "south/alice",
            "--key",
            key.to_str().expect("path"),
            "-o",
            "out.txt",
        ],
    );
    assert!(output.contains("decision: permit"), "{output}");
    assert!(output.contains("unlabelled"), "{output}");
    assert!(output.contains("may be viewed but not exported"), "{output}");
    assert!(output.contains("--key KEY.pem --export-unlabelled"), "{output}");
    assert!(!dir.join("out.txt").exists(), "written");

    // A labelled package without the export right gets no such hint.
    std::fs::write(dir.join("note.txt"), "amber").expect("write input");
    seal_note(dir, "south", "grid-south", "TLP:AMBER", &["--to-person", "south/alice.credential.jws"], "amber.tdf");
    let amber = exits(dir, 1, &["open", "amber.tdf", "--trust", "south/trust.json", "--identity", "south/alice", "-o", "amber.txt"]);
    assert!(amber.contains("may be viewed but not exported"), "{amber}");
    assert!(!amber.contains("--export-unlabelled"), "{amber}");
    assert!(!dir.join("amber.txt").exists(), "written");
}

/// Names go into signed trust lists and credentials, so every command that
/// creates one rejects control, bidirectional and invisible characters the
/// same way, naming the code point and the option.
#[test]
fn names_with_hidden_characters_rejected() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    for (name, code_point) in [("CERT\u{1b}[31m", "U+001B"), ("bell\u{7}", "U+0007"), ("ops\u{202e}lanif", "U+202E")] {
        let init = exits(dir, 2, &["community", "init", "--name", name, "--id", "https://bad.example", "--out", "bad"]);
        assert!(init.contains("invalid --name"), "{init}");
        assert!(init.contains(code_point), "{init}");
        assert!(!dir.join("bad").exists(), "nothing created for {name:?}");
    }

    community(dir, "isac", "https://isac.example", "acme");
    let energy = "https://isac.example/attr/sector/value/energy";
    for (option, value) in [("--name", "Acme\u{202e}"), ("--name", "Acme\u{1b}"), ("--sector", "energy\u{200b}")] {
        let mut args = vec![
            "member",
            "add",
            "--trust",
            "isac/trust.json",
            "--root-key",
            "isac/root.key.pem",
            "--org",
            "globex",
            "--name",
            "Globex",
            "--sector",
            "energy",
            "--country",
            "DE",
            "--attr",
            energy,
        ];
        let at = args.iter().position(|arg| *arg == option).expect("the option is in the list") + 1;
        args[at] = value;
        let added = exits(dir, 2, &args);
        assert!(added.contains(&format!("invalid {option}")), "{added}");
    }
    for (name, code_point) in [("Bob\u{202e}", "U+202E"), ("Bob\u{1b}", "U+001B"), ("Bob\u{2066}", "U+2066")] {
        let issued = exits(
            dir,
            2,
            &[
                "credential",
                "issue",
                "--trust",
                "isac/trust.json",
                "--org-key",
                "isac/acme.sign.key.pem",
                "--person",
                "bob@example.org",
                "--name",
                name,
                "--attr",
                energy,
                "--valid-for",
                "30",
                "--out",
                "isac/bob",
            ],
        );
        assert!(issued.contains("invalid --name"), "{issued}");
        assert!(issued.contains(code_point), "{issued}");
    }

    // Letters of other scripts and emoji stay allowed.
    ok(
        dir,
        &[
            "credential",
            "issue",
            "--trust",
            "isac/trust.json",
            "--org-key",
            "isac/acme.sign.key.pem",
            "--person",
            "zoe@example.org",
            "--name",
            "Zoë Łukasz 東京 👩‍💻",
            "--attr",
            energy,
            "--valid-for",
            "30",
            "--out",
            "isac/zoe",
        ],
    );
}

/// `VALISE_ALLOW_HIDDEN_NAME_CHARACTERS=1` lets tests sign hostile names,
/// with a warning, so viewers can be tested against them.
#[test]
fn hidden_characters_allowed_by_override() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_valise"))
        .args(["community", "init", "--name", "ops\u{202e}lanif", "--id", "https://bidi.example", "--out", "bidi"])
        .current_dir(dir)
        .env("VALISE_HOME", dir.join("home"))
        .env("VALISE_PASSPHRASE", common::PASSPHRASE)
        .env("VALISE_ALLOW_HIDDEN_NAME_CHARACTERS", "1")
        .output()
        .expect("valise runs");
    let printed = common::text(&output);
    assert_eq!(output.status.code(), Some(0), "{printed}");
    assert!(printed.contains("warning: --name contains hidden characters"), "{printed}");
    assert!(dir.join("bidi/trust.json").exists(), "trust list written");
}
