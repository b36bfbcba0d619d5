//! `broker aws-vault`, read as `broker help aws-vault` (hidden from the command list): aws-vault's
//! flags and variables and what broker makes of each, from the tables of [`crate::aws_vault`].

use crate::error::Result;
use crate::{exit_codes, output};

/// aws-vault's flags and variables, as broker reads them
#[derive(Debug, clap::Args)]
#[command(long_about = crate::aws_vault::help_page(), help_template = "{about-with-newline}")]
pub struct Args {}

pub fn run(_args: Args) -> Result<u8> {
    output::stdout(format!("{}\n", crate::aws_vault::help_page()).as_bytes())?;
    Ok(exit_codes::SUCCESS)
}
