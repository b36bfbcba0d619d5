//! The helper programs broker runs for a secret, for credentials or for an answer — a
//! profile's `credential_process` and `mfa_process`, the file vault's `passphrase_command`
//! (through the shell), a policy rule's `approve_command` (as an argv) — each bounded the same
//! way: its output to [`OUTPUT_CAP`], its time to a timeout, after which it is stopped with
//! everything it started ([`super::group`]). Their output is held in zeroing memory.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use secrecy::SecretString;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::{group, shell, ProcessError};
use crate::credentials::Credentials;

/// How long a `credential_process` may run unless `[credential_process] timeout` says.
pub const DEFAULT_CREDENTIAL_PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

/// The most a helper program (`mfa_process`, `passphrase_command`, `credential_process`,
/// `approve_command`) may print on each output: more is an error, and the program is stopped.
pub const OUTPUT_CAP: usize = 64 << 10;

/// How a helper program failed.
#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    #[error("cannot start it: {0}")]
    Start(#[source] std::io::Error),
    #[error("it printed more than {} KiB and was stopped", OUTPUT_CAP >> 10)]
    TooMuch,
    #[error("it did not finish within {}", crate::duration::format(*.0))]
    Timeout(Duration),
    #[error(
        "it did not finish within {}: something it started kept its output open",
        crate::duration::format(*.0)
    )]
    KeptOpen(Duration),
    #[error("waiting for it failed: {0}")]
    Wait(#[source] std::io::Error),
    #[error("cannot read its output: {0}")]
    Read(#[source] std::io::Error),
    #[error("it exited with {0}")]
    Exited(std::process::ExitStatus),
    #[error("its output is not text")]
    NotText,
    #[error("its output is not credential_process JSON ({})", json_problem(.0))]
    NotJson(#[source] serde_json::Error),
    #[error("unsupported Version {0}")]
    Version(u32),
    #[error(
        "it returned credentials that expired at {}",
        .0.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )]
    Expired(chrono::DateTime<Utc>),
}

/// Runs `command` through the shell with no stdin and broker's stderr, and returns its stdout
/// without trailing line breaks, in zeroing memory; bounded as [`captured`] says. For
/// `mfa_process` and `passphrase_command`; the error says why.
pub fn secret_output(command: &str, timeout: Duration) -> Result<SecretString, HelperError> {
    let bytes = captured(command, Stdio::null(), timeout)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| HelperError::NotText)?;
    Ok(SecretString::from(text.trim_end_matches(['\r', '\n'])))
}

/// Runs `command` through the shell with `stdin` and broker's stderr, and returns its stdout in
/// zeroing memory; bounded as [`bounded`] says, and an error unless it exits with status 0.
fn captured(
    command: &str,
    stdin: Stdio,
    timeout: Duration,
) -> Result<Zeroizing<Vec<u8>>, HelperError> {
    let mut command = shell(command);
    command.stdin(stdin);
    succeeded(run(command, None, false, timeout)?)
}

/// Runs a program (argv, no shell) with `input` on its stdin (nothing when `None`) and
/// broker's stderr, and returns its stdout in zeroing memory; bounded as [`bounded`] says, and
/// an error unless it exits with status 0.
pub fn run_bounded(
    mut command: Command,
    input: Option<&[u8]>,
    timeout: Duration,
) -> Result<Zeroizing<Vec<u8>>, HelperError> {
    if input.is_none() {
        command.stdin(Stdio::null());
    }
    succeeded(run(command, input, false, timeout)?)
}

fn succeeded(finished: Finished) -> Result<Zeroizing<Vec<u8>>, HelperError> {
    if !finished.status.success() {
        return Err(HelperError::Exited(finished.status));
    }
    Ok(finished.stdout)
}

/// How a bounded program ended, and what it printed.
pub struct Finished {
    pub status: std::process::ExitStatus,
    pub stdout: Zeroizing<Vec<u8>>,
    pub stderr: Zeroizing<Vec<u8>>,
}

/// Runs `command` (its program, arguments, environment and stdin as set) in a group of its own
/// (see [`group`]), with its stdout and stderr captured (for a rule's `approve_command`).
/// Stopped, with everything it started, once either output passes [`OUTPUT_CAP`] or `timeout`
/// runs out before it has exited and closed its output; the error says which, or how it failed.
pub fn bounded(command: Command, timeout: Duration) -> Result<Finished, HelperError> {
    run(command, None, true, timeout)
}

/// [`bounded`], with `input` written to its stdin (on a thread: a program that does not read
/// must not block broker) and its stderr captured or broker's own.
fn run(
    mut command: Command,
    input: Option<&[u8]>,
    capture_stderr: bool,
    timeout: Duration,
) -> Result<Finished, HelperError> {
    let deadline = Instant::now() + timeout;
    if input.is_some() {
        command.stdin(Stdio::piped());
    }
    command.stdout(Stdio::piped()).stderr(if capture_stderr {
        Stdio::piped()
    } else {
        Stdio::inherit()
    });
    group::prepare(&mut command);
    let mut child = command.spawn().map_err(HelperError::Start)?;
    let group = group::Group::adopt(&child);
    if let (Some(input), Some(mut pipe)) = (input, child.stdin.take()) {
        let input = Zeroizing::new(input.to_vec());
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = pipe.write_all(&input);
        });
    }
    let overflowed = Arc::new(AtomicBool::new(false));
    let stdout = drain(child.stdout.take().expect("piped stdout"), &overflowed);
    let stderr = child.stderr.take().map(|pipe| drain(pipe, &overflowed));
    let waited = wait_or_stop(&mut child, &group, timeout, || {
        overflowed.load(Ordering::SeqCst)
    });
    let status = waited.map_err(HelperError::Wait)?;
    // Its output may still be open in something it started: wait for that within the time.
    let left = || deadline.saturating_duration_since(Instant::now());
    let stdout = stdout.recv_timeout(left());
    let stderr = stderr.map(|output| output.recv_timeout(left()));
    if overflowed.load(Ordering::SeqCst) {
        return Err(HelperError::TooMuch);
    }
    let status = status.ok_or(HelperError::Timeout(timeout))?;
    type Received = Result<std::io::Result<Zeroizing<Vec<u8>>>, RecvTimeoutError>;
    let read = |received: Received| match received {
        Ok(read) => read.map_err(HelperError::Read),
        Err(_) => {
            group.kill();
            Err(HelperError::KeptOpen(timeout))
        }
    };
    Ok(Finished {
        status,
        stdout: read(stdout)?,
        stderr: match stderr {
            Some(received) => read(received)?,
            None => Zeroizing::new(Vec::new()),
        },
    })
}

/// Reads `pipe` to its end on a thread of its own, at most [`OUTPUT_CAP`] bytes: past that,
/// `overflowed` is set and the pipe closed (which tells a writer still going, such as `yes`, to
/// stop).
fn drain(
    mut pipe: impl Read + Send + 'static,
    overflowed: &Arc<AtomicBool>,
) -> Receiver<std::io::Result<Zeroizing<Vec<u8>>>> {
    let (sender, output) = std::sync::mpsc::channel();
    let flag = overflowed.clone();
    std::thread::spawn(move || {
        let mut bytes = Zeroizing::new(Vec::new());
        let read = pipe
            .by_ref()
            .take(OUTPUT_CAP as u64 + 1)
            .read_to_end(&mut bytes);
        drop(pipe);
        if bytes.len() > OUTPUT_CAP {
            flag.store(true, Ordering::SeqCst);
        }
        let _ = sender.send(read.map(|_| bytes));
    });
    output
}

/// Waits for `child`, started in `group`, at most `timeout` and until `give_up` says so: its
/// status, or `None` when it was stopped first, together with everything it started.
pub fn wait_or_stop(
    child: &mut std::process::Child,
    group: &group::Group,
    timeout: Duration,
    give_up: impl Fn() -> bool,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if started.elapsed() >= timeout || give_up() {
            group.kill();
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
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
/// credentials that have expired already. Bounded like every helper: its output to
/// [`OUTPUT_CAP`], its time to `timeout`, after which it is stopped with everything it started.
pub fn credential_process(
    profile: &str,
    command: &str,
    timeout: Duration,
) -> Result<Credentials, ProcessError> {
    let fail = |why: HelperError| ProcessError::CredentialProcess {
        profile: profile.to_string(),
        why,
    };
    crate::output::verbose(format!("running the credential_process of {profile}"));
    let stdout = captured(command, Stdio::inherit(), timeout).map_err(fail)?;
    let parsed: ProcessOutput =
        serde_json::from_slice(&stdout).map_err(|e| fail(HelperError::NotJson(e)))?;
    if parsed.version != 1 {
        return Err(fail(HelperError::Version(parsed.version)));
    }
    if let Some(expiration) = parsed.expiration.filter(|e| *e <= crate::clock::now()) {
        return Err(fail(HelperError::Expired(expiration)));
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
