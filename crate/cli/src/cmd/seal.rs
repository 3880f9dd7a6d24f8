//! `valise seal`: encrypt a file for recipients with a label and rights,
//! signed by the originator.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use clap::Args;
use time::OffsetDateTime;
use valise_core::assertions::{EventsPolicy, Label, Rights, Tlp};
use valise_core::container::ContainerError;
use valise_core::keys::{self, PrivateKey};
use valise_core::limits::DEFAULT_SEGMENT_BYTES;
use valise_core::seal::{seal, Recipient, SealError, SealOptions, Signer};

use super::trust::rfc3339;
use super::{check_output, read_p256_public_key, read_signing_key, CliError, CliResult, InputFile, PendingOutput};
use crate::terminal::errln;

/// Arguments of `valise seal`.
#[derive(Args, Debug)]
pub(crate) struct SealArgs {
    /// File to protect.
    pub(crate) input: PathBuf,
    /// Recipient's key access public key (SPKI PEM), as PUB.pem or KID=PUB.pem;
    /// without KID the key id is the key's RFC 7638 thumbprint. Repeat for
    /// each recipient.
    #[arg(long = "to", value_name = "[KID=]PUB.pem", required_unless_present = "trust", allow_hyphen_values = true)]
    pub(crate) to: Vec<String>,
    /// Your P-256 signing key (PKCS#8 PEM, encrypted or not).
    #[arg(long, value_name = "KEY.pem")]
    pub(crate) sign_key: PathBuf,
    /// Key id of the signing key (default: its RFC 7638 thumbprint).
    #[arg(long, value_name = "KID", allow_hyphen_values = true)]
    pub(crate) sign_kid: Option<String>,
    /// TLP 2.0 label: TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT or TLP:RED.
    #[arg(long, value_name = "TLP")]
    pub(crate) label: Tlp,
    /// Rights to withhold, comma-separated: print, copy, forward, export.
    #[arg(long, value_name = "RIGHTS", value_delimiter = ',')]
    pub(crate) deny: Vec<DeniedRight>,
    /// Ask viewers to overlay the reader's identity on the document.
    #[arg(long)]
    pub(crate) watermark: bool,
    /// End of the validity window (RFC 3339, for example 2027-01-31T00:00:00Z).
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub(crate) not_after: Option<OffsetDateTime>,
    /// Start of the validity window (RFC 3339).
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub(crate) not_before: Option<OffsetDateTime>,
    /// How long a viewer may open the package offline after it last fetched
    /// the trust list online, in seconds. 0 allows no offline use: the
    /// package opens only right after a viewer fetched the trust list online.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) offline_lease: Option<u64>,
    /// Endpoint that collects access events.
    #[arg(long, value_name = "URL")]
    pub(crate) events_url: Option<String>,
    /// Refuse to open when an access event cannot be queued.
    #[arg(long, requires = "events_url")]
    pub(crate) events_required: bool,
    /// Your organization id, as the community trust list names it.
    #[arg(long, value_name = "ORG", default_value = "")]
    pub(crate) org: String,
    /// Your name, recorded in the provenance.
    #[arg(long, value_name = "NAME")]
    pub(crate) author: Option<String>,
    /// Community id, recorded in the provenance.
    #[arg(long, value_name = "ID")]
    pub(crate) community: Option<String>,
    /// Media type of the input (default: guessed from the file extension).
    #[arg(long, value_name = "TYPE")]
    pub(crate) media_type: Option<String>,
    /// Leave the input's file name out of the package.
    #[arg(long)]
    pub(crate) no_file_name: bool,
    /// Plaintext bytes per segment (1024 to 16777216).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_SEGMENT_BYTES)]
    pub(crate) segment_size: u64,
    /// Output package; `-` writes it to standard output once complete. An
    /// existing file is replaced only with --force.
    #[arg(short = 'o', long = "output", value_name = "OUT.tdf")]
    pub(crate) output: PathBuf,
    /// Replace the output file if it exists. A file that the command reads
    /// (the input, a key, a recipient key, the trust list) is never replaced.
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) trust: Box<super::trust_seal::TrustSealArgs>,
}

/// A right `--deny` can withhold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DeniedRight {
    Print,
    Copy,
    Forward,
    Export,
}

fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).map_err(|e| format!("invalid RFC 3339 time {text:?}: {e}"))
}

/// Guesses a media type from the file extension; `application/octet-stream` otherwise.
pub(crate) fn guess_media_type(path: &Path) -> &'static str {
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    match extension.as_str() {
        "pdf" => "application/pdf",
        "txt" | "text" | "log" => "text/plain",
        "md" | "markdown" => "text/markdown",
        "html" | "htm" => "text/html",
        "csv" => "text/csv",
        "json" => "application/json",
        "xml" => "application/xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// Parses `[KID=]PUB.pem` into a recipient.
fn recipient(spec: &str) -> Result<Recipient, CliError> {
    let (kid, path) = match spec.split_once('=') {
        Some((kid, path)) if !Path::new(spec).exists() && !kid.is_empty() => (Some(kid.to_owned()), path),
        _ => (None, spec),
    };
    let public_key = read_p256_public_key(Path::new(path))?;
    let kid = kid.unwrap_or_else(|| keys::jwk_thumbprint(&public_key));
    Ok(Recipient { public_key, kid })
}

/// Builds the seal options from the arguments (the trust stream extends this).
pub(crate) fn options(args: &SealArgs) -> Result<SealOptions, CliError> {
    if let Some(author) = &args.author {
        super::check_display_name("--author", author)?;
    }
    let recipients = args.to.iter().map(|spec| recipient(spec)).collect::<Result<Vec<_>, _>>()?;
    let signing_key = match read_signing_key(&args.sign_key)? {
        PrivateKey::P256(secret) => p256::ecdsa::SigningKey::from(secret),
        _ => return Err(CliError::usage(format!("{} is not a P-256 key", args.sign_key.display())).hint("sign with a P-256 key from `valise keygen`")),
    };
    let kid = args.sign_kid.clone().unwrap_or_else(|| keys::jwk_thumbprint(&p256::PublicKey::from(signing_key.verifying_key())));
    if let (Some(start), Some(end)) = (args.not_before, args.not_after) {
        if start >= end {
            return Err(CliError::usage(format!("--not-before {} is not before --not-after {}", rfc3339(start), rfc3339(end))));
        }
    }
    // Sealing a package that is already expired stays possible (a test of
    // the readers, for example), but is most likely a mistake.
    if let Some(end) = args.not_after.filter(|end| *end <= super::trust::now()) {
        errln!("warning: --not-after {} has passed: every reader will refuse this package as expired", rfc3339(end));
    }
    if args.offline_lease == Some(0) {
        errln!("warning: --offline-lease 0 allows no offline use: viewers open this package only right after they fetched the trust list online");
    }
    if let Some(url) = &args.events_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(CliError::usage(format!("invalid --events-url {url:?}: expected an http or https URL")));
        }
    }
    let denied = |right| args.deny.contains(&right);
    let rights = Rights {
        print: !denied(DeniedRight::Print),
        copy: !denied(DeniedRight::Copy),
        forward: !denied(DeniedRight::Forward),
        export: !denied(DeniedRight::Export),
        watermark: args.watermark,
        not_before: args.not_before,
        not_after: args.not_after,
        offline_lease_seconds: args.offline_lease,
        events: EventsPolicy { url: args.events_url.clone(), required: args.events_required },
        ..Rights::all()
    };
    let mut options = SealOptions {
        recipients,
        signer: Signer { signing_key, kid, org: args.org.clone(), author: args.author.clone() },
        label: Label { tlp: args.label, marking: None },
        rights,
        community: args.community.clone(),
        media_type: args.media_type.clone().unwrap_or_else(|| guess_media_type(&args.input).to_owned()),
        file_name: if args.no_file_name { None } else { args.input.file_name().map(|n| n.to_string_lossy().into_owned()) },
        created: OffsetDateTime::now_utc().replace_nanosecond(0).unwrap_or_else(|_| OffsetDateTime::now_utc()),
        segment_size: args.segment_size,
        data_attributes: Vec::new(),
        dissem: Vec::new(),
        kas_url: String::new(),
        embed_signer_jwk: true,
    };
    super::trust_seal::apply(&args.trust, &mut options)?;
    Ok(options)
}

/// Returns the files `valise seal` reads, as [`check_output`] names them.
fn input_files(args: &SealArgs) -> Vec<InputFile<'_>> {
    let mut inputs: Vec<InputFile<'_>> = vec![("the input file", &args.input), ("the --sign-key file", &args.sign_key)];
    for spec in &args.to {
        inputs.push(("a --to file", Path::new(spec)));
        if let Some((_, path)) = spec.split_once('=') {
            inputs.push(("a --to file", Path::new(path)));
        }
    }
    if let Some(trust) = &args.trust.trust {
        inputs.push(("the --trust file", trust));
    }
    for person in &args.trust.to_persons {
        inputs.push(("a --to-person file", person));
    }
    inputs
}

/// Runs `valise seal`.
pub(crate) fn run(args: SealArgs) -> CliResult {
    check_output(&args.output, &input_files(&args), args.force)?;
    let options = options(&args)?;
    let input = File::open(&args.input).map_err(|e| CliError::usage(format!("cannot read {}: {e}", args.input.display())))?;
    let length = input.metadata().map_err(|e| CliError::usage(format!("cannot read {}: {e}", args.input.display())))?.len();

    let mut output = PendingOutput::create(&args.output, args.force)?;
    let (_, sealed) = seal(&options, length, BufReader::with_capacity(1 << 20, input), output.file()).map_err(|e| match e {
        SealError::InvalidOptions(_) | SealError::TooLarge { .. } => CliError::usage(e.to_string()),
        SealError::Container(ContainerError::TooLarge { what: "manifest", .. }) => CliError::usage(format!("cannot seal {}: {e}", args.input.display()))
            .hint("every segment and every recipient adds to the manifest: pass a larger --segment-size, or seal for fewer recipients"),
        other => CliError::usage(format!("cannot seal {}: {other}", args.input.display())),
    })?;
    output.commit()?;

    errln!("sealed {} ({} bytes, {} segments) as {}", args.input.display(), sealed.plaintext_size, sealed.segment_count, super::output_name(&args.output));
    errln!("label {}, {} recipient(s), package id {}", options.label.tlp, options.recipients.len(), sealed.package_id);
    Ok(())
}
