//! Key files and passphrases for the trust commands.
//!
//! Private keys are PKCS#8 PEM files encrypted with a passphrase (PBES2), so
//! OpenSSL reads them too. The passphrase comes from `VALISE_PASSPHRASE` when
//! set, otherwise from a prompt on the terminal.

use std::io::Write;
use std::path::Path;

use valise_core::keys::{self, PrivateKey};
use zeroize::Zeroizing;

use crate::cmd::CliError;

use crate::cmd::PASSPHRASE_ENV;

/// Maximum size of a key file, checked before reading it.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// Reads a passphrase for new key files, asking twice on a terminal.
pub(crate) fn new_passphrase(what: &str) -> Result<Zeroizing<String>, CliError> {
    if let Ok(passphrase) = std::env::var(PASSPHRASE_ENV) {
        if passphrase.is_empty() {
            return Err(CliError::usage(format!("{PASSPHRASE_ENV} is empty")).hint("choose a passphrase"));
        }
        return Ok(Zeroizing::new(passphrase));
    }
    let prompt_error = |error: std::io::Error| {
        CliError::usage(format!("cannot read a passphrase: {error}"))
            .hint(format!("set {PASSPHRASE_ENV} when no terminal is available"))
    };
    let first = Zeroizing::new(rpassword::prompt_password(format!("New passphrase for {what}: ")).map_err(prompt_error)?);
    let second = Zeroizing::new(rpassword::prompt_password("Repeat the passphrase: ").map_err(prompt_error)?);
    if first.is_empty() {
        return Err(CliError::usage("the passphrase is empty").hint("choose a passphrase"));
    }
    if first != second {
        return Err(CliError::usage("the two passphrases differ").hint("run the command again"));
    }
    Ok(first)
}

/// Reads a P-256 private key file, asking for its passphrase when it is
/// encrypted.
pub(crate) fn read_p256_key(path: &Path) -> Result<p256::SecretKey, CliError> {
    let metadata = std::fs::metadata(path)
        .map_err(|error| CliError::usage(format!("cannot read key file {}: {error}", path.display())))?;
    if metadata.len() > MAX_KEY_FILE_BYTES {
        return Err(CliError::usage(format!(
            "key file {} is {} bytes, more than the maximum of {MAX_KEY_FILE_BYTES}",
            path.display(),
            metadata.len()
        )));
    }
    match crate::cmd::read_signing_key(path)? {
        PrivateKey::P256(key) => Ok(key),
        _ => Err(CliError::usage(format!("key file {} is not a P-256 key", path.display()))
            .hint("trust list, credential and signing keys are P-256 (ECDSA)")),
    }
}

/// Generates a P-256 key pair.
pub(crate) fn generate_key() -> p256::SecretKey {
    p256::SecretKey::random(&mut rand_core::OsRng)
}

/// Writes a new encrypted private key file; refuses to overwrite one.
pub(crate) fn write_new_key(path: &Path, key: &p256::SecretKey, passphrase: &str) -> Result<(), CliError> {
    let pem = keys::write_private_key_pem(key, Some(passphrase.as_bytes()))
        .map_err(|error| CliError::usage(format!("cannot encode key {}: {error}", path.display())))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|error| {
        let failure = CliError::usage(format!("cannot create key file {}: {error}", path.display()));
        if error.kind() == std::io::ErrorKind::AlreadyExists {
            failure.hint("choose another name or move the existing file away; valise never overwrites a key")
        } else {
            failure
        }
    })?;
    file.write_all(pem.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|error| CliError::usage(format!("cannot write key file {}: {error}", path.display())))
}

/// Refuses to go on when a file that a command would create already exists.
pub(crate) fn ensure_absent(path: &Path) -> Result<(), CliError> {
    if path.exists() {
        return Err(CliError::usage(format!("{} already exists", path.display()))
            .hint("choose another name or move the existing file away"));
    }
    Ok(())
}

/// Writes a file through a temporary file in the same folder renamed into
/// place, so a reader never sees half a file.
///
/// The temporary name is predictable, so the file is created exclusively.
/// A file or symbolic link already at that name (planted by another user of
/// a shared folder, for example) makes the write fail and is left alone.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let file_name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&temporary);
    let mut file = file.map_err(|error| CliError::usage(format!("cannot create {}: {error}", temporary.display())))?;
    let result = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&temporary, path));
    result.map_err(|error| {
        let _ = std::fs::remove_file(&temporary);
        CliError::usage(format!("cannot write {}: {error}", path.display()))
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn planted_link_not_followed() {
        let work = tempfile::tempdir().expect("temporary folder");
        let victim = work.path().join("victim.txt");
        std::fs::write(&victim, "precious").expect("write victim");
        let target = work.path().join("state.json");
        let planted = work.path().join(format!(".state.json.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).expect("plant link");

        assert!(write_atomically(&target, b"new state").is_err());
        assert_eq!(std::fs::read_to_string(&victim).expect("read victim"), "precious");
        assert!(!target.exists());
    }

    #[test]
    fn writes_and_replaces() {
        let work = tempfile::tempdir().expect("temporary folder");
        let target = work.path().join("state.json");
        write_atomically(&target, b"one").expect("first write");
        write_atomically(&target, b"two").expect("second write");
        assert_eq!(std::fs::read(&target).expect("read"), b"two");
    }
}
