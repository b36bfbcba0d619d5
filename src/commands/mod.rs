//! One module per subcommand, each with its `Args` and a `run`; one enum and one `match`.

mod add;
mod audit_ship;
mod aws_vault;
mod clear;
pub mod completions;
mod credential_args;
mod debug;
mod doctor;
mod exec;
mod export;
mod history;
mod import;
mod list;
mod login;
mod prompt;
mod remove;
mod rotate;
mod shell_init;
mod sso;
mod use_;

use clap::Subcommand;

use crate::context::{Context, GlobalOptions};
use crate::environment::Environment;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum Command {
    Add(add::Args),
    Import(import::Args),
    List(list::Args),
    Remove(remove::Args),
    Rotate(rotate::Args),
    Exec(exec::Args),
    Export(export::Args),
    Login(login::Args),
    Use(use_::Args),
    ShellInit(shell_init::Args),
    Prompt(prompt::Args),
    Clear(clear::Args),
    Sso(sso::Args),
    History(history::Args),
    Doctor(doctor::Args),
    Completions(completions::Args),
    Debug(debug::Args),
    #[command(hide = true)]
    AuditShip(audit_ship::Args),
    #[command(name = "aws-vault", hide = true)]
    AwsVault(aws_vault::Args),
}

/// The command `name` alone, as the derive builds it within the whole tree, for the commands
/// that run thousands of times a day (see [`crate::cli::parse`]).
pub fn hot(name: &str) -> Option<clap::Command> {
    use clap::Args as _;
    match name {
        "export" => Some(export::Args::augment_args(clap::Command::new("export"))),
        "exec" => Some(exec::Args::augment_args(clap::Command::new("exec"))),
        // Before every shell prompt.
        "prompt" => Some(prompt::Args::augment_args(clap::Command::new("prompt"))),
        _ => None,
    }
}

/// Fixes up what clap cannot tell from the command line alone (see
/// [`exec::Args::dashes_before_command`]).
pub fn after_parse(command: &mut Command, argv: &[std::ffi::OsString]) {
    if let Command::Exec(args) = command {
        args.dashes_before_command(argv);
    }
}

/// Runs a command. `completions`, `audit-ship`, `shell-init` and `prompt` need no settings, so
/// they run before they are read; `doctor`
/// reports broken settings instead of stopping at them, so it resolves them itself.
pub fn run(command: Command, options: GlobalOptions, env: Environment) -> Result<u8> {
    let command = match command {
        Command::Doctor(args) => return doctor::run(args, options, env),
        Command::Prompt(args) => return prompt::run(args, &env.prompt),
        command => command,
    };
    let resolve = || {
        let ctx = Context::resolve(options, env);
        crate::timing::phase("settings");
        ctx
    };
    match command {
        Command::Doctor(_) => unreachable!("run above"),
        Command::Completions(args) => completions::run(args),
        Command::AuditShip(args) => audit_ship::run(args),
        Command::AwsVault(args) => aws_vault::run(args),
        Command::ShellInit(args) => shell_init::run(args),
        Command::Prompt(_) => unreachable!("run above"),
        Command::Use(args) => use_::run(args, &resolve()?),
        Command::Add(args) => add::run(args, &resolve()?),
        Command::Import(args) => import::run(args, &resolve()?),
        Command::List(args) => list::run(args, &resolve()?),
        Command::Remove(args) => remove::run(args, &resolve()?),
        Command::Rotate(args) => rotate::run(args, &resolve()?),
        Command::Exec(args) => exec::run(args, &resolve()?),
        Command::Export(args) => export::run(args, &resolve()?),
        Command::Login(args) => login::run(args, &resolve()?),
        Command::Clear(args) => clear::run(args, &resolve()?),
        Command::Sso(args) => sso::run(args, &resolve()?),
        Command::History(args) => history::run(args, &resolve()?),
        Command::Debug(args) => debug::run(args, &resolve()?),
    }
}
