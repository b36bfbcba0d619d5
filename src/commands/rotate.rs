//! `broker rotate`: replaces a profile's IAM access key. At every step a failure leaves a
//! working key in the vault and says exactly where things stand.

use std::time::Duration;

use crate::audit::Via;
use crate::aws::{AwsCode, AwsError};
use crate::chain::{self, Source};
use crate::context::Context;
use crate::credentials::Credentials;
use crate::endpoint::{self, Service};
use crate::error::{Error, Result};
use crate::iam::Iam;
use crate::issue::{Issuer, Request};
use crate::sts::Sts;
use crate::{exit_codes, output, profiles, vault};

/// How often, and how far apart, the new key is tried before it counts as not working (IAM
/// takes a few seconds to propagate a new key).
const VERIFY_ATTEMPTS: u32 = 10;
const VERIFY_PAUSE: Duration = Duration::from_secs(2);

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
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    let aws = profiles::AwsProfiles::load(&ctx.env)?;
    let chain = chain::resolve(
        &args.profile,
        &aws,
        &ctx.settings,
        &ctx.env,
        &chain::Request::default(),
    )?;
    let Source::Vault { profile } = &chain.source else {
        return Err(Error::new(format!(
            "profile {} gets its credentials from a web identity or credential_process; \
             broker has no key to rotate",
            args.profile
        )));
    };
    let vault = ctx.vault()?;
    let old = vault::get_keys(vault.as_ref(), profile)?.ok_or_else(|| {
        Error::new(format!("no keys are stored for profile {profile}"))
            .with_hint(format!("store them with `broker add {profile}`"))
    })?;

    // The IAM calls are made as the user: with an MFA session (issued and audited like any
    // other) when the profile needs one.
    let request = Request {
        profile: profile.clone(),
        mfa_token: args.mfa_token.as_ref().map(|t| t.code()).transpose()?,
        ..Request::default()
    };
    let session = Issuer::new(ctx, request, Via::Rotate)?;
    let caller: Credentials = if session.chain.mfa_serial.is_some() {
        session.issue(Via::Rotate)?.credentials
    } else {
        old.clone().into()
    };
    let iam_endpoint =
        endpoint::configured(Service::Iam, &ctx.env, aws.get(profile, "endpoint_url"));
    let iam = Iam::new(iam_endpoint.as_deref(), ctx.sts_timeout, &caller)
        .map_err(|e| Error::new(format!("cannot start the IAM client: {e}")))?;
    let old_id = old.access_key_id.clone();

    let new = iam.create_access_key().map_err(|e| {
        Error::new(format!("could not create a new access key: {e}")).with_hint(format!(
            "nothing changed: the vault still holds {old_id}, which works as before (IAM allows \
             two keys per user; delete an unused one if that is the limit)"
        ))
    })?;
    let new_id = new.access_key_id.clone();
    output::notice(&format!(
        "created access key {new_id} for profile {profile}"
    ));

    if let Err(e) = vault::set_keys(vault.as_ref(), profile, &new) {
        let cleanup = describe_cleanup(iam.delete_access_key(&new_id), &new_id);
        return Err(
            Error::new(format!("could not store the new key: {e}")).with_hint(format!(
                "the vault still holds {old_id}, which works; {cleanup}"
            )),
        );
    }

    if let Err(why) = verify(&chain, ctx.sts_timeout, &new.clone().into()) {
        let restored = vault::set_keys(vault.as_ref(), profile, &old);
        let cleanup = describe_cleanup(iam.delete_access_key(&new_id), &new_id);
        let state = match restored {
            Ok(()) => format!("the vault holds {old_id} again, which works"),
            Err(e) => format!(
                "putting {old_id} back into the vault failed too ({e}); the vault holds {new_id}"
            ),
        };
        return Err(
            Error::new(format!("the new key {new_id} did not work: {why}"))
                .with_hint(format!("{state}; {cleanup}")),
        );
    }
    output::notice(&format!("stored {new_id} and checked that it works"));

    let dropped = ctx.cache().clear_source(profile);
    if let Err(e) = iam.delete_access_key(&old_id) {
        return Err(
            Error::new(format!("could not delete the old key {old_id}: {e}")).with_hint(format!(
                "the vault holds the new key {new_id}, which works; delete the old one with \
                 `aws iam delete-access-key --access-key-id {old_id}`"
            )),
        );
    }
    output::notice(&format!(
        "deleted the old key {old_id}; dropped {dropped} cached session(s) made from {profile}'s keys"
    ));
    Ok(exit_codes::SUCCESS)
}

/// Tries the new key with GetCallerIdentity until IAM has propagated it.
fn verify(
    chain: &chain::Chain,
    timeout: Duration,
    keys: &Credentials,
) -> std::result::Result<(), String> {
    let sts =
        Sts::new(&chain.region, chain.endpoint.as_deref(), timeout).map_err(|e| e.to_string())?;
    let mut last = String::new();
    for attempt in 1..=VERIFY_ATTEMPTS {
        match sts.caller_arn(keys) {
            Ok(_) => return Ok(()),
            Err(e)
                if matches!(
                    e.code,
                    AwsCode::InvalidClientTokenId | AwsCode::SignatureDoesNotMatch
                ) =>
            {
                last = e.to_string();
                if attempt < VERIFY_ATTEMPTS {
                    std::thread::sleep(VERIFY_PAUSE);
                }
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(last)
}

fn describe_cleanup(result: std::result::Result<(), AwsError>, new_id: &str) -> String {
    match result {
        Ok(()) => format!("the new key {new_id} was deleted again"),
        Err(e) => format!(
            "the new key {new_id} could not be deleted ({e}): delete it with `aws iam \
             delete-access-key --access-key-id {new_id}`"
        ),
    }
}
