//! Command implementations and what they share: the error type with its
//! exit status, passphrase and key file reading, and output files that
//! appear only when complete.

pub(crate) mod attribute;
pub(crate) mod collector;
pub(crate) mod community;
pub(crate) mod credential;
pub(crate) mod events;
pub(crate) mod inspect;
pub(crate) mod key;
pub(crate) mod keygen;
pub(crate) mod member;
pub(crate) mod open;
pub(crate) mod seal;
pub(crate) mod trust;
pub(crate) mod trust_open;
pub(crate) mod trust_seal;

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::terminal::errln;
use valise_core::keys::{self, KeyFileError, PrivateKey, PublicKey};
use zeroize::Zeroizing;

/// Environment variable that contains the key file passphrase.
pub(crate) const PASSPHRASE_ENV: &str = "VALISE_PASSPHRASE";

/// Exit status: verification failed or access refused.
pub(crate) const EXIT_REFUSED: u8 = 1;
/// Exit status: usage error or malformed input.
pub(crate) const EXIT_USAGE: u8 = 2;

/// An error for the person at the terminal: a message, next steps and the exit status.
#[derive(Debug)]
pub(crate) struct CliError {
    pub(crate) status: u8,
    pub(crate) message: String,
    pub(crate) hints: Vec<String>,
}

impl CliError {
    /// Creates a usage or malformed-input error (exit status 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        CliError { status: EXIT_USAGE, message: message.into(), hints: Vec::new() }
    }

    /// Creates a verification or access error (exit status 1).
    pub(crate) fn refused(message: impl Into<String>) -> Self {
        CliError { status: EXIT_REFUSED, message: message.into(), hints: Vec::new() }
    }

    /// Adds a `hint:` line.
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

/// Result of a command.
pub(crate) type CliResult = Result<(), CliError>;

/// Sends `tracing` output to stderr, errors only unless `VALISE_LOG` sets another filter.
pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VALISE_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(io::stderr).try_init();
}

/// Prints the error, if any, and returns the exit status.
pub(crate) fn exit(result: CliResult) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            errln!("error: {}", error.message);
            for hint in &error.hints {
                errln!("hint: {hint}");
            }
            ExitCode::from(error.status)
        }
    }
}

/// Environment variable that turns the display-name check off, so that
/// tests can sign the hostile names that other software may produce and
/// check how viewers show them.
const ALLOW_HIDDEN_CHARACTERS_VAR: &str = "VALISE_ALLOW_HIDDEN_NAME_CHARACTERS";

/// Checks display-name text typed for `option` before it goes into a
/// signed document, with the shared rule of
/// [`valise_core::display_name::check_display_name`], unless
/// `VALISE_ALLOW_HIDDEN_NAME_CHARACTERS=1` turns it off.
pub(crate) fn check_display_name(option: &str, value: &str) -> Result<(), CliError> {
    let result = valise_core::display_name::check_display_name(value);
    if result.is_err() && std::env::var(ALLOW_HIDDEN_CHARACTERS_VAR).is_ok_and(|flag| flag == "1") {
        crate::terminal::errln!("warning: {option} contains hidden characters, signed anyway because {ALLOW_HIDDEN_CHARACTERS_VAR}=1");
        return Ok(());
    }
    result.map_err(|error| {
        CliError::usage(format!("invalid {option} {value:?}: the name {error}"))
            .hint("use letters, digits, spaces, punctuation or emoji, without control or invisible characters")
    })
}

/// Maximum size of a key file: 64 KiB. A PEM key of any supported type is
/// a few KiB at most.
pub(crate) const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// Reads a small text file (a key), naming the path on failure.
pub(crate) fn read_text(path: &Path, what: &str) -> Result<String, CliError> {
    read_bounded_text(path, what, MAX_KEY_FILE_BYTES)
}

/// Reads a text file of at most `limit` bytes, naming the path on failure.
///
/// The size is checked while reading, not from the file's metadata: a
/// device or pipe (`/dev/zero`, a FIFO) reports no size and could otherwise
/// be read forever. At most `limit + 1` bytes are read.
pub(crate) fn read_bounded_text(path: &Path, what: &str, limit: u64) -> Result<String, CliError> {
    use std::io::Read as _;
    let failure = |e: io::Error| CliError::usage(format!("cannot read {what} {}: {e}", path.display()));
    let file = File::open(path).map_err(failure)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(failure)?;
    if bytes.len() as u64 > limit {
        return Err(CliError::usage(format!("{what} {} is more than the maximum of {limit} bytes", path.display())));
    }
    String::from_utf8(bytes).map_err(|_| CliError::usage(format!("{what} {} is not UTF-8 text", path.display())))
}

/// Returns the passphrase from `VALISE_PASSPHRASE`, or prompts for it on the terminal.
pub(crate) fn passphrase(prompt: &str) -> Result<Zeroizing<String>, CliError> {
    if let Ok(value) = std::env::var(PASSPHRASE_ENV) {
        return Ok(Zeroizing::new(value));
    }
    rpassword::prompt_password(prompt)
        .map(Zeroizing::new)
        .map_err(|e| CliError::usage(format!("cannot read a passphrase: {e}")).hint(format!("set {PASSPHRASE_ENV} when no terminal is attached")))
}

/// Reads a private key file, P-256 or RSA, asking for the passphrase only
/// if it is encrypted.
pub(crate) fn read_private_key(path: &Path) -> Result<PrivateKey, CliError> {
    read_private_key_of_type(path, "P-256 or RSA")
}

/// Reads a P-256 signing key file, asking for the passphrase only if it is
/// encrypted. The caller checks the key type; `key_types` is only the hint.
pub(crate) fn read_signing_key(path: &Path) -> Result<PrivateKey, CliError> {
    read_private_key_of_type(path, "P-256")
}

/// Reads a private key file; `key_types` names the accepted types in the
/// hint of a file that is not a key.
fn read_private_key_of_type(path: &Path, key_types: &str) -> Result<PrivateKey, CliError> {
    let pem = Zeroizing::new(read_text(path, "key file")?);
    let key_error = |e: KeyFileError| {
        let error = CliError::usage(format!("cannot read key file {}: {e}", path.display()));
        match e {
            KeyFileError::WrongPassphrase => CliError { status: EXIT_REFUSED, ..error }.hint(format!("check {PASSPHRASE_ENV} or the passphrase you typed")),
            _ => error.hint(format!("the key must be a PKCS#8, SEC1 or PKCS#1 PEM file ({key_types})")),
        }
    };
    match keys::read_private_key_pem(&pem, None) {
        Ok(key) => Ok(key),
        Err(KeyFileError::PassphraseRequired) => {
            let secret = passphrase(&format!("Passphrase for {}: ", path.display()))?;
            keys::read_private_key_pem(&pem, Some(secret.as_bytes())).map_err(key_error)
        }
        Err(e) => Err(key_error(e)),
    }
}

/// Reads a P-256 public key file (SPKI PEM).
pub(crate) fn read_p256_public_key(path: &Path) -> Result<p256::PublicKey, CliError> {
    let pem = read_text(path, "public key")?;
    match keys::read_public_key_pem(&pem) {
        Ok(PublicKey::P256(key)) => Ok(key),
        Ok(_) => Err(CliError::usage(format!("{} is not a P-256 public key", path.display()))
            .hint("Valise packages use P-256 keys; make one with `valise keygen --out NAME`")),
        Err(e) => {
            let error = CliError::usage(format!("cannot read public key {}: {e}", path.display()));
            if pem.contains("PRIVATE KEY-----") {
                return Err(error.hint("this is a private key: pass the public key file instead, such as alice.pub.pem beside alice.key.pem"));
            }
            Err(error.hint("pass a public key file (SPKI PEM), such as alice.pub.pem from `valise keygen --out alice`"))
        }
    }
}

/// Returns whether an output path is `-`, which names standard output.
pub(crate) fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Returns how messages name an output path: the path, or "standard
/// output" for `-`.
pub(crate) fn output_name(path: &Path) -> String {
    if is_stdout(path) {
        "standard output".to_owned()
    } else {
        path.display().to_string()
    }
}

/// An output file written under a temporary name next to its final path
/// and moved into place by [`PendingOutput::commit`]; dropped without
/// commit, it is removed, so no partial output is ever left behind. An
/// interrupting SIGINT, SIGTERM or SIGHUP removes it too (see
/// [`crate::interrupt`]).
///
/// For the target `-` (standard output), the temporary file is in the
/// system's temporary folder and [`PendingOutput::commit`] copies it to
/// standard output, then removes it. So standard output, which cannot be
/// rolled back, receives its first byte only after the whole output was
/// written and verified.
///
/// TODO: SIGKILL (or a crash of the machine) still leaves the temporary
/// file, with unverified plaintext when `valise open` writes it. On Linux an
/// unnamed file (`O_TMPFILE`, linked into place at commit) would close that
/// window; SECURITY.md states it.
pub(crate) struct PendingOutput {
    temporary: PathBuf,
    target: PathBuf,
    replace: bool,
    file: Option<File>,
    _registered: crate::interrupt::Registered,
}

/// A file that a command reads, for [`check_output`]: how messages name it
/// (`"the package"`, `"the --key file"`) and its path.
pub(crate) type InputFile<'a> = (&'a str, &'a Path);

/// Checks an output path before a command does any work.
///
/// `-` (standard output) always passes. An output that is one of the
/// command's `inputs` (the same file, through any path or link) is rejected
/// even with `replace`, because the output would replace the document, key
/// or list it was made from. An output that exists is rejected unless
/// `replace` (`--force`) is given.
pub(crate) fn check_output(output: &Path, inputs: &[InputFile<'_>], replace: bool) -> Result<(), CliError> {
    if is_stdout(output) {
        return Ok(());
    }
    if let Some((what, _)) = inputs.iter().find(|(_, input)| same_file(input, output)) {
        return Err(CliError::usage(format!("the output {} is {what}", output.display()))
            .hint("choose another output path with -o; --force never replaces a file the command reads"));
    }
    if !replace && fs::symlink_metadata(output).is_ok() {
        return Err(
            CliError::usage(format!("{} already exists", output.display())).hint("choose another output path with -o, or pass --force to replace the file")
        );
    }
    Ok(())
}

/// Returns whether two paths name the same existing file, following
/// symbolic links (on Unix, the same device and inode, so hard links count).
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        match (fs::metadata(a), fs::metadata(b)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

impl PendingOutput {
    /// Creates the temporary file (owner-only permissions on Unix). With
    /// `replace`, [`PendingOutput::commit`] replaces a file at `target`;
    /// without it, commit fails when one exists then.
    pub(crate) fn create(target: &Path, replace: bool) -> Result<PendingOutput, CliError> {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let (directory, temporary) = if is_stdout(target) {
            let directory = std::env::temp_dir();
            let temporary = directory.join(format!(".valise-stdout.{suffix}.partial"));
            (directory, temporary)
        } else {
            let directory = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| Path::new("."));
            let name = target.file_name().ok_or_else(|| CliError::usage(format!("invalid output path {}", target.display())))?;
            let temporary = directory.join(format!(".{}.{suffix}.partial", name.to_string_lossy()));
            (directory.to_owned(), temporary)
        };
        let mut options = OpenOptions::new();
        options.read(true).write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        // Registered before it exists, so that no signal finds it unlisted.
        let registered = crate::interrupt::Registered::new(&temporary);
        let file = options.open(&temporary).map_err(|e| CliError::usage(format!("cannot create a file in {}: {e}", directory.display())))?;
        Ok(PendingOutput { temporary, target: target.to_owned(), replace, file: Some(file), _registered: registered })
    }

    /// Returns the open temporary file.
    pub(crate) fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("the file is present until commit")
    }

    /// Flushes the file to disk and moves it to the target path, or, for
    /// standard output, copies it there and removes it.
    ///
    /// Without `replace`, the move is a hard link. It fails when a file
    /// appeared at the target since [`check_output`], and that file is kept.
    /// The temporary name is removed in both cases. With `replace` the move
    /// is a rename, which replaces the target.
    pub(crate) fn commit(mut self) -> Result<(), CliError> {
        if is_stdout(&self.target) {
            return self.copy_to_stdout();
        }
        let file = self.file.take().expect("the file is present until commit");
        let failure = |e: io::Error| CliError::usage(format!("cannot write {}: {e}", self.target.display()));
        file.sync_all().map_err(failure)?;
        drop(file);
        if self.replace {
            return fs::rename(&self.temporary, &self.target).map_err(|e| {
                let _ = fs::remove_file(&self.temporary);
                failure(e)
            });
        }
        let linked = fs::hard_link(&self.temporary, &self.target);
        let _ = fs::remove_file(&self.temporary);
        linked.map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                CliError::usage(format!("{} already exists: another program created it while valise was writing", self.target.display()))
                    .hint("the file was left as it is; choose another output path with -o, or pass --force to replace the file")
            } else {
                failure(e)
            }
        })
    }

    /// Copies the complete temporary file to standard output; `Drop` then
    /// removes it.
    fn copy_to_stdout(&mut self) -> Result<(), CliError> {
        use std::io::{Seek as _, Write as _};
        let failure = |e: io::Error| CliError::usage(format!("cannot write to standard output: {e}"));
        let file = self.file();
        file.rewind().map_err(failure)?;
        let mut stdout = io::stdout().lock();
        io::copy(file, &mut stdout).map_err(failure)?;
        stdout.flush().map_err(failure)
    }
}

impl Drop for PendingOutput {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.temporary);
        }
    }
}

/// Writes a new file that must not exist yet, so that it appears whole or
/// not at all.
///
/// The bytes go to a temporary file in the same folder, created exclusively
/// (owner-only on Unix when `owner_only`), so a file or symbolic link planted
/// at that name makes the write fail and is left alone. The file is synced,
/// then hard-linked to `path`, which fails if anything exists there. The
/// temporary name is removed in every case, and `path` is untouched on
/// failure.
pub(crate) fn write_new_file(path: &Path, bytes: &[u8], owner_only: bool) -> Result<(), CliError> {
    use std::io::Write as _;
    let directory = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| Path::new("."));
    let name = path.file_name().ok_or_else(|| CliError::usage(format!("invalid output path {}", path.display())))?;
    let temporary = directory.join(format!(".{}.{}.partial", name.to_string_lossy(), uuid::Uuid::new_v4().simple()));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(if owner_only { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = owner_only;
    let _registered = crate::interrupt::Registered::new(&temporary);
    let mut file = options.open(&temporary).map_err(|e| CliError::usage(format!("cannot create a file in {}: {e}", directory.display())))?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    drop(file);
    // A hard link, unlike a rename, never replaces an existing file.
    let result = written.and_then(|()| fs::hard_link(&temporary, path));
    let _ = fs::remove_file(&temporary);
    result.map_err(|e| {
        let error = CliError::usage(format!("cannot write {}: {e}", path.display()));
        if e.kind() == io::ErrorKind::AlreadyExists {
            error.hint("choose another name or move the existing file away; valise never overwrites it")
        } else {
            error
        }
    })
}

/// Maps an open or inspect error to a terminal error with its exit status.
pub(crate) fn open_error(error: valise_core::open::OpenError, package: &Path) -> CliError {
    use valise_core::open::OpenError;
    match error {
        OpenError::NotRecipient => CliError::refused(format!("{}: not a recipient: no key access object opens with this key", package.display()))
            .hint("ask the sender to seal the document for your key access public key"),
        OpenError::MissingSplits { .. } => CliError::refused(format!("{}: {error}", package.display())),
        OpenError::IntegrityFailure => {
            CliError::refused(format!("{}: {error}", package.display())).hint("do not trust this file; ask the sender for a new copy")
        }
        OpenError::Io(e) => CliError::usage(format!("{}: {e}", package.display())),
        other => CliError::usage(format!("{}: {other}", package.display())).hint("the file is not a valid package"),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn endless_file_is_bounded_while_reading() {
        let error = read_bounded_text(Path::new("/dev/zero"), "credential", 4096).expect_err("endless");
        assert!(error.message.contains("more than the maximum of 4096 bytes"), "{}", error.message);
    }

    #[test]
    fn commit_keeps_a_file_created_meanwhile() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("out.txt");
        let mut output = PendingOutput::create(&target, false).expect("create");
        output.file().write_all(b"new").expect("write");
        fs::write(&target, "created meanwhile").expect("write");
        let error = output.commit().expect_err("a file exists at the target");
        assert!(error.message.contains("already exists"), "{}", error.message);
        assert_eq!(fs::read_to_string(&target).expect("read"), "created meanwhile");
        assert_eq!(fs::read_dir(dir.path()).expect("list").count(), 1, "the temporary file was left");

        let mut output = PendingOutput::create(&target, true).expect("create");
        output.file().write_all(b"new").expect("write");
        output.commit().expect("--force replaces the file");
        assert_eq!(fs::read_to_string(&target).expect("read"), "new");
    }

    #[test]
    fn text_at_the_limit_is_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.txt");
        fs::write(&path, "abcd").expect("write");
        assert_eq!(read_bounded_text(&path, "file", 4).expect("at the limit"), "abcd");
        assert!(read_bounded_text(&path, "file", 3).is_err());
    }
}
