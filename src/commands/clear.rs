//! `broker clear`: drops cached sessions.

use crate::context::Context;
use crate::error::Result;
use crate::{chain, exit_codes, output, profiles};

/// Drop cached sessions
///
/// Drops every cached session, or only those of PROFILE (its session token or its role). The
/// next use of a profile gets fresh credentials from STS.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker clear analyst    # the next use of analyst asks STS again
  broker clear            # every cached session")]
pub struct Args {
    /// Only this profile's sessions
    #[arg(value_name = "PROFILE", add = super::completions::profiles())]
    profile: Option<String>,
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    drop_sessions(args.profile.as_deref(), ctx)
}

/// Drops the cached sessions of `profile` (of every profile when `None`) and says how many
/// (`clear`, and aws-vault's `remove --sessions-only`).
pub(super) fn drop_sessions(profile: Option<&str>, ctx: &Context) -> Result<u8> {
    let dropped = ctx.cache().clear(profile);
    // Sessions of a profile since removed from the config are dropped all the same; a name that
    // is neither in the config nor in the cache is a typo.
    if let Some(profile) = profile.filter(|_| dropped == 0) {
        let aws = profiles::AwsProfiles::load(&ctx.env)?;
        if !aws.contains(profile) {
            return Err(chain::unknown_profile(profile, &aws).into());
        }
    }
    let whose = match profile {
        Some(p) => format!(" of profile {p}"),
        None => String::new(),
    };
    output::notice(&format!("dropped {dropped} cached session(s){whose}"));
    Ok(exit_codes::SUCCESS)
}
