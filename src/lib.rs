//! broker: a command-line AWS credential broker.
//!
//! The binary's `main` calls [`main`]; everything else is here so tests can reach it. The flow is
//! parse ([`cli`]) → resolve ([`context`], [`profiles`], [`settings`]) → act ([`commands`]).

pub mod audit;
pub mod cache;
pub mod chain;
pub mod cli;
pub mod commands;
pub mod context;
pub mod credentials;
pub mod duration;
pub mod engine;
pub mod error;
pub mod exit_codes;
pub mod federation;
pub mod format;
pub mod fsutil;
pub mod iam;
pub mod mfa;
pub mod output;
pub mod policy;
pub mod process;
pub mod profiles;
pub mod server;
pub mod settings;
pub mod sts;
pub mod tty;
pub mod vault;

use std::process::ExitCode;

use clap::Parser;

/// Parses the command line, runs the command, prints any error, and returns the exit status.
pub fn main() -> ExitCode {
    restrict_umask();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit_codes::USAGE
            } else {
                exit_codes::SUCCESS
            });
        }
    };
    output::VERBOSE.store(cli.verbose, std::sync::atomic::Ordering::Relaxed);
    let options = context::GlobalOptions {
        backend: cli.backend,
        config: cli.config,
    };
    match commands::run(cli.command, || context::Context::resolve(options)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Files and directories broker creates are private to the user from their first byte.
fn restrict_umask() {
    #[cfg(unix)]
    // SAFETY: umask only changes this process's file creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}
