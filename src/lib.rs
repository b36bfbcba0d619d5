//! broker: a command-line AWS credential broker.
//!
//! The binary's `main` calls [`main`]; everything else is here so tests can reach it. The flow is
//! parse ([`cli`]) → resolve ([`context`], [`profiles`], [`settings`]) → act ([`commands`]).

pub mod audit;
pub(crate) mod aws;
pub mod aws_vault;
pub(crate) mod browser;
pub mod cache;
pub mod chain;
pub mod cli;
pub mod clock;
pub(crate) mod commands;
pub(crate) mod context;
pub mod credentials;
pub mod credentials_file;
pub mod duration;
pub mod endpoint;
pub mod engine;
pub mod environment;
pub mod error;
pub(crate) mod exit_codes;
pub(crate) mod federation;
pub mod format;
pub(crate) mod fsutil;
pub(crate) mod hints;
pub(crate) mod iam;
pub(crate) mod imds;
pub(crate) mod issue;
pub(crate) mod listener;
pub(crate) mod mfa;
pub mod net;
pub(crate) mod output;
pub(crate) mod picker;
pub mod plan;
pub mod policy;
pub(crate) mod process;
pub mod profiles;
mod ready;
pub(crate) mod rotation;
pub mod sanitize;
pub(crate) mod server;
pub mod settings;
pub(crate) mod spinner;
pub(crate) mod sso;
pub(crate) mod sts;
pub(crate) mod timing;
pub(crate) mod tty;
pub(crate) mod vault;

use std::process::ExitCode;

/// Parses the command line, runs the command, prints any error, and returns the exit status.
pub fn main() -> ExitCode {
    let began = std::time::Instant::now();
    process::restrict_umask();
    process::protect_memory();
    process::keep_std_handles();
    let env = environment::Environment::from_process();
    timing::start(began, env.broker.trace_timing);
    #[cfg(feature = "test-hooks")]
    {
        clock::install_test_clock(env.test_clock().map(Into::into));
        vault::install_test_work_factor(env.test_scrypt_work_factor());
    }
    if env.completion_request {
        commands::completions::answer(<cli::Cli as clap::CommandFactory>::command, env);
        return ExitCode::from(exit_codes::SUCCESS);
    }
    output::init_color(env.color);
    timing::phase("environment");
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let for_shell = for_shell_function(&args);
    let cli = match cli::parse(args) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() && !for_shell => {
            // --help and --version
            let _ = e.print();
            return ExitCode::from(exit_codes::SUCCESS);
        }
        Err(e)
            if !e.use_stderr()
                || e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            // A group command alone (`broker`, `broker sso`): what it holds, as its help
            // says; asking is no misuse. Help asked through the shell function goes to
            // stderr: the shell evaluates its stdout.
            let text = e.render().to_string();
            if for_shell {
                let _ = std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes());
            } else {
                let _ = output::stdout(text.as_bytes());
            }
            return ExitCode::from(exit_codes::SUCCESS);
        }
        Err(e) => {
            output::error(&usage_error(&e), false);
            return ExitCode::from(exit_codes::USAGE);
        }
    };
    timing::phase("parse");
    let verbose = cli.global.verbose;
    output::VERBOSE.store(verbose, std::sync::atomic::Ordering::Relaxed);
    let options = context::GlobalOptions {
        backend: cli.global.backend,
        config: cli.global.config,
        prompt: cli.global.prompt,
        keychain: cli.global.keychain,
    };
    process::init(&env);
    let code = match commands::run(cli.command, options, env) {
        Ok(code) => code,
        Err(e) => {
            output::error(&e, verbose > 0);
            e.exit_code()
        }
    };
    timing::total();
    ExitCode::from(code)
}

/// Whether broker runs for `broker shell-init`'s function (`use --shell-code`), which has the
/// shell evaluate its stdout: only shell code may go there.
fn for_shell_function(args: &[std::ffi::OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .filter_map(|a| a.to_str())
        .any(|a| a == "--shell-code" || a.starts_with("--shell-code="))
}

/// A clap error as broker's one-line error, with clap's own tip as the hint.
fn usage_error(e: &clap::Error) -> error::Error {
    if let Some(message) = duration_error(e) {
        return error::Error::usage(message);
    }
    if let Some(error) = aws_vault_flag_error(e) {
        return error;
    }
    let text = e.to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("invalid command line");
    let message = first.strip_prefix("error: ").unwrap_or(first);
    let hint = lines
        .find(|l| l.starts_with("tip:") || l.starts_with("For more information"))
        .map(|l| l.trim_start_matches("tip: ").to_string())
        .unwrap_or_else(|| "see `broker --help`".into());
    error::Error::usage(message).with_hint(hint)
}

/// An aws-vault flag where broker takes none, or clap's suggestion of one of aws-vault's hidden
/// aliases: worded with broker's form of it, so that no other broker flag is proposed for it.
fn aws_vault_flag_error(e: &clap::Error) -> Option<error::Error> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let context = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let forms = |arg: &str| {
        aws_vault::flags_spelled(arg)
            .iter()
            .map(|f| {
                let command = match f.command {
                    "" => String::new(),
                    c => format!("{c} "),
                };
                format!("`aws-vault {command}{arg}` is `{}`", f.broker)
            })
            .collect::<Vec<_>>()
    };
    let hint = "`broker help aws-vault` lists aws-vault's flags with broker's form of each";
    let arg = context(ContextKind::InvalidArg)?;
    let arg = arg.split('=').next().unwrap_or_default().to_string();
    let own = forms(&arg);
    if !own.is_empty() {
        return Some(
            error::Error::usage(format!(
                "unexpected argument '{arg}' here: {}",
                own.join("; ")
            ))
            .with_hint(hint),
        );
    }
    let suggested = context(ContextKind::SuggestedArg)?;
    let theirs = forms(&suggested);
    if theirs.is_empty() || shown_anywhere(&suggested) {
        return None;
    }
    Some(
        error::Error::usage(format!("unexpected argument '{arg}' found")).with_hint(format!(
            "did you mean aws-vault's flag? {}",
            theirs.join("; ")
        )),
    )
}

/// Whether `flag` (`--json`) is a visible flag of some command: then it is broker's own too,
/// and clap's suggestion of it stands.
fn shown_anywhere(flag: &str) -> bool {
    let Some(long) = flag.strip_prefix("--") else {
        return false;
    };
    let cli = <cli::Cli as clap::CommandFactory>::command();
    let mut commands = vec![&cli];
    let mut shown = false;
    while let Some(command) = commands.pop() {
        commands.extend(command.get_subcommands());
        shown |= command
            .get_arguments()
            .any(|a| a.get_long() == Some(long) && !a.is_hide_set());
    }
    shown
}

/// A refused duration flag in the one wording of [`duration::DurationError`], naming the flag,
/// instead of clap's "invalid value … for …" around it.
fn duration_error(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::ValueValidation {
        return None;
    }
    let context = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let flag = context(ContextKind::InvalidArg)?;
    let flag = flag
        .split([' ', '='])
        .next()
        .unwrap_or_default()
        .to_string();
    let source = std::error::Error::source(e)?;
    if let Some(d) = source.downcast_ref::<duration::DurationError>() {
        return Some(d.clone().at(flag).to_string());
    }
    // A parser that returned the error as text (`history --since`).
    let text = source.to_string();
    let value = context(ContextKind::InvalidValue)?;
    let head = format!("invalid duration `{}`", value.trim());
    let reason = text.strip_prefix(&head)?;
    Some(format!("{head} for {flag}{reason}"))
}
