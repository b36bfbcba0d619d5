//! `broker clear`: drops cached sessions.

use crate::context::Context;
use crate::error::Result;
use crate::{exit_codes, output};

/// Drop cached sessions
///
/// Drops every cached session, or only those of PROFILE (its session token or its role). The
/// next use of a profile gets fresh credentials from STS.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this profile's sessions
    #[arg(value_name = "PROFILE", add = super::completions::profiles())]
    profile: Option<String>,
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    let dropped = ctx.cache().clear(args.profile.as_deref());
    let whose = match &args.profile {
        Some(p) => format!(" of profile {p}"),
        None => String::new(),
    };
    output::notice(&format!("dropped {dropped} cached session(s){whose}"));
    Ok(exit_codes::SUCCESS)
}
