//! `broker exec`: runs a command with credentials, in its environment or from a local server.

use std::ffi::{OsStr, OsString};
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
/// AWS_REGION, AWS_DEFAULT_REGION and BROKER_REGION, and BROKER_PROFILE=PROFILE and
/// AWS_VAULT=PROFILE (for shell prompts that show aws-vault's profile). Inherited AWS credential
/// and profile variables are removed first. Running `broker exec` inside a broker shell switches
/// role: the new credentials come from the vault, never from the inherited variables, and the
/// region from the new profile unless you changed AWS_REGION or AWS_DEFAULT_REGION yourself
/// (BROKER_REGION tells broker's own values from yours).
///
/// The first word after PROFILE starts the command, and every word after it goes to the
/// command as it is, flags included; `--` before the command is allowed too. broker exits with
/// the command's status (128+N if a signal N killed it); SIGINT, SIGTERM, SIGHUP and SIGQUIT
/// sent to broker are passed on to the command. When the command ends, the audit log gets an
/// `ended` record with its exit status and how long it ran.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  broker exec prod-admin aws s3 ls              # the command's flags stay its own
  broker exec --server prod-admin terraform apply
  broker exec prod-admin                        # a shell with the role's credentials")]
pub struct Args {
    /// Serve credentials from a local endpoint that refreshes them (the ECS container
    /// credentials protocol) instead of putting keys in the environment; for long jobs
    #[arg(long)]
    server: bool,

    #[command(flatten)]
    credentials: CredentialArgs,

    /// The command to run and its arguments, from the first word after PROFILE (or after
    /// `--`) [default: $SHELL]
    #[arg(trailing_var_arg = true, value_name = "CMD")]
    command: Vec<OsString>,
}

impl Args {
    /// `broker exec -- CMD ARGS…` runs CMD with the default profile. clap takes CMD for the
    /// profile there, as `--` only ends broker's options; so when the words after the first
    /// `--` are exactly the profile and the command, the `--` came first and CMD is no profile.
    pub fn dashes_before_command(&mut self, argv: &[OsString]) {
        let Some(profile) = self.credentials.profile.clone() else {
            return;
        };
        let Some(exec) = argv.iter().position(|a| a == "exec") else {
            return;
        };
        let Some(dashes) = argv[exec + 1..].iter().position(|a| a == "--") else {
            return;
        };
        let after = &argv[exec + 1 + dashes + 1..];
        if after.first().map(OsString::as_os_str) == Some(OsStr::new(&profile))
            && after[1..] == self.command[..]
        {
            self.credentials.profile = None;
            self.command.insert(0, profile.into());
        }
    }
}

pub fn run(args: Args, ctx: &Context) -> Result<u8> {
    let via = if args.server { Via::Server } else { Via::Exec };
    let issuer = args.credentials.issuer(ctx, via)?;
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
    let default_command = args.command.is_empty();
    let argv = process::command_line(args.command, ctx.env.shell.as_deref());
    if let (true, Some(posix)) = (default_command, &ctx.env.ignored_shell) {
        output::verbose(format!(
            "SHELL is {}, a POSIX path that Windows cannot start: running {} (COMSPEC) instead",
            crate::sanitize::escape(&posix.to_string_lossy()),
            crate::sanitize::escape(&argv[0].to_string_lossy())
        ));
    }
    let mut vars = profile_vars(chain);
    let (issued, session) = issuer.start(via)?;
    // The child owns the terminal from here: the server's refreshes wait without a spinner.
    crate::spinner::forbid();
    if !args.server {
        vars.extend(
            format::variables(&issued.credentials, None)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v)),
        );
        drop(issued);
        let status = process::run_status(&argv, process::environment(vars), true);
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
    serve(issuer, session, &argv, vars)
}

/// What the child is told besides its credentials: the region and the profile.
fn profile_vars(chain: &crate::chain::Chain) -> Vec<(String, String)> {
    vec![
        ("AWS_REGION".to_string(), chain.region.clone()),
        ("AWS_DEFAULT_REGION".to_string(), chain.region.clone()),
        // Tells a `broker exec` inside that these two region variables are broker's own.
        (REGION_MARKER.to_string(), chain.region.clone()),
        ("BROKER_PROFILE".to_string(), chain.profile.clone()),
        // What shell prompts (starship, powerlevel10k, oh-my-zsh) show for aws-vault, and what
        // aws-vault's own nesting guard looks for.
        ("AWS_VAULT".to_string(), chain.profile.clone()),
    ]
}

/// Runs the child with a credentials server instead of credentials, for as long as it lives.
fn serve(
    issuer: Issuer,
    session: Session,
    argv: &[OsString],
    mut vars: Vec<(String, String)>,
) -> Result<u8> {
    // Later requests go through the cache (the issuer keeps --refresh and a --mfa-token code
    // for the first only). Credentials in their advisory window are served at once and
    // refreshed in the background, one refresh at a time, so a child never waits on STS while
    // valid credentials are at hand.
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
    let status = process::run_status(argv, process::environment(vars), false);
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
            crate::timing::phase("child");
            let ending = Ending::of(status);
            issuer.end(session, &ending);
            crate::timing::phase("ended");
            crate::exit_codes::of_child(ending.status())
                .or_else(|whole| crate::exit_codes::exit_whole(whole))
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

#[cfg(test)]
mod tests {
    /// `(profile, command)` of `broker ARGS`.
    fn exec(args: &str) -> (Option<String>, Vec<String>) {
        let argv = std::iter::once("broker")
            .chain(args.split(' '))
            .map(std::ffi::OsString::from)
            .collect();
        match crate::cli::parse(argv).unwrap().command {
            crate::commands::Command::Exec(args) => (
                args.credentials.profile,
                args.command
                    .into_iter()
                    .map(|w| w.into_string().unwrap())
                    .collect(),
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_first_word_after_the_profile_starts_the_command() {
        let p = |s: &str| Some(s.to_string());
        let words = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            exec("exec prod aws s3 ls --recursive"),
            (p("prod"), words("aws s3 ls --recursive"))
        );
        assert_eq!(exec("exec prod -- aws -x"), (p("prod"), words("aws -x")));
        assert_eq!(
            exec("exec -- aws -x"),
            (None, words("aws -x")),
            "the default profile"
        );
        assert_eq!(
            exec("exec --server prod cmd --server"),
            (p("prod"), words("cmd --server"))
        );
        assert_eq!(exec("exec prod --server cmd"), (p("prod"), words("cmd")));
        assert_eq!(exec("exec prod cmd -- x"), (p("prod"), words("cmd -- x")));
        assert_eq!(exec("exec prod -- prod"), (p("prod"), words("prod")));
        assert_eq!(exec("exec --reason x -- prod"), (None, words("prod")));
        assert_eq!(exec("--config exec exec -- x"), (None, words("x")));
        assert_eq!(exec("exec prod"), (p("prod"), vec![]));
        assert_eq!(exec("exec"), (None, vec![]));
    }
}
