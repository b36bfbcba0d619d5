//! Getting an MFA code: `--mfa-token`, then the profile's `mfa_process`, then the configured
//! prompt (the terminal via `/dev/tty`, or a desktop dialog).
//!
//! The code is a secret: it is held in a zeroing type, never logged, and never put in the argv
//! of a process broker starts.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};

use crate::error::{escape_control, Error, Result};
use crate::settings::MfaPrompt;

/// How long an `mfa_process` may run unless `[mfa] process_timeout` says otherwise.
pub const DEFAULT_PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

/// Where a code may come from, in order.
pub struct Sources<'a> {
    pub given: Option<&'a SecretString>,
    pub process: Option<&'a str>,
    pub process_timeout: Duration,
    pub prompt: MfaPrompt,
}

/// Gets a code for `serial`.
pub fn code(serial: &str, sources: &Sources<'_>) -> Result<SecretString> {
    let code = if let Some(given) = sources.given {
        given.clone()
    } else if let Some(command) = sources.process {
        run_process(command, sources.process_timeout)?
    } else {
        prompt(serial, sources.prompt)?
    };
    let text = code.expose_secret().trim();
    if !valid_code(text) {
        return Err(Error::new("the MFA code must be 6 digits")
            .with_hint("give the current code from your MFA device with --mfa-token CODE"));
    }
    Ok(SecretString::from(text.to_string()))
}

/// For `--mfa-token`: a malformed code is a usage error, found before anything else runs.
pub fn parse_code(text: &str) -> std::result::Result<String, String> {
    if valid_code(text.trim()) {
        Ok(text.trim().to_string())
    } else {
        Err("an MFA code is 6 digits".into())
    }
}

/// An MFA code is six digits.
pub fn valid_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

fn no_code(serial: &str, why: &str) -> Error {
    Error::new(format!(
        "an MFA code is needed for {} and none could be obtained: {why}",
        escape_control(serial)
    ))
    .with_hint(
        "give one with --mfa-token CODE, set `mfa_process` in the profile, or run broker from a \
         terminal",
    )
}

fn prompt(serial: &str, driver: MfaPrompt) -> Result<SecretString> {
    let text = format!("MFA code for {}: ", escape_control(serial));
    match driver {
        MfaPrompt::Terminal => crate::tty::ask(&text)
            .map(SecretString::from)
            .map_err(|e| no_code(serial, &e.to_string())),
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
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| no_code(serial, &format!("cannot run {program}: {e}")))?;
    if !out.status.success() {
        return Err(no_code(serial, &format!("{program} was cancelled")));
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Ok(SecretString::from(text))
}

/// Runs `mfa_process` through the shell, with a time limit; its stdout is the code.
fn run_process(command: &str, timeout: Duration) -> Result<SecretString> {
    let fail = |why: String| {
        Error::new(format!("mfa_process failed: {why}"))
            .with_hint("check the mfa_process command in the profile, or give --mfa-token CODE")
    };
    let mut command = crate::process::shell(command);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    group::prepare(&mut command);
    let mut child = command
        .spawn()
        .map_err(|e| fail(format!("cannot start it: {e}")))?;
    let group = group::Group::adopt(&child);
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| fail(e.to_string()))? {
            break status;
        }
        if started.elapsed() > timeout {
            group.kill();
            let _ = child.kill();
            let _ = child.wait();
            return Err(fail(format!(
                "it did not finish within {}",
                crate::duration::format(timeout)
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(fail(format!("it exited with {status}")));
    }
    Ok(SecretString::from(text))
}

/// `mfa_process` and everything it starts, as one unit that a timeout stops: the one place
/// where Unix and Windows differ here. Whatever it leaves running after a normal exit (an
/// agent it started) is left alone on both.
mod group {
    use std::process::{Child, Command};

    /// Unix: its own process group, led by the shell, killed as a whole with SIGKILL.
    #[cfg(unix)]
    pub struct Group(i32);

    #[cfg(unix)]
    pub fn prepare(command: &mut Command) {
        std::os::unix::process::CommandExt::process_group(command, 0);
    }

    #[cfg(unix)]
    impl Group {
        pub fn adopt(child: &Child) -> Group {
            Group(child.id() as i32)
        }

        pub fn kill(self) {
            // SAFETY: signals the process group this child leads (made by process_group(0)).
            unsafe {
                libc::kill(-self.0, libc::SIGKILL);
            }
        }
    }

    /// Windows: a job object, which the shell joins right after it starts; every process it
    /// starts from then on is in the job too, and TerminateJobObject ends them all. (One it
    /// started in the microseconds before joining would escape; cmd.exe has not started
    /// anything by then.) When no job can be made, only the shell itself is stopped.
    #[cfg(windows)]
    pub struct Group(Option<std::os::windows::io::OwnedHandle>);

    #[cfg(windows)]
    pub fn prepare(_command: &mut Command) {}

    #[cfg(windows)]
    impl Group {
        pub fn adopt(child: &Child) -> Group {
            use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
            use windows_sys::Win32::System::JobObjects::{
                AssignProcessToJobObject, CreateJobObjectW,
            };
            // SAFETY: a new unnamed job with default security. (Closing its handle later does
            // not end the processes in it: no KILL_ON_JOB_CLOSE.)
            let job = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
            if job.is_null() {
                return Group(None);
            }
            // SAFETY: a valid handle that nothing else owns.
            let job = unsafe { OwnedHandle::from_raw_handle(job) };
            // SAFETY: both handles are valid for the duration of the call.
            let joined =
                unsafe { AssignProcessToJobObject(job.as_raw_handle(), child.as_raw_handle()) };
            Group((joined != 0).then_some(job))
        }

        pub fn kill(self) {
            use std::os::windows::io::AsRawHandle;
            if let Some(job) = self.0 {
                // SAFETY: ends the processes of a job we created and still hold.
                unsafe {
                    windows_sys::Win32::System::JobObjects::TerminateJobObject(
                        job.as_raw_handle(),
                        1,
                    );
                }
            }
        }
    }
}
