//! `broker exec`: runs a command with credentials, in its environment or from a local server.

use std::ffi::OsString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use secrecy::ExposeSecret;

use crate::audit::{Outcome, Via};
use crate::context::Context;
use crate::environment::REGION_MARKER;
use crate::error::{Error, Result};
use crate::issue::{Ending, Issuer, Session};
use crate::{format, output, process, server};

use super::credential_args::CredentialArgs;

/// Run a command with credentials in its environment
///
/// Runs CMD (default: $SHELL) with temporary credentials in AWS_ACCESS_KEY_ID,
/// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and AWS_CREDENTIAL_EXPIRATION, the region in
/// AWS_REGION, AWS_DEFAULT_REGION and BROKER_REGION, and BROKER_PROFILE=PROFILE. Inherited AWS
/// credential and profile variables are removed first. Running `broker exec` inside a broker
/// shell switches role: the new credentials come from the vault, never from the inherited
/// variables, and the region from the new profile unless you changed AWS_REGION or
/// AWS_DEFAULT_REGION yourself (BROKER_REGION tells broker's own values from yours).
///
/// broker exits with the command's status (128+N if a signal N killed it); SIGINT, SIGTERM,
/// SIGHUP and SIGQUIT sent to broker are passed on to the command. When the command ends, the
/// audit log gets an `ended` record with its exit status and how long it ran.
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
    if args.server && chain.hands_out_long_term_keys() {
        return Err(Error::new(format!(
            "exec --server cannot serve {}'s long-term keys: the credential server hands out \
             temporary credentials only",
            chain.profile
        ))
        .with_hint("drop --no-session, or use exec without --server"));
    }
    if let Some(previous) = &ctx.env.broker.profile {
        output::notice(&format!(
            "leaving profile {previous} for {} (the new credentials come from the vault)",
            chain.profile
        ));
    }
    let argv = process::command_line(args.command, ctx.env.shell.as_deref());
    let mut vars = vec![
        ("AWS_REGION".to_string(), chain.region.clone()),
        ("AWS_DEFAULT_REGION".to_string(), chain.region.clone()),
        // Tells a `broker exec` inside that these two region variables are broker's own.
        (REGION_MARKER.to_string(), chain.region.clone()),
        ("BROKER_PROFILE".to_string(), chain.profile.clone()),
    ];
    let via = if args.server { Via::Server } else { Via::Exec };
    let (issued, session) = issuer.start(via)?;
    if !args.server {
        vars.extend(
            format::variables(&issued.credentials, None)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v)),
        );
        drop(issued);
        let status = process::run_status(&argv, process::environment(vars));
        return ended(&issuer, session, status);
    }

    if !issued.credentials.is_temporary() {
        let error = Error::new(format!(
            "exec --server cannot serve the credentials of {}: they have no session token or \
             no expiry (a credential_process must print both)",
            chain.profile
        ))
        .with_hint("use exec without --server");
        return Err(not_started(&issuer, session, error));
    }
    // Later requests refresh through the cache; --refresh applied to the first issue only, and
    // a --mfa-token code, good for seconds and once, is not kept for them.
    // Credentials in their advisory window are served at once and refreshed in the background,
    // one refresh at a time, so a child never waits on STS while valid credentials are at hand.
    let mut issuer = issuer;
    issuer.options.refresh = false;
    issuer.options.mfa_token.take();
    issuer.options.defer_advisory_refresh = true;
    let issuer = Arc::new(issuer);
    let auditor = issuer.clone();
    let refreshing = Arc::new(AtomicBool::new(false));
    let serve = move || {
        let issued = issuer.issue(Via::Server)?;
        if issued.refresh_due && !refreshing.swap(true, Ordering::SeqCst) {
            let (issuer, refreshing) = (issuer.clone(), refreshing.clone());
            std::thread::spawn(move || {
                let _ = issuer.refresh(Via::Server);
                refreshing.store(false, Ordering::SeqCst);
            });
        }
        Ok(issued.credentials)
    };
    let reporter = auditor.clone();
    let server = match server::Server::start(
        Box::new(serve),
        Box::new(move |report| reporter.record(Via::Server, Outcome::Refused, report)),
    ) {
        Ok(server) => server,
        Err(e) => return Err(not_started(&auditor, session, e)),
    };
    output::verbose(format!("credentials server listening on {}", server.url));
    vars.push((
        "AWS_CONTAINER_CREDENTIALS_FULL_URI".into(),
        server.url.clone(),
    ));
    vars.push((
        "AWS_CONTAINER_AUTHORIZATION_TOKEN".into(),
        server.token.expose_secret().to_string(),
    ));
    let status = process::run_status(&argv, process::environment(vars));
    drop(server);
    ended(&auditor, session, status)
}

/// Records how the program ended (or that it could not start) and returns broker's status.
fn ended(
    issuer: &Issuer,
    session: Session,
    status: std::result::Result<std::process::ExitStatus, process::ProcessError>,
) -> Result<u8> {
    match status {
        Ok(status) => {
            let ending = Ending::of(status);
            issuer.end(session, &ending);
            Ok(ending.exit_status())
        }
        Err(e) => Err(not_started(issuer, session, e.into())),
    }
}

/// Records that the credentials were issued but the program never ran, and returns the error.
fn not_started(issuer: &Issuer, session: Session, error: Error) -> Error {
    issuer.end(
        session,
        &Ending::NotStarted {
            message: error.message().to_string(),
            status: error.exit_code(),
        },
    );
    error
}
