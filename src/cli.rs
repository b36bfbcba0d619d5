//! The command line: clap types only. [`crate::context`] turns the global options into settings,
//! and each command's `run` turns its own `Args` into plain values before working.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Parser;

use crate::commands;
use crate::vault::BackendKind;

/// A command-line AWS credential broker.
///
/// broker keeps long-term IAM user keys in the operating system's keychain, gets short-lived
/// credentials from STS, and hands those (never the long-term keys) to the programs you run.
#[derive(Debug, Parser)]
#[command(
    name = "broker",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Where long-term keys are stored [env: BROKER_BACKEND]
    #[arg(long, global = true, value_name = "BACKEND", value_parser = backend_parser())]
    pub backend: Option<BackendKind>,

    /// broker's settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log what broker does to stderr (secrets are never logged)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: commands::Command,
}

/// Parses `argv` (the program name first).
pub fn parse(argv: Vec<OsString>) -> Result<Cli, clap::Error> {
    let mut cli = Cli::try_parse_from(&argv)?;
    commands::after_parse(&mut cli.command, &argv);
    Ok(cli)
}

/// The backends, for the command line.
fn backend_parser() -> impl clap::builder::TypedValueParser<Value = BackendKind> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let about = |kind| match kind {
        BackendKind::SecretService => {
            "D-Bus Secret Service: GNOME Keyring, KeePassXC, KWallet (Linux/BSD default)"
        }
        BackendKind::Keychain => "The macOS Keychain (macOS default)",
        BackendKind::Wincred => "The Windows Credential Manager (Windows default)",
        BackendKind::Keyutils => "The Linux kernel keyring: fast, but lost at reboot",
        BackendKind::File => {
            "age-encrypted files under `file_dir`, one per item, protected by a passphrase"
        }
    };
    PossibleValuesParser::new(
        BackendKind::ALL.map(|kind| PossibleValue::new(kind.name()).help(about(kind))),
    )
    .map(|name| BackendKind::from_name(&name).expect("one of the possible values"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }
}
