//! `broker remove`: deletes a profile's stored keys.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::{exit_codes, output, tty, vault};

/// Delete the stored keys and cached sessions of a profile
///
/// Asks for confirmation on the terminal unless --force is given.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Do not ask for confirmation
    #[arg(short, long)]
    force: bool,

    /// The profile whose keys to delete
    #[arg(value_name = "PROFILE", add = super::completions::profiles())]
    profile: String,
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    let profile = args.profile;
    let shown = &profile;
    let vault = ctx.vault()?;
    let item = vault::keys_item(&profile);
    if !vault.contains(&item)? {
        return Err(Error::new(format!(
            "no keys are stored for profile {shown} in the {} vault",
            vault.kind().name()
        ))
        .with_hint("`broker list` shows which profiles have keys"));
    }
    if !args.force {
        let question = format!(
            "Delete the keys of profile {shown} from the {} vault? [y/N] ",
            vault.kind().name()
        );
        if !tty::confirm(&question)? {
            return Err(Error::new("nothing was deleted"));
        }
    }
    vault.delete(&item)?;
    let sessions = ctx.cache().clear_source(&profile);
    output::notice(&format!(
        "deleted the keys of profile {shown} and {sessions} cached session(s)"
    ));
    Ok(exit_codes::SUCCESS)
}
