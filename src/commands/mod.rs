//! One module per subcommand, each with its `Args` and a `run`; one enum and one `match`.

mod add;
mod completions;
mod list;
mod remove;

use clap::Subcommand;

use crate::context::Context;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum Command {
    Add(add::Args),
    List(list::Args),
    Remove(remove::Args),
    Completions(completions::Args),
}

/// Runs a command. `completions` needs no settings, so it runs before they are read.
pub fn run(command: Command, resolve: impl FnOnce() -> Result<Context>) -> Result<u8> {
    match command {
        Command::Completions(args) => completions::run(args),
        Command::Add(args) => add::run(args, &resolve()?),
        Command::List(args) => list::run(args, &resolve()?),
        Command::Remove(args) => remove::run(args, &resolve()?),
    }
}
