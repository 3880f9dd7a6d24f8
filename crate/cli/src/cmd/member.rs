//! `valise member ...`: member organizations of the trust list.

use std::path::{Path, PathBuf};

use valise_core::assertions::Tlp;
use valise_core::attributes::AttributeFqn;
use valise_core::jws;
use valise_core::keys;
use valise_core::label::{self, LabelMapping};
use valise_core::trust_list::{self, Member, MemberStatus, TrustList};

use crate::cmd::trust::edit_trust;
use crate::cmd::CliError;
use crate::key_files;
use crate::terminal::outln;

/// Subcommands of `valise member`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum MemberCommand {
    /// Add an organization, create its signing and key access keys, and re-sign the list.
    Add(AddArgs),
    /// Set an organization's status (active, suspended, departed).
    SetStatus(SetStatusArgs),
    /// Give an organization attribute values it holds and may grant.
    Grant(GrantArgs),
    /// Map an organization's internal marking to a TLP 2.0 level.
    MapLabel(MapLabelArgs),
}

/// Options every member command shares.
#[derive(Debug, clap::Args)]
pub(crate) struct EditArgs {
    /// Trust list file.
    #[arg(long)]
    pub(crate) trust: PathBuf,
    /// Community root key file.
    #[arg(long)]
    pub(crate) root_key: PathBuf,
    /// Organization id.
    #[arg(long)]
    pub(crate) org: String,
}

/// Arguments of `valise member add`.
#[derive(Debug, clap::Args)]
pub(crate) struct AddArgs {
    #[command(flatten)]
    pub(crate) edit: EditArgs,
    /// Display name.
    #[arg(long)]
    pub(crate) name: String,
    /// Sector, for example energy.
    #[arg(long)]
    pub(crate) sector: String,
    /// ISO 3166-1 alpha-2 country code.
    #[arg(long)]
    pub(crate) country: String,
    /// Declared client organization id (TLP:AMBER may reach it); repeatable.
    #[arg(long = "client")]
    pub(crate) clients: Vec<String>,
    /// Attribute value FQN the organization holds and may grant; repeatable.
    #[arg(long = "attr")]
    pub(crate) attributes: Vec<String>,
    /// Label mapping SYSTEM:VALUE=TLP, for example "ACME:Confidential=AMBER"; repeatable.
    #[arg(long = "label-map")]
    pub(crate) label_maps: Vec<String>,
    /// Folder for the organization's key files; default: the trust list's folder.
    #[arg(long)]
    pub(crate) keys_out: Option<PathBuf>,
}

/// Arguments of `valise member set-status`.
#[derive(Debug, clap::Args)]
pub(crate) struct SetStatusArgs {
    #[command(flatten)]
    pub(crate) edit: EditArgs,
    /// New status.
    #[arg(long, value_enum)]
    pub(crate) status: StatusArg,
}

/// Member status as the command line spells it.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum StatusArg {
    /// A member in good standing.
    Active,
    /// Temporarily not trusted.
    Suspended,
    /// No longer a member.
    Departed,
}

/// Arguments of `valise member grant`.
#[derive(Debug, clap::Args)]
pub(crate) struct GrantArgs {
    #[command(flatten)]
    pub(crate) edit: EditArgs,
    /// Attribute value FQN; repeatable.
    #[arg(long = "attr", required = true)]
    pub(crate) attributes: Vec<String>,
}

/// Arguments of `valise member map-label`.
#[derive(Debug, clap::Args)]
pub(crate) struct MapLabelArgs {
    #[command(flatten)]
    pub(crate) edit: EditArgs,
    /// Internal marking SYSTEM:VALUE, for example "ACME:Confidential".
    #[arg(long)]
    pub(crate) marking: String,
    /// TLP 2.0 level, for example AMBER or TLP:AMBER+STRICT.
    #[arg(long)]
    pub(crate) tlp: String,
}

/// Runs `valise member ...`.
pub(crate) fn run(command: MemberCommand) -> Result<(), CliError> {
    match command {
        MemberCommand::Add(args) => add(args),
        MemberCommand::SetStatus(args) => set_status(&args),
        MemberCommand::Grant(args) => grant(&args),
        MemberCommand::MapLabel(args) => map_label(&args),
    }
}

fn parse_attributes(texts: &[String]) -> Result<Vec<AttributeFqn>, CliError> {
    texts
        .iter()
        .map(|text| AttributeFqn::parse(text).map_err(|error| CliError::usage(error.to_string())))
        .collect()
}

fn parse_label_map(text: &str) -> Result<LabelMapping, CliError> {
    let invalid = || {
        CliError::usage(format!("invalid label mapping {text:?}")).hint("write it as SYSTEM:VALUE=TLP, for example \"ACME:Confidential=AMBER\"")
    };
    let (marking, tlp) = text.rsplit_once('=').ok_or_else(invalid)?;
    let marking = label::parse_marking(marking).ok_or_else(invalid)?;
    let tlp: Tlp = tlp.parse().map_err(|error| CliError::usage(format!("{error}")))?;
    Ok(LabelMapping { system: marking.system, value: marking.value, tlp })
}

fn member_mut<'a>(list: &'a mut TrustList, org: &str) -> Result<&'a mut Member, CliError> {
    list.member_mut(org).ok_or_else(|| {
        CliError::usage(format!("organization {org:?} is not a member")).hint("list the members with `valise trust show`")
    })
}

fn add(args: AddArgs) -> Result<(), CliError> {
    super::check_display_name("--name", &args.name)?;
    super::check_display_name("--sector", &args.sector)?;
    let org = args.edit.org.clone();
    if !trust_list::is_valid_org_id(&org) {
        return Err(CliError::usage(format!("invalid organization id {org:?}")).hint("use letters, digits, '.', '-' or '_'"));
    }
    let attributes = parse_attributes(&args.attributes)?;
    let label_mappings = args.label_maps.iter().map(|text| parse_label_map(text)).collect::<Result<Vec<_>, _>>()?;
    let keys_dir = match &args.keys_out {
        Some(dir) => dir.clone(),
        None => args.edit.trust.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let signing_path = keys_dir.join(format!("{org}.sign.key.pem"));
    let key_access_path = keys_dir.join(format!("{org}.key.pem"));
    key_files::ensure_absent(&signing_path)?;
    key_files::ensure_absent(&key_access_path)?;

    let signing = key_files::generate_key();
    let key_access = key_files::generate_key();
    let signing_kid = keys::jwk_thumbprint(&signing.public_key());
    let key_access_kid = keys::jwk_thumbprint(&key_access.public_key());
    let member = Member {
        org: org.clone(),
        name: args.name.clone(),
        sector: args.sector.clone(),
        country: args.country.to_ascii_uppercase(),
        status: MemberStatus::Active,
        signing_keys: vec![jws::public_jwk(&signing.public_key(), &signing_kid)],
        key_access_keys: vec![jws::public_jwk(&key_access.public_key(), &key_access_kid)],
        attributes,
        clients: args.clients.clone(),
        label_mappings,
    };

    // Ask for the passphrase of the new keys before the list changes, so a
    // refused prompt leaves everything as it was.
    let passphrase = key_files::new_passphrase(&format!("the keys of {org}"))?;
    edit_trust(&args.edit.trust, &args.edit.root_key, |list| {
        if list.member(&org).is_some() {
            return Err(CliError::usage(format!("organization {org:?} is already a member")));
        }
        list.members.push(member);
        list.validate().map_err(|error| CliError::usage(format!("cannot add {org:?}: {error}")))
    })?;
    std::fs::create_dir_all(&keys_dir)
        .map_err(|error| CliError::usage(format!("cannot create {}: {error}", keys_dir.display())))?;
    key_files::write_new_key(&signing_path, &signing, &passphrase)?;
    key_files::write_new_key(&key_access_path, &key_access, &passphrase)?;
    outln!("added {org}");
    outln!("  signing key     {} (kid {signing_kid})", signing_path.display());
    outln!("  key access key  {} (kid {key_access_kid})", key_access_path.display());
    Ok(())
}

fn set_status(args: &SetStatusArgs) -> Result<(), CliError> {
    let status = match args.status {
        StatusArg::Active => MemberStatus::Active,
        StatusArg::Suspended => MemberStatus::Suspended,
        StatusArg::Departed => MemberStatus::Departed,
    };
    edit_trust(&args.edit.trust, &args.edit.root_key, |list| {
        member_mut(list, &args.edit.org)?.status = status;
        Ok(())
    })?;
    outln!("{} is now {}", args.edit.org, status.as_str());
    Ok(())
}

fn grant(args: &GrantArgs) -> Result<(), CliError> {
    let attributes = parse_attributes(&args.attributes)?;
    edit_trust(&args.edit.trust, &args.edit.root_key, |list| {
        let member = member_mut(list, &args.edit.org)?;
        for fqn in attributes {
            if !member.attributes.contains(&fqn) {
                member.attributes.push(fqn);
            }
        }
        list.validate().map_err(|error| CliError::usage(error.to_string()))
    })?;
    Ok(())
}

fn map_label(args: &MapLabelArgs) -> Result<(), CliError> {
    let mapping = parse_label_map(&format!("{}={}", args.marking, args.tlp))?;
    edit_trust(&args.edit.trust, &args.edit.root_key, |list| {
        let member = member_mut(list, &args.edit.org)?;
        member
            .label_mappings
            .retain(|existing| !(existing.system == mapping.system && existing.value == mapping.value));
        member.label_mappings.push(mapping.clone());
        Ok(())
    })?;
    outln!("{}: {}:{} -> {}", args.edit.org, mapping.system, mapping.value, mapping.tlp);
    Ok(())
}
