//! Shipping audit records off the machine as they are written, so that a copy exists where the
//! user of the laptop cannot edit it: to the local syslog (journald, rsyslog; facility
//! `authpriv`, tag `broker`), where an organisation's log agent picks it up, and to a command of
//! the organisation's choosing, which gets each record's JSON line on stdin.
//!
//! Never slows the command that issues credentials: the syslog datagram is sent without
//! blocking, and the command runs under a helper (`broker audit-ship`, hidden) that is left
//! running in the background, bounds the command's time, and records a failure as a
//! `shipping_failed` record. Never ships a secret: what is shipped is the audit line, which
//! holds none, and neither the helper nor the command gets credentials in its environment.
//!
//! The platform code (the syslog socket) is here and nowhere else.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::audit::{AuditLog, Outcome, Record};
use crate::output;

/// How long the audit command may run per record unless `[audit] command_timeout` says.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// The hidden subcommand that runs the audit command in the background.
pub const HELPER_SUBCOMMAND: &str = "audit-ship";

/// The largest envelope the helper reads from its stdin.
const ENVELOPE_CAP: u64 = 8 << 20;

/// Where records go besides the file.
#[derive(Debug, Clone, Default)]
pub struct Shipping {
    pub syslog: Syslog,
    /// `[audit] command`: run once per record with its line on stdin.
    pub command: Vec<String>,
    pub command_timeout: Duration,
    /// The broker binary, which runs the command in the background (`broker audit-ship`).
    pub helper: Option<PathBuf>,
}

/// `[audit] syslog`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Syslog {
    #[default]
    Off,
    /// On: the datagram socket of the local syslog.
    Socket(PathBuf),
    /// On, on a platform without a syslog socket (Windows).
    Unsupported,
}

/// The local syslog's socket on this platform, `None` where there is none (Windows).
pub fn default_socket() -> Option<PathBuf> {
    if cfg!(target_os = "macos") {
        Some(PathBuf::from("/var/run/syslog"))
    } else if cfg!(target_os = "freebsd") {
        Some(PathBuf::from("/var/run/log"))
    } else if cfg!(unix) {
        Some(PathBuf::from("/dev/log"))
    } else {
        None
    }
}

/// The ways out a record may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channels {
    pub syslog: bool,
    pub command: bool,
}

impl Channels {
    pub const ALL: Channels = Channels {
        syslog: true,
        command: true,
    };
    const SYSLOG_ONLY: Channels = Channels {
        syslog: true,
        command: false,
    };
    const COMMAND_ONLY: Channels = Channels {
        syslog: false,
        command: true,
    };

    fn and(self, other: Channels) -> Channels {
        Channels {
            syslog: self.syslog && other.syslog,
            command: self.command && other.command,
        }
    }
}

/// Ships the records just written through `channels`. A failure is a warning on stderr and a
/// `shipping_failed` record, sent only through the other channel (a failure to ship that record
/// in turn is only a warning).
pub fn ship(log: &AuditLog, written: &[(Record, String)], channels: Channels) {
    let shipping = &log.shipping;
    let mut failures: Vec<(Channels, &Record, String)> = Vec::new();
    if channels.syslog {
        match &shipping.syslog {
            Syslog::Off => {}
            Syslog::Unsupported => {
                static WARNED: AtomicBool = AtomicBool::new(false);
                if !WARNED.swap(true, Ordering::Relaxed) {
                    output::notice(
                        "warning: [audit] syslog is not supported on this platform; records go \
                         to the audit log (and [audit] command) only",
                    );
                }
            }
            Syslog::Socket(socket) => {
                for (record, line) in written {
                    if let Err(e) = send_syslog(socket, record.outcome, line) {
                        let why = format!("syslog {}: {e}", socket.display());
                        failures.push((Channels::COMMAND_ONLY, record, why));
                    }
                }
            }
        }
    }
    if channels.command && !shipping.command.is_empty() {
        if let Err(e) = start_helper(log, written) {
            let why = format!("audit command {} could not start: {e}", shipping.command[0]);
            for (record, _) in written {
                failures.push((Channels::SYSLOG_ONLY, record, why.clone()));
            }
        }
    }
    for (through, failed, why) in failures {
        output::notice(&format!("warning: {why}; the record is in the audit log"));
        if failed.outcome != Outcome::ShippingFailed {
            let record = Record::shipping_failed(failed, &why);
            if let Err(e) = log.append_shipping(&record, through.and(channels)) {
                output::notice(&format!("warning: {e}"));
            }
        }
    }
}

/// RFC 3164 facility `authpriv` (10), as the local syslog socket expects it.
const FACILITY_AUTHPRIV: u8 = 10;
const SEVERITY_WARNING: u8 = 4;
const SEVERITY_INFO: u8 = 6;

/// Sends one record as one datagram, `<PRI>TIMESTAMP broker[PID]: LINE`, the format the C
/// library's `syslog(3)` uses on the local socket; never waits for a slow receiver.
#[cfg(unix)]
fn send_syslog(socket: &Path, outcome: Outcome, line: &str) -> std::io::Result<()> {
    let severity = if outcome.is_failure() {
        SEVERITY_WARNING
    } else {
        SEVERITY_INFO
    };
    let message = format!(
        "<{}>{} broker[{}]: {line}",
        FACILITY_AUTHPRIV * 8 + severity,
        chrono::Local::now().format("%b %e %H:%M:%S"),
        std::process::id()
    );
    let sock = std::os::unix::net::UnixDatagram::unbound()?;
    sock.set_nonblocking(true)?;
    sock.send_to(message.as_bytes(), socket)?;
    Ok(())
}

#[cfg(not(unix))]
fn send_syslog(_: &Path, _: Outcome, _: &str) -> std::io::Result<()> {
    let _ = (FACILITY_AUTHPRIV, SEVERITY_WARNING, SEVERITY_INFO);
    Err(std::io::Error::other("no syslog on this platform"))
}

/// What the helper is told, on its stdin: nothing secret.
#[derive(Serialize, Deserialize)]
struct Envelope {
    log: PathBuf,
    own_dir: bool,
    syslog: Option<PathBuf>,
    command: Vec<String>,
    timeout_ms: u64,
    lines: Vec<String>,
}

/// Starts `broker audit-ship` in the background with the lines to ship, and does not wait for
/// it: its own process group (a Ctrl-C for the foreground job does not stop it), no stdout,
/// and broker's stderr only when that is a terminal or a file (a reader of a pipe, such as the
/// AWS CLI running a `credential_process`, would otherwise wait for it).
fn start_helper(log: &AuditLog, written: &[(Record, String)]) -> std::io::Result<()> {
    let shipping = &log.shipping;
    let exe = shipping
        .helper
        .as_ref()
        .ok_or_else(|| std::io::Error::other("the broker binary was not found"))?;
    let envelope = Envelope {
        log: log.path.clone(),
        own_dir: log.own_dir,
        syslog: match &shipping.syslog {
            Syslog::Socket(socket) => Some(socket.clone()),
            Syslog::Off | Syslog::Unsupported => None,
        },
        command: shipping.command.clone(),
        timeout_ms: shipping.command_timeout.as_millis() as u64,
        lines: written.iter().map(|(_, line)| line.clone()).collect(),
    };
    let json = serde_json::to_vec(&envelope).expect("the envelope serialises");
    let mut command = crate::process::command(exe);
    command
        .arg(HELPER_SUBCOMMAND)
        .env_clear()
        .envs(crate::process::environment(Vec::new()))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(background_stderr());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn()?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let sent = stdin.write_all(&json);
    drop(stdin);
    // Reaped here when broker lives on (exec, --server); left to init when it exits first.
    std::thread::spawn(move || child.wait());
    sent
}

/// broker's stderr for a process left running after broker exits: only a terminal or a file.
fn background_stderr() -> Stdio {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::FileTypeExt;
        let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else {
            return Stdio::null();
        };
        let file = std::fs::File::from(fd);
        match file.metadata() {
            Ok(meta) if !meta.file_type().is_fifo() && !meta.file_type().is_socket() => {
                Stdio::from(file)
            }
            _ => Stdio::null(),
        }
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::AsRawHandle;
        use windows_sys::Win32::Storage::FileSystem::{
            GetFileType, FILE_TYPE_CHAR, FILE_TYPE_DISK,
        };
        let Ok(handle) = stderr_handle() else {
            return Stdio::null();
        };
        // SAFETY: GetFileType only asks what kind of object the handle is (a console is CHAR).
        match unsafe { GetFileType(handle.as_raw_handle()) } {
            FILE_TYPE_DISK | FILE_TYPE_CHAR => Stdio::from(handle),
            _ => Stdio::null(),
        }
    }
    #[cfg(not(any(unix, windows)))]
    Stdio::null()
}

#[cfg(windows)]
fn stderr_handle() -> std::io::Result<std::os::windows::io::OwnedHandle> {
    use std::os::windows::io::AsHandle;
    std::io::stderr().as_handle().try_clone_to_owned()
}

/// Why the background helper could not ship.
#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    #[error("cannot read what to ship: {0}")]
    Read(#[source] std::io::Error),
    #[error("this is broker's own helper, not a command to run ({0})")]
    NotAnEnvelope(#[source] serde_json::Error),
}

/// How one run of the audit command failed; the record it was given is in the log all the same.
#[derive(Debug, thiserror::Error)]
enum CommandError {
    #[error("is empty")]
    Empty,
    #[error("could not start: {0}")]
    Start(#[source] std::io::Error),
    #[error("failed: it exited with {0}")]
    Exited(std::process::ExitStatus),
    #[error("did not finish within {} and was stopped", crate::duration::format(*.0))]
    Stopped(Duration),
    #[error("failed: {0}")]
    Wait(#[source] std::io::Error),
}

/// `broker audit-ship`: reads the envelope from stdin and runs the audit command once per line,
/// each within the time allowed; a failure is a warning on stderr and a `shipping_failed`
/// record (sent to syslog, not to the command).
pub fn run_helper(mut input: impl Read) -> Result<(), HelperError> {
    let mut bytes = Vec::new();
    input
        .by_ref()
        .take(ENVELOPE_CAP)
        .read_to_end(&mut bytes)
        .map_err(HelperError::Read)?;
    let envelope: Envelope = serde_json::from_slice(&bytes).map_err(HelperError::NotAnEnvelope)?;
    let log = AuditLog {
        path: envelope.log,
        own_dir: envelope.own_dir,
        shipping: Shipping {
            syslog: envelope.syslog.map(Syslog::Socket).unwrap_or_default(),
            ..Shipping::default()
        },
    };
    let timeout = Duration::from_millis(envelope.timeout_ms);
    let program = envelope.command.first().cloned().unwrap_or_default();
    for line in &envelope.lines {
        let Err(why) = run_command(&envelope.command, line, timeout) else {
            continue;
        };
        let why = format!("audit command {program} {why}");
        output::notice(&format!("warning: {why}; the record is in the audit log"));
        let failed = serde_json::from_str::<Record>(line).ok();
        if let Some(failed) = failed.filter(|r| r.outcome != Outcome::ShippingFailed) {
            let record = Record::shipping_failed(&failed, &why);
            if let Err(e) = log.append_shipping(&record, Channels::SYSLOG_ONLY) {
                output::notice(&format!("warning: {e}"));
            }
        }
    }
    Ok(())
}

/// Runs the command with `line` on its stdin, its output on stderr, in its own process group
/// so that a timeout stops everything it started. The error says what went wrong.
fn run_command(command: &[String], line: &str, timeout: Duration) -> Result<(), CommandError> {
    let (program, args) = command.split_first().ok_or(CommandError::Empty)?;
    let mut cmd = crate::process::command(program);
    cmd.args(args)
        .env_clear()
        .envs(crate::process::environment(Vec::new()))
        .stdin(Stdio::piped())
        .stdout(stderr_copy())
        .stderr(Stdio::inherit());
    crate::process::group::prepare(&mut cmd);
    let mut child = cmd.spawn().map_err(CommandError::Start)?;
    let group = crate::process::group::Group::adopt(&child);
    let mut stdin = child.stdin.take().expect("piped stdin");
    let text = format!("{line}\n");
    // A command that does not read its stdin must not hold up the bound.
    std::thread::spawn(move || {
        let _ = stdin.write_all(text.as_bytes());
    });
    match crate::process::wait_or_stop(&mut child, &group, timeout, || false) {
        Ok(Some(status)) if status.success() => Ok(()),
        Ok(Some(status)) => Err(CommandError::Exited(status)),
        Ok(None) => Err(CommandError::Stopped(timeout)),
        Err(e) => Err(CommandError::Wait(e)),
    }
}

/// A duplicate of our stderr, to become the command's stdout.
fn stderr_copy() -> Stdio {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        match std::io::stderr().as_fd().try_clone_to_owned() {
            Ok(fd) => Stdio::from(fd),
            Err(_) => Stdio::null(),
        }
    }
    #[cfg(windows)]
    {
        stderr_handle().map_or_else(|_| Stdio::null(), Stdio::from)
    }
    #[cfg(not(any(unix, windows)))]
    Stdio::null()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_syslog_datagram_is_authpriv_tagged_broker_and_carries_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("log");
        let receiver = std::os::unix::net::UnixDatagram::bind(&socket).unwrap();
        send_syslog(&socket, Outcome::Issued, r#"{"a":1}"#).unwrap();
        send_syslog(&socket, Outcome::Refused, r#"{"b":2}"#).unwrap();
        let mut buf = [0u8; 512];
        let n = receiver.recv(&mut buf).unwrap();
        let text = std::str::from_utf8(&buf[..n]).unwrap();
        assert!(text.starts_with("<86>"), "authpriv.info: {text}");
        assert!(
            text.ends_with(&format!(" broker[{}]: {{\"a\":1}}", std::process::id())),
            "{text}"
        );
        let n = receiver.recv(&mut buf).unwrap();
        assert!(std::str::from_utf8(&buf[..n]).unwrap().starts_with("<84>"));
    }

    /// Where no syslog listens, sending fails at once instead of waiting. (Not by closing a
    /// receiver: a sibling test's child, between its fork and its exec, may still hold the
    /// socket, and then the datagram is delivered.)
    #[test]
    fn without_a_syslog_listening_sending_fails_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let absent = dir.path().join("absent");
        let refused = send_syslog(&absent, Outcome::Issued, "x").unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::NotFound, "{refused}");
        let not_a_socket = dir.path().join("file");
        std::fs::write(&not_a_socket, "").unwrap();
        let refused = send_syslog(&not_a_socket, Outcome::Issued, "x").unwrap_err();
        assert_eq!(
            refused.kind(),
            std::io::ErrorKind::ConnectionRefused,
            "{refused}"
        );
    }

    #[test]
    fn a_command_that_fails_or_hangs_is_reported_and_stopped_in_time() {
        let sh = |script: &str| vec!["sh".to_string(), "-c".to_string(), script.to_string()];
        let run_command =
            |c: &[String], line, t| run_command(c, line, t).map_err(|e| e.to_string());
        assert_eq!(
            run_command(
                &sh("read line; test \"$line\" = hello"),
                "hello",
                DEFAULT_COMMAND_TIMEOUT
            ),
            Ok(())
        );
        assert_eq!(
            run_command(&sh("exit 7"), "x", DEFAULT_COMMAND_TIMEOUT),
            Err("failed: it exited with exit status: 7".into())
        );
        let started = std::time::Instant::now();
        assert_eq!(
            run_command(&sh("sleep 30"), "x", Duration::from_secs(1)),
            Err("did not finish within 1s and was stopped".into())
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            run_command(&["/nonexistent/ship".into()], "x", DEFAULT_COMMAND_TIMEOUT)
                .unwrap_err()
                .starts_with("could not start")
        );
    }
}
