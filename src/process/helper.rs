//! The helper programs broker runs through the shell for a secret or for credentials — a
//! profile's `credential_process` and `mfa_process`, the file vault's `passphrase_command` —
//! each bounded the same way: its output to [`OUTPUT_CAP`], its time to a timeout, after which
//! it is stopped with everything it started ([`super::group`]). Their output is held in
//! zeroing memory.

use std::process::Stdio;
use std::time::Duration;

use chrono::Utc;
use secrecy::SecretString;
use serde::Deserialize;

use super::{group, shell, ProcessError};
use crate::credentials::Credentials;

/// How long a `credential_process` may run unless `[credential_process] timeout` says.
pub const DEFAULT_CREDENTIAL_PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

/// The most a helper program (`mfa_process`, `passphrase_command`, `credential_process`) may
/// print: more is an error, and the program is stopped.
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

/// Runs `command` through the shell, in a group of its own (see [`group`]), with `stdin` and
/// broker's stderr, and returns its stdout in zeroing memory. Stopped, with everything it
/// started, once its output passes [`OUTPUT_CAP`] or `timeout` runs out before it has exited
/// and closed its output; the error says which, or how it failed.
fn captured(
    command: &str,
    stdin: Stdio,
    timeout: Duration,
) -> Result<zeroize::Zeroizing<Vec<u8>>, HelperError> {
    use std::io::Read;
    use std::sync::atomic::{AtomicBool, Ordering};
    let deadline = std::time::Instant::now() + timeout;
    let mut command = shell(command);
    command
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    group::prepare(&mut command);
    let mut child = command.spawn().map_err(HelperError::Start)?;
    let group = group::Group::adopt(&child);
    let mut stdout = child.stdout.take().expect("piped stdout");
    let overflowed = std::sync::Arc::new(AtomicBool::new(false));
    let (sender, output) = std::sync::mpsc::channel();
    let flag = overflowed.clone();
    std::thread::spawn(move || {
        let mut bytes = zeroize::Zeroizing::new(Vec::new());
        let read = stdout
            .by_ref()
            .take(OUTPUT_CAP as u64 + 1)
            .read_to_end(&mut bytes);
        // Dropping the pipe here tells a writer still going (`yes`) to stop.
        drop(stdout);
        if bytes.len() > OUTPUT_CAP {
            flag.store(true, Ordering::SeqCst);
        }
        let _ = sender.send(read.map(|_| bytes));
    });
    let waited = wait_or_stop(&mut child, &group, timeout, || {
        overflowed.load(Ordering::SeqCst)
    });
    let status = waited.map_err(HelperError::Wait)?;
    // Its output may still be open in something it started: wait for that within the time.
    let bytes = output.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()));
    if overflowed.load(Ordering::SeqCst) {
        return Err(HelperError::TooMuch);
    }
    let status = status.ok_or(HelperError::Timeout(timeout))?;
    let bytes = match bytes {
        Ok(read) => read.map_err(HelperError::Read)?,
        Err(_) => {
            group.kill();
            return Err(HelperError::KeptOpen(timeout));
        }
    };
    if !status.success() {
        return Err(HelperError::Exited(status));
    }
    Ok(bytes)
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
