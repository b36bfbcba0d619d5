//! One module per subcommand, each with its `Args` and a `run`; one enum and one `match`.

mod add;
mod audit_ship;
mod clear;
pub mod completions;
mod credential_args;
mod debug;
mod exec;
mod export;
mod history;
mod list;
mod login;
mod remove;
mod rotate;
mod sso;

use clap::Subcommand;

use crate::context::Context;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum Command {
    Add(add::Args),
    List(list::Args),
    Remove(remove::Args),
    Rotate(rotate::Args),
    Exec(exec::Args),
    Export(export::Args),
    Login(login::Args),
    Clear(clear::Args),
    Sso(sso::Args),
    History(history::Args),
    Completions(completions::Args),
    Debug(debug::Args),
    #[command(hide = true)]
    AuditShip(audit_ship::Args),
}

/// Runs a command. `completions` and `audit-ship` need no settings, so they run before they are
/// read.
pub fn run(command: Command, resolve: impl FnOnce() -> Result<Context>) -> Result<u8> {
    match command {
        Command::Completions(args) => completions::run(args),
        Command::AuditShip(args) => audit_ship::run(args),
        Command::Add(args) => add::run(args, &resolve()?),
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
