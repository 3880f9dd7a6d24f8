//! `valise open`: verify and decrypt a package into a file.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write as _};
use std::path::PathBuf;

use clap::Args;
use valise_core::inspect::SignerState;
use valise_core::open::Package;

use super::{open_error, read_p256_public_key, read_private_key, CliError, CliResult, PendingOutput};

/// Arguments of `valise open`.
#[derive(Args, Debug)]
pub(crate) struct OpenArgs {
    /// Package to open.
    pub(crate) package: PathBuf,
    /// Your private key: P-256 or RSA, PKCS#8 PEM, encrypted or not.
    #[arg(long, value_name = "KEY.pem")]
    pub(crate) key: PathBuf,
    /// Key id of your key, tried first (optional).
    #[arg(long, value_name = "KID")]
    pub(crate) kid: Option<String>,
    /// The originator's signing public key (SPKI PEM), to verify who sealed the package.
    #[arg(long, value_name = "PUB.pem")]
    pub(crate) signer: Option<PathBuf>,
    /// Output file; written only after the whole package verified.
    #[arg(short = 'o', long = "output", value_name = "OUTPUT")]
    pub(crate) output: PathBuf,
}

/// Runs `valise open`.
pub(crate) fn run(args: OpenArgs) -> CliResult {
    let key = read_private_key(&args.key)?;
    let signer = args.signer.as_deref().map(read_p256_public_key).transpose()?;
    let lookup = move |_kid: &str| signer.map(|key| p256::ecdsa::VerifyingKey::from(&key));

    let file = File::open(&args.package).map_err(|e| CliError::usage(format!("cannot read {}: {e}", args.package.display())))?;
    let mut reader = BufReader::new(file);
    let package = Package::parse(&mut reader).map_err(|e| open_error(e, &args.package))?;
    let unwrapped = package.unwrap(&key, args.kid.as_deref()).map_err(|e| open_error(e, &args.package))?;
    let verified = package.verify(&unwrapped.data_key, &lookup).map_err(|e| open_error(e, &args.package))?;

    let mut output = PendingOutput::create(&args.output)?;
    {
        let mut writer = BufWriter::with_capacity(1 << 20, output.file());
        verified.decrypt_to(&mut reader, &mut writer).map_err(|e| open_error(e, &args.package))?;
        writer.flush().map_err(|e| CliError::usage(format!("cannot write {}: {e}", args.output.display())))?;
    }
    output.commit()?;

    eprintln!("opened {} into {} ({} bytes)", args.package.display(), args.output.display(), verified.plaintext_size());
    match (&verified.label, &verified.rights) {
        (Some(label), Some(rights)) => {
            eprintln!("label: {}", label.tlp);
            let allowed: Vec<&str> = [("print", rights.print), ("copy", rights.copy), ("forward", rights.forward), ("export", rights.export)]
                .into_iter()
                .filter_map(|(name, allowed)| allowed.then_some(name))
                .collect();
            eprintln!("rights: view{}{}", if allowed.is_empty() { "" } else { ", " }, allowed.join(", "));
        }
        _ => eprintln!("label: none: an unlabelled stock OpenTDF file (view only)"),
    }
    let state = super::inspect::signer_state(&verified.assertions, verified.label.is_some());
    let kid = verified.originator_kid.as_deref().unwrap_or("");
    match state {
        SignerState::Verified => eprintln!("signer: verified ({kid})"),
        SignerState::Unverified => eprintln!(
            "warning: signer unverified: the signature matches the key in the package ({kid}), but no trust list or --signer vouches for it"
        ),
        SignerState::NotChecked => eprintln!("warning: signer not checked: no key for {kid}; pass --signer PUB.pem"),
        SignerState::Unsigned | SignerState::Invalid => eprintln!("signer: none (content authenticated by the data key only)"),
    }
    Ok(())
}
