//! Running other programs: the user's command for `exec` (its environment per the README,
//! signal forwarding, its exit status reported the way shells do), and the shell that runs the
//! profile's `credential_process` and `mfa_process` and the vault's `passphrase_command`.
//!
//! Every child starts from [`command`]: the caller's environment without broker's own secrets
//! (the file vault's passphrase), and the caller's umask instead of broker's private one. The
//! child's argv is exactly what the user gave; secrets reach it only through its environment,
//! never through argv.

use std::ffi::{OsStr, OsString};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use chrono::Utc;
use secrecy::SecretString;
use serde::Deserialize;

use crate::credentials::Credentials;
use crate::environment::Environment;
use crate::exit_codes;

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
    CredentialProcess { profile: String, why: String },
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

/// The umask broker was started with, before it made its own private (`u32::MAX`: not known).
static CALLER_UMASK: AtomicU32 = AtomicU32::new(u32::MAX);

/// Makes files and directories broker creates private to the user from their first byte, and
/// remembers the caller's umask for the children.
pub fn restrict_umask() {
    #[cfg(unix)]
    {
        // SAFETY: umask only changes this process's file creation mask; it cannot fail.
        let caller = unsafe { libc::umask(0o077) };
        CALLER_UMASK.store(caller as u32, Ordering::Relaxed);
    }
}

/// Keeps the keys in broker's memory out of core files and away from debuggers of the same
/// user: no core dumps, and on Linux not dumpable (no ptrace attach, `/proc/PID/mem` and
/// `/proc/PID/environ` closed to the user's other processes). Matters most for the long-lived
/// `exec --server`. Children get dumpable back at exec and the caller's core size from
/// [`command`].
pub fn protect_memory() {
    #[cfg(unix)]
    // SAFETY: getrlimit, setrlimit and prctl only read or change this process's own limits and
    // flags, through valid pointers.
    unsafe {
        let mut core: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_CORE, &mut core) == 0 {
            CALLER_CORE_LIMIT.store(core.rlim_cur as u64, Ordering::Relaxed);
            core.rlim_cur = 0;
            libc::setrlimit(libc::RLIMIT_CORE, &core);
        }
        #[cfg(target_os = "linux")]
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

/// The soft core-size limit broker was started with (`u64::MAX`: not changed).
static CALLER_CORE_LIMIT: AtomicU64 = AtomicU64::new(u64::MAX);

/// A child process of broker's: the caller's environment without broker's secrets, and the
/// caller's umask back.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear().envs(inherited().cloned());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let umask = CALLER_UMASK.load(Ordering::Relaxed);
        let core = CALLER_CORE_LIMIT.load(Ordering::Relaxed);
        // SAFETY: umask, getrlimit and setrlimit are async-signal-safe and touch only the child.
        unsafe {
            cmd.pre_exec(move || {
                if umask != u32::MAX {
                    libc::umask(umask as libc::mode_t);
                }
                if core != u64::MAX {
                    let mut limit: libc::rlimit = std::mem::zeroed();
                    if libc::getrlimit(libc::RLIMIT_CORE, &mut limit) == 0 {
                        limit.rlim_cur = core as libc::rlim_t;
                        libc::setrlimit(libc::RLIMIT_CORE, &limit);
                    }
                }
                Ok(())
            });
        }
    }
    cmd
}

/// The `exec` child's environment: the inherited one without AWS credential and profile
/// variables (and `AWS_CONTAINER_*`), plus `set`.
pub fn environment(set: Vec<(String, String)>) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = inherited()
        .filter(|(k, _)| {
            let k = k.to_string_lossy();
            !REMOVED.contains(&k.as_ref()) && !k.starts_with("AWS_CONTAINER_")
        })
        .filter(|(k, _)| !set.iter().any(|(s, _)| k == s.as_str()))
        .cloned()
        .collect();
    env.extend(set.into_iter().map(|(k, v)| (k.into(), v.into())));
    env
}

/// `sh -c COMMAND` (or `cmd /C` on Windows), as the AWS CLI runs `credential_process`.
pub fn shell(command: &str) -> Command {
    if cfg!(windows) {
        let mut cmd = self::command("cmd");
        cmd.args(["/C", command]);
        cmd
    } else {
        let mut cmd = self::command("sh");
        cmd.args(["-c", command]);
        cmd
    }
}

/// Runs `command` through the shell with no stdin and broker's stderr, and returns its stdout
/// without trailing line breaks, in zeroing memory; after `timeout` it is stopped together with
/// everything it started. For `mfa_process` and `passphrase_command`; the error says why.
pub fn secret_output(command: &str, timeout: Duration) -> Result<SecretString, String> {
    use std::io::Read;
    let mut command = shell(command);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // Its own process group, so a timeout stops everything it started, not just the shell.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start it: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut text = zeroize::Zeroizing::new(Vec::new());
        let _ = stdout.by_ref().take(64 << 10).read_to_end(&mut text);
        text
    });
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > timeout {
            kill_group(&mut child);
            return Err(format!(
                "it did not finish within {}",
                crate::duration::format(timeout)
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let bytes = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("it exited with {status}"));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| "its output is not text".to_string())?;
    Ok(SecretString::from(text.trim_end_matches(['\r', '\n'])))
}

/// Stops a child started in its own process group, and everything it started.
pub(crate) fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    // SAFETY: signals the process group this child leads (created with process_group(0)).
    unsafe {
        libc::kill(-(child.id() as i32), libc::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The command to run: the one given, else the user's shell (`$SHELL`, `%COMSPEC%`), else
/// `/bin/sh`.
pub fn command_line(given: Vec<OsString>, shell: Option<&OsStr>) -> Vec<OsString> {
    if given.is_empty() {
        vec![shell
            .map(OsStr::to_owned)
            .unwrap_or_else(|| "/bin/sh".into())]
    } else {
        given
    }
}

/// Runs `argv` with exactly `env`, forwarding SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to
/// broker, and returns the exit status to report: the child's, or 128+N for signal N.
pub fn run(argv: &[OsString], env: Vec<(OsString, OsString)>) -> Result<u8, ProcessError> {
    run_status(argv, env).map(exit_status)
}

/// [`run`], returning the child's status as it is (for the audit log's `ended` record).
pub fn run_status(
    argv: &[OsString],
    env: Vec<(OsString, OsString)>,
) -> Result<std::process::ExitStatus, ProcessError> {
    let (program, args) = argv.split_first().expect("a command line is never empty");
    let mut command = command(program);
    command.args(args).env_clear().envs(env);
    let shown = program.to_string_lossy().into_owned();
    let guard = signals::Forwarding::prepare();
    let mut child = command.spawn().map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ProcessError::NotFound {
                program: shown.clone(),
                source,
            }
        } else {
            ProcessError::CannotRun {
                program: shown.clone(),
                source,
            }
        }
    })?;
    guard.forward_to(child.id() as i32);
    let status = child.wait().map_err(|source| ProcessError::Wait {
        program: shown,
        source,
    })?;
    drop(guard);
    Ok(status)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessOutput {
    version: u32,
    access_key_id: String,
    secret_access_key: SecretString,
    session_token: Option<SecretString>,
    expiration: Option<chrono::DateTime<Utc>>,
}

/// Runs a profile's `credential_process` and reads its JSON, as the AWS CLI does; refuses
/// credentials that have expired already.
pub fn credential_process(profile: &str, command: &str) -> Result<Credentials, ProcessError> {
    let fail = |why: String| ProcessError::CredentialProcess {
        profile: profile.to_string(),
        why,
    };
    crate::output::verbose(format!("running the credential_process of {profile}"));
    let out = shell(command)
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| fail(format!("cannot start it: {e}")))?;
    let stdout = zeroize::Zeroizing::new(out.stdout);
    if !out.status.success() {
        return Err(fail(format!("it exited with {}", out.status)));
    }
    let parsed: ProcessOutput = serde_json::from_slice(&stdout).map_err(|e| {
        fail(format!(
            "its output is not credential_process JSON ({})",
            json_problem(&e)
        ))
    })?;
    if parsed.version != 1 {
        return Err(fail(format!("unsupported Version {}", parsed.version)));
    }
    if let Some(expiration) = parsed.expiration.filter(|e| *e <= Utc::now()) {
        return Err(fail(format!(
            "it returned credentials that expired at {}",
            expiration.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )));
    }
    Ok(Credentials {
        access_key_id: parsed.access_key_id,
        secret_access_key: parsed.secret_access_key,
        session_token: parsed.session_token,
        expiration: parsed.expiration,
    })
}

fn json_problem(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "missing or wrong fields",
        serde_json::error::Category::Eof => "truncated",
    }
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
