//! `valise attribute add`: a new attribute definition in the trust list.

use std::path::PathBuf;

use valise_core::attributes::{self, AttributeDefinition, AttributeRule};

use crate::cmd::trust::edit_trust;
use crate::cmd::CliError;
use crate::terminal::outln;

/// Subcommands of `valise attribute`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum AttributeCommand {
    /// Define an attribute and its values, and re-sign the trust list.
    Add(AddArgs),
}

/// Attribute rule as the command line spells it.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum RuleArg {
    /// The reader must hold every required value.
    AllOf,
    /// The reader must hold one of the required values.
    AnyOf,
    /// Values ordered highest first; a higher value satisfies a lower one.
    Hierarchy,
}

/// Arguments of `valise attribute add`.
#[derive(Debug, clap::Args)]
pub(crate) struct AddArgs {
    /// Trust list file.
    #[arg(long)]
    pub(crate) trust: PathBuf,
    /// Community root key file.
    #[arg(long)]
    pub(crate) root_key: PathBuf,
    /// Attribute name (letters, digits, '-', '_').
    #[arg(long)]
    pub(crate) name: String,
    /// Rule that combines required values.
    #[arg(long, value_enum)]
    pub(crate) rule: RuleArg,
    /// Values, comma-separated; for a hierarchy, highest first.
    #[arg(long, value_delimiter = ',', required = true)]
    pub(crate) values: Vec<String>,
}

/// Runs `valise attribute ...`.
pub(crate) fn run(command: AttributeCommand) -> Result<(), CliError> {
    match command {
        AttributeCommand::Add(args) => add(args),
    }
}

fn add(args: AddArgs) -> Result<(), CliError> {
    let name = attributes::parse_name(&args.name).map_err(|error| CliError::usage(error.to_string()))?;
    let values = args
        .values
        .iter()
        .map(|value| attributes::parse_name(value.trim()))
        .collect::<Result<Vec<String>, _>>()
        .map_err(|error| CliError::usage(error.to_string()))?;
    let rule = match args.rule {
        RuleArg::AllOf => AttributeRule::AllOf,
        RuleArg::AnyOf => AttributeRule::AnyOf,
        RuleArg::Hierarchy => AttributeRule::Hierarchy,
    };
    let definition = AttributeDefinition { name: name.clone(), rule, values };
    definition.validate().map_err(|error| CliError::usage(error.to_string()))?;

    let trust = edit_trust(&args.trust, &args.root_key, |list| {
        if list.attribute(&name).is_some() {
            return Err(CliError::usage(format!("attribute {name:?} is already defined")));
        }
        list.attributes.push(definition.clone());
        Ok(())
    })?;
    for value in &definition.values {
        outln!("  {}/value/{value}", attributes::definition_fqn(trust.community(), &name));
    }
    Ok(())
}
