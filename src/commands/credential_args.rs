//! The options shared by the commands that hand out credentials (export, exec, login), and the
//! one path from them to credentials: resolve the chain, then ask the engine.

use std::time::Duration;

use secrecy::SecretString;

use crate::chain::{self, Chain};
use crate::context::Context;
use crate::engine::{self, Issued};
use crate::error::{Error, Result};
use crate::{output, profiles};

#[derive(Debug, clap::Args)]
pub struct CredentialArgs {
    /// The profile to use [default: $AWS_PROFILE, else "default"]
    #[arg(value_name = "PROFILE")]
    pub profile: Option<String>,

    /// How long the credentials last, like 15m, 1h or 3600s (AWS allows 15m to 12h for a role,
    /// to 36h for a session token; a role assumed from another role gets at most 1h)
    #[arg(short, long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Skip GetSessionToken: hand out the stored keys themselves, or assume the first role
    /// with them directly
    #[arg(short = 'n', long)]
    pub no_session: bool,

    /// The current code of the profile's MFA device, instead of asking for it
    #[arg(short = 't', long, value_name = "CODE")]
    pub mfa_token: Option<String>,

    /// The region for STS and for the credentials' environment [default: the profile's
    /// region, else $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1]
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Ignore cached credentials for this call, and replace them
    #[arg(long)]
    pub refresh: bool,
}

fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let d = crate::duration::parse(text).map_err(|e| e.to_string())?;
    if d < chain::MIN_DURATION || d > chain::MAX_SESSION_TOKEN_DURATION {
        return Err(format!(
            "{} is outside AWS's bounds of 15m to 36h",
            crate::duration::format(d)
        ));
    }
    Ok(d)
}

impl CredentialArgs {
    /// The profile named, else `AWS_PROFILE`, else `default`.
    pub fn profile_name(&self) -> String {
        self.profile
            .clone()
            .unwrap_or_else(profiles::default_profile_name)
    }

    /// Resolves the profile's chain.
    pub fn resolve(&self, ctx: &Context) -> Result<Chain> {
        let aws = profiles::AwsProfiles::load()?;
        let request = chain::Request {
            duration: self.duration,
            region: self.region.clone(),
            no_session: self.no_session,
        };
        let chain = chain::resolve(&self.profile_name(), &aws, &ctx.settings, &request)
            .map_err(Error::from)?;
        for notice in &chain.notices {
            output::notice(notice);
        }
        Ok(chain)
    }

    /// Gets credentials for a resolved chain.
    /// The engine's options for this request.
    pub fn options(&self, ctx: &Context, tags: Vec<(String, String)>) -> engine::Options {
        engine::Options {
            refresh: self.refresh,
            mfa_token: self.mfa_token.clone().map(SecretString::from),
            mfa_prompt: ctx.settings.mfa.prompt.unwrap_or_default(),
            min_ttl: ctx.min_ttl(),
            tags,
        }
    }

    /// Gets credentials for a resolved chain.
    pub fn obtain(
        &self,
        ctx: &Context,
        chain: &Chain,
        tags: Vec<(String, String)>,
    ) -> Result<Issued> {
        engine::obtain(
            chain,
            &ctx.cache(),
            &ctx.vault_spec(),
            &self.options(ctx, tags),
        )
    }
}
