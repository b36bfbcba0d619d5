//! `broker rotate`: replaces a profile's IAM access key. At every step a failure leaves a
//! working key in the vault and says exactly where things stand.

use crate::audit::Via;
use crate::chain::{self, Source};
use crate::context::Context;
use crate::credentials::Credentials;
use crate::endpoint::{self, Service};
use crate::error::Result;
use crate::iam::Iam;
use crate::issue::{Issuer, Request};
use crate::rotation::{self, RotateError};
use crate::sts::Sts;
use crate::{exit_codes, output, profiles, vault};

/// Replace a profile's access key with a new one
///
/// Creates a new IAM access key with the current one (through an MFA session when the profile
/// has mfa_serial), stores it, checks that it works, deletes the old key, and drops the
/// profile's cached sessions. For a role profile, rotates the keys of its source profile.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker rotate alice
  broker rotate analyst    # rotates the key of analyst's source profile")]
pub struct Args {
    /// The profile whose key to rotate
    #[arg(value_name = "PROFILE", add = super::completions::profiles())]
    profile: String,

    /// The current code of the profile's MFA device, instead of asking for it; `-` reads it
    /// from stdin (or asks on the terminal)
    #[arg(short = 't', long, value_name = "CODE", value_parser = crate::mfa::parse_code)]
    mfa_token: Option<crate::mfa::TokenArg>,

    /// aws-vault's `rotate --no-session`: make the IAM calls with the stored keys, without an
    /// MFA session
    #[arg(short = 'n', long, hide = true)]
    no_session: bool,
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    let aws = profiles::AwsProfiles::load(&ctx.env)?;
    let chain = chain::resolve(
        &args.profile,
        &aws,
        &ctx.settings,
        &ctx.policy,
        &ctx.env,
        &chain::Request::default(),
    )?;
    let Source::Vault { profile } = &chain.source else {
        return Err(RotateError::NoKey {
            profile: args.profile,
        }
        .into());
    };
    let vault = ctx.vault()?;
    let old = vault::get_keys(vault.as_ref(), profile)?.ok_or_else(|| RotateError::NotStored {
        profile: profile.clone(),
    })?;
    // The IAM calls are made as the user: with an MFA session (issued and audited like any
    // other) when the profile needs one.
    let request = Request {
        profile: profile.clone(),
        mfa_token: args.mfa_token.as_ref().map(|t| t.code()).transpose()?,
        ..Request::default()
    };
    let session = Issuer::new(ctx, request, Via::Rotate)?;
    let caller: Credentials = if session.chain.mfa_serial.is_some() && !args.no_session {
        session.issue(Via::Rotate)?.credentials
    } else {
        old.clone().into()
    };
    let iam_endpoint = endpoint::resolve(Service::Iam, &ctx.env, &aws, Some(profile))
        .map_err(chain::ChainError::from)?;
    let iam = Iam::new(&chain.net, &iam_endpoint, ctx.sts_timeout, &caller)
        .map_err(RotateError::Client)?;
    let sts = Sts::new(&chain, ctx.sts_timeout).map_err(RotateError::Client)?;
    let new_id = rotation::replace(&iam, vault.as_ref(), profile, &old, |new| {
        rotation::verify(&sts, new)
    })?;
    let dropped = ctx.cache().clear_source(profile);
    iam.delete_access_key(&old.access_key_id)
        .map_err(|source| RotateError::DeleteOld {
            old_id: old.access_key_id.clone(),
            new_id: new_id.clone(),
            source,
        })?;
    output::notice(&format!(
        "deleted the old key {}; dropped {dropped} cached session(s) made from {profile}'s keys",
        old.access_key_id
    ));
    Ok(exit_codes::SUCCESS)
}
