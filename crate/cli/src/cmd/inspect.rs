//! `valise inspect`: what a package declares and which signatures verify,
//! without any private key.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use clap::Args;
use valise_core::inspect::{inspect, Inspection, SignerState};
use valise_core::open::{AssertionCheck, BindingStatus, Package};

use super::{open_error, read_p256_public_key, CliError, CliResult};
use crate::terminal::outln;

/// Arguments of `valise inspect`.
#[derive(Args, Debug)]
pub(crate) struct InspectArgs {
    /// Package to inspect.
    pub(crate) package: PathBuf,
    /// The originator's signing public key (SPKI PEM), to verify who sealed the package.
    #[arg(long, value_name = "PUB.pem")]
    pub(crate) signer: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Returns the overall signer state from the binding checks of an opened package.
pub(crate) fn signer_state(checks: &[AssertionCheck], profile: bool) -> SignerState {
    if !profile {
        return SignerState::Unsigned;
    }
    let es256: Vec<&AssertionCheck> = checks.iter().filter(|c| c.alg == "ES256").collect();
    if es256.iter().all(|c| c.status == BindingStatus::VerifiedSigner) {
        SignerState::Verified
    } else if es256.iter().any(|c| c.status == BindingStatus::KeyUnavailable) {
        SignerState::NotChecked
    } else {
        SignerState::Unverified
    }
}

fn status_text(status: BindingStatus) -> &'static str {
    match status {
        BindingStatus::VerifiedSigner => "verified with the signer key",
        BindingStatus::VerifiedDataKey => "verified with the data key",
        BindingStatus::EmbeddedKeyOnly => "valid for the key embedded in the package (signer unverified)",
        BindingStatus::KeyUnavailable => "not checked: no signer key",
        BindingStatus::NeedsDataKey => "not checked: needs the data key",
        BindingStatus::Unbound => "unbound (not trusted)",
        BindingStatus::Invalid => "INVALID",
    }
}

fn print_text(summary: &Inspection) {
    let or_none = |value: Option<&str>| value.unwrap_or("(none)").to_owned();
    outln!("package id:      {}", summary.package_id);
    outln!("schema version:  {}{}", or_none(summary.schema_version.as_deref()), if summary.legacy_encoding { " (legacy hex encodings)" } else { "" });
    outln!("media type:      {}", or_none(summary.media_type.as_deref()));
    let payload = &summary.payload;
    outln!(
        "payload:         {} bytes in {} segment(s) of up to {} bytes, segment hash {}",
        payload.plaintext_size, payload.segment_count, payload.segment_size_default, payload.segment_hash_alg
    );
    outln!("policy:          attributes [{}], dissem [{}]", summary.data_attributes.join(", "), summary.dissem.join(", "));
    for (index, object) in summary.key_access.iter().enumerate() {
        outln!(
            "key access {index}:    type {}, kid {}, split {:?}, url {:?}",
            object.kind,
            or_none(object.kid.as_deref()),
            object.split_id,
            object.url
        );
    }
    for assertion in &summary.assertions {
        outln!(
            "assertion:       {} ({}, {}), {} {}: {}",
            assertion.id,
            assertion.kind,
            or_none(assertion.schema.as_deref()),
            if assertion.alg.is_empty() { "no binding" } else { &assertion.alg },
            or_none(assertion.kid.as_deref()),
            status_text(assertion.status)
        );
    }
    // Statements under a signature not verified are the package's claims.
    let claimed = summary.signer != SignerState::Verified;
    if claimed && (summary.label.is_some() || summary.rights.is_some() || summary.provenance.is_some()) {
        outln!("unverified claims (the signature was not checked with a key you trust):");
    }
    match &summary.label {
        Some(label) => outln!(
            "{}{}{}",
            if claimed { "  label:         " } else { "label:           " },
            label.tlp,
            label.marking.as_ref().map(|m| format!(" (marking {} {})", m.system, m.value)).unwrap_or_default()
        ),
        None if summary.signer == SignerState::Invalid => outln!("label:           missing: the profile statements were removed or altered"),
        None => outln!("label:           none: unlabelled (view only)"),
    }
    if let Some(rights) = &summary.rights {
        outln!(
            "rights:          view, print {}, copy {}, forward {}, export {}, watermark {}, not before {}, not after {}, events {} (required {})",
            rights.print,
            rights.copy,
            rights.forward,
            rights.export,
            rights.watermark,
            rights.not_before.map_or_else(|| "-".into(), super::trust::rfc3339),
            rights.not_after.map_or_else(|| "-".into(), super::trust::rfc3339),
            rights.events.url.as_deref().unwrap_or("-"),
            rights.events.required
        );
    }
    if let Some(provenance) = &summary.provenance {
        outln!(
            "provenance:      org {:?}, author {}, created {}, file {}, community {}, recipients [{}]",
            provenance.originator.org,
            or_none(provenance.originator.author.as_deref()),
            super::trust::rfc3339(provenance.created),
            or_none(provenance.file_name.as_deref()),
            or_none(provenance.community.as_deref()),
            provenance.recipients.join(", ")
        );
    }
    let signer = match summary.signer {
        SignerState::Verified => "verified",
        SignerState::Unverified => "unverified: the signature matches the key in the package, but no trust list or --signer vouches for it",
        SignerState::NotChecked => "not checked: pass --signer PUB.pem",
        SignerState::Invalid => "INVALID: a binding does not verify or a profile statement is missing",
        SignerState::Unsigned => "none (stock OpenTDF file, no provenance assertion)",
    };
    match (&summary.signer, summary.signer_kid.as_deref()) {
        (SignerState::Unsigned, None) => outln!("signer:          {signer}"),
        (_, kid) => outln!("signer:          {} {signer}", or_none(kid)),
    }
    outln!("root signature:  {}", summary.root_signature);
}

/// Runs `valise inspect`.
pub(crate) fn run(args: InspectArgs) -> CliResult {
    let signer = args.signer.as_deref().map(read_p256_public_key).transpose()?;
    let lookup = move |_kid: &str| signer.map(|key| p256::ecdsa::VerifyingKey::from(&key));
    let file = File::open(&args.package).map_err(|e| CliError::usage(format!("cannot read {}: {e}", args.package.display())))?;
    let package = Package::parse(&mut BufReader::new(file)).map_err(|e| open_error(e, &args.package))?;
    let summary = inspect(&package, &lookup).map_err(|e| open_error(e, &args.package))?;
    if args.json {
        let text = serde_json::to_string_pretty(&summary).map_err(|e| CliError::usage(format!("cannot format the summary: {e}")))?;
        crate::terminal::write_stdout(&format!("{}\n", crate::terminal::escape_json(&text)));
    } else {
        print_text(&summary);
    }
    if summary.signer == SignerState::Invalid {
        return Err(CliError::refused(format!("{}: a signature does not verify or a profile statement is missing", args.package.display()))
            .hint("do not trust this file; ask the sender for a new copy"));
    }
    Ok(())
}
