//! The audit log: one JSON line per issuing, refusal, error and end of credentials, appended to
//! a `0600` file that several processes may write at once. Each line carries `prev`, the SHA-256
//! of the line before it, so an edit, a removal or a reordering breaks the chain where it was
//! made by hand; [`verify`] finds it. The chain has no key, so a change with `prev` recomputed
//! from there on shows only against a copy shipped off the machine, line for line, by the
//! `shipping` module, which [`compare`] checks the log against. Read back by `broker history`.
//!
//! Never records a secret: names, ARNs, access key ids (which CloudTrail logs as well), the
//! reason, times, exit statuses and outcomes. Appending never reads more of the log than its
//! last line, whatever the log's length.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub mod compare;
pub(crate) mod shipping;

use shipping::{Channels, Shipping};

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
    #[error("the audit log {path} was changed: {finding}")]
    Tampered { path: PathBuf, finding: Break },
    #[error("the audit log {path} differs from what was shipped: {finding}")]
    Differs {
        path: PathBuf,
        finding: compare::Mismatch,
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
    /// `exec --ec2-server`: the EC2 instance metadata endpoint.
    #[serde(rename = "ec2-server")]
    Ec2Server,
    /// `broker use`: into the calling shell.
    Use,
}

impl Via {
    pub const ALL: [Via; 7] = [
        Via::Exec,
        Via::Export,
        Via::Server,
        Via::Ec2Server,
        Via::Login,
        Via::Rotate,
        Via::Use,
    ];

    /// A credentials server's, which serves many requests from one issuing.
    pub fn is_server(self) -> bool {
        matches!(self, Via::Server | Via::Ec2Server)
    }

    pub fn name(self) -> &'static str {
        match self {
            Via::Exec => "exec",
            Via::Export => "export",
            Via::Server => "server",
            Via::Login => "login",
            Via::Rotate => "rotate",
            Via::Ec2Server => "ec2-server",
            Via::Use => "use",
        }
    }
}

/// What a record says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Credentials were handed out.
    Issued,
    /// The profile's policy refused the request.
    Refused,
    /// Getting the credentials (or delivering them) failed.
    Error,
    /// The program a `broker exec` ran with the credentials ended.
    Ended,
    /// A record could not be shipped to syslog or the audit command.
    ShippingFailed,
    /// A new hash chain begins here: the log was new, rotated, or had no chain before.
    ChainStarted,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::Issued,
        Outcome::Refused,
        Outcome::Error,
        Outcome::Ended,
        Outcome::ShippingFailed,
        Outcome::ChainStarted,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Issued => "issued",
            Outcome::Refused => "refused",
            Outcome::Error => "error",
            Outcome::Ended => "ended",
            Outcome::ShippingFailed => "shipping_failed",
            Outcome::ChainStarted => "chain_started",
        }
    }

    /// Whether the record tells of something that went wrong.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Outcome::Refused | Outcome::Error | Outcome::ShippingFailed
        )
    }
}

/// One line of the log. Fields are written in this order, `prev` always last; records written
/// before a field existed read with it empty.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub time: DateTime<Utc>,
    /// Empty in a `chain_started` record, which belongs to no profile.
    #[serde(default)]
    pub profile: String,
    #[serde(default)]
    pub role_arn: Option<String>,
    #[serde(default)]
    pub session_name: Option<String>,
    #[serde(default)]
    pub source_identity: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub expiration: Option<DateTime<Utc>>,
    /// `None` in a `chain_started` record.
    #[serde(default)]
    pub via: Option<Via>,
    #[serde(default)]
    pub cached: bool,
    pub outcome: Outcome,
    #[serde(default)]
    pub error: Option<String>,
    /// The access key id of the credentials handed out (never the secret): what CloudTrail
    /// logs as `userIdentity.accessKeyId` for every call made with them.
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// The account the credentials act in: the role's, else decoded from the access key id.
    #[serde(default)]
    pub account_id: Option<String>,
    /// `ended`: the time of the `issued` record this one ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<DateTime<Utc>>,
    /// `ended`: the program's exit code, when it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// `ended`: the signal that killed the program, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// `ended`: how long the program ran with the credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_in_use: Option<f64>,
    /// `chain_started`: why a new chain begins. `issued`: what was handed out in its advisory
    /// window because its refresh failed, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The policy rules that applied to the request, by where they come from
    /// (`system:role[0]`, `user:profile.breakglass`): why it needed what it needed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// What the policy's `approve_command`s said when they approved (their first lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<String>,
    /// The SHA-256 (hex) of the previous line of the log, without its line break; 64 zeros for
    /// the first line of a log. Absent in lines written before broker kept a chain.
    #[serde(default)]
    pub prev: Option<String>,
}

impl Record {
    pub fn new(profile: &str, via: Via, reason: Option<String>) -> Record {
        Record {
            via: Some(via),
            reason,
            ..Record::bare(profile, Outcome::Error)
        }
    }

    fn bare(profile: &str, outcome: Outcome) -> Record {
        Record {
            time: crate::clock::now(),
            profile: profile.to_string(),
            role_arn: None,
            session_name: None,
            source_identity: None,
            reason: None,
            expiration: None,
            via: None,
            cached: false,
            outcome,
            error: None,
            access_key_id: None,
            account_id: None,
            started: None,
            exit_code: None,
            signal: None,
            seconds_in_use: None,
            note: None,
            rules: Vec::new(),
            approval: None,
            prev: None,
        }
    }

    /// The record that reports that `failed` could not be shipped, and why.
    pub fn shipping_failed(failed: &Record, why: &str) -> Record {
        Record {
            via: failed.via,
            access_key_id: failed.access_key_id.clone(),
            account_id: failed.account_id.clone(),
            error: Some(format!("{why} {}", Record::failed_tag(failed))),
            ..Record::bare(&failed.profile, Outcome::ShippingFailed)
        }
    }

    /// Whether this is the `shipping_failed` record of `failed`.
    pub fn names(&self, failed: &Record) -> bool {
        self.outcome == Outcome::ShippingFailed
            && self.profile == failed.profile
            && self
                .error
                .as_deref()
                .is_some_and(|e| e.ends_with(&Record::failed_tag(failed)))
    }

    /// How a `shipping_failed` record names the record it is about.
    fn failed_tag(failed: &Record) -> String {
        format!(
            "(the {} record of {})",
            failed.outcome.name(),
            failed
                .time
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    }
}

/// The `prev` of the first line of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The SHA-256 of a line (without its line break), in lower-case hex.
pub fn line_hash(line: &[u8]) -> String {
    hex(&Sha256::digest(line))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the log lives (`[audit] path`, else `$XDG_STATE_HOME/broker/audit.jsonl`) and where
/// its records are shipped.
#[derive(Debug, Clone)]
pub struct AuditLog {
    pub path: PathBuf,
    /// Whether the directory is broker's own (the default place), which broker keeps private;
    /// a directory the user chose is only created where missing, never changed.
    pub own_dir: bool,
    pub shipping: Shipping,
}

/// The largest audit log `history` reads; a longer one should be rotated.
const READ_CAP: u64 = 64 << 20;
/// How much of the log's end is read at a time while looking for the start of its last line.
const TAIL_CHUNK: u64 = 4096;

/// Whether a record must be on the disk (`fdatasync`) before broker goes on: every record
/// except routine ones — credentials served from the cache, and the end of an `exec` — given
/// without a reason or an error. Those are still written (one `write`) before broker goes on,
/// so they survive broker crashing or being killed; only a crash of the whole system within
/// the OS's write-back delay can lose them. Anything with a reason (break-glass,
/// `require_reason`) or an error, newly minted credentials, refusals and the log's own records
/// are synced.
fn must_sync(record: &Record) -> bool {
    let routine = match record.outcome {
        Outcome::Issued => record.cached,
        Outcome::Ended => true,
        _ => false,
    };
    !routine || record.reason.is_some() || record.error.is_some()
}

impl AuditLog {
    /// Appends one record, chained to the line before it, then ships what was written. A
    /// shipping failure is a warning and a `shipping_failed` record, never an error: the record
    /// is in the log.
    pub fn append(&self, record: &Record) -> Result<()> {
        self.append_shipping(record, Channels::ALL)
    }

    /// Appends and ships through `channels` only (a `shipping_failed` record is not sent back
    /// through the channel that failed).
    pub fn append_shipping(&self, record: &Record, channels: Channels) -> Result<()> {
        let written = self.write(record)?;
        shipping::ship(self, &written, channels);
        Ok(())
    }

    /// Writes `record` (after a `chain_started` record when a chain begins) under an exclusive
    /// lock, in a single write, and returns the records and lines written.
    fn write(&self, record: &Record) -> Result<Vec<(Record, String)>> {
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
        let mut file = crate::fsutil::open_append(&self.path).map_err(fail)?;
        file.lock().map_err(fail)?;
        let tail = last_line(&mut file).map_err(fail)?;
        let mut written = Vec::new();
        let mut prev = match &tail {
            Tail::Empty => None,
            Tail::Line { hash, chained, .. } => chained.then(|| hash.clone()),
        };
        if prev.is_none() {
            let (start_prev, note) = match &tail {
                Tail::Empty => (
                    GENESIS.to_string(),
                    "a new log (the file was missing or empty): earlier records, if any, are in \
                     a rotated file",
                ),
                Tail::Line { hash, .. } => (
                    hash.clone(),
                    "the lines before this one have no hash chain (written by an older broker, \
                     or not records)",
                ),
            };
            let start = Record {
                time: record.time,
                note: Some(note.to_string()),
                prev: Some(start_prev),
                ..Record::bare("", Outcome::ChainStarted)
            };
            let line = record_line(&start);
            prev = Some(line_hash(line.as_bytes()));
            written.push((start, line));
        }
        let record = Record {
            prev,
            ..record.clone()
        };
        let line = record_line(&record);
        written.push((record, line));

        let mut bytes = Vec::new();
        if matches!(
            tail,
            Tail::Line {
                complete: false,
                ..
            }
        ) {
            // A last line cut short (a crash, a full disk) stays a line of its own.
            bytes.push(b'\n');
        }
        for (_, line) in &written {
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
        }
        file.write_all(&bytes).map_err(fail)?;
        if written.iter().any(|(record, _)| must_sync(record)) {
            file.sync_data().map_err(fail)?;
        }
        Ok(written)
    }

    /// Every record, oldest first, with its line as stored; lines that do not parse are
    /// counted, not fatal.
    pub fn read(&self) -> Result<(Vec<(Record, String)>, usize)> {
        let Some(bytes) = self.read_bytes()? else {
            return Ok((Vec::new(), 0));
        };
        let text = String::from_utf8_lossy(&bytes);
        let mut bad = 0;
        let records = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|l| match serde_json::from_str(l) {
                Ok(record) => Some((record, l.to_string())),
                Err(_) => {
                    bad += 1;
                    None
                }
            })
            .collect();
        Ok((records, bad))
    }

    /// Compares the log with a copy shipped off the machine (see [`compare`]), then walks its
    /// chain; `None` when there is no log.
    pub fn verify_against(
        &self,
        copy: &std::path::Path,
    ) -> Result<Option<(compare::Matched, Verified)>> {
        let Some(bytes) = self.read_bytes()? else {
            return Ok(None);
        };
        let unreadable = |source| AuditError::Read {
            path: copy.to_owned(),
            source,
        };
        let file = std::fs::File::open(copy).map_err(unreadable)?;
        if !file.metadata().map_err(unreadable)?.is_file() {
            return Err(unreadable(std::io::Error::other("not a regular file")));
        }
        let shipped =
            compare::shipped_records(std::io::BufReader::new(file)).map_err(unreadable)?;
        let matched =
            compare::compare(&bytes, &shipped, &copy.display().to_string()).map_err(|finding| {
                AuditError::Differs {
                    path: self.path.clone(),
                    finding,
                }
            })?;
        let verified = verify(&bytes).map_err(|finding| AuditError::Tampered {
            path: self.path.clone(),
            finding,
        })?;
        Ok(Some((matched, verified)))
    }

    /// Walks the hash chain of the whole log.
    pub fn verify(&self) -> Result<Option<Verified>> {
        let Some(bytes) = self.read_bytes()? else {
            return Ok(None);
        };
        verify(&bytes)
            .map(Some)
            .map_err(|finding| AuditError::Tampered {
                path: self.path.clone(),
                finding,
            })
    }

    fn read_bytes(&self) -> Result<Option<Vec<u8>>> {
        crate::fsutil::read_private(&self.path, READ_CAP).map_err(|source| AuditError::Read {
            path: self.path.clone(),
            source,
        })
    }
}

/// A record as one line of the log: JSON with every character that could disguise itself on a
/// reader's terminal (a tag character, a bidi override) written as a `\uXXXX` escape, the same
/// value to a JSON reader. Shipped exactly so.
fn record_line(record: &Record) -> String {
    let json = serde_json::to_string(record).expect("records serialise");
    crate::sanitize::escape_json(&json).into_owned()
}

/// The end of the log, as appending needs it.
#[derive(Debug, PartialEq, Eq)]
enum Tail {
    Empty,
    Line {
        hash: String,
        /// Whether it is a record that carries `prev`.
        chained: bool,
        /// Whether it ends with a line break.
        complete: bool,
    },
}

/// Reads the last line of `file`, and only that: its last few KiB in one read, which hold the
/// whole line for a log of records; backwards from there, chunk by chunk, for a longer line (up
/// to the read cap).
fn last_line(file: &mut File) -> std::io::Result<Tail> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(Tail::Empty);
    }
    let mut pos = len - TAIL_CHUNK.min(len);
    let mut tail = vec![0u8; (len - pos) as usize];
    file.seek(SeekFrom::Start(pos))?;
    file.read_exact(&mut tail)?;
    let complete = tail.last() == Some(&b'\n');
    let end = if complete { len - 1 } else { len };
    let body = &tail[..(end - pos) as usize];
    let line = if let Some(i) = body.iter().rposition(|&b| b == b'\n') {
        body[i + 1..].to_vec()
    } else if pos == 0 {
        body.to_vec()
    } else {
        // A line longer than the chunk: find the line break before it.
        let mut start = None;
        let mut chunk = vec![0u8; TAIL_CHUNK as usize];
        while pos > 0 && end - pos < READ_CAP {
            let size = TAIL_CHUNK.min(pos);
            pos -= size;
            let buf = &mut chunk[..size as usize];
            file.seek(SeekFrom::Start(pos))?;
            file.read_exact(buf)?;
            if let Some(i) = buf.iter().rposition(|&b| b == b'\n') {
                start = Some(pos + i as u64 + 1);
                break;
            }
        }
        let start = match start {
            Some(start) => start,
            None if pos == 0 => 0,
            None => {
                return Err(std::io::Error::other(format!(
                    "its last line is longer than {} MiB",
                    READ_CAP >> 20
                )))
            }
        };
        let mut line = vec![0u8; (end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut line)?;
        line
    };
    let chained = serde_json::from_slice::<Record>(&line).is_ok_and(|r| r.prev.is_some());
    Ok(Tail::Line {
        hash: line_hash(&line),
        chained,
        complete,
    })
}

/// What `--verify` found in an intact log.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    /// Every line, each a record.
    pub records: usize,
    /// The line (from 1) where the chain starts; the lines before it were written without one.
    /// `None` when no line carries `prev`.
    pub chain_from: Option<usize>,
}

/// Where the chain of the log breaks: the first line that was edited, cut or reordered.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Break {
    #[error("line {0} is not a complete record: the log was cut short there")]
    CutShort(usize),
    #[error("line {0} is not a record: it was edited, cut short or damaged")]
    NotRecord(usize),
    #[error(
        "line {line} has no prev, inside the hash chain that starts at line {from}: it was added \
         by hand or by a broker without the chain"
    )]
    NoPrev { line: usize, from: usize },
    #[error(
        "line {0} starts a new chain in the middle of the log: the lines before it may have been \
         replaced"
    )]
    NewChain(usize),
    #[error("line {line} is out of order: it was written right after line {after}")]
    OutOfOrder { line: usize, after: usize },
    #[error(
        "line {line} was written right after line {after}: lines {} to {} were inserted or moved \
         there",
        after + 1,
        line - 1
    )]
    Inserted { line: usize, after: usize },
    #[error(
        "line 1 continues a chain whose earlier lines are not in the file: lines before it were \
         removed"
    )]
    HeadRemoved,
    #[error(
        "line {} was edited, or lines after it were removed: the prev of line {line} does not \
         match it",
        line - 1
    )]
    Edited { line: usize },
}

/// Walks the chain: every line must be a record, and every record from the first that carries
/// `prev` on must carry the hash of the line before it. The error names the first line where
/// the log was edited, cut, or reordered.
pub fn verify(bytes: &[u8]) -> std::result::Result<Verified, Break> {
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let hashes: Vec<String> = lines.iter().map(|l| line_hash(l)).collect();
    let line_of = |hash: &str| hashes.iter().position(|h| h == hash).map(|i| i + 1);
    let mut chain_from = None;
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        let record: Record = serde_json::from_slice(line).map_err(|_| {
            if n == lines.len() && !bytes.ends_with(b"\n") {
                Break::CutShort(n)
            } else {
                Break::NotRecord(n)
            }
        })?;
        let Some(prev) = record.prev.as_deref() else {
            match chain_from {
                None => continue,
                Some(from) => return Err(Break::NoPrev { line: n, from }),
            }
        };
        chain_from.get_or_insert(n);
        let expected = if i == 0 { GENESIS } else { &hashes[i - 1] };
        if prev == expected {
            continue;
        }
        return Err(match (prev == GENESIS, line_of(prev)) {
            (true, _) => Break::NewChain(n),
            (false, Some(j)) if j > n => Break::OutOfOrder { line: n, after: j },
            (false, Some(j)) => Break::Inserted { line: n, after: j },
            (false, None) if i == 0 => Break::HeadRemoved,
            (false, None) => Break::Edited { line: n },
        });
    }
    Ok(Verified {
        records: lines.len(),
        chain_from,
    })
}

/// The account an access key id belongs to, for the key formats of recent years (the 5th
/// character `Q` or later: the 40 bits after the `AKIA`/`ASIA` prefix hold the account id,
/// shifted by one bit, under a set top bit). `None` for older keys, which do not say.
pub fn account_from_key(access_key_id: &str) -> Option<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let rest = access_key_id
        .strip_prefix("ASIA")
        .or_else(|| access_key_id.strip_prefix("AKIA"))?;
    let digits = rest.as_bytes().get(..10)?;
    let mut bits: u64 = 0;
    for &c in digits {
        let value = ALPHABET.iter().position(|&a| a == c)? as u64;
        bits = (bits << 5) | value;
    }
    // 50 bits decoded; the account id sits in bits 7 to 46 of the first 48.
    let first48 = bits >> 2;
    if first48 >> 47 == 0 {
        return None;
    }
    let account = (first48 & 0x7fff_ffff_ff80) >> 7;
    Some(format!("{account:012}"))
}

/// The account of a role ARN (`arn:PARTITION:iam::ACCOUNT:role/NAME`).
pub fn account_from_arn(arn: &str) -> Option<String> {
    let account = arn.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .then(|| account.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn read_lines(path: &Path) -> std::io::Result<Vec<String>> {
        Ok(std::fs::read_to_string(path)?
            .lines()
            .map(str::to_owned)
            .collect())
    }

    fn log(dir: &Path) -> AuditLog {
        AuditLog {
            path: dir.join("audit.jsonl"),
            own_dir: false,
            shipping: Shipping::default(),
        }
    }

    fn record(profile: &str) -> Record {
        Record {
            outcome: Outcome::Issued,
            ..Record::new(profile, Via::Export, None)
        }
    }

    #[test]
    fn only_routine_records_without_a_reason_or_error_skip_the_sync() {
        let with = |outcome, cached, reason: Option<&str>| Record {
            outcome,
            cached,
            reason: reason.map(str::to_owned),
            ..record("p")
        };
        assert!(
            !must_sync(&with(Outcome::Issued, true, None)),
            "from the cache"
        );
        assert!(!must_sync(&with(Outcome::Ended, false, None)));
        assert!(
            must_sync(&with(Outcome::Issued, false, None)),
            "newly minted"
        );
        assert!(must_sync(&with(Outcome::Issued, true, Some("INC-1"))));
        assert!(must_sync(&with(Outcome::Ended, false, Some("INC-1"))));
        let failed_to_start = Record {
            error: Some("cannot run nosuch".into()),
            ..with(Outcome::Ended, false, None)
        };
        assert!(must_sync(&failed_to_start));
        for outcome in [
            Outcome::Refused,
            Outcome::Error,
            Outcome::ShippingFailed,
            Outcome::ChainStarted,
        ] {
            assert!(must_sync(&with(outcome, true, None)), "{outcome:?}");
        }
    }

    #[test]
    fn account_ids_decode_from_recent_access_key_ids_only() {
        // Published examples, and a key moto made for its default account.
        assert_eq!(
            account_from_key("ASIAY34FZKBOKMUTVV7A").as_deref(),
            Some("609629065308")
        );
        assert_eq!(
            account_from_key("ASIAQNZGKIQY56JQ7WML").as_deref(),
            Some("029608264753")
        );
        assert_eq!(
            account_from_key("AKIARZPUZDIKGB2VALC4").as_deref(),
            Some("123456789012")
        );
        // The old format (AWS's documentation example) says nothing of its account.
        assert_eq!(account_from_key("AKIAIOSFODNN7EXAMPLE"), None);
        assert_eq!(account_from_key("ASIA"), None);
        assert_eq!(account_from_key("ASIAQNZGKIQY1"), None, "not base32");
        assert_eq!(account_from_key("AROAQNZGKIQY56JQ7WML"), None);
        assert_eq!(
            account_from_arn("arn:aws:iam::123456789012:role/x").as_deref(),
            Some("123456789012")
        );
        assert_eq!(account_from_arn("arn:aws:iam::12:role/x"), None);
    }

    #[test]
    fn a_new_log_starts_a_chain_and_each_line_carries_the_hash_of_the_one_before() {
        let dir = tempfile::tempdir().unwrap();
        let log = log(dir.path());
        log.append(&record("a")).unwrap();
        log.append(&record("b")).unwrap();
        let lines = read_lines(&log.path).unwrap();
        assert_eq!(lines.len(), 3);
        let first: Record = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(first.outcome, Outcome::ChainStarted);
        assert_eq!(first.prev.as_deref(), Some(GENESIS));
        for i in 1..3 {
            let r: Record = serde_json::from_str(&lines[i]).unwrap();
            assert_eq!(r.prev.unwrap(), line_hash(lines[i - 1].as_bytes()));
        }
        assert!(lines[2].ends_with(&format!(
            ",\"prev\":\"{}\"}}",
            line_hash(lines[1].as_bytes())
        )));
        let bytes = std::fs::read(&log.path).unwrap();
        assert_eq!(
            verify(&bytes),
            Ok(Verified {
                records: 3,
                chain_from: Some(1)
            })
        );
    }

    #[test]
    fn the_tail_is_found_behind_lines_longer_than_a_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let log = log(dir.path());
        log.append(&record("a")).unwrap();
        let long = Record {
            reason: Some("x".repeat(3 * TAIL_CHUNK as usize + 17)),
            ..record("b")
        };
        log.append(&long).unwrap();
        log.append(&record("c")).unwrap();
        let bytes = std::fs::read(&log.path).unwrap();
        assert_eq!(verify(&bytes).unwrap().records, 4);
    }

    #[test]
    fn an_old_log_gets_a_chain_linked_to_its_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let log = log(dir.path());
        let old = r#"{"time":"2025-01-01T00:00:00Z","profile":"p","role_arn":null,"session_name":null,"source_identity":null,"reason":null,"expiration":null,"via":"export","cached":false,"outcome":"issued","error":null}"#;
        std::fs::write(&log.path, format!("{old}\n{old}\n")).unwrap();
        log.append(&record("a")).unwrap();
        let lines = read_lines(&log.path).unwrap();
        let start: Record = serde_json::from_str(&lines[2]).unwrap();
        assert_eq!(start.outcome, Outcome::ChainStarted);
        assert_eq!(start.prev.unwrap(), line_hash(old.as_bytes()));
        let bytes = std::fs::read(&log.path).unwrap();
        assert_eq!(
            verify(&bytes),
            Ok(Verified {
                records: 4,
                chain_from: Some(3)
            })
        );
        let (records, bad) = log.read().unwrap();
        assert_eq!((records.len(), bad), (4, 0));
    }

    #[test]
    fn a_line_cut_short_stays_a_line_and_verify_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let log = log(dir.path());
        log.append(&record("a")).unwrap();
        log.append(&record("b")).unwrap();
        let len = std::fs::metadata(&log.path).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&log.path)
            .unwrap()
            .set_len(len - 40)
            .unwrap();
        let bytes = std::fs::read(&log.path).unwrap();
        assert_eq!(verify(&bytes).unwrap_err(), Break::CutShort(3));
        log.append(&record("c")).unwrap();
        let bytes = std::fs::read(&log.path).unwrap();
        assert_eq!(verify(&bytes).unwrap_err(), Break::NotRecord(3));
        let lines = read_lines(&log.path).unwrap();
        assert_eq!(
            lines.len(),
            5,
            "the cut line, a new chain start, the record"
        );
        let start: Record = serde_json::from_str(&lines[3]).unwrap();
        assert_eq!(start.outcome, Outcome::ChainStarted);
        assert_eq!(start.prev.unwrap(), line_hash(lines[2].as_bytes()));
    }

    fn chained(n: usize) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        for i in 0..n {
            let prev = lines
                .last()
                .map(|l| line_hash(l.as_bytes()))
                .unwrap_or_else(|| GENESIS.to_string());
            let r = Record {
                prev: Some(prev),
                ..record(&format!("p{i}"))
            };
            lines.push(serde_json::to_string(&r).unwrap());
        }
        lines
    }

    fn check(lines: &[String]) -> std::result::Result<Verified, String> {
        verify(format!("{}\n", lines.join("\n")).as_bytes()).map_err(|b| b.to_string())
    }

    #[test]
    fn verify_names_the_first_edited_removed_or_reordered_line() {
        let lines = chained(6);
        assert_eq!(check(&lines).unwrap().records, 6);

        let mut edited = lines.clone();
        edited[2] = edited[2].replace("\"p2\"", "\"px\"");
        assert!(check(&edited)
            .unwrap_err()
            .starts_with("line 3 was edited, or lines after it were removed"));

        let mut removed = lines.clone();
        removed.remove(3);
        assert!(check(&removed)
            .unwrap_err()
            .starts_with("line 3 was edited, or lines after it were removed"));

        let mut swapped = lines.clone();
        swapped.swap(2, 3);
        assert_eq!(
            check(&swapped).unwrap_err(),
            "line 3 is out of order: it was written right after line 4"
        );

        let mut moved = lines.clone();
        let line = moved.remove(1);
        moved.insert(4, line);
        assert_eq!(
            check(&moved).unwrap_err(),
            "line 2 is out of order: it was written right after line 5"
        );

        let head_cut = lines[2..].to_vec();
        assert!(check(&head_cut)
            .unwrap_err()
            .starts_with("line 1 continues a chain"));

        let mut restarted = lines.clone();
        restarted.extend(chained(2));
        assert!(check(&restarted)
            .unwrap_err()
            .starts_with("line 7 starts a new chain in the middle"));

        let mut unchained = lines.clone();
        let mut r: Record = serde_json::from_str(&unchained[4]).unwrap();
        r.prev = None;
        unchained[4] = serde_json::to_string(&r).unwrap();
        assert!(check(&unchained)
            .unwrap_err()
            .starts_with("line 5 has no prev"));
    }
}
