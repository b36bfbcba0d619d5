//! `broker exec`: runs a command with credentials, in its environment or from a local server.

use std::ffi::{OsStr, OsString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use secrecy::ExposeSecret;

use crate::audit::{Outcome, Via};
use crate::context::Context;
use crate::environment::REGION_MARKER;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::issue::{Ending, Issuer, Session};
use crate::settings::MfaPrompt;
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
  broker exec --ec2-server prod-admin ./tool    # for tools that only know instance roles
  broker exec prod-admin                        # a shell with the role's credentials")]
pub struct Args {
    /// Serve credentials from a local endpoint that refreshes them (the ECS container
    /// credentials protocol) instead of putting keys in the environment; for long jobs
    #[arg(long, short_alias = 's', alias = "ecs-server")]
    server: bool,

    /// Serve credentials as an EC2 instance metadata endpoint (IMDSv2, tokens required) on
    /// 127.0.0.1, for tools that only know instance roles; the command gets
    /// AWS_EC2_METADATA_SERVICE_ENDPOINT
    #[arg(long, conflicts_with = "server")]
    ec2_server: bool,

    /// With --server or --ec2-server: get the credentials at the first request instead of
    /// before the command starts
    #[arg(long)]
    lazy: bool,

    /// aws-vault's `exec --json`: print the credential_process JSON, as `broker export
    /// --format json`
    #[arg(
        long,
        short_alias = 'j',
        hide = true,
        conflicts_with_all = ["server", "ec2_server", "lazy", "command"]
    )]
    json: bool,

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
    if args.json {
        return super::export::print(&args.credentials, Format::Json, ctx);
    }
    let via = match (args.server, args.ec2_server) {
        (true, _) => Via::Server,
        (_, true) => Via::Ec2Server,
        _ if args.lazy => {
            return Err(Error::usage("--lazy needs --server or --ec2-server")
                .with_hint("without a server the credentials are fetched before CMD starts"))
        }
        _ => Via::Exec,
    };
    let issuer = args.credentials.issuer(ctx, via)?;
    let chain = &issuer.chain;
    if via.is_server() && chain.hands_out_long_term_keys() {
        return Err(Error::new(format!(
            "exec --{} cannot serve {}'s long-term keys: the credential server hands out \
             temporary credentials only",
            server_flag(via),
            chain.profile
        ))
        .with_hint("drop --no-session, or use exec without a server"));
    }
    if args.lazy {
        lazy_can_get_a_code(chain, &args.credentials, ctx)?;
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
    if !via.is_server() {
        let (issued, session) = issuer.start(via)?;
        crate::spinner::forbid();
        vars.extend(
            format::variables(&issued.credentials, None)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v)),
        );
        drop(issued);
        let status = process::run_status(&argv, process::environment(vars), true);
        return ended(&issuer, Some(session), status);
    }
    let session = if args.lazy {
        None
    } else {
        let (issued, session) = issuer.start(via)?;
        if let Err(e) = servable(&issued.credentials, chain, via) {
            return Err(not_started(&issuer, Some(session), e));
        }
        Some(session)
    };
    // The child owns the terminal from here: the server's refreshes wait without a spinner.
    crate::spinner::forbid();
    serve(issuer, session, via, args.lazy, &argv, vars)
}

fn server_flag(via: Via) -> &'static str {
    if via == Via::Ec2Server {
        "ec2-server"
    } else {
        "server"
    }
}

/// A server hands out temporary credentials only: with a session token and an expiry.
fn servable(
    credentials: &crate::credentials::Credentials,
    chain: &crate::chain::Chain,
    via: Via,
) -> Result<()> {
    if credentials.is_temporary() {
        return Ok(());
    }
    Err(Error::new(format!(
        "exec --{} cannot serve the credentials of {}: they have no session token or no \
         expiry (a credential_process must print both)",
        server_flag(via),
        chain.profile
    ))
    .with_hint("use exec without a server"))
}

/// `--lazy` gets credentials while CMD owns the terminal: an MFA code cannot be asked there.
fn lazy_can_get_a_code(
    chain: &crate::chain::Chain,
    credentials: &CredentialArgs,
    ctx: &Context,
) -> Result<()> {
    let needs_code = chain.mfa_serial.is_some() && !chain.no_session;
    let asks_terminal = credentials.mfa_token.is_none()
        && chain.mfa_process.is_none()
        && ctx.mfa_prompt == MfaPrompt::Terminal;
    if needs_code && asks_terminal {
        return Err(Error::usage(format!(
            "--lazy cannot ask for {}'s MFA code on the terminal while the command runs",
            chain.profile
        ))
        .with_hint("give the code with -t -, set mfa_process in the profile, or drop --lazy"));
    }
    Ok(())
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

/// Runs the child with a credentials server (the ECS protocol's, or the EC2 metadata's)
/// instead of credentials, for as long as it lives. With `lazy`, the first request issues the
/// credentials and starts the `session` (none before).
fn serve(
    issuer: Issuer,
    session: Option<Session>,
    via: Via,
    lazy: bool,
    argv: &[OsString],
    mut vars: Vec<(String, String)>,
) -> Result<u8> {
    // Later requests go through the cache (the issuer keeps --refresh and a --mfa-token code
    // for the first only). Credentials in their advisory window are served at once and
    // refreshed in the background, one refresh at a time, so a child never waits on STS while
    // valid credentials are at hand.
    let issuer = Arc::new(issuer);
    let auditor = issuer.clone();
    let session = Arc::new(Mutex::new(session));
    let started = session.clone();
    let refreshing = Arc::new(AtomicBool::new(false));
    let serve = move || {
        let mut started = started.lock().unwrap_or_else(|e| e.into_inner());
        if started.is_none() {
            let (issued, session) = issuer.start(via)?;
            *started = Some(session);
            servable(&issued.credentials, &issuer.chain, via)?;
            return Ok(issued.credentials);
        }
        drop(started);
        let issued = issuer.issue(via)?;
        if issued.refresh_due && !refreshing.swap(true, Ordering::SeqCst) {
            let (issuer, refreshing) = (issuer.clone(), refreshing.clone());
            std::thread::spawn(move || {
                let _ = issuer.refresh(via);
                refreshing.store(false, Ordering::SeqCst);
            });
        }
        Ok(issued.credentials)
    };
    let reporter = auditor.clone();
    let refusals = Box::new(move |report: &str| reporter.record(via, Outcome::Refused, report));
    let take = || session.lock().unwrap_or_else(|e| e.into_inner()).take();
    let started = if via == Via::Ec2Server {
        let instance = crate::imds::Instance {
            role: crate::imds::role_name(auditor.chain.role_arn()),
            region: auditor.chain.region.clone(),
            account: crate::issue::configured_account(&auditor.chain),
        };
        start_ec2_server(Box::new(serve), instance, refusals, lazy, &mut vars)
    } else {
        start_ecs_server(Box::new(serve), refusals, &mut vars)
    };
    let server = match started {
        Ok(server) => server,
        Err(e) => return Err(not_started(&auditor, take(), e)),
    };
    let status = process::run_status(argv, process::environment(vars), false);
    drop(server);
    ended(&auditor, take(), status)
}

/// Starts `exec --ec2-server`'s endpoint, and adds the variables that point the child at it.
fn start_ec2_server(
    serve: Box<server::Issue>,
    instance: crate::imds::Instance,
    refusals: Box<crate::listener::Reports>,
    lazy: bool,
    vars: &mut Vec<(String, String)>,
) -> Result<Box<dyn std::any::Any>> {
    let imds = crate::imds::Imds::start(serve, instance, refusals)?;
    if !cfg!(target_os = "linux") {
        output::notice(
            "warning: this system does not tell who connects to a local port: any local \
             user can fetch these credentials from the EC2 metadata endpoint while a token \
             is valid (--server needs a secret token instead)",
        );
    }
    output::verbose(format!("EC2 metadata endpoint listening on {}", imds.url));
    vars.extend([
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT".into(), imds.url.clone()),
        (
            "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE".into(),
            "IPv4".into(),
        ),
        ("AWS_EC2_METADATA_V1_DISABLED".into(), "true".into()),
    ]);
    if lazy {
        // botocore gives instance metadata 1 s and one try: too little for a cold STS call.
        vars.extend([
            ("AWS_METADATA_SERVICE_TIMEOUT".into(), "5".into()),
            ("AWS_METADATA_SERVICE_NUM_ATTEMPTS".into(), "3".into()),
        ]);
    }
    Ok(Box::new(imds))
}

/// Starts `exec --server`'s endpoint (the ECS protocol), and adds the variables that point the
/// child at it.
fn start_ecs_server(
    serve: Box<server::Issue>,
    refusals: Box<crate::listener::Reports>,
    vars: &mut Vec<(String, String)>,
) -> Result<Box<dyn std::any::Any>> {
    let server = server::Server::start(serve, refusals)?;
    output::verbose(format!("credentials server listening on {}", server.url));
    vars.push((
        "AWS_CONTAINER_CREDENTIALS_FULL_URI".into(),
        server.url.clone(),
    ));
    vars.push((
        "AWS_CONTAINER_AUTHORIZATION_TOKEN".into(),
        server.token.expose_secret().to_string(),
    ));
    Ok(Box::new(server))
}

/// Records how the program ended (or that it could not start), when credentials were issued
/// for it, and returns broker's status.
fn ended(
    issuer: &Issuer,
    session: Option<Session>,
    status: std::result::Result<std::process::ExitStatus, process::ProcessError>,
) -> Result<u8> {
    match status {
        Ok(status) => {
            crate::timing::phase("child");
            let ending = Ending::of(status);
            if let Some(session) = session {
                issuer.end(session, &ending);
            }
            crate::timing::phase("ended");
            crate::exit_codes::of_child(ending.status())
                .or_else(|whole| crate::exit_codes::exit_whole(whole))
        }
        Err(e) => Err(not_started(issuer, session, e.into())),
    }
}

/// Records that the credentials were issued but the program never ran, and returns the error.
fn not_started(issuer: &Issuer, session: Option<Session>, error: Error) -> Error {
    if let Some(session) = session {
        issuer.end(
            session,
            &Ending::NotStarted {
                message: error.message().to_string(),
                status: error.exit_code(),
            },
        );
    }
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
