//! Helpers that the CLI test files share: running the `valise` binary in a
//! scratch folder with its own state, and a small community to test with.
//!
//! Each test file compiles this module on its own and uses part of it.
#![allow(dead_code, reason = "each test binary uses only some of these helpers")]

use std::path::Path;
use std::process::{Command, Output};

/// Passphrase of every key file the tests write.
pub(crate) const PASSPHRASE: &str = "test passphrase";

/// Runs `valise` in `dir`, with `dir/home` as its state folder and
/// [`PASSPHRASE`] for key files.
pub(crate) fn valise(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_valise"))
        .args(args)
        .current_dir(dir)
        .env("VALISE_HOME", dir.join("home"))
        .env("VALISE_PASSPHRASE", PASSPHRASE)
        .output()
        .expect("valise runs")
}

/// Returns stdout followed by stderr.
pub(crate) fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Runs a command that must exit with `code` and returns its output.
pub(crate) fn exits(dir: &Path, code: i32, args: &[&str]) -> String {
    let output = valise(dir, args);
    assert_eq!(output.status.code(), Some(code), "valise {}\n{}", args.join(" "), text(&output));
    text(&output)
}

/// Runs a command that must succeed and returns its output.
pub(crate) fn ok(dir: &Path, args: &[&str]) -> String {
    exits(dir, 0, args)
}

/// Creates a community in `name/` with the any-of attribute `sector`
/// (energy, finance), one member `org` granted `sector/energy`, and a
/// person `name/alice` of that member with the same attribute.
pub(crate) fn community(dir: &Path, name: &str, id: &str, org: &str) {
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
