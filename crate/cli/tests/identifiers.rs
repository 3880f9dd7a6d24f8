//! CLI tests of person id syntax: `valise credential issue` rejects a person
//! id that could read as another organization's person, and terminal output
//! shows invisible characters as escapes.

mod common;

use common::{community, exits, ok};

#[test]
fn issue_rejects_unsafe_person_ids() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    community(dir, "c", "https://c.example", "beta-bank");
    for (index, person) in ["alpha-cert/alice", "../alice", "alice\u{200b}", "al ice", ""].iter().enumerate() {
        let out = format!("c/p{index}");
        let output = exits(dir, 2, &[
            "credential", "issue", "--trust", "c/trust.json", "--org-key", "c/beta-bank.sign.key.pem", "--person", person,
            "--name", "Alice", "--valid-for", "30", "--out", &out,
        ]);
        assert!(output.contains("is not a valid person id"), "{person:?}: {output}");
        assert!(output.contains("hint: use 1 to 256 ASCII letters"), "{person:?}: {output}");
        // The error shows the zero-width space as an escape.
        assert!(!output.contains('\u{200b}'), "{output}");
        assert!(!dir.join(format!("{out}.credential.jws")).exists(), "{person:?}");
    }
    ok(dir, &[
        "credential", "issue", "--trust", "c/trust.json", "--org-key", "c/beta-bank.sign.key.pem", "--person",
        "carol.b+x@bank.example", "--name", "Carol", "--valid-for", "30", "--out", "c/carol",
    ]);
}

#[test]
fn trust_show_escapes_invisible_characters() {
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path();
    ok(dir, &["community", "init", "--name", "ISAC", "--id", "https://isac.example", "--out", "isac"]);
    // Display names with these characters are rejected when created, so a
    // marking, which is not a display name, carries them here.
    ok(dir, &[
        "member", "add", "--trust", "isac/trust.json", "--root-key", "isac/root.key.pem", "--org", "acme", "--name", "ACME",
        "--sector", "energy", "--country", "FR", "--label-map", "ACME:Grid\u{200b}\u{2060} \u{feff}Power\u{e0041}=TLP:AMBER",
    ]);
    let shown = ok(dir, &["trust", "show", "isac/trust.json"]);
    assert!(shown.contains("ACME:Grid\\u{200b}\\u{2060} \\u{feff}Power\\u{e0041}"), "{shown}");
    for invisible in ['\u{200b}', '\u{2060}', '\u{feff}', '\u{e0041}'] {
        assert!(!shown.contains(invisible), "{invisible:?} in {shown}");
    }
}
