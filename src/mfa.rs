//! Getting an MFA code: `--mfa-token` (a code, or `-` to read one from stdin or the terminal),
//! then the profile's `mfa_process`, then the configured prompt (the terminal via `/dev/tty`,
//! or a desktop dialog).
//!
//! The code is a secret: it is held in a zeroing type, never logged, and never put in the argv
//! of a process broker starts.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::sanitize::escape;
use crate::settings::MfaPrompt;

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("an MFA code is needed for {serial} and none could be obtained: {why}")]
    NoCode {
        serial: String,
        #[source]
        why: NoCode,
    },
    #[error("the MFA code must be 6 digits")]
    Malformed,
    #[error("mfa_process failed: {0}")]
    Process(#[source] crate::process::HelperError),
    #[error("-t - found no MFA code to read: {0}")]
    Unread(#[source] crate::tty::TtyError),
    #[error("-t - found no MFA code to read: stdin: {0}")]
    UnreadStdin(#[source] std::io::Error),
}

type Result<T> = std::result::Result<T, MfaError>;

/// Why no code came from the prompt.
#[derive(Debug, thiserror::Error)]
pub enum NoCode {
    #[error(transparent)]
    Terminal(crate::tty::TtyError),
    #[error("cannot run {program}: {source}")]
    Dialog {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} was cancelled")]
    Cancelled(String),
}

/// How long an `mfa_process` may run unless `[mfa] process_timeout` says otherwise.
pub const DEFAULT_PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

/// A code given with `--mfa-token`, used at most once: STS refuses a one-time code it has
/// seen, so later calls (a credential-server refresh) get theirs from the other sources.
#[derive(Clone, Default)]
pub struct GivenCode(Arc<Mutex<Option<SecretString>>>);

impl GivenCode {
    pub fn new(code: Option<SecretString>) -> GivenCode {
        GivenCode(Arc::new(Mutex::new(code)))
    }

    /// The code, unless it was used already.
    pub fn take(&self) -> Option<SecretString> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// Where a code may come from, in order.
pub struct Sources<'a> {
    pub given: &'a GivenCode,
    pub process: Option<&'a str>,
    pub process_timeout: Duration,
    pub prompt: MfaPrompt,
}

/// A code, and whether a person typed it (at the prompt or in a dialog): only then is it worth
/// asking again when STS refuses it.
pub struct Code {
    pub code: SecretString,
    pub typed: bool,
}

/// How many codes a person may type for one call before a refusal is final.
pub const TYPED_TRIES: u32 = 3;

/// Gets a code for `serial`, the device of `profile`.
pub fn code(serial: &str, profile: &str, sources: &Sources<'_>) -> Result<Code> {
    let (code, typed) = if let Some(given) = sources.given.take() {
        (given, false)
    } else if let Some(command) = sources.process {
        (run_process(command, sources.process_timeout)?, false)
    } else {
        (prompt(serial, profile, sources.prompt)?, true)
    };
    let text = code.expose_secret().trim();
    if !valid_code(text) {
        return Err(MfaError::Malformed);
    }
    Ok(Code {
        code: SecretString::from(text.to_string()),
        typed,
    })
}

/// `-t/--mfa-token` as given: a code, or `-` to read one when the command starts.
#[derive(Debug, Clone)]
pub enum TokenArg {
    Code(SecretString),
    Read,
}

/// For `--mfa-token`: a malformed code is a usage error, found before anything else runs.
pub fn parse_code(text: &str) -> std::result::Result<TokenArg, NotACode> {
    if text == "-" {
        Ok(TokenArg::Read)
    } else if valid_code(text.trim()) {
        Ok(TokenArg::Code(SecretString::from(text.trim())))
    } else {
        Err(NotACode)
    }
}

/// What `--mfa-token` says of a value that is not a code.
#[derive(Debug, thiserror::Error)]
#[error("an MFA code is 6 digits, or `-` to read it from stdin")]
pub struct NotACode;

impl TokenArg {
    /// The code. One given on the command line is also wiped from this process's argv where
    /// the system allows ([`crate::process::hide_argument`]): another user can read the argv
    /// of a long-lived `exec --server`. `-` reads a line from stdin, or asks on the terminal
    /// when stdin is one.
    pub fn code(&self) -> Result<SecretString> {
        match self {
            TokenArg::Code(code) => {
                crate::process::hide_argument(code.expose_secret());
                Ok(code.clone())
            }
            TokenArg::Read => {
                use std::io::IsTerminal;
                let code = if std::io::stdin().is_terminal() {
                    crate::tty::ask("MFA code: ")
                        .map(SecretString::from)
                        .map_err(MfaError::Unread)?
                } else {
                    crate::tty::stdin_line(64).map_err(MfaError::UnreadStdin)?
                };
                let text = code.expose_secret().trim();
                if !valid_code(text) {
                    return Err(MfaError::Malformed);
                }
                Ok(SecretString::from(text))
            }
        }
    }
}

/// An MFA code is six digits.
pub fn valid_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

fn no_code(serial: &str, why: NoCode) -> MfaError {
    MfaError::NoCode {
        serial: serial.to_string(),
        why,
    }
}

fn prompt(serial: &str, profile: &str, driver: MfaPrompt) -> Result<SecretString> {
    let text = format!(
        "MFA code for {} (profile {}): ",
        escape(serial),
        escape(profile)
    );
    match driver {
        MfaPrompt::Terminal => crate::tty::ask(&text)
            .map(SecretString::from)
            .map_err(|e| no_code(serial, NoCode::Terminal(e))),
        MfaPrompt::Zenity => dialog(
            serial,
            "zenity",
            &["--entry", "--title", "broker", "--text", &text],
        ),
        MfaPrompt::Kdialog => dialog(
            serial,
            "kdialog",
            &["--title", "broker", "--inputbox", &text],
        ),
        MfaPrompt::Osascript => {
            let script = format!(
                "text returned of (display dialog \"{}\" default answer \"\" with title \"broker\")",
                text.replace(['"', '\\'], "")
            );
            dialog(serial, "osascript", &["-e", &script])
        }
    }
}

fn dialog(serial: &str, program: &str, args: &[&str]) -> Result<SecretString> {
    let out = crate::process::command(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|source| {
            no_code(
                serial,
                NoCode::Dialog {
                    program: program.into(),
                    source,
                },
            )
        })?;
    if !out.status.success() {
        return Err(no_code(serial, NoCode::Cancelled(program.into())));
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Ok(SecretString::from(text))
}

/// Runs `mfa_process`; its stdout is the code.
fn run_process(command: &str, timeout: Duration) -> Result<SecretString> {
    crate::process::secret_output(command, timeout).map_err(MfaError::Process)
}
