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
    // Not argv[0], which is `broker.exe` on Windows (or whatever a link is called).
    bin_name = "broker",
    version,
    propagate_version = true,
    max_term_width = 100,
    after_help = root_after_help()
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,

    #[command(subcommand)]
    pub command: commands::Command,
}

/// The options every command takes.
#[derive(Debug, clap::Args)]
pub struct Global {
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
    #[arg(
        short,
        long,
        alias = "debug",
        global = true,
        action = clap::ArgAction::Count,
        help_heading = GLOBAL
    )]
    pub verbose: u8,

    /// aws-vault's MFA prompt driver: as `[mfa] prompt` in config.toml (see `broker help
    /// aws-vault`)
    #[arg(long, global = true, hide = true, value_name = "DRIVER")]
    pub prompt: Option<String>,

    /// aws-vault's keychain name: where `import --from-aws-vault` looks on macOS
    #[arg(long, global = true, hide = true, value_name = "NAME")]
    pub keychain: Option<String>,
}

/// Parses `argv` (the program name first).
///
/// Building clap's whole tree of commands is a large share of a warm `export`, so a command
/// line that starts with `export` or `exec` is first parsed with that command alone; anything
/// it does not parse as it stands (an error, `--help`, `--version`) goes through the whole
/// tree, so that every message is the same.
pub fn parse(argv: Vec<OsString>) -> Result<Cli, clap::Error> {
    let mut cli = match parse_hot(&argv) {
        Some(cli) => cli,
        None => Cli::try_parse_from(&argv)?,
    };
    commands::after_parse(&mut cli.command, &argv);
    Ok(cli)
}

/// `argv` parsed with the tree cut down to its command, when that is a hot one and parses.
fn parse_hot(argv: &[OsString]) -> Option<Cli> {
    use clap::{Args, FromArgMatches};
    let command = commands::hot(argv.get(1)?.to_str()?)?;
    let tree =
        Global::augment_args(clap::Command::new("broker").bin_name("broker")).subcommand(command);
    let matches = tree.try_get_matches_from(argv).ok()?;
    Cli::from_arg_matches(&matches).ok()
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
         broker doctor                                   # what to fix on this machine\n\n\
         aws-vault users: broker help aws-vault",
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
        BackendKind::Pass => "The password store of `pass` (GPG), under BROKER_PASS_DIR",
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

    /// The hot path parses what it parses exactly as the whole tree does.
    #[test]
    fn hot_commands_parse_as_in_the_whole_tree() {
        let lines = [
            "export r2",
            "export --format json r2",
            "export --format=sh -d 1h --region eu-west-1 --reason INC-1 --yes r2",
            "export -n --refresh -t 123456 r2",
            "export --backend file -v -v r2",
            "export",
            "exec r2",
            "exec r2 aws s3 ls --recursive",
            "exec --server r2 -- terraform apply -auto-approve",
            "exec -- env",
            "exec --config /tmp/c.toml --backend keyutils r2 sh -c 'echo $AWS_REGION'",
            "exec r2 --server cmd --server",
        ];
        for line in lines {
            let argv: Vec<OsString> = std::iter::once("broker")
                .chain(line.split(' '))
                .map(OsString::from)
                .collect();
            let hot = parse_hot(&argv).unwrap_or_else(|| panic!("{line}: not parsed hot"));
            let whole = Cli::try_parse_from(&argv).unwrap();
            assert_eq!(format!("{hot:?}"), format!("{whole:?}"), "{line}");
        }
        for line in [
            "export --help",
            "export --version",
            "export --format yaml r2",
            "exec -d 5 r2",
            "list",
            "--backend file export r2",
        ] {
            let argv: Vec<OsString> = std::iter::once("broker")
                .chain(line.split(' '))
                .map(OsString::from)
                .collect();
            assert!(parse_hot(&argv).is_none(), "{line}: left to the whole tree");
        }
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
