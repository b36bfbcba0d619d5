//! Running other programs. Every child starts from [`command`]: the caller's environment
//! without broker's own secrets (the file vault's passphrase), and the caller's umask and core
//! limit instead of broker's private ones. The child's argv is exactly what the user gave;
//! secrets reach it only through its environment, never through argv.
//!
//! The jobs, one file each: [`hardening`] (broker's own umask and memory), [`run`] (the user's
//! command for `exec`, its exit status reported the way shells do), [`signals`] (what reaches
//! that command while it runs), [`helper`] (the profile's `credential_process` and
//! `mfa_process`, the vault's `passphrase_command` and a policy's `approve_command`, each
//! bounded the same way: 64 KiB of output, a timeout, then its whole process group stopped), [`group`] (that process group),
//! [`argv`] (wiping `-t CODE` from broker's own command line, where the system lets it).
//! Never waits on a helper without a bound.

mod argv;
pub(crate) mod group;
mod hardening;
mod helper;
mod run;
mod signals;

use std::ffi::{OsStr, OsString};
use std::process::Command;
use std::sync::OnceLock;

use crate::environment::{same_name, Environment};

pub use argv::hide_argument;
pub use hardening::{keep_std_handles, protect_memory, restrict_umask};
pub use helper::{
    bounded, credential_process, run_bounded, secret_output, wait_or_stop, HelperError,
    DEFAULT_CREDENTIAL_PROCESS_TIMEOUT,
};
pub use run::{command_line, run_status};

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot run {program}: {source}")]
    NotFound {
        program: String,
        source: std::io::Error,
    },
    #[error("cannot run {program}: {source}")]
    CannotRun {
        program: String,
        source: std::io::Error,
    },
    #[error("waiting for {program} failed: {source}")]
    Wait {
        program: String,
        source: std::io::Error,
    },
    #[error("credential_process of profile {profile} failed: {why}")]
    CredentialProcess {
        profile: String,
        #[source]
        why: HelperError,
    },
}

/// Inherited variables that would let a child see credentials other than the ones given.
const REMOVED: [&str; 9] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CREDENTIAL_FILE",
    "AWS_SDK_LOAD_CONFIG",
];

/// Prefixes of inherited variables that point a child at another credentials endpoint (a
/// parent `exec --server`'s or `--ec2-server`'s): a nested `exec` never talks to its parent's.
const REMOVED_PREFIXES: [&str; 2] = ["AWS_CONTAINER_", "AWS_EC2_METADATA_"];

/// What every child's environment starts from: the caller's, without broker's secrets. Set
/// once at start from the [`Environment`]; empty until then.
static INHERITED: OnceLock<Vec<(OsString, OsString)>> = OnceLock::new();

/// Remembers what children inherit: the caller's environment (without broker's secrets).
pub fn init(env: &Environment) {
    let _ = INHERITED.set(env.inherited().to_vec());
}

fn inherited() -> impl Iterator<Item = &'static (OsString, OsString)> {
    INHERITED.get().into_iter().flatten()
}

/// A child process of broker's: the caller's environment without broker's secrets, and the
/// caller's umask and core-size limit back.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear().envs(inherited().cloned());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let (umask, core) = hardening::caller_limits();
        // SAFETY: set_umask_and_core makes only async-signal-safe calls.
        unsafe {
            cmd.pre_exec(move || {
                hardening::set_umask_and_core(umask, core);
                Ok(())
            });
        }
    }
    cmd
}

/// The `exec` child's environment: the inherited one without AWS credential and profile
/// variables (and `AWS_CONTAINER_*`, `AWS_EC2_METADATA_*`), plus `set`.
pub fn environment(set: Vec<(String, String)>) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = inherited()
        .filter(|(k, _)| {
            !REMOVED.iter().any(|r| same_name(k, r))
                && !REMOVED_PREFIXES.iter().any(|p| has_prefix(k, p))
        })
        .filter(|(k, _)| !set.iter().any(|(s, _)| same_name(k, s)))
        .cloned()
        .collect();
    env.extend(set.into_iter().map(|(k, v)| (k.into(), v.into())));
    env
}

fn has_prefix(name: &OsStr, prefix: &str) -> bool {
    let name = name.to_string_lossy();
    name.get(..prefix.len())
        .is_some_and(|start| same_name(OsStr::new(start), prefix))
}

/// The shell that runs a profile's `credential_process` and `mfa_process`: `sh -c COMMAND`, or
/// on Windows `cmd.exe /D /S /C "COMMAND"` with COMMAND passed as written (Rust's argument
/// quoting is for programs that parse their command line as the C runtime does; cmd does not).
pub fn shell(command: &str) -> Command {
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        let mut cmd = self::command("cmd.exe");
        // /D: no AutoRun commands from the registry. /S: cmd strips exactly the outer quotes
        // and runs the rest as typed.
        cmd.args(["/D", "/S", "/C"])
            .raw_arg(format!("\"{command}\""));
        cmd
    }
    #[cfg(not(windows))]
    {
        let mut cmd = self::command("sh");
        cmd.args(["-c", command]);
        cmd
    }
}
