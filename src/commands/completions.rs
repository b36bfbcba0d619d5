//! `broker completions SHELL`: prints a completion script generated from the clap definition.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::error::Result;

/// Print a shell completion script
///
/// Writes the script to stdout. For example, for bash:
/// `broker completions bash > ~/.local/share/bash-completion/completions/broker`.
/// The scripts for every shell are also in the `completions/` folder of the source.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for
    #[arg(value_name = "SHELL", value_enum)]
    shell: Shell,
}

pub fn run(args: Args) -> Result<u8> {
    let mut out = Vec::new();
    write(args.shell, &mut out);
    crate::output::stdout(&out)?;
    Ok(crate::exit_codes::SUCCESS)
}

/// Writes the completion script for `shell`.
pub fn write(shell: Shell, out: &mut Vec<u8>) {
    clap_complete::generate(shell, &mut crate::cli::Cli::command(), "broker", out);
}
