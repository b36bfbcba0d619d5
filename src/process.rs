//! Running other programs: the user's command for `exec` (its environment per SPEC §4, signal
//! forwarding, its exit status reported the way shells do), and the shell that runs the
//! profile's `credential_process` and `mfa_process`.
//!
//! The child's argv is exactly what the user gave; secrets reach it only through its
//! environment, never through argv.

use std::ffi::OsString;
use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::error::{Error, Result};
use crate::exit_codes;

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

/// The child's environment: the inherited one without AWS credential and profile variables
/// (and `AWS_CONTAINER_*`), plus `set`.
pub fn environment(set: Vec<(String, String)>) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(k, _)| {
            let k = k.to_string_lossy();
            !REMOVED.contains(&k.as_ref()) && !k.starts_with("AWS_CONTAINER_")
        })
        .filter(|(k, _)| !set.iter().any(|(s, _)| k == s.as_str()))
        .collect();
    env.extend(set.into_iter().map(|(k, v)| (k.into(), v.into())));
    env
}

/// `sh -c COMMAND` (or `cmd /C` on Windows), as the AWS CLI runs `credential_process`.
pub fn shell(command: &str) -> Command {
    if cfg!(windows) {
        let mut cmd = Command::new("cmd");
        cmd.args(["/C", command]);
        cmd
    } else {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", command]);
        cmd
    }
}

/// The command to run: the one given, else `$SHELL`, else `/bin/sh`.
pub fn command_line(given: Vec<OsString>) -> Vec<OsString> {
    if given.is_empty() {
        vec![std::env::var_os("SHELL")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "/bin/sh".into())]
    } else {
        given
    }
}

/// Runs `argv` with exactly `env`, forwarding SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to
/// broker, and returns the exit status to report: the child's, or 128+N for signal N.
pub fn run(argv: &[OsString], env: Vec<(OsString, OsString)>) -> Result<u8> {
    let (program, args) = argv.split_first().expect("a command line is never empty");
    let mut command = Command::new(program);
    command.args(args).env_clear().envs(env);
    let shown = crate::error::escape_control(&program.to_string_lossy());
    let guard = signals::Forwarding::prepare();
    let mut child = command.spawn().map_err(|e| {
        let code = if e.kind() == std::io::ErrorKind::NotFound {
            exit_codes::COMMAND_NOT_FOUND
        } else {
            exit_codes::CANNOT_EXECUTE
        };
        Error::new(format!("cannot run {shown}: {e}")).with_exit_code(code)
    })?;
    guard.forward_to(child.id() as i32);
    let status = child
        .wait()
        .map_err(|e| Error::new(format!("waiting for {shown} failed: {e}")))?;
    drop(guard);
    Ok(exit_status(status))
}

/// The status a shell would report.
pub fn exit_status(status: std::process::ExitStatus) -> u8 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return exit_codes::for_signal(signal);
        }
    }
    status
        .code()
        .map(|c| (c & 0xff) as u8)
        .unwrap_or(exit_codes::FAILURE)
}

static CHILD: AtomicI32 = AtomicI32::new(0);

#[cfg(unix)]
mod signals {
    use std::sync::atomic::AtomicI32;

    use super::{Ordering, CHILD};

    const FORWARDED: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

    /// A signal that arrived before the child existed, to pass on once it does.
    static PENDING: AtomicI32 = AtomicI32::new(0);

    /// Installs the forwarding handlers before the child is spawned (the child gets default
    /// dispositions back at exec), so no signal sent to broker in between is lost.
    pub struct Forwarding;

    impl Forwarding {
        pub fn prepare() -> Forwarding {
            PENDING.store(0, Ordering::SeqCst);
            // SAFETY: installs an async-signal-safe handler (atomics and kill only).
            unsafe {
                for s in FORWARDED {
                    let mut action: libc::sigaction = std::mem::zeroed();
                    action.sa_sigaction = handler as *const () as usize;
                    action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
                    libc::sigemptyset(&mut action.sa_mask);
                    libc::sigaction(s, &action, std::ptr::null_mut());
                }
            }
            Forwarding
        }

        pub fn forward_to(&self, pid: i32) {
            CHILD.store(pid, Ordering::SeqCst);
            let pending = PENDING.swap(0, Ordering::SeqCst);
            if pending != 0 {
                // SAFETY: sends a signal to our own child.
                unsafe {
                    libc::kill(pid, pending);
                }
            }
        }
    }

    impl Drop for Forwarding {
        fn drop(&mut self) {
            // The child is gone (or never started): forward nothing to a recycled pid.
            CHILD.store(0, Ordering::SeqCst);
        }
    }

    /// Forwards a signal that another process sent to broker. A signal from the terminal
    /// (Ctrl-C, Ctrl-\, hang-up) already reached the child through its process group, so
    /// forwarding it again would deliver it twice.
    extern "C" fn handler(signal: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo with SA_SIGINFO.
        if unsafe { (*info).si_code } == libc::SI_KERNEL {
            return;
        }
        let pid = CHILD.load(Ordering::SeqCst);
        if pid > 0 {
            // SAFETY: kill is async-signal-safe.
            unsafe {
                libc::kill(pid, signal);
            }
        } else {
            PENDING.store(signal, Ordering::SeqCst);
        }
    }
}

#[cfg(not(unix))]
mod signals {
    pub struct Forwarding;

    impl Forwarding {
        pub fn prepare() -> Forwarding {
            Forwarding
        }

        pub fn forward_to(&self, pid: i32) {
            super::CHILD.store(pid, super::Ordering::SeqCst);
        }
    }
}
