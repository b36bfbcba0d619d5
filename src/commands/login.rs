//! `broker login`: the AWS console, signed in as a profile.

use std::time::Duration;

use crate::audit::{Outcome, Via};
use crate::browser::Browser;
use crate::chain::Source;
use crate::context::Context;
use crate::error::Result;
use crate::{exit_codes, federation, output};

use super::credential_args::CredentialArgs;

/// Console sessions of plain IAM users last this long unless --duration says otherwise.
const DEFAULT_FEDERATION_DURATION: Duration = Duration::from_secs(3600);

/// Open the AWS console signed in as a profile
///
/// For a role, signs in with the role's credentials; for a plain IAM user, with a
/// GetFederationToken session made from the stored keys (AWS does not accept MFA for
/// GetFederationToken). Opens the browser ($BROWSER, else xdg-open, open or start) on a page
/// only you can read, which leads to a one-time local link; or with --stdout prints the
/// sign-in URL.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker login analyst
  broker login --stdout analyst    # print the sign-in URL instead")]
pub struct Args {
    /// Print the sign-in URL instead of opening a browser (it signs in whoever opens it)
    #[arg(long, short_alias = 's')]
    stdout: bool,

    #[command(flatten)]
    credentials: CredentialArgs,
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    let issuer = args.credentials.issuer(ctx, Via::Login)?;
    let chain = &issuer.chain;
    let plain_user = chain.hops.is_empty() && matches!(chain.source, Source::Vault { .. });
    let issued = if plain_user {
        if chain.mfa_serial.is_some() {
            output::notice("GetFederationToken does not take MFA: this console session is not MFA-authenticated");
        }
        let duration = match chain.asked_duration {
            Some(_) => chain.session_duration,
            None => ctx
                .federation_duration
                .unwrap_or(DEFAULT_FEDERATION_DURATION.min(chain.session_duration)),
        };
        issuer.federate_and_notify(Via::Login, duration, ctx.env.user_name())?
    } else {
        issuer.issue_and_notify(Via::Login)?
    };
    // A role session may ask the console for its own length; a federation token has one.
    let session_duration = chain.asked_duration.filter(|_| !plain_user);
    let url = federation::signin_url(
        &chain.net,
        &federation::endpoint(ctx.env.broker.federation_url.as_deref())?,
        &issued.credentials,
        session_duration,
        &federation::console_destination(&chain.region),
    )?;
    if args.stdout {
        use secrecy::ExposeSecret;
        output::stdout(format!("{}\n", url.expose_secret()).as_bytes())?;
    } else if let Err(e) = federation::open_in_browser(&url, &Browser::new(&ctx.env)) {
        // Issued but maybe not delivered, or delivered to someone else: the trail says so.
        let e = crate::error::Error::from(e);
        issuer.record(Via::Login, Outcome::Error, e.message());
        return Err(e);
    }
    Ok(exit_codes::SUCCESS)
}
