//! Runs the commands of `docs/walkthrough.md`, in order, so that the
//! walk-through and the CLI cannot drift apart.
//!
//! Every line of a fenced `sh` block is a command run with `sh -c` in a
//! temporary folder, with the `valise` binary first on `PATH` and
//! `VALISE_HOME` inside the folder. `export NAME=VALUE` lines set a variable
//! for the following commands. A `# expect exit N: TEXT; TEXT` line checks
//! the exit status of the command before it and that its output (stdout and
//! stderr) contains each text. Commands without one must exit 0.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One command of the walk-through and what it must do.
#[derive(Debug)]
struct Step {
    line: usize,
    command: String,
    exit: i32,
    expected: Vec<String>,
}

/// Parses an `export NAME=VALUE` line and returns the name and unquoted value.
fn parse_export(command: &str) -> Option<(String, String)> {
    let assignment = command.strip_prefix("export ")?;
    let (name, value) = assignment.split_once('=')?;
    let value = value.trim();
    let unquoted = value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .or_else(|| value.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
        .unwrap_or(value);
    Some((name.trim().to_owned(), unquoted.to_owned()))
}

/// Extracts the steps of the `sh` blocks, in order.
fn parse_steps(markdown: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut in_block = false;
    for (index, line) in markdown.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(info) = trimmed.strip_prefix("```") {
            in_block = !in_block && info.trim() == "sh";
            continue;
        }
        if !in_block || trimmed.is_empty() {
            continue;
        }
        if let Some(expectation) = trimmed.strip_prefix("# expect exit ") {
            let step = steps.last_mut().expect("an expectation follows a command");
            let (code, texts) = expectation.split_once(':').unwrap_or((expectation, ""));
            step.exit = code.trim().parse().expect("exit status is a number");
            step.expected = texts.split(';').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect();
            continue;
        }
        if trimmed.starts_with('#') {
            continue;
        }
        steps.push(Step { line: index + 1, command: trimmed.to_owned(), exit: 0, expected: Vec::new() });
    }
    assert!(!in_block, "unterminated code block in the walk-through");
    steps
}

fn walkthrough_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/walkthrough.md")
}

#[test]
fn walkthrough_commands_run_as_documented() {
    let markdown = std::fs::read_to_string(walkthrough_path()).expect("docs/walkthrough.md is readable");
    let steps = parse_steps(&markdown);
    assert!(steps.len() >= 15, "the walk-through has {} commands; did the block format change?", steps.len());

    let work = tempfile::tempdir().expect("temporary folder");
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_valise"));
    let bin_dir = binary.parent().expect("the binary has a folder");
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let mut exported: Vec<(String, String)> = Vec::new();

    for step in &steps {
        if let Some(variable) = parse_export(&step.command) {
            exported.push(variable);
            continue;
        }
        let output = Command::new("sh")
            .arg("-c")
            .arg(&step.command)
            .current_dir(work.path())
            .env("PATH", &path)
            .env("VALISE_HOME", work.path().join("home"))
            .env_remove("VALISE_PASSPHRASE")
            .envs(exported.iter().map(|(name, value)| (name.as_str(), value.as_str())))
            .output()
            .expect("sh runs");
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert_eq!(
            output.status.code(),
            Some(step.exit),
            "walkthrough.md line {}: `{}` exited with {:?}, expected {}\n{text}",
            step.line,
            step.command,
            output.status.code(),
            step.exit
        );
        for expected in &step.expected {
            assert!(
                text.contains(expected.as_str()),
                "walkthrough.md line {}: output of `{}` lacks {expected:?}\n{text}",
                step.line,
                step.command
            );
        }
    }

    let exported_copy = std::fs::read_to_string(work.path().join("bulletin-copy.txt")).expect("the bulletin was exported");
    assert!(exported_copy.starts_with("Phishing wave"), "{exported_copy}");
    assert!(!work.path().join("people/mallory.credential.jws").exists(), "a refused credential is never written");
}

#[test]
fn expectation_lines_parse() {
    let steps = parse_steps("```sh\nvalise a\n# expect exit 1: x; y z\n# comment\nvalise b\n```\n```text\nnot run\n```\n");
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].exit, 1);
    assert_eq!(steps[0].expected, vec!["x".to_owned(), "y z".to_owned()]);
    assert_eq!(steps[1].exit, 0);
    assert_eq!(parse_export("export A='b c'"), Some(("A".to_owned(), "b c".to_owned())));
}
