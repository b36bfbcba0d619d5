//! The options shared by the commands that hand out credentials (export, exec, login), turned
//! into a plain [`Request`] for [`crate::issue`].

use std::time::Duration;

use crate::audit::Via;
use crate::chain;
use crate::context::Context;
use crate::duration::{self, DurationError};
use crate::error::Result;
use crate::issue::{Issuer, Request};

#[derive(Debug, clap::Args)]
pub struct CredentialArgs {
    /// The profile to use [default: $AWS_DEFAULT_PROFILE, else $AWS_PROFILE, else the profile
    /// "default" if there is one, else chosen from a list on the terminal]
    #[arg(value_name = "PROFILE", add = super::completions::profiles())]
    pub profile: Option<String>,

    /// How long the credentials last, like 15m, 1h or 3600s (AWS allows 15m to 12h for a role,
    /// to 36h for a session token; a role assumed from another role gets at most 1h)
    #[arg(short, long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Skip GetSessionToken: hand out the stored keys themselves, or assume the first role
    /// with them directly
    #[arg(short = 'n', long)]
    pub no_session: bool,

    /// The current code of the profile's MFA device, instead of asking for it; `-` reads it
    /// from stdin (or asks on the terminal), which keeps it out of the command line
    #[arg(short = 't', long, value_name = "CODE", value_parser = crate::mfa::parse_code)]
    pub mfa_token: Option<crate::mfa::TokenArg>,

    /// The region for STS and for the credentials' environment [default: $AWS_REGION, else
    /// $AWS_DEFAULT_REGION, else the profile's region, else us-east-1]
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Why you need these credentials; recorded in the audit log (required by profiles with
    /// require_reason or break_glass, and sent as the BrokerReason tag with tag_reason)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    /// Skip the typed confirmation of a break-glass profile (not its reason)
    #[arg(long)]
    pub yes: bool,

    /// Ignore cached credentials for this call, and replace them
    #[arg(long)]
    pub refresh: bool,
}

/// A duration within AWS's widest bounds (a role's are checked once the chain is known).
pub(super) fn parse_duration(text: &str) -> std::result::Result<Duration, DurationError> {
    let d = duration::parse(text)?;
    duration::check_range(
        d,
        chain::MIN_DURATION,
        chain::MAX_SESSION_TOKEN_DURATION,
        None,
    )
    .map_err(|e| DurationError {
        value: text.trim().to_string(),
        ..e
    })
}

/// The profile named, else `AWS_DEFAULT_PROFILE`, else `AWS_PROFILE` (botocore's order), else
/// `default` when the AWS config has it, else the one picked on the terminal (see
/// [`crate::picker`]).
pub(super) fn profile_or_default(named: Option<&String>, ctx: &Context) -> Result<String> {
    let aws_vars = &ctx.env.aws;
    if let (None, Some(default), Some(profile)) =
        (named, &aws_vars.default_profile, &aws_vars.profile)
    {
        if default != profile {
            crate::output::verbose(format!(
                "AWS_DEFAULT_PROFILE ({default}) wins over AWS_PROFILE ({profile}), as for botocore"
            ));
        }
    }
    if let Some(profile) = named.or(aws_vars.named_profile()) {
        return Ok(profile.clone());
    }
    let aws = crate::profiles::AwsProfiles::load(&ctx.env)?;
    if aws.contains("default") {
        return Ok("default".into());
    }
    // The audit log orders the list; unreadable, it orders nothing.
    let (records, _) = ctx.audit.read().unwrap_or_default();
    let records: Vec<_> = records.into_iter().map(|(record, _)| record).collect();
    let ordered = crate::picker::order(&aws.names(), &records);
    Ok(crate::picker::pick(&ordered, crate::tty::interactive())?)
}

impl CredentialArgs {
    /// The profile named, else the default (see [`profile_or_default`]).
    pub fn profile_name(&self, ctx: &Context) -> Result<String> {
        profile_or_default(self.profile.as_ref(), ctx)
    }

    /// The request these options make.
    pub fn request(&self, ctx: &Context) -> Result<Request> {
        Ok(Request {
            profile: self.profile_name(ctx)?,
            duration: self.duration,
            no_session: self.no_session,
            mfa_token: self.mfa_token.as_ref().map(|t| t.code()).transpose()?,
            region: self.region.clone(),
            reason: self.reason.clone(),
            yes: self.yes,
            refresh: self.refresh,
            unattended: false,
        })
    }

    /// Resolves the request and applies its policy (see [`Issuer::new`]).
    pub fn issuer(&self, ctx: &Context, via: Via) -> Result<Issuer> {
        Issuer::new(ctx, self.request(ctx)?, via)
    }
}
