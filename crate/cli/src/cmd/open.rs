//! `valise open`: verify and decrypt a package into a file.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use clap::Args;
use time::OffsetDateTime;
use valise_core::assertions::Rights;
use valise_core::inspect::SignerState;
use valise_core::keys::{self, PrivateKey};
use valise_core::label;
use valise_core::open::{BindingStatus, OpenError, Package, Unwrapped, VerifiedPackage};

use super::{check_output, open_error, output_name, read_p256_public_key, read_private_key, CliError, CliResult, InputFile, PendingOutput};
use crate::terminal::errln;

/// Arguments of `valise open`.
#[derive(Args, Debug)]
pub(crate) struct OpenArgs {
    /// Package to open.
    pub(crate) package: PathBuf,
    /// Your private key: P-256 or RSA, PKCS#8 PEM, encrypted or not.
    #[arg(long, value_name = "KEY.pem", required_unless_present = "identities")]
    pub(crate) key: Option<PathBuf>,
    /// Key id of your key, tried first (optional).
    #[arg(long, value_name = "KID", allow_hyphen_values = true)]
    pub(crate) kid: Option<String>,
    /// The originator's signing public key (SPKI PEM), to verify who sealed
    /// the package. With --trust the trust list names the originator's key.
    #[arg(long, value_name = "PUB.pem", conflicts_with = "trust")]
    pub(crate) signer: Option<PathBuf>,
    /// Output file, or `-` for standard output; written only after the whole
    /// package verified (with --trust, only when the decision grants the
    /// export right). Without it the whole package is verified and nothing
    /// is written. An existing file is replaced only with --force.
    #[arg(short = 'o', long = "output", value_name = "OUTPUT")]
    pub(crate) output: Option<PathBuf>,
    /// Replace the output file if it exists. A file that the command reads
    /// (the package, a key, the trust list, an identity file) is never
    /// replaced.
    #[arg(long, requires = "output")]
    pub(crate) force: bool,
    /// Write the plaintext of an unlabelled stock OpenTDF file (one without
    /// the Valise label, rights and provenance) as its key holder. Without
    /// it such a file is view only, as in the viewer. Packages of the
    /// community profile keep their own rights.
    #[arg(long, conflicts_with = "trust")]
    pub(crate) export_unlabelled: bool,
    #[command(flatten)]
    pub(crate) trust: super::trust_open::TrustOpenArgs,
}

/// Returns the files `valise open` reads, as [`check_output`] names them.
fn input_files(args: &OpenArgs) -> Vec<(&'static str, PathBuf)> {
    let mut inputs = vec![("the package", args.package.clone())];
    inputs.extend(args.key.iter().map(|key| ("the --key file", key.clone())));
    inputs.extend(args.signer.iter().map(|signer| ("the --signer file", signer.clone())));
    inputs.extend(args.trust.trust.iter().map(|trust| ("a --trust file", trust.clone())));
    for prefix in &args.trust.identities {
        inputs.push(("an --identity key file", super::credential::identity_file(prefix, ".key.pem")));
        inputs.push(("an --identity credential file", super::credential::identity_file(prefix, ".credential.jws")));
    }
    inputs
}

/// Runs `valise open`.
pub(crate) fn run(args: OpenArgs) -> CliResult {
    if let Some(output) = &args.output {
        let inputs = input_files(&args);
        let inputs: Vec<InputFile<'_>> = inputs.iter().map(|(what, path)| (*what, path.as_path())).collect();
        check_output(output, &inputs, args.force)?;
    }
    if args.output.as_deref().is_some_and(super::is_stdout) {
        crate::terminal::reserve_stdout_for_output();
    }
    if !args.trust.trust.is_empty() {
        return super::trust_open::run(&args.package, args.key.as_deref(), args.output.as_deref(), args.force, &args.trust);
    }
    let Some(key_path) = &args.key else {
        return Err(CliError::usage("--key is required without --trust").hint("pass --key KEY.pem, or --trust TRUST.json with --identity NAME"));
    };
    let key = read_private_key(key_path)?;
    let signer = args.signer.as_deref().map(read_p256_public_key).transpose()?;
    let lookup = move |_kid: &str| signer.map(|key| p256::ecdsa::VerifyingKey::from(&key));

    let file = File::open(&args.package).map_err(|e| CliError::usage(format!("cannot read {}: {e}", args.package.display())))?;
    let mut reader = BufReader::new(file);
    let package = Package::parse(&mut reader).map_err(|e| open_error(e, &args.package))?;
    // Without --kid, the key's thumbprint (the default key id at seal) finds
    // the reader's key access object without trying others.
    let thumbprint = match &key {
        PrivateKey::P256(secret) => Some(keys::jwk_thumbprint(&secret.public_key())),
        _ => None,
    };
    let unwrapped = package.unwrap(&key, args.kid.as_deref().or(thumbprint.as_deref())).map_err(|e| open_error(e, &args.package))?;
    let verified = match verify_expecting(&package, &unwrapped, &lookup, &args.package)? {
        Verification::Expected(verified) => verified,
        Verification::SignedByOther(other) => {
            let expected = match (&args.signer, signer) {
                (Some(path), Some(key)) => format!("the key in {} ({})", path.display(), keys::jwk_thumbprint(&key)),
                _ => "the key you expected".to_owned(),
            };
            return Err(CliError::refused(format!("{} was signed by someone else, not by {expected}: {}", args.package.display(), other.describe_signer()))
                .hint("do not trust its content as the originator's; ask the sender which key signed it")
                .hint("if you expected that signer, pass its public key with --signer"));
        }
    };
    if let Some(output_path) = &args.output {
        check_release(&verified, super::trust::now(), output_path, args.export_unlabelled)?;
        let mut output = PendingOutput::create(output_path, args.force)?;
        {
            let mut writer = BufWriter::with_capacity(1 << 20, output.file());
            verified.decrypt_to(&mut reader, &mut writer).map_err(|e| open_error(e, &args.package))?;
            writer.flush().map_err(|e| CliError::usage(format!("cannot write {}: {e}", output_name(output_path))))?;
        }
        output.commit()?;
        errln!("opened {} into {} ({} bytes)", args.package.display(), output_name(output_path), verified.plaintext_size());
    } else {
        // Nothing is released, so the rights need not allow export: every
        // segment and digest is still checked.
        verified.decrypt_to(&mut reader, &mut std::io::sink()).map_err(|e| open_error(e, &args.package))?;
        errln!("payload of {} verified ({} bytes); nothing written: pass -o OUTPUT to write the plaintext", args.package.display(), verified.plaintext_size());
    }
    match (&verified.label, &verified.rights, &verified.claimed_profile) {
        (Some(label), Some(rights), _) => {
            errln!("label: {}", label.tlp);
            errln!("rights: {}", rights_text(rights));
        }
        // With -o, check_release rejects unverified rights first. Without
        // it, these claims are printed apart, never as the label.
        (_, _, Some(claimed)) => {
            errln!("unverified claims (the signature was not checked with a key you trust):");
            errln!("  label: {}", claimed.label.tlp);
            errln!("  rights: {}", rights_text(&claimed.rights));
        }
        _ if args.output.is_some() => {
            errln!("label: none: an unlabelled stock OpenTDF file (view only), written because --export-unlabelled was given");
        }
        _ => errln!("label: none: an unlabelled stock OpenTDF file (view only)"),
    }
    let state = super::inspect::signer_state(&verified.assertions, verified.has_profile);
    let kid = verified.originator_kid.as_deref().unwrap_or("");
    match state {
        SignerState::Verified => errln!("signer: verified ({kid})"),
        SignerState::Unverified => {
            errln!("warning: signer unverified: the signature matches the key in the package ({kid}), but no trust list or --signer vouches for it")
        }
        SignerState::NotChecked => errln!("warning: signer not checked: no key for {kid}; pass --signer PUB.pem"),
        SignerState::Unsigned | SignerState::Invalid => errln!("signer: none (content authenticated by the data key only)"),
    }
    // With -o, check_release has rejected a package outside its validity
    // window already; without it the same refusal ends the command.
    if let Some(problem) = verified.rights.as_ref().and_then(|rights| window_problem(rights, super::trust::now())) {
        return Err(CliError::refused(problem).hint("viewers refuse it outside its validity window too; ask the originator for a copy that is valid now"));
    }
    Ok(())
}

/// Describes why `now` is outside the validity window of `rights`, if it is.
fn window_problem(rights: &Rights, now: OffsetDateTime) -> Option<String> {
    if let Some(start) = rights.not_before.filter(|start| now < *start) {
        return Some(format!("the package is not valid before {}", super::trust::rfc3339(start)));
    }
    let end = rights.not_after.filter(|end| now > *end)?;
    Some(format!("the package expired at {}", super::trust::rfc3339(end)))
}

/// The outcome of verifying a package against the signing key the reader
/// expects.
pub(crate) enum Verification {
    /// Every signature verified with the expected key (or none was expected).
    Expected(VerifiedPackage),
    /// The package is intact under its data key, but its originator's
    /// signature does not verify with the expected key: someone else
    /// signed it. Its statements are claims only.
    SignedByOther(SignedByOther),
}

impl Verification {
    /// Returns the verified package in both cases.
    pub(crate) fn package(&self) -> &VerifiedPackage {
        match self {
            Verification::Expected(verified) => verified,
            Verification::SignedByOther(other) => &other.package,
        }
    }
}

/// A package signed by another key than the expected one, and the signer it names.
pub(crate) struct SignedByOther {
    /// The package, verified without any expected key.
    pub(crate) package: VerifiedPackage,
    /// RFC 7638 thumbprint of the public key embedded in the signature
    /// header, when it is there and verifies the signature.
    pub(crate) embedded_thumbprint: Option<String>,
}

impl SignedByOther {
    /// Describes the signer the package names: its key id, organization and
    /// author, and the embedded key that verifies the signature.
    pub(crate) fn describe_signer(&self) -> String {
        let originator = self.package.claimed_profile.as_ref().map(|claimed| &claimed.provenance.originator);
        let kid = self.package.originator_kid.as_deref().unwrap_or("(none)");
        let mut details = Vec::new();
        if let Some(org) = originator.map(|o| o.org.as_str()).filter(|org| !org.is_empty()) {
            details.push(format!("organization {org}"));
        }
        if let Some(author) = originator.and_then(|o| o.author.as_deref()) {
            details.push(format!("author {author}"));
        }
        let details = if details.is_empty() { String::new() } else { format!(" ({})", details.join(", ")) };
        match &self.embedded_thumbprint {
            Some(thumbprint) => format!("it names signing key {kid}{details} and verifies with the public key it embeds ({thumbprint})"),
            None => format!("it names signing key {kid}{details}, but its signature was made with another key"),
        }
    }
}

/// Verifies `package` with the keys `expected` returns. When that fails, and
/// the package verifies once no key is expected, the only failing check was
/// an ES256 signature under an expected key: the package was signed by
/// someone else, which is a refusal, not damage.
///
/// # Errors
///
/// The terminal error of [`OpenError`] for a package that fails either way.
pub(crate) fn verify_expecting(
    package: &Package,
    unwrapped: &Unwrapped,
    expected: &dyn Fn(&str) -> Option<p256::ecdsa::VerifyingKey>,
    path: &Path,
) -> Result<Verification, CliError> {
    let error = match package.verify(&unwrapped.data_key, expected) {
        Ok(verified) => return Ok(Verification::Expected(verified)),
        Err(error) => error,
    };
    if !matches!(error, OpenError::IntegrityFailure) {
        return Err(open_error(error, path));
    }
    let Ok(unchecked) = package.verify(&unwrapped.data_key, &|_| None) else {
        return Err(open_error(error, path));
    };
    let embedded_verified = unchecked.assertions.iter().any(|check| check.status == BindingStatus::EmbeddedKeyOnly);
    let embedded_thumbprint = embedded_verified.then(|| embedded_key_thumbprint(package)).flatten();
    Ok(Verification::SignedByOther(SignedByOther { package: unchecked, embedded_thumbprint }))
}

/// Returns the thumbprint of the public key in the `jwk` header member of
/// the first profile assertion binding that has one.
fn embedded_key_thumbprint(package: &Package) -> Option<String> {
    use valise_core::assertions::{LABEL_ID, PROVENANCE_ID, RIGHTS_ID};
    package
        .manifest()
        .assertions()
        .iter()
        .filter(|assertion| [LABEL_ID, RIGHTS_ID, PROVENANCE_ID].contains(&assertion.id.as_str()))
        .filter_map(|assertion| assertion.binding.as_ref())
        .filter_map(|binding| valise_core::jws::decode_unverified_within(&binding.signature, valise_core::limits::MAX_JWS_BYTES).ok())
        .find_map(|(header, _)| {
            let (key, _) = valise_core::jws::public_key_from_jwk(header.other.get("jwk")?).ok()?;
            Some(keys::jwk_thumbprint(&key))
        })
}

/// Lists the rights a rights statement grants.
fn rights_text(rights: &Rights) -> String {
    let allowed: Vec<&str> = [("print", rights.print), ("copy", rights.copy), ("forward", rights.forward), ("export", rights.export)]
        .into_iter()
        .filter_map(|(name, allowed)| allowed.then_some(name))
        .collect();
    format!("view{}{}", if allowed.is_empty() { "" } else { ", " }, allowed.join(", "))
}

/// Decides whether the raw form (without a trust list) may write the
/// plaintext of a package.
///
/// A stock OpenTDF file carries no label or rights, so it is view only, as
/// in the viewer and under a trust list: it is written only with
/// `export_unlabelled`, the key holder's explicit request. A
/// package of the community profile is written only when its rights are the
/// originator's (verified with `--signer`) and allow it: export within the
/// TLP ceiling (only TLP:CLEAR allows export), no marking (its TLP mapping
/// is in the trust list), the validity window holding at `now`, and no
/// required access events (this command sends none). The same rules as the
/// decision point's, minus what needs a trust list.
fn check_release(verified: &VerifiedPackage, now: OffsetDateTime, output: &Path, export_unlabelled: bool) -> CliResult {
    if !verified.has_profile {
        if export_unlabelled {
            return Ok(());
        }
        return Err(CliError::refused(format!(
            "the package is an unlabelled stock OpenTDF file: without a Valise label or usage rights it is view only, so {} was not written",
            output_name(output)
        ))
        .hint("as the holder of its key, pass --export-unlabelled to write its plaintext outside the community profile")
        .hint("or view it in the Valise viewer"));
    }
    let not_written = |reason: String| {
        CliError::refused(format!("{reason}, so {} was not written", output_name(output)))
            .hint("open it with --trust TRUST.json and --identity NAME, which apply the community's decision")
            .hint("or view it in the Valise viewer, which enforces the rights")
    };
    let (Some(label), Some(rights)) = (&verified.label, &verified.rights) else {
        return Err(not_written("the package has usage rights, but its originator's signature was not verified with a key you trust".into())
            .hint("pass --signer with the originator's public key"));
    };
    if let Some(marking) = &label.marking {
        return Err(not_written(format!("the package's marking {}:{} is mapped to TLP only by the community trust list", marking.system, marking.value)));
    }
    if !label::ceiling(label.tlp).narrow(rights).export {
        let why = if rights.export { format!("its label {} does not allow export", label.tlp) } else { "its rights do not allow export".to_owned() };
        return Err(not_written(format!("the package may be viewed but not saved: {why}")));
    }
    if let Some(problem) = window_problem(rights, now) {
        return Err(not_written(problem));
    }
    if rights.events.required {
        let url = rights.events.url.as_deref().unwrap_or("(no endpoint named)");
        return Err(not_written(format!("the package requires access events to {url}, which this command does not send")));
    }
    Ok(())
}
