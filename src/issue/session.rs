//! A program `exec` runs with issued credentials: its session, from the `issued` record to the
//! `ended` one, which says how it ended and how long it used them.

use std::time::Instant;

use chrono::{DateTime, Utc};

use super::{account, Issuer};
use crate::audit::{Outcome, Via};
use crate::engine::Issued;
use crate::error::Result;
use crate::{output, policy};

impl Issuer {
    /// Gets credentials for a program `exec` runs, audits and notifies like
    /// [`issue_and_notify`](Self::issue_and_notify), and starts the session that
    /// [`end`](Self::end) records the end of.
    pub fn start(&self, via: Via) -> Result<(Issued, Session)> {
        let (issued, started) = self.issue_timed(via)?;
        self.notify(via, &issued);
        let session = Session {
            via,
            started,
            clock: Instant::now(),
            access_key_id: issued.credentials.access_key_id.clone(),
            expiration: issued.credentials.expiration,
        };
        Ok((issued, session))
    }

    /// Records the end of a session: the program's exit status (or signal) and how long it
    /// ran with the credentials; then, for a profile with `notify_command`, runs it again with
    /// `BROKER_EVENT=ended`. A log that cannot be written is a warning: the program has run.
    pub fn end(&self, session: Session, ending: &Ending) {
        let mut record = self.record_of(session.via);
        record.outcome = Outcome::Ended;
        record.started = Some(session.started);
        record.expiration = session.expiration;
        record.account_id = account(&self.chain, &session.access_key_id);
        record.access_key_id = Some(session.access_key_id.clone());
        record.seconds_in_use = Some(session.clock.elapsed().as_millis() as f64 / 1000.0);
        match ending {
            Ending::Exited(code) => record.exit_code = Some(*code),
            Ending::Signalled(signal) => record.signal = Some(*signal),
            Ending::NotStarted { message, status } => {
                record.exit_code = Some(i32::from(*status));
                record.error = Some(message.clone());
            }
        }
        if let Err(e) = self.audit.append(&record) {
            output::notice(&format!("warning: {e}"));
        }
        self.run_notify_command(policy::Notice {
            access_key_id: Some(&session.access_key_id),
            expiration: record
                .expiration
                .map(|e| e.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            exit_status: Some(ending.status()),
            ..self.notice("ended", session.via)
        });
    }
}

/// Credentials in use by a program `exec` runs, from the `issued` record on.
pub struct Session {
    via: Via,
    /// The time of the `issued` record, which the `ended` record names.
    started: DateTime<Utc>,
    clock: Instant,
    access_key_id: String,
    expiration: Option<DateTime<Utc>>,
}

/// How the program ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Exited(i32),
    /// Killed by this signal (Unix only).
    #[cfg_attr(not(unix), allow(dead_code))]
    Signalled(i32),
    /// It could not be started; broker exits with `status`.
    NotStarted {
        message: String,
        status: u8,
    },
}

impl Ending {
    pub fn of(status: std::process::ExitStatus) -> Ending {
        #[cfg(unix)]
        if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
            return Ending::Signalled(signal);
        }
        Ending::Exited(status.code().unwrap_or(-1))
    }

    /// The status broker reports, the way shells do (128+N for signal N), whole: on Windows
    /// an exit code has 32 bits (see [`crate::exit_codes::of_child`]).
    pub fn status(&self) -> i32 {
        match self {
            Ending::Exited(code) => *code,
            Ending::Signalled(signal) => i32::from(crate::exit_codes::for_signal(*signal)),
            Ending::NotStarted { status, .. } => i32::from(*status),
        }
    }
}
