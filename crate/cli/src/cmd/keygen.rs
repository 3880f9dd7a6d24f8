//! `valise keygen`: a P-256 key pair in PEM files.

use std::path::{Path, PathBuf};

use clap::Args;
use valise_core::keys;

use super::{passphrase, CliError, CliResult, PASSPHRASE_ENV};
use crate::terminal::{errln, outln};

/// Arguments of `valise keygen`.
#[derive(Args, Debug)]
pub(crate) struct KeygenArgs {
    /// Path prefix: writes PREFIX.key.pem and PREFIX.pub.pem.
    #[arg(long, value_name = "PREFIX")]
    pub(crate) out: PathBuf,
    /// Write the private key unencrypted (otherwise the passphrase comes
    /// from VALISE_PASSPHRASE or a prompt).
    #[arg(long)]
    pub(crate) no_encrypt: bool,
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Passphrase length, in characters, below which keygen prints a warning.
/// Shorter passphrases still work, because tests and scripts use them.
const RECOMMENDED_PASSPHRASE_CHARS: usize = 12;

fn warn_if_short(passphrase: &str) {
    let length = passphrase.chars().count();
    if length < RECOMMENDED_PASSPHRASE_CHARS {
        let unit = if length == 1 { "character" } else { "characters" };
        errln!(
            "warning: the passphrase has {length} {unit}; use at least {RECOMMENDED_PASSPHRASE_CHARS}, because anyone who copies the key file can try passphrases offline"
        );
    }
}

/// Runs `valise keygen`.
pub(crate) fn run(args: KeygenArgs) -> CliResult {
    let key_path = with_suffix(&args.out, ".key.pem");
    let pub_path = with_suffix(&args.out, ".pub.pem");
    for path in [&key_path, &pub_path] {
        if path.exists() {
            return Err(CliError::usage(format!("{} already exists", path.display())).hint("choose another --out prefix or remove the old files"));
        }
    }

    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    let passphrase = if args.no_encrypt {
        None
    } else {
        let first = passphrase("New passphrase: ")?;
        if std::env::var(PASSPHRASE_ENV).is_err() {
            let second = passphrase("Repeat passphrase: ")?;
            if *first != *second {
                return Err(CliError::usage("the passphrases differ"));
            }
        }
        warn_if_short(&first);
        Some(first)
    };
    let pem = keys::write_private_key_pem(&secret, passphrase.as_ref().map(|p| p.as_bytes()))
        .map_err(|e| CliError::usage(format!("cannot write the key: {e}")).hint(format!("set a non-empty {PASSPHRASE_ENV}, or pass --no-encrypt")))?;

    super::write_new_file(&key_path, pem.as_bytes(), true)?;
    if let Err(error) = super::write_new_file(&pub_path, keys::write_public_key_pem(&secret.public_key()).as_bytes(), false) {
        // Half a key pair is of no use; do not leave the private half behind.
        let _ = std::fs::remove_file(&key_path);
        return Err(error);
    }

    outln!("private key: {}{}", key_path.display(), if args.no_encrypt { " (unencrypted)" } else { "" });
    outln!("public key:  {}", pub_path.display());
    outln!("key id:      {}", keys::jwk_thumbprint(&secret.public_key()));
    Ok(())
}
