//! `broker remove`: deletes a profile's stored keys.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::{chain, exit_codes, output, profiles, tty, vault};

/// Delete the stored keys and cached sessions of a profile
///
/// Asks for confirmation on the terminal unless --force is given.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker remove old-user        # asks first
  broker remove -f old-user     # in a script")]
pub struct Args {
    /// Do not ask for confirmation
    #[arg(short, long)]
    force: bool,

    /// aws-vault's `remove --sessions-only`: drop the profile's cached sessions only, as
    /// `broker clear PROFILE`
    #[arg(long, short_alias = 's', hide = true)]
    sessions_only: bool,

    /// The profile whose keys to delete
    #[arg(value_name = "PROFILE", add = super::completions::profiles())]
    profile: String,
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    if args.sessions_only {
        return super::clear::drop_sessions(Some(&args.profile), ctx);
    }
    let profile = args.profile;
    let shown = &profile;
    let vault = ctx.vault()?;
    let item = vault::keys_item(&profile);
    if !vault.contains(&item)? {
        let aws = profiles::AwsProfiles::load(&ctx.env)?;
        if !aws.contains(&profile) {
            return Err(chain::unknown_profile(&profile, &aws).into());
        }
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
        let confirmed = tty::confirm(&question).map_err(|e| {
            Error::from(e).with_hint(format!(
                "run it from a terminal, or delete without asking with `broker remove -f {profile}`"
            ))
        })?;
        if !confirmed {
            output::notice("nothing was deleted");
            return Ok(exit_codes::SUCCESS);
        }
    }
    vault.delete(&item)?;
    let sessions = ctx.cache().clear_source(&profile);
    output::notice(&format!(
        "deleted the keys of profile {shown} and {sessions} cached session(s)"
    ));
    Ok(exit_codes::SUCCESS)
}
