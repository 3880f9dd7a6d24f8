//! CLI tests of the trust commands beyond the walk-through: several
//! communities, key revocation and suspension, and the state file.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `valise` in `dir` with its own state folder and a passphrase.
fn valise(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_valise"))
        .args(args)
        .current_dir(dir)
        .env("VALISE_HOME", dir.join("home"))
        .env("VALISE_PASSPHRASE", "test passphrase")
        .output()
        .expect("valise runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Runs a command that must succeed and returns its output.
fn ok(dir: &Path, args: &[&str]) -> String {
    let output = valise(dir, args);
    assert_eq!(output.status.code(), Some(0), "valise {}\n{}", args.join(" "), text(&output));
    text(&output)
}

/// Runs a command that must exit with `code` and returns its output.
fn fails(dir: &Path, code: i32, args: &[&str]) -> String {
    let output = valise(dir, args);
    assert_eq!(output.status.code(), Some(code), "valise {}\n{}", args.join(" "), text(&output));
    text(&output)
}

/// Creates a community in `name/` with one member `org` that holds
/// `sector/energy`, and a person `name/alice` of that member.
fn community(dir: &Path, name: &str, id: &str, org: &str) {
    let trust = format!("{name}/trust.json");
    let root = format!("{name}/root.key.pem");
    let energy = format!("{id}/attr/sector/value/energy");
    ok(dir, &["community", "init", "--name", name, "--id", id, "--out", name]);
    ok(dir, &["attribute", "add", "--trust", &trust, "--root-key", &root, "--name", "sector", "--rule", "any-of", "--values", "energy,finance"]);
    ok(dir, &[
        "member", "add", "--trust", &trust, "--root-key", &root, "--org", org, "--name", org, "--sector", "energy",
        "--country", "FR", "--attr", &energy,
    ]);
    let org_key = format!("{name}/{org}.sign.key.pem");
    let out = format!("{name}/alice");
    ok(dir, &[
        "credential", "issue", "--trust", &trust, "--org-key", &org_key, "--person", "alice@example.org", "--name", "Alice",
        "--attr", &energy, "--valid-for", "30", "--out", &out,
    ]);
}

#[test]
fn several_communities_stay_separate() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    community(dir, "north", "https://north.example", "grid-north");
    community(dir, "south", "https://south.example", "grid-south");
    std::fs::write(dir.join("note.txt"), "north only").expect("write input");

    ok(dir, &[
        "seal", "note.txt", "--trust", "north/trust.json", "--sign-key", "north/grid-north.sign.key.pem", "--label", "TLP:GREEN",
        "--to-person", "north/alice.credential.jws", "--attr", "https://north.example/attr/sector/value/energy", "-o", "note.tdf",
    ]);

    // With both lists and both identities the package's community selects
    // the north list and the north credential.
    let both = ok(dir, &[
        "open", "note.tdf", "--trust", "south/trust.json", "--trust", "north/trust.json", "--identity", "south/alice",
        "--identity", "north/alice",
    ]);
    assert!(both.contains("decision: permit"), "{both}");

    // With only the south list, the package's community is unknown.
    let south_only = fails(dir, 1, &["open", "note.tdf", "--trust", "south/trust.json", "--identity", "south/alice", "--key", "north/alice.key.pem"]);
    assert!(south_only.contains("community_mismatch"), "{south_only}");

    // The south credential gives no attribute in the north community, and
    // the north list cannot verify it.
    let wrong_identity = fails(dir, 1, &[
        "open", "note.tdf", "--trust", "north/trust.json", "--trust", "south/trust.json", "--identity", "south/alice",
        "--key", "north/alice.key.pem",
    ]);
    assert!(wrong_identity.contains("attribute_missing"), "{wrong_identity}");
}

#[test]
fn revoked_and_suspended_are_refused() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    community(dir, "isac", "https://isac.example", "acme");
    std::fs::write(dir.join("note.txt"), "hello").expect("write input");
    ok(dir, &[
        "seal", "note.txt", "--trust", "isac/trust.json", "--sign-key", "isac/acme.sign.key.pem", "--label", "TLP:CLEAR",
        "--to-org", "acme", "-o", "note.tdf",
    ]);
    let opened = ok(dir, &["open", "note.tdf", "--trust", "isac/trust.json", "--identity", "isac/alice", "--key", "isac/acme.key.pem", "-o", "note.out"]);
    assert!(opened.contains("wrote note.out"), "{opened}");
    assert_eq!(std::fs::read_to_string(dir.join("note.out")).expect("exported"), "hello");

    // A package that requires access events is written out once its event
    // is queued; nothing listens on the collector port, so it stays queued.
    ok(dir, &[
        "seal", "note.txt", "--trust", "isac/trust.json", "--sign-key", "isac/acme.sign.key.pem", "--label", "TLP:CLEAR",
        "--to-org", "acme", "--events-url", "http://127.0.0.1:9/v1", "--events-required", "-o", "reported.tdf",
    ]);
    let reported = ok(dir, &[
        "open", "reported.tdf", "--trust", "isac/trust.json", "--identity", "isac/alice", "--key", "isac/acme.key.pem", "-o", "reported.out",
    ]);
    assert!(reported.contains("access events required (http://127.0.0.1:9/v1)"), "{reported}");
    assert!(reported.contains("queued"), "{reported}");
    assert!(dir.join("reported.out").exists());
    assert_eq!(std::fs::read_dir(dir.join("home").join("outbox")).expect("an outbox").count(), 1);

    // Suspension refuses the originator and the credentials it issued.
    ok(dir, &["member", "set-status", "--trust", "isac/trust.json", "--root-key", "isac/root.key.pem", "--org", "acme", "--status", "suspended"]);
    let suspended = fails(dir, 1, &["open", "note.tdf", "--trust", "isac/trust.json", "--identity", "isac/alice", "--key", "isac/acme.key.pem"]);
    assert!(suspended.contains("originator_revoked"), "{suspended}");
    assert!(suspended.contains("credential_invalid"), "{suspended}");
    let sealing = fails(dir, 1, &[
        "seal", "note.txt", "--trust", "isac/trust.json", "--sign-key", "isac/acme.sign.key.pem", "--label", "TLP:CLEAR",
        "--to-org", "acme", "-o", "again.tdf",
    ]);
    assert!(sealing.contains("suspended"), "{sealing}");

    // Back to active, then the organization's signing key is revoked.
    ok(dir, &["member", "set-status", "--trust", "isac/trust.json", "--root-key", "isac/root.key.pem", "--org", "acme", "--status", "active"]);
    let shown = ok(dir, &["trust", "show", "isac/trust.json"]);
    let kid = shown
        .lines()
        .find_map(|line| line.trim().strip_prefix("signing key "))
        .expect("trust show lists the signing key")
        .to_owned();
    ok(dir, &["key", "revoke", "--trust", "isac/trust.json", "--root-key", "isac/root.key.pem", "--kid", &kid, "--reason", "laptop lost"]);
    let revoked = fails(dir, 1, &["open", "note.tdf", "--trust", "isac/trust.json", "--identity", "isac/alice", "--key", "isac/acme.key.pem"]);
    assert!(revoked.contains("originator_revoked"), "{revoked}");
    assert!(revoked.contains("was revoked"), "{revoked}");
    assert!(ok(dir, &["trust", "show", "isac/trust.json"]).contains("(revoked)"));

    // Editing an older copy would produce a list readers reject.
    std::fs::copy(dir.join("isac/trust.json"), dir.join("copy.json")).expect("copy");
    ok(dir, &["member", "set-status", "--trust", "isac/trust.json", "--root-key", "isac/root.key.pem", "--org", "acme", "--status", "active"]);
    let stale_edit = fails(dir, 2, &["member", "set-status", "--trust", "copy.json", "--root-key", "isac/root.key.pem", "--org", "acme", "--status", "departed"]);
    assert!(stale_edit.contains("already seen"), "{stale_edit}");

    // The state file records the highest version seen.
    let state = std::fs::read_to_string(dir.join("home/state.json")).expect("state file");
    let state: serde_json::Value = serde_json::from_str(&state).expect("state is JSON");
    assert_eq!(state["communities"]["https://isac.example"]["highestVersion"], 7);
}

#[test]
fn wrong_root_key_is_refused() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    ok(dir, &["community", "init", "--name", "One", "--id", "https://one.example", "--out", "one"]);
    ok(dir, &["community", "init", "--name", "Other", "--id", "https://other.example", "--out", "other"]);
    let refused = fails(dir, 1, &[
        "attribute", "add", "--trust", "one/trust.json", "--root-key", "other/root.key.pem", "--name", "sector", "--rule", "all-of",
        "--values", "energy",
    ]);
    assert!(refused.contains("does not verify"), "{refused}");

    // A pinned fingerprint that does not match is refused.
    let pinned = fails(dir, 1, &["trust", "show", "one/trust.json", "--root-fingerprint", "AAAA"]);
    assert!(pinned.contains("pinned"), "{pinned}");

    // Base64url fingerprints and key ids may start with '-': they are values,
    // not options, so the refusal is the pin mismatch and not a usage error.
    let dashed = fails(dir, 1, &["trust", "show", "one/trust.json", "--root-fingerprint", "-ERe3lkee5FLCoHrgZ9BqNZ"]);
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
        valise_core::keys::read_private_key_pem(&pem, Some(b"test passphrase")).expect("decrypt alice key")
    else {
        panic!("alice's key is not P-256");
    };
    std::fs::write(dir.join("alice.pub.pem"), valise_core::keys::write_public_key_pem(&alice.public_key())).expect("write");
    std::fs::write(dir.join("note.txt"), "from outside").expect("write input");
    ok(dir, &["keygen", "--out", "mallory", "--no-encrypt"]);
    ok(dir, &["seal", "note.txt", "--to", "alice.pub.pem", "--sign-key", "mallory.key.pem", "--label", "TLP:CLEAR", "-o", "m.tdf"]);

    let output = fails(dir, 1, &["open", "m.tdf", "--trust", "south/trust.json", "--identity", "south/alice"]);
    assert!(output.contains("decision: deny"), "{output}");
    assert!(output.contains("originator_unknown"), "{output}");
}
