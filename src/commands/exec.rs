//! `broker exec`: runs a command with credentials, in its environment or from a local server.

use std::ffi::OsString;

use secrecy::ExposeSecret;

use crate::audit::{Outcome, Via};
use crate::context::Context;
use crate::error::{escape_control, Result};
use crate::{format, output, process, server};

use super::credential_args::CredentialArgs;

/// Run a command with credentials in its environment
///
/// Runs CMD (default: $SHELL) with temporary credentials in AWS_ACCESS_KEY_ID,
/// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and AWS_CREDENTIAL_EXPIRATION, the region in
/// AWS_REGION and AWS_DEFAULT_REGION, and BROKER_PROFILE=PROFILE. Inherited AWS credential and
/// profile variables are removed first. Running `broker exec` inside a broker shell switches
/// role: the new credentials come from the vault, never from the inherited variables.
///
/// broker exits with the command's status (128+N if a signal N killed it); SIGINT, SIGTERM,
/// SIGHUP and SIGQUIT sent to broker are passed on to the command.
///
/// Example: broker exec prod-admin -- aws s3 ls
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Serve credentials from a local endpoint that refreshes them (the ECS container
    /// credentials protocol) instead of putting keys in the environment; for long jobs
    #[arg(long)]
    server: bool,

    #[command(flatten)]
    credentials: CredentialArgs,

    /// The command and its arguments, after `--` [default: $SHELL]
    #[arg(last = true, value_name = "CMD")]
    command: Vec<OsString>,
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    let issuer = args.credentials.issuer(ctx, Via::Exec)?;
    let chain = &issuer.chain;
    if let Some(previous) = std::env::var_os("BROKER_PROFILE").filter(|p| !p.is_empty()) {
        output::notice(&format!(
            "leaving profile {} for {} (the new credentials come from the vault)",
            escape_control(&previous.to_string_lossy()),
            escape_control(&chain.profile)
        ));
    }
    let argv = process::command_line(args.command);
    let mut vars = vec![
        ("AWS_REGION".to_string(), chain.region.clone()),
        ("AWS_DEFAULT_REGION".to_string(), chain.region.clone()),
        ("BROKER_PROFILE".to_string(), chain.profile.clone()),
    ];
    let via = if args.server { Via::Server } else { Via::Exec };
    let issued = issuer.issue_and_notify(via)?;
    if !args.server {
        vars.extend(
            format::variables(&issued.credentials, None)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v)),
        );
        return process::run(&argv, process::environment(vars));
    }

    // Later requests refresh through the cache; --refresh applied to the first issue only.
    let mut issuer = issuer;
    issuer.options.refresh = false;
    let issuer = std::sync::Arc::new(issuer);
    let auditor = issuer.clone();
    let server = server::Server::start(
        Box::new(move || issuer.issue(Via::Server).map(|issued| issued.credentials)),
        Box::new(move |report| auditor.record(Via::Server, Outcome::Refused, report)),
    )?;
    output::verbose(format!("credentials server listening on {}", server.url));
    vars.push((
        "AWS_CONTAINER_CREDENTIALS_FULL_URI".into(),
        server.url.clone(),
    ));
    vars.push((
        "AWS_CONTAINER_AUTHORIZATION_TOKEN".into(),
        server.token.expose_secret().to_string(),
    ));
    let status = process::run(&argv, process::environment(vars));
    drop(server);
    status
}
