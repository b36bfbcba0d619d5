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
    max_term_width = 100,
    after_help = root_after_help()
)]
pub struct Cli {
    /// Where long-term keys are stored (see `broker --help` for the list) [env: BROKER_BACKEND]
    #[arg(
        long,
        global = true,
        value_name = "BACKEND",
        value_parser = backend_parser(),
        hide_possible_values = true,
        help_heading = GLOBAL
    )]
    pub backend: Option<BackendKind>,

    /// broker's settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]
    #[arg(long, global = true, value_name = "FILE", help_heading = GLOBAL)]
    pub config: Option<PathBuf>,

    /// Log what broker does to stderr (secrets are never logged)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = GLOBAL)]
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

/// The heading of the options every command takes, shown after the command's own.
const GLOBAL: &str = "Global options";

/// `broker --help` alone lists the backends (each command's help only names the option), and
/// shows a few first steps.
fn root_after_help() -> String {
    let mut text =
        String::from("Backends (--backend, BROKER_BACKEND, or backend = in config.toml):\n");
    for kind in BackendKind::ALL {
        text.push_str(&format!("  {:<15} {}\n", kind.name(), backend_about(kind)));
    }
    text.push_str(
        "\nExamples:\n  \
         broker add alice                                # store alice's access key\n  \
         broker exec analyst aws sts get-caller-identity # run a command as a role\n  \
         eval \"$(broker export --format sh analyst)\"     # into the current shell\n  \
         broker doctor                                   # what to fix on this machine",
    );
    text
}

fn backend_about(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::SecretService => {
            "D-Bus Secret Service: GNOME Keyring, KeePassXC, KWallet (Linux/BSD default)"
        }
        BackendKind::Keychain => "The macOS Keychain (macOS default)",
        BackendKind::Wincred => "The Windows Credential Manager (Windows default)",
        BackendKind::Keyutils => "The Linux kernel keyring: fast, but lost at reboot",
        BackendKind::File => {
            "age-encrypted files under `file_dir`, one per item, protected by a passphrase"
        }
    }
}

/// The backends, for the command line.
fn backend_parser() -> impl clap::builder::TypedValueParser<Value = BackendKind> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(BackendKind::ALL.map(|kind| PossibleValue::new(kind.name())))
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

    #[test]
    fn no_short_flag_means_two_things() {
        let mut seen = std::collections::BTreeMap::new();
        let cli = Cli::command();
        let commands = std::iter::once(&cli).chain(cli.get_subcommands());
        for command in commands {
            for arg in command.get_arguments() {
                if let (Some(short), Some(long)) = (arg.get_short(), arg.get_long()) {
                    let first = seen.entry(short).or_insert(long);
                    assert_eq!(
                        *first,
                        long,
                        "-{short} is --{first} and, in `{}`, --{long}",
                        command.get_name()
                    );
                }
            }
        }
    }
}
