//! The `valise` binary end to end: keygen, seal, open and inspect, exit
//! statuses, and that failures leave no output file behind.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::valise;

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Lists the file names in `dir`, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir).expect("list").flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// Creates keys alice (encrypted), bob and eve (unencrypted) in a fresh directory.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(valise(dir.path(), &["keygen", "--out", "alice"]).status.success());
    for name in ["bob", "eve"] {
        assert!(valise(dir.path(), &["keygen", "--out", name, "--no-encrypt"]).status.success());
    }
    dir
}

fn seal(dir: &Path, input: &str, output: &str) -> Output {
    valise(
        dir,
        &[
            "seal",
            input,
            "--to",
            "bob.pub.pem",
            "--to",
            "alice.pub.pem",
            "--sign-key",
            "alice.key.pem",
            "--label",
            "TLP:CLEAR",
            "--deny",
            "print,copy",
            "--org",
            "cert-a",
            "--author",
            "Ana",
            "-o",
            output,
        ],
    )
}

#[test]
fn goldens_open_to_their_plaintext() {
    let golden = repo().join("tests/opentdf/golden");
    let dir = tempfile::tempdir().expect("temp dir");
    let cases: [(&str, &[u8]); 4] = [
        ("small-java-4.3.0-e0f8caf.tdf", &[0u8; 5120]),
        ("no-splitids-java.tdf", &[0u8; 5120]),
        ("with-json-object-assertions-java.tdf", b"text"),
        ("key-management-no-split-golden.tdf", b"hello\n"),
    ];
    let key = golden.join("golden-r1.pem");
    for (name, plaintext) in cases {
        let out = dir.path().join(format!("{name}.out"));
        let package = golden.join(name);
        let open = ["open", package.to_str().expect("path"), "--key", key.to_str().expect("path"), "-o", out.to_str().expect("path")];

        // Unlabelled means view only, as in the viewer: writing the
        // plaintext needs the key holder's explicit request.
        let refused = valise(dir.path(), &open);
        assert_eq!(refused.status.code(), Some(1), "{name}: {}", stderr(&refused));
        assert!(stderr(&refused).contains("unlabelled stock OpenTDF file"), "{name}: {}", stderr(&refused));
        assert!(stderr(&refused).contains("hint: as the holder of its key, pass --export-unlabelled"), "{name}: {}", stderr(&refused));
        assert!(!out.exists(), "{name}: written without --export-unlabelled");

        let output = valise(dir.path(), &[&open[..], &["--export-unlabelled"]].concat());
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        assert_eq!(std::fs::read(&out).expect("output"), plaintext, "{name}");
        assert!(stderr(&output).contains("unlabelled"), "{name}: {}", stderr(&output));
    }
    let xstext = golden.join("xstext-java-v0.7.5-94b161d53-DSP2.0.2_and_2.0.3.tdf");
    let out = dir.path().join("xstext.out");
    let output = valise(
        dir.path(),
        &["open", xstext.to_str().expect("path"), "--key", key.to_str().expect("path"), "-o", out.to_str().expect("path"), "--export-unlabelled"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read(&out).expect("output").len(), 102);
}

#[test]
fn inspect_succeeds_on_every_stock_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    for folder in ["golden", "parse-only"] {
        for entry in std::fs::read_dir(repo().join("tests/opentdf").join(folder)).expect("list").flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "tdf") {
                continue;
            }
            for json in [false, true] {
                let mut args = vec!["inspect", path.to_str().expect("path")];
                if json {
                    args.push("--json");
                }
                let output = valise(dir.path(), &args);
                assert!(output.status.success(), "{}: {}", path.display(), stderr(&output));
                let text = String::from_utf8_lossy(&output.stdout);
                assert!(!text.contains("wrappedKey") && !text.contains("ephemeralPublicKey"), "key material in {}", path.display());
                if json {
                    let summary: serde_json::Value = serde_json::from_str(&text).expect("JSON summary");
                    assert!(summary["keyAccess"].as_array().is_some_and(|a| !a.is_empty()));
                }
            }
        }
    }
}

#[test]
fn seal_open_round_trip_pdf_and_empty() {
    let dir = setup();
    std::fs::copy(repo().join("tests/documents/TA14-353A_wiper.pdf"), dir.path().join("report.pdf")).expect("copy");
    std::fs::write(dir.path().join("empty.txt"), b"").expect("write");
    for input in ["report.pdf", "empty.txt"] {
        for name in ["p.tdf", "by-bob", "by-alice"] {
            let _ = std::fs::remove_file(dir.path().join(name));
        }
        let sealed = seal(dir.path(), input, "p.tdf");
        assert!(sealed.status.success(), "{input}: {}", stderr(&sealed));
        // The second recipient (alice, encrypted key) opens too.
        for (key, out) in [("bob.key.pem", "by-bob"), ("alice.key.pem", "by-alice")] {
            let opened = valise(dir.path(), &["open", "p.tdf", "--key", key, "--signer", "alice.pub.pem", "-o", out]);
            assert!(opened.status.success(), "{input} {key}: {}", stderr(&opened));
            assert!(stderr(&opened).contains("signer: verified"), "{}", stderr(&opened));
            assert!(stderr(&opened).contains("TLP:CLEAR"));
            assert_eq!(std::fs::read(dir.path().join(out)).expect("out"), std::fs::read(dir.path().join(input)).expect("in"));
        }
        let inspected = valise(dir.path(), &["inspect", "p.tdf", "--json", "--signer", "alice.pub.pem"]);
        assert!(inspected.status.success());
        let summary: serde_json::Value = serde_json::from_slice(&inspected.stdout).expect("json");
        assert_eq!(summary["signer"], "verified");
        assert_eq!(summary["rights"]["print"], false);
        assert_eq!(summary["label"]["tlp"], "CLEAR");
    }
}

#[test]
fn open_without_signer_writes_nothing() {
    let dir = setup();
    std::fs::write(dir.path().join("note.txt"), b"note").expect("write");
    assert!(seal(dir.path(), "note.txt", "n.tdf").status.success());
    let before = files(dir.path());
    let opened = valise(dir.path(), &["open", "n.tdf", "--key", "bob.key.pem", "-o", "note.out"]);
    assert_eq!(opened.status.code(), Some(1), "{}", stderr(&opened));
    assert!(stderr(&opened).contains("signature was not verified"), "{}", stderr(&opened));
    assert!(stderr(&opened).contains("hint: pass --signer"), "{}", stderr(&opened));
    assert_eq!(files(dir.path()), before, "nothing written");

    // --export-unlabelled is for stock files: a Valise package keeps its rights.
    let forced = valise(dir.path(), &["open", "n.tdf", "--key", "bob.key.pem", "--export-unlabelled", "-o", "note.out"]);
    assert_eq!(forced.status.code(), Some(1), "{}", stderr(&forced));
    assert!(stderr(&forced).contains("signature was not verified"), "{}", stderr(&forced));
    assert_eq!(files(dir.path()), before, "nothing written");
}

/// Returns the RFC 7638 thumbprint of a public key file that valise wrote.
fn thumbprint(path: &Path) -> String {
    let pem = std::fs::read_to_string(path).expect("public key file");
    let valise_core::keys::PublicKey::P256(key) = valise_core::keys::read_public_key_pem(&pem).expect("public key reads") else {
        unreachable!("valise writes P-256 keys only, and {} is another kind", path.display());
    };
    valise_core::keys::jwk_thumbprint(&key)
}

#[test]
fn wrong_signer_is_named_not_integrity() {
    let dir = setup();
    std::fs::write(dir.path().join("note.txt"), b"note").expect("write");
    assert!(seal(dir.path(), "note.txt", "n.tdf").status.success());
    let before = files(dir.path());
    let opened = valise(dir.path(), &["open", "n.tdf", "--key", "bob.key.pem", "--signer", "eve.pub.pem", "-o", "note.out"]);
    let message = stderr(&opened);
    assert_eq!(opened.status.code(), Some(1), "{message}");
    assert!(message.contains("n.tdf was signed by someone else"), "{message}");
    assert!(message.contains(&format!("eve.pub.pem ({})", thumbprint(&dir.path().join("eve.pub.pem")))), "{message}");
    assert!(message.contains(&thumbprint(&dir.path().join("alice.pub.pem"))), "{message}");
    assert!(message.contains("organization cert-a, author Ana"), "{message}");
    assert!(!message.contains("integrity"), "{message}");
    assert_eq!(files(dir.path()), before, "nothing written");

    // A package altered after sealing stays an integrity failure.
    let mut bytes = std::fs::read(dir.path().join("n.tdf")).expect("package");
    let middle = bytes.len() / 3;
    bytes[middle] ^= 1;
    std::fs::write(dir.path().join("n.tdf"), bytes).expect("write");
    let damaged = valise(dir.path(), &["open", "n.tdf", "--key", "bob.key.pem", "--signer", "eve.pub.pem", "-o", "note.out"]);
    assert_ne!(damaged.status.code(), Some(0), "{}", stderr(&damaged));
    assert!(!stderr(&damaged).contains("signed by someone else"), "{}", stderr(&damaged));
}

/// Seals note.txt with extra `valise seal` options and opens it without a
/// trust list; returns the open command's output.
#[test]
fn open_without_output_verifies_only() {
    let dir = setup();
    let plaintext: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.path().join("report.bin"), &plaintext).expect("write");
    let sealed = valise(dir.path(), &["seal", "report.bin", "--to", "bob.pub.pem", "--sign-key", "alice.key.pem", "--label", "TLP:AMBER", "-o", "r.tdf"]);
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    let before = files(dir.path());

    // TLP:AMBER does not allow export, and nothing is written anyway.
    let opened = valise(dir.path(), &["open", "r.tdf", "--key", "bob.key.pem", "--signer", "alice.pub.pem"]);
    assert!(opened.status.success(), "{}", stderr(&opened));
    assert!(stderr(&opened).contains("payload of r.tdf verified (5000 bytes); nothing written"), "{}", stderr(&opened));
    assert!(stderr(&opened).contains("label: TLP:AMBER"), "{}", stderr(&opened));
    assert_eq!(files(dir.path()), before, "nothing written");

    // A flipped payload byte fails the check.
    let mut bytes = std::fs::read(dir.path().join("r.tdf")).expect("read");
    bytes[1000] ^= 1;
    std::fs::write(dir.path().join("r.tdf"), &bytes).expect("write");
    let damaged = valise(dir.path(), &["open", "r.tdf", "--key", "bob.key.pem", "--signer", "alice.pub.pem"]);
    assert_eq!(damaged.status.code(), Some(1), "{}", stderr(&damaged));
    assert!(!stderr(&damaged).contains("verified"), "{}", stderr(&damaged));
}

#[test]
fn seal_warns_of_past_not_after() {
    let dir = setup();
    std::fs::write(dir.path().join("note.txt"), b"note").expect("write");
    let seal_until = |not_after: &str, output: &str| {
        valise(
            dir.path(),
            &["seal", "note.txt", "--to", "bob.pub.pem", "--sign-key", "alice.key.pem", "--label", "TLP:CLEAR", "--not-after", not_after, "-o", output],
        )
    };

    let sealed = seal_until("2020-01-01T00:00:00Z", "old.tdf");
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    assert!(
        stderr(&sealed).contains("warning: --not-after 2020-01-01T00:00:00Z has passed: every reader will refuse this package as expired"),
        "{}",
        stderr(&sealed)
    );

    let current = seal_until("2999-01-01T00:00:00Z", "new.tdf");
    assert!(current.status.success(), "{}", stderr(&current));
    assert!(!stderr(&current).contains("warning"), "{}", stderr(&current));
}

fn seal_and_open_raw(dir: &Path, seal_options: &[&str]) -> Output {
    std::fs::write(dir.join("note.txt"), b"note").expect("write");
    let mut args = vec!["seal", "note.txt", "--to", "bob.pub.pem", "--sign-key", "alice.key.pem", "--force", "-o", "r.tdf"];
    args.extend_from_slice(seal_options);
    let sealed = valise(dir, &args);
    assert!(sealed.status.success(), "{seal_options:?}: {}", stderr(&sealed));
    let _ = std::fs::remove_file(dir.join("r.out"));
    valise(dir, &["open", "r.tdf", "--key", "bob.key.pem", "--signer", "alice.pub.pem", "-o", "r.out"])
}

#[test]
fn raw_open_honours_the_rights() {
    let dir = setup();
    let cases: [(&[&str], &str); 6] = [
        (&["--label", "TLP:AMBER"], "label TLP:AMBER does not allow export"),
        (&["--label", "TLP:RED"], "label TLP:RED does not allow export"),
        (&["--label", "TLP:CLEAR", "--deny", "export"], "its rights do not allow export"),
        (&["--label", "TLP:CLEAR", "--not-after", "2020-01-01T00:00:00Z"], "expired at 2020-01-01T00:00:00Z"),
        (&["--label", "TLP:CLEAR", "--not-before", "2999-01-01T00:00:00Z"], "not valid before 2999-01-01T00:00:00Z"),
        (&["--label", "TLP:CLEAR", "--events-url", "https://events.example/", "--events-required"], "requires access events"),
    ];
    for (options, reason) in cases {
        let opened = seal_and_open_raw(dir.path(), options);
        assert_eq!(opened.status.code(), Some(1), "{options:?}: {}", stderr(&opened));
        assert!(stderr(&opened).contains(reason), "{options:?}: {}", stderr(&opened));
        assert!(stderr(&opened).contains("hint: open it with --trust TRUST.json and --identity NAME"), "{}", stderr(&opened));
        assert!(!dir.path().join("r.out").exists(), "{options:?}: written");
    }
    let opened = seal_and_open_raw(dir.path(), &["--label", "TLP:CLEAR"]);
    assert!(opened.status.success(), "{}", stderr(&opened));
    assert_eq!(std::fs::read(dir.path().join("r.out")).expect("out"), b"note");
}

#[test]
fn stripped_profile_is_rejected() {
    let dir = setup();
    std::fs::write(dir.path().join("note.txt"), b"red note").expect("write");
    let sealed = valise(dir.path(), &["seal", "note.txt", "--to", "bob.pub.pem", "--sign-key", "alice.key.pem", "--label", "TLP:RED", "-o", "red.tdf"]);
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    // Rebuild the package with its manifest minus the assertions.
    let package = std::fs::read(dir.path().join("red.tdf")).expect("read");
    let parsed = valise_core::open::Package::parse_bytes(&package).expect("parse");
    let mut manifest = parsed.manifest_value().clone();
    manifest.as_object_mut().expect("object").remove("assertions");
    let payload = &package[parsed.container().payload.data_offset as usize..][..parsed.container().payload.size as usize];
    let mut writer = valise_core::container::ContainerWriter::new(Vec::new(), payload.len() as u64).expect("writer");
    writer.write_payload(payload).expect("payload");
    let stripped = writer.finish(&serde_json::to_vec(&manifest).expect("json")).expect("finish");
    std::fs::write(dir.path().join("stripped.tdf"), stripped).expect("write");

    let opened = valise(dir.path(), &["open", "stripped.tdf", "--key", "bob.key.pem", "-o", "out.txt"]);
    assert_eq!(opened.status.code(), Some(1), "{}", stderr(&opened));
    assert!(stderr(&opened).contains("integrity check failed"), "{}", stderr(&opened));
    assert!(!dir.path().join("out.txt").exists());
    let inspected = valise(dir.path(), &["inspect", "stripped.tdf"]);
    assert_eq!(inspected.status.code(), Some(1), "{}", stderr(&inspected));
    assert!(String::from_utf8_lossy(&inspected.stdout).contains("profile statements were removed"));
}

#[test]
fn non_recipient_gets_exit_1_and_no_file() {
    let dir = setup();
    std::fs::write(dir.path().join("note.txt"), b"note").expect("write");
    assert!(seal(dir.path(), "note.txt", "n.tdf").status.success());
    let before = files(dir.path());
    let opened = valise(dir.path(), &["open", "n.tdf", "--key", "eve.key.pem", "-o", "stolen.txt"]);
    assert_eq!(opened.status.code(), Some(1));
    assert!(stderr(&opened).contains("error: n.tdf: not a recipient"), "{}", stderr(&opened));
    assert!(stderr(&opened).contains("hint: "));
    assert_eq!(files(dir.path()), before, "nothing written");
}

#[test]
fn tampered_package_writes_nothing() {
    let dir = setup();
    let text = b"0123456789abcdef".repeat(4096);
    std::fs::write(dir.path().join("data.bin"), &text).expect("write");
    let sealed = valise(
        dir.path(),
        &["seal", "data.bin", "--to", "bob.pub.pem", "--sign-key", "alice.key.pem", "--label", "TLP:CLEAR", "--segment-size", "4096", "-o", "d.tdf"],
    );
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    let package = std::fs::read(dir.path().join("d.tdf")).expect("read");
    // Flip a byte in the last segment: earlier segments verify and decrypt
    // first, yet the output must not appear.
    let payload_end = package.windows(4).position(|w| w == b"PK\x07\x08").expect("data descriptor");
    let mut tampered = package.clone();
    tampered[payload_end - 3] ^= 0x01;
    std::fs::write(dir.path().join("t.tdf"), &tampered).expect("write");
    let before = files(dir.path());
    let opened = valise(dir.path(), &["open", "t.tdf", "--key", "bob.key.pem", "--signer", "alice.pub.pem", "-o", "out.bin"]);
    assert_eq!(opened.status.code(), Some(1), "{}", stderr(&opened));
    assert!(stderr(&opened).contains("integrity check failed"));
    assert_eq!(files(dir.path()), before, "no output and no temporary file left");
}

#[test]
fn malformed_and_usage_errors_exit_2() {
    let dir = setup();
    std::fs::write(dir.path().join("junk.tdf"), b"not a zip file at all").expect("write");
    let opened = valise(dir.path(), &["open", "junk.tdf", "--key", "bob.key.pem", "-o", "out"]);
    assert_eq!(opened.status.code(), Some(2), "{}", stderr(&opened));
    assert!(stderr(&opened).starts_with("error: "));
    assert!(!dir.path().join("out").exists());
    let inspected = valise(dir.path(), &["inspect", "junk.tdf"]);
    assert_eq!(inspected.status.code(), Some(2));
    let bad_label = valise(dir.path(), &["seal", "junk.tdf", "--to", "bob.pub.pem", "--sign-key", "alice.key.pem", "--label", "TLP:WHITE", "-o", "x.tdf"]);
    assert_eq!(bad_label.status.code(), Some(2));
    let window = valise(
        dir.path(),
        &[
            "seal",
            "junk.tdf",
            "--to",
            "bob.pub.pem",
            "--sign-key",
            "alice.key.pem",
            "--label",
            "TLP:RED",
            "--not-before",
            "2027-01-02T00:00:00Z",
            "--not-after",
            "2027-01-01T00:00:00Z",
            "-o",
            "x.tdf",
        ],
    );
    assert_eq!(window.status.code(), Some(2), "{}", stderr(&window));
    assert!(stderr(&window).contains("--not-before 2027-01-02T00:00:00Z is not before --not-after 2027-01-01T00:00:00Z"), "{}", stderr(&window));
    assert!(!dir.path().join("x.tdf").exists());
    let missing = valise(dir.path(), &["open", "missing.tdf", "--key", "bob.key.pem", "-o", "out"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn wrong_passphrase_is_refused() {
    let dir = setup();
    std::fs::write(dir.path().join("note.txt"), b"note").expect("write");
    assert!(seal(dir.path(), "note.txt", "n.tdf").status.success());
    let output = Command::new(env!("CARGO_BIN_EXE_valise"))
        .args(["open", "n.tdf", "--key", "alice.key.pem", "-o", "out"])
        .current_dir(dir.path())
        .env("VALISE_PASSPHRASE", "wrong")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("wrong passphrase"));
}

/// Seals and opens a generated 200 MiB file through the streaming path.
/// It takes about two minutes in a debug build on a shared two-core
/// machine, so the test script runs it in release.
#[test]
#[ignore = "slow in debug builds; scripts/test.mjs runs it with --release --ignored"]
fn large_file_streams_round_trip() {
    use std::io::Write as _;
    let dir = setup();
    let path = dir.path().join("large.bin");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    let block: Vec<u8> = (0..1024 * 1024).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    for index in 0..200u8 {
        let mut chunk = block.clone();
        chunk[0] = index;
        file.write_all(&chunk).expect("write");
    }
    drop(file);
    let sealed = valise(dir.path(), &["seal", "large.bin", "--to", "bob.pub.pem", "--sign-key", "alice.key.pem", "--label", "TLP:CLEAR", "-o", "large.tdf"]);
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    // Without a trust list the CLI writes a labelled package only for a signer
    // named with --signer and rights that allow export (TLP:CLEAR).
    let opened = valise(dir.path(), &["open", "large.tdf", "--key", "bob.key.pem", "--signer", "alice.pub.pem", "-o", "large.out"]);
    assert!(opened.status.success(), "{}", stderr(&opened));
    let same = Command::new("cmp").arg("large.bin").arg("large.out").current_dir(dir.path()).status().expect("cmp");
    assert!(same.success(), "the opened file differs");
}

/// Runs every vector of `tests/vectors/` through `valise open` and checks the
/// exit status: 0 for `opens` (with the expected output), 1 for `wrong_key`
/// and `integrity_failure`, 2 for `malformed`; refused vectors write nothing.
#[test]
fn vectors_through_the_cli() {
    use base64::Engine as _;
    let folder = repo().join("tests/vectors");
    let mut failures = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&folder).expect("list vectors").flatten().map(|e| e.path()).collect();
    paths.retain(|p| p.extension().is_some_and(|e| e == "json"));
    paths.sort();
    assert!(!paths.is_empty(), "no vectors in {}", folder.display());
    for path in paths {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let vector: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        let text = |member: &str| vector[member].as_str().unwrap_or_default().to_owned();
        let dir = tempfile::tempdir().expect("temp dir");
        let base64 = base64::engine::general_purpose::STANDARD;
        std::fs::write(dir.path().join("p.tdf"), base64.decode(text("packageBase64")).expect("package")).expect("write");
        std::fs::write(dir.path().join("key.pem"), text("recipientPrivateKeyPem")).expect("write");
        std::fs::write(dir.path().join("signer.pem"), text("signerPublicKeyPem")).expect("write");
        let output = valise(dir.path(), &["open", "p.tdf", "--key", "key.pem", "--signer", "signer.pem", "-o", "out"]);
        let expected_status = match text("expected").as_str() {
            "opens" => 0,
            "wrong_key" | "integrity_failure" => 1,
            _ => 2,
        };
        if output.status.code() != Some(expected_status) {
            failures.push(format!("{name}: exit {:?}, expected {expected_status}: {}", output.status.code(), stderr(&output)));
            continue;
        }
        let written = dir.path().join("out");
        if expected_status == 0 {
            let wanted = base64.decode(text("plaintextBase64")).expect("plaintext");
            if std::fs::read(&written).ok() != Some(wanted) {
                failures.push(format!("{name}: output differs from the expected plaintext"));
            }
        } else if files(dir.path()) != ["key.pem", "p.tdf", "signer.pem"] {
            failures.push(format!("{name}: refused, but left files behind: {:?}", files(dir.path())));
        }
    }
    assert!(failures.is_empty(), "vectors failed through the CLI:\n{}", failures.join("\n"));
}

/// A dangling symbolic link at the public key's name is not followed, and a
/// failed key pair leaves neither half nor any temporary file behind.
#[cfg(unix)]
#[test]
fn keygen_does_not_follow_a_planted_link() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::os::unix::fs::symlink(dir.path().join("victim.txt"), dir.path().join("carol.pub.pem")).expect("plant link");
    let before = files(dir.path());
    let output = valise(dir.path(), &["keygen", "--out", "carol", "--no-encrypt"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("carol.pub.pem"), "{}", stderr(&output));
    assert!(!dir.path().join("victim.txt").exists(), "the link was followed");
    assert_eq!(files(dir.path()), before, "no key file and no temporary file left");
}

#[cfg(unix)]
#[test]
fn keygen_private_key_is_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(valise(dir.path(), &["keygen", "--out", "dave", "--no-encrypt"]).status.success());
    let mode = std::fs::metadata(dir.path().join("dave.key.pem")).expect("key").permissions().mode();
    assert_eq!(mode & 0o077, 0, "private key mode {mode:o}");
    assert_eq!(files(dir.path()).len(), 2, "{:?}", files(dir.path()));
}

/// Files that report no size (a device here) are bounded while reading:
/// each command refuses at once instead of reading forever.
#[cfg(target_os = "linux")]
#[test]
fn endless_input_files_are_refused() {
    let dir = setup();
    std::fs::write(dir.path().join("note.txt"), b"note").expect("write");
    assert!(seal(dir.path(), "note.txt", "n.tdf").status.success());
    let cases: [&[&str]; 2] = [&["open", "n.tdf", "--key", "/dev/zero", "-o", "out"], &["open", "n.tdf", "--trust", "/dev/zero", "--key", "bob.key.pem"]];
    for args in cases {
        let output = valise(dir.path(), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains("more than the maximum of"), "{args:?}: {}", stderr(&output));
    }
}

#[test]
fn seal_output_equal_to_input_rejected() {
    let dir = setup();
    std::fs::write(dir.path().join("same.txt"), b"the document").expect("write");
    let output = seal(dir.path(), "same.txt", "same.txt");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("is the input file"), "{}", stderr(&output));
    assert_eq!(std::fs::read(dir.path().join("same.txt")).expect("read"), b"the document");
}

#[test]
fn output_never_replaces_without_force() {
    let dir = setup();
    std::fs::write(dir.path().join("note.txt"), b"note").expect("write");
    assert!(seal(dir.path(), "note.txt", "n.tdf").status.success());
    let package = std::fs::read(dir.path().join("n.tdf")).expect("read");
    std::fs::write(dir.path().join("out.txt"), b"older file").expect("write");
    let bob_key = std::fs::read(dir.path().join("bob.key.pem")).expect("read");

    let open = |output: &str, force: bool| {
        let mut args = vec!["open", "n.tdf", "--key", "bob.key.pem", "--signer", "alice.pub.pem", "-o", output];
        if force {
            args.push("--force");
        }
        valise(dir.path(), &args)
    };
    let kept = open("out.txt", false);
    assert_eq!(kept.status.code(), Some(2), "{}", stderr(&kept));
    assert!(stderr(&kept).contains("error: out.txt already exists"), "{}", stderr(&kept));
    assert!(stderr(&kept).contains("hint: choose another output path with -o, or pass --force"), "{}", stderr(&kept));
    assert_eq!(std::fs::read(dir.path().join("out.txt")).expect("read"), b"older file");

    let resealed = seal(dir.path(), "note.txt", "n.tdf");
    assert_eq!(resealed.status.code(), Some(2), "{}", stderr(&resealed));
    assert!(stderr(&resealed).contains("error: n.tdf already exists"), "{}", stderr(&resealed));
    assert_eq!(std::fs::read(dir.path().join("n.tdf")).expect("read"), package);

    // An input of the same command is never replaced, even with --force.
    for force in [false, true] {
        let key = open("bob.key.pem", force);
        assert_eq!(key.status.code(), Some(2), "{}", stderr(&key));
        assert_eq!(std::fs::read(dir.path().join("bob.key.pem")).expect("read"), bob_key);
    }
    assert!(stderr(&open("bob.key.pem", true)).contains("the output bob.key.pem is the --key file"));
    assert!(stderr(&open("alice.pub.pem", true)).contains("the output alice.pub.pem is the --signer file"));
    assert!(stderr(&open("n.tdf", true)).contains("the output n.tdf is the package"));
    let sign_key = valise(
        dir.path(),
        &["seal", "note.txt", "--to", "bob.pub.pem", "--sign-key", "alice.key.pem", "--label", "TLP:CLEAR", "--force", "-o", "alice.key.pem"],
    );
    assert_eq!(sign_key.status.code(), Some(2), "{}", stderr(&sign_key));
    assert!(stderr(&sign_key).contains("the output alice.key.pem is the --sign-key file"), "{}", stderr(&sign_key));
    assert!(std::fs::read_to_string(dir.path().join("alice.key.pem")).expect("read").starts_with("-----BEGIN"));

    let replaced = open("out.txt", true);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert_eq!(std::fs::read(dir.path().join("out.txt")).expect("read"), b"note");
    assert!(!files(dir.path()).iter().any(|name| name.ends_with(".partial")), "{:?}", files(dir.path()));
}

/// Lists the names of the temporary `.partial` files in `dir`.
fn partial_files(dir: &Path) -> Vec<String> {
    files(dir).into_iter().filter(|name| name.ends_with(".partial")).collect()
}

/// SIGTERM, SIGINT and SIGHUP sent to `valise open` while it writes the
/// plaintext of a large package remove its temporary file, next to the
/// output or in $TMPDIR for `-o -`, before the process ends by the signal.
#[cfg(unix)]
#[test]
fn signal_removes_partial_output() {
    use std::os::unix::process::ExitStatusExt as _;
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let dir = setup();
    let block: Vec<u8> = (0..1024 * 1024).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    std::fs::write(dir.path().join("big.bin"), block.repeat(24)).expect("write");
    let sealed = valise(dir.path(), &["seal", "big.bin", "--to", "bob.pub.pem", "--sign-key", "alice.key.pem", "--label", "TLP:CLEAR", "-o", "big.tdf"]);
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    let temporary_folder = dir.path().join("tmp");
    std::fs::create_dir(&temporary_folder).expect("create");

    for (signal, number, output) in [("TERM", 15, "big.out"), ("INT", 2, "-"), ("HUP", 1, "big.out")] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_valise"))
            .args(["open", "big.tdf", "--key", "bob.key.pem", "--signer", "alice.pub.pem", "-o", output])
            .current_dir(dir.path())
            .env("VALISE_HOME", dir.path().join("home"))
            .env("TMPDIR", &temporary_folder)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("valise runs");
        let written_in = if output == "-" { temporary_folder.as_path() } else { dir.path() };
        let started = Instant::now();
        loop {
            let partial = partial_files(written_in).into_iter().next();
            if partial.is_some_and(|name| std::fs::metadata(written_in.join(name)).is_ok_and(|m| m.len() > 0)) {
                break;
            }
            assert!(child.try_wait().expect("wait").is_none(), "SIG{signal}: valise open ended before it was interrupted");
            assert!(started.elapsed() < Duration::from_secs(60), "SIG{signal}: no temporary file appeared");
            std::thread::sleep(Duration::from_millis(2));
        }
        let sent = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status().expect("kill runs");
        assert!(sent.success());
        let status = child.wait().expect("wait");
        assert!(status.signal() == Some(number) || status.code() == Some(128 + number), "SIG{signal}: {status:?}");
        assert_eq!(partial_files(dir.path()), Vec::<String>::new(), "SIG{signal}");
        assert_eq!(partial_files(&temporary_folder), Vec::<String>::new(), "SIG{signal}");
        assert!(!dir.path().join("big.out").exists(), "SIG{signal}");
    }
}

#[test]
fn signer_private_key_hints_public_key() {
    let dir = setup();
    std::fs::write(dir.path().join("note.txt"), b"note").expect("write");
    assert!(seal(dir.path(), "note.txt", "n.tdf").status.success());
    let opened = valise(dir.path(), &["open", "n.tdf", "--key", "bob.key.pem", "--signer", "alice.key.pem"]);
    assert_eq!(opened.status.code(), Some(2), "{}", stderr(&opened));
    assert!(stderr(&opened).contains("error: cannot read public key alice.key.pem"), "{}", stderr(&opened));
    assert!(stderr(&opened).contains("hint: this is a private key: pass the public key file instead, such as alice.pub.pem"), "{}", stderr(&opened));
}

#[test]
fn open_without_output_reports_validity() {
    let dir = setup();
    let cases = [
        ("--not-after", "2020-01-01T00:00:00Z", "error: the package expired at 2020-01-01T00:00:00Z"),
        ("--not-before", "2999-01-01T00:00:00Z", "error: the package is not valid before 2999-01-01T00:00:00Z"),
    ];
    for (option, time, message) in cases {
        std::fs::write(dir.path().join("note.txt"), b"note").expect("write");
        let sealed = valise(
            dir.path(),
            &["seal", "note.txt", "--to", "bob.pub.pem", "--sign-key", "alice.key.pem", "--label", "TLP:CLEAR", option, time, "--force", "-o", "w.tdf"],
        );
        assert!(sealed.status.success(), "{}", stderr(&sealed));
        let opened = valise(dir.path(), &["open", "w.tdf", "--key", "bob.key.pem", "--signer", "alice.pub.pem"]);
        assert_eq!(opened.status.code(), Some(1), "{option}: {}", stderr(&opened));
        assert!(stderr(&opened).contains(message), "{option}: {}", stderr(&opened));
    }
}

#[test]
fn seal_warns_of_zero_offline_lease() {
    let dir = setup();
    std::fs::write(dir.path().join("note.txt"), b"note").expect("write");
    let sealed = valise(
        dir.path(),
        &["seal", "note.txt", "--to", "bob.pub.pem", "--sign-key", "alice.key.pem", "--label", "TLP:CLEAR", "--offline-lease", "0", "-o", "z.tdf"],
    );
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    assert!(stderr(&sealed).contains("warning: --offline-lease 0 allows no offline use"), "{}", stderr(&sealed));
    let leased = valise(
        dir.path(),
        &["seal", "note.txt", "--to", "bob.pub.pem", "--sign-key", "alice.key.pem", "--label", "TLP:CLEAR", "--offline-lease", "60", "-o", "l.tdf"],
    );
    assert!(leased.status.success(), "{}", stderr(&leased));
    assert!(!stderr(&leased).contains("warning"), "{}", stderr(&leased));
}

#[test]
fn inspect_escapes_bidi_controls() {
    let dir = setup();
    let name = "invoice\u{202e}fdp.exe";
    std::fs::write(dir.path().join(name), b"note").expect("write");
    // seal rejects a bidirectional control in --author, which it takes as a
    // display name, so only the file name and the org carry one here.
    let rejected = valise(
        dir.path(),
        &["seal", name, "--to", "bob.pub.pem", "--sign-key", "alice.key.pem", "--label", "TLP:CLEAR", "--author", "Ana\u{200f}", "-o", "b.tdf"],
    );
    assert_eq!(rejected.status.code(), Some(2), "{}", stderr(&rejected));
    assert!(stderr(&rejected).contains("invalid --author"), "{}", stderr(&rejected));
    assert!(stderr(&rejected).contains("U+200F"), "{}", stderr(&rejected));
    let sealed = valise(
        dir.path(),
        &[
            "seal",
            name,
            "--to",
            "bob.pub.pem",
            "--sign-key",
            "alice.key.pem",
            "--label",
            "TLP:CLEAR",
            "--org",
            "cert\u{2067}a",
            "--author",
            "Ana",
            "-o",
            "b.tdf",
        ],
    );
    assert!(sealed.status.success(), "{}", stderr(&sealed));

    let shown = valise(dir.path(), &["inspect", "b.tdf", "--signer", "alice.pub.pem"]);
    let text = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert!(shown.status.success(), "{}", stderr(&shown));
    assert!(text.contains("invoice\\u{202e}fdp.exe"), "{text}");
    assert!(text.contains("cert\\u{2067}a"), "{text}");
    for control in ['\u{202e}', '\u{2067}'] {
        assert!(!text.contains(control), "{control:?} in {text}");
    }

    // JSON output keeps the text as data: JSON escapes that decode to it.
    let json = valise(dir.path(), &["inspect", "b.tdf", "--json"]);
    let raw = String::from_utf8_lossy(&json.stdout).into_owned();
    assert!(json.status.success(), "{}", stderr(&json));
    assert!(!raw.contains('\u{202e}'), "{raw}");
    assert!(raw.contains("invoice\\u202efdp.exe"), "{raw}");
    let value: serde_json::Value = serde_json::from_str(&raw).expect("inspect --json is JSON");
    assert!(value.to_string().contains(name), "{value}");
}

#[test]
fn inspect_escapes_line_breaks() {
    let dir = setup();
    let name = "invoice.pdf\nsigner: verified\r\troot signature:  valid";
    std::fs::write(dir.path().join(name), b"note").expect("write");
    let sealed = valise(dir.path(), &["seal", name, "--to", "bob.pub.pem", "--sign-key", "alice.key.pem", "--label", "TLP:CLEAR", "-o", "n.tdf"]);
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    assert!(stderr(&sealed).contains("invoice.pdf\\u{a}signer: verified\\u{d}\\u{9}root"), "{}", stderr(&sealed));

    let shown = valise(dir.path(), &["inspect", "n.tdf"]);
    let text = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert!(shown.status.success(), "{}", stderr(&shown));
    assert!(text.contains("file invoice.pdf\\u{a}signer: verified\\u{d}\\u{9}root signature:  valid,"), "{text}");
    assert!(!text.contains('\r'), "{text}");
    assert!(!text.contains('\t'), "{text}");
    assert!(!text.lines().any(|line| line.starts_with("signer: verified")), "{text}");
    assert_eq!(text.lines().filter(|line| line.starts_with("root signature:")).count(), 1, "{text}");
}

/// `valise inspect PKG | head -1`: a reader that closes the pipe early ends
/// the CLI quietly, not with a panic.
#[test]
fn closed_stdout_pipe_exits_quietly() {
    let dir = setup();
    std::fs::write(dir.path().join("note.txt"), "hello").expect("write input");
    assert!(seal(dir.path(), "note.txt", "note.tdf").status.success());

    let mut child = Command::new(env!("CARGO_BIN_EXE_valise"))
        .args(["inspect", "note.tdf"])
        .current_dir(dir.path())
        .env("VALISE_HOME", dir.path().join("home"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("valise runs");
    // Closing the read end before the CLI writes makes its first write fail
    // with a broken pipe.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("valise ends");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}

/// `inspect` prints times as RFC 3339, the form the other commands take.
#[test]
fn inspect_prints_rfc3339_times() {
    let dir = setup();
    std::fs::write(dir.path().join("note.txt"), "hello").expect("write input");
    assert!(seal(dir.path(), "note.txt", "note.tdf").status.success());

    let shown = valise(dir.path(), &["inspect", "note.tdf"]);
    let text = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert!(shown.status.success(), "{}", stderr(&shown));
    let created = text.split("created ").nth(1).and_then(|rest| rest.split(',').next()).expect("a created time");
    let parsed = time::OffsetDateTime::parse(created, &time::format_description::well_known::Rfc3339);
    assert!(parsed.is_ok(), "created {created:?} is not RFC 3339");
}

/// `-o -` writes to standard output, after the same checks as a file and
/// only once the whole output verified. It never creates a file named `-`.
#[test]
fn output_dash_is_standard_output() {
    let dir = setup();
    std::fs::write(dir.path().join("note.txt"), b"to stdout").expect("write input");
    assert!(seal(dir.path(), "note.txt", "n.tdf").status.success());

    let opened = valise(dir.path(), &["open", "n.tdf", "--key", "bob.key.pem", "--signer", "alice.pub.pem", "-o", "-"]);
    assert!(opened.status.success(), "{}", stderr(&opened));
    assert_eq!(opened.stdout, b"to stdout");
    assert!(stderr(&opened).contains("into standard output"), "{}", stderr(&opened));
    assert!(!dir.path().join("-").exists(), "a file named - was written");

    // Unverified or damaged: nothing at all reaches standard output.
    let unverified = valise(dir.path(), &["open", "n.tdf", "--key", "bob.key.pem", "-o", "-"]);
    assert_eq!(unverified.status.code(), Some(1), "{}", stderr(&unverified));
    assert!(unverified.stdout.is_empty());
    // A damaged last segment fails after earlier segments decrypted, and
    // still no byte of them reaches standard output.
    let text = b"0123456789abcdef".repeat(4096);
    std::fs::write(dir.path().join("data.bin"), &text).expect("write");
    let sealed = valise(
        dir.path(),
        &["seal", "data.bin", "--to", "bob.pub.pem", "--sign-key", "alice.key.pem", "--label", "TLP:CLEAR", "--segment-size", "4096", "-o", "d.tdf"],
    );
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    let mut package = std::fs::read(dir.path().join("d.tdf")).expect("read");
    let payload_end = package.windows(4).position(|w| w == b"PK\x07\x08").expect("data descriptor");
    package[payload_end - 3] ^= 0x01;
    std::fs::write(dir.path().join("t.tdf"), &package).expect("write");
    let damaged = valise(dir.path(), &["open", "t.tdf", "--key", "bob.key.pem", "--signer", "alice.pub.pem", "-o", "-"]);
    assert_eq!(damaged.status.code(), Some(1), "{}", stderr(&damaged));
    assert!(stderr(&damaged).contains("integrity check failed"), "{}", stderr(&damaged));
    assert!(damaged.stdout.is_empty(), "{} bytes on stdout", damaged.stdout.len());

    // seal -o - writes the package, which opens like a file.
    let sealed = valise(dir.path(), &["seal", "note.txt", "--to", "bob.pub.pem", "--sign-key", "alice.key.pem", "--label", "TLP:CLEAR", "-o", "-"]);
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    assert!(sealed.stdout.starts_with(b"PK"), "not a ZIP package");
    assert!(!dir.path().join("-").exists(), "a file named - was written");
    std::fs::write(dir.path().join("piped.tdf"), &sealed.stdout).expect("write");
    let reopened = valise(dir.path(), &["open", "piped.tdf", "--key", "bob.key.pem", "--signer", "alice.pub.pem", "-o", "-"]);
    assert!(reopened.status.success(), "{}", stderr(&reopened));
    assert_eq!(reopened.stdout, b"to stdout");
}

#[test]
fn inspect_stock_file_signer_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stock = repo().join("tests/opentdf/golden/small-java-4.3.0-e0f8caf.tdf");
    let shown = valise(dir.path(), &["inspect", stock.to_str().expect("path")]);
    let text = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert!(shown.status.success(), "{}", stderr(&shown));
    let line = text.lines().find(|line| line.starts_with("signer:")).expect("a signer line");
    assert_eq!(line, "signer:          none (stock OpenTDF file, no provenance assertion)");
}

#[test]
fn seal_with_public_key_hints_p256() {
    let dir = setup();
    std::fs::write(dir.path().join("note.txt"), b"note").expect("write");
    let sealed = valise(dir.path(), &["seal", "note.txt", "--to", "bob.pub.pem", "--sign-key", "bob.pub.pem", "--label", "TLP:CLEAR", "-o", "n.tdf"]);
    assert_eq!(sealed.status.code(), Some(2), "{}", stderr(&sealed));
    let text = stderr(&sealed);
    let hint = text.lines().find(|line| line.starts_with("hint: the key must be")).expect("a key type hint");
    assert!(hint.ends_with("PEM file (P-256)"), "{text}");
}

#[test]
fn keygen_warns_on_short_passphrase() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |name: &str, passphrase: &str| {
        Command::new(env!("CARGO_BIN_EXE_valise"))
            .args(["keygen", "--out", name])
            .current_dir(dir.path())
            .env("VALISE_HOME", dir.path().join("home"))
            .env("VALISE_PASSPHRASE", passphrase)
            .output()
            .expect("valise runs")
    };
    let short = run("short", "x");
    assert!(short.status.success(), "{}", stderr(&short));
    assert!(stderr(&short).contains("warning: the passphrase has 1 character; use at least 12"), "{}", stderr(&short));
    assert!(dir.path().join("short.key.pem").exists());

    let long = run("long", "correct horse battery");
    assert!(long.status.success(), "{}", stderr(&long));
    assert!(!stderr(&long).contains("warning"), "{}", stderr(&long));
}
