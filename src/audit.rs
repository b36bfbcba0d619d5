//! The audit log: one JSON line per issuing or refusal of credentials, appended to a `0600`
//! file that several processes may write at once. Read back by `broker history`.
//!
//! Never records a secret: only names, ARNs, the reason, times and outcomes.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot write the audit log {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the audit log {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

type Result<T> = std::result::Result<T, AuditError>;

/// How the credentials left broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    Exec,
    Export,
    Server,
    Login,
    /// The MFA session `rotate` makes its IAM calls with.
    Rotate,
}

impl Via {
    pub fn name(self) -> &'static str {
        match self {
            Via::Exec => "exec",
            Via::Export => "export",
            Via::Server => "server",
            Via::Login => "login",
            Via::Rotate => "rotate",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Issued,
    Refused,
    Error,
}

/// One line of the log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub time: DateTime<Utc>,
    pub profile: String,
    pub role_arn: Option<String>,
    pub session_name: Option<String>,
    pub source_identity: Option<String>,
    pub reason: Option<String>,
    pub expiration: Option<DateTime<Utc>>,
    pub via: Via,
    pub cached: bool,
    pub outcome: Outcome,
    pub error: Option<String>,
}

impl Record {
    pub fn new(profile: &str, via: Via, reason: Option<String>) -> Record {
        Record {
            time: Utc::now(),
            profile: profile.to_string(),
            role_arn: None,
            session_name: None,
            source_identity: None,
            reason,
            expiration: None,
            via,
            cached: false,
            outcome: Outcome::Error,
            error: None,
        }
    }
}

/// Where the log lives: `[audit] path`, else `$XDG_STATE_HOME/broker/audit.jsonl`.
#[derive(Debug, Clone)]
pub struct AuditLog {
    pub path: PathBuf,
    /// Whether the directory is broker's own (the default place), which broker keeps private;
    /// a directory the user chose is only created where missing, never changed.
    pub own_dir: bool,
}

/// The largest audit log `history` reads; a longer one should be rotated.
const READ_CAP: u64 = 64 << 20;

impl AuditLog {
    /// Appends one record as one line, under an exclusive lock, with a single write.
    pub fn append(&self, record: &Record) -> Result<()> {
        let fail = |source: std::io::Error| AuditError::Write {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if self.own_dir {
                crate::fsutil::private_dir(dir)
            } else {
                crate::fsutil::create_dir(dir)
            }
            .map_err(fail)?;
        }
        let mut line = serde_json::to_vec(record).expect("records serialise");
        line.push(b'\n');
        let mut file = crate::fsutil::open_append(&self.path).map_err(fail)?;
        file.lock().map_err(fail)?;
        file.write_all(&line).map_err(fail)?;
        file.sync_data().map_err(fail)
    }

    /// Every record, oldest first; lines that do not parse are counted, not fatal.
    pub fn read(&self) -> Result<(Vec<Record>, usize)> {
        read(&self.path)
    }
}

fn read(path: &Path) -> Result<(Vec<Record>, usize)> {
    let text = match crate::fsutil::read_private(path, READ_CAP) {
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(None) => return Ok((Vec::new(), 0)),
        Err(source) => {
            return Err(AuditError::Read {
                path: path.to_owned(),
                source,
            })
        }
    };
    let mut bad = 0;
    let records = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str(l).map_err(|_| bad += 1).ok())
        .collect();
    Ok((records, bad))
}
