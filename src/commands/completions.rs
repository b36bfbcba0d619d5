//! `broker completions SHELL`: prints the shell's registration of broker's completions.
//!
//! Completion is clap's own (`clap_complete`'s dynamic engine): the shell asks
//! `COMPLETE=SHELL broker -- WORDS…`, so subcommands, flags and also profile names — read from
//! the AWS config at completion time — complete, and the script never goes stale.

use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};
use clap_complete::Shell;

use crate::environment::COMPLETION_VAR as VAR;
use crate::error::{Error, Result};

/// Print a shell completion script
///
/// Writes the script to stdout; it completes subcommands, flags and profile names by asking
/// broker. For example, for bash:
/// `broker completions bash > ~/.local/share/bash-completion/completions/broker`.
/// The scripts for every shell are also in the `completions/` folder of the source.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker completions bash > ~/.local/share/bash-completion/completions/broker
  broker completions zsh > ~/.zfunc/_broker")]
pub struct Args {
    /// The shell to complete for
    #[arg(value_name = "SHELL", value_enum)]
    shell: Shell,
}

pub fn run(args: Args) -> Result<u8> {
    let mut out = Vec::new();
    write(args.shell, &mut out)?;
    crate::output::stdout(&out)?;
    Ok(crate::exit_codes::SUCCESS)
}

/// Writes the registration script for `shell`.
pub fn write(shell: Shell, out: &mut Vec<u8>) -> Result<()> {
    let name = shell.to_string();
    let shells = clap_complete::env::Shells::builtins();
    let completer = shells
        .completer(&name)
        .ok_or_else(|| Error::new(format!("no completion support for {name}")))?;
    completer
        .write_registration(VAR, "broker", "broker", "broker", out)
        .map_err(|e| Error::with_source("cannot write the completion script", e))
}

/// The environment read at start-up, for the completer of profile names.
static ENVIRONMENT: std::sync::OnceLock<crate::environment::Environment> =
    std::sync::OnceLock::new();

/// Answers a completion request (`COMPLETE=SHELL broker -- …`) about the command line that
/// `command` builds, with the profiles of `env`'s AWS config, and exits; otherwise returns.
pub fn answer(command: fn() -> clap::Command, env: crate::environment::Environment) {
    let _ = ENVIRONMENT.set(env);
    clap_complete::CompleteEnv::with_factory(command)
        .var(VAR)
        .bin("broker")
        .completer("broker")
        .complete();
}

/// Completes PROFILE arguments with the profiles of the AWS config.
pub fn profiles() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &std::ffi::OsStr| {
        let prefix = current.to_string_lossy();
        ENVIRONMENT
            .get()
            .and_then(|env| crate::profiles::AwsProfiles::load(env).ok())
            .map(|aws| aws.names())
            .unwrap_or_default()
            .into_iter()
            .filter(|name| name.starts_with(prefix.as_ref()))
            .map(CompletionCandidate::new)
            .collect()
    })
}
