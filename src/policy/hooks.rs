//! The commands policy rules run: `approve_command` before credentials are issued (its answer
//! decides), `notify_command` after (and when an exec's program ends; its failure is only
//! reported). Each gets the context in `BROKER_*` variables, with the same scrubbed environment
//! as `exec` and never a credential: none exists yet when the approver runs, and the notifier
//! is told the access key id only.

use std::process::Stdio;
use std::time::{Duration, Instant};

use super::{Effective, PolicyError};
use crate::process::HelperError;
use crate::sanitize::escape;

const NOTIFY_TIMEOUT: Duration = Duration::from_secs(30);
/// The most of an approver's line that is kept (in the audit record, in a refusal).
const LINE_CAP: usize = 512;

/// Why an `approve_command` did not approve.
#[derive(Debug, thiserror::Error)]
pub enum Denial {
    /// It refused, saying this (its first line on stderr).
    #[error("{0}")]
    Said(String),
    /// It refused without a word.
    #[error("it exited with {0}")]
    Status(std::process::ExitStatus),
    /// It could not start, took too long, or printed too much.
    #[error(transparent)]
    Failed(HelperError),
}

/// Runs every `approve_command` of `policy` in turn (the system file's first), each with the
/// context of `notice` and no stdin; every one must approve by exiting with status 0, within
/// its rule's `approve_timeout`. Returns what the approvers said (the first line each printed,
/// joined by ` | `), for the audit record.
pub fn approve(policy: &Effective, notice: &Notice<'_>) -> Result<Option<String>, PolicyError> {
    let mut said = Vec::new();
    for approver in policy.approvers() {
        let Some((program, args)) = approver.command.split_first() else {
            continue;
        };
        let refused = |why| PolicyError::NotApproved {
            program: escape(program).into_owned(),
            origin: approver.origin.to_string(),
            why,
        };
        let mut command = crate::process::command(program);
        command
            .args(args)
            .env_clear()
            .envs(crate::process::environment(notice.vars()))
            .stdin(Stdio::null());
        let finished = crate::process::bounded(command, approver.timeout)
            .map_err(|e| refused(Denial::Failed(e)))?;
        if !finished.status.success() {
            return Err(refused(match first_line(&finished.stderr) {
                Some(line) => Denial::Said(line),
                None => Denial::Status(finished.status),
            }));
        }
        said.extend(first_line(&finished.stdout));
    }
    Ok((!said.is_empty()).then(|| said.join(" | ")))
}

/// The first line of an output that is not blank, trimmed, cut to [`LINE_CAP`] characters,
/// escaped.
fn first_line(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let cut: String = line.chars().take(LINE_CAP).collect();
    Some(escape(&cut).into_owned())
}

/// What `notify_command` and `approve_command` are told.
pub struct Notice<'a> {
    /// `issued`, or `ended` when the program a `broker exec` ran has ended.
    pub event: &'a str,
    pub profile: &'a str,
    pub role_arn: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub expiration: Option<String>,
    pub via: &'a str,
    /// The access key id handed out (not a secret: CloudTrail logs it).
    pub access_key_id: Option<&'a str>,
    /// `ended`: the status broker reports for the program (128+N for signal N).
    pub exit_status: Option<i32>,
    /// Who asks (the local user name), and on which machine.
    pub user: &'a str,
    pub host: &'a str,
}

impl Notice<'_> {
    /// The context, as the command's `BROKER_*` variables.
    fn vars(&self) -> Vec<(String, String)> {
        let mut vars = vec![
            ("BROKER_PROFILE".to_string(), self.profile.to_string()),
            (
                "BROKER_ROLE_ARN".to_string(),
                self.role_arn.unwrap_or_default().to_string(),
            ),
            (
                "BROKER_REASON".to_string(),
                self.reason.unwrap_or_default().to_string(),
            ),
            (
                "BROKER_EXPIRATION".to_string(),
                self.expiration.clone().unwrap_or_default(),
            ),
            ("BROKER_VIA".to_string(), self.via.to_string()),
            ("BROKER_EVENT".to_string(), self.event.to_string()),
            (
                "BROKER_ACCESS_KEY_ID".to_string(),
                self.access_key_id.unwrap_or_default().to_string(),
            ),
            ("BROKER_USER".to_string(), self.user.to_string()),
            ("BROKER_HOST".to_string(), self.host.to_string()),
        ];
        if let Some(status) = self.exit_status {
            vars.push(("BROKER_EXIT_STATUS".to_string(), status.to_string()));
        }
        vars
    }
}

/// Runs `notify_command` with the context in its environment; its output goes to stderr so
/// it can never mix with credentials on stdout. A failure is reported, not fatal: the
/// credentials were issued and audited already.
pub fn notify(command: &[String], notice: &Notice<'_>) {
    let Some((program, args)) = command.split_first() else {
        return;
    };
    let stderr = stderr_copy().unwrap_or_else(std::process::Stdio::inherit);
    let spawned = crate::process::command(program)
        .args(args)
        .env_clear()
        .envs(crate::process::environment(notice.vars()))
        .stdin(std::process::Stdio::null())
        .stdout(stderr)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            crate::output::notice(&format!(
                "warning: notify_command {program} could not start: {e}"
            ));
            return;
        }
    };
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return,
            Ok(Some(status)) => {
                crate::output::notice(&format!("warning: notify_command exited with {status}"));
                return;
            }
            Ok(None) if started.elapsed() > NOTIFY_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                crate::output::notice(
                    "warning: notify_command did not finish in 30s and was stopped",
                );
                return;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                crate::output::notice(&format!("warning: notify_command: {e}"));
                return;
            }
        }
    }
}

/// A duplicate of our stderr, to become the notification's stdout.
fn stderr_copy() -> Option<std::process::Stdio> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let fd = std::io::stderr().as_fd().try_clone_to_owned().ok()?;
        Some(std::process::Stdio::from(fd))
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::AsHandle;
        let handle = std::io::stderr().as_handle().try_clone_to_owned().ok()?;
        Some(std::process::Stdio::from(handle))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_approvers_line_is_its_first_non_blank_one_escaped_and_cut() {
        assert_eq!(
            first_line(b"\n  APPROVED by secops #42 \nmore\n").as_deref(),
            Some("APPROVED by secops #42")
        );
        assert_eq!(
            first_line(b"\x1b[31mred\n").as_deref(),
            Some("\\u{1b}[31mred")
        );
        assert_eq!(first_line(&[b'a'; 2000]).map(|l| l.len()), Some(LINE_CAP));
        assert_eq!(first_line(b" \n\n"), None);
    }
}
